/**
 * A client's hold writes its booking.held event in the insert's statement,
 * with data built before the row exists (heldRecordOf in bookings-repo.ts):
 * the event must show exactly what the 201 answer shows, for every kind of hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the booking.held event shows the booking as the 201 answer does', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ HOLD_TTL_SECONDS: '777' });
  });
  afterAll(async () => server?.close());

  const heldEvent = async (bookingId: string) => {
    const { rows } = await server.db.query<{ data: unknown; provider_id: string; client_id: string | null }>(
      `SELECT data, provider_id, client_id FROM events WHERE type = 'booking.held' AND data->>'id' = $1`, [bookingId]);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };

  it('a v1 hold with notes, and an event type\'s with buffers, answers and a chosen host', async () => {
    const provider = await providerWithHours(server);
    const client = await createUser(server, 'client');
    const monday = upcomingDate(1);
    const v1 = await client.call('POST', '/v1/bookings', { providerId: provider.id, start: `${monday}T10:00:00+01:00`, duration: 45, notes: 'ünïcode 😀' });
    expect(v1.statusCode, v1.body).toBe(201);
    expect(await heldEvent(v1.json().id)).toEqual({ data: v1.json(), provider_id: provider.id, client_id: client.id });

    const type = await admin(server)('POST', '/v1/event-types', {
      slug: `held-${Date.now()}`, title: 'T', durations: [30], minimumNotice: 0, bufferBefore: 10, bufferAfter: 5,
      hosts: [{ providerId: provider.id }],
      questions: [{ id: 'topic', label: 'Topic', type: 'text' }, { id: 'kind', label: 'Kind', type: 'select', options: ['a', 'b'] }],
    });
    expect(type.statusCode, type.body).toBe(201);
    const typed = await client.call('POST', '/v1/bookings', {
      eventTypeId: type.json().id, providerId: provider.id, start: `${monday}T13:00:00+01:00`, notes: 'n', answers: { kind: 'b', topic: 'x' },
    });
    expect(typed.statusCode, typed.body).toBe(201);
    expect(Date.parse(typed.json().expiresAt) - Date.parse(typed.json().createdAt)).toBe(777_000);
    expect(await heldEvent(typed.json().id)).toEqual({ data: typed.json(), provider_id: provider.id, client_id: client.id });
  });

  it('an administrator\'s hold on a client\'s behalf', async () => {
    const provider = await providerWithHours(server);
    const client = await createUser(server, 'client');
    const res = await admin(server)('POST', '/v1/bookings', { providerId: provider.id, clientId: client.id, start: `${upcomingDate(2)}T09:00:00+01:00` });
    expect(res.statusCode, res.body).toBe(201);
    expect((await heldEvent(res.json().id)).data).toEqual(res.json());
  });
});
