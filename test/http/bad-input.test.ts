import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { holdOk, localInstant, snapshot } from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;

describe('bad input: the right 4xx, problem+json, and nothing stored changes', () => {
  let server: TestServer;
  let provider: User;
  let client: User;
  let bookingId: string;
  let before: Record<string, string>;
  const monday = upcomingDate(1);
  const start = () => localInstant(monday, '10:00');

  beforeAll(async () => {
    server = await startTestServer();
    provider = await providerWithHours(server, 'Europe/Berlin');
    client = await createUser(server, 'client');
    bookingId = (await holdOk(client.call, provider.id, localInstant(monday, '15:00'), 30)).id;
  });
  beforeEach(async () => {
    before = await snapshot(server);
  });
  afterAll(async () => server?.close());

  /** The problem check plus: no 5xx, and every stored table exactly as before. */
  async function rejects(res: LightMyRequestResponse, status: number): Promise<any> {
    expect(res.statusCode, res.body).toBeLessThan(500);
    const problem = expectProblem(res, status);
    expect(await snapshot(server)).toEqual(before);
    return problem;
  }

  const raw = (method: string, url: string, payload?: string | Buffer, headers: Record<string, string> = {}, key: string | null = client.apiKey) =>
    server.app.inject({
      method: method as 'POST',
      url,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(payload !== undefined ? { payload } : {}),
    });
  const json = { 'content-type': 'application/json' };

  describe('400', () => {
    it.each([
      ['{', 'an unterminated object'],
      ['{"providerId": "x", }', 'a trailing comma'],
      ["{'providerId': 'x'}", 'single quotes'],
      ['not json at all', 'plain words'],
      ['{"a":1}{"b":2}', 'two documents'],
    ])('malformed JSON %j (%s) is a 400', async (payload) => {
      const problem = await rejects(await raw('POST', '/v1/bookings', payload, json), 400);
      expect(problem.detail).toBeTruthy();
    });

    it('malformed JSON on a PUT (schedule) is a 400', async () => {
      await rejects(await raw('PUT', `/v1/providers/${provider.id}/schedule`, '{"timeZone": ', json, provider.apiKey), 400);
    });

    it('a JSON body that is not an object is a 400', async () => {
      await rejects(await raw('POST', '/v1/bookings', '[]', json), 400);
      await rejects(await raw('POST', '/v1/bookings', '"text"', json), 400);
      await rejects(await raw('POST', '/v1/bookings', 'null', json), 400);
      await rejects(await raw('POST', '/v1/bookings', '42', json), 400);
    });

    it('start: 123 is a 400 naming the field', async () => {
      const problem = await rejects(await client.call('POST', '/v1/bookings', { providerId: provider.id, start: 123 }), 400);
      expect(problem.errors?.some((e: { path: string }) => e.path.includes('start'))).toBe(true);
      for (const e of problem.errors ?? []) {
        expect(typeof e.path).toBe('string');
        expect(typeof e.message).toBe('string');
      }
    });

    it('duration: "60" is a 400 (no coercion of body fields)', async () => {
      const problem = await rejects(
        await client.call('POST', '/v1/bookings', { providerId: provider.id, start: start(), duration: '60' }), 400,
      );
      expect(problem.errors?.some((e: { path: string }) => e.path.includes('duration'))).toBe(true);
    });

    it.each([
      [{ providerId: 42, start: '2027-03-01T09:00:00Z' }, 'a numeric providerId'],
      [{ start: '2027-03-01T09:00:00Z' }, 'a missing providerId'],
      [{ providerId: 'p' }, 'a missing start'],
      [{ providerId: 'p', start: '2027-03-01T09:00:00Z', duration: null }, 'a null duration'],
      [{ providerId: 'p', start: '2027-03-01T09:00:00Z', duration: true }, 'a boolean duration'],
      [{ providerId: 'p', start: '2027-03-01T09:00:00Z', notes: 5 }, 'numeric notes'],
      [{ providerId: 'p', start: '2027-03-01 09:00' }, 'a start without T and offset'],
      [{ providerId: 'p', start: '2027-03-01T09:00:00' }, 'a start without an offset'],
      [{ providerId: 'p', start: '' }, 'an empty start'],
    ] as [Record<string, unknown>, string][])('%j (%s) is a 400', async (body) => {
      await rejects(await client.call('POST', '/v1/bookings', body), 400);
    });

    it('unknown time zones are a 400', async () => {
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Mars/Olympus_Mons', weekly: [{ day: 'monday', start: '09:00', end: '17:00' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: '+01:00', weekly: [],
      }), 400);
      await rejects(await admin(server)('POST', '/v1/users', {
        name: 'Z', email: 'zone@example.test', role: 'client', timeZone: 'Europe/Nowhere',
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/overrides/${monday}`, {
        windows: [], timeZone: 'Not/AZone',
      }), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        date: monday, start: '09:00', end: '10:00', timeZone: 'Atlantis/City',
      }), 400);
      await rejects(await client.call('GET', `/v1/slots?providerId=${provider.id}&from=${monday}&to=${monday}&timeZone=Nowhere/Land`), 400);
      await rejects(await provider.call('GET', `/v1/providers/${provider.id}/availability?from=${monday}&to=${monday}&timeZone=Nowhere/Land`), 400);
    });

    it('the impossible date 2027-02-30 is a 400 wherever a date or instant goes', async () => {
      await rejects(await client.call('POST', '/v1/bookings', { providerId: provider.id, start: '2027-02-30T09:00:00Z' }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/overrides/2027-02-30`, { windows: [] }), 400);
      await rejects(await provider.call('DELETE', `/v1/providers/${provider.id}/overrides/2027-02-30`), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        date: '2027-02-30', start: '09:00', end: '10:00',
      }), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/time-off`, {
        start: '2027-02-30T09:00:00Z', end: '2027-03-01T09:00:00Z',
      }), 400);
      await rejects(await client.call('GET', `/v1/slots?providerId=${provider.id}&from=2027-02-30&to=2027-03-01`), 400);
      await rejects(await client.call('GET', '/v1/bookings?from=2027-02-30T00:00:00Z'), 400);
      await rejects(await provider.call('GET', `/v1/providers/${provider.id}/availability?from=2027-02-30&to=2027-03-01`), 400);
    });

    it('25:00 is a 400 as a clock time and in an instant', async () => {
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '25:00' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '24:00', end: '10:00' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:60', end: '10:00' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '9:00', end: '10:00' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/overrides/${monday}`, {
        windows: [{ start: '25:00', end: '26:00' }],
      }), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        date: monday, start: '25:00', end: '26:00',
      }), 400);
      await rejects(await client.call('POST', '/v1/bookings', { providerId: provider.id, start: `${monday}T25:00:00Z` }), 400);
    });

    it('dates and instants far outside any calendar a booking needs are a 400, never a 500', async () => {
      const slots = (q: string) => client.call('GET', `/v1/slots?providerId=${provider.id}&${q}`);
      await rejects(await slots('from=0001-01-01&to=0001-01-02'), 400);
      await rejects(await slots('from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z'), 400);
      await rejects(await slots('from=9999-12-30&to=9999-12-31'), 400);
      await rejects(await slots('from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z'), 400);
      await rejects(await client.call('POST', '/v1/bookings', { providerId: provider.id, start: '9999-12-31T23:45:00Z', duration: 60 }), 400);
      await rejects(await client.call('POST', '/v1/bookings', { providerId: provider.id, start: '0000-01-03T09:00:00Z' }), 400);
      await rejects(await client.call('GET', '/v1/bookings?from=0000-01-01T00:00:00Z'), 400);
      await rejects(await client.call('GET', '/v1/bookings?to=9999-12-31T23:59:59Z'), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/overrides/0000-01-01`, { windows: [] }), 400);
      await rejects(await provider.call('DELETE', `/v1/providers/${provider.id}/overrides/9999-12-31`), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        date: '9999-12-31', start: '22:00', end: '02:00',
      }), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        start: '0000-06-01T09:00:00Z', end: '0000-06-01T10:00:00Z',
      }), 400);
      await rejects(await provider.call('POST', `/v1/providers/${provider.id}/time-off`, {
        start: '9999-12-31T09:00:00Z', end: '9999-12-31T10:00:00Z',
      }), 400);
      await rejects(await provider.call('GET', `/v1/providers/${provider.id}/availability?from=0001-01-01&to=0001-01-05`), 400);
      await rejects(await client.call('POST', '/v1/api-keys', { expiresAt: '9999-12-31T23:59:59Z' }), 400);
      // ordinary past and future ranges are fine
      expect((await slots('from=1999-01-01&to=1999-01-31')).statusCode).toBe(200);
      expect((await slots('from=2999-01-01&to=2999-01-31')).statusCode).toBe(200);
    });

    it('end equal to start is a 400; a weekday that is not one is a 400', async () => {
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '09:00' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'funday', start: '09:00', end: '10:00' }],
      }), 400);
    });

    it('unknown fields in a body are a 400', async () => {
      const problem = await rejects(await client.call('POST', '/v1/bookings', {
        providerId: provider.id, start: start(), duration: 15, colour: 'red',
      }), 400);
      expect(JSON.stringify(problem.errors ?? problem.detail)).toContain('colour');
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '10:00', note: 'x' }],
      }), 400);
      await rejects(await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [], extra: true,
      }), 400);
      await rejects(await admin(server)('POST', '/v1/users', {
        name: 'X', email: 'extra@example.test', role: 'client', isAdmin: true,
      }), 400);
      await rejects(await client.call('POST', `/v1/bookings/${bookingId}/cancel`, { reason: 'r', refund: true }), 400);
      await rejects(await client.call('POST', '/v1/api-keys', { name: 'k', scopes: ['all'] }), 400);
    });

    it('a role that is not provider/client is a 400 (even for the admin)', async () => {
      await rejects(await admin(server)('POST', '/v1/users', { name: 'A', email: 'a2@example.test', role: 'admin' }), 400);
    });

    it('bad query parameters are a 400', async () => {
      await rejects(await client.call('GET', '/v1/bookings?limit=abc'), 400);
      await rejects(await client.call('GET', '/v1/bookings?limit=-1'), 400);
      await rejects(await client.call('GET', '/v1/bookings?status=done'), 400);
      await rejects(await client.call('GET', '/v1/api-keys?limit=1000'), 400);
      // Numbers JavaScript would read the same (Ajv's coercion took them) are not decimal digits.
      for (const limit of ['0x10', '1e1', '%2010', '10.0', '']) {
        const problem = await rejects(await client.call('GET', `/v1/bookings?limit=${limit}`), 400);
        expect(JSON.stringify(problem), limit).toContain('query/limit');
      }
      await rejects(await client.call('GET', `/v1/slots?providerId=${provider.id}&from=2030-01-07&to=2030-01-07&duration=0x3c`), 400);
      expect((await client.call('GET', '/v1/bookings?limit=10')).statusCode).toBe(200);
    });
  });

  describe('413, 415', () => {
    it('a body over 64 KiB is a 413', async () => {
      const payload = JSON.stringify({ providerId: provider.id, start: start(), notes: 'x'.repeat(70 * 1024) });
      await rejects(await raw('POST', '/v1/bookings', payload, json), 413);
      // even malformed: the size is checked first
      await rejects(await raw('POST', '/v1/bookings', `{${' '.repeat(65 * 1024)}`, json), 413);
    });

    it('a body just under 64 KiB is read (and then judged on its fields)', async () => {
      const payload = JSON.stringify({ providerId: provider.id, start: start(), notes: 'x'.repeat(60 * 1024) });
      await rejects(await raw('POST', '/v1/bookings', payload, json), 400); // notes is at most 2000 characters
    });

    it('a text/plain body is a 415', async () => {
      const body = JSON.stringify({ providerId: provider.id, start: start() });
      await rejects(await raw('POST', '/v1/bookings', body, { 'content-type': 'text/plain' }), 415);
      await rejects(await raw('POST', '/v1/bookings', body, { 'content-type': 'application/x-www-form-urlencoded' }), 415);
      await rejects(await raw('POST', '/v1/bookings', body, { 'content-type': 'multipart/form-data; boundary=x' }), 415);
      await rejects(await raw('PUT', `/v1/providers/${provider.id}/schedule`, '<xml/>', { 'content-type': 'application/xml' }, provider.apiKey), 415);
    });

    it('a body with no content-type is a 415', async () => {
      const body = JSON.stringify({ providerId: provider.id, start: start() });
      await rejects(await raw('POST', '/v1/bookings', body), 415);
    });

    it('application/json with a charset, and +json types, are JSON', async () => {
      const res = await raw('POST', '/v1/bookings', '{"providerId": 1}', { 'content-type': 'application/json; charset=utf-8' });
      await rejects(res, 400); // parsed, then rejected for the field, not for the type
      const res2 = await raw('POST', '/v1/bookings', '{"providerId": 1}', { 'content-type': 'application/merge-patch+json' });
      await rejects(res2, 400);
    });
  });

  describe('404, 405', () => {
    it.each([
      ['DELETE', '/v1/bookings'],
      ['PUT', '/v1/bookings'],
      ['POST', '/v1/providers/x/schedule'],
      ['DELETE', '/v1/providers/x/schedule'],
      ['PUT', '/v1/providers/x/time-off/y'],
      ['PUT', '/v1/slots'],
      ['GET', '/v1/bookings/x/confirm'],
      ['PUT', '/v1/users/me'],
      ['POST', '/health'],
    ])('%s %s is a 405 with an Allow header', async (method, url) => {
      const res = await raw(method, url, method === 'GET' || method === 'DELETE' ? undefined : '{}', json);
      const problem = await rejects(res, 405);
      expect(problem.detail).toBeTruthy();
      const allow = String(res.headers.allow ?? '');
      expect(allow).not.toBe('');
      expect(allow.split(/,\s*/)).not.toContain(method);
    });

    it('the Allow header names the methods that exist', async () => {
      const res = await raw('DELETE', '/v1/bookings', undefined, {});
      expect(String(res.headers.allow).split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'POST']));
      const sched = await raw('POST', '/v1/providers/x/schedule', '{}', json);
      expect(String(sched.headers.allow).split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'PUT', 'PATCH']));
    });

    it('a 405 needs no key (nothing is revealed by it)', async () => {
      const res = await raw('DELETE', '/v1/bookings', undefined, {}, null);
      await rejects(res, 405);
    });

    it.each([
      ['GET', '/v1/nope'],
      ['GET', '/v1'],
      ['GET', '/nope'],
      ['POST', '/v1/bookings/x/explode'],
      ['GET', '/v2/bookings'],
      ['DELETE', '/v1/unknown/thing'],
    ])('%s %s (an unknown path) is a 404 problem+json', async (method, url) => {
      await rejects(await raw(method, url, method === 'POST' ? '{}' : undefined, method === 'POST' ? json : {}), 404);
    });

    it('an OPTIONS preflight still works (CORS)', async () => {
      const res = await raw('OPTIONS', '/v1/bookings', undefined, {
        origin: 'https://app.example', 'access-control-request-method': 'POST',
      }, null);
      expect(res.statusCode).toBeLessThan(300);
      expect(res.headers['access-control-allow-origin']).toBeTruthy();
    });
  });

  describe('401', () => {
    it.each([
      [null, 'no key'],
      ['bk_unknown', 'an unknown key'],
      ['', 'an empty bearer'],
    ])('%s (%s) is a 401 on a write, and changes nothing', async (key, _what) => {
      const headers: Record<string, string> = { ...json };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      const res = await server.app.inject({
        method: 'POST', url: '/v1/bookings', headers, payload: JSON.stringify({ providerId: provider.id, start: start() }),
      });
      await rejects(res, 401);
    });

    it('a malformed Authorization header is a 401', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: 'Basic Zm9vOmJhcg==' } });
      await rejects(res, 401);
    });
  });

  describe('service routes', () => {
    it('GET /health is 200 {status: ok} without a key', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ status: 'ok' });
    });

    it('GET /openapi.json is OpenAPI 3.1.0 and lists every path of the contract', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const doc = res.json();
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.info?.title).toBeTruthy();
      const paths = Object.keys(doc.paths ?? {});
      const expected: Record<string, string[]> = {
        '/health': ['get'],
        '/v1/users': ['post'],
        '/v1/auth/login': ['post'],
        '/v1/users/me': ['get'],
        '/v1/users/{id}': ['get'],
        '/v1/api-keys': ['post', 'get'],
        '/v1/api-keys/{id}': ['delete'],
        '/v1/providers/{providerId}/schedule': ['put', 'get'],
        '/v1/providers/{providerId}/availability': ['post', 'get'],
        '/v1/providers/{providerId}/availability/{id}': ['delete'],
        '/v1/providers/{providerId}/overrides/{date}': ['put', 'delete'],
        '/v1/providers/{providerId}/time-off': ['post'],
        '/v1/providers/{providerId}/time-off/{id}': ['delete'],
        '/v1/slots': ['get'],
        '/v1/bookings': ['post', 'get'],
        '/v1/bookings/{id}': ['get'],
        '/v1/bookings/{id}/confirm': ['post'],
        '/v1/bookings/{id}/cancel': ['post'],
        '/v1/providers/{providerId}/calendar-feed': ['get'],
        '/v1/providers/{providerId}/calendar.ics': ['get'],
      };
      const missing: string[] = [];
      for (const [path, methods] of Object.entries(expected)) {
        if (!paths.includes(path)) {
          missing.push(path);
          continue;
        }
        for (const m of methods) if (!doc.paths[path][m]) missing.push(`${m.toUpperCase()} ${path}`);
      }
      expect(missing).toEqual([]);
      // no Fastify-style :params leak into the document
      expect(paths.filter((p) => p.includes(':'))).toEqual([]);
      // error responses are documented as problem+json
      const hold = doc.paths['/v1/bookings'].post;
      expect(Object.keys(hold.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409', '422']));
      expect(hold.responses['409'].content['application/problem+json']).toBeDefined();
    });

    it('GET /docs serves the Swagger UI as HTML', async () => {
      let res = await server.app.inject({ method: 'GET', url: '/docs' });
      for (let hops = 0; hops < 3 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
        const location = String(res.headers.location);
        const next = new URL(location, 'http://localhost/docs/');
        res = await server.app.inject({ method: 'GET', url: next.pathname + next.search });
      }
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body.toLowerCase()).toContain('<html');
      expect(res.body.toLowerCase()).toContain('swagger');
    });

    it('the admin key from the environment works as the administrator', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json().role).toBe('admin');
    });
  });
});
