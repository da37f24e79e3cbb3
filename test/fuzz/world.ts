/**
 * The data the fuzzer runs against, made through the API with the admin key
 * before the run:
 *
 * - the protected pair: provider P (weekly hours, an override, time off, a
 *   one-off window) and client C (a held and a confirmed booking with P). Their
 *   rows are snapshotted and must be unchanged after the run.
 * - the throwaway pair: provider Q and client T with the same kinds of data.
 *   Their rows may change: a valid request from P or C that would legitimately
 *   change P's or C's data is redirected to them (see world.retarget).
 */
import { expect } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { ADMIN_KEY, type TestServer } from '../helpers/server.js';

export type ActorName = 'none' | 'garbage' | 'client' | 'provider' | 'throwawayClient' | 'throwawayProvider';

export interface Actor {
  id: string;
  key: string;
  email: string;
}

interface PairData {
  provider: Actor;
  client: Actor;
  heldBookingId: string;
  confirmedBookingId: string;
  windowId: string;
  timeOffId: string;
  overrideDate: string;
  /** The provider's event type (buffers, a limit, questions) and a held booking of it by the client. */
  eventTypeId: string;
  typedBookingId: string;
}

export interface World {
  adminId: string;
  protectedPair: PairData;
  throwawayPair: PairData;
  password: string;
  actors: Record<Exclude<ActorName, 'none' | 'garbage'>, Actor>;
  /** Ids of the keys the fuzzer sends: never revoked by it. */
  actorKeyIds: Set<string>;
  /** protected id -> its throwaway counterpart (P -> Q, C's bookings -> T's, ...). */
  counterpart: Map<string, string>;
  /** Interesting values for generated fields. */
  pools: {
    ids: string[];
    providerIds: string[];
    bookingIds: string[];
    emails: string[];
    slotStarts: string[];
    /** provider id -> starts of its free slots (for coherent holds). */
    slotsByProvider: Record<string, string[]>;
    dates: string[];
    rangeBounds: string[];
    feedTokens: string[];
  };
}

const PASSWORD = 'correct horse battery staple';

type Call = (method: string, url: string, body?: unknown, key?: string) => Promise<{ status: number; json: any; text: string }>;

function caller(server: TestServer): Call {
  return async (method, url, body, key = ADMIN_KEY) => {
    const res = await server.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    let json: unknown = null;
    try {
      json = JSON.parse(res.body);
    } catch {
      // not JSON
    }
    return { status: res.statusCode, json, text: res.body };
  };
}

function ok(res: { status: number; text: string }, status: number): void {
  expect(res.status, res.text).toBe(status);
}

