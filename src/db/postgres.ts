import pg from 'pg';
import { StatementNames } from './statement-names.js';
import type { Database, QueryResult, Queryable } from './database.js';
import { listenOn, notifier } from './postgres-notify.js';
import { watchedTransactions } from './transaction-watchers.js';

/**
 * pg reports a lost or unobtainable connection as a plain Error without a
 * SQLSTATE ("Connection terminated unexpectedly", "... is not queryable",
 * "timeout exceeded when trying to connect"), which the HTTP layer could only
 * answer with a 500. Tag those with 08006 (connection_failure), so a database
 * that went away is a 503 like a refused connection. Errors from the server
 * itself (pg.DatabaseError) keep their own code.
 */
const CONNECTION_LOST = /^(Connection terminated|Client (has encountered a connection error|was closed) and is not queryable|timeout exceeded when trying to connect)/;

export function withConnectionCode(error: unknown): unknown {
  if (error instanceof Error && !(error instanceof pg.DatabaseError) && (error as { code?: unknown }).code === undefined && CONNECTION_LOST.test(error.message)) {
    return Object.assign(error, { code: '08006' });
  }
  return error;
}

/** A PostgreSQL server through a `pg` pool; many processes may share it. */
export async function openPostgresDatabase(options: { url: string; poolSize: number; preparedStatements?: boolean }): Promise<Database> {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis: 5000 });
  // An idle client losing its server must not crash the process; the pool drops it.
  pool.on('error', () => {});
  // PG_PREPARED_STATEMENTS=false: for a pooler in transaction mode (PgBouncer), where a connection's prepared statements are not its own.
  const names = options.preparedStatements === false ? null : new StatementNames();
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const name = names?.nameFor(sql);
      const run = name ? client.query({ name, text: sql, values: params as unknown[] }) : client.query(sql, params as unknown[]);
      const result = await run.catch((error: unknown) => {
        throw withConnectionCode(error);
      });
      return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(sql: string) {
      await client.query(sql).catch((error: unknown) => {
        throw withConnectionCode(error);
      });
    },
  });
  await pool.query('SELECT 1');
  const watched = watchedTransactions(async (fn) => {
    const client = await pool.connect().catch((error: unknown) => {
      throw withConnectionCode(error);
    });
    // pg-pool stops listening for a client's errors while it is checked out. A server going away
    // between two queries of a transaction (pg_ctl stop, a failover: FATAL 57P01) then emits an
    // unhandled 'error' that kills the process (seen in test/fault). Keep the error instead, answer
    // with it (its SQLSTATE maps to 503, where the next query's codeless "not queryable" was a 500),
    // and destroy the client rather than return it to the pool.
    let lost: Error | null = null;
    const onError = (error: Error) => {
      lost ??= error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw withConnectionCode(lost ?? error);
    } finally {
      client.removeListener('error', onError);
      client.release(lost ?? undefined);
    }
  });
  return {
    kind: 'postgres',
    ...wrap(pool),
    ...watched,
    listen: (channel, onNotify) => listenOn(options.url, channel, onNotify),
    notify: notifier(pool),
    close: () => pool.end(),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}
