import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest (a calendar URL with its token, a CalDAV
 * password, OAuth tokens). The stored text is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url), so another scheme can be told apart later. The associated data
 * binds a ciphertext to its row: a sealed config copied onto another row does
 * not open.
 *
 *   const sealed = sealSecret(key, JSON.stringify({ url }), connectionId);
 *   JSON.parse(openSecret(key, sealed, connectionId)); // { url }
 */
const VERSION = 'v1';
const IV_BYTES = 12; // the GCM standard nonce: random per message, so 2^32 messages per key stay safe
const TAG_BYTES = 16;

export class SecretUnreadableError extends Error {
  override name = 'SecretUnreadableError';
}

export function sealSecret(key: Buffer, plaintext: string, associatedData: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** Throws SecretUnreadableError for a wrong key, another row's data, or tampered text. */
export function openSecret(key: Buffer, sealed: string, associatedData: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretUnreadableError('not a sealed secret of this server');
  const [, iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretUnreadableError('not a sealed secret of this server');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretUnreadableError('cannot decrypt with this ENCRYPTION_KEY');
  }
}
