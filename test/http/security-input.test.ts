import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/webhook-receiver.js';
import { redactUrl } from '../../src/http/observability.js';
import { holdOk, localInstant } from './booking-helpers.js';

describe('item 6: query secrets are redacted after decoding', () => {
  it.each([
    '/v1/users/me?api%4Bey=bk_SECRET',
    '/v1/users/me?%61piKey=bk_SECRET&x=1',
    '/v1/providers/p/calendar.ics?t%6Fken=SECRET',
    '/v1/users/me?apikey=bk_SECRET',
    '/v1/users/me?apiKey=%zz&token=SECRET',
  ])('%s', (url) => {
    expect(redactUrl(url)).not.toContain('SECRET');
    expect(redactUrl(url).split('?')[0]).toBe(url.split('?')[0]);
  });
});

describe('text, passwords, links and SSRF wording', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PUBLIC_BASE_URL: 'https://booking.example.test' });
  });
  afterAll(async () => server?.close());

  it('item 8: a refused webhook or calendar URL does not name the address its host resolves to', async () => {
    const provider = await createUser(server, 'provider');
    const hook = expectProblem(await provider.call('POST', '/v1/webhooks', { url: 'http://localhost:9/hook', events: ['booking.held'] }), 400);
    const cal = expectProblem(await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'ics', url: 'http://localhost:9/x.ics' }), 400);
    for (const problem of [hook, cal]) {
      expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1|::1/);
      expect(problem.detail).toContain('refused');
    }
  });

  it('item 9: the feed URL is built from PUBLIC_BASE_URL, never from Host; the token can be rotated', async () => {
    const provider = await createUser(server, 'provider');
    const res = await provider.call('GET', `/v1/providers/${provider.id}/calendar-feed`, undefined, { host: 'evil.test/x?y=' });
    const { url, token } = res.json();
    expect(url).toBe(`https://booking.example.test/v1/providers/${provider.id}/calendar.ics?token=${encodeURIComponent(token)}`);
    const rotated = await provider.call('POST', `/v1/providers/${provider.id}/calendar-feed/rotate`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json().token).not.toBe(token);
    const feed = (t: string) => server.app.inject({ method: 'GET', url: `/v1/providers/${provider.id}/calendar.ics?token=${encodeURIComponent(t)}` });
    expect((await feed(token)).statusCode).toBe(404);
    expect((await feed(rotated.json().token)).statusCode).toBe(200);
    const stranger = await createUser(server, 'provider');
    expect((await stranger.call('POST', `/v1/providers/${provider.id}/calendar-feed/rotate`)).statusCode).toBe(403);
  });

  it.each(['        ', 'aaaaaaaa', 'password', 'Password1', '12345678', 'qwertyuiop'])('item 10: the password %j is refused', async (password) => {
    const res = await admin(server)('POST', '/v1/users', { name: 'Weak', email: `weak-${Math.random()}@example.test`, role: 'client', password });
    expect(expectProblem(res, 400).errors[0].path).toBe('body/password');
  });

  it('item 10: POST /v1/users/me/password changes the password (with the current one), and refuses a weak one', async () => {
    const email = `change-${Date.now()}@example.test`;
    const created = await admin(server)('POST', '/v1/users', { name: 'Changer', email, role: 'client', password: 'first long passphrase' });
    const call = client(server, created.json().apiKey);
    expectProblem(await call('POST', '/v1/users/me/password', { currentPassword: 'first long passphrase', newPassword: 'aaaaaaaa' }), 400);
    expectProblem(await call('POST', '/v1/users/me/password', { currentPassword: 'not it at all', newPassword: 'second long passphrase' }), 401);
    const changed = await call('POST', '/v1/users/me/password', { currentPassword: 'first long passphrase', newPassword: 'second long passphrase' });
    expect(changed.statusCode, changed.body).toBe(204);
    const login = (password: string) => server.app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password }) });
    expect((await login('first long passphrase')).statusCode).toBe(401);
    expect((await login('second long passphrase')).statusCode).toBe(200);
  });

  it.each([
    ['a BEL in a name', { name: 'Bell\u0007' }],
    ['a C1 control in a name', { name: 'Bell\u0085x' }],
    ['a name of zero-width spaces', { name: '\u200B\u200B\u200B' }],
    ['a name of a Hangul filler', { name: '\u3164' }],
  ])('item 11: %s is refused', async (_name, fields) => {
    const res = await admin(server)('POST', '/v1/users', { email: `ctl-${Math.random()}@example.test`, role: 'provider', ...fields });
    expect(expectProblem(res, 400).errors[0].path).toBe('body/name');
  });

  it('item 11: control characters are refused in every text field (booking notes, webhook description); a newline in notes is fine', async () => {
    const provider = await providerWithHours(server);
    const c = await createUser(server, 'client');
    const start = localInstant(upcomingDate(3), '09:00');
    expect(expectProblem(await c.call('POST', '/v1/bookings', { providerId: provider.id, start, notes: 'ring \u0007' }), 400).errors[0].path).toBe('body/notes');
    expectProblem(await c.call('POST', '/v1/webhooks', { url: 'https://hooks.example.test/', events: ['booking.held'], description: 'a\u001bb' }), 400);
    const ok = await holdOk(c.call, provider.id, start, undefined, { notes: 'line one\nline two' });
    expect(ok.notes).toBe('line one\nline two');
  });

  it('item 13: /confirm refuses unknown body fields like every other route', async () => {
    const provider = await providerWithHours(server);
    const c = await createUser(server, 'client');
    const booking = await holdOk(c.call, provider.id, localInstant(upcomingDate(4), '09:00'));
    const res = await c.call('POST', `/v1/bookings/${booking.id}/confirm`, { surprise: true });
    expect(expectProblem(res, 400).errors[0].path).toBe('body/surprise');
    expect((await c.call('POST', `/v1/bookings/${booking.id}/confirm`)).statusCode).toBe(200);
  });
});

describe('item 8: webhook deliveries do not follow redirects', () => {
  let server: TestServer;
  const seen: string[] = [];
  const target = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.url === '/hook') {
      res.writeHead(303, { location: '/elsewhere' });
      res.end();
    } else res.end('ok');
  });
  let base = '';
  beforeAll(async () => {
    server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_MS: '50' });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await server?.close();
    await new Promise<void>((resolve) => target.close(() => resolve()));
  });

  it('a 303 is recorded as the attempt\'s status and the signed body is not sent on', async () => {
    const provider = await providerWithHours(server);
    const c = await createUser(server, 'client');
    const hook = (await c.call('POST', '/v1/webhooks', { url: `${base}/hook`, events: ['booking.held'] })).json();
    await holdOk(c.call, provider.id, localInstant(upcomingDate(2), '09:00'));
    const deliveries = async () => (await c.call('GET', `/v1/webhooks/${hook.id}/deliveries`)).json().data;
    expect(await eventually(async () => (await deliveries())[0]?.attempts >= 1)).toBe(true);
    expect((await deliveries())[0]).toMatchObject({ status: 'pending', responseStatus: 303 });
    expect(seen).toEqual(['POST /hook']);
  });
});
