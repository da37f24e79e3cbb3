import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable, TransactionWatcher } from '../../src/db/database.js';
import { EventFeed, type AvailabilityChange } from '../../src/platform/change-feed/change-feed.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What the version map relies on: the watchers' timing, and deliveredThrough's meaning. */
describe('transaction watchers and the feed\'s delivery mark', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  const watch = (db: Database) => {
    const heard: string[] = [];
    const watcher: TransactionWatcher = {
      touching: (topic, key) => heard.push(`touching ${topic} ${key}`),
      settled: (topic, key, committed) => heard.push(`settled ${topic} ${key} ${committed ? 'commit' : 'rollback'}`),
    };
    return { heard, stop: db.watchTransactions(watcher) };
  };

  it('hears a touched key once while the transaction is open, and its settling before transaction() returns', async () => {
    const { heard, stop } = watch(server.db);
    try {
      await server.db.transaction(async (tx) => {
        tx.touches('t', 'k');
        tx.touches('t', 'k');
        expect(heard).toEqual(['touching t k']);
        await tx.query('SELECT 1');
      });
      expect(heard).toEqual(['touching t k', 'settled t k commit']);
    } finally {
      stop();
    }
  });

  it('a rollback settles too', async () => {
    const { heard, stop } = watch(server.db);
    try {
      await expect(server.db.transaction(async (tx) => {
        tx.touches('t', 'k');
        throw new Error('no');
      })).rejects.toThrow('no');
      expect(heard).toEqual(['touching t k', 'settled t k rollback']);
    } finally {
      stop();
    }
  });

  it('deliveredThrough: the start of the last complete poll, which delivered every change committed before it', async () => {
    const feed = new EventFeed(server.db, { pollMs: 30 });
    const got: AvailabilityChange[] = [];
    feed.watchAll({ change: (c) => got.push(c), reset: () => {} });
    await feed.start();
    try {
      expect(feed.deliveredThrough()).toBe(0); // start()'s poll only marks the window seen
      await server.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO events (id, type, provider_id, data) VALUES ('evt_fresh_1', 'availability.changed', 'prov_x', '{"providerId":"prov_x","version":7}')`);
      });
      const committedAt = Date.now();
      while (feed.deliveredThrough() < committedAt) await new Promise((r) => setTimeout(r, 10));
      expect(got).toContainEqual({ providerId: 'prov_x', version: 7 });
    } finally {
      await feed.stop();
    }
  });

  it('deliveredThrough stops moving while polls fail', async () => {
    let failing = false;
    const flaky: Queryable = {
      query: (sql, params) => (failing ? Promise.reject(new Error('down')) : server.db.query(sql, params)),
      exec: (sql) => server.db.exec(sql),
    };
    const feed = new EventFeed(flaky, { pollMs: 20, onError: () => {} });
    await feed.start();
    try {
      while (feed.deliveredThrough() === 0) await new Promise((r) => setTimeout(r, 10));
      failing = true;
      await new Promise((r) => setTimeout(r, 60));
      const stalled = feed.deliveredThrough();
      await new Promise((r) => setTimeout(r, 200));
      expect(feed.deliveredThrough()).toBe(stalled);
      failing = false;
      await new Promise((r) => setTimeout(r, 200));
      expect(feed.deliveredThrough()).toBeGreaterThan(stalled);
    } finally {
      await feed.stop();
    }
  });

  it('wake() polls at once instead of at the next interval', async () => {
    const feed = new EventFeed(server.db, { pollMs: 60_000 });
    const got: AvailabilityChange[] = [];
    feed.watchAll({ change: (c) => got.push(c), reset: () => {} });
    await feed.start();
    try {
      await server.db.query(`INSERT INTO events (id, type, provider_id, data) VALUES ('evt_wake_1', 'availability.changed', 'prov_w', '{"providerId":"prov_w","version":1}')`);
      feed.wake();
      const deadline = Date.now() + 2_000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual([{ providerId: 'prov_w', version: 1 }]);
    } finally {
      await feed.stop();
    }
  });
});
