import { claimDueWrites, recordWriteAttempt, type ClaimedWrite } from '../../db/calendar-writes-repo.js';
import { CalendarSourceError } from '../../integrations/calendars/index.js';
import type { CalendarWriteOutcome } from '../../platform/metrics/app-metrics.js';
import { failureReason, syncConnection } from './calendar-sync.js';
import { LEASE_MARGIN_MS, performWrite } from './calendar-writes.js';
import type { AppContext } from '../context.js';
import type { Job } from '../../platform/jobs/jobs.js';
import { retryDelayMs } from '../webhooks/webhook-worker.js';

/**
 * Carries out the calendar_writes outbox (see calendar-writes.ts): claims due
 * rows (FOR UPDATE SKIP LOCKED, so several processes share the work), PUTs or
 * DELETEs each booking's event, and writes down the outcome. A failure is
 * retried with the webhooks' backoff (CALENDAR_WRITE_RETRY_BASE_MS x 1, 6,
 * 24, 120, 720, 2160, 4320: about 10 hours with the default 5 s) and after
 * the 8th attempt the row is `failed`.
 */
const BATCH = 20;

export type ErrorSink = (error: unknown) => void;

async function attempt(ctx: AppContext, w: ClaimedWrite, signal: AbortSignal, onError?: ErrorSink): Promise<string | null> {
  try {
    await performWrite(ctx, w, signal);
    return null;
  } catch (error) {
    if (!(error instanceof CalendarSourceError)) onError?.(error);
    return failureReason(error);
  }
}

/** One round: claims the due writes and carries them out. Returns how many it tried (tests call it to drive the worker). */
export async function runDueCalendarWrites(
  ctx: AppContext,
  options: { signal?: AbortSignal; onError?: ErrorSink } = {},
): Promise<number> {
  const signal = options.signal ?? new AbortController().signal;
  const claimed = await claimDueWrites(ctx.db, BATCH, ctx.config.calendarWriteTimeoutMs + LEASE_MARGIN_MS);
  await Promise.all(
    claimed.map(async (w) => {
      const error = await attempt(ctx, w, signal, options.onError);
      // Stopped by shutdown: not an attempt; the lease runs out and another round sends it.
      if (error !== null && signal.aborted) return;
      const retryInMs = error === null ? null : retryDelayMs(w.attempts + 1, ctx.config.calendarWriteRetryBaseMs);
      const status = error === null ? 'done' : retryInMs === null ? 'failed' : 'pending';
      await recordWriteAttempt(ctx.db, w, { status, error, retryInMs });
      // Google's free/busy cannot tell our own events from the provider's, so the busy time
      // read before this delete still blocks the cancelled booking's time: read it again now.
      if (status === 'done' && w.action === 'delete' && w.connectionType === 'google') {
        await syncConnection(ctx, w.connectionId, { signal, fresh: true, ...(options.onError ? { onError: options.onError } : {}) });
      }
      const outcome: CalendarWriteOutcome = status === 'done' ? (w.action === 'put' ? 'written' : 'removed')
        : status === 'pending' ? 'retry' : 'failed';
      ctx.metrics.calendarWrites.labels(outcome).inc();
    }),
  );
  return claimed.length;
}

/** Every CALENDAR_WRITE_POLL_MS; a full batch means more may be due, so the jobs loop goes on at once (bounded). */
export function calendarWriteJob(ctx: AppContext): Job {
  return {
    name: 'calendar-writes',
    everyMs: ctx.config.calendarWritePollMs,
    run: async (signal, report) => (await runDueCalendarWrites(ctx, { signal, onError: report })) >= BATCH,
  };
}
