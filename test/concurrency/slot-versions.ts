/**
 * Two server processes on one PostgreSQL database: process B answers slot
 * requests from the availability versions it knows in memory
 * (src/features/slots/provider-versions.ts), so these tests check what that
 * must never cost: B reflects a change made through A within FEED_TRUST_MS
 * (the measured delays are printed), and while B's change feed is stalled B
 * asks the database instead of its memory. Run without Redis
 * (slot-versions-two-processes.test.ts: each process polls the outbox, woken by
 * NOTIFY) and with it (test/redis/slot-versions-processes.test.ts: one leader
 * tails the outbox and publishes; the others trust its heartbeat).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_TRUST_MS } from '../../src/features/slots/provider-versions.js';
import { upcomingDate } from '../helpers/api.js';
import { PROCESS_ADMIN_KEY, startTwoServersOnOneDatabase } from '../helpers/server-processes.js';
import { createParty, createProviderWithHours, http, slotsOn, type Http, type Party } from './race.js';

// STALENESS_SAMPLES=<n> for a longer measurement (the figures quoted in the README came from 100).
const SAMPLES = Number(process.env.STALENESS_SAMPLES ?? 20);
/** A read of B's slots takes a few ms; a delay is counted from A's answer to the first read of B that reflects it. */
const READ_SLACK_MS = 250;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

export function describeSlotVersionsAcrossProcesses(title: string, enabled: boolean, env: () => Record<string, string>): void {
  describe.skipIf(!enabled)(title, () => {
    let cluster: Awaited<ReturnType<typeof startTwoServersOnOneDatabase>> | null = null;
    let a: Http;
    let b: Http;
    let provider: Party;
    let client: Party;
    const date = upcomingDate(1);

    /** slot_version_lookups_total of process B, by source. */
    async function lookupsOfB(): Promise<{ memory: number; database: number }> {
      const text = await (await fetch(`${cluster!.servers[1]!.baseUrl}/metrics`)).text();
      const of = (source: string) => Number(new RegExp(`^slot_version_lookups_total\\{source="${source}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      return { memory: of('memory'), database: of('database') };
    }

    beforeAll(async () => {
      // Rate limits off: B is read in tight (bounded) loops.
      cluster = await startTwoServersOnOneDatabase({ RATE_LIMIT_PER_MINUTE: '0', ...env() });
      const [serverA, serverB] = cluster.servers;
      const admin = http(serverA!.baseUrl, PROCESS_ADMIN_KEY);
      provider = await createProviderWithHours(admin);
      client = await createParty(admin, 'client');
      a = http(serverA!.baseUrl, client.apiKey);
      b = http(serverB!.baseUrl, client.apiKey);
    }, 90_000);

    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);

    it(`B reflects holds and cancels made through A within FEED_TRUST_MS (${FEED_TRUST_MS} ms)`, async () => {
      const start = (await slotsOn(b, provider.id, date))[0]!.start;
      const hasStart = async () => (await slotsOn(b, provider.id, date)).some((s) => s.start === start);
      const fromAnswer: number[] = [];
      const fromRequest: number[] = [];
      const before = await lookupsOfB();
      let bookingId: string | null = null;
      for (let i = 0; i < SAMPLES; i++) {
        for (let k = 0; k < 5; k++) await hasStart(); // B knows the version again
        const requested = performance.now();
        if (bookingId === null) {
          const res = await a('POST', '/v1/bookings', { providerId: provider.id, start, duration: 60 });
          expect(res.status, res.text).toBe(201);
          bookingId = res.body.id as string;
        } else {
          const res = await a('POST', `/v1/bookings/${bookingId}/cancel`, {});
          expect(res.status, res.text).toBe(200);
          bookingId = null;
        }
        const answered = performance.now();
        const expectFree = bookingId === null;
        let seen: number | null = null;
        while (performance.now() - answered < 5_000) {
          if ((await hasStart()) === expectFree) {
            seen = performance.now();
            break;
          }
        }
        expect(seen, `sample ${i}: B never reflected the change`).not.toBeNull();
        fromAnswer.push(seen! - answered);
        fromRequest.push(seen! - requested);
      }
      const after = await lookupsOfB();
      const sorted = [...fromAnswer].sort((x, y) => x - y);
      const sortedRequest = [...fromRequest].sort((x, y) => x - y);
      const summary = (s: number[]) => `p50 ${quantile(s, 0.5).toFixed(1)} ms, p99 ${quantile(s, 0.99).toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms`;
      console.log(`[staleness${env().REDIS_URL ? ', Redis' : ''}] B after A's answer: ${summary(sorted)}; after A's request: ${summary(sortedRequest)} (${SAMPLES} changes); B's version lookups memory +${after.memory - before.memory}, database +${after.database - before.database}`);
      // B did answer from memory (else this would only test the database).
      expect(after.memory - before.memory).toBeGreaterThan(SAMPLES * 3);
      expect(sorted.at(-1)!).toBeLessThan(FEED_TRUST_MS + READ_SLACK_MS);
    }, 120_000);

    it('while B\'s change feed is stalled, B asks the database: a change the feed cannot deliver is seen at once', async () => {
      // Warm: B serves this provider from memory.
      const warm = await lookupsOfB();
      for (let k = 0; k < 10; k++) await slotsOn(b, provider.id, date);
      expect((await lookupsOfB()).memory).toBeGreaterThan(warm.memory);
      // The feed's poll reads the events outbox: an exclusive lock on it stalls every poll.
      const locker = new pg.Client({ connectionString: cluster!.databaseUrl });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
        await new Promise((r) => setTimeout(r, FEED_TRUST_MS + 500));
        // A change written behind the feed's back (no events row): only the database knows it.
        await cluster!.sql.query(`UPDATE schedules SET weekly = '[]'::jsonb WHERE provider_id = $1`, [provider.id]);
        await cluster!.sql.query('UPDATE users SET availability_version = availability_version + 1 WHERE id = $1', [provider.id]);
        const before = await lookupsOfB();
        expect(await slotsOn(b, provider.id, date)).toEqual([]);
        const after = await lookupsOfB();
        expect(after.memory).toBe(before.memory);
        expect(after.database).toBeGreaterThan(before.database);
      } finally {
        await locker.query('COMMIT').catch(() => {});
        await locker.end().catch(() => {});
      }
      // Once the feed polls again, memory is trusted again (holding the version the database gave).
      const deadline = Date.now() + 5_000;
      let resumed = false;
      while (!resumed && Date.now() < deadline) {
        const before = await lookupsOfB();
        expect(await slotsOn(b, provider.id, date)).toEqual([]);
        resumed = (await lookupsOfB()).memory > before.memory;
        if (!resumed) await new Promise((r) => setTimeout(r, 50));
      }
      expect(resumed).toBe(true);
    }, 60_000);
  });
}
