/** Dates and times in the visitor's chosen zone, with Intl only (no date library). */

/** 'YYYY-MM-DD' of an instant in a zone. */
export function localDate(instant: string | number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(instant));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** 'HH:MM' (24 h) of an instant in a zone. */
export function localTime(instant: string | number, zone: string): string {
  const s = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
  return s.replace(/^24/, '00');
}

/** 'Tuesday, 3 March 2027' */
export function longDate(date: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(`${date}T12:00:00Z`));
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export const monthOf = (date: string) => date.slice(0, 7);

export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + n, 1));
  return d.toISOString().slice(0, 7);
}

/** The days of a month's grid (Monday first), with nulls for the blanks before the 1st. */
export function monthGrid(month: string): (string | null)[] {
  const first = `${month}-01`;
  const weekday = (new Date(`${first}T00:00:00Z`).getUTCDay() + 6) % 7;
  const days: (string | null)[] = Array.from({ length: weekday }, () => null);
  for (let d = first; monthOf(d) === month; d = addDays(d, 1)) days.push(d);
  return days;
}

export function monthName(month: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(new Date(`${month}-15T00:00:00Z`));
}

export function zones(): string[] {
  const supported = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return supported.length > 0 ? supported : ['UTC'];
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** An iCalendar file of the booking, for "Add to calendar". */
export function icsOf(b: { id: string; start: string; end: string }, title: string, location: string | undefined, manageUrl: string): string {
  const stamp = (iso: string) => new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const esc = (s: string) => s.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//booking-engine//booking page//EN', 'METHOD:PUBLISH', 'BEGIN:VEVENT',
    `UID:${b.id}@booking-engine`, `DTSTAMP:${stamp(new Date().toISOString())}`, `DTSTART:${stamp(b.start)}`, `DTEND:${stamp(b.end)}`,
    `SUMMARY:${esc(title)}`, ...(location ? [`LOCATION:${esc(location)}`] : []), `DESCRIPTION:${esc(`Manage: ${manageUrl}`)}`,
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
}
