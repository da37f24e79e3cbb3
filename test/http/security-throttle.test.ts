import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';

/** Issue 14, items 1 and 7: buckets follow checked identities (a user, else the client address), never a presented credential. */
describe('request limits follow who is checked, not what is presented', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '5', OPEN_SIGNUP: 'true' });
  });
  afterAll(async () => server?.close());

  // ?token= is also an unknown query parameter here (a 400): it must still be charged to the address.
  const login = (email: string, password: string, junk: string, remoteAddress: string, query = '') =>
    server.app.inject({
      method: 'POST', url: `/v1/auth/login${query}`, remoteAddress,
      headers: { authorization: `Bearer ${junk}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ email, password }),
    });

  it('a made-up Bearer key or ?token= on POST /v1/auth/login does not buy a fresh bucket: the address is limited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await login('nobody@example.test', 'wrong password', `junk-${i}`, '10.1.0.1')).statusCode);
    statuses.push((await login('nobody@example.test', 'wrong password', 'junk-q', '10.1.0.1', '?token=junk-q')).statusCode);
    for (let i = 5; i < 8; i++) statuses.push((await login('nobody@example.test', 'wrong password', `junk-${i}`, '10.1.0.1')).statusCode);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 400]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  });

  it('open sign-up with ?token=junk-<n> is limited per address, so accounts cannot be made in bulk', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await server.app.inject({
        method: 'POST', url: `/v1/users?token=junk-${i}`, remoteAddress: '10.1.0.2',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'Mass', email: `mass-${i}-${Date.now()}@example.test`, role: 'client' }),
      });
      statuses.push(res.statusCode);
    }
    // ?token= is an unknown query parameter of this route (400), and every attempt still counts against the address.
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429]);
  });

  it('open sign-up with no credential is limited per address too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await server.app.inject({
        method: 'POST', url: '/v1/users', remoteAddress: '10.1.0.6',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'Mass', email: `mass-b-${i}-${Date.now()}@example.test`, role: 'client' }),
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
  });

  it('an unknown Bearer key is charged to the address: junk keys from one address end in 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await server.app.inject({ method: 'GET', url: '/v1/users/me', remoteAddress: '10.1.0.3', headers: { authorization: `Bearer junk-${i}` } });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('a checked calendar-feed token is a bucket of its own (calendar apps share addresses); a wrong one counts by address', async () => {
    const provider = await createUser(server, 'provider');
    const { token } = (await provider.call('GET', `/v1/providers/${provider.id}/calendar-feed`)).json();
    const feed = (t: string) => server.app.inject({ method: 'GET', url: `/v1/providers/${provider.id}/calendar.ics?token=${t}`, remoteAddress: '10.1.0.5' });
    for (let i = 0; i < 5; i++) expect((await feed(`wrong-${i}`)).statusCode).toBe(404);
    expectProblem(await feed('wrong-again'), 429);
    expect((await feed(token)).statusCode).toBe(200);
  });

  it('minting more keys does not multiply the limit: every key of a user draws from the user\'s one bucket', async () => {
    const user = await createUser(server, 'client');
    const keys = [user.apiKey];
    // The admin creates users with its own key; mint extra keys for the user through it (the user's bucket stays untouched).
    for (let i = 0; i < 3; i++) {
      const minted = await user.call('POST', '/v1/api-keys', { name: `k${i}` });
      expect(minted.statusCode, minted.body).toBe(201);
      keys.push(minted.json().apiKey);
    }
    // 3 requests spent minting; 2 more fit, whichever key sends them.
    const statuses: number[] = [];
    for (const key of keys) {
      const res = await server.app.inject({ method: 'GET', url: '/v1/users/me', remoteAddress: '10.1.0.4', headers: { authorization: `Bearer ${key}` } });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  });
});

describe('failed logins are limited per email (LOGIN_MAX_FAILURES in LOGIN_FAILURE_WINDOW_SECONDS)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ LOGIN_MAX_FAILURES: '3' });
  });
  afterAll(async () => server?.close());

  const login = (email: string, password: string, remoteAddress: string) =>
    server.app.inject({
      method: 'POST', url: '/v1/auth/login', remoteAddress,
      headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password }),
    });

  it('after 3 wrong passwords from any addresses the right one is a 429 with Retry-After, as for an unknown email', async () => {
    const email = `victim-${Date.now()}@example.test`;
    const created = await admin(server)('POST', '/v1/users', { name: 'Victim', email, role: 'client', password: 'a long enough passphrase' });
    expect(created.statusCode, created.body).toBe(201);
    for (let i = 0; i < 3; i++) expectProblem(await login(email, `wrong ${i}`, `10.2.0.${i + 1}`), 401);
    const locked = await login(email.toUpperCase(), 'a long enough passphrase', '10.2.0.9');
    const problem = expectProblem(locked, 429);
    expect(problem.code).toBe('rate_limited');
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);

    const unknown = 'nobody-at-all@example.test';
    for (let i = 0; i < 3; i++) expectProblem(await login(unknown, `wrong ${i}`, '10.2.1.1'), 401);
    const same = expectProblem(await login(unknown, 'anything', '10.2.1.1'), 429);
    expect(same.detail.replace(unknown, 'EMAIL')).toBe(problem.detail.replace(email.toUpperCase(), 'EMAIL').replace(email, 'EMAIL'));
  });

  it('concurrent wrong passwords pay at most the limit in password checks: the rest are refused before scrypt', async () => {
    const email = `burst-${Date.now()}@example.test`;
    await admin(server)('POST', '/v1/users', { name: 'Burst', email, role: 'client', password: 'a long enough passphrase' });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => login(email, `wrong ${i}`, `10.3.0.${i + 1}`)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });

  it('a right password does not count as a failure', async () => {
    const email = `fine-${Date.now()}@example.test`;
    await admin(server)('POST', '/v1/users', { name: 'Fine', email, role: 'client', password: 'a long enough passphrase' });
    for (let i = 0; i < 5; i++) expect((await login(email, 'a long enough passphrase', '10.4.0.1')).statusCode).toBe(200);
  });
});

describe('API keys per user are capped (MAX_API_KEYS_PER_USER)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MAX_API_KEYS_PER_USER: '3' });
  });
  afterAll(async () => server?.close());

  it('the key beyond the cap is a 409 quota_exceeded; revoking one makes room; a login replaces its oldest login key', async () => {
    const email = `keys-${Date.now()}@example.test`;
    const created = await admin(server)('POST', '/v1/users', { name: 'Keys', email, role: 'client', password: 'a long enough passphrase' });
    const call = (await import('../helpers/api.js')).client(server, created.json().apiKey);
    const second = await call('POST', '/v1/api-keys', { name: 'two' });
    expect(second.statusCode).toBe(201);
    expect((await call('POST', '/v1/api-keys', { name: 'three' })).statusCode).toBe(201);
    const refused = expectProblem(await call('POST', '/v1/api-keys', { name: 'four' }), 409);
    expect(refused.code).toBe('quota_exceeded');
    expect((await call('DELETE', `/v1/api-keys/${second.json().id}`)).statusCode).toBe(204);
    expect((await call('POST', '/v1/api-keys', { name: 'four' })).statusCode).toBe(201);
    // At the cap, a login still works: it revokes the user's oldest login key, or refuses when there is none.
    const login = () => server.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password: 'a long enough passphrase' }) });
    expect(expectProblem(await login(), 409).code).toBe('quota_exceeded');
    expect((await call('DELETE', `/v1/api-keys/${(await call('GET', '/v1/api-keys')).json().data.find((k: any) => k.name === 'four').id}`)).statusCode).toBe(204);
    const first = await login();
    expect(first.statusCode, first.body).toBe(200);
    const again = await login();
    expect(again.statusCode, again.body).toBe(200);
    const me = (key: string) => server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${key}` } });
    expect((await me(first.json().apiKey)).statusCode).toBe(401);
    expect((await me(again.json().apiKey)).statusCode).toBe(200);
    expect((await me(ADMIN_KEY)).statusCode).toBe(200);
  });
});
