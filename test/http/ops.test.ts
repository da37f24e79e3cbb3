import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { expireHold, hold, holdOk, localInstant } from './booking-helpers.js';

/** The value of one series in a Prometheus text answer (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function scrape(server: TestServer): Promise<string> {
  const res = await server.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

describe('operations: /ready, /metrics, request ids and logs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_SWEEP_SECONDS: '1' });
  });
  afterAll(async () => server?.close());

  describe('GET /ready', () => {
    it('200 with the database check when SELECT 1 answers', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('503 problem+json (code unavailable) while the database fails, 200 again once it answers', async () => {
      const db = server.ctx.db;
      const query = db.query;
      db.query = async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      };
      try {
        const res = await server.app.inject({ method: 'GET', url: '/ready' });
        const problem = expectProblem(res, 503);
        expect(problem.code).toBe('unavailable');
        expect(problem.checks).toEqual({ database: 'unavailable' });
        expect(res.headers['x-request-id']).toBeTruthy();
      } finally {
        db.query = query;
      }
      expect((await server.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    });

    it('is in the OpenAPI document with /metrics, outside /v1 and without security', async () => {
      const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(doc.paths['/ready'].get.responses['200']).toBeDefined();
      expect(doc.paths['/ready'].get.responses['503'].content['application/problem+json']).toBeDefined();
      expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined();
      expect(doc.paths['/ready'].get.security).toBeUndefined();
    });
  });

  describe('GET /metrics', () => {
    it('Prometheus text with the series, counting requests by route pattern and a 409 conflict', async () => {
      const provider = await providerWithHours(server);
      const alice = await createUser(server, 'client');
      const bob = await createUser(server, 'client');
      const before = await scrape(server);
      const start = localInstant(upcomingDate(1), '10:00');
      const booking = await holdOk(alice.call, provider.id, start, 60);
      const taken = await hold(bob.call, provider.id, start, 30);
      expectProblem(taken, 409);
      expectProblem(await hold(bob.call, provider.id, localInstant(upcomingDate(1), '10:07')), 422);
      expect((await alice.call('GET', `/v1/bookings/${booking.id}`)).statusCode).toBe(200);
      expect((await alice.call('POST', `/v1/bookings/${booking.id}/confirm`)).statusCode).toBe(200);
      expect((await alice.call('POST', `/v1/bookings/${booking.id}/confirm`)).statusCode).toBe(200); // unchanged: not counted again
      expect((await alice.call('GET', '/v1/no/such/path')).statusCode).toBe(404);
      expect((await alice.call('GET', '/v1/users/%ZZ')).statusCode).toBe(400); // fails before routing

      const res = await server.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = res.body;
      const delta = (series: string) => sample(text, series) - sample(before, series);
      expect(delta('bookings_total{outcome="held"}')).toBe(1);
      expect(delta('bookings_total{outcome="conflict"}')).toBe(1);
      expect(delta('bookings_total{outcome="not_bookable"}')).toBe(1);
      expect(delta('bookings_total{outcome="confirmed"}')).toBe(1);
      expect(delta('http_requests_total{method="POST",route="/v1/bookings",status="409"}')).toBe(1);
      expect(delta('http_requests_total{method="POST",route="/v1/bookings",status="201"}')).toBe(1);
      // The route pattern, never the URL with its id.
      expect(delta('http_requests_total{method="GET",route="/v1/bookings/:id",status="200"}')).toBe(1);
      expect(text).not.toContain(booking.id);
      expect(delta('http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
      expect(delta('http_requests_total{method="GET",route="unmatched",status="400"}')).toBe(1);
      expect(text).not.toContain('/v1/no/such/path');
      expect(sample(text, 'http_request_duration_seconds_count{method="POST",route="/v1/bookings"}')).toBeGreaterThanOrEqual(3);
      expect(text).toMatch(/^http_request_duration_seconds_bucket\{method="POST",route="\/v1\/bookings",le="\+Inf"\} \d+$/m);
      expect(text).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
      expect(text).toMatch(/^holds_expired_total \d+$/m);
      expect(text).toMatch(/^rate_limited_total\{limit="requests"\} \d+$/m);
      expect(sample(text, 'db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^db_pool_idle_connections \d+$/m);
      expect(text).toMatch(/^db_pool_waiting_clients \d+$/m);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
      // Every sample line is `name{labels} value` with a number.
      for (const line of text.trimEnd().split('\n').filter((l) => !l.startsWith('#'))) {
        expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/);
      }
    });

    it('counts a confirmation after expiry, a cancellation, and holds the sweeper expires', async () => {
      const provider = await providerWithHours(server);
      const client = await createUser(server, 'client');
      const before = await scrape(server);
      const day = upcomingDate(2);
      const lapsing = await holdOk(client.call, provider.id, localInstant(day, '09:00'));
      const swept = await holdOk(client.call, provider.id, localInstant(day, '10:00'));
      const cancelled = await holdOk(client.call, provider.id, localInstant(day, '11:00'));
      await expireHold(server, lapsing.id);
      expectProblem(await client.call('POST', `/v1/bookings/${lapsing.id}/confirm`), 410);
      expect((await client.call('POST', `/v1/bookings/${cancelled.id}/cancel`, {})).statusCode).toBe(200);
      await expireHold(server, swept.id);
      // The sweeper runs every second here (EXPIRY_SWEEP_SECONDS=1).
      let after = before;
      for (let i = 0; i < 40 && sample(after, 'holds_expired_total') - sample(before, 'holds_expired_total') < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await scrape(server);
      }
      const delta = (series: string) => sample(after, series) - sample(before, series);
      expect(delta('bookings_total{outcome="expired_on_confirm"}')).toBe(1);
      expect(delta('bookings_total{outcome="cancelled"}')).toBe(1);
      expect(delta('holds_expired_total')).toBe(2);
    });

    it('is not limited and needs no key; METRICS_ENABLED=false removes it', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers.ratelimit).toBeUndefined();
      const off = await startTestServer({ METRICS_ENABLED: 'false' });
      try {
        expectProblem(await off.app.inject({ method: 'GET', url: '/metrics' }), 404);
        const doc = (await off.app.inject({ method: 'GET', url: '/openapi.json' })).json();
        expect(doc.paths['/metrics']).toBeUndefined();
        expect((await off.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
      } finally {
        await off.close();
      }
    });
  });

  describe('X-Request-Id', () => {
    const call = (headers: Record<string, string>, url = '/v1/users/me') =>
      server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers } });
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

    it('reuses a sane incoming id and echoes it, on success and on errors', async () => {
      expect((await call({ 'x-request-id': 'trace-42.abc_DEF:1' })).headers['x-request-id']).toBe('trace-42.abc_DEF:1');
      const unauthenticated = await server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { 'x-request-id': 'req-401' } });
      expectProblem(unauthenticated, 401);
      expect(unauthenticated.headers['x-request-id']).toBe('req-401');
      const notFound = await call({ 'x-request-id': 'req-404' }, '/v1/nowhere');
      expectProblem(notFound, 404);
      expect(notFound.headers['x-request-id']).toBe('req-404');
      const badUrl = await call({ 'x-request-id': 'req-400' }, '/v1/users/%ZZ');
      expectProblem(badUrl, 400);
      expect(badUrl.headers['x-request-id']).toBe('req-400');
      const id128 = 'x'.repeat(128);
      expect((await call({ 'x-request-id': id128 })).headers['x-request-id']).toBe(id128);
    });

    it('makes a new UUID when there is none or it is not sane', async () => {
      expect(String((await call({})).headers['x-request-id'])).toMatch(UUID);
      for (const bad of ['x'.repeat(129), 'has space', 'tab\there', 'caf\u00e9', '']) {
        const res = await call({ 'x-request-id': bad });
        expect(res.statusCode).toBe(200);
        expect(String(res.headers['x-request-id'])).toMatch(UUID);
      }
      const a = await call({});
      const b = await call({});
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it('every log line of a request is JSON carrying its reqId; keys in the query string are redacted', async () => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          callback();
        },
      });
      const logger = { level: 'info', stream };
      const app = await buildApp(server.ctx, { logger });
      try {
        const res = await app.inject({ method: 'GET', url: `/v1/users/me?apiKey=${ADMIN_KEY}`, headers: { 'x-request-id': 'log-me-1' } });
        expect(res.statusCode).toBe(200);
        expectProblem(await app.inject({ method: 'GET', url: '/v1/users/me', headers: { 'x-request-id': 'log-me-2' } }), 401);
      } finally {
        await app.close();
      }
      const records = lines.map((l) => JSON.parse(l) as Record<string, any>);
      const first = records.filter((r) => r.reqId === 'log-me-1');
      expect(first.map((r) => r.msg)).toEqual(['incoming request', 'request completed']);
      expect(first[1]!.res.statusCode).toBe(200);
      expect(records.filter((r) => r.reqId === 'log-me-2')).toHaveLength(2);
      expect(lines.join('\n')).not.toContain(ADMIN_KEY);
      expect(first[0]!.req.url).toBe('/v1/users/me?apiKey=[redacted]');
    });
  });

  it('the admin client helper still works with the high test limit (sanity)', async () => {
    const res = await admin(server)('GET', '/v1/users/me');
    expect(res.statusCode).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('1000000;w=60');
  });
});
