/**
 * RFC 5545 rendering of bookings. Rules that clients are strict about:
 * CRLF line ends, lines folded at 75 octets (not characters: a multi-byte
 * character is never split), TEXT values escaped, and every time in UTC.
 */
export interface IcsEvent {
  uid: string;
  start: number;
  end: number;
  status: 'TENTATIVE' | 'CONFIRMED';
  summary: string;
  description?: string;
  created: number;
  lastModified: number;
  /** RFC 5545 SEQUENCE: raised each time the event moves, so calendar apps take the newer one. */
  sequence?: number;
}

/** 20270301T090000Z */
export function icsUtc(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n|\r/g, '\\n');
}

/** Splits a content line into 75-octet pieces; continuation lines start with one space. */
export function foldLine(line: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(line).length <= 75) return line;
  const pieces: string[] = [];
  let current = '';
  let currentBytes = 0;
  let limit = 75;
  for (const char of line) {
    const size = encoder.encode(char).length;
    if (currentBytes + size > limit) {
      pieces.push(current);
      current = '';
      currentBytes = 0;
      limit = 74; // the leading space of a continuation line counts
    }
    current += char;
    currentBytes += size;
  }
  pieces.push(current);
  return pieces.join('\r\n ');
}

function eventLines(e: IcsEvent, stamp: string): string[] {
  return [
    'BEGIN:VEVENT',
    `UID:${e.uid}`,
    `DTSTAMP:${stamp}`,
    `DTSTART:${icsUtc(e.start)}`,
    `DTEND:${icsUtc(e.end)}`,
    `STATUS:${e.status}`,
    ...(e.sequence ? [`SEQUENCE:${e.sequence}`] : []),
    `SUMMARY:${escapeText(e.summary)}`,
    ...(e.description ? [`DESCRIPTION:${escapeText(e.description)}`] : []),
    `CREATED:${icsUtc(e.created)}`,
    `LAST-MODIFIED:${icsUtc(e.lastModified)}`,
    'END:VEVENT',
  ];
}

const PRODID = 'PRODID:-//booking-engine//bookings feed//EN';
/** Content lines folded and joined with CRLF, as RFC 5545 3.1 wants them. */
export const toText = (lines: string[]) => lines.map(foldLine).join('\r\n') + '\r\n';

export function renderCalendar(options: { name: string; now: number; events: readonly IcsEvent[] }): string {
  const stamp = icsUtc(options.now);
  return toText([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    PRODID,
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(options.name)}`,
    ...options.events.flatMap((e) => eventLines(e, stamp)),
    'END:VCALENDAR',
  ]);
}

/**
 * One event as a CalDAV calendar object resource (RFC 4791 4.1): a single
 * VEVENT and no METHOD property, which servers refuse in stored objects.
 */
export function renderCalendarObject(event: IcsEvent, now: number): string {
  return toText(['BEGIN:VCALENDAR', 'VERSION:2.0', PRODID, 'CALSCALE:GREGORIAN', ...eventLines(event, icsUtc(now)), 'END:VCALENDAR']);
}
