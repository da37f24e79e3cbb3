import { randomBytes } from 'node:crypto';
import type { Queryable } from './database.js';

/**
 * Sets the user's avatar and answers the key it replaces (null: none, or the
 * same key again), so the caller can remove the old object. Locks the row, so
 * two completions of one user do not both think they replaced nothing.
 */
export async function setAvatar(
  q: Queryable,
  userId: string,
  avatar: { key: string; contentType: string },
): Promise<{ replacedKey: string | null } | null> {
  const { rows } = await q.query<{ old_key: string | null }>(
    `UPDATE users u SET avatar_key = $2, avatar_content_type = $3
       FROM (SELECT id, avatar_key AS old_key FROM users WHERE id = $1 FOR UPDATE) old
      WHERE u.id = old.id
      RETURNING old.old_key`,
    [userId, avatar.key, avatar.contentType],
  );
  if (rows.length === 0) return null;
  const old = rows[0]!.old_key;
  return { replacedKey: old !== null && old !== avatar.key ? old : null };
}

/** Removes the user's avatar; answers the key it had (null: none). */
export async function clearAvatar(q: Queryable, userId: string): Promise<string | null> {
  const { rows } = await q.query<{ old_key: string | null }>(
    `UPDATE users u SET avatar_key = NULL, avatar_content_type = NULL
       FROM (SELECT id, avatar_key AS old_key FROM users WHERE id = $1 FOR UPDATE) old
      WHERE u.id = old.id
      RETURNING old.old_key`,
    [userId],
  );
  return rows[0]?.old_key ?? null;
}

/** The content type of a current avatar by its key; null when the key is nobody's avatar (any more). */
export async function findAvatarByKey(q: Queryable, key: string): Promise<{ contentType: string } | null> {
  const { rows } = await q.query<{ avatar_content_type: string }>(
    'SELECT avatar_content_type FROM users WHERE avatar_key = $1',
    [key],
  );
  return rows[0] ? { contentType: rows[0].avatar_content_type } : null;
}

/**
 * A secret shared by every process of one database, made by whichever asks
 * first: 256 random bits, base64url. Later calls read the same value.
 */
export async function serverSecret(q: Queryable, name: string): Promise<string> {
  await q.query('INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    name,
    randomBytes(32).toString('base64url'),
  ]);
  const { rows } = await q.query<{ secret: string }>('SELECT secret FROM server_secrets WHERE name = $1', [name]);
  return rows[0]!.secret;
}
