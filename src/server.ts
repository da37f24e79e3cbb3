import type { FastifyInstance } from 'fastify';
import { createAppMetrics } from './app/app-metrics.js';
import { bootstrapAdmin } from './app/auth.js';
import { EventFeed } from './app/change-feed.js';
import { checkCalendarKey, startCalendarSync } from './app/calendar-sync.js';
import { systemClock, type AppContext, type Clock } from './app/context.js';
import { startExpirySweeper } from './app/expiry-sweeper.js';
import { startWebhookWorker } from './app/webhook-worker.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { openDatabase } from './db/open.js';
import { buildApp } from './http/app.js';

export interface RunningServer {
  app: FastifyInstance;
  ctx: AppContext;
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
  const metrics = createAppMetrics(db.poolStats ? { poolStats: () => db.poolStats!() } : {});
  const ctx: AppContext = { db, config, clock: options.clock ?? systemClock, adminUserId, metrics };
  // The live stream's source: this process tails the events outbox (see src/app/change-feed.ts).
  let app: FastifyInstance | null = null;
  const changeFeed = new EventFeed(db, { onError: (error) => app?.log.error({ err: error }, 'change feed poll failed') });
  await changeFeed.start();
  try {
    app = await buildApp(ctx, { logger, changeFeed });
  } catch (error) {
    await changeFeed.stop();
    throw error;
  }
  for (const secret of generatedAdminKeys) {
    app.log.warn(
      { adminApiKey: secret },
      `No administrator key was configured, so one was created. It is shown only now; store it: ${secret}`,
    );
  }
  const stopSweeper = startExpirySweeper(
    db,
    config.expirySweepSeconds,
    (error) => app.log.error({ err: error }, 'expiry sweep failed'),
    (expiredHolds) => metrics.holdsExpired.inc(expiredHolds),
  );
  const stopCalendarSync = startCalendarSync(ctx, (error) => app.log.error({ err: error }, 'calendar sync failed'));
  const stopWebhooks = startWebhookWorker(ctx, config.webhookPollMs, (error) => app.log.error({ err: error }, 'webhook delivery failed'));
  return {
    app,
    ctx,
    async close() {
      stopSweeper();
      await stopCalendarSync();
      await stopWebhooks();
      await app.close(); // closes the stream's sockets first (their subscriptions go with them)
      await changeFeed.stop();
      if (!options.db) await db.close();
    },
  };
}
