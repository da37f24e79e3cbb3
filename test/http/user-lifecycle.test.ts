import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hold, holdOk, providerAlwaysOpen, snapshot } from './booking-helpers.js';
import { uniqueEmail } from './users-availability-helpers.js';

describe('changing and deleting users', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Webhooks to a closed loopback port: stored, never delivered.
    server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
  });
  afterAll(async () => server?.close());

  const PASSWORD = 'old password 1';

  describe('PATCH /v1/users/{id}', () => {
    it('a user changes its own name, time zone and email; a taken email (any case) is a 409 that changes nothing', async () => {
      const me = await createUser(server, 'client');
      const other = await createUser(server, 'client', { email: uniqueEmail('taken') });
      const takenEmail = (await admin(server)('GET', `/v1/users/${other.id}`)).json().email as string;
      const newEmail = uniqueEmail('renamed');

      const res = await me.call('PATCH', `/v1/users/${me.id}`, { name: '  Ada  ', timeZone: 'europe/berlin', email: newEmail });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: me.id, name: 'Ada', timeZone: 'Europe/Berlin', email: newEmail, role: 'client' });
      expect((await me.call('GET', '/v1/users/me')).json()).toMatchObject({ name: 'Ada', timeZone: 'Europe/Berlin', email: newEmail });

      const before = await snapshot(server);
      const taken = expectProblem(await me.call('PATCH', `/v1/users/${me.id}`, { email: takenEmail.toUpperCase() }), 409);
      expect(taken.code).toBe('email_taken');
      expectProblem(await me.call('PATCH', `/v1/users/${me.id}`, { name: '   ' }), 400);
      expectProblem(await me.call('PATCH', `/v1/users/${me.id}`, { timeZone: 'Mars/Base' }), 400);
      const role = expectProblem(await me.call('PATCH', `/v1/users/${me.id}`, { role: 'provider' }), 400);
      expect(role.errors).toEqual([{ path: 'body/role', message: 'is not a known field' }]);
      expectProblem(await admin(server)('PATCH', `/v1/users/${me.id}`, { role: 'provider' }), 400);
      expect(await snapshot(server)).toEqual(before);
    });

    it('only self or an admin: another client is a 404, a provider someone can see a 403', async () => {
      const someClient = await createUser(server, 'client');
      const someProvider = await createUser(server, 'provider');
      const stranger = await createUser(server, 'client');
      const before = await snapshot(server);
      expectProblem(await stranger.call('PATCH', `/v1/users/${someClient.id}`, { name: 'Mallory' }), 404);
      expectProblem(await stranger.call('PATCH', `/v1/users/${someProvider.id}`, { name: 'Mallory' }), 403);
      expectProblem(await someProvider.call('PATCH', `/v1/users/${someClient.id}`, { name: 'Mallory' }), 404);
      expectProblem(await client(server, null)('PATCH', `/v1/users/${someClient.id}`, { name: 'Mallory' }), 401);
      expect(await snapshot(server)).toEqual(before);

      const byAdmin = await admin(server)('PATCH', `/v1/users/${someProvider.id}`, { name: 'Dr. Who' });
      expect(byAdmin.statusCode, byAdmin.body).toBe(200);
      expect(byAdmin.json()).toMatchObject({ name: 'Dr. Who', role: 'provider' });
    });

    it('changing one\'s own password needs the current one; an admin needs none', async () => {
      const email = uniqueEmail('pw');
      const me = await createUser(server, 'client', { email, password: PASSWORD });
      const login = (password: string) => client(server, null)('POST', '/v1/auth/login', { email, password });

      const missing = expectProblem(await me.call('PATCH', `/v1/users/${me.id}`, { password: 'new password 2' }), 400);
      expect(missing.errors[0].path).toBe('body/currentPassword');
      const wrong = expectProblem(await me.call('PATCH', `/v1/users/${me.id}`, { password: 'new password 2', currentPassword: 'nope nope' }), 400);
      expect(wrong.errors[0].path).toBe('body/currentPassword');
      expect((await login(PASSWORD)).statusCode).toBe(200);

      const ok = await me.call('PATCH', `/v1/users/${me.id}`, { password: 'new password 2', currentPassword: PASSWORD });
      expect(ok.statusCode, ok.body).toBe(200);
      expectProblem(await login(PASSWORD), 401);
      expect((await login('new password 2')).statusCode).toBe(200);

      expect((await admin(server)('PATCH', `/v1/users/${me.id}`, { password: 'third password 3' })).statusCode).toBe(200);
      expect((await login('third password 3')).statusCode).toBe(200);
    });
  });

  describe('DELETE /v1/users/{id} of a provider', () => {
    it('is refused with the ids of its live bookings; once they are gone it deactivates: no key, no slots, no bookings', async () => {
      const provider = await providerAlwaysOpen(server);
      const someClient = await createUser(server, 'client');
      const day = upcomingDate(3, 14);
      const held = await holdOk(someClient.call, provider.id, `${day}T10:00:00Z`);
      const confirmed = await holdOk(someClient.call, provider.id, `${day}T11:00:00Z`);
      expect((await someClient.call('POST', `/v1/bookings/${confirmed.id}/confirm`)).statusCode).toBe(200);

      expectProblem(await provider.call('DELETE', `/v1/users/${provider.id}`), 403);
      expectProblem(await someClient.call('DELETE', `/v1/users/${provider.id}`), 403);
      const before = await snapshot(server);
      const refused = expectProblem(await admin(server)('DELETE', `/v1/users/${provider.id}`), 409);
      expect(refused.code).toBe('state_conflict');
      expect(refused.bookingIds).toEqual([held.id, confirmed.id]);
      expect(refused.detail).toContain(held.id);
      expect(await snapshot(server)).toEqual(before);

      for (const b of [held, confirmed]) expect((await someClient.call('POST', `/v1/bookings/${b.id}/cancel`)).statusCode).toBe(200);
      const version = async () => (await server.db.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [provider.id])).rows[0]!.v;
      const versionBefore = await version();
      const deleted = await admin(server)('DELETE', `/v1/users/${provider.id}`);
      expect(deleted.statusCode, deleted.body).toBe(204);
      expect(await version()).toBe(versionBefore + 1);

      expectProblem(await provider.call('GET', '/v1/users/me'), 401);
      expectProblem(await someClient.call('GET', `/v1/slots?providerId=${provider.id}&from=${day}&to=${day}`), 404);
      expectProblem(await hold(someClient.call, provider.id, `${day}T12:00:00Z`), 404);
      expectProblem(await someClient.call('GET', `/v1/users/${provider.id}`), 404);
      expectProblem(await admin(server)('GET', `/v1/providers/${provider.id}/schedule`), 404);
      const seenByAdmin = await admin(server)('GET', `/v1/users/${provider.id}`);
      expect(seenByAdmin.json().deactivatedAt).toEqual(expect.any(String));
      // The booking rows stay for the records.
      expect((await someClient.call('GET', `/v1/bookings/${held.id}`)).json().status).toBe('cancelled');
      expectProblem(await admin(server)('DELETE', `/v1/users/${provider.id}`), 404);
    });

    it('the database refuses a booking of a deactivated provider even past the application\'s checks', async () => {
      const provider = await providerAlwaysOpen(server);
      const someClient = await createUser(server, 'client');
      expect((await admin(server)('DELETE', `/v1/users/${provider.id}`)).statusCode).toBe(204);
      const start = `${upcomingDate(3, 14)}T10:00:00Z`;
      await expect(server.db.query(
        `INSERT INTO bookings (id, provider_id, client_id, start_at, end_at, status, expires_at)
         VALUES ('bkg_sneaky', $1, $2, $3, $3::timestamptz + interval '15 minutes', 'held', now() + interval '1 hour')`,
        [provider.id, someClient.id, start],
      )).rejects.toMatchObject({ code: 'BK404' });
    });
  });

  it('holds racing a deactivation: either it is refused, or no hold of the deactivated provider is live', async () => {
    for (let round = 0; round < 3; round += 1) {
      const provider = await providerAlwaysOpen(server);
      const clients = await Promise.all([1, 2, 3, 4].map(() => createUser(server, 'client')));
      const day = upcomingDate(5, 14);
      const [deletion, ...holds] = await Promise.all([
        admin(server)('DELETE', `/v1/users/${provider.id}`),
        ...clients.map((c, i) => hold(c.call, provider.id, `${day}T0${i + 1}:00:00Z`)),
      ]);
      const { rows } = await server.db.query<{ id: string }>(
        `SELECT id FROM bookings WHERE provider_id = $1 AND status = 'held'`, [provider.id],
      );
      expect(holds.every((h) => h.statusCode === 201 || h.statusCode === 404), holds.map((h) => h.body).join('\n')).toBe(true);
      if (deletion.statusCode === 204) expect(rows).toEqual([]);
      else {
        // Refused: it named live holds (more may have come after it looked; the provider is still active).
        expect(deletion.statusCode, deletion.body).toBe(409);
        expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(deletion.json().bookingIds));
      }
    }
  });

  describe('DELETE /v1/users/{id} of a client (erasure)', () => {
    it('cancels its live bookings, keeps anonymised booking rows, and leaves no personal field in any table', async () => {
      const provider = await providerAlwaysOpen(server);
      const name = 'Erasable Eve Quixote';
      const email = uniqueEmail('erasable-eve');
      const eve = await createUser(server, 'client', { name, email, password: PASSWORD, timeZone: 'Pacific/Chatham' });
      const day = upcomingDate(4, 14);
      const notes = 'eve-private-note: allergic to penicillin';
      const reason = 'eve-private-reason: hospital stay';
      const live = await holdOk(eve.call, provider.id, `${day}T09:00:00Z`, 30, { notes });
      expect((await eve.call('POST', `/v1/bookings/${live.id}/confirm`)).statusCode).toBe(200);
      const gone = await (async () => {
        const res = await eve.call('POST', '/v1/bookings', { providerId: provider.id, start: `${day}T10:00:00Z`, notes }, { 'idempotency-key': 'eve-key-1' });
        expect(res.statusCode, res.body).toBe(201);
        return res.json();
      })();
      expect((await eve.call('POST', `/v1/bookings/${gone.id}/cancel`, { reason })).statusCode).toBe(200);
      const hookUrl = 'http://127.0.0.1:9/eve-private-hook';
      expect((await eve.call('POST', '/v1/webhooks', { url: hookUrl, events: ['booking.confirmed'] })).statusCode).toBe(201);

      const stranger = await createUser(server, 'client');
      expectProblem(await stranger.call('DELETE', `/v1/users/${eve.id}`), 404);
      expectProblem(await provider.call('DELETE', `/v1/users/${eve.id}`), 404);

      const res = await eve.call('DELETE', `/v1/users/${eve.id}`);
      expect(res.statusCode, res.body).toBe(204);
      expectProblem(await eve.call('GET', '/v1/users/me'), 401);
      expectProblem(await client(server, null)('POST', '/v1/auth/login', { email, password: PASSWORD }), 401);

      // The provider keeps both bookings, the live one now cancelled, its time free again.
      const rows = await server.db.query<{ id: string; status: string; notes: string | null; cancel_reason: string | null }>(
        'SELECT id, status, notes, cancel_reason FROM bookings WHERE client_id = $1 ORDER BY start_at', [eve.id],
      );
      expect(rows.rows).toEqual([
        { id: live.id, status: 'cancelled', notes: null, cancel_reason: null },
        { id: gone.id, status: 'cancelled', notes: null, cancel_reason: null },
      ]);
      const providerView = await provider.call('GET', `/v1/bookings/${live.id}`);
      expect(providerView.statusCode).toBe(200);
      expect(providerView.json().clientId).toBe(eve.id);

      const user = (await server.db.query<Record<string, unknown>>('SELECT * FROM users WHERE id = $1', [eve.id])).rows[0]!;
      expect(user).toMatchObject({ name: 'Erased user', password_hash: null, time_zone: 'UTC' });
      expect(String(user.email)).not.toContain('@');
      expect(user.deactivated_at).not.toBeNull();

      // Every row of every table, as text: none holds anything personal of Eve.
      const personal = [name, email, notes, reason, hookUrl, 'Pacific/Chatham'];
      const { rows: tables } = await server.db.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.t)).toEqual(expect.arrayContaining(['users', 'bookings', 'events', 'idempotency_keys', 'webhooks']));
      for (const { t } of tables) {
        const { rows: dump } = await server.db.query<{ row: string }>(`SELECT x::text AS row FROM "${t}" x`);
        for (const { row } of dump) {
          for (const value of personal) expect(row.toLowerCase(), `${t} still holds "${value}"`).not.toContain(value.toLowerCase());
        }
      }
      expectProblem(await admin(server)('DELETE', `/v1/users/${eve.id}`), 404);
    });
  });
});
