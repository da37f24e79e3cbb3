import type { Queryable } from './database.js';

/** Sign-in flows in progress and the identities they link (013_oidc.sql). */

export interface OidcFlow {
  provider: string;
  codeVerifier: string;
  nonce: string;
}

export async function insertOidcState(
  q: Queryable,
  s: OidcFlow & { stateHash: string; expiresAt: number },
  now: number,
): Promise<void> {
  // Flows past their time are dropped as new ones start: nothing else reads them.
  await q.query('DELETE FROM oidc_states WHERE expires_at <= $1', [new Date(now)]);
  await q.query(
    'INSERT INTO oidc_states (state_hash, provider, code_verifier, nonce, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [s.stateHash, s.provider, s.codeVerifier, s.nonce, new Date(s.expiresAt)],
  );
}

/**
 * Takes a live state of this provider: deletes it and returns its flow, or
 * null when it is unknown, already used, expired or another provider's. Two
 * callbacks racing with one state: one wins.
 */
export async function consumeOidcState(q: Queryable, stateHash: string, provider: string, now: number): Promise<OidcFlow | null> {
  const { rows } = await q.query<{ provider: string; code_verifier: string; nonce: string }>(
    `DELETE FROM oidc_states WHERE state_hash = $1 AND provider = $2 AND expires_at > $3
     RETURNING provider, code_verifier, nonce`,
    [stateHash, provider, new Date(now)],
  );
  const row = rows[0];
  return row ? { provider: row.provider, codeVerifier: row.code_verifier, nonce: row.nonce } : null;
}

/** The user an issuer's subject is linked to, or null. */
export async function findIdentityUser(q: Queryable, issuer: string, subject: string): Promise<string | null> {
  const { rows } = await q.query<{ user_id: string }>(
    'SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2',
    [issuer, subject],
  );
  return rows[0]?.user_id ?? null;
}

export async function linkIdentity(q: Queryable, link: { issuer: string; subject: string; userId: string; email: string }): Promise<void> {
  await q.query(
    'INSERT INTO user_identities (issuer, subject, user_id, email) VALUES ($1, $2, $3, $4)',
    [link.issuer, link.subject, link.userId, link.email],
  );
}

export async function recordIdentitySignIn(q: Queryable, issuer: string, subject: string, email: string | null): Promise<void> {
  await q.query(
    'UPDATE user_identities SET last_sign_in_at = now(), email = coalesce($3, email) WHERE issuer = $1 AND subject = $2',
    [issuer, subject, email],
  );
}

/** An erased user's links go with its other personal data. */
export async function deleteIdentitiesOf(q: Queryable, userId: string): Promise<void> {
  await q.query('DELETE FROM user_identities WHERE user_id = $1', [userId]);
}
