/**
 * The PostgreSQL adapter when its connection is killed under it, made
 * deterministic with pg_terminate_backend (what `pg_ctl stop -m fast` does to
 * every connection at once). Found by the cluster scenarios: a connection lost
 * between two queries of a transaction emitted an unhandled 'error' that killed
 * the whole process, and pg's codeless "Connection terminated" errors became
 * 500s instead of 503s. Runs on the fault suite's PostgreSQL (scripts/test-fault.sh).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { openPostgresDatabase, withConnectionCode } from '../../src/db/postgres.js';
import { toProblem } from '../../src/http/problem.js';
import { faultEnv } from './services.js';

const fault = faultEnv();

describe.skipIf(!fault)('the PostgreSQL adapter when its connection is terminated', () => {
  let db: Database;
  let admin: pg.Client;

  beforeAll(async () => {
    db = await openPostgresDatabase({ url: fault!.databaseUrl, poolSize: 2 });
    admin = new pg.Client({ connectionString: fault!.databaseUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end().catch(() => {});
    await db?.close().catch(() => {});
  });

  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);

  it('a transaction whose connection dies between two queries fails with a 503 error, and the process lives on', async () => {
    const failed = await db
      .transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await terminate(rows[0]!.pid);
        // Between two queries: the server's FATAL arrives while no query is active.
        await new Promise((r) => setTimeout(r, 200));
        await tx.query('SELECT 1');
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failed).not.toBeNull();
    expect(['57P01', '08006']).toContain((failed as { code?: string }).code);
    expect(toProblem(failed).status).toBe(503);
    // The broken connection was not returned to the pool: the next transaction works.
    expect(await db.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one)).toBe(1);
  });

  it('a query whose connection is terminated mid-query is a 503', async () => {
    const pidOf = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const running = db.query('SELECT pg_sleep(5)').then(
      () => null,
      (error: unknown) => error,
    );
    await new Promise((r) => setTimeout(r, 200));
    // Terminate every connection of the pool except the one that just answered, so the sleeping one goes.
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND pid <> pg_backend_pid()`,
    );
    const error = await running;
    expect(error).not.toBeNull();
    expect(toProblem(error).status).toBe(503);
    expect(pidOf.rows[0]!.pid).toBeGreaterThan(0);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });
});

// No database needed: pg's own codeless errors for a lost connection (see src/db/postgres.ts).
describe('pg errors for a lost connection', () => {
  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'timeout exceeded when trying to connect',
    'Connection terminated due to connection timeout',
  ])('"%s" becomes 08006, a 503', (message) => {
    const error = withConnectionCode(new Error(message));
    expect((error as { code?: string }).code).toBe('08006');
    expect(toProblem(error).status).toBe(503);
  });

  it('leaves other errors alone: the server\'s own (with their SQLSTATE) and unrelated ones', () => {
    const server = new pg.DatabaseError('duplicate key value', 0, 'error');
    server.code = '23505';
    expect((withConnectionCode(server) as { code?: string }).code).toBe('23505');
    expect((withConnectionCode(new Error('something else')) as { code?: string }).code).toBeUndefined();
    expect(toProblem(withConnectionCode(new Error('something else'))).status).toBe(500);
  });
});
