import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { countRows, expectNothingChanged, ms, uniqueEmail } from './users-availability-helpers.js';

const USER_FIELDS = ['createdAt', 'email', 'id', 'name', 'role', 'timeZone'];

describe('users and login', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  describe('POST /v1/users', () => {
    it('lets the admin create a provider and a client, each with a working key', async () => {
      for (const role of ['provider', 'client'] as const) {
        const email = uniqueEmail(role);
        const res = await admin(server)('POST', '/v1/users', { name: `Ann ${role}`, email, role, timeZone: 'Europe/Berlin' });
        expect(res.statusCode, res.body).toBe(201);
        const { user, apiKey } = res.json();
        // Every provider says what kind it is (a person here; resources have no email).
        expect(Object.keys(user).sort()).toEqual(role === 'provider' ? [...USER_FIELDS, 'kind'].sort() : USER_FIELDS);
        expect(user).toMatchObject({ name: `Ann ${role}`, email, role, timeZone: 'Europe/Berlin' });
        expect(typeof user.id).toBe('string');
        expect(Math.abs(ms(user.createdAt) - Date.now())).toBeLessThan(60_000);
        expect(typeof apiKey).toBe('string');
        expect(apiKey.length).toBeGreaterThanOrEqual(20);

        const me = await client(server, apiKey)('GET', '/v1/users/me');
        expect(me.statusCode, me.body).toBe(200);
        expect(me.json()).toEqual(user);
      }
    });

    it('gives a user without a timeZone a valid default zone', async () => {
      const res = await admin(server)('POST', '/v1/users', { name: 'No zone', email: uniqueEmail(), role: 'client' });
      expect(res.statusCode, res.body).toBe(201);
      expect(typeof res.json().user.timeZone).toBe('string');
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone: res.json().user.timeZone })).not.toThrow();
    });

    it('stores the key hashed, never the secret itself', async () => {
      const res = await admin(server)('POST', '/v1/users', { name: 'Hashed', email: uniqueEmail(), role: 'client' });
      expect(res.statusCode, res.body).toBe(201);
      const { apiKey, user } = res.json();
      const { rows } = await server.db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE user_id = $1', [user.id]);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(apiKey);
    });

    it('answers 409 when the email is taken, also in another case, and creates nothing', async () => {
      const email = uniqueEmail('taken');
      const first = await admin(server)('POST', '/v1/users', { name: 'First', email, role: 'client' });
      expect(first.statusCode, first.body).toBe(201);
      for (const again of [email, email.toUpperCase(), email.replace(/^./, (c) => c.toUpperCase())]) {
        const res = await expectNothingChanged(server, () =>
          admin(server)('POST', '/v1/users', { name: 'Second', email: again, role: 'provider' }),
        );
        expectProblem(res, 409);
      }
      expect(await countRows(server, 'users', 'lower(email) = lower($1)', [email])).toBe(1);
    });

    it('answers 400 for an unknown time zone, a bad email, an unknown field and wrong types, creating nothing', async () => {
      const ok = { name: 'Bad input', email: uniqueEmail('bad'), role: 'client' };
      const bodies: unknown[] = [
        { ...ok, timeZone: 'Mars/Olympus_Mons' },
        { ...ok, timeZone: '+02:00' },
        { ...ok, timeZone: '' },
        { ...ok, email: 'not-an-email' },
        { ...ok, email: 'two@@example.test' },
        { ...ok, email: '' },
        { ...ok, nickname: 'extra' },
        { ...ok, name: 5 },
        { ...ok, email: 42 },
        { ...ok, role: 'admin' },
        { ...ok, role: 'superuser' },
        { ...ok, role: ['client'] },
        { ...ok, timeZone: 3600 },
        { ...ok, password: 12345678 },
        { ...ok, password: 'short' },
        { ...ok, name: '' },
        { ...ok, name: '   ' },
        { name: ok.name, email: ok.email },
        { email: ok.email, role: 'client' },
        {},
        [],
        'null',
        '{"name": "broken json",',
      ];
      for (const body of bodies) {
        const res = await expectNothingChanged(server, () => admin(server)('POST', '/v1/users', body));
        const problem = expectProblem(res, 400);
        expect(JSON.stringify(problem)).not.toMatch(/stack|at \w+ \(/);
      }
      expect(await countRows(server, 'users', 'lower(email) = lower($1)', [ok.email])).toBe(0);
    });

    it('names the offending field in the problem', async () => {
      const res = await admin(server)('POST', '/v1/users', { name: 'X', email: uniqueEmail(), role: 'client', nickname: 'x' });
      const problem = expectProblem(res, 400);
      expect(problem.errors?.some((e: { path: string }) => e.path.includes('nickname'))).toBe(true);
    });

    it('answers 400, not 5xx, for text the database cannot store (U+0000), creating nothing', async () => {
      const email = uniqueEmail('nul');
      for (const body of [
        { name: 'nul\u0000name', email, role: 'client' },
        { name: 'ok', email: `nul\u0000${email}`, role: 'client' },
      ]) {
        const res = await expectNothingChanged(server, () => admin(server)('POST', '/v1/users', body));
        expectProblem(res, 400);
      }
      // A password is only hashed, so U+0000 there may be accepted; it must never be a 5xx.
      const pw = await admin(server)('POST', '/v1/users', { name: 'ok', email, role: 'client', password: 'pass\u0000word' });
      expect([201, 400]).toContain(pw.statusCode);
    });

    it('answers 401 without a key and with an unknown key', async () => {
      const body = { name: 'Anon', email: uniqueEmail('anon'), role: 'client' };
      for (const key of [null, 'bk_not-a-real-key']) {
        const res = await expectNothingChanged(server, () => client(server, key)('POST', '/v1/users', body));
        expectProblem(res, 401);
      }
    });

    it('answers 403 when a provider or a client key creates a user', async () => {
      const provider = await createUser(server, 'provider');
      const someClient = await createUser(server, 'client');
      for (const caller of [provider, someClient]) {
        for (const role of ['client', 'provider']) {
          const res = await expectNothingChanged(server, () =>
            caller.call('POST', '/v1/users', { name: 'Sneaky', email: uniqueEmail('sneaky'), role }),
          );
          expectProblem(res, 403);
        }
      }
    });
  });

  describe('POST /v1/auth/login', () => {
    const password = 'correct horse battery staple';
    let email: string;
    let userId: string;
    beforeAll(async () => {
      email = uniqueEmail('login');
      const res = await admin(server)('POST', '/v1/users', { name: 'Logger', email, role: 'client', password });
      expect(res.statusCode, res.body).toBe(201);
      userId = res.json().user.id;
    });

    it('returns a working key with an expiresAt in the future', async () => {
      const res = await client(server, null)('POST', '/v1/auth/login', { email, password });
      expect(res.statusCode, res.body).toBe(200);
      const { apiKey, expiresAt } = res.json();
      expect(typeof apiKey).toBe('string');
      expect(ms(expiresAt)).toBeGreaterThan(Date.now() + 3600_000);
      const me = await client(server, apiKey)('GET', '/v1/users/me');
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({ id: userId, email, role: 'client' });
    });

    it('accepts the email in another case', async () => {
      const res = await client(server, null)('POST', '/v1/auth/login', { email: email.toUpperCase(), password });
      expect(res.statusCode, res.body).toBe(200);
    });

    it('answers 401 for a wrong password or an unknown email, issuing no key', async () => {
      for (const body of [
        { email, password: 'wrong password' },
        { email, password: password.toUpperCase() },
        { email: uniqueEmail('nobody'), password },
      ]) {
        const res = await expectNothingChanged(server, () => client(server, null)('POST', '/v1/auth/login', body));
        const problem = expectProblem(res, 401);
        expect(problem.apiKey).toBeUndefined();
      }
    });

    it('answers 401 for a user created without a password', async () => {
      const noPassword = uniqueEmail('nopw');
      const created = await admin(server)('POST', '/v1/users', { name: 'No pw', email: noPassword, role: 'provider' });
      expect(created.statusCode, created.body).toBe(201);
      for (const pw of ['anything-at-all', 'null', 'undefined']) {
        const res = await expectNothingChanged(server, () =>
          client(server, null)('POST', '/v1/auth/login', { email: noPassword, password: pw }),
        );
        expectProblem(res, 401);
      }
    });

    it('answers 400 for malformed login bodies', async () => {
      for (const body of [{ email }, { password }, { email, password: 5 }, { email, password, extra: true }, 'nope', '{"email":']) {
        const res = await expectNothingChanged(server, () => client(server, null)('POST', '/v1/auth/login', body));
        expectProblem(res, 400);
      }
    });
  });

  describe('GET /v1/users/me and /v1/users/{id}', () => {
    it('GET /users/me needs a key', async () => {
      expectProblem(await client(server, null)('GET', '/v1/users/me'), 401);
      expectProblem(await client(server, 'bk_unknown')('GET', '/v1/users/me'), 401);
    });

    it('GET /users/me with the admin key is an admin', async () => {
      const res = await admin(server)('GET', '/v1/users/me');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().role).toBe('admin');
    });

    it('shows self and admin everything, a provider\'s public fields to others, and hides clients', async () => {
      const providerEmail = uniqueEmail('prov');
      const created = await admin(server)('POST', '/v1/users', {
        name: 'Dr Public', email: providerEmail, role: 'provider', timeZone: 'America/New_York',
      });
      expect(created.statusCode, created.body).toBe(201);
      const provider = { id: created.json().user.id as string, call: client(server, created.json().apiKey) };
      const alice = await createUser(server, 'client');
      const bob = await createUser(server, 'client');
      const otherProvider = await createUser(server, 'provider');

      const self = await provider.call('GET', `/v1/users/${provider.id}`);
      expect(self.statusCode, self.body).toBe(200);
      expect(self.json()).toMatchObject({ id: provider.id, email: providerEmail, name: 'Dr Public', role: 'provider' });

      const byAdmin = await admin(server)('GET', `/v1/users/${provider.id}`);
      expect(byAdmin.statusCode, byAdmin.body).toBe(200);
      expect(byAdmin.json().email).toBe(providerEmail);

      for (const viewer of [alice, otherProvider]) {
        const pub = await viewer.call('GET', `/v1/users/${provider.id}`);
        expect(pub.statusCode, pub.body).toBe(200);
        const body = pub.json();
        expect(body).toMatchObject({ id: provider.id, name: 'Dr Public', role: 'provider', timeZone: 'America/New_York' });
        expect(body.email).toBeUndefined();
        expect(pub.body).not.toContain(providerEmail);
      }

      const selfClient = await alice.call('GET', `/v1/users/${alice.id}`);
      expect(selfClient.statusCode, selfClient.body).toBe(200);
      expect(selfClient.json().email).toMatch(/@example\.test$/);

      const adminSeesClient = await admin(server)('GET', `/v1/users/${alice.id}`);
      expect(adminSeesClient.statusCode, adminSeesClient.body).toBe(200);
      expect(adminSeesClient.json().email).toBe(selfClient.json().email);

      // Another client's id reads exactly like an id that does not exist.
      for (const viewer of [bob, provider]) {
        const hidden = expectProblem(await viewer.call('GET', `/v1/users/${alice.id}`), 404);
        expect(JSON.stringify(hidden)).not.toContain(selfClient.json().email);
      }
      const missing = expectProblem(await bob.call('GET', '/v1/users/usr_doesnotexist'), 404);
      const hidden = expectProblem(await bob.call('GET', `/v1/users/${alice.id}`), 404);
      expect(hidden.title).toBe(missing.title);

      expectProblem(await client(server, null)('GET', `/v1/users/${provider.id}`), 401);
    });

    it('answers 401 or 400, never 5xx, for a login email the database cannot store', async () => {
      const res = await expectNothingChanged(server, () =>
        client(server, null)('POST', '/v1/auth/login', { email: 'a\u0000@example.test', password: 'whatever-long' }),
      );
      expect([400, 401]).toContain(res.statusCode);
      expectProblem(res, res.statusCode);
    });

    it('answers problem+json, never 5xx, for odd ids in the path', async () => {
      const viewer = await createUser(server, 'client');
      for (const id of ['%00', 'a%00b', '%ZZ', 'x'.repeat(65), 'x'.repeat(300)]) {
        const res = await viewer.call('GET', `/v1/users/${id}`);
        expect(res.statusCode, `${id}: ${res.body}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${id}: ${res.body}`).toBeLessThan(500);
        expectProblem(res, res.statusCode);
      }
    });

    it('the admin key never shows up as a user\'s email or a key', async () => {
      const res = await admin(server)('GET', '/v1/users/me');
      expect(res.body).not.toContain(ADMIN_KEY);
    });
  });
});

