import type { Queryable } from './database.js';

export interface IdempotencyRecord {
  requestHash: string;
  statusCode: number | null;
  responseBody: string | null;
  responseHeaders: Record<string, string> | null;
  ageSeconds: number;
}

/** Claims (caller, key) for a new request; false when someone already holds it. */
export async function claimIdempotencyKey(q: Queryable, callerId: string, key: string, requestHash: string): Promise<boolean> {
  const { rows } = await q.query(
    `INSERT INTO idempotency_keys (caller_id, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (caller_id, key) DO NOTHING RETURNING key`,
    [callerId, key, requestHash],
  );
  return rows.length === 1;
}

export async function readIdempotencyKey(q: Queryable, callerId: string, key: string): Promise<IdempotencyRecord | null> {
  const { rows } = await q.query<{
    request_hash: string;
    status_code: number | null;
    response_body: string | null;
    response_headers: Record<string, string> | null;
    age: number;
  }>(
    `SELECT request_hash, status_code, response_body, response_headers,
            extract(epoch FROM now() - created_at)::float8 AS age
       FROM idempotency_keys WHERE caller_id = $1 AND key = $2`,
    [callerId, key],
  );
  const row = rows[0];
  return row
    ? {
        requestHash: row.request_hash,
        statusCode: row.status_code,
        responseBody: row.response_body,
        responseHeaders: row.response_headers,
        ageSeconds: Number(row.age),
      }
    : null;
}

/**
 * Takes over a key whose record is past its lifetime, only if it is still the
 * row we looked at (same hash, same age bucket), so two retries cannot both win.
 */
export async function reclaimStaleKey(
  q: Queryable,
  callerId: string,
  key: string,
  olderThanSeconds: number,
  requestHash: string,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE idempotency_keys
        SET request_hash = $3, status_code = NULL, response_body = NULL, response_headers = NULL, created_at = now()
      WHERE caller_id = $1 AND key = $2 AND created_at < now() - make_interval(secs => $4)`,
    [callerId, key, requestHash, olderThanSeconds],
  );
  return rowCount === 1;
}

export async function completeIdempotencyKey(
  q: Queryable,
  callerId: string,
  key: string,
  response: { statusCode: number; body: string; headers: Record<string, string> },
): Promise<void> {
  await q.query(
    `UPDATE idempotency_keys SET status_code = $3, response_body = $4, response_headers = $5::jsonb
      WHERE caller_id = $1 AND key = $2`,
    [callerId, key, response.statusCode, response.body, JSON.stringify(response.headers)],
  );
}

export async function releaseIdempotencyKey(q: Queryable, callerId: string, key: string): Promise<void> {
  await q.query('DELETE FROM idempotency_keys WHERE caller_id = $1 AND key = $2 AND status_code IS NULL', [callerId, key]);
}

export async function deleteIdempotencyKeysOlderThan(q: Queryable, seconds: number): Promise<number> {
  const { rowCount } = await q.query(
    'DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)',
    [seconds],
  );
  return rowCount;
}
