import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { requireKey, type LocalObjectStore, type ObjectHead, type PutRequest, type PutVerdict, type SignedPut } from './object-store.js';

/**
 * The local store's signed URL: `<uploadBaseUrl>/<key>?type=…&size=…&expires=…&sig=…`,
 * where sig is HMAC-SHA256 over the method, key, content type, size and expiry
 * (seconds). The key names whose object it is, so a URL for one key cannot be
 * used for another; a changed type, size or expiry breaks the signature.
 *
 *   PUT\navatars/usr_1/u_2\nimage/png\n1234\n1767225600
 */
function canonical(key: string, contentType: string, size: number, expiresSeconds: number): string {
  return ['PUT', key, contentType, String(size), String(expiresSeconds)].join('\n');
}

const sign = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest();

interface Blobs {
  putNew(key: string, bytes: Buffer): Promise<boolean>;
  get(key: string): Promise<Buffer | null>;
  delete(key: string): Promise<void>;
  head(key: string, firstBytes: number): Promise<ObjectHead | null>;
}

function memoryBlobs(): Blobs {
  const blobs = new Map<string, Buffer>();
  return {
    async putNew(key, bytes) {
      if (blobs.has(key)) return false;
      blobs.set(key, Buffer.from(bytes));
      return true;
    },
    async get(key) {
      return blobs.get(key) ?? null;
    },
    async delete(key) {
      blobs.delete(key);
    },
    async head(key, firstBytes) {
      const blob = blobs.get(key);
      return blob ? { size: blob.length, contentType: null, firstBytes: blob.subarray(0, firstBytes) } : null;
    },
  };
}

const isCode = (error: unknown, code: string) => (error as NodeJS.ErrnoException | null)?.code === code;

/**
 * Files under a directory. A file appears whole or not at all: written to a
 * temporary name, then hard-linked to its key, which fails when the key exists,
 * so two processes sharing the directory never overwrite each other.
 */
function directoryBlobs(root: string): Blobs {
  const pathOf = (key: string) => join(root, requireKey(key));
  return {
    async putNew(key, bytes) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, bytes, { flag: 'wx' });
      try {
        await link(temp, target);
        return true;
      } catch (error) {
        if (isCode(error, 'EEXIST')) return false;
        throw error;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        if (isCode(error, 'ENOENT')) return null;
        throw error;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async head(key, firstBytes) {
      let handle;
      try {
        handle = await open(pathOf(key), 'r');
      } catch (error) {
        if (isCode(error, 'ENOENT')) return null;
        throw error;
      }
      try {
        const { size } = await handle.stat();
        const buffer = Buffer.alloc(Math.min(firstBytes, size));
        await handle.read(buffer, 0, buffer.length, 0);
        return { size, contentType: null, firstBytes: buffer };
      } finally {
        await handle.close();
      }
    },
  };
}

export interface LocalStoreOptions {
  /** 'memory', or a directory (made when missing). */
  location: string;
  /** Where the server receives the PUTs; the key is appended. */
  uploadBaseUrl: string;
  /** The HMAC key of the signed URLs. */
  signingKey: string;
}

export function localObjectStore(options: LocalStoreOptions): LocalObjectStore {
  const blobs = options.location === 'memory' ? memoryBlobs() : directoryBlobs(options.location);
  const { signingKey } = options;
  return {
    kind: 'local',
    async signPut({ key, contentType, size, now, ttlSeconds }: PutRequest): Promise<SignedPut> {
      const expires = Math.floor(now / 1000) + ttlSeconds;
      const sig = sign(signingKey, canonical(requireKey(key), contentType, size, expires)).toString('base64url');
      const query = new URLSearchParams({ type: contentType, size: String(size), expires: String(expires), sig });
      return {
        url: `${options.uploadBaseUrl}/${key}?${query}`,
        method: 'PUT',
        headers: { 'Content-Type': contentType },
        expiresAt: expires * 1000,
      };
    },
    verifyPut(key: string, query: Record<string, unknown>, now: number): PutVerdict {
      const { type, size, expires, sig } = query;
      if (typeof type !== 'string' || typeof sig !== 'string' || typeof size !== 'string' || typeof expires !== 'string'
        || !/^\d{1,12}$/.test(size) || !/^\d{1,12}$/.test(expires)) {
        return { ok: false, reason: 'bad_signature' };
      }
      const expected = sign(signingKey, canonical(key, type, Number(size), Number(expires)));
      const given = Buffer.from(sig, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
      // Checked after the signature: an expiry cannot be trusted before it is known to be ours.
      if (Number(expires) * 1000 <= now) return { ok: false, reason: 'expired' };
      return { ok: true, contentType: type, size: Number(size), expiresAt: Number(expires) * 1000 };
    },
    putNew: (key, bytes) => blobs.putNew(requireKey(key), bytes),
    get: (key) => blobs.get(requireKey(key)),
    head: (key, firstBytes) => blobs.head(requireKey(key), firstBytes),
    delete: (key) => blobs.delete(requireKey(key)),
  };
}
