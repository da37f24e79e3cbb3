/**
 * RedisChangeFeed against an in-memory stand-in for Redis (lease, pub/sub,
 * outage) and a real embedded database: one leader, changes reach every
 * feed once, a lost PUBLISH or a dead Redis is covered by the local tail.
 */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvailabilityChange } from '../../src/platform/change-feed/change-feed.js';
import { RedisChangeFeed } from '../../src/platform/change-feed/redis-change-feed.js';
import type { RedisConnection } from '../../src/platform/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** One fake Redis server: keys with expiry, channels, and a switch to take it down. */
class FakeRedis {
  up = true;
  failChangePublishes = 0;
  private readonly keys = new Map<string, { value: string; until: number }>();
  private readonly subscribers = new Set<EventEmitter & { channels: Set<string> }>();

  private get(key: string) {
    const found = this.keys.get(key);
    return found && found.until > Date.now() ? found.value : null;
  }

  connection(): RedisConnection {
    const down = () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    const client = {
      set: async (key: string, value: string, _px: string, ms: number, _nx: string) => {
        if (!this.up) return down();
        if (this.get(key) !== null) return null;
        this.keys.set(key, { value, until: Date.now() + ms });
        return 'OK';
      },
      eval: async (script: string, _n: number, key: string, token: string, ms?: string) => {
        if (!this.up) return down();
        if (this.get(key) !== token) return 0;
        if (script.includes('PEXPIRE')) this.keys.set(key, { value: token, until: Date.now() + Number(ms) });
        else this.keys.delete(key);
        return 1;
      },
      publish: async (channel: string, message: string) => {
        if (!this.up) return down();
        if (!message.includes('heartbeat') && this.failChangePublishes > 0) {
          this.failChangePublishes--;
          return down();
        }
        for (const s of this.subscribers) if (s.channels.has(channel)) setImmediate(() => s.emit('message', channel, message));
        return 1;
      },
    };
    return {
      client,
      usable: () => this.up,
      ping: async () => this.up,
      whenReady: async () => this.up,
      close: async () => {},
      duplicate: () => {
        const subscriber = Object.assign(new EventEmitter(), {
          channels: new Set<string>(),
          subscribe: async (channel: string) => void subscriber.channels.add(channel),
          disconnect: () => this.subscribers.delete(subscriber),
        });
        this.subscribers.add(subscriber);
        setImmediate(() => this.up && subscriber.emit('ready'));
        return subscriber;
      },
    } as unknown as RedisConnection;
  }

  /** Redis dies: every subscription drops. */
  crash(): void {
    this.up = false;
    this.keys.clear();
    for (const s of this.subscribers) {
      s.channels.clear();
      s.emit('close');
    }
  }

  revive(): void {
    this.up = true;
    for (const s of this.subscribers) s.emit('ready');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RedisChangeFeed (fake Redis)', () => {
  let server: TestServer;
  const redis = new FakeRedis();
  const feeds: RedisChangeFeed[] = [];
  let n = 0;
  const change = (providerId: string, version: number) =>
    server.db.query(
      `INSERT INTO events (id, type, provider_id, data) VALUES ($1, 'availability.changed', $2::text, jsonb_build_object('providerId', $2::text, 'version', $3::int))`,
      [`evt_rcf_${++n}_${Math.random().toString(36).slice(2)}`, providerId, version],
    );
  const heard = (feed: RedisChangeFeed, providerId: string) => {
    const got: AvailabilityChange[] = [];
    feed.subscribe([providerId], (c) => got.push(c));
    return got;
  };
  const until = async (what: string, check: () => boolean, ms = 3_000) => {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
      await sleep(20);
    }
    return Date.now() - started;
  };

  beforeAll(async () => {
    server = await startTestServer();
    for (let i = 0; i < 2; i++) {
      const feed = new RedisChangeFeed(server.db, redis.connection(), { pollMs: 50, heartbeatMs: 100, heartbeatTimeoutMs: 400, renewMs: 200, leaseMs: 600, recoveryGraceMs: 200 });
      await feed.start();
      feeds.push(feed);
    }
  });
  afterAll(async () => {
    await Promise.all(feeds.map((f) => f.stop()));
    await server?.close();
  });

  it('elects one leader; both feeds get each change once, through pub/sub', async () => {
    await until('both hear the leader', () => feeds.every((f) => !f.usingFallback));
    expect(feeds.filter((f) => f.isLeader)).toHaveLength(1);
    const got = feeds.map((f) => heard(f, 'prov_1'));
    await change('prov_1', 1);
    await change('prov_1', 2);
    await until('both got version 2', () => got.every((g) => g.length === 2));
    await sleep(300);
    for (const g of got) expect(g.map((c) => c.version)).toEqual([1, 2]);
  });

  it('a change whose PUBLISH failed still arrives: the leader goes quiet and the others replay the outbox', async () => {
    const got = feeds.map((f) => heard(f, 'prov_2'));
    redis.failChangePublishes = 1;
    await change('prov_2', 5);
    await until('both got it', () => got.every((g) => g.length === 1), 5_000);
    for (const g of got) expect(g).toEqual([{ providerId: 'prov_2', version: 5 }]);
  });

  it('with Redis down every feed tails the outbox itself; with Redis back one leads again', async () => {
    const got = feeds.map((f) => heard(f, 'prov_3'));
    redis.crash();
    await until('both fall back', () => feeds.every((f) => f.usingFallback && !f.isLeader));
    await change('prov_3', 1);
    await until('both got it', () => got.every((g) => g.length === 1));
    redis.revive();
    await until('the Redis path is back', () => feeds.every((f) => !f.usingFallback) && feeds.filter((f) => f.isLeader).length === 1, 5_000);
    await change('prov_3', 2);
    await until('both got it', () => got.every((g) => g.length === 2));
    await sleep(300);
    for (const g of got) expect(g.map((c) => c.version)).toEqual([1, 2]);
  });

  it('the leader\'s death hands the lease over (a stopped leader releases it at once)', async () => {
    const leader = feeds.find((f) => f.isLeader)!;
    const other = feeds.find((f) => f !== leader)!;
    const got = heard(other, 'prov_4');
    await leader.stop();
    await until('the other leads', () => other.isLeader, 2_000);
    await change('prov_4', 1);
    await until('it got it', () => got.length === 1);
  });
});
