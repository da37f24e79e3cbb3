// 6. Slot listing of a team event type, pure engine (no HTTP, no database). Run in a child process (TZ=UTC).
// Per host, what hostStarts (src/features/event-types/host-slots.ts) computes once the inputs are read:
// effectiveAvailability + computeEventSlots + filterByLimits; then combineHosts unites the hosts' starts
// (round robin) or intersects them (collective).
// Prints one JSON line: { assignment, hosts, params, timing, unionTiming, starts, hostStarts, bookingsPerHost }.
import { blockedRange, computeEventSlots } from '../src/domain/event-slots.js';
import { filterByLimits } from '../src/domain/limits.js';
import { effectiveAvailability } from '../src/domain/schedule.js';
// Module level of host-slots.ts (and of slot-rules.ts, which it imports) loads domain code and
// src/db/bookings-repo.ts (SQL text and functions taking a Queryable): no driver, no connection, no I/O.
import { combineHosts, type HostStarts } from '../src/features/event-types/host-slots.js';
import { scenario, type Scenario } from './lib/fixture.js';
import { measure } from './lib/stats.js';

const DAYS = 31;
const DURATION = 30;
const INTERVAL = 15;
const BUFFER_BEFORE = 10;
const BUFFER_AFTER = 5;
const PER_DAY = 8;
// Table 1's density (200 bookings and 20 time-off blocks in 90 days), scaled to 31 days.
const BOOKINGS = 70;
const TIME_OFF = 7;

interface Host { s: Scenario; bookingsBlocked: { start: number; end: number }[]; starts: number[] }

const host = (i: number): Host => {
  const s = scenario({ days: DAYS, bookings: BOOKINGS, timeOff: TIME_OFF, seed: 7000 + i });
  return { s, bookingsBlocked: s.bookings.map((b) => blockedRange(b, BUFFER_BEFORE, BUFFER_AFTER)), starts: s.bookings.map((b) => b.start) };
};

const hostStarts = (h: Host): HostStarts => {
  const { s } = h;
  const slots = computeEventSlots({
    available: effectiveAvailability(s.rules, s.range),
    bookingsBlocked: h.bookingsBlocked,
    calendarBusy: [],
    durationMinutes: DURATION,
    intervalMinutes: INTERVAL,
    bufferBeforeMinutes: BUFFER_BEFORE,
    bufferAfterMinutes: BUFFER_AFTER,
    earliestStart: s.range.start,
    latestStartExclusive: Infinity,
    range: s.range,
    timeZone: s.timeZone,
  });
  return { starts: filterByLimits(s.timeZone, { perDay: PER_DAY }, h.starts, slots).map((x) => x.start), validUntil: null };
};

// argv: <roundRobin|collective> <hosts>: one configuration per process, so that one row's JIT and heap state do not carry into the next.
const [assignmentArg = 'roundRobin', hostsArg = '1'] = process.argv.slice(2);
if (assignmentArg !== 'roundRobin' && assignmentArg !== 'collective') throw new Error(`unknown assignment ${assignmentArg}`);
const assignment: 'roundRobin' | 'collective' = assignmentArg;
const n = Number(hostsArg);
const budget = process.env.BENCH_QUICK ? { warmup: 1, maxRuns: 3, maxMs: 0, minRuns: 3 } : { warmup: 20, maxRuns: 500, maxMs: 3000, minRuns: 20 };
const hosts = Array.from({ length: n }, (_, i) => host(i));
// The whole listing: every host's starts, then their union (intersection).
const { timing, first } = measure(() => combineHosts(assignment, hosts.map(hostStarts)), budget);
// The union (intersection) alone, on the hosts' starts computed once.
const perHost = hosts.map(hostStarts);
const union = measure(() => combineHosts(assignment, perHost), budget);
const params = { days: DAYS, duration: DURATION, interval: INTERVAL, bufferBefore: BUFFER_BEFORE, bufferAfter: BUFFER_AFTER, perDay: PER_DAY, bookings: BOOKINGS, timeOff: TIME_OFF };
const row = {
  assignment, hosts: n, params, timing, unionTiming: union.timing, starts: first.starts.length,
  hostStarts: perHost.map((h) => h.starts.length),
  bookingsPerHost: hosts.map((h) => h.s.bookings.length),
};
process.stdout.write(`${JSON.stringify(row)}\n`);
