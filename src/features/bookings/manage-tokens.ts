import { randomBytes } from 'node:crypto';
import { bookingOfToken, insertBookingToken, pruneMailTokens } from '../../db/guest-bookings-repo.js';
import type { Queryable } from '../../db/database.js';
import { AppError } from '../../domain/errors.js';
import { hashApiKey } from '../../platform/crypto/secrets.js';
import type { Principal } from '../context.js';

/**
 * A guest's manage token: 256 random bits with a prefix that tells it from an
 * API key (`bk_`), stored as SHA-256 only. It opens exactly one booking, on
 * the four routes that accept it (GET /v1/bookings/{id}, POST …/confirm,
 * …/cancel, …/reschedule); anywhere else it is an unknown key (401).
 *
 *   bmt_Jx0… -> { role: 'guest', userId: 'guest:bkg_…', bookingId: 'bkg_…', keyId: null }
 */
export const MANAGE_TOKEN_PREFIX = 'bmt_';

export const newManageToken = (): string => `${MANAGE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export const isManageToken = (secret: string): boolean => secret.startsWith(MANAGE_TOKEN_PREFIX);

/** How many mail tokens a booking keeps (each mail to the guest mints one). */
const MAIL_TOKENS_KEPT = 10;

export async function storeManageToken(q: Queryable, bookingId: string, kind: 'manage' | 'mail'): Promise<string> {
  const token = newManageToken();
  await insertBookingToken(q, { tokenHash: hashApiKey(token), bookingId, kind });
  if (kind === 'mail') await pruneMailTokens(q, bookingId, MAIL_TOKENS_KEPT);
  return token;
}

export async function guestPrincipal(q: Queryable, token: string): Promise<Principal> {
  const bookingId = await bookingOfToken(q, hashApiKey(token));
  if (bookingId === null) throw new AppError('unauthenticated', 'The manage token is unknown.');
  return { userId: `guest:${bookingId}`, role: 'guest', keyId: null, bookingId };
}
