/**
 * Races on event types, written once and run both through one process
 * (event-type-races.test.ts) and spread over two server processes on one
 * PostgreSQL database (event-type-processes.test.ts). Requests go over real
 * HTTP, all released by one gate so they overlap on the server; the verdict
 * is read back in SQL.
 */
import { expect } from 'vitest';
import { createClients, createProviderWithHours, type Http, type HttpResult, type Party, type Sql } from './race.js';

export interface RaceEnv {
  admin: Http;
  /** The i-th request's caller with this key (alternating processes when there are several). */
  via(i: number, apiKey: string): Http;
  sql: Sql;
  /** A weekday (local date in Europe/Berlin) with nothing booked yet, far enough ahead for any notice. */
  day: string;
}

/** Bookings that take time (held and unlapsed, pending and not started, confirmed), by the database's clock. */
export const LIVE_SQL = `(status = 'confirmed' OR (status = 'held' AND expires_at > now()) OR (status = 'pending' AND start_at > now()))`;

/** Fires every request at once behind one gate; a network error is an answer too (status 0). */
export async function raceAll(requests: (() => Promise<HttpResult>)[]): Promise<HttpResult[]> {
  let go!: () => void;
  const gate = new Promise<void>((resolve) => {
    go = resolve;
  });
  const pending = requests.map(async (send) => {
    await gate;
    try {
      return await send();
    } catch (error) {
      return { status: 0, contentType: '', body: null, text: String(error) };
    }
  });
  go();
  return Promise.all(pending);
}

export function histogram(results: HttpResult[]): string {
  const h: Record<string, number> = {};
  for (const r of results) {
    const key = `${r.status}${r.body?.code ? ` ${r.body.code}` : ''}`;
    h[key] = (h[key] ?? 0) + 1;
  }
  const odd = results.filter((r) => r.status === 0 || r.status >= 500).slice(0, 3).map((r) => `${r.status} ${r.text.slice(0, 300)}`);
  return `${JSON.stringify(h)}${odd.length ? `; e.g. ${odd.join(' | ')}` : ''}`;
}

