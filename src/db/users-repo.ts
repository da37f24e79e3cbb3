import type { Queryable, Transaction } from './database.js';
import { raiseAvailabilityVersion } from './events-repo.js';

/** What bumpAvailabilityVersion touches (Transaction.touches): keys are provider ids. */
export const AVAILABILITY_TOPIC = 'availability';

/** Staff manage some providers (staff_providers) and are no provider themselves. */
export type Role = 'admin' | 'provider' | 'client' | 'staff';
/** A provider is a person (with a login) or a resource (a room, a machine: no email, no key, managed by admins). */
export type ProviderKind = 'person' | 'resource';

export interface UserRecord {
  id: string;
  name: string;
  /** null for resources. */
  email: string | null;
  role: Role;
  kind: ProviderKind;
  timeZone: string;
  passwordHash: string | null;
  createdAt: Date;
  /** Set when the user was deleted (a provider deactivated, a client erased): see user-lifecycle.ts. */
  deactivatedAt: Date | null;
  /** The profile image: its object key and sniffed type (src/features/identity/avatars.ts); null without one. */
  avatar: { key: string; contentType: string } | null;
}

export const USER_COLUMNS = 'id, name, email, role, kind, time_zone, password_hash, created_at, deactivated_at, avatar_key, avatar_content_type';
const COLUMNS = USER_COLUMNS;

export interface UserRow {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  kind: ProviderKind;
  time_zone: string;
  password_hash: string | null;
  created_at: Date;
  deactivated_at: Date | null;
  avatar_key: string | null;
  avatar_content_type: string | null;
}

export function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    kind: row.kind,
    timeZone: row.time_zone,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    deactivatedAt: row.deactivated_at,
    avatar: row.avatar_key !== null && row.avatar_content_type !== null ? { key: row.avatar_key, contentType: row.avatar_content_type } : null,
  };
}

export async function insertUser(
  q: Queryable,
  user: Omit<UserRecord, 'createdAt' | 'deactivatedAt' | 'kind' | 'avatar'> & { kind?: ProviderKind },
): Promise<UserRecord> {
  const { rows } = await q.query<UserRow>(
    `INSERT INTO users (id, name, email, role, kind, time_zone, password_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [user.id, user.name, user.email, user.role, user.kind ?? 'person', user.timeZone, user.passwordHash],
  );
  return toRecord(rows[0]!);
}

export async function findUserById(q: Queryable, id: string): Promise<UserRecord | null> {
  const { rows } = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function findUserByEmail(q: Queryable, email: string): Promise<UserRecord | null> {
  const { rows } = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function setPasswordHash(q: Queryable, id: string, passwordHash: string): Promise<void> {
  await q.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
}

export async function findFirstAdmin(q: Queryable): Promise<UserRecord | null> {
  const { rows } = await q.query<UserRow>(
    `SELECT ${COLUMNS} FROM users WHERE role = 'admin' ORDER BY created_at, id LIMIT 1`,
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * Every change that can move a provider's slots calls this inside its own
 * transaction, so the version (used by caches and the live stream) never lags
 * the data. It also row-locks the provider until commit, serialising writers
 * of one provider while leaving other providers untouched. It records the
 * provider's availability.changed event (one per transaction) in the same step.
 * `touches` sets aside this process's memory of the provider's version until
 * the transaction settles (read-your-writes: see provider-versions.ts).
 */
export async function bumpAvailabilityVersion(q: Transaction, providerId: string): Promise<number> {
  q.touches(AVAILABILITY_TOPIC, providerId);
  return (await raiseAvailabilityVersion(q, providerId)) ?? 0;
}

/** The provider directory: active providers by name, optionally of one kind and matching `q` (case-insensitive). */
export async function listProviders(
  q: Queryable,
  f: { kind: ProviderKind | null; text: string | null; after: { name: string; id: string } | null; limit: number },
): Promise<UserRecord[]> {
  const { rows } = await q.query<UserRow>(
    `SELECT ${COLUMNS} FROM users
      WHERE role = 'provider' AND deactivated_at IS NULL
        AND ($1::text IS NULL OR kind = $1)
        AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
        AND ($3::text IS NULL OR (name, id) > ($3::text, $4::text))
      ORDER BY name, id LIMIT $5`,
    [f.kind, f.text, f.after?.name ?? null, f.after?.id ?? null, f.limit],
  );
  return rows.map(toRecord);
}

/** The providers a staff member manages, sorted. */
export async function staffProviderIds(q: Queryable, staffId: string): Promise<string[]> {
  const { rows } = await q.query<{ provider_id: string }>(
    'SELECT provider_id FROM staff_providers WHERE staff_id = $1 ORDER BY provider_id',
    [staffId],
  );
  return rows.map((r) => r.provider_id);
}

/** Sets which providers a staff member manages (the whole list). */
export async function replaceStaffProviders(q: Queryable, staffId: string, providerIds: readonly string[]): Promise<void> {
  await q.query('DELETE FROM staff_providers WHERE staff_id = $1', [staffId]);
  await q.query(
    'INSERT INTO staff_providers (staff_id, provider_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
    [staffId, providerIds],
  );
}
