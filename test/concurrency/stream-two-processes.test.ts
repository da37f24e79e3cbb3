/**
 * The live stream across processes: two real server processes on one
 * PostgreSQL database; a WebSocket subscriber on process A sees a change made
 * through process B within a second (each process tails the events outbox).
 * PostgreSQL only (TEST_DATABASE_URL), like two-processes.test.ts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { createTestDatabase } from '../helpers/postgres.js';
import {
  freePort,
  PROCESS_ADMIN_KEY,
  spawnServer,
  stopServer,
  waitForHealth,
  type ServerProcess,
} from '../helpers/server-processes.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';
import { createClients, createProviderWithHours, http, slotsOn, type Http } from './race.js';

const ADMIN_KEY = PROCESS_ADMIN_KEY;

describe.skipIf(!process.env.TEST_DATABASE_URL)('the live stream across two server processes', () => {
  const servers: ServerProcess[] = [];
  const streams: StreamClient[] = [];
  let database: { url: string; drop(): Promise<void> } | null = null;
  let callers: Http[] = [];
  let client: pg.Client | null = null;
  const sql = { query: async <T>(text: string, params: unknown[]) => ({ rows: (await client!.query(text, params)).rows as T[] }) };
  const killAll = () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  };

  beforeAll(async () => {
    process.once('exit', killAll);
    const pgServer = inject('postgresTemplate');
    if (!pgServer) throw new Error('TEST_DATABASE_URL is set but no PostgreSQL template was prepared');
    database = await createTestDatabase(pgServer);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const portA = await freePort();
    let portB = await freePort();
    for (let i = 0; i < 10 && portB === portA; i++) portB = await freePort();
    servers.push(spawnServer('server A', database.url, portA));
    servers.push(spawnServer('server B', database.url, portB));
    await Promise.all(servers.map(waitForHealth));
    callers = servers.map((s) => http(s.baseUrl, ADMIN_KEY));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all(servers.map(stopServer));
    process.removeListener('exit', killAll);
    await client?.end().catch(() => {});
    await database?.drop();
  }, 60_000);

  it('a subscriber on process A sees a hold made through process B within a second', { timeout: 60_000 }, async () => {
    const provider = await createProviderWithHours(callers[0]!);
    const [customer] = await createClients(callers[0]!, 1);
    const wsBase = servers[0]!.baseUrl.replace(/^http/, 'ws');
    const stream = await openStream(`${wsBase}/v1/stream?apiKey=${encodeURIComponent(customer!.apiKey)}`);
    streams.push(stream);
    stream.send({ type: 'subscribe', providerIds: [provider.id] });
    await stream.next((m) => m.type === 'subscribed');

    const viaB = http(servers[1]!.baseUrl, customer!.apiKey);
    const slots = await slotsOn(viaB, provider.id, upcomingDate(1));
    let last = 0;
    for (const slot of [slots[0]!, slots[8]!, slots[16]!]) {
      const res = await viaB('POST', '/v1/bookings', { providerId: provider.id, start: slot.start, duration: 60 });
      expect(res.status, res.text).toBe(201);
      // The hold committed before its 201, so this is the provider's version after it. The feed may
      // also deliver the schedule edit made just before subscribing (it re-reads a recent window):
      // wait for the message that carries this hold's version.
      const { rows } = await sql.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [provider.id]);
      const expected = Number(rows[0]!.v);
      const change = await stream.next(
        (m) => m.type === 'availability.changed' && m.providerId === provider.id && m.version === expected,
        1_000,
      );
      expect(change.version).toBeGreaterThan(last);
      last = change.version;
    }
    // availability edits through B arrive too
    const edit = await callers[1]!('PUT', `/v1/providers/${provider.id}/schedule`, {
      timeZone: 'Europe/Berlin',
      weekly: [{ day: 'monday', start: '08:00', end: '18:00' }],
    });
    expect(edit.status, edit.text).toBe(200);
    await stream.next((m) => m.type === 'availability.changed' && m.providerId === provider.id, 1_000);
  });
});