/** An event type of one host, made by the admin. */
export async function createEventType(admin: Http, hostId: string, spec: Record<string, unknown>): Promise<{ id: string }> {
  const res = await admin('POST', '/v1/event-types', {
    slug: `race-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    title: 'Race', minimumNotice: 0, hosts: [{ providerId: hostId }], ...spec,
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** The type's slot starts on a local date of its host, as the server writes them. */
export async function typeSlotStarts(caller: Http, eventTypeId: string, day: string): Promise<string[]> {
  const res = await caller('GET', `/v1/slots?eventTypeId=${eventTypeId}&from=${day}&to=${day}&timeZone=Europe/Berlin`);
  expect(res.status, res.text).toBe(200);
  return (res.body.slots as { start: string }[]).map((s) => s.start);
}

/** Pairs of live bookings of the provider whose blocked ranges (with buffers) overlap: must always be empty. */
export async function overlappingBlockedPairs(sql: Sql, providerId: string): Promise<{ a: string; b: string }[]> {
  const { rows } = await sql.query<{ a: string; b: string }>(
    `SELECT x.id AS a, y.id AS b
       FROM bookings x JOIN bookings y ON y.provider_id = x.provider_id AND x.id < y.id
        AND tstzrange(x.blocked_start, x.blocked_end, '[)') && tstzrange(y.blocked_start, y.blocked_end, '[)')
      WHERE x.provider_id = $1
        AND ${LIVE_SQL.replace(/status|expires_at|start_at/g, (c) => `x.${c}`)}
        AND ${LIVE_SQL.replace(/status|expires_at|start_at/g, (c) => `y.${c}`)}`,
    [providerId],
  );
  return rows;
}

const epoch = (v: Date | string) => new Date(v).getTime();

/**
 * perDay 3 and twenty clients holding twenty distinct free slots of one day at
 * once: exactly three 201s and seventeen 422 limit_reached, and three live
 * bookings of the type that day in SQL.
 */
export async function perDayRace(env: RaceEnv): Promise<void> {
  const host = await createProviderWithHours(env.admin);
  const type = await createEventType(env.admin, host.id, { durations: [15], slotInterval: 15, limits: { perDay: 3 } });
  const clients = await createClients(env.admin, 20);
  const starts = await typeSlotStarts(env.via(0, clients[0]!.apiKey), type.id, env.day);
  expect(starts).toHaveLength(32); // 09:00 .. 16:45 Berlin

  const results = await raceAll(clients.map((c, i) => () => env.via(i, c.apiKey)('POST', '/v1/bookings', { eventTypeId: type.id, start: starts[i] })));
  const context = histogram(results);
  expect(results.filter((r) => r.status === 201), context).toHaveLength(3);
  const refused = results.filter((r) => r.status !== 201);
  expect(refused, context).toHaveLength(17);
  for (const r of refused) {
    expect(r.status, context).toBe(422);
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    expect(r.body.code).toBe('limit_reached');
  }

  const { rows } = await env.sql.query<{ id: string; start_at: Date | string }>(
    `SELECT id, start_at FROM bookings WHERE event_type_id = $1 AND start_at >= $2 AND start_at <= $3 AND ${LIVE_SQL}`,
    [type.id, starts[0], starts.at(-1)],
  );
  expect(rows, context).toHaveLength(3);
  const won = results.filter((r) => r.status === 201).map((r) => r.body.id).sort();
  expect(rows.map((r) => r.id).sort()).toEqual(won);
  const { rows: all } = await env.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE event_type_id = $1', [type.id]);
  expect(all[0]!.n).toBe(3); // the refused left nothing behind

  // The day is full for the list too.
  expect(await typeSlotStarts(env.via(1, clients[0]!.apiKey), type.id, env.day)).toEqual([]);
}

/**
 * Ten clients with ten bookings at ten different times, then all ten
 * reschedule onto one free time at once: exactly one 200 and nine 409
 * slot_taken; no two live blocked ranges overlap; each loser keeps its old time.
 */
export async function rescheduleRace(env: RaceEnv): Promise<void> {
  const host = await createProviderWithHours(env.admin);
  const type = await createEventType(env.admin, host.id, { durations: [30], slotInterval: 30 });
  const clients: Party[] = await createClients(env.admin, 10);
  const starts = await typeSlotStarts(env.via(0, clients[0]!.apiKey), type.id, env.day);
  expect(starts).toHaveLength(16); // 09:00 .. 16:30 Berlin
  const target = starts[14]!; // 16:00

  const bookings: { id: string; start: string }[] = [];
  for (const [i, c] of clients.entries()) {
    const res = await env.via(i, c.apiKey)('POST', '/v1/bookings', { eventTypeId: type.id, start: starts[i] });
    expect(res.status, res.text).toBe(201);
    bookings.push({ id: res.body.id, start: starts[i]! });
  }

  const results = await raceAll(clients.map((c, i) => () =>
    env.via(i + 1, c.apiKey)('POST', `/v1/bookings/${bookings[i]!.id}/reschedule`, { start: target })));
  const context = histogram(results);
  const winners = results.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 200);
  expect(winners, context).toHaveLength(1);
  const losers = results.filter((r) => r.status !== 200);
  expect(losers, context).toHaveLength(9);
  for (const r of losers) {
    expect(r.status, context).toBe(409);
    expect(r.body.code).toBe('slot_taken');
  }

  expect(await overlappingBlockedPairs(env.sql, host.id)).toEqual([]);
  const winner = winners[0]!.i;
  const { rows } = await env.sql.query<{ id: string; start_at: Date | string; previous_start: Date | string | null; live: boolean }>(
    `SELECT id, start_at, previous_start, ${LIVE_SQL} AS live FROM bookings WHERE provider_id = $1`,
    [host.id],
  );
  expect(rows).toHaveLength(10);
  for (const [i, b] of bookings.entries()) {
    const row = rows.find((r) => r.id === b.id)!;
    expect(row.live, b.id).toBe(true);
    if (i === winner) {
      expect(epoch(row.start_at)).toBe(Date.parse(target));
      expect(epoch(row.previous_start!)).toBe(Date.parse(b.start));
      expect(winners[0]!.r.body).toMatchObject({ id: b.id });
    } else {
      expect(epoch(row.start_at), `booking ${i} moved though its reschedule was refused`).toBe(Date.parse(b.start));
      expect(row.previous_start).toBeNull();
    }
  }
}
