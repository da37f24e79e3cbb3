import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/server.js';
import { admin, client, expectProblem } from '../helpers/api.js';
import { signInAtIssuer, startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Sign-in with OpenID Connect end to end: the real app, openid-client, and a
 * real issuer (oidc-provider) on 127.0.0.1 (test/helpers/oidc-issuer.ts). The
 * test plays the browser: it opens /start, follows the issuer's redirects,
 * signs in there, and brings the issuer's redirect back to /callback with
 * the cookie /start set.
 */
const BASE = 'http://127.0.0.1:9'; // PUBLIC_BASE_URL: only the callback URLs are built on it; nothing listens there
const callbackOf = (provider: string) => `${BASE}/v1/auth/oidc/${provider}/callback`;
const RETURN_URL = 'http://127.0.0.1:9/signed-in';

describe('sign-in with OpenID Connect', () => {
  let issuer: TestIssuer;
  let server: TestServer;
  /** The server's clock runs this far ahead of the real one (the issuer keeps real time). */
  let skewMs = 0;

  beforeAll(async () => {
    issuer = await startTestIssuer(['test', 'closed', 'spa'].map(callbackOf));
    const entry = { issuer: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret };
    server = await startTestServer({
      PUBLIC_BASE_URL: BASE,
      OIDC_ISSUERS: JSON.stringify({
        test: { ...entry, signup: true },
        closed: { ...entry, signup: false },
        spa: { ...entry, signup: true, returnUrl: RETURN_URL },
      }),
    }, { clock: { now: () => Date.now() + skewMs } });
    issuer.accounts.set('alice-sub', { email: 'alice@example.test', emailVerified: true, name: 'Alice Example' });
    issuer.accounts.set('carol-sub', { email: 'carol@example.test', emailVerified: false });
    issuer.accounts.set('dave-sub', { email: 'dave@example.test', emailVerified: true });
    issuer.accounts.set('erin-sub', { email: 'erin@example.test', emailVerified: true });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  interface Started { location: URL; cookie: string; res: LightMyRequestResponse }
  async function start(provider = 'test', app = server.app): Promise<Started> {
    const res = await app.inject({ method: 'GET', url: `/v1/auth/oidc/${provider}/start` });
    expect(res.statusCode, res.body).toBe(302);
    const setCookie = String(res.headers['set-cookie']);
    return { location: new URL(String(res.headers.location)), cookie: setCookie.split(';')[0]!, res };
  }
  const callback = (provider: string, back: URL, cookie: string | null, app = server.app) => app.inject({
    method: 'GET', url: `/v1/auth/oidc/${provider}/callback${back.search}`, headers: cookie ? { cookie } : {},
  });
  /** The whole flow as a browser: start, sign in at the issuer as `account`, come back. */
  async function signIn(account: string, provider = 'test'): Promise<LightMyRequestResponse> {
    const started = await start(provider);
    const back = await signInAtIssuer(started.location.href, { account, callbackPrefix: callbackOf(provider) });
    return callback(provider, back, started.cookie);
  }
  const countUsersWithEmail = async (email: string) =>
    Number((await server.db.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE lower(email) = lower($1)', [email])).rows[0]!.n);
  const countKeysOf = async (userId: string) =>
    Number((await server.db.query<{ n: string }>('SELECT count(*) AS n FROM api_keys WHERE user_id = $1', [userId])).rows[0]!.n);

  it('start redirects to the issuer with PKCE (S256), state and nonce, and binds the state to the browser', async () => {
    const { location, res } = await start();
    expect(`${location.origin}${location.pathname}`).toBe(`${issuer.issuer}/auth`);
    const q = location.searchParams;
    expect(q.get('client_id')).toBe(issuer.clientId);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('redirect_uri')).toBe(callbackOf('test'));
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(q.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'email']));
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toContain(`oidc_state=${q.get('state')}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Path=\/v1\/auth\/oidc\/test\/callback/);
    // Limited like every unauthenticated route (by the client's address).
    expect(res.headers['ratelimit-policy']).toBeDefined();
    // Two starts, two different flows.
    expect((await start()).location.searchParams.get('state')).not.toBe(q.get('state'));
  });

  it('a first sign-in creates a client and answers a working API key; the next finds the same user, also after the email changed', async () => {
    const first = await signIn('alice-sub');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const body = first.json();
    expect(body).toMatchObject({ outcome: 'created', user: { email: 'alice@example.test', role: 'client', name: 'Alice Example' } });
    const me = await client(server, body.apiKey)('GET', '/v1/users/me');
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ id: body.user.id, email: 'alice@example.test', role: 'client' });

    const second = await signIn('alice-sub');
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({ outcome: 'signedIn', user: { id: body.user.id } });
    expect(second.json().apiKey).not.toBe(body.apiKey);

    issuer.accounts.set('alice-sub', { email: 'alice.new@example.test', emailVerified: true });
    const third = await signIn('alice-sub');
    expect(third.statusCode, third.body).toBe(200);
    expect(third.json()).toMatchObject({ outcome: 'signedIn', user: { id: body.user.id } });
    expect(await countUsersWithEmail('alice.new@example.test')).toBe(0);
  });

  it('links the identity to the existing user with that verified email', async () => {
    const created = await admin(server)('POST', '/v1/users', { name: 'Dr. Dave', email: 'Dave@Example.test', role: 'provider' });
    expect(created.statusCode, created.body).toBe(201);
    const res = await signIn('dave-sub');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'linked', user: { id: created.json().user.id, role: 'provider' } });
    const again = await signIn('dave-sub');
    expect(again.json()).toMatchObject({ outcome: 'signedIn', user: { id: created.json().user.id } });
    expect(await countUsersWithEmail('dave@example.test')).toBe(1);
  });

  it('a wrong state is a 400 and uses nothing up: the real one still finishes', async () => {
    const started = await start();
    const back = await signInAtIssuer(started.location.href, { account: 'erin-sub', callbackPrefix: callbackOf('test') });
    const forged = new URL(back);
    forged.searchParams.set('state', 'x'.repeat(43));
    const wrong = expectProblem(await callback('test', forged, started.cookie), 400);
    expect(wrong.code).toBe('oidc_state_invalid');
    // The attacker's browser with a cookie that matches its forged state: the server never issued it.
    expect(expectProblem(await callback('test', forged, `oidc_state=${'x'.repeat(43)}`), 400).code).toBe('oidc_state_invalid');
    expect(expectProblem(await callback('test', new URL(`${callbackOf('test')}?code=abc`), started.cookie), 400).code).toBe('oidc_state_invalid');
    const ok = await callback('test', back, started.cookie);
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a state older than 10 minutes is a 400', async () => {
    const started = await start();
    const back = await signInAtIssuer(started.location.href, { account: 'erin-sub', callbackPrefix: callbackOf('test') });
    skewMs = 10 * 60 * 1000 + 1000;
    try {
      expect(expectProblem(await callback('test', back, started.cookie), 400).code).toBe('oidc_state_invalid');
    } finally {
      skewMs = 0;
    }
  });

  it('a callback from another browser (no cookie of the start) is a 400: no signing someone in as the attacker', async () => {
    const started = await start();
    const back = await signInAtIssuer(started.location.href, { account: 'erin-sub', callbackPrefix: callbackOf('test') });
    expect(expectProblem(await callback('test', back, null), 400).code).toBe('oidc_state_invalid');
  });

  it('a replayed callback (the same code and state twice) is a 400 and makes no second key', async () => {
    const started = await start();
    const back = await signInAtIssuer(started.location.href, { account: 'erin-sub', callbackPrefix: callbackOf('test') });
    const first = await callback('test', back, started.cookie);
    expect(first.statusCode, first.body).toBe(200);
    const userId = first.json().user.id;
    const keys = await countKeysOf(userId);
    const replay = expectProblem(await callback('test', back, started.cookie), 400);
    expect(replay.code).toBe('oidc_state_invalid');
    expect(await countKeysOf(userId)).toBe(keys);
  });

  it('an email the issuer has not verified is a 403 and creates no user', async () => {
    const problem = expectProblem(await signIn('carol-sub'), 403);
    expect(problem.code).toBe('oidc_email_unverified');
    expect(await countUsersWithEmail('carol@example.test')).toBe(0);
  });

  it('a sign-in cancelled at the issuer (access_denied) is a 401', async () => {
    const started = await start();
    const back = await signInAtIssuer(started.location.href, { account: '', deny: true, callbackPrefix: callbackOf('test') });
    expect(back.searchParams.get('error')).toBe('access_denied');
    const problem = expectProblem(await callback('test', back, started.cookie), 401);
    expect(problem.code).toBe('oidc_denied');
    expect(problem.detail).toContain('access_denied');
  });

  it('an ID token whose nonce is not the one of this flow is refused (401)', async () => {
    const started = await start();
    const tampered = new URL(started.location);
    tampered.searchParams.set('nonce', 'n'.repeat(43)); // the request altered on its way to the issuer
    const back = await signInAtIssuer(tampered.href, { account: 'erin-sub', callbackPrefix: callbackOf('test') });
    const problem = expectProblem(await callback('test', back, started.cookie), 401);
    expect(problem.code).toBe('oidc_rejected');
    expect(problem.detail).toMatch(/nonce/);
  });

  it('with sign-up closed an unknown email is a 403 and creates no user; a known one still links', async () => {
    issuer.accounts.set('frank-sub', { email: 'frank@example.test', emailVerified: true });
    expect(expectProblem(await signIn('frank-sub', 'closed'), 403).code).toBe('forbidden');
    expect(await countUsersWithEmail('frank@example.test')).toBe(0);
    const created = await admin(server)('POST', '/v1/users', { name: 'Frank', email: 'frank@example.test', role: 'client' });
    const res = await signIn('frank-sub', 'closed');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'linked', user: { id: created.json().user.id } });
  });

  it('an administrator is never signed in by an issuer', async () => {
    issuer.accounts.set('root-sub', { email: 'admin@localhost', emailVerified: true });
    expect(expectProblem(await signIn('root-sub'), 403).code).toBe('forbidden');
  });

  it('with a return URL the key comes back in the fragment, never in the query', async () => {
    issuer.accounts.set('gina-sub', { email: 'gina@example.test', emailVerified: true });
    const res = await signIn('gina-sub', 'spa');
    expect(res.statusCode, res.body).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(RETURN_URL);
    expect(location.search).toBe('');
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('outcome')).toBe('created');
    const me = await client(server, fragment.get('apiKey'))('GET', '/v1/users/me');
    expect(me.json()).toMatchObject({ id: fragment.get('userId'), email: 'gina@example.test' });
  });

  it('another server process on the same database finishes a flow this one started', async () => {
    const other = await createServer(server.config, { db: server.db, logger: false });
    try {
      const started = await start('test', server.app);
      const back = await signInAtIssuer(started.location.href, { account: 'erin-sub', callbackPrefix: callbackOf('test') });
      const res = await callback('test', back, started.cookie, other.app);
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('a deleted user is not signed in again; an erased client\'s links are gone', async () => {
    issuer.accounts.set('hank-sub', { email: 'hank@example.test', emailVerified: true });
    const hank = (await signIn('hank-sub')).json();
    expect(hank.outcome).toBe('created');
    const erased = await client(server, hank.apiKey)('DELETE', `/v1/users/${hank.user.id}`);
    expect(erased.statusCode, erased.body).toBe(204);
    const links = await server.db.query('SELECT * FROM user_identities WHERE user_id = $1', [hank.user.id]);
    expect(links.rows).toEqual([]);

    const provider = await admin(server)('POST', '/v1/users', { name: 'Ivy', email: 'ivy@example.test', role: 'provider' });
    issuer.accounts.set('ivy-sub', { email: 'ivy@example.test', emailVerified: true });
    expect((await signIn('ivy-sub')).json().outcome).toBe('linked');
    expect((await admin(server)('DELETE', `/v1/users/${provider.json().user.id}`)).statusCode).toBe(204);
    expect(expectProblem(await signIn('ivy-sub'), 403).code).toBe('forbidden');
  });

  it('an unknown provider is a 404 on both routes', async () => {
    for (const path of ['/v1/auth/oidc/nope/start', '/v1/auth/oidc/nope/callback?code=a&state=b', '/v1/auth/oidc/__proto__/start']) {
      expect(expectProblem(await server.app.inject({ method: 'GET', url: path }), 404).code).toBe('not_found');
    }
  });

  it('an issuer that cannot be reached is a 503 problem, and nothing is stored', async () => {
    const down = await startTestServer({
      PUBLIC_BASE_URL: BASE,
      OIDC_ISSUERS: JSON.stringify({ down: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y' } }),
    });
    try {
      const problem = expectProblem(await down.app.inject({ method: 'GET', url: '/v1/auth/oidc/down/start' }), 503);
      expect(problem.code).toBe('unavailable');
      expect(problem.detail).toContain('"down" could not be reached');
      expect(Number((await down.db.query<{ n: string }>('SELECT count(*) AS n FROM oidc_states')).rows[0]!.n)).toBe(0);
    } finally {
      await down.close();
    }
  });

  it('Google from GOOGLE_CLIENT_ID/SECRET: start redirects to its authorization endpoint with PKCE, no discovery request', async () => {
    // The test servers point GOOGLE_AUTH_URL at a closed loopback port (test/helpers/server.ts): nothing is fetched.
    const { location } = await start('google');
    expect(`${location.origin}${location.pathname}`).toBe(server.config.google.authUrl);
    expect(location.searchParams.get('client_id')).toBe(server.config.google.clientId);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('redirect_uri')).toBe(callbackOf('google'));
  });
});

describe('sign-in with an issuer that puts the email in the ID token (as Google does)', () => {
  let issuer: TestIssuer;
  let server: TestServer;
  beforeAll(async () => {
    issuer = await startTestIssuer([callbackOf('idtoken')], { emailInIdToken: true });
    server = await startTestServer({
      PUBLIC_BASE_URL: BASE, OPEN_SIGNUP: 'true',
      OIDC_ISSUERS: JSON.stringify({ idtoken: { issuer: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret } }),
    });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  it('reads the verified email from the ID token, and refuses an unverified one', async () => {
    const signIn = async (account: string) => {
      const started = await server.app.inject({ method: 'GET', url: '/v1/auth/oidc/idtoken/start' });
      const back = await signInAtIssuer(String(started.headers.location), { account, callbackPrefix: callbackOf('idtoken') });
      const cookie = String(started.headers['set-cookie']).split(';')[0]!;
      return server.app.inject({ method: 'GET', url: `/v1/auth/oidc/idtoken/callback${back.search}`, headers: { cookie } });
    };
    issuer.accounts.set('jo-sub', { email: 'jo@example.test', emailVerified: true });
    issuer.accounts.set('kim-sub', { email: 'kim@example.test', emailVerified: false });
    const res = await signIn('jo-sub');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'created', user: { email: 'jo@example.test', role: 'client' } });
    expect(expectProblem(await signIn('kim-sub'), 403).code).toBe('oidc_email_unverified');
  });
});

describe('sign-in routes are rate-limited by client address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '2', RATE_LIMIT_BURST: '2' });
  });
  afterAll(async () => server?.close());

  it('like every unauthenticated route: past the burst a 429 with Retry-After', async () => {
    const get = (url: string) => server.app.inject({ method: 'GET', url, remoteAddress: '127.0.0.7' });
    expect((await get('/v1/auth/oidc/google/start')).statusCode).toBe(302);
    expectProblem(await get('/v1/auth/oidc/google/callback?state=x&code=y'), 400);
    const limited = expectProblem(await get('/v1/auth/oidc/google/start'), 429);
    expect(limited.code).toBe('rate_limited');
    expect((await get('/v1/auth/oidc/google/callback?state=x&code=y')).statusCode).toBe(429);
  });
});
