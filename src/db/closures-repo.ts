import type { Queryable } from './database.js';

export interface ClosureRecord {
  id: string;
  name: string;
  date: string;
  recurrence: 'none' | 'yearly';
  /** null: every provider. */
  providerIds: string[] | null;
  createdAt: number;
}

interface Row {
  id: string;
  name: string;
  date: string;
  recurrence: 'none' | 'yearly';
  provider_ids: string[] | null;
  created_at: Date;
}

const COLUMNS = `id, name, to_char(local_date, 'YYYY-MM-DD') AS date, recurrence, provider_ids, created_at`;
const toRecord = (r: Row): ClosureRecord => ({
  id: r.id, name: r.name, date: r.date, recurrence: r.recurrence, providerIds: r.provider_ids, createdAt: r.created_at.getTime(),
});

export async function insertClosure(q: Queryable, c: Omit<ClosureRecord, 'createdAt'> & { createdBy: string }): Promise<ClosureRecord> {
  const { rows } = await q.query<Row>(
    `INSERT INTO closures (id, name, local_date, recurrence, provider_ids, created_by) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${COLUMNS}`,
    [c.id, c.name, c.date, c.recurrence, c.providerIds, c.createdBy],
  );
  return toRecord(rows[0]!);
}

export async function findClosure(q: Queryable, id: string): Promise<ClosureRecord | null> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM closures WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function deleteClosure(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM closures WHERE id = $1', [id]);
}

/** Closures that apply to `providerId` (null: all), by date. */
export async function listClosures(
  q: Queryable,
  f: { providerIds: readonly string[] | null; after: { createdAt: number; id: string } | null; limit: number },
): Promise<ClosureRecord[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM closures
      WHERE ($1::text[] IS NULL OR provider_ids IS NULL OR provider_ids && $1::text[])
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
      ORDER BY created_at, id LIMIT $4`,
    [f.providerIds, f.after === null ? null : new Date(f.after.createdAt), f.after?.id ?? null, f.limit],
  );
  return rows.map(toRecord);
}

/** Providers whose slots a closure touches: its list, or every provider. */
export async function providersOfClosure(q: Queryable, providerIds: string[] | null): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM users WHERE role = 'provider' AND ($1::text[] IS NULL OR id = ANY ($1)) ORDER BY id`,
    [providerIds],
  );
  return rows.map((r) => r.id);
}
