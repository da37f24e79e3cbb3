/**
 * Helpers for the concurrency suites: a tiny fetch client over real HTTP (so
 * requests truly overlap on the connection pool), set-up of a provider and
 * clients through the public API, racing holds, and the SQL checks that prove
 * the no-overlap guarantee held.
 */
import { expect } from 'vitest';
import type { Queryable } from '../../src/db/database.js';

export interface HttpResult {
  status: number;
  contentType: string;
  body: any;
  text: string;
}

/** Bounded: a request that hangs fails the test instead of the run. */
const REQUEST_TIMEOUT_MS = 20_000;

export function http(baseUrl: string, apiKey: string | null) {
  return async (method: string, path: string, body?: unknown): Promise<HttpResult> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed, text };
  };
}

export type Http = ReturnType<typeof http>;

export interface Party {
  id: string;
  apiKey: string;
}

let counter = 0;
function uniqueEmail(role: string): string {
  counter += 1;
  return `${role}-${process.pid}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.test`;
}

export async function createParty(admin: Http, role: 'provider' | 'client', extra: Record<string, unknown> = {}): Promise<Party> {
  const res = await admin('POST', '/v1/users', { name: `Race ${role}`, email: uniqueEmail(role), role, ...extra });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.user.id, apiKey: res.body.apiKey };
}

/** A provider working Mon-Fri 09:00-17:00 in Europe/Berlin. */
export async function createProviderWithHours(admin: Http, timeZone = 'Europe/Berlin'): Promise<Party> {
  const provider = await createParty(admin, 'provider', { timeZone });
  const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));
  const res = await admin('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone, weekly });
  expect(res.status, res.text).toBe(200);
  return provider;
}

export async function createClients(admin: Http, n: number): Promise<Party[]> {
  const clients: Party[] = [];
  // Sequential in small batches: set-up is not what is under test.
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => createParty(admin, 'client')));
    clients.push(...batch);
  }
  return clients;
}

/** The 60-minute slots of the provider on a local date (09:00 .. 16:00 starts: 29). */
export async function slotsOn(caller: Http, providerId: string, date: string, duration = 60): Promise<{ start: string; end: string }[]> {
  const res = await caller('GET', `/v1/slots?providerId=${providerId}&from=${date}&to=${date}&duration=${duration}`);
  expect(res.status, res.text).toBe(200);
  return res.body.slots;
}

export interface HoldAttempt {
  clientIndex: number;
  start: string;
  durationMinutes: number;
  result: HoldResult;
}

export type HoldResult = HttpResult | { status: 'network-error'; error: string };

/**
 * Fires all holds at once: every request is created before any is awaited,
 * behind one shared start signal, so they overlap on the server.
 */
export async function raceHolds(
  requests: { call: Http; providerId: string; start: string; durationMinutes: number; clientIndex: number }[],
): Promise<HoldAttempt[]> {
  let go!: () => void;
  const gate = new Promise<void>((resolve) => {
    go = resolve;
  });
  const pending = requests.map(async (r): Promise<HoldAttempt> => {
    await gate;
    let result: HoldResult;
    try {
      result = await r.call('POST', '/v1/bookings', { providerId: r.providerId, start: r.start, duration: r.durationMinutes });
    } catch (error) {
      result = { status: 'network-error', error: String(error) };
    }
    return { clientIndex: r.clientIndex, start: r.start, durationMinutes: r.durationMinutes, result };
  });
  go();
  return Promise.all(pending);
}

export function statusHistogram(attempts: HoldAttempt[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const a of attempts) h[String(a.result.status)] = (h[String(a.result.status)] ?? 0) + 1;
  return h;
}

/** Explains a failed expectation: the histogram and the first few odd answers. */
export function describeAttempts(attempts: HoldAttempt[]): string {
  const odd = attempts
    .filter((a) => a.result.status !== 201 && a.result.status !== 409)
    .slice(0, 3)
    .map((a) => ('text' in a.result ? `${a.result.status} ${a.result.text.slice(0, 300)}` : a.result.error));
  return `statuses ${JSON.stringify(statusHistogram(attempts))}${odd.length ? `; e.g. ${odd.join(' | ')}` : ''}`;
}

