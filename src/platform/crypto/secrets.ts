import { createHash, hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

/** Opaque ids: a type prefix for humans, 120 random bits for uniqueness. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(15).toString('base64url')}`;
}

/** API keys carry 256 random bits, so SHA-256 (not a slow hash) is enough to store them. */
export function newApiKey(): string {
  return `bk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(secret: string): string {
  return apiKeyDigest(secret).toString('hex');
}

/** SHA-256 of a key: hashApiKey's bytes, for a constant-time comparison with another digest. */
export function apiKeyDigest(secret: string): Buffer {
  // The one-shot form: every authenticated request makes one, and a Hash object per call showed in slot reads' profiles.
  return hash('sha256', secret, 'buffer');
}

export function newFeedToken(): string {
  return randomBytes(24).toString('base64url');
}

// scrypt parameters: N=2^14, r=8, p=1 (~16 MiB, ~50 ms): interactive-login strength without a native add-on.
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const DUMMY_HASH_SALT = randomBytes(16);

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = stored?.split('$');
  if (!parts || parts.length !== 6 || parts[0] !== 'scrypt') {
    // Spend the same time as a real check, so response time does not reveal which emails exist.
    await scryptAsync(password, DUMMY_HASH_SALT, KEY_LENGTH, SCRYPT);
    return false;
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

export function constantTimeEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
