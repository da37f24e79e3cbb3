import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hold, holdOk, localInstant, plusDays } from './booking-helpers.js';

/** Issue 14, item 5: the hold cap stopped holds, not hold -> confirm loops; and bookings were taken until 8999. */
describe('caps on a client\'s upcoming bookings, and the booking horizon', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MAX_BOOKINGS_PER_CLIENT_PER_PROVIDER: '3', MAX_BOOKINGS_PER_CLIENT: '4' });
  });
  afterAll(async () => server?.close());

  const slot = (day: string, n: number) => localInstant(day, `${String(9 + n).padStart(2, '0')}:00`);

  it('hold -> confirm loops stop at the per-provider cap, then at the overall cap; a cancel makes room', async () => {
    const a = await providerWithHours(server);
    const b = await providerWithHours(server);
    const client = await createUser(server, 'client');
    const day = upcomingDate(1);
    const confirmed = [];
    for (let i = 0; i < 3; i++) {
      const booking = await holdOk(client.call, a.id, slot(day, i));
      expect((await client.call('POST', `/v1/bookings/${booking.id}/confirm`)).statusCode).toBe(200);
      confirmed.push(booking);
    }
    const perProvider = expectProblem(await hold(client.call, a.id, slot(day, 3)), 409);
    expect(perProvider.code).toBe('too_many_bookings');
    expect(perProvider.detail).toContain('3 upcoming bookings with this provider');

    await holdOk(client.call, b.id, slot(day, 0)); // a held one counts too
    const overall = expectProblem(await hold(client.call, b.id, slot(day, 1)), 409);
    expect(overall.detail).toContain('4 upcoming bookings');

    expect((await client.call('POST', `/v1/bookings/${confirmed[0].id}/cancel`, {})).statusCode).toBe(200);
    await holdOk(client.call, a.id, slot(day, 3));
    // Another client is not affected.
    const other = await createUser(server, 'client');
    await holdOk(other.call, a.id, slot(day, 4));
  });

  it('a start more than BOOKING_HORIZON_DAYS (365) ahead is a 422 not_bookable', async () => {
    const provider = await providerWithHours(server);
    const client = await createUser(server, 'client');
    const far = upcomingDate(1, 380);
    const refused = expectProblem(await hold(client.call, provider.id, slot(far, 0)), 422);
    expect(refused.code).toBe('not_bookable');
    expect(refused.detail).toContain('365 days');
    await holdOk(client.call, provider.id, slot(plusDays(upcomingDate(1, 340), 0), 0));
  });

  // A time a live booking takes is refused before the hold's transaction (migrations/018); the caps still answer first.
  describe('a taken time, refused before the transaction, gets the answer the transaction would give', () => {
    it('a client at the hold cap gets 429 too_many_holds, at a booking cap 409 too_many_bookings, beyond the horizon 422', async () => {
      const provider = await providerWithHours(server);
      const far = await providerWithHours(server);
      const owner = await createUser(server, 'client');
      const day = upcomingDate(1);
      const farDay = upcomingDate(1, 380);
      const taken = slot(day, 0);
      await holdOk(owner.call, provider.id, taken);

      // Three upcoming bookings with the provider (the cap is 3): the per-provider cap, not the taken time.
      const capped = await createUser(server, 'client');
      for (let i = 1; i <= 3; i++) await holdOk(capped.call, provider.id, slot(day, i));
      expect(expectProblem(await hold(capped.call, provider.id, taken), 409).code).toBe('too_many_bookings');

      // Beyond the horizon is checked before the counts are compared, taken or not.
      const client = await createUser(server, 'client');
      expect(expectProblem(await hold(client.call, far.id, slot(farDay, 0)), 422).code).toBe('not_bookable');

      // A client with room gets the taken time's 409.
      const taker = expectProblem(await hold(client.call, provider.id, taken), 409);
      expect(taker.code).toBe('slot_taken');
    });

    it('a client holding the most unconfirmed slots gets 429 for a taken time as for a free one', async () => {
      const holdCapped = await startTestServer({ MAX_HOLDS_PER_CLIENT: '2' });
      try {
        const provider = await providerWithHours(holdCapped);
        const owner = await createUser(holdCapped, 'client');
        const client = await createUser(holdCapped, 'client');
        const day = upcomingDate(1);
        await holdOk(owner.call, provider.id, slot(day, 0));
        const first = await holdOk(client.call, provider.id, slot(day, 1));
        await holdOk(client.call, provider.id, slot(day, 2));
        expect(expectProblem(await hold(client.call, provider.id, slot(day, 0)), 429).code).toBe('too_many_holds');
        expect(expectProblem(await hold(client.call, provider.id, slot(day, 3)), 429).code).toBe('too_many_holds');
        // Room again: the taken time is the answer.
        expect((await client.call('POST', `/v1/bookings/${first.id}/cancel`, {})).statusCode).toBe(200);
        expect(expectProblem(await hold(client.call, provider.id, slot(day, 0)), 409).code).toBe('slot_taken');
      } finally {
        await holdCapped.close();
      }
    });

    it('an event type: a time whose blocked range reaches a held one\'s is 409; a client at the hold cap gets 429 first', async () => {
      const capped = await startTestServer({ MAX_HOLDS_PER_CLIENT: '2' });
      try {
        const provider = await providerWithHours(capped, 'UTC');
        const created = await provider.call('POST', '/v1/event-types', {
          slug: 'buffered-visit', title: 'Visit', durations: [60], minimumNotice: 0, bufferAfter: 15,
        });
        expect(created.statusCode, created.body).toBe(201);
        const eventTypeId = created.json().id as string;
        const holdType = (who: { call: typeof provider.call }, time: string) =>
          who.call('POST', '/v1/bookings', { eventTypeId, start: `${day}T${time}:00Z` });
        const owner = await createUser(capped, 'client');
        const client = await createUser(capped, 'client');
        const day = upcomingDate(1);
        expect((await holdType(owner, '10:00')).statusCode).toBe(201); // blocks 10:00-11:15
        const first = await holdType(client, '13:00');
        expect(first.statusCode, first.body).toBe(201);
        expect((await holdType(client, '15:00')).statusCode).toBe(201);
        // 11:00-12:00 is free as a meeting, but its blocked range (to 12:15) starts inside the 10:00 hold's (to 11:15).
        expect(expectProblem(await holdType(client, '11:00'), 429).code).toBe('too_many_holds');
        expect((await client.call('POST', `/v1/bookings/${first.json().id}/cancel`, {})).statusCode).toBe(200);
        expect(expectProblem(await holdType(client, '11:00'), 409).code).toBe('slot_taken');
        expect((await holdType(client, '11:15')).statusCode).toBe(201); // the first start clear of it
      } finally {
        await capped.close();
      }
    });
  });
});
