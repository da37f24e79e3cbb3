import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openStream, upgradeStatus, type StreamClient } from '../helpers/ws-client.js';
import { holdOk, localInstant } from './booking-helpers.js';
import { providerWithHours } from '../helpers/api.js';

describe('GET /v1/stream (live availability)', () => {
  let server: TestServer;
  let base: string;
  const clients: StreamClient[] = [];
  const open = async (path: string, headers: Record<string, string> = {}) => {
    const c = await openStream(`${base}${path}`, headers);
    clients.push(c);
    return c;
  };
  const versionOf = async (providerId: string) =>
    Number((await server.db.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [providerId])).rows[0]!.v);

  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (typeof address !== 'object' || !address) throw new Error('not listening');
    base = `ws://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  it('refuses the upgrade with 401 with an unknown key (without one it opens, for booking pages: see below)', async () => {
    expect(await upgradeStatus(`${base}/v1/stream?apiKey=not-a-key`)).toBe(401);
    expect(await upgradeStatus(`${base}/v1/stream`, { authorization: 'Bearer not-a-key' })).toBe(401);
  });

  it('without a key: only hosts of public event types may be followed', async () => {
    const host = await createUser(server, 'provider');
    const hidden = await createUser(server, 'provider');
    const made = await host.call('POST', '/v1/event-types', { slug: `stream-public-${Date.now()}`, title: 'Open', durations: [30], public: true });
    expect(made.statusCode, made.body).toBe(201);
    const anon = await open('/v1/stream');
    anon.send({ type: 'subscribe', providerIds: [host.id, hidden.id] });
    expect((await anon.next((m) => m.type === 'error')).message).toContain(hidden.id);
    expect(await anon.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', providerIds: [host.id] });
  });

  it('subscribes (by ?apiKey= and by Bearer header) and subscriptions add up', async () => {
    const user = await createUser(server, 'client');
    const a = await open(`/v1/stream?apiKey=${encodeURIComponent(user.apiKey)}`);
    a.send({ type: 'subscribe', providerIds: ['p1'] });
    expect(await a.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', providerIds: ['p1'] });
    a.send({ type: 'subscribe', providerIds: ['p2', 'p1'] });
    expect((await a.next((m) => m.type === 'subscribed')).providerIds.sort()).toEqual(['p1', 'p2']);
    a.send({ type: 'unsubscribe', providerIds: ['p1'] });
    expect(await a.next((m) => m.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', providerIds: ['p2'] });

    const b = await open('/v1/stream', { authorization: `Bearer ${user.apiKey}` });
    b.send({ type: 'subscribe', providerIds: [] });
    expect(await b.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', providerIds: [] });
  });

  it('bad frames get an error frame and the connection stays usable', async () => {
    const user = await createUser(server, 'client');
    const c = await open(`/v1/stream?apiKey=${encodeURIComponent(user.apiKey)}`);
    for (const bad of ['not json', '[]', '{"type":"subscribe"}', '{"type":"subscribe","providerIds":"p1"}', '{"type":"subscribe","providerIds":[1]}', '{"type":"nope","providerIds":[]}',
      JSON.stringify({ type: 'subscribe', providerIds: Array.from({ length: 101 }, (_, i) => `p${i}`) })]) {
      c.send(bad);
      const error = await c.next((m) => m.type === 'error');
      expect(typeof error.message, bad).toBe('string');
    }
    c.send({ type: 'subscribe', providerIds: ['p9'] });
    expect(await c.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', providerIds: ['p9'] });
  });

  it('a hold on a subscribed provider arrives within a second with the new version; others stay quiet', async () => {
    const provider = await providerWithHours(server);
    const other = await providerWithHours(server);
    const customer = await createUser(server, 'client');
    const watcher = await createUser(server, 'client');
    const c = await open(`/v1/stream?apiKey=${encodeURIComponent(watcher.apiKey)}`);
    c.send({ type: 'subscribe', providerIds: [provider.id] });
    await c.next((m) => m.type === 'subscribed');

    const monday = upcomingDate(1);
    const started = Date.now();
    await holdOk(customer.call, provider.id, localInstant(monday, '10:00'), 60);
    const version = await versionOf(provider.id);
    const change = await c.next((m) => m.type === 'availability.changed' && m.providerId === provider.id && m.version === version, 1_000);
    expect(change).toEqual({ type: 'availability.changed', providerId: provider.id, version });
    expect(Date.now() - started).toBeLessThan(1_500); // the hold's own request plus at most a second

    await holdOk(customer.call, other.id, localInstant(monday, '10:00'), 60);
    expect(await c.quiet((m) => m.type === 'availability.changed' && m.providerId === other.id, 800)).toBe(true);
  });

  it('after unsubscribing no more changes arrive', async () => {
    const provider = await providerWithHours(server);
    const customer = await createUser(server, 'client');
    const c = await open(`/v1/stream?apiKey=${encodeURIComponent(customer.apiKey)}`);
    c.send({ type: 'subscribe', providerIds: [provider.id] });
    await c.next((m) => m.type === 'subscribed');
    c.send({ type: 'unsubscribe', providerIds: [provider.id] });
    await c.next((m) => m.type === 'unsubscribed');
    await holdOk(customer.call, provider.id, localInstant(upcomingDate(2), '10:00'), 60);
    expect(await c.quiet((m) => m.type === 'availability.changed', 800)).toBe(true);
  });

  it('a plain GET without an upgrade is a 400 problem', async () => {
    const user = await createUser(server, 'client');
    const res = await user.call('GET', '/v1/stream');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('is in the OpenAPI document', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.json().paths['/v1/stream']?.get?.description).toMatch(/WebSocket/);
  });
});
