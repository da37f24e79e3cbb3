import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Role } from '../db/users-repo.js';
import type { AppMetrics } from '../platform/metrics/app-metrics.js';
import type { ObjectStore } from '../platform/object-store/object-store.js';
import type { RedisConnection } from '../platform/redis.js';
import type { KeyCache } from './identity/key-cache.js';
import type { Mailer } from './notifications/mailer.js';
import type { BookingNotifier } from './notifications/outbox.js';
import type { ProviderVersions } from './slots/provider-versions.js';
import type { SlotCache } from './slots/slot-cache.js';

/** The app's only source of "now" for rules such as the minimum notice; tests pin it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AppContext {
  db: Database;
  config: Config;
  clock: Clock;
  /** The id of the administrator that ADMIN_API_KEY acts as (set at start). */
  adminUserId: string;
  /** This server's Prometheus series (GET /metrics). */
  metrics: AppMetrics;
  /** Computed slots by provider version (src/features/slots/slot-cache.ts); absent: every request computes. */
  slotCache?: SlotCache;
  /** Providers' availability versions known in this process, kept by the change feed (src/features/slots/provider-versions.ts); absent: asked of the database. */
  providerVersions?: ProviderVersions;
  /** Owners of recently used API keys, for at most KEY_CACHE_TTL_MS (src/features/identity/key-cache.ts); absent: every request looks its key up. */
  keyCache?: KeyCache;
  /** REDIS_URL's connection; absent or null without it. */
  redis?: RedisConnection | null;
  /** With SMTP_URL: queues a change's mails in its transaction (src/features/notifications/outbox.ts), and sends them. */
  notifier?: BookingNotifier;
  mailer?: Mailer;
  /** Where profile images are stored: an S3 bucket with S3_BUCKET, else DATA_DIR (or memory). */
  objectStore: ObjectStore;
}

/**
 * Who is calling: resolved from the API key once per request, or, on the few
 * routes that take one, from a guest's manage token (role 'guest': no user,
 * `userId` is `guest:<bookingId>`, and the token opens that booking only).
 */
export interface Principal {
  userId: string;
  role: Role | 'guest';
  /** null for the ADMIN_API_KEY from the environment, which is no stored key. */
  keyId: string | null;
  /** A guest's one booking. */
  bookingId?: string;
  /** Staff: the providers it manages (read with its key, once per request). */
  providerIds?: readonly string[];
}