export function expectConflictProblem(attempt: HoldAttempt): void {
  const r = attempt.result;
  expect(r.status, describeAttempts([attempt])).toBe(409);
  if (!('contentType' in r)) return;
  expect(r.contentType).toMatch(/^application\/problem\+json/);
  expect(r.body?.status).toBe(409);
  expect(typeof r.body?.title).toBe('string');
  expect(typeof r.body?.detail).toBe('string');
  expect(typeof r.body?.type).toBe('string');
}

/** A seeded PRNG (mulberry32): a failing race can be replayed from its printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Anything that runs a query: the app's Database, or a plain pg client wrapped by sqlOf. */
export type Sql = Pick<Queryable, 'query'>;

const LIVE = `(status = 'confirmed' OR (status = 'held' AND expires_at > now()))`;

/** Pairs of live bookings of the provider that overlap: must always be empty. */
export async function overlappingLivePairs(db: Sql, providerId: string): Promise<{ a: string; b: string }[]> {
  const { rows } = await db.query<{ a: string; b: string }>(
    `SELECT x.id AS a, y.id AS b
       FROM bookings x
       JOIN bookings y
         ON y.provider_id = x.provider_id
        AND x.id < y.id
        AND tstzrange(x.start_at, x.end_at, '[)') && tstzrange(y.start_at, y.end_at, '[)')
      WHERE x.provider_id = $1
        AND (x.status = 'confirmed' OR (x.status = 'held' AND x.expires_at > now()))
        AND (y.status = 'confirmed' OR (y.status = 'held' AND y.expires_at > now()))`,
    [providerId],
  );
  return rows;
}

export interface StoredBooking {
  id: string;
  client_id: string;
  start_ms: number;
  end_ms: number;
  status: string;
  live: boolean;
}

export async function bookingsOf(db: Sql, providerId: string): Promise<StoredBooking[]> {
  const { rows } = await db.query<{ id: string; client_id: string; start_at: Date | string; end_at: Date | string; status: string; live: boolean }>(
    `SELECT id, client_id, start_at, end_at, status, ${LIVE} AS live FROM bookings WHERE provider_id = $1 ORDER BY start_at`,
    [providerId],
  );
  return rows.map((r) => ({
    id: r.id,
    client_id: r.client_id,
    start_ms: new Date(r.start_at).getTime(),
    end_ms: new Date(r.end_at).getTime(),
    status: r.status,
    live: r.live,
  }));
}

/**
 * After a race on a provider with no other bookings: zero overlapping live
 * pairs; each 201 is exactly one stored live held row (same id, client, start,
 * end); no live row without its 201; and every 409 really collided with a
 * winner (a loser only fails against a committed overlapping booking).
 */
export async function verifyRace(db: Sql, providerId: string, clients: Party[], attempts: HoldAttempt[]): Promise<void> {
  expect(await overlappingLivePairs(db, providerId)).toEqual([]);
  const rows = await bookingsOf(db, providerId);
  const live = rows.filter((r) => r.live);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const won = attempts.filter((a) => a.result.status === 201);
  for (const a of won) {
    const body = (a.result as HttpResult).body;
    const row = byId.get(body.id);
    expect(row, `201 for booking ${body.id} has no row`).toBeDefined();
    expect(row!.live).toBe(true);
    expect(row!.status).toBe('held');
    expect(row!.client_id).toBe(clients[a.clientIndex]!.id);
    expect(row!.start_ms).toBe(Date.parse(a.start));
    expect(row!.end_ms).toBe(Date.parse(a.start) + a.durationMinutes * 60_000);
    expect(body.status).toBe('held');
    expect(Date.parse(body.start)).toBe(Date.parse(a.start));
  }
  expect(live.map((r) => r.id).sort()).toEqual(won.map((a) => (a.result as HttpResult).body.id).sort());
  for (const a of attempts.filter((x) => x.result.status === 409)) {
    const start = Date.parse(a.start);
    const end = start + a.durationMinutes * 60_000;
    expect(
      live.some((r) => r.start_ms < end && r.end_ms > start),
      `409 for ${a.start} but no live booking overlaps it`,
    ).toBe(true);
  }
}
