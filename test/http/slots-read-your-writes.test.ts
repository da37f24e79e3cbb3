import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { holdOk, localInstant, ms, slotStarts } from './booking-helpers.js';

/**
 * A change made through this process is seen by the very next slot request to
 * it, although that request answers from the versions known in memory
 * (src/features/slots/provider-versions.ts) and the change feed has not
 * polled yet: every change's transaction sets its provider aside until it
 * settles. Each case first makes the provider's version known (two reads,
 * the map holding it afterwards), then changes, then reads once.
 */
describe('GET /v1/slots reads its own writes through the same process', () => {
  let server: TestServer;
  let client: Awaited<ReturnType<typeof createUser>>;
  const monday = upcomingDate(1);
  const query = `from=${monday}&to=${monday}`;
  const at = (time: string) => ms(localInstant(monday, time));

  beforeAll(async () => {
    // The feed polls every 250 ms (embedded: no NOTIFY); the read right after a change comes within a few ms.
    server = await startTestServer();
    client = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  /** Reads until the provider's version is served from memory (the feed must have polled once since start). */
  async function known(providerId: string): Promise<number[]> {
    const versions = server.ctx.providerVersions!;
    for (let i = 0; i < 100; i++) {
      const starts = await slotStarts(client.call, providerId, query);
      if (versions.known.known(providerId) !== undefined) return starts;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the provider version never became known');
  }

  it('PUT schedule', async () => {
    const p = await providerWithHours(server);
    expect(await known(p.id)).toContain(at('09:00'));
    const res = await p.call('PUT', `/v1/providers/${p.id}/schedule`, {
      timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '13:00', end: '14:00' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const after = await slotStarts(client.call, p.id, query);
    expect(after[0]).toBe(at('13:00'));
    expect(after).toHaveLength(4);
  });

  it('hold, then cancel', async () => {
    const p = await providerWithHours(server);
    expect(await known(p.id)).toContain(at('10:00'));
    const booking = await holdOk(client.call, p.id, localInstant(monday, '10:00'));
    expect(await slotStarts(client.call, p.id, query)).not.toContain(at('10:00'));
    await known(p.id);
    const cancelled = await client.call('POST', `/v1/bookings/${booking.id}/cancel`, {});
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(await slotStarts(client.call, p.id, query)).toContain(at('10:00'));
  });

  it('time off, override, one-off window', async () => {
    const p = await providerWithHours(server);
    await known(p.id);
    const off = await p.call('POST', `/v1/providers/${p.id}/time-off`, { start: localInstant(monday, '09:00'), end: localInstant(monday, '12:00') });
    expect(off.statusCode, off.body).toBe(201);
    expect((await slotStarts(client.call, p.id, query))[0]).toBe(at('12:00'));
    await known(p.id);
    const override = await p.call('PUT', `/v1/providers/${p.id}/overrides/${monday}`, { windows: [] });
    expect(override.statusCode, override.body).toBe(200);
    expect(await slotStarts(client.call, p.id, query)).toEqual([]);
    await known(p.id);
    const window = await p.call('POST', `/v1/providers/${p.id}/availability`, { date: monday, start: '20:00', end: '20:30' });
    expect(window.statusCode, window.body).toBe(201);
    expect(await slotStarts(client.call, p.id, query)).toEqual([at('20:00'), at('20:15')]);
  });

  it('a closure for everyone', async () => {
    const p = await providerWithHours(server);
    await known(p.id);
    const closure = await admin(server)('POST', '/v1/closures', { name: 'Holiday', date: monday });
    expect(closure.statusCode, closure.body).toBe(201);
    expect(await slotStarts(client.call, p.id, query)).toEqual([]);
    await known(p.id);
    expect((await admin(server)('DELETE', `/v1/closures/${closure.json().id}`)).statusCode).toBe(204);
    expect(await slotStarts(client.call, p.id, query)).toContain(at('09:00'));
  });

  it('a deactivated provider is a 404 at once', async () => {
    const p = await providerWithHours(server);
    await known(p.id);
    expect((await admin(server)('DELETE', `/v1/users/${p.id}`)).statusCode).toBe(204);
    expectProblem(await client.call('GET', `/v1/slots?providerId=${p.id}&${query}`), 404);
    expect(server.ctx.providerVersions!.known.known(p.id)).toBeUndefined();
  });

  it('event-type slots see a hold on their host', async () => {
    const p = await providerWithHours(server);
    const type = await p.call('POST', '/v1/event-types', { slug: `ryw-${Date.now()}`, title: 'Visit', durations: [30], minimumNotice: 0 });
    expect(type.statusCode, type.body).toBe(201);
    const typeQuery = `/v1/slots?eventTypeId=${type.json().id}&${query}`;
    const starts = async () => ((await client.call('GET', typeQuery)).json().slots as { start: string }[]).map((s) => ms(s.start));
    expect(await starts()).toContain(at('11:00'));
    await known(p.id);
    await holdOk(client.call, p.id, localInstant(monday, '11:00'), 30);
    expect(await starts()).not.toContain(at('11:00'));
  });

  it('event-type slots see an edit of the type kept in memory: its duration, then its deactivation', async () => {
    const p = await providerWithHours(server);
    const type = await p.call('POST', '/v1/event-types', { slug: `ryw-edit-${Date.now()}`, title: 'Visit', durations: [30], minimumNotice: 0 });
    expect(type.statusCode, type.body).toBe(201);
    const id = type.json().id as string;
    const typeQuery = `/v1/slots?eventTypeId=${id}&${query}`;
    const answer = async () => (await client.call('GET', typeQuery)).json() as { duration: number; slots: unknown[] };
    await known(p.id);
    // Asked until the type itself is kept (it is kept once its host's version was known when it was read).
    for (let i = 0; i < 50 && server.ctx.providerVersions!.eventTypes.size === 0; i++) await answer();
    expect(server.ctx.providerVersions!.eventTypes.size).toBeGreaterThan(0);
    expect((await answer()).duration).toBe(30);
    expect((await p.call('PATCH', `/v1/event-types/${id}`, { durations: [60] })).statusCode).toBe(200);
    expect((await answer()).duration).toBe(60);
    expect((await p.call('PATCH', `/v1/event-types/${id}`, { active: false })).statusCode).toBe(200);
    expect((await answer()).slots).toEqual([]);
    expect((await p.call('DELETE', `/v1/event-types/${id}`)).statusCode).toBe(204);
    expect((await client.call('GET', typeQuery)).statusCode).toBe(404);
  });
});
