import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Issue 14, item 4: "shown once, stored hashed" holds for replays too. */
describe('Idempotency-Key answers never keep a secret', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
  });
  afterAll(async () => server?.close());

  const stored = async (callerId: string, key: string) =>
    (await server.db.query<{ response_body: string }>('SELECT response_body FROM idempotency_keys WHERE caller_id = $1 AND key = $2', [callerId, key])).rows[0]!.response_body;

  it.each([
    ['POST /v1/api-keys', 'apiKey', '/v1/api-keys', () => ({ name: 'ci' })],
    ['POST /v1/webhooks', 'secret', '/v1/webhooks', () => ({ url: 'http://127.0.0.1:9/hook', events: ['booking.held'] })],
  ])('%s: the table holds no plaintext and a replay says the secret is not shown again', async (_name, field, path, body) => {
    const user = await createUser(server, 'client');
    const headers = { 'idempotency-key': `secret-${field}` };
    const first = await user.call('POST', path, body(), headers);
    expect(first.statusCode, first.body).toBe(201);
    const secret = first.json()[field] as string;
    expect(secret.length).toBeGreaterThan(20);
    expect(await stored(user.id, headers['idempotency-key'])).not.toContain(secret);

    const replay = await user.call('POST', path, body(), headers);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).not.toContain(secret);
    expect(replay.json()[field]).toBeUndefined();
    expect(replay.json().notShownAgain).toEqual([field]);
    expect(replay.json().id).toBe(first.json().id);
  });

  it('admin POST /v1/users: the new user\'s key is not in the table nor in the replay', async () => {
    const headers = { 'idempotency-key': 'create-user-1' };
    const body = { name: 'Replay', email: `replay-${Date.now()}@example.test`, role: 'client' };
    const first = await admin(server)('POST', '/v1/users', body, headers);
    expect(first.statusCode).toBe(201);
    const { apiKey } = first.json();
    expect(await stored(server.ctx.adminUserId, 'create-user-1')).not.toContain(apiKey);
    const replay = await admin(server)('POST', '/v1/users', body, headers);
    expect(replay.statusCode).toBe(201);
    expect(replay.body).not.toContain(apiKey);
    expect(replay.json()).toMatchObject({ user: first.json().user, notShownAgain: ['apiKey'] });
  });
});
