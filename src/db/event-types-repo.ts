import type { Queryable } from './database.js';

export interface HostRecord {
  providerId: string;
  priority: number;
  weight: number;
}

/** Everything of a type except its identity, hosts and flags: stored as one JSON document. */
export interface EventTypeSpec {
  title: string;
  description?: string;
  location?: string;
  assignment: 'single' | 'roundRobin' | 'collective';
  durations: number[];
  slotInterval: number;
  bufferBefore: number;
  bufferAfter: number;
  /** Absent: the server's MIN_NOTICE_MINUTES at the time of asking. */
  minimumNotice?: number;
  bookingWindow?: { type: 'rolling'; days: number } | { type: 'range'; start: string; end: string };
  limits?: { perDay?: number; perWeek?: number; perMonth?: number };
  requiresConfirmation: boolean;
  seats: number;
  /** A client may hold a booking of this type that overlaps its other bookings (absent on older types: false). */
  clientMayOverlap?: boolean;
  cancellationNotice: number;
  questions: { id: string; label: string; type: string; required?: boolean; options?: string[]; maxLength?: number }[];
}

export interface EventTypeRecord {
  id: string;
  slug: string;
  spec: EventTypeSpec;
  hosts: HostRecord[];
  public: boolean;
  active: boolean;
  createdAt: number;
  updatedAt: number;
  /** Set once deleted: only findEventTypeEvenDeleted returns such a type. */
  deletedAt: number | null;
}

interface Row {
  id: string;
  slug: string;
  spec: EventTypeSpec;
  public: boolean;
  active: boolean;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  hosts: HostRecord[];
}

const SELECT = `
SELECT t.id, t.slug, t.spec, t.public, t.active, t.created_at, t.updated_at, t.deleted_at,
  (SELECT coalesce(json_agg(json_build_object('providerId', h.provider_id, 'priority', h.priority, 'weight', h.weight)
            ORDER BY h.position), '[]'::json)
     FROM event_type_hosts h WHERE h.event_type_id = t.id) AS hosts
  FROM event_types t`;

const toRecord = (r: Row): EventTypeRecord => ({
  id: r.id,
  slug: r.slug,
  spec: r.spec,
  hosts: r.hosts,
  public: r.public,
  active: r.active,
  createdAt: r.created_at.getTime(),
  updatedAt: r.updated_at.getTime(),
  deletedAt: r.deleted_at?.getTime() ?? null,
});

async function replaceHosts(q: Queryable, id: string, hosts: readonly HostRecord[]): Promise<void> {
  await q.query('DELETE FROM event_type_hosts WHERE event_type_id = $1', [id]);
  await q.query(
    `INSERT INTO event_type_hosts (event_type_id, provider_id, position, priority, weight)
     SELECT $1, h.provider_id, h.position, h.priority, h.weight
       FROM json_to_recordset($2::json) AS h(provider_id text, position int, priority int, weight int)`,
    [id, JSON.stringify(hosts.map((h, position) => ({ provider_id: h.providerId, position, priority: h.priority, weight: h.weight })))],
  );
}

/** Inserts the type and its hosts; a taken slug raises 23505 on event_types_slug_unique. */
export async function insertEventType(
  q: Queryable,
  t: { id: string; slug: string; spec: EventTypeSpec; hosts: HostRecord[]; public: boolean; active: boolean },
): Promise<EventTypeRecord> {
  await q.query('INSERT INTO event_types (id, slug, spec, public, active) VALUES ($1, $2, $3, $4, $5)', [
    t.id, t.slug, JSON.stringify(t.spec), t.public, t.active,
  ]);
  await replaceHosts(q, t.id, t.hosts);
  return (await findEventType(q, t.id))!;
}

export async function updateEventType(
  q: Queryable,
  t: { id: string; slug: string; spec: EventTypeSpec; hosts: HostRecord[]; public: boolean; active: boolean },
): Promise<EventTypeRecord> {
  await q.query(
    'UPDATE event_types SET slug = $2, spec = $3, public = $4, active = $5, updated_at = now() WHERE id = $1',
    [t.id, t.slug, JSON.stringify(t.spec), t.public, t.active],
  );
  await replaceHosts(q, t.id, t.hosts);
  return (await findEventType(q, t.id))!;
}

/** A deleted type is gone for reads; its bookings keep pointing at the row. */
export async function findEventType(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<EventTypeRecord | null> {
  const { rows } = await q.query<Row>(
    `${SELECT} WHERE t.id = $1 AND t.deleted_at IS NULL${options.forUpdate ? ' FOR UPDATE OF t' : ''}`,
    [id],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function findEventTypeBySlug(q: Queryable, slug: string): Promise<EventTypeRecord | null> {
  const { rows } = await q.query<Row>(`${SELECT} WHERE t.slug = $1 AND t.deleted_at IS NULL`, [slug]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Any type, deleted or not: what a booking was made of (its buffers, notice, questions). */
export async function findEventTypeEvenDeleted(q: Queryable, id: string): Promise<EventTypeRecord | null> {
  const { rows } = await q.query<Row>(`${SELECT} WHERE t.id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function softDeleteEventType(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE event_types SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
}

export interface EventTypeFilter {
  /** Only types with this host. */
  providerId: string | null;
  /** Types the caller may see: null = all; otherwise public ones plus those hosted by this user. */
  visibleTo: { userId: string | null } | null;
  after: { createdAt: number; id: string } | null;
  limit: number;
}

export async function listEventTypes(q: Queryable, f: EventTypeFilter): Promise<EventTypeRecord[]> {
  const { rows } = await q.query<Row>(
    `${SELECT}
      WHERE t.deleted_at IS NULL
        AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM event_type_hosts h WHERE h.event_type_id = t.id AND h.provider_id = $1))
        AND (NOT $2::boolean OR t.public
             OR EXISTS (SELECT 1 FROM event_type_hosts h WHERE h.event_type_id = t.id AND h.provider_id = $3))
        AND ($4::timestamptz IS NULL OR (t.created_at, t.id) > ($4::timestamptz, $5::text))
      ORDER BY t.created_at, t.id LIMIT $6`,
    [
      f.providerId,
      f.visibleTo !== null,
      f.visibleTo?.userId ?? null,
      f.after === null ? null : new Date(f.after.createdAt),
      f.after?.id ?? null,
      f.limit,
    ],
  );
  return rows.map(toRecord);
}

/** Of these providers, those that host a public (not deleted) event type: what a stream without a key may follow. */
export async function hostsOfPublicTypes(q: Queryable, providerIds: readonly string[]): Promise<Set<string>> {
  if (providerIds.length === 0) return new Set();
  const { rows } = await q.query<{ provider_id: string }>(
    `SELECT DISTINCT h.provider_id FROM event_type_hosts h JOIN event_types t ON t.id = h.event_type_id
      WHERE t.public AND t.deleted_at IS NULL AND h.provider_id = ANY($1::text[])`,
    [[...providerIds]],
  );
  return new Set(rows.map((r) => r.provider_id));
}
