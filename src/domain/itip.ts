import { escapeText, icsUtc, toText } from './ics.js';

/**
 * iTIP invitations (RFC 5546) for mail: one VEVENT with the booking's stable
 * UID (the same as the ICS feed and the write calendar's), so Gmail, Outlook
 * and Apple Calendar update the event they already have instead of adding one.
 *
 *   METHOD:REQUEST  a confirmation or a move: SEQUENCE is the booking's
 *                   (raised on each move), so the newer time wins; an update
 *                   with the same SEQUENCE wins by its later DTSTAMP.
 *   METHOD:CANCEL   SEQUENCE one above the last REQUEST's: a cancellation is
 *                   a revision of its own (RFC 5546 2.1.4), and no REQUEST can
 *                   follow it (a cancelled booking never changes again).
 */
export interface Party {
  name: string | null;
  email: string;
}

export interface Invitation {
  method: 'REQUEST' | 'CANCEL';
  uid: string;
  /** The booking's SEQUENCE (see above for CANCEL). */
  sequence: number;
  /** When the change was made: orders two messages of one SEQUENCE. */
  stamp: number;
  start: number;
  end: number;
  /** A booking awaiting the host's approval is TENTATIVE. */
  tentative?: boolean;
  summary: string;
  description?: string;
  location?: string;
  organizer: Party;
  attendees: readonly Party[];
}

/** A CN parameter: quoted, without the characters a quoted-string cannot hold (RFC 5545 3.1: DQUOTE and controls). */
function commonName(name: string | null): string {
  const cleaned = (name ?? '').replace(/["\u0000-\u001f\u007f]/g, ' ').trim();
  return cleaned === '' ? '' : `;CN="${cleaned}"`;
}

/** mailto: URI of an address; addresses arrive validated, this only keeps a stray control character out of the line. */
const mailto = (email: string) => `mailto:${email.replace(/[\u0000-\u001f\u007f\s]/g, '')}`;

export function renderInvitation(i: Invitation): string {
  const status = i.method === 'CANCEL' ? 'CANCELLED' : i.tentative ? 'TENTATIVE' : 'CONFIRMED';
  const sequence = i.method === 'CANCEL' ? i.sequence + 1 : i.sequence;
  return toText([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//booking-engine//notifications//EN',
    'CALSCALE:GREGORIAN',
    `METHOD:${i.method}`,
    'BEGIN:VEVENT',
    `UID:${i.uid}`,
    `DTSTAMP:${icsUtc(i.stamp)}`,
    `DTSTART:${icsUtc(i.start)}`,
    `DTEND:${icsUtc(i.end)}`,
    `SEQUENCE:${sequence}`,
    `STATUS:${status}`,
    `SUMMARY:${escapeText(i.summary)}`,
    ...(i.location ? [`LOCATION:${escapeText(i.location)}`] : []),
    ...(i.description ? [`DESCRIPTION:${escapeText(i.description)}`] : []),
    `ORGANIZER${commonName(i.organizer.name)}:${mailto(i.organizer.email)}`,
    ...i.attendees.map(
      (a) => `ATTENDEE${commonName(a.name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:${mailto(a.email)}`,
    ),
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
  ]);
}
