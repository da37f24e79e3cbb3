import type { Queryable } from './database.js';

/**
 * Takes an attempt for `emailHash` unless `max` are already younger than
 * `windowSeconds`; then answers the seconds until the oldest of them leaves
 * the window. Run under the email's lock (see features/identity/login-throttle.ts).
 */
export async function takeLoginAttempt(
  q: Queryable,
  a: { id: string; emailHash: string; max: number; windowSeconds: number },
): Promise<{ taken: true } | { taken: false; retryAfterSeconds: number }> {
  const { rows } = await q.query<{ n: number; wait: number | null }>(
    `SELECT count(*)::int AS n,
            ceil(extract(epoch FROM min(created_at) + make_interval(secs => $2) - now()))::int AS wait
       FROM login_attempts WHERE email_hash = $1 AND created_at > now() - make_interval(secs => $2)`,
    [a.emailHash, a.windowSeconds],
  );
  const n = rows[0]?.n ?? 0;
  if (n >= a.max) return { taken: false, retryAfterSeconds: Math.max(1, rows[0]?.wait ?? 1) };
  await q.query('INSERT INTO login_attempts (id, email_hash) VALUES ($1, $2)', [a.id, a.emailHash]);
  return { taken: true };
}

export async function deleteLoginAttempt(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM login_attempts WHERE id = $1', [id]);
}

export async function deleteLoginAttemptsOlderThan(q: Queryable, seconds: number): Promise<number> {
  const { rowCount } = await q.query('DELETE FROM login_attempts WHERE created_at < now() - make_interval(secs => $1)', [seconds]);
  return rowCount;
}
