import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { createUser, providerWithHours, upcomingDate } from '../helpers/api.js';

/**
 * The fast path of GET /v1/slots (src/http/fast-slot-reads.ts) must answer exactly as
 * the route does through Fastify: each request here is sent over real HTTP twice, with
 * the fast path on and off, and the two answers compared (status, every header but
 * Date and the request id, body). The requests it must take are checked to be taken,
 * and the ones it must leave to Fastify to be left.
 */
interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What must be equal: the request id is fresh per request and the bucket one token lower each time. */
function comparable(a: Answer) {
  const { date, 'x-request-id': requestId, ratelimit, ...headers } = a.headers;
  expect(date).toBeDefined();
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  return { status: a.status, headers: { ...headers, ratelimit: String(ratelimit).replace(/remaining=\d+/, 'remaining=N') }, body: a.body };
}

describe('GET /v1/slots: the fast path answers as Fastify does', () => {
  let server: TestServer;
  let port: number;
  let provider: Awaited<ReturnType<typeof providerWithHours>>;
  let client: Awaited<ReturnType<typeof createUser>>;
  let publicType: string;
  let privateType: string;
  const monday = upcomingDate(1);
  const sunday = new Date(Date.parse(`${monday}T00:00:00Z`) + 6 * 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '100000' });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;
    provider = await providerWithHours(server, 'Europe/Berlin');
    client = await createUser(server, 'client');
    const make = async (slug: string, isPublic: boolean) => {
      const res = await provider.call('POST', '/v1/event-types', { slug, title: 'Visit', durations: [30, 60], minimumNotice: 0, public: isPublic });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    publicType = await make('fast-public', true);
    privateType = await make('fast-private', false);
    // A hold, so that the answer is not the bare schedule.
    const first = (await client.call('GET', `/v1/slots?providerId=${provider.id}&from=${monday}&to=${monday}`)).json().slots[4].start;
    expect((await client.call('POST', '/v1/bookings', { providerId: provider.id, start: first })).statusCode).toBe(201);
  });
  afterAll(async () => server?.close());

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  /** Sends the request through both paths; returns the fast one's answer and whether the fast path took it. */
  async function both(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const fast = server.app.fastSlotReads;
    fast.enabled = true;
    const before = fast.answered;
    const viaFast = await get(port, path, headers, method);
    const taken = fast.answered - before;
    fast.enabled = false;
    try {
      const viaFastify = await get(port, path, headers, method);
      expect(comparable(viaFast)).toEqual(comparable(viaFastify));
    } finally {
      fast.enabled = true;
    }
    return { answer: viaFast, taken: taken === 1 };
  }

  const v1 = (query: string) => `/v1/slots?providerId=${provider.id}&${query}`;

  /**
   * Asks until the answer comes from memory: a type is kept, and a version known, once the feed has
   * delivered the last write's bump (tens of ms here); bounded at 4 s.
   */
  async function getFromMemory(path: string, headers: Record<string, string> = {}) {
    for (let i = 0; i < 80; i++) {
      const before = server.app.fastSlotReads.answeredFromMemory;
      const answer = await get(port, path, headers);
      if (server.app.fastSlotReads.answeredFromMemory - before === 1) return answer;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${path} was never answered from memory`);
  }

  it('takes the plain reads: v1 with dates, zones, durations and instants; event types with and without a key; the admin key', async () => {
    const cases: [string, Record<string, string>][] = [
      [v1(`from=${monday}&to=${sunday}`), bearer(client.apiKey)],
      [v1(`from=${monday}&to=${sunday}&timeZone=America/New_York&duration=60`), bearer(client.apiKey)],
      [v1(`from=${monday}T08:00:00%2B01:00&to=${sunday}T20:00:00-05:00`), bearer(client.apiKey)],
      [v1(`from=${monday}&to=${monday}`), { ...bearer(client.apiKey), origin: 'https://app.example' }],
      [v1(`from=${monday}&to=${monday}`), bearer(ADMIN_KEY)],
      [v1(`from=${monday}&to=${monday}`), bearer(provider.apiKey)],
      [`/v1/slots?eventTypeId=${publicType}&from=${monday}&to=${sunday}`, {}],
      [`/v1/slots?eventTypeId=${publicType}&from=${monday}&to=${sunday}&duration=60&timeZone=Asia/Tokyo`, { origin: 'https://embed.example' }],
      [`/v1/slots?eventTypeId=${privateType}&from=${monday}&to=${sunday}&providerId=${provider.id}`, bearer(provider.apiKey)],
    ];
    for (const [path, headers] of cases) {
      const { answer, taken } = await both(path, headers);
      expect(answer.status, `${path}: ${answer.body.slice(0, 200)}`).toBe(200);
      expect(taken, path).toBe(true);
      expect(JSON.parse(answer.body).slots.length, path).toBeGreaterThan(0);
      // Asked again, it is answered from memory (its key known, its render kept), the same.
      expect(comparable(await getFromMemory(path, headers)), path).toEqual(comparable(answer));
    }
  });

  it('answers from memory only while nothing changed: a new hold is in the very next answer', async () => {
    const path = v1(`from=${monday}&to=${monday}`);
    const read = async () => {
      const before = server.app.fastSlotReads.answeredFromMemory;
      const res = await get(port, path, bearer(client.apiKey));
      return { starts: JSON.parse(res.body).slots.map((s: { start: string }) => s.start) as string[], fromMemory: server.app.fastSlotReads.answeredFromMemory - before };
    };
    await getFromMemory(path, bearer(client.apiKey));
    const kept = await read();
    expect(kept.fromMemory).toBe(1);
    const taken = kept.starts[7]!;
    expect((await client.call('POST', '/v1/bookings', { providerId: provider.id, start: taken })).statusCode).toBe(201);
    const after = await read();
    expect(after.fromMemory).toBe(0);
    expect(after.starts).not.toContain(taken);
    expect(after.starts.length).toBe(kept.starts.length - 1);
    expect(JSON.parse((await getFromMemory(path, bearer(client.apiKey))).body).slots.length).toBe(kept.starts.length - 1);
  });

  it('answers an event type from memory only while it is unchanged: an edit is in the very next answer', async () => {
    const res = await provider.call('POST', '/v1/event-types', { slug: 'fast-edit', title: 'Visit', durations: [30], minimumNotice: 0, public: true });
    expect(res.statusCode, res.body).toBe(201);
    const path = `/v1/slots?eventTypeId=${res.json().id}&from=${monday}&to=${sunday}`;
    const read = async () => {
      const before = server.app.fastSlotReads.answeredFromMemory;
      const answer = await get(port, path, {});
      return { count: JSON.parse(answer.body).slots.length as number, fromMemory: server.app.fastSlotReads.answeredFromMemory - before };
    };
    const readUntilFromMemory = async () => ({ count: JSON.parse((await getFromMemory(path)).body).slots.length as number, fromMemory: 1 });
    const first = await read();
    expect(first.count).toBeGreaterThan(0);
    expect(await readUntilFromMemory()).toEqual({ count: first.count, fromMemory: 1 });
    expect((await provider.call('PATCH', `/v1/event-types/${res.json().id}`, { active: false })).statusCode).toBe(200);
    expect(await read()).toEqual({ count: 0, fromMemory: 0 });
    expect(await readUntilFromMemory()).toEqual({ count: 0, fromMemory: 1 });
  });

  it('answers If-None-Match with 304 (strong, weak and listed tags) and a stale tag with 200', async () => {
    const path = v1(`from=${monday}&to=${sunday}`);
    const etag = (await get(port, path, bearer(client.apiKey))).headers.etag as string;
    for (const [tag, status] of [[etag, 304], [`W/${etag}`, 304], [`"other", ${etag}`, 304], ['*', 304], ['"stale"', 200]] as const) {
      const { answer, taken } = await both(path, { ...bearer(client.apiKey), 'if-none-match': tag });
      expect(answer.status, tag).toBe(status);
      expect(taken, tag).toBe(true);
    }
  });

  it('leaves everything else to Fastify, which answers as without the fast path', async () => {
    const cases: [string, Record<string, string>, number, string?][] = [
      [v1(`from=${monday}&to=${sunday}`), {}, 401], // v1 needs a key
      [v1(`from=${monday}&to=${sunday}`), bearer('bk_not-a-key'), 401],
      [v1(`from=${monday}&to=${sunday}`), { authorization: 'Basic abc' }, 401],
      [`${v1(`from=${monday}&to=${sunday}`)}&apiKey=${client.apiKey}`, {}, 200], // the key in the query: Fastify's way
      [v1(`from=${monday}&to=${sunday}&bogus=1`), bearer(client.apiKey), 400],
      [v1(`from=${monday}&to=${sunday}&duration=0x10`), bearer(client.apiKey), 400],
      [v1(`from=${monday}&to=${sunday}&duration=20`), bearer(client.apiKey), 400], // not on the grid: the domain's 400
      [v1(`from=${sunday}&to=${monday}`), bearer(client.apiKey), 400],
      [v1(`from=${monday}&to=${sunday}&timeZone=Mars/Olympus`), bearer(client.apiKey), 400],
      [`/v1/slots?providerId=usr_nobody&from=${monday}&to=${sunday}`, bearer(client.apiKey), 404],
      [`${v1(`from=${monday}&to=${sunday}`)}&providerId=${provider.id}`, bearer(client.apiKey), 400], // repeated
      [`/v1/slots?eventTypeId=${privateType}&from=${monday}&to=${sunday}`, {}, 401], // not public: a key is required
      [`/v1/slots/?providerId=${provider.id}&from=${monday}&to=${sunday}`, bearer(client.apiKey), 200], // trailing slash
      [`/v1/slots?providerId=${provider.id}&from=${monday}&to=${sunday}#x`, bearer(client.apiKey), 400], // Fastify reads the fragment as part of `to`
    ];
    for (const [path, headers, status] of cases) {
      const { answer, taken } = await both(path, headers);
      expect(answer.status, `${path}: ${answer.body.slice(0, 200)}`).toBe(status);
      expect(taken, path).toBe(false);
      if (status >= 400) expect(answer.headers['content-type'], path).toMatch(/^application\/problem\+json/);
    }
    const head = await both(v1(`from=${monday}&to=${sunday}`), bearer(client.apiKey), 'HEAD');
    expect([head.answer.status, head.taken]).toEqual([200, false]);
  });

  it('counts its answers in /metrics as Fastify does', async () => {
    const count = async (status: string) => {
      const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = text.split('\n').find((l) => l.startsWith(`http_requests_total{method="GET",route="/v1/slots",status="${status}"}`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const [ok, notModified] = [await count('200'), await count('304')];
    const path = v1(`from=${monday}&to=${monday}`);
    const { answer, taken } = await both(path, bearer(client.apiKey)); // once each way: +2
    expect([answer.status, taken]).toEqual([200, true]);
    await both(path, { ...bearer(client.apiKey), 'if-none-match': answer.headers.etag as string });
    expect([await count('200'), await count('304')]).toEqual([ok + 2, notModified + 2]);
  });
});

describe('GET /v1/slots: the fast path and the rate limit', () => {
  let server: TestServer;
  let port: number;
  afterAll(async () => server?.close());

  it('takes one token per answer, none for a request it leaves to Fastify (which takes its own), and leaves the refusal to Fastify', async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '4' });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;
    const provider = await providerWithHours(server, 'UTC'); // its schedule's PUT takes the provider's first token
    const monday = upcomingDate(1);
    const key = { authorization: `Bearer ${provider.apiKey}` };
    const ok = `/v1/slots?providerId=${provider.id}&from=${monday}&to=${monday}`;
    const fast = server.app.fastSlotReads;
    const first = await get(port, ok, key);
    expect([first.status, first.headers.ratelimit]).toEqual([200, 'limit=4, remaining=2, reset=120']);
    // An answer that is an error (404) is Fastify's: one token, not two.
    const before = fast.answered;
    const missing = await get(port, `/v1/slots?providerId=usr_nobody&from=${monday}&to=${monday}`, key);
    expect([missing.status, missing.headers.ratelimit, fast.answered - before]).toEqual([404, 'limit=4, remaining=1, reset=180', 0]);
    const last = await get(port, ok, key);
    expect([last.status, last.headers.ratelimit, fast.answered - before]).toEqual([200, 'limit=4, remaining=0, reset=240', 1]);
    const refused = await get(port, ok, key);
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(fast.answered - before).toBe(1);
  });
});
