import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore } from '../../src/features/identity/avatar-store.js';
import { admin, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { avatarColumns, jpegOf, pathOf, pngOf, putUpload, webpOf } from './avatar-helpers.js';

const MiB = 1024 * 1024;
// A pinned clock: expiry is tested by moving it, never by waiting.
const START = Date.parse('2027-03-01T09:00:00Z');

describe('avatars on the local store (signed upload URLs of this server)', () => {
  let server: TestServer;
  let now = START;
  beforeAll(async () => {
    server = await startTestServer({}, { clock: { now: () => now } });
  });
  afterAll(async () => server?.close());

  async function signed(call: Awaited<ReturnType<typeof createUser>>['call'], contentType: string, size: number) {
    const res = await call('POST', '/v1/users/me/avatar', { contentType, size });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uploadId: string; uploadUrl: string; method: string; headers: Record<string, string>; expiresAt: string };
  }

  it('signs an upload, stores the PUT bytes, and serves them back with a cache header', async () => {
    const provider = await createUser(server, 'provider');
    const upload = await signed(provider.call, 'image/png', 4000);
    expect(upload.method).toBe('PUT');
    expect(upload.headers).toEqual({ 'Content-Type': 'image/png' });
    expect(upload.expiresAt).toBe('2027-03-01T09:05:00Z'); // 5 minutes after the pinned now
    expect(upload.uploadUrl.startsWith(`${server.config.publicBaseUrl}/v1/uploads/avatars/${provider.id}/${upload.uploadId}?`)).toBe(true);

    const bytes = pngOf(4000);
    const put = await putUpload(server, upload.uploadUrl, bytes, 'image/png');
    expect(put.statusCode, put.body).toBe(200);
    const { avatarUrl } = put.json();
    expect(avatarUrl).toBe(`${server.config.publicBaseUrl}/v1/avatars/${provider.id}/${upload.uploadId}`);

    const me = await provider.call('GET', '/v1/users/me');
    expect(me.json().avatarUrl).toBe(avatarUrl);
    // Completing is a no-op on the local store (the PUT completed it), and harmless to repeat.
    const completed = await provider.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId });
    expect(completed.statusCode, completed.body).toBe(200);
    expect(completed.json()).toEqual(me.json());

    // Anyone with a key sees a provider's image: on the user and in the directory.
    const client = await createUser(server, 'client');
    expect((await client.call('GET', `/v1/users/${provider.id}`)).json().avatarUrl).toBe(avatarUrl);
    const directory = (await client.call('GET', '/v1/providers?limit=200')).json();
    expect(directory.data.find((p: { id: string }) => p.id === provider.id).avatarUrl).toBe(avatarUrl);

    const image = await server.app.inject({ method: 'GET', url: new URL(avatarUrl).pathname });
    expect(image.statusCode).toBe(200);
    expect(image.rawPayload.equals(bytes)).toBe(true);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(image.headers['x-content-type-options']).toBe('nosniff');
  });

  it('accepts JPEG and WebP as well, served with their own types', async () => {
    for (const [type, bytes] of [['image/jpeg', jpegOf(300)], ['image/webp', webpOf(300)]] as const) {
      const user = await createUser(server, 'client');
      const upload = await signed(user.call, type, bytes.length);
      const put = await putUpload(server, upload.uploadUrl, bytes, type);
      expect(put.statusCode, put.body).toBe(200);
      const image = await server.app.inject({ method: 'GET', url: new URL(put.json().avatarUrl).pathname });
      expect(image.headers['content-type']).toBe(type);
      expect(image.rawPayload.equals(bytes)).toBe(true);
    }
  });

  it('refuses a tampered signature, a changed size, type or key with 403, storing nothing', async () => {
    const user = await createUser(server, 'client');
    const other = await createUser(server, 'client');
    const upload = await signed(user.call, 'image/png', 100);
    const url = new URL(upload.uploadUrl);
    const sig = url.searchParams.get('sig')!;
    const variants: string[] = [];
    const flipped = new URL(url);
    flipped.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
    variants.push(flipped.toString());
    const bigger = new URL(url);
    bigger.searchParams.set('size', '101');
    variants.push(bigger.toString());
    const jpeg = new URL(url);
    jpeg.searchParams.set('type', 'image/jpeg');
    variants.push(jpeg.toString());
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    variants.push(later.toString());
    variants.push(upload.uploadUrl.replace(user.id, other.id)); // another user's key
    const unsigned = new URL(url);
    unsigned.searchParams.delete('sig');
    variants.push(unsigned.toString());
    const before = await avatarColumns(server);
    for (const variant of variants) {
      const body = variant === jpeg.toString() ? jpegOf(100) : pngOf(variant === bigger.toString() ? 101 : 100);
      const res = await putUpload(server, variant, body, variant === jpeg.toString() ? 'image/jpeg' : 'image/png');
      const problem = expectProblem(res, 403);
      expect(problem.code).toBe('forbidden');
      expect(problem.detail).toMatch(/signature/);
    }
    expect(await avatarColumns(server)).toBe(before);
    // The untouched URL still works: nothing above used it up.
    expect((await putUpload(server, upload.uploadUrl, pngOf(100), 'image/png')).statusCode).toBe(200);
  });

  it('refuses an expired URL with 403 (pinned clock moved past its 5 minutes)', async () => {
    const user = await createUser(server, 'client');
    const upload = await signed(user.call, 'image/png', 100);
    now = START + 300_000; // exactly at expiresAt: already too late
    try {
      const problem = expectProblem(await putUpload(server, upload.uploadUrl, pngOf(100), 'image/png'), 403);
      expect(problem.detail).toMatch(/expired/);
      now = START + 299_000;
      expect((await putUpload(server, upload.uploadUrl, pngOf(100), 'image/png')).statusCode).toBe(200);
    } finally {
      now = START;
    }
  });

  it('refuses another Content-Type than signed (415), and a type it does not take at all', async () => {
    const user = await createUser(server, 'client');
    const before = await avatarColumns(server);
    const upload = await signed(user.call, 'image/png', 100);
    for (const type of ['image/jpeg', 'image/gif', 'application/json', 'text/plain']) {
      const problem = expectProblem(await putUpload(server, upload.uploadUrl, pngOf(100), type), 415);
      expect(problem.code).toBe('unsupported_media_type');
    }
    const gif = await user.call('POST', '/v1/users/me/avatar', { contentType: 'image/gif', size: 100 });
    expect(expectProblem(gif, 400).detail).toMatch(/image\/png/);
    expect(await avatarColumns(server)).toBe(before);
  });

  it('refuses sizes: over the limit when signing (400), more bytes than signed (413), fewer (400)', async () => {
    const user = await createUser(server, 'client');
    const before = await avatarColumns(server);
    const tooBig = await user.call('POST', '/v1/users/me/avatar', { contentType: 'image/png', size: 2 * MiB + 1 });
    const problem = expectProblem(tooBig, 400);
    expect(problem.errors).toEqual([{ path: 'body/size', message: `must be at most ${2 * MiB} bytes` }]);
    expect((await user.call('POST', '/v1/users/me/avatar', { contentType: 'image/png', size: 2 * MiB })).statusCode).toBe(200);
    for (const size of [0, -1, 1.5, '100']) {
      expectProblem(await user.call('POST', '/v1/users/me/avatar', { contentType: 'image/png', size }), 400);
    }

    const upload = await signed(user.call, 'image/png', 100);
    expect(expectProblem(await putUpload(server, upload.uploadUrl, pngOf(101), 'image/png'), 413).code).toBe('payload_too_large');
    expect(expectProblem(await putUpload(server, upload.uploadUrl, pngOf(99), 'image/png'), 400).code).toBe('invalid_request');
    // Past the server's own limit the body is not even read.
    expectProblem(await putUpload(server, upload.uploadUrl, pngOf(2 * MiB + 10), 'image/png'), 413);
    expect(await avatarColumns(server)).toBe(before);
  });

  it('sniffs the bytes: a JPEG sent as PNG, or no image at all, is a 415 and nothing is stored', async () => {
    const user = await createUser(server, 'client');
    const before = await avatarColumns(server);
    const upload = await signed(user.call, 'image/png', 100);
    const jpeg = expectProblem(await putUpload(server, upload.uploadUrl, jpegOf(100), 'image/png'), 415);
    expect(jpeg.detail).toBe('The bytes are image/jpeg, not image/png as signed.');
    const text = expectProblem(await putUpload(server, upload.uploadUrl, Buffer.alloc(100, 'a'), 'image/png'), 415);
    expect(text.detail).toMatch(/not a PNG, JPEG or WebP/);
    expect(await avatarColumns(server)).toBe(before);
    // Nothing was stored under the key, so the URL can still carry the right bytes.
    expect((await putUpload(server, upload.uploadUrl, pngOf(100), 'image/png')).statusCode).toBe(200);
  });

  it('uses a URL once: a second PUT is a 409 and the first bytes stay', async () => {
    const user = await createUser(server, 'client');
    const upload = await signed(user.call, 'image/png', 100);
    const first = pngOf(100);
    const put = await putUpload(server, upload.uploadUrl, first, 'image/png');
    expect(put.statusCode).toBe(200);
    expect(expectProblem(await putUpload(server, upload.uploadUrl, pngOf(100), 'image/png'), 409).code).toBe('state_conflict');
    const image = await server.app.inject({ method: 'GET', url: new URL(put.json().avatarUrl).pathname });
    expect(image.rawPayload.equals(first)).toBe(true);
  });

  it('a new image is a new URL; the old one and a deleted one are 404', async () => {
    const user = await createUser(server, 'client');
    const first = await putUpload(server, (await signed(user.call, 'image/png', 100)).uploadUrl, pngOf(100), 'image/png');
    const second = await putUpload(server, (await signed(user.call, 'image/webp', 100)).uploadUrl, webpOf(100), 'image/webp');
    const [oldUrl, newUrl] = [first.json().avatarUrl, second.json().avatarUrl];
    expect(newUrl).not.toBe(oldUrl);
    expect((await user.call('GET', '/v1/users/me')).json().avatarUrl).toBe(newUrl);
    expectProblem(await server.app.inject({ method: 'GET', url: new URL(oldUrl).pathname }), 404);

    const deleted = await user.call('DELETE', '/v1/users/me/avatar');
    expect(deleted.statusCode).toBe(204);
    expect((await user.call('GET', '/v1/users/me')).json().avatarUrl).toBeUndefined();
    expectProblem(await server.app.inject({ method: 'GET', url: new URL(newUrl).pathname }), 404);
    expect((await user.call('DELETE', '/v1/users/me/avatar')).statusCode).toBe(204);
  });

  it('completing an upload that never arrived is a 409; someone else\'s upload id is not found for the caller', async () => {
    const user = await createUser(server, 'client');
    const other = await createUser(server, 'client');
    const upload = await signed(user.call, 'image/png', 100);
    expect(expectProblem(await user.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId }), 409).code).toBe('state_conflict');
    await putUpload(server, upload.uploadUrl, pngOf(100), 'image/png');
    // The id names an object under the caller's own key only: another user cannot adopt it.
    expectProblem(await other.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId }), 409);
    expectProblem(await other.call('POST', '/v1/users/me/avatar/complete', { uploadId: '../x' }), 400);
    expect((await other.call('GET', '/v1/users/me')).json().avatarUrl).toBeUndefined();
  });

  it('another process of the same database accepts the URL (the signing key is kept in the database)', async () => {
    const user = await createUser(server, 'client');
    const upload = await signed(user.call, 'image/png', 100);
    const url = new URL(upload.uploadUrl);
    const key = url.pathname.replace('/v1/uploads/', '');
    const query = Object.fromEntries(url.searchParams);
    const otherProcess = await openObjectStore(server.db, server.config);
    expect(otherProcess.kind === 'local' && otherProcess.verifyPut(key, query, now)).toMatchObject({ ok: true, size: 100 });
    // UPLOAD_SIGNING_KEY replaces the stored key: a process configured with another key refuses the URL.
    const configured = await openObjectStore(server.db, { ...server.config, avatars: { ...server.config.avatars, signingKey: 'k'.repeat(32) } });
    expect(configured.kind === 'local' && configured.verifyPut(key, query, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('requires a key to sign, and erases an erased client\'s image', async () => {
    expectProblem(await server.app.inject({ method: 'POST', url: '/v1/users/me/avatar', payload: { contentType: 'image/png', size: 10 } }), 401);
    const client = await createUser(server, 'client');
    const put = await putUpload(server, (await signed(client.call, 'image/png', 100)).uploadUrl, pngOf(100), 'image/png');
    expect((await admin(server)('DELETE', `/v1/users/${client.id}`)).statusCode).toBe(204);
    expectProblem(await server.app.inject({ method: 'GET', url: new URL(put.json().avatarUrl).pathname }), 404);
    const { rows } = await server.db.query('SELECT avatar_key FROM users WHERE id = $1', [client.id]);
    expect(rows).toEqual([{ avatar_key: null }]);
  });
});

describe('avatars on the local store under DATA_DIR', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'avatars-'));
    server = await startTestServer({ DATA_DIR: dir });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the file under DATA_DIR/uploads and removes it when replaced', async () => {
    const user = await createUser(server, 'client');
    const sign = async () => (await user.call('POST', '/v1/users/me/avatar', { contentType: 'image/png', size: 100 })).json();
    const first = await sign();
    expect((await putUpload(server, first.uploadUrl, pngOf(100), 'image/png')).statusCode).toBe(200);
    const file = join(dir, 'uploads', 'avatars', user.id, first.uploadId);
    expect(existsSync(file)).toBe(true);
    const second = await sign();
    const put = await putUpload(server, second.uploadUrl, pngOf(100), 'image/png');
    expect(put.statusCode).toBe(200);
    expect(existsSync(file)).toBe(false);
    const image = await server.app.inject({ method: 'GET', url: pathOf(put.json().avatarUrl) });
    expect(image.statusCode).toBe(200);
  });
});
