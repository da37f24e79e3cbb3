import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { jpegOf, pngOf } from './avatar-helpers.js';

/**
 * The S3 store against s3rver (npm), a real S3-compatible HTTP server started
 * on loopback: presigned PUT, the ranged GET of completion, DELETE, signed GET.
 * s3rver does not check SigV4 signatures of presigned URLs (a tampered one got
 * 200 when this was written), so what the signature binds is checked on the
 * URL's parameters here, and S3 itself is trusted to enforce it.
 */
const BUCKET = 'avatars-test';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('avatars on an S3-compatible bucket (s3rver on loopback)', () => {
  let s3rver: S3rver;
  let dir: string;
  let endpoint: string;
  let s3: S3Client;
  let server: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3rver-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const { port } = await s3rver.run();
    endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    server = await startTestServer({
      S3_BUCKET: BUCKET, S3_REGION: 'us-east-1', S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: credentials.accessKeyId, S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AVATAR_MAX_BYTES: '4096',
    });
  });
  afterAll(async () => {
    await server?.close();
    s3?.destroy();
    await s3rver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const exists = (key: string) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(() => true, () => false);

  async function sign(call: Awaited<ReturnType<typeof createUser>>['call'], contentType: string, size: number) {
    const res = await call('POST', '/v1/users/me/avatar', { contentType, size });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { uploadId: string; uploadUrl: string; headers: Record<string, string>; expiresAt: string };
  }

  it('presigns a PUT that binds the content type and length, for 5 minutes, with no checksum of an empty body', async () => {
    const user = await createUser(server, 'client');
    const upload = await sign(user.call, 'image/png', 1234);
    const url = new URL(upload.uploadUrl);
    expect(url.origin).toBe(endpoint);
    expect(url.pathname).toBe(`/${BUCKET}/avatars/${user.id}/${upload.uploadId}`);
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'content-type', 'host']);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect([...url.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    expect(upload.headers).toEqual({ 'Content-Type': 'image/png', 'Content-Length': '1234' });
    expect(Date.parse(upload.expiresAt) - Date.now()).toBeGreaterThan(290_000);
  });

  it('PUT to the bucket, complete, then the avatar URL redirects to the same bytes', async () => {
    const provider = await createUser(server, 'provider');
    const upload = await sign(provider.call, 'image/png', 2000);
    const bytes = pngOf(2000);
    const put = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: new Uint8Array(bytes) });
    expect(put.status, await put.text()).toBe(200);
    // Not the avatar until completed: the server has not seen the upload.
    expect((await provider.call('GET', '/v1/users/me')).json().avatarUrl).toBeUndefined();

    const completed = await provider.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId });
    expect(completed.statusCode, completed.body).toBe(200);
    const { avatarUrl } = completed.json();
    expect(avatarUrl).toBe(`${server.config.publicBaseUrl}/v1/avatars/${provider.id}/${upload.uploadId}`);
    const other = await createUser(server, 'client');
    expect((await other.call('GET', `/v1/users/${provider.id}`)).json().avatarUrl).toBe(avatarUrl);

    const served = await server.app.inject({ method: 'GET', url: new URL(avatarUrl).pathname });
    expect(served.statusCode).toBe(302);
    expect(served.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    const image = await fetch(served.headers.location as string);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).equals(bytes)).toBe(true);

    // A new image replaces the object; DELETE removes the last one.
    const next = await sign(provider.call, 'image/png', 100);
    await fetch(next.uploadUrl, { method: 'PUT', headers: next.headers, body: new Uint8Array(pngOf(100)) });
    expect((await provider.call('POST', '/v1/users/me/avatar/complete', { uploadId: next.uploadId })).statusCode).toBe(200);
    expect(await exists(`avatars/${provider.id}/${upload.uploadId}`)).toBe(false);
    expect((await provider.call('DELETE', '/v1/users/me/avatar')).statusCode).toBe(204);
    expect(await exists(`avatars/${provider.id}/${next.uploadId}`)).toBe(false);
    expectProblem(await server.app.inject({ method: 'GET', url: `/v1/avatars/${provider.id}/${next.uploadId}` }), 404);
  });

  it('completion sniffs the bytes: a JPEG stored as image/png is a 415 and the object is removed', async () => {
    const user = await createUser(server, 'client');
    const upload = await sign(user.call, 'image/png', 500);
    await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: new Uint8Array(jpegOf(500)) });
    const problem = expectProblem(await user.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId }), 415);
    expect(problem.detail).toBe('The bytes are image/jpeg, not image/png as signed.');
    expect(await exists(`avatars/${user.id}/${upload.uploadId}`)).toBe(false);
    expect((await user.call('GET', '/v1/users/me')).json().avatarUrl).toBeUndefined();
  });

  it('completion checks the size too (a server that ignores the signed length let 5000 bytes in): 413, removed', async () => {
    const user = await createUser(server, 'client');
    const upload = await sign(user.call, 'image/png', 4000);
    await fetch(upload.uploadUrl, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: new Uint8Array(pngOf(5000)) });
    expectProblem(await user.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId }), 413);
    expect(await exists(`avatars/${user.id}/${upload.uploadId}`)).toBe(false);
  });

  it('completing what never arrived is a 409; the local upload route is not served with S3', async () => {
    const user = await createUser(server, 'client');
    const upload = await sign(user.call, 'image/png', 100);
    expectProblem(await user.call('POST', '/v1/users/me/avatar/complete', { uploadId: upload.uploadId }), 409);
    const local = await server.app.inject({
      method: 'PUT', url: `/v1/uploads/avatars/${user.id}/${upload.uploadId}?type=image%2Fpng&size=100&expires=1&sig=x`,
      headers: { 'content-type': 'image/png' }, payload: pngOf(100),
    });
    expectProblem(local, 404);
    expectProblem(await user.call('POST', '/v1/users/me/avatar', { contentType: 'image/png', size: 4097 }), 400);
  });
});
