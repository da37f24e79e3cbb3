import { createHash } from 'node:crypto';
import { ConfigError } from '../../config.js';
import {
  anyConnection,
  claimDueConnections,
  findConnection,
  recordSyncFailure,
  recordSyncSuccess,
  replaceBusy,
  type CalendarConnectionRecord,
  type CalendarKind,
} from '../../db/calendars-repo.js';
import type { Database, Queryable, Transaction } from '../../db/database.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import type { Interval } from '../../domain/intervals.js';
import { calendarProviderFor, CalendarSourceError, type CalendarProvider } from '../../integrations/calendars/index.js';
import type { AppContext } from '../context.js';
import type { Job } from '../../platform/jobs/jobs.js';
import { openSecret, SecretUnreadableError } from '../../platform/crypto/encryption.js';
import { googleClientForSync } from './google-client.js';
import { providerTimeZone, requireProvider } from '../availability/providers.js';

/**
 * Refreshing a connection's busy time: fetch and parse outside any
 * transaction (the network is slow), then, in one short transaction, either
 * replace the busy set and bump the provider's availability version (only when
 * the set changed), or record the failure and keep the last good set.
 */
const DAY_MS = 24 * 3600 * 1000;
/** Busy time is read from a day ago (an event running now) to 400 days ahead (beyond any slot query). */
export const HORIZON_PAST_MS = DAY_MS;
export const HORIZON_FUTURE_MS = 400 * DAY_MS;
export const SYNC_TIMEOUT_MS = 10_000;
/** The first sync runs inside POST .../calendars: a shorter wait, and a slow source is just "error" for now. */
export const FIRST_SYNC_TIMEOUT_MS = 5_000;
const BATCH = 50;
const PARALLEL = 4;

export type ErrorSink = (error: unknown) => void;

export function busyDigest(busy: readonly Interval[]): string {
  return createHash('sha256').update(JSON.stringify(busy.map((i) => [i.start, i.end]))).digest('base64url');
}

/** Words for `error` on the connection: what went wrong, never a URL or a credential. */
export function failureReason(error: unknown): string {
  if (error instanceof CalendarSourceError) return error.message;
  if (error instanceof SecretUnreadableError) return 'cannot decrypt the stored settings: is ENCRYPTION_KEY the key they were saved with?';
  if (error instanceof ConfigError) return error.message;
  return 'an unexpected error while reading the calendar (see the server log)';
}

export function openConfig(ctx: AppContext, connection: { id: string; type: CalendarKind; configCiphertext: string }): Record<string, unknown> {
  if (!ctx.config.encryptionKey) throw new ConfigError('ENCRYPTION_KEY', 'is not set, so the calendar\'s stored settings cannot be read');
  const stored = JSON.parse(openSecret(ctx.config.encryptionKey, connection.configCiphertext, connection.id)) as Record<string, unknown>;
  // Google's OAuth client comes from the environment on every use, never from the stored settings.
  return connection.type === 'google' ? { ...stored, client: googleClientForSync(ctx.config) } : stored;
}

