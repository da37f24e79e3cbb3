// Test-only helpers: an independent, slow reading of local time (Intl.formatToParts, its own
// formatters) and brute-force references built on it. Nothing here imports src/domain.
export const MINUTE = 60_000;
export const QUARTER = 15 * MINUTE;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** ISO string with an explicit offset -> epoch ms (TZ-independent because of the offset). */
export function at(iso: string): number {
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(iso)) throw new Error(`test instant needs an offset: ${iso}`);
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export interface Reading {
  date: string; // YYYY-MM-DD
  minutes: number; // since local midnight
  wall: number; // the reading encoded as UTC ms
}

/** What a wall clock in `zone` shows at `ms` (whole minutes). */
export function readLocal(zone: string, ms: number): Reading {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(ms)) parts[p.type] = p.value;
  const [y, mo, d, h, mi] = ['year', 'month', 'day', 'hour', 'minute'].map((k) => Number(parts[k])) as
    [number, number, number, number, number];
  const date = `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const minutes = (h % 24) * 60 + mi;
  return { date, minutes, wall: Date.UTC(y, mo - 1, d) + minutes * MINUTE };
}

export function offsetOf(zone: string, ms: number): number {
  const whole = Math.floor(ms / MINUTE) * MINUTE;
  return (readLocal(zone, whole).wall - whole) / MINUTE;
}

export interface Transition {
  at: number; // first instant (minute) with the new offset
  before: number; // offset minutes
  after: number;
}

/** Offset changes in [from, to): sample every 6 hours, then bisect to the minute. */
export function findTransitions(zone: string, from: number, to: number): Transition[] {
  const found: Transition[] = [];
  const step = 6 * HOUR;
  let prev = offsetOf(zone, from);
  for (let t = from + step; t < to + step; t += step) {
    const cur = offsetOf(zone, t);
    if (cur === prev) continue;
    let lo = t - step; // offset prev
    let hi = t; // offset cur
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offsetOf(zone, mid) === prev) lo = mid;
      else hi = mid;
    }
    if (hi < to) found.push({ at: hi, before: prev, after: cur });
    prev = cur;
  }
  return found;
}

function wallOf(date: string, minutes: number): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) + minutes * MINUTE;
}

export function shiftDate(date: string, days: number): string {
  return new Date(wallOf(date, 0) + days * DAY).toISOString().slice(0, 10);
}

/**
 * Brute-force 'compatible' wall time -> instant, by scanning every quarter hour from
 * wall - 15 h to wall + 15 h (all offsets lie in -12 h..+14 h). Valid for quarter-hour wall
 * times in zones whose offsets are multiples of 15 minutes (all of them since the 1970s).
 *  - the wall time is read at one or more instants: the earliest one;
 *  - it is read at none (a gap): keep the offset in force before the gap, found at the last
 *    scanned instant whose reading is still before the wall time.
 */
export function referenceLocalToInstant(zone: string, date: string, minutes: number): number {
  const wall = wallOf(date, minutes);
  let lastBefore: number | undefined;
  for (let x = wall - 15 * HOUR; x <= wall + 15 * HOUR; x += QUARTER) {
    const reading = readLocalCached(zone, x);
    if (reading === wall) return x;
    if (reading < wall) lastBefore = x;
  }
  if (lastBefore === undefined) throw new Error('scan window too small');
  return wall - (readLocalCached(zone, lastBefore) - lastBefore);
}

const readingCache = new Map<string, number>();
function readLocalCached(zone: string, ms: number): number {
  const key = `${zone}@${ms}`;
  let wall = readingCache.get(key);
  if (wall === undefined) {
    wall = readLocal(zone, ms).wall;
    if (readingCache.size > 200_000) readingCache.clear();
    readingCache.set(key, wall);
  }
  return wall;
}

export interface RefWindow { start: number; end: number } // minutes; end 1440 = 24:00; end < start = overnight
export interface RefRules {
  zone: string;
  weekly: { day: number; window: RefWindow }[]; // day 0 = monday
  overrides: { date: string; zone: string; windows: RefWindow[] }[];
  oneOff: { start: number; end: number }[];
  timeOff: { start: number; end: number }[];
}

function refExpand(zone: string, date: string, w: RefWindow): [number, number] {
  const start = referenceLocalToInstant(zone, date, w.start);
  const end = w.end > w.start
    ? referenceLocalToInstant(zone, date, w.end)
    : referenceLocalToInstant(zone, shiftDate(date, 1), w.end);
  return [start, end];
}

/** Monday = 0, from the calendar alone (1970-01-01 was a Thursday). */
export function refWeekday(date: string): number {
  return (((Math.round(wallOf(date, 0) / DAY) + 3) % 7) + 7) % 7;
}

/**
 * For every quarter hour q in [range.start, range.end): is q available? Dates are walked
 * generously (3 days either side of what the range's readings show) so that the
 * implementation's narrower date walk is checked, not assumed.
 */
export function referenceAvailability(rules: RefRules, range: { start: number; end: number }): boolean[] {
  const covered: [number, number][] = [];
  const first = shiftDate(readLocal(rules.zone, range.start).date, -3);
  const last = shiftDate(readLocal(rules.zone, range.end - 1).date, 3);
  for (let date = first; date <= last; date = shiftDate(date, 1)) {
    const overrides = rules.overrides.filter((o) => o.date === date);
    if (overrides.length > 0) {
      for (const o of overrides) for (const w of o.windows) covered.push(refExpand(o.zone, date, w));
    } else {
      const weekday = refWeekday(date);
      for (const { day, window } of rules.weekly) if (day === weekday) covered.push(refExpand(rules.zone, date, window));
    }
  }
  for (const o of rules.oneOff) covered.push([o.start, o.end]);
  const result: boolean[] = [];
  for (let q = range.start; q < range.end; q += QUARTER) {
    const open = covered.some(([s, e]) => s <= q && q < e);
    const off = rules.timeOff.some((t) => t.start <= q && q < t.end);
    result.push(open && !off);
  }
  return result;
}
