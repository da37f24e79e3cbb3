import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { formatLocalRange } from '../../src/domain/human-time.js';
import { renderInvitation, type Invitation } from '../../src/domain/itip.js';

const base: Invitation = {
  method: 'REQUEST',
  uid: 'bk_1@booking-engine',
  sequence: 2,
  stamp: Date.UTC(2027, 2, 1, 8, 0),
  start: Date.UTC(2027, 2, 8, 8, 0),
  end: Date.UTC(2027, 2, 8, 8, 30),
  summary: 'First consultation, with; commas',
  location: 'Room 3, Hauptstraße 5',
  description: 'Reason: back pain\nsince Tuesday',
  organizer: { name: 'Lee "The" Clinic', email: 'bookings@clinic.example' },
  attendees: [{ name: 'Carol\r\nX', email: 'carol@example.com' }],
};

const parse = (text: string) => {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return { calendar, event: calendar.getFirstSubcomponent('vevent')! };
};

describe('iTIP invitations (RFC 5546)', () => {
  it('REQUEST: the booking\'s UID and SEQUENCE, UTC times, ORGANIZER and ATTENDEE; CRLF, folded, escaped; ical.js reads it back', () => {
    const text = renderInvitation(base);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n').every((line) => new TextEncoder().encode(line).length <= 75)).toBe(true);
    expect(text).toContain('\r\nDTSTART:20270308T080000Z\r\n');
    const { calendar, event } = parse(text);
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(event.getFirstPropertyValue('uid')).toBe('bk_1@booking-engine');
    expect(event.getFirstPropertyValue('sequence')).toBe(2);
    expect(event.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(event.getFirstPropertyValue('summary')).toBe('First consultation, with; commas');
    expect(event.getFirstPropertyValue('description')).toBe('Reason: back pain\nsince Tuesday');
    const organizer = event.getFirstProperty('organizer')!;
    expect(organizer.getFirstValue()).toBe('mailto:bookings@clinic.example');
    expect(organizer.getParameter('cn')).toBe('Lee  The  Clinic');
    const attendee = event.getFirstProperty('attendee')!;
    expect(attendee.getFirstValue()).toBe('mailto:carol@example.com');
    expect(attendee.getParameter('cn')).toBe('Carol  X');
    expect(attendee.getParameter('partstat')).toBe('ACCEPTED');
  });

  it('CANCEL: STATUS:CANCELLED and a SEQUENCE above the last REQUEST\'s; TENTATIVE while awaiting approval', () => {
    const { calendar, event } = parse(renderInvitation({ ...base, method: 'CANCEL' }));
    expect(calendar.getFirstPropertyValue('method')).toBe('CANCEL');
    expect(event.getFirstPropertyValue('sequence')).toBe(3);
    expect(event.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(parse(renderInvitation({ ...base, tentative: true })).event.getFirstPropertyValue('status')).toBe('TENTATIVE');
  });
});

describe('times in mail', () => {
  it('names the zone and its offset; across midnight both dates; DST offsets of the start', () => {
    expect(formatLocalRange(Date.UTC(2027, 2, 8, 8, 0), Date.UTC(2027, 2, 8, 8, 30), 'Europe/Berlin'))
      .toBe('Monday 8 March 2027, 09:00–09:30 (Europe/Berlin, UTC+01:00)');
    expect(formatLocalRange(Date.UTC(2027, 2, 8, 8, 0), Date.UTC(2027, 2, 8, 8, 30), 'America/New_York'))
      .toBe('Monday 8 March 2027, 03:00–03:30 (America/New_York, UTC-05:00)');
    expect(formatLocalRange(Date.UTC(2027, 2, 15, 8, 0), Date.UTC(2027, 2, 15, 8, 30), 'America/New_York'))
      .toBe('Monday 15 March 2027, 04:00–04:30 (America/New_York, UTC-04:00)');
    expect(formatLocalRange(Date.UTC(2027, 2, 5, 22, 30), Date.UTC(2027, 2, 5, 23, 30), 'Europe/Berlin'))
      .toBe('Friday 5 March 2027, 23:30 – Saturday 6 March 2027, 00:30 (Europe/Berlin, UTC+01:00)');
    expect(formatLocalRange(Date.UTC(2027, 2, 8, 8, 0), Date.UTC(2027, 2, 8, 8, 30), 'Asia/Kathmandu'))
      .toBe('Monday 8 March 2027, 13:45–14:15 (Asia/Kathmandu, UTC+05:45)');
  });
});
