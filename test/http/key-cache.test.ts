/**
 * API keys are remembered in process for at most KEY_CACHE_TTL_MS
 * (src/features/identity/key-cache.ts). A revocation through this process is
 * refused on the next request; one made elsewhere (another process, or SQL),
 * within the bound. Runs on both databases.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_CACHE_TTL_MS } from '../../src/features/identity/key-cache.js';
import { createUser } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the in-process API key cache', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  async function cachedKey() {
    const user = await createUser(server, 'client');
    const created = await user.call('POST', '/v1/api-keys', { name: 'cached' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, apiKey } = created.json();
    const read = (key: string) => server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${key}` } });
    expect((await read(apiKey)).statusCode).toBe(200); // now remembered
    expect((await read(apiKey)).statusCode).toBe(200);
    return { user, id: id as string, apiKey: apiKey as string, read };
  }

  it('a key revoked through this process is refused on the very next request', async () => {
    const { user, id, apiKey, read } = await cachedKey();
    const revoked = await user.call('DELETE', `/v1/api-keys/${id}`);
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect((await read(apiKey)).statusCode).toBe(401);
  });

  it('a deleted client\'s keys are refused on the very next request', async () => {
    const { user, apiKey, read } = await cachedKey();
    const deleted = await user.call('DELETE', `/v1/users/${user.id}`);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await read(apiKey)).statusCode).toBe(401);
  });

  it(`a key revoked elsewhere (SQL, as another process would) is refused once ${KEY_CACHE_TTL_MS} ms have passed`, async () => {
    const { id, apiKey, read } = await cachedKey();
    await server.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    const committed = Date.now();
    // Within the bound the remembered owner may still answer; past it, never.
    await sleep(Math.max(0, committed + KEY_CACHE_TTL_MS + 20 - Date.now()));
    expect((await read(apiKey)).statusCode).toBe(401);
  });

  it('a key is never served past its own expiry, even while remembered', async () => {
    const user = await createUser(server, 'client');
    const created = await user.call('POST', '/v1/api-keys', { name: 'short', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const { id, apiKey } = created.json();
    const read = () => server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${apiKey}` } });
    expect((await read()).statusCode).toBe(200);
    // Expire it in the database only: the cache entry carries the expiry it was read with (60 s away), so this
    // is bounded by KEY_CACHE_TTL_MS like any change made elsewhere.
    await server.db.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [id]);
    await sleep(KEY_CACHE_TTL_MS + 20);
    expect((await read()).statusCode).toBe(401);
  });
});
