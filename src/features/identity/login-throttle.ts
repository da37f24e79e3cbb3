import { createHash } from 'node:crypto';
import { deleteLoginAttempt, takeLoginAttempt } from '../../db/login-attempts-repo.js';
import { AppError } from '../../domain/errors.js';
import type { AppContext } from '../context.js';
import { newId } from '../../platform/crypto/secrets.js';

/**
 * Password checks of one email, at most LOGIN_MAX_FAILURES failures per
 * LOGIN_FAILURE_WINDOW_SECONDS, whichever addresses they come from. The slot
 * is taken before the (slow, scrypt) check, so concurrent guesses cannot all
 * pass the count first: at most the limit is ever paid. A right password
 * gives its slot back. The answer is the same for an email nobody has.
 *
 *   await withLoginAttempt(ctx, email, async () => verifyPassword(password, hash)); // true: slot returned
 */
export async function withLoginAttempt(ctx: AppContext, email: string, check: () => Promise<boolean>): Promise<boolean> {
  const emailHash = createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
  const id = newId('lga');
  const taken = await ctx.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(724104, hashtext($1))', [emailHash]);
    return takeLoginAttempt(tx, { id, emailHash, max: ctx.config.loginMaxFailures, windowSeconds: ctx.config.loginFailureWindowSeconds });
  });
  if (!taken.taken) {
    ctx.metrics.rateLimited.labels('logins').inc();
    throw new AppError(
      'rate_limited',
      `Too many failed sign-ins for this email: at most ${ctx.config.loginMaxFailures} in ` +
        `${ctx.config.loginFailureWindowSeconds} seconds. Retry in ${taken.retryAfterSeconds} s.`,
      undefined,
      taken.retryAfterSeconds,
    );
  }
  let ok = false;
  try {
    ok = await check();
  } finally {
    if (ok) await deleteLoginAttempt(ctx.db, id);
  }
  return ok;
}