/** The busy time a source shows now, for a provider in `timeZone`. Throws CalendarSourceError and the like. */
export async function fetchBusyNow(
  ctx: AppContext,
  provider: CalendarProvider<unknown>,
  config: unknown,
  timeZone: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Interval[]> {
  const now = ctx.clock.now();
  return provider.fetchBusy(config, { timeZone, horizon: { start: now - HORIZON_PAST_MS, end: now + HORIZON_FUTURE_MS } }, {
    allowPrivateAddresses: ctx.config.calendarAllowPrivateUrls,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

export type SyncOutcome = { busy: Interval[] } | { failure: string };

/**
 * Writes a sync's outcome inside the caller's transaction; false when the
 * connection was deleted meanwhile (nothing is written then).
 */
export async function applyOutcome(tx: Transaction, connectionId: string, outcome: SyncOutcome): Promise<boolean> {
  // The row lock orders concurrent syncs of one connection and a DELETE racing them.
  const current = await findConnection(tx, null, connectionId, { forUpdate: true });
  if (!current) return false;
  if ('failure' in outcome) {
    await recordSyncFailure(tx, connectionId, outcome.failure);
    return true;
  }
  const digest = busyDigest(outcome.busy);
  if (digest !== current.busyDigest) {
    await replaceBusy(tx, connectionId, current.providerId, outcome.busy);
    await bumpAvailabilityVersion(tx, current.providerId);
  }
  await recordSyncSuccess(tx, connectionId, digest);
  return true;
}

// One sync per connection at a time in this process: a "sync now" during a background sync joins it.
const inFlight = new Map<string, Promise<CalendarConnectionRecord | null>>();

/** Refreshes one connection now; null when it no longer exists. Source failures are recorded, not thrown. */
export function syncConnection(
  ctx: AppContext,
  connectionId: string,
  options: { signal?: AbortSignal; onError?: ErrorSink; fresh?: boolean } = {},
): Promise<CalendarConnectionRecord | null> {
  const running = inFlight.get(connectionId);
  // A sync already running answers for this one, unless the caller needs a read that starts after now (fresh).
  if (running && !options.fresh) return running;
  const run = (async () => {
    if (running) await running.catch(() => {});
    const connection = await findConnection(ctx.db, null, connectionId);
    if (!connection) return null;
    // A Google calendar waiting for its provider's consent has nothing to read yet (src/features/calendars/google-oauth.ts).
    if (connection.type === 'google' && connection.status === 'pending') return connection;
    const provider = calendarProviderFor(connection.type);
    let outcome: SyncOutcome;
    try {
      if (!provider) throw new CalendarSourceError(`${connection.type} calendars are not supported by this server yet`, 'invalid');
      const owner = await requireProvider(ctx.db, connection.providerId);
      const timeZone = await providerTimeZone(ctx.db, owner);
      const config = openConfig(ctx, connection);
      outcome = { busy: await fetchBusyNow(ctx, provider, config, timeZone, { timeoutMs: SYNC_TIMEOUT_MS, ...(options.signal ? { signal: options.signal } : {}) }) };
    } catch (error) {
      if (options.signal?.aborted) return connection; // shutting down: record nothing
      if (!(error instanceof CalendarSourceError)) options.onError?.(error);
      outcome = { failure: failureReason(error) };
    }
    if (!(await ctx.db.transaction((tx) => applyOutcome(tx, connectionId, outcome)))) return null;
    return findConnection(ctx.db, null, connectionId);
  })();
  inFlight.set(connectionId, run);
  return run.finally(() => inFlight.delete(connectionId));
}

/** One background round: claims the connections due (shared fairly between processes) and syncs them, a few at a time. */
export async function syncDueCalendars(
  ctx: AppContext,
  options: { signal?: AbortSignal; onError?: ErrorSink } = {},
): Promise<number> {
  const ids = await claimDueConnections(ctx.db, ctx.config.calendarSyncSeconds, BATCH);
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !options.signal?.aborted) {
      const id = ids[next++]!;
      try {
        await syncConnection(ctx, id, options);
      } catch (error) {
        options.onError?.(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return ids.length;
}

/**
 * Every CALENDAR_SYNC_SECONDS (checked at least every 30 s) each connection is
 * refreshed. Stopping the jobs aborts fetches in flight and waits for the
 * round, before the database closes.
 */
export function calendarSyncJob(ctx: AppContext): Job {
  return {
    name: 'calendar-sync',
    everyMs: Math.min(ctx.config.calendarSyncSeconds, 30) * 1000,
    run: async (signal, report) => { await syncDueCalendars(ctx, { signal, onError: report }); },
  };
}

/**
 * Fail fast at start: stored calendars need ENCRYPTION_KEY, and the right one.
 * Without this a missing or changed key would only show later, as every
 * calendar turning to "error".
 */
export async function checkCalendarKey(db: Database, key: Buffer | null): Promise<void> {
  const sample = await anyConnection(db);
  if (!sample) return;
  if (!key) throw new ConfigError('ENCRYPTION_KEY', 'is required: connected calendars are stored encrypted with it');
  try {
    openSecret(key, sample.configCiphertext, sample.id);
  } catch {
    throw new ConfigError('ENCRYPTION_KEY', 'does not open the stored calendar settings: it is not the key they were saved with');
  }
}
