import type { Queryable } from './database.js';
import type { Role } from './users-repo.js';

export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string | null;
  prefix: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string | null;
  prefix: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'id, user_id, name, prefix, expires_at, revoked_at, created_at';

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}

export async function insertApiKey(
  q: Queryable,
  key: { id: string; userId: string; name: string | null; keyHash: string; prefix: string; expiresAt: Date | null },
): Promise<ApiKeyRecord> {
  const { rows } = await q.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, user_id, name, key_hash, prefix, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [key.id, key.userId, key.name, key.keyHash, key.prefix, key.expiresAt],
  );
  return toRecord(rows[0]!);
}

export interface KeyPrincipalRow {
  keyId: string;
  userId: string;
  role: Role;
  /** The key's own expiry (null: none); read with it so that a cache never serves it past that. */
  expiresAt: Date | null;
}

/** The owner of a usable key: not revoked, not expired (by the database clock). */
export async function findActiveKeyOwner(q: Queryable, keyHash: string): Promise<KeyPrincipalRow | null> {
  const { rows } = await q.query<{ key_id: string; user_id: string; role: Role; expires_at: Date | null }>(
    `SELECT k.id AS key_id, u.id AS user_id, u.role, k.expires_at
       FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`,
    [keyHash],
  );
  const row = rows[0];
  return row ? { keyId: row.key_id, userId: row.user_id, role: row.role, expiresAt: row.expires_at } : null;
}

/** Keys of one user that still work, oldest first, paged by (created_at, id); the cursor carries milliseconds. */
export async function listActiveKeys(
  q: Queryable,
  userId: string,
  page: { limit: number; after: { createdAt: Date; id: string } | null },
): Promise<ApiKeyRecord[]> {
  const { rows } = await q.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys
      WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($2::timestamptz, $3::text))
      ORDER BY date_trunc('milliseconds', created_at), id LIMIT $4`,
    [userId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit],
  );
  return rows.map(toRecord);
}

export async function findKeyById(q: Queryable, id: string): Promise<ApiKeyRecord | null> {
  const { rows } = await q.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function revokeKey(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
}

export async function countActiveKeys(q: Queryable, userId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM api_keys
      WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [userId],
  );
  return rows[0]?.n ?? 0;
}

/** The id of the user's oldest working key with this name (the login keys), if any. */
export async function oldestActiveKeyNamed(q: Queryable, userId: string, name: string): Promise<string | null> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM api_keys
      WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
      ORDER BY created_at, id LIMIT 1`,
    [userId, name],
  );
  return rows[0]?.id ?? null;
}
