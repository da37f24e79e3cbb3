import type { Database } from '../../db/database.js';
import { claimDueDeliveries, recordAttempt, releaseDeliveries, type ClaimedDelivery } from '../../db/webhooks-repo.js';
import { safeGet } from '../../integrations/calendars/safe-fetch.js';
import { CalendarSourceError } from '../../integrations/calendars/provider.js';
import type { Config } from '../../config.js';
import type { AppMetrics } from '../../platform/metrics/app-metrics.js';
import { readWebhookSecret } from './webhooks.js';
import { EndpointCircuits, type AttemptOutcome } from './endpoint-circuit.js';
import { webhookHeaders } from './webhook-signing.js';
import type { Job } from '../../platform/jobs/jobs.js';

/** Attempts per delivery before it is marked failed. */
export const MAX_ATTEMPTS = 8;
/**
 * The wait after attempt n (1-based), in multiples of WEBHOOK_RETRY_BASE_MS:
 * with the default 5 s, 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h (about 10 hours in all).
 */
const BACKOFF_FACTORS = [1, 6, 24, 120, 720, 2160, 4320];
/** Deliveries in flight per process, and per endpoint (scheme://host:port) within it. */
const MAX_IN_FLIGHT = 50;
const MAX_IN_FLIGHT_PER_ENDPOINT = 4;
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
async function send(deps: WorkerDeps, d: ClaimedDelivery, signal: AbortSignal): Promise<{ ok: boolean; outcome: AttemptOutcome; status: number | null; error: string | null }> {
  const body = JSON.stringify({ type: d.eventType, timestamp: new Date(d.eventCreatedAt).toISOString(), data: d.eventData });
  let secret: string;
  try {
    secret = readWebhookSecret(deps.config.encryptionKey, d.webhookId, d.secretStored);
  } catch {
    return { ok: false, outcome: 'failed', status: null, error: 'the signing secret cannot be read with this ENCRYPTION_KEY' };
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
      followRedirects: false,
      signal,
    });
    // safeGet does not hand back the 2xx status itself; the delivery's status says it succeeded.
    return { ok: true, outcome: 'answered', status: null, error: null };
  } catch (error) {
    if (error instanceof CalendarSourceError) {
      // A 2xx with an over-long body was still received.
      if (error.kind === 'too_large') return { ok: true, outcome: 'answered', status: null, error: null };
      const outcome = error.kind === 'timeout' ? 'timeout' : error.kind === 'http' ? 'answered' : 'failed';
      return { ok: false, outcome, status: error.status ?? null, error: error.message };
    }
    return { ok: false, outcome: 'failed', status: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Sends webhook deliveries without making them wait on each other: each poll
 * claims what is due for the endpoints that have room (at most
 * MAX_IN_FLIGHT_PER_ENDPOINT each, MAX_IN_FLIGHT in all) and starts them, and
 * the next poll does not wait for them to finish (one that finishes asks for
 * a poll at once). So an endpoint that hangs until WEBHOOK_TIMEOUT_MS holds
 * four of its own deliveries, never another
 * endpoint's; and once it has timed out three times in a row its circuit
 * opens (endpoint-circuit.ts) and it is left alone for a while.
 */
export class WebhookDispatcher {
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly onError: (error: unknown) => void = () => {},
    private readonly onRoom: () => void = () => {},
    private readonly circuits = new EndpointCircuits(),
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims and starts what is due; returns how many it started. */
  async poll(signal: AbortSignal, onError: (error: unknown) => void = this.onError): Promise<number> {
    const room = MAX_IN_FLIGHT - this.running.size;
    if (room <= 0 || signal.aborted) return 0;
    const full = [...this.inFlight].filter(([, n]) => n >= MAX_IN_FLIGHT_PER_ENDPOINT).map(([endpoint]) => endpoint);
    const skip = [...new Set([...full, ...this.circuits.openEndpoints(this.now())])];
    const claimed = await claimDueDeliveries(this.deps.db, room, this.deps.config.webhookTimeoutMs + 30_000, {
      perEndpoint: MAX_IN_FLIGHT_PER_ENDPOINT,
      skipEndpoints: skip,
    });
    // An endpoint with some in flight may have been given more than its room: the extra go back, due now.
    const extra = claimed.filter((d) => {
      const n = this.inFlight.get(d.endpoint) ?? 0;
      this.inFlight.set(d.endpoint, n + 1);
      return n >= MAX_IN_FLIGHT_PER_ENDPOINT;
    });
    for (const d of extra) this.finished(d.endpoint);
    if (extra.length > 0) await releaseDeliveries(this.deps.db, extra.map((d) => d.id));
    const started = claimed.filter((d) => !extra.includes(d));
    for (const d of started) {
      const task: Promise<void> = this.attempt(d, signal).catch(onError).finally(() => {
        this.running.delete(task);
        this.finished(d.endpoint);
        // Room again for this endpoint: look for its next delivery now rather than at the next poll.
        if (!signal.aborted) this.onRoom();
      });
      this.running.add(task);
    }
    return started.length;
  }

  private finished(endpoint: string): void {
    const left = (this.inFlight.get(endpoint) ?? 1) - 1;
    if (left <= 0) this.inFlight.delete(endpoint);
    else this.inFlight.set(endpoint, left);
  }

  /** Resolves when every delivery started so far has been written down. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async attempt(d: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const result = await send(this.deps, d, signal);
    // Stopped by shutdown: not an attempt; the lease runs out and another round sends it.
    if (!result.ok && signal.aborted) return;
    this.circuits.record(d.endpoint, result.outcome, this.now());
    const made = d.attempts + 1;
    const retryInMs = result.ok ? null : retryDelayMs(made, this.deps.config.webhookRetryBaseMs);
    const status = result.ok ? 'succeeded' : retryInMs === null ? 'failed' : 'pending';
    await recordAttempt(this.deps.db, d.id, d.attempts, { status, responseStatus: result.status, error: result.error, retryInMs });
    this.deps.metrics.webhookDeliveries.labels(status === 'pending' ? 'retry' : status).inc();
  }
}

/** One round, waited for: claims what is due, sends it, writes each attempt down. Returns how many it tried. */
export async function deliverDueWebhooks(deps: WorkerDeps, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const dispatcher = new WebhookDispatcher(deps);
  const started = await dispatcher.poll(signal);
  await dispatcher.drain();
  return started;
}

export const WEBHOOK_JOB = 'webhooks';

/**
 * Polls every WEBHOOK_POLL_MS without waiting for the deliveries it started;
 * `onRoom` (the jobs loop's nudge) asks for a poll when one finishes, and
 * stopping the jobs waits for the deliveries (settle).
 */
export function webhookJob(deps: WorkerDeps, everyMs: number, onRoom: () => void): Job {
  const dispatcher = new WebhookDispatcher(deps, () => {}, onRoom);
  return {
    name: WEBHOOK_JOB,
    everyMs,
    run: async (signal, report) => { await dispatcher.poll(signal, report); },
    settle: () => dispatcher.drain(),
  };
}
