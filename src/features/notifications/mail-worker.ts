import { claimDueMails, mailQueueStats, recordMailAttempt, type ClaimedMail, type MailStatus } from '../../db/mail-outbox-repo.js';
import type { MailOutcome } from '../../platform/metrics/app-metrics.js';
import type { AppContext } from '../context.js';
import type { Job } from '../../platform/jobs/jobs.js';
import { retryDelayMs } from '../webhooks/webhook-worker.js';
import { composeMail } from './compose.js';
import type { OutgoingMail, SendOutcome } from './mailer.js';

/**
 * Carries out the mail outbox (migration 009): claims due rows (FOR UPDATE
 * SKIP LOCKED and a lease, so any number of processes share the work and
 * none sends a row another holds), renders each mail, sends the batch, and
 * writes down each outcome. A failure is retried with the webhooks' backoff
 * (MAIL_RETRY_BASE_MS x 1, 6, 24, 120, 720, 2160, 4320: about 10 hours with
 * the default 5 s); an SMTP 5xx reply, or the 8th failure, marks the mail
 * `failed` with its reason (GET /v1/admin/mail, mails_total{outcome="failed"},
 * and a log line). Bookings never wait for any of it.
 */
const BATCH = 20;
/** The lease outlives the batch's send timeout by this much (rendering, the database round trips). */
const LEASE_MARGIN_MS = 30_000;

export type MailGaveUp = (mail: { id: string; kind: string; bookingId: string; attempts: number }, reason: string) => void;

interface Outcome { status: MailStatus; error: string | null; retryAt: number | null }

function outcomeOf(ctx: AppContext, m: ClaimedMail, sent: SendOutcome, now: number): Outcome {
  if (sent.ok) return { status: 'sent', error: null, retryAt: null };
  const retryInMs = sent.permanent ? null : retryDelayMs(m.attempts + 1, ctx.config.mail!.retryBaseMs);
  return retryInMs === null ? { status: 'failed', error: sent.error, retryAt: null } : { status: 'pending', error: sent.error, retryAt: now + retryInMs };
}

/** One round: claims the due mails and sends them. Returns how many it claimed (tests call it to drive the worker). */
export async function runDueMails(
  ctx: AppContext,
  signal: AbortSignal = new AbortController().signal,
  onGaveUp: MailGaveUp = () => {},
): Promise<number> {
  const mail = ctx.config.mail;
  if (!mail || !ctx.mailer) return 0;
  const claimedAt = ctx.clock.now();
  const claimed = await claimDueMails(ctx.db, BATCH, claimedAt, mail.sendTimeoutMs + LEASE_MARGIN_MS);
  const env = { db: ctx.db, mail, publicBaseUrl: ctx.config.publicBaseUrl, now: claimedAt };
  const composed = await Promise.all(claimed.map((m) => composeMail(env, m)));
  const toSend: { m: ClaimedMail; out: OutgoingMail }[] = [];
  const settled: Promise<void>[] = [];
  const record = async (m: ClaimedMail, o: Outcome) => {
    const written = await recordMailAttempt(ctx.db, m, { ...o, now: ctx.clock.now() });
    if (!written) return; // re-armed or settled meanwhile: this attempt no longer counts
    const label: MailOutcome = o.status === 'pending' ? 'retry' : o.status;
    ctx.metrics.mails.labels(label).inc();
    if (o.status === 'failed') onGaveUp({ id: m.id, kind: m.kind, bookingId: m.bookingId, attempts: m.attempts + 1 }, o.error ?? 'unknown');
  };
  composed.forEach((c, i) => {
    const m = claimed[i]!;
    if ('skip' in c) settled.push(record(m, { status: 'skipped', error: c.skip, retryAt: null }));
    else toSend.push({ m, out: c.mail });
  });
  const results = await ctx.mailer.sendAll(toSend.map((s) => s.out), signal);
  for (const [i, { m }] of toSend.entries()) {
    const sent = results[i]!;
    // Stopped by shutdown: not an attempt; the lease runs out and another round sends it.
    if (!sent.ok && signal.aborted) continue;
    settled.push(record(m, outcomeOf(ctx, m, sent, ctx.clock.now())));
  }
  await Promise.all(settled);
  Object.assign(ctx.metrics.mailQueue, await mailQueueStats(ctx.db, ctx.clock.now()));
  return claimed.length;
}

/** Every MAIL_POLL_MS; a full batch means more may be due, so the jobs loop goes on at once (bounded). */
export function mailJob(ctx: AppContext, onGaveUp?: MailGaveUp): Job {
  return {
    name: 'mail',
    everyMs: ctx.config.mail?.pollMs ?? 1000,
    run: async (signal) => (await runDueMails(ctx, signal, onGaveUp)) >= BATCH,
  };
}
