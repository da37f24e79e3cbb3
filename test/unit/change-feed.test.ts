import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.js';
import { EventFeed, type AvailabilityChange } from '../../src/platform/change-feed/change-feed.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The feed over a real database; rows are written directly to play out commit orders. */
describe('EventFeed', () => {
  let server: TestServer;
  let feed: EventFeed;
  let n = 0;
  const insert = (providerId: string, version: number, agoMs = 0) =>
    server.db.query(
      `INSERT INTO events (id, type, provider_id, data, created_at)
       VALUES ($1, 'availability.changed', $2::text, jsonb_build_object('providerId', $2::text, 'version', $3::int), now() - make_interval(secs => $4::double precision / 1000))`,
      [`evt_feedtest_${++n}_${Math.random().toString(36).slice(2)}`, providerId, version, agoMs],
    );
  const waitFor = async (got: AvailabilityChange[], count: number, ms = 2_000) => {
    const deadline = Date.now() + ms;
    while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    server = await startTestServer();
    await insert('prov_before', 1); // before the feed starts: never dispatched
    feed = new EventFeed(server.db, { pollMs: 50, lookbackMs: 5_000 });
    await feed.start();
  });
  afterAll(async () => {
    await feed?.stop();
    await server?.close();
  });

  it('dispatches later changes once each, only to subscribers of that provider', async () => {
    const a: AvailabilityChange[] = [];
    const b: AvailabilityChange[] = [];
    feed.subscribe(['prov_a', 'prov_before'], (c) => a.push(c));
    feed.subscribe(['prov_b'], (c) => b.push(c));
    await insert('prov_a', 2);
    await insert('prov_b', 3);
    await waitFor(a, 1);
    await waitFor(b, 1);
    await new Promise((r) => setTimeout(r, 300)); // several more polls re-read the window
    expect(a).toEqual([{ providerId: 'prov_a', version: 2 }]);
    expect(b).toEqual([{ providerId: 'prov_b', version: 3 }]);
  });

  it('a row that commits after newer ones were read, with an older created_at, still arrives', async () => {
    const got: AvailabilityChange[] = [];
    feed.subscribe(['prov_late'], (c) => got.push(c));
    await insert('prov_late', 1);
    await waitFor(got, 1);
    await new Promise((r) => setTimeout(r, 150));
    // A transaction that started 2 s ago commits only now: its created_at is behind the rows seen.
    await insert('prov_late', 2, 2_000);
    await waitFor(got, 2);
    expect(got).toEqual([{ providerId: 'prov_late', version: 1 }, { providerId: 'prov_late', version: 2 }]);
  });

  it('unsubscribe stops delivery', async () => {
    const got: AvailabilityChange[] = [];
    const off = feed.subscribe(['prov_off'], (c) => got.push(c));
    off();
    await insert('prov_off', 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
  });

  it('pages through more rows than one batch', async () => {
    const small = new EventFeed(server.db, { pollMs: 50, batch: 3 });
    await small.start();
    try {
      const got: AvailabilityChange[] = [];
      small.subscribe(['prov_many'], (c) => got.push(c));
      for (let v = 1; v <= 10; v++) await insert('prov_many', v);
      await waitFor(got, 10);
      expect(got.map((c) => c.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await small.stop();
    }
  });

  it('replayOnStart hands the recent window to onChange (a new leader or a fallback re-reads it)', async () => {
    await insert('prov_replay', 7, 1_000);
    const replayed: AvailabilityChange[] = [];
    const replaying = new EventFeed(server.db, { pollMs: 50, replayOnStart: true, onChange: (c) => replayed.push(c) });
    const plain: AvailabilityChange[] = [];
    const quiet = new EventFeed(server.db, { pollMs: 50, onChange: (c) => plain.push(c) });
    await Promise.all([replaying.start(), quiet.start()]);
    try {
      expect(replayed).toContainEqual({ providerId: 'prov_replay', version: 7 });
      expect(plain).toEqual([]);
      await insert('prov_replay', 8);
      await waitFor(plain, 1);
      expect(plain).toEqual([{ providerId: 'prov_replay', version: 8 }]); // onChange sees every change, subscribed or not
    } finally {
      await Promise.all([replaying.stop(), quiet.stop()]);
    }
  });

  // The embedded database only: on PostgreSQL the mark is the cluster's oldest running transaction, and the
  // suite's other files, sharing the cluster, keep transactions open (seen in CI: 32 rows read again).
  it.skipIf(!!process.env.TEST_DATABASE_URL)('a poll reads again only what was in flight at the last one: settled changes are not read again', async () => {
    // Counts the event rows each of its queries returns (the settled mark comes as a row without an event).
    const read: number[] = [];
    const counting: Queryable = {
      query: async (sql, params) => {
        const result = await server.db.query(sql, params);
        if (sql.includes('settled_below')) read.push((result.rows as { id: string | null }[]).filter((r) => r.id !== null).length);
        return result as never;
      },
      exec: (sql) => server.db.exec(sql),
    };
    const tailing = new EventFeed(counting, { pollMs: 50 });
    await tailing.start();
    try {
      const got: AvailabilityChange[] = [];
      tailing.subscribe(['prov_settled'], (c) => got.push(c));
      for (let v = 1; v <= 30; v++) await insert('prov_settled', v);
      await waitFor(got, 30);
      expect(got).toHaveLength(30);
      read.length = 0;
      await new Promise((r) => setTimeout(r, 300)); // several polls, nothing new: the 30 rows are still in the 10 s window
      expect(read.length).toBeGreaterThan(2);
      expect(Math.max(...read)).toBe(0);
    } finally {
      await tailing.stop();
    }
  });

  // Two transactions at once: PostgreSQL only (the embedded database runs one at a time).
  it.skipIf(!process.env.TEST_DATABASE_URL)('a transaction that took its id before a newer one committed, and commits after polls read that one, arrives', async () => {
    const slow = new pg.Client({ connectionString: server.databaseUrl! });
    await slow.connect();
    try {
      const got: AvailabilityChange[] = [];
      feed.subscribe(['prov_inflight'], (c) => got.push(c));
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (id, type, provider_id, data) VALUES ($1, 'availability.changed', 'prov_inflight', '{"providerId": "prov_inflight", "version": 1}')`,
        [`evt_feedtest_inflight_${Math.random().toString(36).slice(2)}`],
      );
      await insert('prov_inflight', 2); // a later transaction (a higher id) commits first
      await waitFor(got, 1);
      await new Promise((r) => setTimeout(r, 300)); // polls read it, and the open one holds the mark back
      await slow.query('COMMIT');
      await waitFor(got, 2);
      expect(got).toEqual([{ providerId: 'prov_inflight', version: 2 }, { providerId: 'prov_inflight', version: 1 }]);
    } finally {
      await slow.query('ROLLBACK').catch(() => {});
      await slow.end();
    }
  });
});
