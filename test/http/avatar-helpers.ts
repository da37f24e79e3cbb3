import { randomBytes } from 'node:crypto';
import type { TestServer } from '../helpers/server.js';

/**
 * Small images for the avatar suites: real magic numbers, then random bytes
 * (the server sniffs the first bytes only; it never decodes the image).
 */
export const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);

export function pngOf(size: number): Buffer {
  return Buffer.concat([PNG_MAGIC, randomBytes(size - PNG_MAGIC.length)]);
}

export function jpegOf(size: number): Buffer {
  return Buffer.concat([JPEG_MAGIC, randomBytes(size - JPEG_MAGIC.length)]);
}

export function webpOf(size: number): Buffer {
  const header = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]);
  return Buffer.concat([header, randomBytes(size - header.length)]);
}

/** A signed local upload URL as inject() wants it: path and query, without the origin. */
export const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

/** PUT bytes to a local upload URL through inject(). */
export function putUpload(server: TestServer, url: string, bytes: Buffer, contentType: string) {
  return server.app.inject({ method: 'PUT', url: pathOf(url), headers: { 'content-type': contentType }, payload: bytes });
}

/** The stored avatar columns of every user: "nothing changed" is checked on the rows. */
export async function avatarColumns(server: TestServer): Promise<string> {
  const { rows } = await server.db.query('SELECT id, avatar_key, avatar_content_type FROM users ORDER BY id');
  return JSON.stringify(rows);
}
