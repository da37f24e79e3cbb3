/**
 * The live stream across processes: two real server processes on one
 * PostgreSQL database; a WebSocket subscriber on process A sees a change made
 * through process B within a second (each process tails the events outbox).
 * PostgreSQL only (TEST_DATABASE_URL), like two-processes.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { PROCESS_ADMIN_KEY, startTwoServersOnOneDatabase, type ServerProcess } from '../helpers/server-processes.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';
import { createClients, createProviderWithHours, http, slotsOn, type Http } from './race.js';

const ADMIN_KEY = PROCESS_ADMIN_KEY;

describe.skipIf(!process.env.TEST_DATABASE_URL)('the live stream across two server processes', () => {
  let cluster: Awaited<ReturnType<typeof startTwoServersOnOneDatabase>> | null = null;
  let servers: ServerProcess[] = [];
  const streams: StreamClient[] = [];
  let callers: Http[] = [];
  const sql = { query: <T>(text: string, params: unknown[]) => cluster!.sql.query<T>(text, params) };

  beforeAll(async () => {
    cluster = await startTwoServersOnOneDatabase();
    servers = cluster.servers;
    callers = servers.map((s) => http(s.baseUrl, ADMIN_KEY));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await cluster?.stop();
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
