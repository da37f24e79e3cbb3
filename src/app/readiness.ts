import type { Queryable } from '../db/database.js';

export type CheckStatus = 'ok' | 'unavailable';

export interface Readiness {
  ready: boolean;
  checks: { database: CheckStatus };
}

/** How long `SELECT 1` may take before the database counts as unavailable. */
export const READY_TIMEOUT_MS = 2000;

/**
 * Whether the database answers `SELECT 1` within the timeout. A query that
 * hangs (a PostgreSQL that accepts connections but does not answer, a pool with
 * every connection stuck) is as unavailable as one that fails.
 */
export async function checkDatabase(db: Queryable, timeoutMs = READY_TIMEOUT_MS): Promise<CheckStatus> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckStatus>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), timeoutMs);
  });
  const answered = db.query('SELECT 1').then(
    (): CheckStatus => 'ok',
    (): CheckStatus => 'unavailable',
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ready means every dependency answers (today the database; Redis joins when it is configured). */
export async function checkReadiness(deps: { db: Queryable }, timeoutMs = READY_TIMEOUT_MS): Promise<Readiness> {
  const database = await checkDatabase(deps.db, timeoutMs);
  return { ready: database === 'ok', checks: { database } };
}
