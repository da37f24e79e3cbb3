import { Type, type Static } from 'typebox';
import { ClockTime, Id, Instant, LocalDate, named, PageQuery, TimeZone } from './common.js';

export const Weekday = named('Weekday', Type.Union([
  Type.Literal('monday'), Type.Literal('tuesday'), Type.Literal('wednesday'), Type.Literal('thursday'),
  Type.Literal('friday'), Type.Literal('saturday'), Type.Literal('sunday'),
]));

export const ClockWindow = named('ClockWindow', Type.Object(
  { start: ClockTime, end: ClockTime },
  { additionalProperties: false, description: 'end before start runs past midnight; end equal to start is invalid' },
));

export const WeeklyWindow = named('WeeklyWindow', Type.Object(
  { day: Weekday, start: ClockTime, end: ClockTime },
  { additionalProperties: false },
));

export const ScheduleBody = named('ScheduleRequest', Type.Object(
  { timeZone: TimeZone, weekly: Type.Array(WeeklyWindow, { maxItems: 200 }) },
  { additionalProperties: false, examples: [{ timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '17:00' }, { day: 'friday', start: '22:00', end: '02:00' }] }] },
));
export type ScheduleBody = Static<typeof ScheduleBody>;

export const Schedule = named('Schedule', Type.Object({
  providerId: Id,
  timeZone: TimeZone,
  weekly: Type.Array(WeeklyWindow),
  updatedAt: Type.Union([Instant, Type.Null()]),
}), 'The provider\'s weekly hours in its zone');

export const OneOffWindowBody = named('OneOffWindowRequest', Type.Union([
  Type.Object(
    { date: LocalDate, start: ClockTime, end: ClockTime, timeZone: Type.Optional(TimeZone) },
    { additionalProperties: false, title: 'Local window' },
  ),
  Type.Object({ start: Instant, end: Instant }, { additionalProperties: false, title: 'Instant window' }),
], { examples: [{ date: '2027-03-06', start: '10:00', end: '14:00' }] }));

export const OneOffWindow = named('OneOffWindow', Type.Object({ id: Id, start: Instant, end: Instant }), 'A one-off working window, rounded inwards to the 15-minute grid');

export const OverrideParams = Type.Object({ providerId: Id, date: LocalDate });

export const OverrideBody = named('OverrideRequest', Type.Object(
  { windows: Type.Array(ClockWindow, { maxItems: 50 }), timeZone: Type.Optional(TimeZone) },
  { additionalProperties: false, examples: [{ windows: [{ start: '10:00', end: '12:00' }] }] },
));
export type OverrideBody = Static<typeof OverrideBody>;

export const Override = named('Override', Type.Object({ date: LocalDate, timeZone: TimeZone, windows: Type.Array(ClockWindow) }), 'The hours of one local date, replacing the weekly ones');

export const TimeOffBody = named('TimeOffRequest', Type.Object(
  { start: Instant, end: Instant, reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false, examples: [{ start: '2027-03-01T12:00:00Z', end: '2027-03-01T15:00:00Z', reason: 'Dentist' }] },
));

export const TimeOff = named('TimeOff', Type.Object({ id: Id, start: Instant, end: Instant, reason: Type.Union([Type.String(), Type.Null()]) }), 'Blocked time');

export const RangeQuery = Type.Object({
  from: Type.String({ description: 'Instant, or local date YYYY-MM-DD', examples: ['2027-03-01'] }),
  to: Type.String({ description: 'Instant, or local date YYYY-MM-DD (inclusive)', examples: ['2027-03-07'] }),
  timeZone: Type.Optional(TimeZone),
});
export type RangeQuery = Static<typeof RangeQuery>;

export const EffectiveAvailability = named('EffectiveAvailability', Type.Object({
  providerId: Id,
  timeZone: TimeZone,
  windows: Type.Array(Type.Object({ start: Instant, end: Instant })),
}), 'The effective working time, merged and sorted');

export const ScheduleZoneBody = named('ScheduleTimeZoneRequest', Type.Object(
  { timeZone: TimeZone },
  { additionalProperties: false, examples: [{ timeZone: 'America/New_York' }], description: 'Only the zone changes: the weekly wall-clock hours are kept' },
));
export type ScheduleZoneBody = Static<typeof ScheduleZoneBody>;

export const ItemListQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'Instant, or local date YYYY-MM-DD in the provider\'s zone: items ending after it', examples: ['2027-03-01'] })),
  to: Type.Optional(Type.String({ description: 'Instant, or local date YYYY-MM-DD (inclusive): items starting before it', examples: ['2027-03-31'] })),
  ...PageQuery,
});

export const OverrideListQuery = Type.Object({
  from: Type.Optional(LocalDate),
  to: Type.Optional(LocalDate),
  ...PageQuery,
});
