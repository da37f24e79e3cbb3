import type { Queryable } from '../db/database.js';

export type CheckStatus = 'ok' | 'unavailable';

export interface Readiness {
  ready: boolean;
  /** `redis` only when REDIS_URL is configured. */
  checks: { database: CheckStatus; redis?: CheckStatus };
}

/** What /ready asks of Redis: PING answered within the timeout (see RedisConnection). */
export interface Pingable {
  ping(timeoutMs: number): Promise<boolean>;
}

/** How long `SELECT 1` may take before the database counts as unavailable. */
export const READY_TIMEOUT_MS = 2000;

/**
 * Whether the database answers `SELECT 1` within the timeout. A query that
 * hangs (a PostgreSQL that accepts connections but does not answer, a pool with
 * every connection stuck) is as unavailable as one that fails.
 */
export async function checkDatabase(db: Queryable, timeoutMs = READY_TIMEOUT_MS): Promise<CheckStatus> {
  return answersInTime(db.query('SELECT 1').then(() => true), timeoutMs);
}

/** 'ok' when the probe resolves true within the timeout; a rejection, false or silence is 'unavailable'. */
async function answersInTime(probe: Promise<boolean>, timeoutMs: number): Promise<CheckStatus> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckStatus>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), timeoutMs);
  });
  const answered = probe.then(
    (ok): CheckStatus => (ok ? 'ok' : 'unavailable'),
    (): CheckStatus => 'unavailable',
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ready means every dependency answers: the database, and Redis when it is configured (both asked at once). */
export async function checkReadiness(
  deps: { db: Queryable; redis?: Pingable | null },
  timeoutMs = READY_TIMEOUT_MS,
): Promise<Readiness> {
  const redisCheck = deps.redis ? answersInTime(deps.redis.ping(timeoutMs), timeoutMs) : null;
  const [database, redis] = await Promise.all([checkDatabase(deps.db, timeoutMs), redisCheck]);
  if (redis === null) return { ready: database === 'ok', checks: { database } };
  return { ready: database === 'ok' && redis === 'ok', checks: { database, redis } };
}

/** The 503's detail: which dependencies did not answer. */
export function notReadyDetail(checks: Readiness['checks']): string {
  const down = [checks.database !== 'ok' ? 'The database' : null, checks.redis === 'unavailable' ? 'Redis' : null].filter((n) => n !== null);
  return `${down.join(' and ')} did not answer; not ready for traffic.`;
}