describe('users with OPEN_SIGNUP=true', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ OPEN_SIGNUP: 'true' });
  });
  afterAll(async () => server?.close());

  it('lets anyone create a client without a key', async () => {
    const email = uniqueEmail('signup');
    const res = await client(server, null)('POST', '/v1/users', { name: 'Self Signed', email, role: 'client', password: 'a long password' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().user).toMatchObject({ email, role: 'client' });
    const me = await client(server, res.json().apiKey)('GET', '/v1/users/me');
    expect(me.statusCode, me.body).toBe(200);
    const login = await client(server, null)('POST', '/v1/auth/login', { email, password: 'a long password' });
    expect(login.statusCode, login.body).toBe(200);
  });

  it('refuses a provider without a key, or with a client key (403), creating nothing', async () => {
    const someClient = await createUser(server, 'client');
    for (const key of [null, someClient.apiKey]) {
      const res = await expectNothingChanged(server, () =>
        client(server, key)('POST', '/v1/users', { name: 'Wannabe', email: uniqueEmail('wannabe'), role: 'provider' }),
      );
      expectProblem(res, 403);
    }
  });

  it('still validates and still answers 409 for a taken email', async () => {
    const email = uniqueEmail('dup');
    expect((await client(server, null)('POST', '/v1/users', { name: 'One', email, role: 'client' })).statusCode).toBe(201);
    const dup = await expectNothingChanged(server, () =>
      client(server, null)('POST', '/v1/users', { name: 'Two', email: email.toUpperCase(), role: 'client' }),
    );
    expectProblem(dup, 409);
    const bad = await expectNothingChanged(server, () =>
      client(server, null)('POST', '/v1/users', { name: 'Zone', email: uniqueEmail(), role: 'client', timeZone: 'Nowhere/Land' }),
    );
    expectProblem(bad, 400);
  });

  it('still lets the admin create a provider', async () => {
    const res = await admin(server)('POST', '/v1/users', { name: 'Prov', email: uniqueEmail('prov'), role: 'provider' });
    expect(res.statusCode, res.body).toBe(201);
  });
});
