/**
 * The one storage port both back ends implement: the embedded PGlite and a
 * PostgreSQL server through `pg`. Repositories only ever see `Queryable`, so
 * the same SQL runs on both.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements, without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** How the driver's connections are used, for metrics. */
export interface PoolStats {
  /** Open connections (the embedded database is always one). */
  total: number;
  idle: number;
  /** Queries or transactions waiting for a connection. */
  waiting: number;
}

export interface Database extends Queryable {
  readonly kind: 'embedded' | 'postgres';
  /** Runs fn in one transaction; rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Optional: drivers that can tell report their connection use. */
  poolStats?(): PoolStats;
}

/** PostgreSQL's SQLSTATE of a driver error, whichever driver raised it. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export const SQLSTATE = {
  uniqueViolation: '23505',
  exclusionViolation: '23P01',
  foreignKeyViolation: '23503',
} as const;
