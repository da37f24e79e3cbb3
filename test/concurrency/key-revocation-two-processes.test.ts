/**
 * A key revoked through process A is refused by process B within
 * KEY_CACHE_TTL_MS (src/features/identity/key-cache.ts), although B has it
 * remembered: two real server processes on one PostgreSQL database.
 * PostgreSQL only (TEST_DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_CACHE_TTL_MS } from '../../src/features/identity/key-cache.js';
import { PROCESS_ADMIN_KEY, startTwoServersOnOneDatabase } from '../helpers/server-processes.js';
import { http } from './race.js';

describe.skipIf(!process.env.TEST_DATABASE_URL)('API key revocation across two server processes', () => {
  let cluster: Awaited<ReturnType<typeof startTwoServersOnOneDatabase>> | null = null;
  beforeAll(async () => {
    cluster = await startTwoServersOnOneDatabase();
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it(`B refuses a key revoked through A once ${KEY_CACHE_TTL_MS} ms have passed, and never serves it after that`, { timeout: 60_000 }, async () => {
    const [a, b] = cluster!.servers.map((s) => s.baseUrl) as [string, string];
    const created = await http(a, PROCESS_ADMIN_KEY)('POST', '/v1/users', { name: 'Revoked', email: `r-${Date.now()}@example.test`, role: 'client' });
    expect(created.status, created.text).toBe(201);
    const { user, apiKey } = created.body as { user: { id: string }; apiKey: string };
    const keys = await http(a, apiKey)('GET', '/v1/api-keys');
    const keyId = (keys.body as { data: { id: string }[] }).data[0]!.id;
    // B remembers the key: it keeps answering 200 while it is valid.
    for (let i = 0; i < 5; i++) expect((await http(b, apiKey)('GET', '/v1/users/me')).status).toBe(200);

    const revoked = await http(a, PROCESS_ADMIN_KEY)('DELETE', `/v1/api-keys/${keyId}`);
    expect(revoked.status, revoked.text).toBe(204);
    const committed = Date.now(); // the DELETE answered after its commit
    expect((await http(a, apiKey)('GET', '/v1/users/me')).status).toBe(401); // A: at once

    // B, polled for twice the bound (bounded loop): every request sent after the bound is refused.
    const seen: { sentAfterMs: number; status: number }[] = [];
    while (Date.now() - committed < 2 * KEY_CACHE_TTL_MS) {
      const sentAfterMs = Date.now() - committed;
      seen.push({ sentAfterMs, status: (await http(b, apiKey)('GET', '/v1/users/me')).status });
    }
    const late = seen.filter((s) => s.sentAfterMs >= KEY_CACHE_TTL_MS);
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((s) => s.status !== 401), JSON.stringify(seen)).toEqual([]);
    expect(user.id).toMatch(/^usr_/);
  });
});
