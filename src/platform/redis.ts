import { Redis, type RedisOptions } from 'ioredis';

/**
 * One place that opens Redis connections (REDIS_URL), tuned so that Redis is
 * an accelerator and never a single point of failure:
 *
 * - no offline queue and one retry per command, with a 500 ms command
 *   timeout: while Redis is unreachable a command fails at once (or within the
 *   timeout) and the caller falls back (database, in-memory limits, the local
 *   outbox tail); a request never waits for a reconnect;
 * - reconnects forever, backing off 200 ms, 400 ms... up to 2 s;
 * - connects at start but does not wait for it: the server starts degraded
 *   when Redis is down and recovers when it comes back.
 *
 *   const redis = openRedis('redis://127.0.0.1:6379', { onStateChange: (up) => log(up) });
 *   if (redis.usable()) await redis.client.get('k'); // else skip Redis
 *   await redis.close();
 */
export interface RedisConnection {
  /** The command connection. */
  readonly client: Redis;
  /** Ready right now: callers skip Redis (and take their fallback) otherwise, without a round trip. */
  usable(): boolean;
  /** PING answered within the timeout (for /ready). */
  ping(timeoutMs: number): Promise<boolean>;
  /** Another connection with the same settings, for SUBSCRIBE (a subscribed connection runs nothing else); closed with this one. */
  duplicate(): Redis;
  /** Resolves once the command connection is ready, or after `ms` (false then). */
  whenReady(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

export const REDIS_COMMAND_TIMEOUT_MS = 500;
const MAX_BACKOFF_MS = 2_000;

export function redisOptions(): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    // Never give up (null would): back off 200 ms, 400 ms, ... 2 s between attempts.
    retryStrategy: (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), MAX_BACKOFF_MS),
    // Subscriptions are renewed by their owner on 'ready' (see redis-change-feed.ts), which also learns of the gap.
    autoResubscribe: false,
  };
}

export function openRedis(
  url: string,
  options: { onStateChange?: (up: boolean, error?: unknown) => void } = {},
): RedisConnection {
  const client = new Redis(url, redisOptions());
  const extra = new Set<Redis>();
  let up = false;
  let lastError: unknown;
  // ioredis emits 'error' on every failed attempt: report only the transitions.
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  client.on('ready', () => {
    if (!up) options.onStateChange?.(true);
    up = true;
  });
  client.on('close', () => {
    if (up) options.onStateChange?.(false, lastError);
    up = false;
  });
  // Connecting starts now; a refused first attempt is retried by the retryStrategy like any other.
  client.connect().catch(() => {});

  const silence = (connection: Redis) => connection.on('error', () => {});
  return {
    client,
    usable: () => client.status === 'ready',
    async ping(timeoutMs) {
      if (client.status !== 'ready') return false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([client.ping().then((reply) => reply === 'PONG', () => false), late]);
      } finally {
        clearTimeout(timer);
      }
    },
    duplicate() {
      const connection = client.duplicate();
      silence(connection);
      extra.add(connection);
      connection.connect().catch(() => {});
      return connection;
    },
    whenReady(ms) {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ready: boolean) => {
          clearTimeout(timer);
          client.off('ready', onReady);
          resolve(ready);
        };
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), ms);
        client.on('ready', onReady);
      });
    },
    async close() {
      await Promise.all([client, ...extra].map(closeConnection));
    },
  };
}

/** QUIT when connected (pending replies arrive first), then drop the socket and stop reconnecting; each step bounded. */
async function closeConnection(connection: Redis): Promise<void> {
  const within = (promise: Promise<unknown>) => Promise.race([promise, new Promise((r) => setTimeout(r, 1_000).unref())]);
  const ended = connection.status === 'end' ? Promise.resolve() : new Promise((resolve) => connection.once('end', resolve));
  if (connection.status === 'ready') await within(connection.quit().catch(() => {}));
  connection.disconnect(false);
  await within(ended);
}