async function makeUser(call: Call, role: 'provider' | 'client', label: string, timeZone: string): Promise<Actor> {
  const email = `fuzz-${label}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const res = await call('POST', '/v1/users', { name: `Fuzz ${label}`, email, role, timeZone, password: PASSWORD });
  ok(res, 201);
  return { id: res.json.user.id, key: res.json.apiKey, email };
}

async function seedPair(call: Call, label: string, timeZone: string, slotStarts: string[], slotsByProvider: Record<string, string[]>): Promise<PairData> {
  const provider = await makeUser(call, 'provider', `${label}-provider`, timeZone);
  const client = await makeUser(call, 'client', `${label}-client`, timeZone);
  const weekly = [
    ...['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' })),
    { day: 'saturday', start: '22:00', end: '02:00' }, // overnight
  ];
  ok(await call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone, weekly }, provider.key), 200);

  const monday = upcomingDate(1, 14);
  const slots = await call('GET', `/v1/slots?providerId=${provider.id}&from=${monday}&to=${monday}`, undefined, client.key);
  ok(slots, 200);
  const starts = (slots.json.slots as { start: string }[]).map((s) => s.start);
  expect(starts.length).toBeGreaterThan(8);
  const held = await call('POST', '/v1/bookings', { providerId: provider.id, start: starts[0], duration: 30 }, client.key);
  ok(held, 201);
  const toConfirm = await call('POST', '/v1/bookings', { providerId: provider.id, start: starts[4], notes: 'seeded' }, client.key);
  ok(toConfirm, 201);
  ok(await call('POST', `/v1/bookings/${toConfirm.json.id}/confirm`, undefined, client.key), 200);

  const overrideDate = upcomingDate(3, 21);
  ok(await call('PUT', `/v1/providers/${provider.id}/overrides/${overrideDate}`, { windows: [{ start: '10:00', end: '12:00' }] }, provider.key), 200);
  const offStart = Date.parse(`${upcomingDate(2, 14)}T12:00:00Z`);
  const off = await call('POST', `/v1/providers/${provider.id}/time-off`, {
    start: new Date(offStart).toISOString(),
    end: new Date(offStart + 3 * 3600_000).toISOString(),
    reason: 'dentist',
  }, provider.key);
  ok(off, 201);
  const win = await call('POST', `/v1/providers/${provider.id}/availability`, { date: upcomingDate(0, 14), start: '10:00', end: '14:00' }, provider.key);
  ok(win, 201);
  const type = await call('POST', '/v1/event-types', {
    slug: `fuzz-${label}-${Math.random().toString(36).slice(2, 8)}`, title: `Fuzz ${label}`, durations: [30, 60],
    bufferBefore: 5, bufferAfter: 10, limits: { perDay: 6 }, cancellationNotice: 60, public: label === 't',
    questions: [{ id: 'reason', label: 'Reason', type: 'text', required: true }, { id: 'kind', label: 'Kind', type: 'select', options: ['a', 'b'] }],
  }, provider.key);
  ok(type, 201);
  const typed = await call('POST', '/v1/bookings', { eventTypeId: type.json.id, start: starts[8], answers: { reason: 'seeded' } }, client.key);
  ok(typed, 201);

  // Slot starts over the next weeks: the valid "start" values of generated holds.
  const from = upcomingDate(1, 2);
  const to = new Date(Date.parse(from) + 20 * 86_400_000).toISOString().slice(0, 10);
  const later = await call('GET', `/v1/slots?providerId=${provider.id}&from=${from}&to=${to}&duration=15`, undefined, client.key);
  ok(later, 200);
  const all = (later.json.slots as { start: string }[]).map((s) => s.start);
  const mine: string[] = [];
  for (let i = 0; i < all.length; i += Math.max(1, Math.floor(all.length / 40))) mine.push(all[i]!);
  mine.push(starts[0]!, starts[1]!, starts[4]!); // taken: 409s
  slotsByProvider[provider.id] = mine;
  slotStarts.push(...mine);

  return {
    provider,
    client,
    heldBookingId: held.json.id,
    confirmedBookingId: toConfirm.json.id,
    windowId: win.json.id,
    timeOffId: off.json.id,
    overrideDate,
    eventTypeId: type.json.id,
    typedBookingId: typed.json.id,
  };
}

export async function seedWorld(server: TestServer): Promise<World> {
  const call = caller(server);
  const slotStarts: string[] = [];
  const slotsByProvider: Record<string, string[]> = {};
  const protectedPair = await seedPair(call, 'p', 'Europe/Berlin', slotStarts, slotsByProvider);
  const throwawayPair = await seedPair(call, 't', 'America/New_York', slotStarts, slotsByProvider);
  const actors = {
    client: protectedPair.client,
    provider: protectedPair.provider,
    throwawayClient: throwawayPair.client,
    throwawayProvider: throwawayPair.provider,
  };

  const actorKeyIds = new Set<string>();
  for (const a of Object.values(actors)) {
    const res = await call('GET', '/v1/api-keys', undefined, a.key);
    ok(res, 200);
    for (const k of res.json.data as { id: string }[]) actorKeyIds.add(k.id);
  }
  const me = await call('GET', '/v1/users/me');
  ok(me, 200);

  const feedTokens: string[] = [];
  for (const p of [protectedPair.provider, throwawayPair.provider]) {
    const feed = await call('GET', `/v1/providers/${p.id}/calendar-feed`, undefined, p.key);
    ok(feed, 200);
    feedTokens.push(feed.json.token);
  }

  const counterpart = new Map<string, string>([
    [protectedPair.provider.id, throwawayPair.provider.id],
    [protectedPair.client.id, throwawayPair.client.id],
    [protectedPair.heldBookingId, throwawayPair.heldBookingId],
    [protectedPair.confirmedBookingId, throwawayPair.confirmedBookingId],
    [protectedPair.windowId, throwawayPair.windowId],
    [protectedPair.timeOffId, throwawayPair.timeOffId],
    [protectedPair.eventTypeId, throwawayPair.eventTypeId],
    [protectedPair.typedBookingId, throwawayPair.typedBookingId],
  ]);

  const pairIds = (p: PairData) => [
    p.provider.id, p.client.id, p.heldBookingId, p.confirmedBookingId, p.windowId, p.timeOffId, p.eventTypeId, p.typedBookingId,
  ];
  const dates = [protectedPair.overrideDate, throwawayPair.overrideDate, upcomingDate(1, 14), upcomingDate(6, 14), upcomingDate(0, 14)];
  const now = Date.now();
  const rangeBounds = [
    ...dates,
    '0001-01-01', '9999-12-31', '1000-01-01', '8999-12-31', '2027-03-28', '2027-10-31', '2027-03-14', '2027-11-07',
    '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2027-03-28T00:30:00+01:00', '2027-10-31T02:30:00+02:00',
    new Date(now).toISOString(),
    new Date(now + 14 * 86_400_000).toISOString(),
    new Date(now + 30 * 86_400_000).toISOString().replace('Z', '+02:00'),
    new Date(now + 93 * 86_400_000).toISOString(),
    new Date(now + 94 * 86_400_000).toISOString(),
  ];
  return {
    adminId: me.json.id,
    protectedPair,
    throwawayPair,
    password: PASSWORD,
    actors,
    actorKeyIds,
    counterpart,
    pools: {
      ids: [...pairIds(protectedPair), ...pairIds(throwawayPair), me.json.id, ...actorKeyIds],
      providerIds: [protectedPair.provider.id, throwawayPair.provider.id],
      bookingIds: [
        protectedPair.heldBookingId, protectedPair.confirmedBookingId, protectedPair.typedBookingId,
        throwawayPair.heldBookingId, throwawayPair.confirmedBookingId, throwawayPair.typedBookingId,
      ],
      emails: Object.values(actors).map((a) => a.email),
      slotStarts,
      slotsByProvider,
      dates,
      rangeBounds,
      feedTokens,
    },
  };
}

// ---------------------------------------------------------------- stored-data snapshot

/** table -> primary key expression and the owner columns (or a condition on $1) whose throwaway rows may change. */
const TABLES: Record<string, { key: string; owners: string[]; notOwned?: string }> = {
  users: { key: 'id', owners: ['id'] },
  schedules: { key: 'provider_id', owners: ['provider_id'] },
  bookings: { key: 'id', owners: ['provider_id', 'client_id'] },
  schedule_overrides: { key: "provider_id || '/' || local_date::text", owners: ['provider_id'] },
  time_off: { key: 'id', owners: ['provider_id'] },
  availability_windows: { key: 'id', owners: ['provider_id'] },
  api_keys: { key: 'id', owners: ['user_id'] },
  event_types: { key: 'id', owners: [], notOwned: 'id NOT IN (SELECT event_type_id FROM event_type_hosts WHERE provider_id = ANY($1::text[]))' },
  event_type_hosts: { key: "event_type_id || '/' || provider_id", owners: ['provider_id'] },
  closures: { key: 'id', owners: [], notOwned: 'true' },
};

/**
 * `users.availability_version` is a counter that any valid hold with P (from
 * C or T, which may legitimately create new bookings) bumps: not compared.
 */
const VOLATILE_COLUMNS = new Set(['availability_version']);

export type Snapshot = Record<string, Map<string, string>>;

/** Every row not owned by the throwaway users, keyed by primary key, as canonical JSON. */
export async function snapshot(server: TestServer, world: World): Promise<Snapshot> {
  const throwaway = [world.throwawayPair.provider.id, world.throwawayPair.client.id];
  const out: Snapshot = {};
  for (const [table, { key, owners, notOwned }] of Object.entries(TABLES)) {
    const where = [...owners.map((c) => `${c} <> ALL($1::text[])`), ...(notOwned ? [notOwned] : []), '$1::text[] IS NOT NULL'].join(' AND ');
    const { rows } = await server.db.query<Record<string, unknown>>(
      `SELECT ${key} AS __key, * FROM ${table} WHERE ${where} ORDER BY 1`,
      [throwaway],
    );
    out[table] = new Map(
      rows.map((r) => {
        const { __key, ...cols } = r;
        for (const c of VOLATILE_COLUMNS) delete cols[c];
        return [String(__key), JSON.stringify(cols)];
      }),
    );
  }
  return out;
}

/**
 * Differences between two snapshots: a seeded row changed or vanished, or a
 * new row appeared in a table where no request the fuzzer may send can
 * legitimately create one for P, C or the admin (new bookings by C and new
 * keys of P or C are fine).
 */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const problems: string[] = [];
  // New bookings by C, new keys of P or C, and the closures and event types P makes for itself are legitimate.
  const mayGrow = new Set(['bookings', 'api_keys', 'closures', 'event_types', 'event_type_hosts']);
  for (const [table, rows] of Object.entries(before)) {
    const now = after[table] ?? new Map<string, string>();
    for (const [key, row] of rows) {
      const current = now.get(key);
      if (current === undefined) problems.push(`${table} ${key}: deleted (was ${row})`);
      else if (current !== row) problems.push(`${table} ${key}: changed\n  before ${row}\n  after  ${current}`);
    }
    if (!mayGrow.has(table)) {
      for (const [key, row] of now) if (!rows.has(key)) problems.push(`${table} ${key}: new row ${row}`);
    }
  }
  return problems;
}
