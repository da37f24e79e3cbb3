import { Type } from 'typebox';
import { ClockTime, Id, Instant, LocalDate, PageQuery, TimeZone } from './common.js';

export const Weekday = Type.Union([
  Type.Literal('monday'), Type.Literal('tuesday'), Type.Literal('wednesday'), Type.Literal('thursday'),
  Type.Literal('friday'), Type.Literal('saturday'), Type.Literal('sunday'),
]);

export const ClockWindow = Type.Object(
  { start: ClockTime, end: ClockTime },
  { additionalProperties: false, description: 'end before start runs past midnight; end equal to start is invalid' },
);

export const WeeklyWindow = Type.Object(
  { day: Weekday, start: ClockTime, end: ClockTime },
  { additionalProperties: false },
);

export const ScheduleBody = Type.Object(
  { timeZone: TimeZone, weekly: Type.Array(WeeklyWindow, { maxItems: 200 }) },
  { additionalProperties: false },
);

export const Schedule = Type.Object({
  providerId: Id,
  timeZone: TimeZone,
  weekly: Type.Array(WeeklyWindow),
  updatedAt: Type.Union([Instant, Type.Null()]),
});

export const OneOffWindowBody = Type.Union([
  Type.Object(
    { date: LocalDate, start: ClockTime, end: ClockTime, timeZone: Type.Optional(TimeZone) },
    { additionalProperties: false, title: 'Local window' },
  ),
  Type.Object({ start: Instant, end: Instant }, { additionalProperties: false, title: 'Instant window' }),
]);

export const OneOffWindow = Type.Object({ id: Id, start: Instant, end: Instant });

export const OverrideParams = Type.Object({ providerId: Id, date: LocalDate });

export const OverrideBody = Type.Object(
  { windows: Type.Array(ClockWindow, { maxItems: 50 }), timeZone: Type.Optional(TimeZone) },
  { additionalProperties: false },
);

export const Override = Type.Object({ date: LocalDate, timeZone: TimeZone, windows: Type.Array(ClockWindow) });

export const TimeOffBody = Type.Object(
  { start: Instant, end: Instant, reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

export const TimeOff = Type.Object({ id: Id, start: Instant, end: Instant, reason: Type.Union([Type.String(), Type.Null()]) });

export const RangeQuery = Type.Object({
  from: Type.String({ description: 'Instant, or local date YYYY-MM-DD', examples: ['2027-03-01'] }),
  to: Type.String({ description: 'Instant, or local date YYYY-MM-DD (inclusive)', examples: ['2027-03-07'] }),
  timeZone: Type.Optional(TimeZone),
});

export const EffectiveAvailability = Type.Object({
  providerId: Id,
  timeZone: TimeZone,
  windows: Type.Array(Type.Object({ start: Instant, end: Instant })),
});

export const ScheduleZoneBody = Type.Object(
  { timeZone: TimeZone },
  { additionalProperties: false, description: 'Only the zone changes: the weekly wall-clock hours are kept' },
);

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
