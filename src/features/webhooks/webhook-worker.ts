import type { Database } from '../../db/database.js';
import { claimDueDeliveries, recordAttempt, type ClaimedDelivery } from '../../db/webhooks-repo.js';
import { safeGet } from '../../integrations/calendars/safe-fetch.js';
import { CalendarSourceError } from '../../integrations/calendars/provider.js';
import type { Config } from '../../config.js';
import type { AppMetrics } from '../../platform/metrics/app-metrics.js';
import { readWebhookSecret } from './webhooks.js';
import { webhookHeaders } from './webhook-signing.js';

/** Attempts per delivery before it is marked failed. */
export const MAX_ATTEMPTS = 8;
/**
 * The wait after attempt n (1-based), in multiples of WEBHOOK_RETRY_BASE_MS:
 * with the default 5 s, 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h (about 10 hours in all).
 */
const BACKOFF_FACTORS = [1, 6, 24, 120, 720, 2160, 4320];
const BATCH = 20;
const MAX_RESPONSE_BYTES = 64 * 1024;

export function retryDelayMs(attemptsMade: number, baseMs: number): number | null {
  if (attemptsMade >= MAX_ATTEMPTS) return null;
  const factor = BACKOFF_FACTORS[Math.min(attemptsMade, BACKOFF_FACTORS.length) - 1] ?? 1;
  return factor * baseMs;
}

export interface WorkerDeps {
  db: Database;
  config: Pick<Config, 'encryptionKey' | 'webhookAllowPrivateUrls' | 'webhookRetryBaseMs' | 'webhookTimeoutMs'>;
  metrics: Pick<AppMetrics, 'webhookDeliveries'>;
}

/** One POST; resolves to whether it got a 2xx, the status of a non-2xx answer, and an error text for failures. */
async function send(deps: WorkerDeps, d: ClaimedDelivery, signal: AbortSignal): Promise<{ ok: boolean; status: number | null; error: string | null }> {
  const body = JSON.stringify({ type: d.eventType, timestamp: new Date(d.eventCreatedAt).toISOString(), data: d.eventData });
  let secret: string;
  try {
    secret = readWebhookSecret(deps.config.encryptionKey, d.webhookId, d.secretStored);
  } catch {
    return { ok: false, status: null, error: 'the signing secret cannot be read with this ENCRYPTION_KEY' };
  }
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    await safeGet(new URL(d.url), {
      method: 'POST',
      body,
      headers: { ...webhookHeaders(secret, d.id, timestamp, body), 'user-agent': 'booking-engine-webhooks/1' },
      accept: '*/*',
      allowPrivateAddresses: deps.config.webhookAllowPrivateUrls,
      timeoutMs: deps.config.webhookTimeoutMs,
      maxBytes: MAX_RESPONSE_BYTES,
      signal,
    });
    // safeGet does not hand back the 2xx status itself; the delivery's status says it succeeded.
    return { ok: true, status: null, error: null };
  } catch (error) {
    if (error instanceof CalendarSourceError) {
      // A 2xx with an over-long body was still received.
      if (error.kind === 'too_large') return { ok: true, status: null, error: null };
      return { ok: false, status: error.status ?? null, error: error.message };
    }
    return { ok: false, status: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Claims the due deliveries (FOR UPDATE SKIP LOCKED, so several processes
 * share the work) and sends them; each attempt is written down with its
 * outcome and, on failure, the next attempt's time. Returns how many it tried.
 */
export async function deliverDueWebhooks(deps: WorkerDeps, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const claimed = await claimDueDeliveries(deps.db, BATCH, deps.config.webhookTimeoutMs + 30_000);
  await Promise.all(
    claimed.map(async (d) => {
      const result = await send(deps, d, signal);
      // Stopped by shutdown: not an attempt; the lease runs out and another round sends it.
      if (!result.ok && signal.aborted) return;
      const made = d.attempts + 1;
      const retryInMs = result.ok ? null : retryDelayMs(made, deps.config.webhookRetryBaseMs);
      const status = result.ok ? 'succeeded' : retryInMs === null ? 'failed' : 'pending';
      await recordAttempt(deps.db, d.id, d.attempts, { status, responseStatus: result.status, error: result.error, retryInMs });
      deps.metrics.webhookDeliveries.labels(status === 'pending' ? 'retry' : status).inc();
    }),
  );
  return claimed.length;
}

/** Polls every WEBHOOK_POLL_MS; unref'd; the returned stop() waits for the round in flight. */
export function startWebhookWorker(deps: WorkerDeps, everyMs: number, onError: (error: unknown) => void): () => Promise<void> {
  const controller = new AbortController();
  let running: Promise<void> | null = null;
  const round = async () => {
    // A full batch means more may be due: go on, a bounded number of times.
    for (let i = 0; i < 10 && !controller.signal.aborted; i += 1) {
      if ((await deliverDueWebhooks(deps, controller.signal)) < BATCH) break;
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = round().catch(onError).finally(() => { running = null; });
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    controller.abort();
    await running;
  };
}
