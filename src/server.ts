import type { FastifyInstance } from 'fastify';
import { createAppMetrics } from './platform/metrics/app-metrics.js';
import { bootstrapAdmin } from './features/identity/auth.js';
import { EventFeed, type ChangeFeed } from './platform/change-feed/change-feed.js';
import { RedisChangeFeed, registerFeedGauges } from './platform/change-feed/redis-change-feed.js';
import { RedisRateLimitStore } from './platform/rate-limit/redis-rate-limit.js';
import { startJobs } from './platform/jobs/jobs.js';
import { SlotCache } from './features/slots/slot-cache.js';
import { followProviderVersions } from './features/slots/provider-versions.js';
import { DatabaseClock } from './platform/database-clock.js';
import { AVAILABILITY_TOPIC } from './db/users-repo.js';
import { KeyCache } from './features/identity/key-cache.js';
import { calendarSyncJob, checkCalendarKey } from './features/calendars/calendar-sync.js';
import { systemClock, type AppContext, type Clock } from './features/context.js';
import { expirySweepJob } from './features/bookings/expiry-sweeper.js';
import { WEBHOOK_JOB, webhookJob } from './features/webhooks/webhook-worker.js';
import { calendarWriteJob } from './features/calendars/calendar-write-worker.js';
import { mailJob } from './features/notifications/mail-worker.js';
import { createBookingNotifier } from './features/notifications/outbox.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { openDatabase } from './db/open.js';
import { openObjectStore } from './features/identity/avatar-store.js';
import { buildApp } from './http/app.js';
import { rateLimitPolicyOf } from './http/rate-limit.js';

/** The NOTIFY channel that wakes every process's change feed. */
const FEED_CHANNEL = 'booking_availability_changed';

export interface RunningServer {
  app: FastifyInstance;
  ctx: AppContext;
  /** Where GET /v1/stream learns of changes (RedisChangeFeed with REDIS_URL). */
  changeFeed: ChangeFeed;
  close(): Promise<void>;
}

