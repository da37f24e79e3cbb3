import type { PoolStats } from '../../db/database.js';
import { Registry, type Counter, type Histogram } from './metrics.js';

/** What a booking request came to; every value is pre-created so rates start from 0. */
export const BOOKING_OUTCOMES = [
  'held',
  'conflict',
  'not_bookable',
  'too_many_holds',
  'too_many_bookings',
  'confirmed',
  'cancelled',
  'expired_on_confirm',
  'pending',
  'accepted',
  'declined',
  'rescheduled',
  'limit_reached',
] as const;
export type BookingOutcome = (typeof BOOKING_OUTCOMES)[number];

export const CALENDAR_WRITE_OUTCOMES = ['written', 'removed', 'retry', 'failed', 'strict_failed'] as const;
export type CalendarWriteOutcome = (typeof CALENDAR_WRITE_OUTCOMES)[number];

export const MAIL_OUTCOMES = ['sent', 'retry', 'failed', 'skipped'] as const;
export type MailOutcome = (typeof MAIL_OUTCOMES)[number];

/** Which limit refused a request: the per-user (or per-address) request rate, the cap on live holds, failed logins of an email. */
export type LimitKind = 'requests' | 'holds' | 'logins';

/** The product's series, one set per server (tests run several in one process). */
export interface AppMetrics {
  registry: Registry;
  httpRequests: Counter;
  httpDuration: Histogram;
  bookings: Counter;
  holdsExpired: Counter;
  rateLimited: Counter;
  /** Webhook delivery attempts by outcome: succeeded, retry (failed, will be retried), failed (gave up). */
  webhookDeliveries: Counter;
  /** Calendar writes (bookings out) by outcome: written, removed, retry, failed (gave up), strict_failed (a strict confirm refused). */
  calendarWrites: Counter;
  /** Slot cache lookups by level (memory, redis) and result (hit, miss). */
  slotCacheLookups: Counter;
  /** Where a slot request's availability versions came from: memory (kept by the change feed) or database. */
  versionLookups: Counter;
  /** Times Redis was skipped or failed and the fallback answered, by component (slot_cache, rate_limit, change_feed). */
  redisFallbacks: Counter;
  /** Mail attempts by outcome: sent, retry (failed, tried again later), failed (gave up), skipped (nothing to send any more). */
  mails: Counter;
  /** The mail outbox as the last worker round of this process saw it (mail_queue_due, mail_queue_oldest_age_seconds). */
  mailQueue: { due: number; oldestAgeSeconds: number };
  countBooking(outcome: BookingOutcome): void;
}

const PROCESS_STARTED_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

export function createAppMetrics(source: { poolStats?: () => PoolStats; redisUp?: () => boolean } = {}): AppMetrics {
  const registry = new Registry();
  const httpRequests = registry.counter(
    'http_requests_total',
    'HTTP requests answered, by method, route pattern (unmatched for unknown paths) and status.',
    ['method', 'route', 'status'],
  );
  const httpDuration = registry.histogram(
    'http_request_duration_seconds',
    'Time from receiving a request to sending its answer, by method and route pattern.',
    ['method', 'route'],
  );
  const bookings = registry.counter(
    'bookings_total',
    'Booking requests by outcome: holds made or refused (conflict, not_bookable, too_many_holds, too_many_bookings), confirmations, cancellations, confirmations of expired holds.',
    ['outcome'],
  );
  for (const outcome of BOOKING_OUTCOMES) bookings.labels(outcome);
  const holdsExpired = registry.counter(
    'holds_expired_total',
    'Lapsed holds written down as expired by this process (the sweeper, or a new hold taking their time).',
  );
  const rateLimited = registry.counter('rate_limited_total', 'Requests refused with 429, by the limit that refused them.', ['limit']);
  rateLimited.labels('requests');
  rateLimited.labels('holds');
  const webhookDeliveries = registry.counter(
    'webhook_deliveries_total',
    'Webhook delivery attempts by outcome: succeeded (2xx), retry (failed, tried again later), failed (the last attempt failed).',
    ['outcome'],
  );
  for (const outcome of ['succeeded', 'retry', 'failed']) webhookDeliveries.labels(outcome);
  const calendarWrites = registry.counter(
    'calendar_writes_total',
    'Bookings written to (or removed from) providers\' write calendars, by outcome: written, removed, retry (failed, tried again later), failed (gave up), strict_failed (a strict confirm refused because its write failed).',
    ['outcome'],
  );
  for (const outcome of CALENDAR_WRITE_OUTCOMES) calendarWrites.labels(outcome);

  const mails = registry.counter(
    'mails_total',
    'Notification mail attempts by outcome: sent (accepted by the SMTP server), retry (failed, tried again later), failed (gave up: a 5xx reply or the last attempt), skipped (no longer applies).',
    ['outcome'],
  );
  for (const outcome of MAIL_OUTCOMES) mails.labels(outcome);
  const mailQueue = { due: 0, oldestAgeSeconds: 0 };
  registry.gauge('mail_queue_due', 'Mails due and not yet sent, as this process\'s mail worker last counted them (0 without SMTP_URL).', [], (g) => g.set(mailQueue.due));
  registry.gauge(
    'mail_queue_oldest_age_seconds',
    'How long the oldest mail due and not yet sent has waited past its due time, as this process\'s mail worker last saw it.',
    [],
    (g) => g.set(mailQueue.oldestAgeSeconds),
  );

  const slotCacheLookups = registry.counter(
    'slot_cache_lookups_total',
    'Slot cache lookups by level (memory: this process, redis: shared) and result; a memory miss goes on to Redis when configured.',
    ['level', 'result'],
  );
  for (const level of ['memory', 'redis']) for (const result of ['hit', 'miss']) slotCacheLookups.labels(level, result);
  const versionLookups = registry.counter(
    'slot_version_lookups_total',
    'Where slot requests found their providers\' availability versions: memory (known in this process, while the change feed keeps up) or database (one small query).',
    ['source'],
  );
  for (const source of ['memory', 'database']) versionLookups.labels(source);
  const redisFallbacks = registry.counter(
    'redis_fallbacks_total',
    'Operations that skipped Redis (down or failing) and used the fallback: slot_cache (database), rate_limit (this process\'s buckets), change_feed (local outbox tail).',
    ['component'],
  );
  for (const component of ['slot_cache', 'rate_limit', 'change_feed']) redisFallbacks.labels(component);
  const redisUp = source.redisUp;
  if (redisUp) registry.gauge('redis_up', 'Whether the Redis connection (REDIS_URL) is usable: 1 up, 0 down.', [], (g) => g.set(redisUp() ? 1 : 0));

  const stats = source.poolStats;
  if (stats) {
    registry.gauge('db_pool_connections', 'Open database connections (the embedded database is one).', [], (g) => g.set(stats().total));
    registry.gauge('db_pool_idle_connections', 'Open database connections not in use.', [], (g) => g.set(stats().idle));
    registry.gauge('db_pool_waiting_clients', 'Queries or transactions waiting for a database connection.', [], (g) => g.set(stats().waiting));
  }
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [], (g) => g.set(process.memoryUsage.rss()));
  registry.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', [], (g) =>
    g.set(PROCESS_STARTED_SECONDS),
  );

  return {
    registry,
    httpRequests,
    httpDuration,
    bookings,
    holdsExpired,
    rateLimited,
    webhookDeliveries,
    calendarWrites,
    slotCacheLookups,
    versionLookups,
    redisFallbacks,
    mails,
    mailQueue,
    countBooking: (outcome) => bookings.labels(outcome).inc(),
  };
}
