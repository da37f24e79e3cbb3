import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { KEY_CACHE_TTL_MS } from '../../src/features/identity/key-cache.js';
import { countRows, expectNothingChanged, ms } from './users-availability-helpers.js';

interface KeyView {
  id: string;
  name: string | null;
  expiresAt: string | null;
}

describe('API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  /** Every key of the caller, walking the pages with the given limit. */
  async function listAll(call: ReturnType<typeof client>, limit: number): Promise<{ keys: KeyView[]; pages: number; bodies: string[] }> {
    const keys: KeyView[] = [];
    const bodies: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url = `/v1/api-keys?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await call('GET', url);
      expect(res.statusCode, res.body).toBe(200);
      bodies.push(res.body);
      const page = res.json();
      expect(page.data.length).toBeLessThanOrEqual(limit);
      keys.push(...page.data);
      cursor = page.nextCursor;
      pages++;
      expect(pages).toBeLessThan(50);
    } while (cursor !== null);
    return { keys, pages, bodies };
  }

  describe('POST /v1/api-keys', () => {
    it('creates a key for the caller, shown once, with name and expiresAt', async () => {
      const user = await createUser(server, 'client');
      const expiresAt = new Date(Date.now() + 7 * 24 * 3600_000).toISOString();
      const res = await user.call('POST', '/v1/api-keys', { name: 'ci', expiresAt });
      expect(res.statusCode, res.body).toBe(201);
      const created = res.json();
      expect(typeof created.id).toBe('string');
      expect(typeof created.apiKey).toBe('string');
      expect(created.name).toBe('ci');
      expect(Math.abs(ms(created.expiresAt) - ms(expiresAt))).toBeLessThan(1000);

      const me = await client(server, created.apiKey)('GET', '/v1/users/me');
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json().id).toBe(user.id);

      const { rows } = await server.db.query<{ user_id: string }>('SELECT user_id FROM api_keys WHERE id = $1', [created.id]);
      expect(rows).toEqual([{ user_id: user.id }]);
      expect(JSON.stringify(await server.db.query('SELECT * FROM api_keys'))).not.toContain(created.apiKey);
    });

    it('creates a key with no body at all, with expiresAt null', async () => {
      const user = await createUser(server, 'provider');
      const res = await user.call('POST', '/v1/api-keys');
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().expiresAt).toBeNull();
      expect(typeof res.json().apiKey).toBe('string');
    });

    it('accepts an expiresAt with an offset and means the same instant', async () => {
      const user = await createUser(server, 'client');
      const target = Math.floor((Date.now() + 3 * 24 * 3600_000) / 1000) * 1000;
      const local = new Date(target + 2 * 3600_000).toISOString().slice(0, 19) + '+02:00';
      const res = await user.call('POST', '/v1/api-keys', { expiresAt: local });
      expect(res.statusCode, res.body).toBe(201);
      expect(ms(res.json().expiresAt)).toBe(target);
    });

    it('answers 400 for an expiresAt in the past or now, bad formats and unknown fields, storing nothing', async () => {
      const user = await createUser(server, 'client');
      const bodies: unknown[] = [
        { expiresAt: new Date(Date.now() - 60_000).toISOString() },
        { expiresAt: '2001-01-01T00:00:00Z' },
        { expiresAt: 'tomorrow' },
        { expiresAt: '2099-01-01' },
        { expiresAt: '2099-01-01T10:00:00' },
        { expiresAt: 1893456000000 },
        { name: 42 },
        { name: '' },
        { name: 'ok', secret: 'mine' },
        { name: 'nul\u0000' },
        '["not", "an", "object"]',
        '{bad json',
      ];
      for (const body of bodies) {
        const res = await expectNothingChanged(server, () => user.call('POST', '/v1/api-keys', body));
        expectProblem(res, 400);
      }
      expect(await countRows(server, 'api_keys', 'user_id = $1', [user.id])).toBe(1);
    });

    it('answers 401 without a key', async () => {
      const res = await expectNothingChanged(server, () => client(server, null)('POST', '/v1/api-keys', { name: 'x' }));
      expectProblem(res, 401);
    });
  });

  describe('GET /v1/api-keys', () => {
    it('lists the caller\'s keys without any secret, and only the caller\'s', async () => {
      const user = await createUser(server, 'client');
      const other = await createUser(server, 'client');
      const secrets = [user.apiKey];
      for (const name of ['a', 'b']) {
        const res = await user.call('POST', '/v1/api-keys', { name });
        expect(res.statusCode, res.body).toBe(201);
        secrets.push(res.json().apiKey);
      }
      const res = await user.call('GET', '/v1/api-keys');
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.nextCursor).toBeNull();
      expect(body.data).toHaveLength(3);
      expect(body.data.map((k: KeyView) => k.name).sort()).toEqual(['a', 'b', 'default']);
      for (const secret of secrets) expect(res.body).not.toContain(secret);
      for (const k of body.data) {
        expect(k.apiKey).toBeUndefined();
        expect(k.keyHash ?? k.key_hash ?? k.hash).toBeUndefined();
      }
      const otherList = await other.call('GET', '/v1/api-keys');
      expect(otherList.json().data).toHaveLength(1);
      for (const k of body.data) expect(otherList.body).not.toContain(k.id);
    });

    it('walks every key with limit=1 and nextCursor, each exactly once', async () => {
      const user = await createUser(server, 'provider');
      const ids = new Set<string>();
      const secrets = [user.apiKey];
      for (let i = 0; i < 5; i++) {
        const res = await user.call('POST', '/v1/api-keys', { name: `k${i}` });
        expect(res.statusCode, res.body).toBe(201);
        ids.add(res.json().id);
        secrets.push(res.json().apiKey);
      }
      const { keys, pages, bodies } = await listAll(user.call, 1);
      expect(keys).toHaveLength(6);
      expect(pages).toBe(6);
      expect(new Set(keys.map((k) => k.id)).size).toBe(6);
      for (const id of ids) expect(keys.some((k) => k.id === id)).toBe(true);
      for (const secret of secrets) for (const b of bodies) expect(b).not.toContain(secret);

      const byTwo = await listAll(user.call, 2);
      expect(byTwo.keys.map((k) => k.id)).toEqual(keys.map((k) => k.id));
      expect(byTwo.pages).toBe(3);
    });

    it('answers 400 for a bad cursor or limit', async () => {
      const user = await createUser(server, 'client');
      const cursors = [
        'garbage',
        '%%%',
        Buffer.from('{"a":1}').toString('base64url'),
        Buffer.from('[1]').toString('base64url'),
        Buffer.from('["x","y"]').toString('base64url'),
        Buffer.from('[1e300,"id"]').toString('base64url'),
        // In range for JavaScript, out of range for the database: must be a 400, not a 500.
        Buffer.from('[-8000000000000000,"id"]').toString('base64url'),
        Buffer.from('[8000000000000000,"id"]').toString('base64url'),
        Buffer.from('[253402300800000,"id"]').toString('base64url'),
        Buffer.from('[1.5,"id"]').toString('base64url'),
        Buffer.from('[1000,"\\u0000"]').toString('base64url'),
      ];
      for (const cursor of cursors) {
        expectProblem(await user.call('GET', `/v1/api-keys?cursor=${encodeURIComponent(cursor)}`), 400);
      }
      for (const limit of ['0', '-1', '201', 'ten', '1.5']) {
        expectProblem(await user.call('GET', `/v1/api-keys?limit=${limit}`), 400);
      }
      const max = await user.call('GET', '/v1/api-keys?limit=200');
      expect(max.statusCode, max.body).toBe(200);
    });

    it('answers 401 without a key', async () => {
      expectProblem(await client(server, null)('GET', '/v1/api-keys'), 401);
    });
  });

  describe('DELETE /v1/api-keys/{id}', () => {
    it('revokes a key: 204, and it gets 401 at once, while the caller\'s other keys keep working', async () => {
      const user = await createUser(server, 'client');
      const extra = (await user.call('POST', '/v1/api-keys', { name: 'doomed' })).json();
      const doomed = client(server, extra.apiKey);
      expect((await doomed('GET', '/v1/users/me')).statusCode).toBe(200);

      const del = await user.call('DELETE', `/v1/api-keys/${extra.id}`);
      expect(del.statusCode, del.body).toBe(204);
      expect(del.body).toBe('');

      expectProblem(await doomed('GET', '/v1/users/me'), 401);
      expectProblem(await doomed('GET', '/v1/api-keys'), 401);
      expectProblem(await client(server, null)('GET', `/v1/users/me?apiKey=${encodeURIComponent(extra.apiKey)}`), 401);
      expect((await user.call('GET', '/v1/users/me')).statusCode).toBe(200);

      const list = await user.call('GET', '/v1/api-keys');
      expect(list.json().data.map((k: KeyView) => k.id)).not.toContain(extra.id);

      const again = await expectNothingChanged(server, () => user.call('DELETE', `/v1/api-keys/${extra.id}`));
      expectProblem(again, 404);
    });

    it('a key can revoke itself', async () => {
      const user = await createUser(server, 'client');
      const extra = (await user.call('POST', '/v1/api-keys', { name: 'self' })).json();
      const self = client(server, extra.apiKey);
      expect((await self('DELETE', `/v1/api-keys/${extra.id}`)).statusCode).toBe(204);
      expectProblem(await self('GET', '/v1/users/me'), 401);
    });

    it('answers 404 for someone else\'s key and for an unknown id, and that key keeps working', async () => {
      const owner = await createUser(server, 'provider');
      const intruder = await createUser(server, 'client');
      const ownerKeys = (await owner.call('GET', '/v1/api-keys')).json().data as KeyView[];
      expect(ownerKeys).toHaveLength(1);
      for (const id of [ownerKeys[0]!.id, 'key_doesnotexist']) {
        const res = await expectNothingChanged(server, () => intruder.call('DELETE', `/v1/api-keys/${id}`));
        expectProblem(res, 404);
      }
      expect((await owner.call('GET', '/v1/users/me')).statusCode).toBe(200);
      const odd = await expectNothingChanged(server, () => intruder.call('DELETE', '/v1/api-keys/%00x'));
      expect([400, 404]).toContain(odd.statusCode);
      expectProblem(odd, odd.statusCode);
    });

    it('answers 401 without a key', async () => {
      const user = await createUser(server, 'client');
      const id = (await user.call('GET', '/v1/api-keys')).json().data[0].id;
      const res = await expectNothingChanged(server, () => client(server, null)('DELETE', `/v1/api-keys/${id}`));
      expectProblem(res, 401);
    });
  });

  describe('how a key is presented', () => {
    it('accepts ?apiKey= in the query', async () => {
      const user = await createUser(server, 'client');
      const res = await client(server, null)('GET', `/v1/users/me?apiKey=${encodeURIComponent(user.apiKey)}`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().id).toBe(user.id);
      const list = await client(server, null)('GET', `/v1/api-keys?limit=1&apiKey=${encodeURIComponent(user.apiKey)}`);
      expect(list.statusCode, list.body).toBe(200);
      expectProblem(await client(server, null)('GET', '/v1/users/me?apiKey=bk_wrong'), 401);
    });

    it('accepts the bearer scheme in any case', async () => {
      const user = await createUser(server, 'client');
      const res = await client(server, null)('GET', '/v1/users/me', undefined, { authorization: `bearer ${user.apiKey}` });
      expect(res.statusCode, res.body).toBe(200);
    });

    it('answers 401 for a malformed Authorization header, even with a good key in the query', async () => {
      const user = await createUser(server, 'client');
      const headers = [
        user.apiKey,
        `Basic ${Buffer.from(`x:${user.apiKey}`).toString('base64')}`,
        'Bearer',
        'Bearer ',
        `Bearer ${user.apiKey} extra`,
        `Token ${user.apiKey}`,
      ];
      for (const authorization of headers) {
        const res = await client(server, null)('GET', '/v1/users/me', undefined, { authorization });
        const problem = expectProblem(res, 401);
        expect(JSON.stringify(problem)).not.toContain(user.apiKey);
      }
      const both = await client(server, null)(
        'GET',
        `/v1/users/me?apiKey=${encodeURIComponent(user.apiKey)}`,
        undefined,
        { authorization: 'Basic abc' },
      );
      expectProblem(both, 401);
    });

    it('answers 401 for an expired key (expiry moved to the past in storage)', async () => {
      const user = await createUser(server, 'client');
      const extra = (await user.call('POST', '/v1/api-keys', { name: 'short', expiresAt: new Date(Date.now() + 3600_000).toISOString() })).json();
      const call = client(server, extra.apiKey);
      expect((await call('GET', '/v1/users/me')).statusCode).toBe(200);
      await server.db.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [extra.id]);
      // A change behind the app's back (as another process's) reaches its in-process key cache within the bound.
      await new Promise((resolve) => setTimeout(resolve, KEY_CACHE_TTL_MS + 20));
      expectProblem(await call('GET', '/v1/users/me'), 401);
      expectProblem(await client(server, null)('GET', `/v1/users/me?apiKey=${encodeURIComponent(extra.apiKey)}`), 401);
    });

    it('answers 401 once a key reaches its expiresAt', async () => {
      const user = await createUser(server, 'client');
      const expiresAt = new Date(Date.now() + 2000).toISOString();
      const res = await user.call('POST', '/v1/api-keys', { name: 'brief', expiresAt });
      expect(res.statusCode, res.body).toBe(201);
      const call = client(server, res.json().apiKey);
      expect((await call('GET', '/v1/users/me')).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, Math.max(0, ms(expiresAt) - Date.now()) + 700));
      expectProblem(await call('GET', '/v1/users/me'), 401);
    });

    it('a login key can be revoked like any other', async () => {
      const email = `login-${Math.random().toString(36).slice(2)}@example.test`;
      const created = await admin(server)('POST', '/v1/users', { name: 'L', email, role: 'client', password: 'login key passphrase' });
      expect(created.statusCode, created.body).toBe(201);
      const login = await client(server, null)('POST', '/v1/auth/login', { email, password: 'login key passphrase' });
      expect(login.statusCode, login.body).toBe(200);
      const call = client(server, login.json().apiKey);
      const keys = (await call('GET', '/v1/api-keys')).json().data as KeyView[];
      const loginKey = keys.find((k) => k.expiresAt !== null);
      expect(loginKey).toBeDefined();
      expect(Math.abs(ms(loginKey!.expiresAt!) - ms(login.json().expiresAt))).toBeLessThan(1000);
      expect((await call('DELETE', `/v1/api-keys/${loginKey!.id}`)).statusCode).toBe(204);
      expectProblem(await call('GET', '/v1/users/me'), 401);
    });
  });
});