/** Wires config -> database -> app. Tests call this with their own database and clock. */
export async function createServer(
  config: Config,
  options: { db?: Database; clock?: Clock; logger?: boolean | { level: string } } = {},
): Promise<RunningServer> {
  const db = options.db ?? (await openDatabase(config));
  // Connected calendars are stored encrypted: without ENCRYPTION_KEY (or with another one) refuse to start.
  await checkCalendarKey(db, config.encryptionKey).catch(async (error: unknown) => {
    if (!options.db) await db.close();
    throw error;
  });
  const logger = options.logger ?? { level: config.logLevel };
  // The logger exists only once the app does; hold a generated admin key until then.
  const generatedAdminKeys: string[] = [];
  const adminUserId = await bootstrapAdmin(db, config.adminApiKey, (secret) => generatedAdminKeys.push(secret));
  let app: FastifyInstance | null = null;
  // REDIS_URL makes processes share the slot cache, the stream and rate limits; Redis being down only degrades them.
  // ioredis and nodemailer are imported only when configured: most embedded servers use neither.
  const redis = config.redisUrl
    ? (await import('./platform/redis.js')).openRedis(config.redisUrl, { onStateChange: (up) => (up ? app?.log.info('Redis is up') : app?.log.warn('Redis is down: falling back')) })
    : null;
  await redis?.whenReady(1_000);
  const metrics = createAppMetrics({
    ...(db.poolStats ? { poolStats: () => db.poolStats!() } : {}),
    ...(redis ? { redisUp: () => redis.usable() } : {}),
  });
  const fellBack = (component: string) => () => metrics.redisFallbacks.labels(component).inc();
  const prefix = config.redisKeyPrefix;
  const slotCache = new SlotCache({ redis, redisPrefix: prefix, lookups: metrics.slotCacheLookups, onRedisBypass: fellBack('slot_cache') });
  const clock = options.clock ?? systemClock;
  // Without SMTP_URL no mail is queued (no notifier) and none is sent (no mailer).
  const mail = config.mail
    ? {
      notifier: createBookingNotifier({ reminderMinutes: config.mail.reminderMinutes, clock }),
      mailer: (await import('./integrations/mail/smtp-mailer.js')).smtpMailer(config.mail),
    }
    : {};
  const objectStore = await openObjectStore(db, config);
  const ctx: AppContext = { db, config, clock, adminUserId, metrics, slotCache, keyCache: new KeyCache(), redis, objectStore, ...mail };
  // The live stream's source: this process tails the events outbox, or with Redis one leader does for all.
  const onFeedError = (error: unknown) => app?.log.error({ err: error }, 'change feed failed');
  const redisFeed = redis ? new RedisChangeFeed(db, redis, { prefix, onError: onFeedError, onFallback: fellBack('change_feed') }) : null;
  if (redisFeed) registerFeedGauges(metrics.registry, redisFeed);
  const changeFeed: ChangeFeed & { start(): Promise<void> } = redisFeed ?? new EventFeed(db, { onError: onFeedError });
  // Slot requests answer from memory while the feed keeps up (src/features/slots/provider-versions.ts).
  // The embedded database runs on this process's clock; a server's is measured.
  const dbClock = new DatabaseClock(db.kind === 'embedded' ? null : db, { onError: (error) => app?.log.warn({ err: error }, 'database clock not measured') });
  ctx.providerVersions = followProviderVersions(db, changeFeed, dbClock);
  // On PostgreSQL a committed change NOTIFYs, and every process's feed looks at once instead of at its next poll.
  const unwatchCommits = db.notify
    ? db.watchTransactions({ touching: () => {}, settled: (topic, _key, committed) => committed && topic === AVAILABILITY_TOPIC && db.notify!(FEED_CHANNEL) })
    : () => {};
  let stopListening: () => Promise<void> = async () => {};
  const stopFollowing = async () => {
    unwatchCommits();
    ctx.providerVersions?.stop();
    dbClock.stop();
    await stopListening();
  };
  const policy = rateLimitPolicyOf(config);
  const rateLimitStore = redis && policy ? new RedisRateLimitStore(redis, policy, { prefix, onFallback: fellBack('rate_limit') }) : null;
  try {
    await changeFeed.start();
    await dbClock.start();
    if (db.listen) stopListening = await db.listen(FEED_CHANNEL, () => changeFeed.wake());
    app = await buildApp(ctx, { logger, changeFeed, ...(rateLimitStore ? { rateLimitStore } : {}) });
    if (redis && !redis.usable()) app.log.warn('Redis does not answer yet: starting degraded (database, local limits, local stream tail)');
  } catch (error) {
    await stopFollowing();
    await changeFeed.stop();
    await redis?.close();
    throw error;
  }
  for (const secret of generatedAdminKeys) {
    app.log.warn(
      { adminApiKey: secret },
      `No administrator key was configured, so one was created. It is shown only now; store it: ${secret}`,
    );
  }
  // One poll loop for every background job; a finished webhook delivery nudges its job to look for the next.
  const jobs = startJobs([
    expirySweepJob(db, config.expirySweepSeconds, (expiredHolds) => metrics.holdsExpired.inc(expiredHolds)),
    calendarSyncJob(ctx),
    webhookJob(ctx, config.webhookPollMs, () => jobs.nudge(WEBHOOK_JOB)),
    calendarWriteJob(ctx),
    ...(config.mail
      ? [mailJob(ctx, (m, reason) =>
        app.log.warn({ mailId: m.id, kind: m.kind, bookingId: m.bookingId, attempts: m.attempts, reason }, 'mail failed for good'))]
      : []),
  ], { onError: (job, error) => app.log.error({ err: error, job }, `job ${job} failed`) });
  return {
    app,
    ctx,
    changeFeed,
    async close() {
      await jobs.stop(); // aborts every round and webhook delivery in flight and waits for them
      await app.close(); // closes the stream's sockets first (their subscriptions go with them)
      await stopFollowing();
      await changeFeed.stop(); // releases the stream's leader lease
      await redis?.close();
      if (!options.db) await db.close();
    },
  };
}
