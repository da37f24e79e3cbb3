// EXPLAIN (ANALYZE, BUFFERS) of the hot-path queries, called through the repository functions the
// server uses (so the SQL is theirs, not a copy): a Queryable that prefixes EXPLAIN, keeps the plan
// and stops the caller. Writes run in a transaction that is rolled back.
import pg from 'pg';
import { insertHold, listBookings } from '../src/db/bookings-repo.js';
import { lockClientAndCount, lockProvidersAndReleaseLapsed } from '../src/db/hold-locks-repo.js';
import { releaseLapsedClientBlocks } from '../src/db/client-blocks-repo.js';
import type { Queryable, QueryResult } from '../src/db/database.js';
import { findEventType } from '../src/db/event-types-repo.js';
import { loadSlotInputs, loadSlotVersion } from '../src/db/slot-inputs-repo.js';
import { clientId, providerId } from './scale-data.js';

export interface Plan { name: string; executionMs: number; hit: number; read: number; scans: string[]; seqScans: string[]; text: string }

class Captured extends Error {
  constructor(readonly plan: string) { super('captured'); }
}

function explaining(c: pg.Client): Queryable {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params as unknown[]);
      throw new Captured(r.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n'));
    },
    async exec() { throw new Error('exec is not explained'); },
  };
}

function summarise(name: string, text: string): Plan {
  const scans = [...text.matchAll(/(Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan)(?: Backward)? (?:using (\S+) )?on (\S+)/g)]
    .map((m) => `${m[1]}${m[2] ? ` ${m[2]}` : ''} on ${m[3]}`);
  const buffers = [...text.matchAll(/Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/g)];
  // The top node's Buffers line comes first and includes its children's.
  return {
    name,
    executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN),
    hit: Number(buffers[0]?.[1] ?? 0),
    read: Number(buffers[0]?.[2] ?? 0),
    scans: [...new Set(scans)],
    seqScans: [...new Set(scans.filter((s) => s.startsWith('Seq Scan')).map((s) => s.replace('Seq Scan on ', '')))],
    text,
  };
}

const DAY = 86_400_000;

/** The hot path's statements, for probe provider sp_0 / client sc_0 / type se_0, range 7..14 days ahead (whole UTC days). */
export async function explainHotPath(url: string): Promise<Plan[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const q = explaining(c);
  const day0 = Math.floor(Date.now() / DAY) * DAY;
  const range = { start: day0 + 7 * DAY, end: day0 + 14 * DAY };
  const slot = { start: day0 + 70 * DAY + 9.5 * 3600_000, end: day0 + 70 * DAY + 9.75 * 3600_000 };
  const list = { participantIds: null, providerId: null, clientId: null, eventTypeId: null, from: null, to: null, statuses: null, after: null, limit: 50 };
  const steps: [string, (q: Queryable) => Promise<unknown>, boolean?][] = [
    ['slots: loadSlotInputs (slot-inputs-repo)', (x) => loadSlotInputs(x, providerId(0), range, { busy: true })],
    ['slots: loadSlotVersion (cache hit check)', (x) => loadSlotVersion(x, providerId(0))],
    ['event-type slots: findEventType', (x) => findEventType(x, 'se_0')],
    // The two functions of migrations/016: EXPLAIN shows their call and its total time, not the plans inside.
    ['hold: lockClientAndCount (hold and booking caps)', (x) => lockClientAndCount(x, clientId(0)), true],
    ['hold: releaseLapsedClientBlocks (event types)', (x) => releaseLapsedClientBlocks(x, `client:${clientId(0)}`, slot), true],
    ['hold: lockProvidersAndReleaseLapsed', (x) => lockProvidersAndReleaseLapsed(x, [providerId(0)], slot, 'bk_explain'), true],
    ['hold: insertHold (with triggers and exclusion checks)', (x) => insertHold(x, {
      id: 'bk_explain', providerId: providerId(0), clientId: clientId(0), eventTypeId: null, start: slot.start, end: slot.end,
      blockedStart: slot.start, blockedEnd: slot.end, notes: null, answers: null, ttlSeconds: 600,
    }), true],
    ['list: as provider (participant; providerId, from/to, status)', (x) => listBookings(x, {
      ...list, participantIds: [providerId(0)], providerId: providerId(0), from: day0 - 30 * DAY, to: day0 + 60 * DAY, statuses: ['confirmed', 'held'],
    })],
    ['list: as client (participant; clientId, status)', (x) => listBookings(x, { ...list, participantIds: [clientId(0)], clientId: clientId(0), statuses: ['confirmed'] })],
    ['list: as admin (providerId, status)', (x) => listBookings(x, { ...list, providerId: providerId(0), statuses: ['confirmed'] })],
    ['list: as admin (clientId)', (x) => listBookings(x, { ...list, clientId: clientId(0) })],
  ];
  const plans: Plan[] = [];
  try {
    for (const [name, run, writes] of steps) {
      if (writes) await c.query('BEGIN');
      try {
        await run(q);
        throw new Error(`${name}: ran no query`);
      } catch (e) {
        if (!(e instanceof Captured)) throw e;
        plans.push(summarise(name, e.plan));
      } finally {
        if (writes) await c.query('ROLLBACK');
      }
    }
  } finally {
    await c.end();
  }
  return plans;
}
