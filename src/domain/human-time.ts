import { instantToLocalDate, instantToLocalMinutes, offsetMinutesAt, weekdayOf } from './zoned-time.js';

/**
 * A time range as people read it in mail, in a named zone (never the server's):
 *   formatLocalRange(09:00Z..09:30Z 2027-03-08, 'Europe/Berlin')
 *     -> 'Monday 8 March 2027, 10:00–10:30 (Europe/Berlin, UTC+01:00)'
 *   across midnight:
 *     -> 'Friday 5 March 2027, 23:30 – Saturday 6 March 2027, 00:30 (Europe/Berlin, UTC+01:00)'
 * The offset is the start's; it tells a reader in another zone what the time is.
 * Built from the zone rules only (no locale data), so it reads the same on every machine.
 */
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad2 = (n: number) => String(n).padStart(2, '0');

export function formatLocalDate(epochMs: number, zone: string): string {
  const date = instantToLocalDate(zone, epochMs);
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const weekday = weekdayOf(date);
  return `${weekday[0]!.toUpperCase()}${weekday.slice(1)} ${day} ${MONTHS[month - 1]} ${year}`;
}

export function formatLocalTime(epochMs: number, zone: string): string {
  const minutes = instantToLocalMinutes(zone, epochMs);
  return `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}

export function formatUtcOffset(epochMs: number, zone: string): string {
  const offset = Math.round(offsetMinutesAt(zone, epochMs));
  const abs = Math.abs(offset);
  return `UTC${offset < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

export function formatLocalRange(start: number, end: number, zone: string): string {
  const startDate = formatLocalDate(start, zone);
  const endDate = formatLocalDate(end, zone);
  const times = startDate === endDate
    ? `${startDate}, ${formatLocalTime(start, zone)}–${formatLocalTime(end, zone)}`
    : `${startDate}, ${formatLocalTime(start, zone)} – ${endDate}, ${formatLocalTime(end, zone)}`;
  return `${times} (${zone}, ${formatUtcOffset(start, zone)})`;
}
