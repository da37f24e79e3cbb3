import { listMails, type MailRecord, type MailStatus } from '../../db/mail-outbox-repo.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { requireAccess } from '../access/policy.js';
import type { AppContext, Principal } from '../context.js';

/** One row of the mail outbox as GET /v1/admin/mail shows it (no message text: it is rendered when sent). */
export interface MailView {
  id: string;
  kind: MailRecord['kind'];
  bookingId: string;
  recipient: { role: 'client' | 'host' | 'guest'; userId?: string; email?: string };
  reminderMinutes?: number;
  status: MailStatus;
  attempts: number;
  dueAt: string;
  nextAttemptAt?: string;
  lastAttemptAt: string | null;
  sentAt?: string;
  error?: string;
  createdAt: string;
}

function toView(m: MailRecord): MailView {
  return {
    id: m.id,
    kind: m.kind,
    bookingId: m.bookingId,
    recipient: m.recipient.role === 'guest' ? { role: 'guest', email: m.recipient.email } : { role: m.recipient.role, userId: m.recipient.userId },
    ...(m.reminderMinutes !== null ? { reminderMinutes: m.reminderMinutes } : {}),
    status: m.status,
    attempts: m.attempts,
    dueAt: formatInstant(m.dueAt),
    ...(m.status === 'pending' ? { nextAttemptAt: formatInstant(m.nextAttemptAt) } : {}),
    lastAttemptAt: m.lastAttemptAt === null ? null : formatInstant(m.lastAttemptAt),
    ...(m.sentAt !== null ? { sentAt: formatInstant(m.sentAt) } : {}),
    ...(m.lastError !== null ? { error: m.lastError } : {}),
    createdAt: formatInstant(m.createdAt),
  };
}

/** The outbox, newest first; `status: 'failed'` is the list of mails that gave up, with why. Administrators only. */
export async function listMailOutbox(
  ctx: AppContext,
  caller: Principal,
  q: { status?: MailStatus; bookingId?: string; limit: number; cursor?: string },
): Promise<Page<MailView>> {
  requireAccess(caller, { on: 'mailOutbox', action: 'read' });
  const after = decodeCursor(q.cursor);
  const rows = await listMails(ctx.db, {
    status: q.status ?? null,
    bookingId: q.bookingId ?? null,
    before: after ? { createdAt: after.sortValue, id: after.id } : null,
    limit: q.limit + 1,
  });
  return toPage(rows, q.limit, toView, (m) => encodeCursor(m.createdAt, m.id));
}
