/**
 * The slot cache shared through Redis by two app instances on one database
 * (the same Database object: embedded by default, PostgreSQL under
 * TEST_DATABASE_URL). Needs TEST_REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server.js';
import { client, createUser, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { localInstant } from '../http/booking-helpers.js';

const REDIS_URL = process.env.TEST_REDIS_URL;

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe.skipIf(!REDIS_URL)('slot cache shared through Redis', () => {
  let a: TestServer;
  let bServer: RunningServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer({ REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: `test:${randomBytes(4).toString('hex')}:` });
    bServer = await createServer(a.config, { db: a.db, logger: false });
    b = { ...a, ...bServer, close: () => bServer.close() };
  });
  afterAll(async () => {
    await bServer?.close();
    await a?.close();
  });

  const lookups = async (server: TestServer) => {
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    return (level: string, result: string) => sample(text, `slot_cache_lookups_total{level="${level}",result="${result}"}`);
  };

  it('an answer computed by one instance is served by the other from Redis; a change through either is seen by both', async () => {
    const provider = await providerWithHours(a);
    const customer = await createUser(a, 'client');
    const viaA = customer.call;
    const viaB = client(b, customer.apiKey);
    const day = upcomingDate(2);
    const url = `/v1/slots?providerId=${provider.id}&from=${day}&to=${day}`;

    const first = await viaA('GET', url);
    expect(first.statusCode).toBe(200);
    const before = await lookups(b);
    let fromB = await viaB('GET', url);
    for (let i = 0; i < 20 && (await lookups(b))('redis', 'hit') === before('redis', 'hit'); i++) {
      await new Promise((r) => setTimeout(r, 50)); // the write to Redis is not awaited by A
      fromB = await viaB('GET', url);
    }
    expect((await lookups(b))('redis', 'hit')).toBe(before('redis', 'hit') + 1);
    expect(fromB.body).toBe(first.body);
    expect(fromB.headers.etag).toBe(first.headers.etag);

    const hold = await viaB('POST', '/v1/bookings', { providerId: provider.id, start: localInstant(day, '10:00'), duration: 60 });
    expect(hold.statusCode, hold.body).toBe(201);
    for (const call of [viaA, viaB]) {
      const slots = (await call('GET', url)).json().slots as { start: string }[];
      expect(slots).toHaveLength(first.json().slots.length - 4); // 15-minute slots 10:00 .. 10:45 are gone
      expect(slots.map((s) => s.start)).not.toContain(localInstant(day, '10:00'));
    }
  });
});
