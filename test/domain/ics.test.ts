import { describe, expect, it } from 'vitest';
import { escapeText, foldLine, icsUtc, renderCalendar } from '../../src/domain/ics.js';

const octets = (s: string) => new TextEncoder().encode(s).length;

describe('ICS rendering (RFC 5545)', () => {
  it('writes UTC times in basic format', () => {
    expect(icsUtc(Date.parse('2027-03-14T07:30:00Z'))).toBe('20270314T073000Z');
  });

  it('escapes TEXT values', () => {
    expect(escapeText('a,b;c\\d\ne')).toBe('a\\,b\\;c\\\\d\\ne');
  });

  it('folds at 75 octets without splitting a multi-byte character', () => {
    const line = `DESCRIPTION:${'é'.repeat(100)}`;
    const folded = foldLine(line);
    const pieces = folded.split('\r\n');
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(octets(piece)).toBeLessThanOrEqual(75);
    expect(pieces.slice(1).every((p) => p.startsWith(' '))).toBe(true);
    expect(pieces.map((p, i) => (i === 0 ? p : p.slice(1))).join('')).toBe(line);
  });

  it('leaves short lines alone', () => {
    expect(foldLine('UID:abc')).toBe('UID:abc');
  });

  it('renders one VEVENT per event with CRLF endings', () => {
    const ics = renderCalendar({
      name: 'Dr A bookings',
      now: Date.parse('2027-03-01T00:00:00Z'),
      events: [
        {
          uid: 'bkg_1@booking-engine',
          start: Date.parse('2027-03-14T07:30:00Z'),
          end: Date.parse('2027-03-14T08:30:00Z'),
          status: 'CONFIRMED',
          summary: 'Booking',
          description: 'bring, the; forms',
          created: Date.parse('2027-02-01T10:00:00Z'),
          lastModified: Date.parse('2027-02-01T10:05:00Z'),
        },
      ],
    });
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = ics.split('\r\n');
    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines).toContain('DTSTART:20270314T073000Z');
    expect(lines).toContain('DTEND:20270314T083000Z');
    expect(lines).toContain('DTSTAMP:20270301T000000Z');
    expect(lines).toContain('STATUS:CONFIRMED');
    expect(lines).toContain('DESCRIPTION:bring\\, the\\; forms');
    expect(lines.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(1);
  });
});
