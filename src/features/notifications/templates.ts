import type { MailKind } from '../../db/mail-outbox-repo.js';
import { formatLocalDate, formatLocalRange, formatLocalTime } from '../../domain/human-time.js';

/**
 * The words of every mail, as plain functions of what is known about the
 * booking and the recipient: a subject, a plain-text body and the same as
 * HTML (every value escaped). No I/O; compose.ts gathers the inputs.
 */
export interface MailFacts {
  kind: MailKind;
  role: 'client' | 'host' | 'guest';
  recipientName: string;
  /** The recipient's IANA zone: every time is written in it, with the zone named. */
  timeZone: string;
  title: string;
  start: number;
  end: number;
  /** A move: where the booking was. */
  previous: { start: number; end: number } | null;
  /** After a move by the client of a type that needs approval. */
  awaitingApproval: boolean;
  location: string | null;
  clientName: string;
  hostNames: string[];
  /** For hosts: the client's answers under their questions' labels, then the notes. */
  answers: { label: string; value: string }[];
  notes: string | null;
  reason: string | null;
  cancelledBy: 'client' | 'host' | 'admin' | null;
  /** For clients and guests: where the booking is managed. */
  manageUrl: string | null;
  reminderMinutes: number | null;
  /** Who signs: MAIL_FROM's name, or "Bookings". */
  sender: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** 1440 -> '24 hours', 60 -> '1 hour', 90 -> '90 minutes', 2880 -> '2 days'. */
export function describeMinutes(minutes: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes % 1440 === 0 && minutes > 1440) return plural(minutes / 1440, 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

/** One line for a header: no control characters (so no CR/LF), spaces collapsed, at most 200 characters. */
export function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const forHost = (f: MailFacts) => f.role === 'host';
const withWhom = (f: MailFacts) => (forHost(f) ? ` with ${f.clientName}` : '');
const byWhom = (f: MailFacts) =>
  f.cancelledBy === 'client' ? (forHost(f) ? ` by ${f.clientName}` : ' at your request') : f.cancelledBy === 'host' ? ' by the host' : f.cancelledBy === 'admin' ? ' by the administrator' : '';

function subjectOf(f: MailFacts): string {
  const when = `${formatLocalDate(f.start, f.timeZone)} ${formatLocalTime(f.start, f.timeZone)}`;
  const what = `${f.title}${withWhom(f)}`;
  const prefix: Record<MailKind, string> = {
    confirmed: forHost(f) ? 'New booking' : 'Confirmed',
    accepted: forHost(f) ? 'Confirmed' : 'Accepted',
    pending: forHost(f) ? 'Approval needed' : 'Awaiting approval',
    declined: 'Declined',
    rescheduled: 'Moved',
    cancelled: 'Cancelled',
    reminder: 'Reminder',
  };
  return headerSafe(`${prefix[f.kind]}: ${what}, ${f.kind === 'rescheduled' ? 'now ' : ''}${when}`);
}

function leadOf(f: MailFacts): string {
  const host = forHost(f);
  switch (f.kind) {
    case 'confirmed':
      return host ? `${f.clientName} booked ${f.title} with you.` : `Your booking is confirmed.`;
    case 'accepted':
      return host ? `The booking of ${f.clientName} is confirmed.` : `Your request was accepted: the booking is confirmed.`;
    case 'pending':
      return host ? `${f.clientName} asks to book ${f.title}. Please accept or decline the request.` : `We received your request. It awaits the host's approval; you will hear from us again.`;
    case 'declined':
      return host ? `The request of ${f.clientName} was declined.` : `Sorry: your request was declined.`;
    case 'rescheduled':
      return (host ? `The booking with ${f.clientName} moved to a new time.` : `Your booking moved to a new time.`) +
        (f.awaitingApproval ? (host ? ' It awaits your approval again.' : ' It awaits the host\'s approval again.') : '');
    case 'cancelled':
      return host ? `The booking with ${f.clientName} was cancelled${byWhom(f)}.` : `Your booking was cancelled${byWhom(f)}.`;
    case 'reminder':
      return `A reminder: ${f.title}${withWhom(f)} starts in ${describeMinutes(f.reminderMinutes ?? 0)}.`;
  }
}

/** The facts as label/value rows, in the order both bodies show them. */
function rowsOf(f: MailFacts): [string, string][] {
  const rows: [string, string][] = [['What', f.title], ['When', formatLocalRange(f.start, f.end, f.timeZone)]];
  if (f.previous) rows.push(['Was', formatLocalRange(f.previous.start, f.previous.end, f.timeZone)]);
  if (f.location) rows.push(['Where', f.location]);
  if (forHost(f)) rows.push(['Client', f.clientName]);
  else if (f.hostNames.length > 0) rows.push(['With', f.hostNames.join(', ')]);
  if (f.reason) rows.push(['Reason', f.reason]);
  if (forHost(f)) {
    for (const a of f.answers) rows.push([a.label, a.value]);
    if (f.notes) rows.push(['Notes', f.notes]);
  }
  return rows;
}

function textOf(f: MailFacts, lead: string, rows: [string, string][]): string {
  const width = Math.min(12, Math.max(...rows.map(([label]) => label.length)) + 1);
  const lines = [`Hello ${f.recipientName},`, '', lead, ''];
  for (const [label, value] of rows) {
    const [first, ...rest] = value.split(/\r?\n|\r/);
    lines.push(`${`${label}:`.padEnd(width + 1)} ${first ?? ''}`);
    for (const line of rest) lines.push(`${' '.repeat(width + 2)}${line}`);
  }
  if (f.manageUrl) lines.push('', `Manage your booking: ${f.manageUrl}`);
  lines.push('', `-- ${f.sender}`, '');
  return lines.join('\n');
}

/** A time's "(Zone/Name, UTC+01:00)" is kept on one line. */
const ZONE_SUFFIX = /(\([^()<>]*, UTC[+-]\d\d:\d\d\))$/;

function htmlOf(f: MailFacts, subject: string, lead: string, rows: [string, string][]): string {
  const e = escapeHtml;
  const cell = 'padding:6px 12px 6px 0;vertical-align:top';
  const table = rows
    .map(([label, value]) =>
      `<tr><th scope="row" style="${cell};text-align:left;color:#555;font-weight:600;white-space:nowrap">${e(label)}</th>` +
      `<td style="${cell}">${e(value).replace(/\r?\n|\r/g, '<br>').replace(ZONE_SUFFIX, '<span style="white-space:nowrap">$1</span>')}</td></tr>`)
    .join('\n');
  const manage = f.manageUrl
    ? `<p style="margin:24px 0"><a href="${e(f.manageUrl)}" style="background:#1a56db;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">Manage your booking</a></p>\n` +
      `<p style="color:#555;font-size:13px">Or open ${e(f.manageUrl)}</p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px">
<p>Hello ${e(f.recipientName)},</p>
<p style="font-size:17px">${e(lead)}</p>
<table role="presentation" style="border-collapse:collapse;margin:16px 0">
${table}
</table>
${manage}
<p style="color:#555">— ${e(f.sender)}</p>
</div>
</body></html>
`;
}

export function renderMail(f: MailFacts): RenderedMail {
  const subject = subjectOf(f);
  const lead = leadOf(f);
  const rows = rowsOf(f);
  return { subject, text: textOf(f, lead, rows), html: htmlOf(f, subject, lead, rows) };
}
