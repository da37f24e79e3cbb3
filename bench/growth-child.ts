// 2. Growth of our engine with bookings, range length and providers. Run in a child process.
// Prints one JSON line: rows of { axis, n, unit, medianMs, slots }.
import type { Interval } from '../src/domain/intervals.js';
import { effectiveAvailability } from '../src/domain/schedule.js';
import { computeSlots } from '../src/domain/slots.js';
import { addDays, localToInstant } from '../src/domain/zoned-time.js';
import { scenario, type Scenario } from './lib/fixture.js';
import { measure } from './lib/stats.js';

const compute = (s: Scenario, range: Interval, busy: Interval[]) => computeSlots({
  available: effectiveAvailability(s.rules, range),
  busy,
  durationMinutes: 15,
  earliestStart: range.start,
  range,
  timeZone: s.timeZone,
});
const budget = { warmup: 20, maxRuns: 500, maxMs: 1500 };
const rows: { axis: string; n: number; unit: string; medianMs: number; slots: number }[] = [];

// Bookings: 90 days; busy pieces may overlap one another (10 000 cannot all be disjoint on one provider).
for (const n of [10, 100, 1_000, 10_000]) {
  const s = scenario({ bookings: n, disjoint: false, seed: n });
  const { timing, first } = measure(() => compute(s, s.range, s.bookings), budget);
  rows.push({ axis: 'bookings (90 days)', n, unit: 'booking', medianMs: timing.medianMs, slots: first.length });
}

// Range: the same 200 bookings over 93 days, asked for 7, 31 and 93 days from 2027-03-01.
const wide = scenario({ days: 93 });
for (const days of [7, 31, 93]) {
  const range = { start: wide.range.start, end: localToInstant(wide.timeZone, addDays(wide.firstDate, days), 0) };
  const { timing, first } = measure(() => compute(wide, range, wide.bookings), budget);
  rows.push({ axis: 'range (200 bookings)', n: days, unit: 'day', medianMs: timing.medianMs, slots: first.length });
}

// Providers: each with its own zone, bookings and time off, 90 days, computed in one synchronous batch.
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'America/Sao_Paulo'];
for (const n of [1, 10, 50]) {
  const all = Array.from({ length: n }, (_, i) => scenario({ timeZone: ZONES[i % ZONES.length], seed: 1000 + i }));
  const { timing, first } = measure(() => all.map((s) => compute(s, s.range, s.bookings).length), budget);
  rows.push({ axis: 'providers (90 days, 200 bookings each)', n, unit: 'provider', medianMs: timing.medianMs, slots: first.reduce((a, b) => a + b, 0) });
}

process.stdout.write(`${JSON.stringify(rows)}\n`);
