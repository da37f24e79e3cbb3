import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the whole flow: publish hours, list slots, hold, confirm, cancel', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('books a slot and frees it on cancel', async () => {
    const provider = await providerWithHours(server, 'Europe/Berlin');
    const client = await createUser(server, 'client');
    const monday = upcomingDate(1);
    const slotsUrl = `/v1/slots?providerId=${provider.id}&from=${monday}&to=${monday}&duration=60`;
    const before = await client.call('GET', slotsUrl);
    expect(before.statusCode, before.body).toBe(200);
    const slots = before.json().slots as { start: string; end: string }[];
    expect(slots).toHaveLength(29); // 09:00 .. 16:00 starts, every 15 minutes
    const first = slots[0]!;

    const hold = await client.call('POST', '/v1/bookings', { providerId: provider.id, start: first.start, duration: 60 });
    expect(hold.statusCode, hold.body).toBe(201);
    expect(hold.json().status).toBe('held');

    const during = await client.call('GET', slotsUrl);
    expect(during.json().slots.some((s: { start: string }) => s.start === first.start)).toBe(false);

    const confirm = await client.call('POST', `/v1/bookings/${hold.json().id}/confirm`);
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.json().status).toBe('confirmed');

    const cancel = await client.call('POST', `/v1/bookings/${hold.json().id}/cancel`, { reason: 'sick' });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json().status).toBe('cancelled');

    const after = await client.call('GET', slotsUrl);
    expect(after.json().slots).toEqual(slots);
  });
});
