import { gunzipSync, gzipSync } from 'node:zlib';
import { openEmbeddedDatabase } from './embedded.js';
import { makeSpare, SNAPSHOT_DIR, writeSnapshot } from './embedded-snapshot.js';
import { migrate } from './migrate.js';

/**
 * Makes the migrated, empty embedded database that first starts use (embedded-snapshot.ts):
 * the tarball, its manifest and the spare unpacked copy. `npm ci` runs it (prepare, through
 * scripts/build-db-snapshot.ts); tests run it into a temp dir.
 */
export async function buildSnapshot(dir: URL = SNAPSHOT_DIR): Promise<{ tarball: string; migrations: string[] }> {
  const db = await openEmbeddedDatabase({ dataDir: 'memory', snapshot: false });
  try {
    const migrations = await migrate(db);
    // The engine uses one database, `postgres` (PGlite's default). initdb's template1 and template0
    // are ~300 files each, 600 of 1,164: a first start that unpacks creates every file, at ~1 ms
    // a file on the benchmark machine, so they are dropped. Nothing in the engine runs
    // CREATE DATABASE, the one thing they serve.
    for (const template of ['template0', 'template1']) {
      await db.exec(`ALTER DATABASE ${template} WITH ALLOW_CONNECTIONS false IS_TEMPLATE false`);
      await db.exec(`DROP DATABASE ${template}`);
    }
    // Everything in the data files, so that the tarball holds no WAL still to replay.
    await db.exec('CHECKPOINT');
    const { rows } = await db.query<{ segment: string }>('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS segment');
    const dumped = Buffer.from(await (await db.dumpDataDir()).arrayBuffer());
    const tar = withoutWalSegmentsAfter(gunzipSync(dumped), rows[0]!.segment);
    const tarball = await writeSnapshot(new Blob([gzipSync(tar)]), migrations, dir);
    await makeSpare(dir);
    return { tarball, migrations };
  } finally {
    await db.close();
  }
}

const BLOCK = 512;
const text = (header: Buffer, at: number, length: number) => header.subarray(at, at + length).toString('utf8').replace(/\0.*$/s, '');
const WAL_SEGMENT = /^\/?pg_wal\/([0-9A-F]{24})$/;

/**
 * The tar (ustar, as dumpDataDir writes it) without the WAL segments after `current`, the one the
 * next record goes into: a checkpoint leaves old segments renamed ahead for reuse (six 1 MB files
 * after the migrations), unwritten, and PostgreSQL makes a segment when it needs one.
 */
export function withoutWalSegmentsAfter(tar: Buffer, current: string): Buffer {
  const kept: Buffer[] = [];
  let at = 0;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    const name = text(header, 0, 100);
    if (!name) break; // the zero blocks at the end
    const prefix = text(header, 345, 155);
    const size = Number.parseInt(text(header, 124, 12).trim() || '0', 8);
    const end = at + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    const segment = WAL_SEGMENT.exec(`${prefix ? `${prefix}/` : ''}${name}`)?.[1];
    if (segment === undefined || segment <= current) kept.push(tar.subarray(at, end));
    at = end;
  }
  kept.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(kept);
}
