// One slot engine on the fixed scenario, in its own process (started by engine.ts with TZ=UTC).
// argv: <impl> <durationMinutes>   impl: ours | ours-event-type | slot-calculator | time-slots-finder
// Every engine gets the same input: weekly Mon-Fri 09:00-17:00 in Europe/Berlin (both peers
// take zone-local weekly hours natively), bookings + time off as busy instants.
// Prints one JSON line: { impl, duration, slots: ['start/end' epoch ms], timing }.
import { createRequire } from 'node:module';
import type { Interval } from '../src/domain/intervals.js';
import { effectiveAvailability } from '../src/domain/schedule.js';
import { computeSlots } from '../src/domain/slots.js';
import { blockedRange, computeEventSlots } from '../src/domain/event-slots.js';
import { filterByLimits } from '../src/domain/limits.js';
import { scenario, slotKey } from './lib/fixture.js';
import { measure } from './lib/stats.js';

const require = createRequire(import.meta.url);
const [impl = 'ours', durationArg = '15'] = process.argv.slice(2);
const duration = Number(durationArg);
const s = scenario();
const blocked = [...s.bookings, ...s.timeOff];
const iso = (ms: number) => new Date(ms).toISOString();

let run: () => Interval[];
let budget: { warmup: number; maxRuns: number; maxMs: number; minRuns?: number } = { warmup: 200, maxRuns: 2000, maxMs: 3000 };

if (impl === 'ours') {
  run = () => computeSlots({
    available: effectiveAvailability(s.rules, s.range),
    busy: s.bookings,
    durationMinutes: duration,
    earliestStart: s.range.start,
    range: s.range,
    timeZone: s.timeZone,
  });
} else if (impl === 'ours-event-type') {
  // The same scenario as an event type: buffers 10 before / 5 after (each booking's blocked range widened by them),
  // a 15-minute grid of the local clock, and at most 8 bookings a day counted from the bookings' starts.
  const bookingsBlocked = s.bookings.map((b) => blockedRange(b, 10, 5));
  const starts = s.bookings.map((b) => b.start);
  run = () => filterByLimits(s.timeZone, { perDay: 8 }, starts, computeEventSlots({
    available: effectiveAvailability(s.rules, s.range),
    bookingsBlocked,
    calendarBusy: [],
    durationMinutes: duration,
    intervalMinutes: 15,
    bufferBeforeMinutes: 10,
    bufferAfterMinutes: 5,
    earliestStart: s.range.start,
    latestStartExclusive: Infinity,
    range: s.range,
    timeZone: s.timeZone,
  }));
} else if (impl === 'slot-calculator') {
  const { getSlots } = require('slot-calculator') as typeof import('slot-calculator');
  const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
  const config = {
    from: iso(s.range.start),
    to: iso(s.range.end),
    availability: DAYS.map((day) => ({ day, from: '09:00', to: '17:00', timezone: s.timeZone })),
    unavailability: blocked.map((b) => ({ from: iso(b.start), to: iso(b.end) })),
    duration,
    outputTimezone: 'UTC',
  };
  run = () => getSlots(config).availableSlots.map((x) => ({ start: Date.parse(x.from), end: Date.parse(x.to) }));
  budget = { warmup: 3, maxRuns: 40, maxMs: 5000 };
} else if (impl === 'time-slots-finder') {
  const tsf = require('time-slots-finder') as typeof import('time-slots-finder');
  // Bookings and time off go in as an iCalendar feed (its native busy-time input), in UTC.
  const ical = (ms: number) => iso(ms).replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const events = blocked.map((b, i) => ['BEGIN:VEVENT', `UID:bench-${i}`, `DTSTART:${ical(b.start)}`, `DTEND:${ical(b.end)}`, 'END:VEVENT'].join('\r\n'));
  const calendarData = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', ...events, 'END:VCALENDAR'].join('\r\n');
  const shifts = [{ startTime: '09:00', endTime: '17:00' }];
  run = () => tsf.getAvailableTimeSlotsInCalendar({
    calendarData,
    calendarFormat: tsf.TimeSlotsFinderCalendarFormat.iCal,
    configuration: {
      timeSlotDuration: duration,
      slotStartMinuteStep: 15,
      availablePeriods: [1, 2, 3, 4, 5].map((isoWeekDay) => ({ isoWeekDay, shifts })),
      timeZone: s.timeZone,
    },
    from: new Date(s.range.start),
    to: new Date(s.range.end),
  }).map((x) => ({ start: x.startAt.getTime(), end: x.endAt.getTime() }));
  // ~5 s a call (dayjs' timezone plugin dominates its profile): the first call is the warm-up, then 3 timed.
  budget = { warmup: 1, maxRuns: 3, maxMs: 10_000, minRuns: 3 };
} else {
  throw new Error(`unknown impl ${impl}`);
}

const { timing, first } = measure(run, process.env.BENCH_QUICK ? { warmup: 1, maxRuns: 1, maxMs: 0, minRuns: 1 } : budget);
const slots = first.map(slotKey);
process.stdout.write(`${JSON.stringify({ impl, duration, slots, timing })}\n`);
