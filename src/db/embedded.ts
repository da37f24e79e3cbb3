import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import type { Database, QueryResult, Queryable } from './database.js';
import { PreparedStatements } from './embedded-statements.js';
import { readSnapshot, unpackSnapshot } from './embedded-snapshot.js';
import { watchedTransactions } from './transaction-watchers.js';

export const DEFAULT_SHARED_BUFFERS_MB = 8;
/** initdb's --wal-segsize for new clusters (a data directory keeps the size it was made with). */
export const WAL_SEGMENT_MB = 1;

/**
 * PostgreSQL compiled to WASM, in-process: `npm start` needs nothing installed.
 * PGlite runs one query at a time and its transaction() holds the instance
 * exclusively, so transactions here are serial; correctness still rests on the
 * same constraints as on a server.
 */
export interface EmbeddedDatabase extends Database {
  /** A tarball of the data directory; tests load a migrated one instead of migrating per file. */
  dumpDataDir(): Promise<Blob>;
}

/**
 * `loadDataDir`: start from this tarball instead of an empty cluster. Without it, a data
 * directory that does not exist yet (or 'memory') starts from the migrated snapshot made at
 * install time when there is one that fits (embedded-snapshot.ts); `snapshot: false` runs initdb.
 */
export async function openEmbeddedDatabase(options: { dataDir: string; loadDataDir?: Blob; snapshot?: boolean; sharedBuffersMb?: number }): Promise<EmbeddedDatabase> {
  const dataDir = options.dataDir === 'memory' ? undefined : options.dataDir;
  const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
  const useSnapshot = fresh && !options.loadDataDir && options.snapshot !== false;
  // V8 compiles PostgreSQL's 9 MB of WebAssembly with its baseline compiler and then, in the
  // background, again with its optimising one: the second copy and its compile memory cost
  // ~100 MB of peak RSS (bench table 8: VmHWM 440 -> 338 MB through first start and load) and
  // CPU during start-up. Baseline code only runs queries slower (1.3-2x on query-heavy loops
  // measured under load), which the slot cache hides on the hot read path. Process-wide and
  // read when a module is compiled: set before PostgreSQL's module is compiled.
  setFlagsFromString('--liftoff-only');
  // Compiled on V8's threads while the snapshot unpacks on this one (creating its ~1,100 files is
  // kernel time on the main thread), rather than by PGlite.create after it.
  const postgresModule = compilePostgres();
  postgresModule.catch(() => {}); // awaited below; a failed unpack must not leave it unhandled
  // On disk the snapshot is unpacked before PGlite starts, which then opens it as any data directory.
  if (useSnapshot && dataDir) await unpackSnapshot(dataDir);
  const loadDataDir = options.loadDataDir ?? (useSnapshot && !dataDir ? await readSnapshot() : null);
  const pg = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
    // A new cluster (initdb: the snapshot's, or one made without it) writes its WAL in 1 MB segments,
    // not 16: the snapshot's WAL was one 16 MB segment, mostly zeros, that every first start unpacked
    // and DATA_DIR=memory kept in memory (its array buffers 37.5 -> 27.7 MB; VmHWM 233-238 -> 186-202 MB).
    initDbStartParams: [`--wal-segsize=${WAL_SEGMENT_MB}`],
    extensions: { btree_gist },
    pgliteWasmModule: await postgresModule,
    // PostgreSQL's default 128 MB of shared buffers is sized for a server with many backends; the
    // embedded database has one, and reads its files through the OS's page cache anyway. 16 MB
    // saved ~130 MB of resident memory; 8 MB a further ~9 MB of VmHWM through 2,000 slot reads
    // under load and 2,000 holds (191-192 vs 200 MB, two rounds each, alternated), with holds no
    // slower (288-293 vs 221-228 created/s in the same runs). EMBEDDED_SHARED_BUFFERS_MB for more.
    postgresqlconf: [`shared_buffers = ${options.sharedBuffersMb ?? DEFAULT_SHARED_BUFFERS_MB}MB`],
  });
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const result = await q.query<T>(sql, params as unknown[]);
      // The command tag's count ("SELECT 2", "UPDATE 3"), as the `pg` driver reports it.
      return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  // Outside transactions (most reads, the hot ones among them), statements are prepared once.
  const statements = new PreparedStatements(pg);
  const root: Queryable = { ...wrap(pg), query: (sql, params = []) => statements.query(sql, params) };
  // One connection that runs one thing at a time: anything beyond the first in flight is waiting.
  let inFlight = 0;
  const tracked = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    inFlight++;
    try {
      return await fn(...args);
    } finally {
      inFlight--;
    }
  };
  const watched = watchedTransactions((fn) => pg.transaction((tx) => {
    const own = wrap(tx);
    // Prepared inside transactions too (embedded-statements.ts): a hold runs five statements in one.
    const query = <R>(sql: string, params: readonly unknown[] = []) => statements.queryInTransaction<R>(sql, params, (s, p) => own.query<R>(s, p));
    return fn({ ...own, query } as Queryable);
  }));
  return {
    kind: 'embedded',
    query: tracked(root.query) as Queryable['query'],
    exec: tracked(root.exec),
    transaction: tracked(watched.transaction) as Database['transaction'],
    watchTransactions: watched.watchTransactions,
    close: () => pg.close(),
    poolStats: () => ({ total: 1, idle: inFlight === 0 ? 1 : 0, waiting: Math.max(0, inFlight - 1) }),
    dumpDataDir: async () => (await pg.dumpDataDir('gzip')) as Blob,
  };
}

/** PGlite's own pglite.wasm, compiled as PGlite would compile it, once per process as PGlite keeps it. */
let postgresWasm: Promise<WebAssembly.Module> | undefined;
function compilePostgres(): Promise<WebAssembly.Module> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite'); // …/dist/index.cjs
  postgresWasm ??= readFile(join(dirname(entry), 'pglite.wasm')).then((bytes) => WebAssembly.compile(bytes));
  postgresWasm.catch(() => (postgresWasm = undefined)); // a failed read or compile is tried again by the next open
  return postgresWasm;
}
