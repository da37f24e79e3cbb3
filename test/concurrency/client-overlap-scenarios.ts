/**
 * One client, ten providers, ten holds at once at overlapping times: the
 * client's no-overlap rule (client_blocks, migrations/012) must let exactly one
 * through, whatever the concurrency and however many server processes. Run
 * through one process (event-type-races.test.ts) and over two processes on one
 * PostgreSQL database (event-type-processes.test.ts).
 */
import { expect } from 'vitest';
import { createEventType, histogram, LIVE_SQL, raceAll, typeSlotStarts, type RaceEnv } from './event-type-scenarios.js';
import { createClients, createProviderWithHours } from './race.js';

export async function clientOverlapRace(env: RaceEnv): Promise<void> {
  const providers = await Promise.all(Array.from({ length: 10 }, () => createProviderWithHours(env.admin)));
  const types = await Promise.all(providers.map((p) => createEventType(env.admin, p.id, { durations: [60], slotInterval: 15 })));
  const [client] = await createClients(env.admin, 1);
  const starts = await typeSlotStarts(env.via(0, client!.apiKey), types[0]!.id, env.day);
  // 09:00, 09:15, 09:30, 09:45 (each an hour long, so every two of them overlap), in turn over the ten providers.
  const chosen = types.map((_, i) => starts[i % 4]!);

  const results = await raceAll(types.map((t, i) => () => env.via(i, client!.apiKey)('POST', '/v1/bookings', { eventTypeId: t.id, start: chosen[i] })));
  const context = histogram(results);
  expect(results.filter((r) => r.status === 201), context).toHaveLength(1);
  for (const r of results.filter((x) => x.status !== 201)) {
    expect(r.status, context).toBe(409);
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    expect(r.body.code, context).toBe('client_overlap');
  }
  const { rows } = await env.sql.query<{ id: string }>(
    `SELECT id FROM bookings WHERE client_id = $1 AND ${LIVE_SQL}`,
    [client!.id],
  );
  expect(rows.map((r) => r.id), context).toEqual([results.find((r) => r.status === 201)!.body.id]);
}
