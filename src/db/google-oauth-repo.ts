import type { Queryable } from './database.js';

/** The OAuth states of Google connections waiting for consent (005_google_oauth.sql). */
export async function insertOAuthState(
  q: Queryable,
  s: { stateHash: string; connectionId: string; expiresAt: number },
  now: number,
): Promise<void> {
  // States past their time are dropped as new ones are made: nothing else reads them.
  await q.query('DELETE FROM google_oauth_states WHERE expires_at <= $1', [new Date(now)]);
  await q.query('INSERT INTO google_oauth_states (state_hash, connection_id, expires_at) VALUES ($1, $2, $3)', [
    s.stateHash, s.connectionId, new Date(s.expiresAt),
  ]);
}

/**
 * Takes a live state: deletes it and returns its connection, or null when it
 * is unknown, already used or expired (an expired one is left alone: a bad
 * callback changes nothing). Two callbacks racing with one state: one wins.
 */
export async function consumeOAuthState(q: Queryable, stateHash: string, now: number): Promise<string | null> {
  const { rows } = await q.query<{ connection_id: string }>(
    'DELETE FROM google_oauth_states WHERE state_hash = $1 AND expires_at > $2 RETURNING connection_id',
    [stateHash, new Date(now)],
  );
  return rows[0]?.connection_id ?? null;
}

/** Stores a connection's new sealed settings (the tokens Google gave at consent). */
export async function replaceConnectionConfig(q: Queryable, connectionId: string, configCiphertext: string): Promise<void> {
  await q.query('UPDATE calendar_connections SET config_ciphertext = $2 WHERE id = $1', [connectionId, configCiphertext]);
}
