import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countBookings, idempotencyRequestHash, localInstant, plusDays } from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;

describe('Idempotency-Key', () => {
  let server: TestServer;
  let provider: User;
  let alice: User;
  let bob: User;
  const monday = upcomingDate(1);
  let slot = 0;
  /** A fresh, bookable start for each use: Mon-Fri, 09:00..16:45, 15 minutes apart. */
  const nextStart = () => {
    const n = slot++;
    const day = plusDays(monday, Math.floor(n / 32) % 5 + 7 * Math.floor(n / 160));
    const minutes = 9 * 60 + (n % 32) * 15;
    return localInstant(day, `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`);
  };

  beforeAll(async () => {
    server = await startTestServer();
    provider = await providerWithHours(server, 'Europe/Berlin');
  });
  beforeEach(async () => {
    alice = await createUser(server, 'client');
    bob = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  const post = (who: User, body: unknown, key: string, url = '/v1/bookings') =>
    who.call('POST', url, body, { 'idempotency-key': key });

  it('the same key and body replays the first answer (status, body, Idempotent-Replayed) and books once', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 15, notes: 'n' };
    const first = await post(alice, body, 'key-replay-1');
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await post(alice, body, 'key-replay-1');
    expect(second.statusCode, second.body).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers.location).toBe(`/v1/bookings/${first.json().id}`);
    const third = await post(alice, body, 'key-replay-1');
    expect(third.statusCode).toBe(201);
    expect(third.body).toBe(first.body);
    expect(await countBookings(server, 'client_id = $1', [alice.id])).toBe(1);
    const { rows } = await server.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE caller_id = $1 AND key = $2', [alice.id, 'key-replay-1'],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('without a key, the same body is a new request (409 on the same slot)', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 15 };
    expect((await alice.call('POST', '/v1/bookings', body)).statusCode).toBe(201);
    expectProblem(await alice.call('POST', '/v1/bookings', body), 409);
  });

  it('the same key with a different body is a 422, and books nothing', async () => {
    const start = nextStart();
    const first = await post(alice, { providerId: provider.id, start, duration: 15 }, 'key-diff');
    expect(first.statusCode).toBe(201);
    const other = nextStart();
    const res = await post(alice, { providerId: provider.id, start: other, duration: 15 }, 'key-diff');
    expectProblem(res, 422);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await countBookings(server, 'client_id = $1', [alice.id])).toBe(1);
    // the same key on another path is another request too
    const confirm = await post(alice, undefined, 'key-diff', `/v1/bookings/${first.json().id}/confirm`);
    expectProblem(confirm, 422);
    expect((await alice.call('GET', `/v1/bookings/${first.json().id}`)).json().status).toBe('held');
  });

  it('the same key from another user is independent', async () => {
    const a = await post(alice, { providerId: provider.id, start: nextStart(), duration: 15 }, 'shared-key');
    const b = await post(bob, { providerId: provider.id, start: nextStart(), duration: 15 }, 'shared-key');
    expect(a.statusCode, a.body).toBe(201);
    expect(b.statusCode, b.body).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(a.json().id).not.toBe(b.json().id);
    expect(b.json().clientId).toBe(bob.id);
  });

  it('a replayed 409 stays 409, even after the slot is free again', async () => {
    const start = nextStart();
    const taken = await alice.call('POST', '/v1/bookings', { providerId: provider.id, start, duration: 15 });
    expect(taken.statusCode).toBe(201);
    const body = { providerId: provider.id, start, duration: 15 };
    const first = await post(bob, body, 'key-409');
    expectProblem(first, 409);
    expect((await alice.call('POST', `/v1/bookings/${taken.json().id}/cancel`, {})).statusCode).toBe(200);
    const again = await post(bob, body, 'key-409');
    expectProblem(again, 409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(await countBookings(server, 'client_id = $1', [bob.id])).toBe(0);
    // a new key does book it
    expect((await post(bob, body, 'key-409-new')).statusCode).toBe(201);
  });

  it('a 4xx for bad input is stored too: replays, does not rerun', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 20 };
    const first = await post(alice, body, 'key-400');
    expectProblem(first, 400);
    const again = await post(alice, body, 'key-400');
    expect(again.statusCode).toBe(400);
  });

  it('key order in the JSON body does not matter', async () => {
    const start = nextStart();
    const first = await alice.call('POST', '/v1/bookings',
      `{"providerId":${JSON.stringify(provider.id)},"start":"${start}","duration":30}`, { 'idempotency-key': 'key-order' });
    expect(first.statusCode, first.body).toBe(201);
    const second = await alice.call('POST', '/v1/bookings',
      `{ "duration": 30,\n  "start": "${start}", "providerId": ${JSON.stringify(provider.id)} }`, { 'idempotency-key': 'key-order' });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    nextStart(); // the 30 minutes took two grid slots
    expect(await countBookings(server, 'client_id = $1', [alice.id])).toBe(1);
  });

  it('while the first request is in flight: 409 (simulated claim), and nothing is booked', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 15 };
    await server.db.query(
      'INSERT INTO idempotency_keys (caller_id, key, request_hash) VALUES ($1, $2, $3)',
      [alice.id, 'key-in-flight', idempotencyRequestHash('POST', '/v1/bookings', body)],
    );
    const res = await post(alice, body, 'key-in-flight');
    expectProblem(res, 409);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await countBookings(server, 'client_id = $1', [alice.id])).toBe(0);
    // another body under the in-flight key is a 422
    expectProblem(await post(alice, { ...body, duration: 30 }, 'key-in-flight'), 422);
  });

  it('a claim abandoned long ago (a crashed process) is taken over', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 15 };
    await server.db.query(
      `INSERT INTO idempotency_keys (caller_id, key, request_hash, created_at) VALUES ($1, $2, $3, now() - interval '1 hour')`,
      [alice.id, 'key-abandoned', idempotencyRequestHash('POST', '/v1/bookings', body)],
    );
    const res = await post(alice, body, 'key-abandoned');
    expect(res.statusCode, res.body).toBe(201);
  });

  it('two identical concurrent requests book once: one 201, the other a 409 in flight or a replay', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 15 };
    const results = await Promise.all([post(alice, body, 'key-race'), post(alice, body, 'key-race')]);
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses[0]).toBe(201);
    const other = results.find((r, i) => i !== results.findIndex((x) => x.statusCode === 201))!;
    if (other.statusCode === 201) {
      expect(other.headers['idempotent-replayed']).toBe('true');
      expect(other.body).toBe(results.find((r) => r !== other)!.body);
    } else {
      expectProblem(other, 409);
      expect(other.json().code).toBe('idempotency_in_flight');
    }
    expect(await countBookings(server, 'client_id = $1', [alice.id])).toBe(1);
  });

  it('a replay is for the same caller only: the admin with the same key and body runs anew', async () => {
    const start = nextStart();
    const first = await post(alice, { providerId: provider.id, start, duration: 15 }, 'key-admin');
    expect(first.statusCode).toBe(201);
    const adminCall = admin(server);
    const res = await adminCall('POST', '/v1/bookings', { providerId: provider.id, start, duration: 15, clientId: alice.id }, {
      'idempotency-key': 'key-admin',
    });
    expectProblem(res, 409);
  });

  it('keys on /confirm work: a replay answers as the first time', async () => {
    const b = await alice.call('POST', '/v1/bookings', { providerId: provider.id, start: nextStart(), duration: 15 });
    expect(b.statusCode).toBe(201);
    const url = `/v1/bookings/${b.json().id}/confirm`;
    const first = await post(alice, undefined, 'key-confirm', url);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().status).toBe('confirmed');
    expect((await alice.call('POST', `/v1/bookings/${b.json().id}/cancel`, {})).statusCode).toBe(200);
    // without the key, confirming a cancelled booking is a 409; with the key, the first answer is replayed
    expectProblem(await alice.call('POST', url), 409);
    const replay = await post(alice, undefined, 'key-confirm', url);
    expect(replay.statusCode).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);
    // an empty JSON object body is the same request as no body
    const replay2 = await post(alice, {}, 'key-confirm', url);
    expect(replay2.statusCode).toBe(200);
    expect(replay2.headers['idempotent-replayed']).toBe('true');
  });

  it('keys on /cancel work too', async () => {
    const b = await alice.call('POST', '/v1/bookings', { providerId: provider.id, start: nextStart(), duration: 15 });
    const url = `/v1/bookings/${b.json().id}/cancel`;
    const first = await post(alice, { reason: 'x' }, 'key-cancel', url);
    expect(first.statusCode).toBe(200);
    const again = await post(alice, { reason: 'x' }, 'key-cancel', url);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expectProblem(await post(alice, { reason: 'y' }, 'key-cancel', url), 422);
  });

  it('a malformed key is a 400', async () => {
    const body = { providerId: provider.id, start: nextStart(), duration: 15 };
    expectProblem(await post(alice, body, 'x'.repeat(256)), 400);
    expectProblem(await post(alice, body, 'has space'), 400);
    expect(await countBookings(server, 'client_id = $1', [alice.id])).toBe(0);
  });
});
