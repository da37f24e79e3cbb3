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

/**
 * A transaction can say what it changes (`touches(topic, key)`), so that what
 * this process keeps in memory about that key is set aside from then until the
 * transaction settles (see TransactionWatcher): a reader in this process never
 * trusts its memory while a change to the key is in flight, and finds it
 * forgotten once the change has committed.
 */
export interface Transaction extends Queryable {
  touches(topic: string, key: string): void;
}

/** Hears of every transaction's touched keys: when first touched, and when it committed or rolled back. */
export interface TransactionWatcher {
  touching(topic: string, key: string): void;
  /** Runs before transaction() returns or throws; `committed` false also when COMMIT itself failed. */
  settled(topic: string, key: string, committed: boolean): void;
}

export interface Database extends Queryable {
  readonly kind: 'embedded' | 'postgres';
  /** Runs fn in one transaction; rolls back when it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Adds a watcher of touched keys (see Transaction); returns its removal. */
  watchTransactions(watcher: TransactionWatcher): () => void;
  /**
   * PostgreSQL only: LISTEN on a channel with a connection of its own (re-opened when lost);
   * returns the stop. Other processes' NOTIFYs arrive within milliseconds.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** PostgreSQL only: NOTIFY a channel, not awaited; calls made while one is in flight are folded into one more. */
  notify?(channel: string): void;
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
