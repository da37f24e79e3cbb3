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
    const tarball = await writeSnapshot(await db.dumpDataDir(), migrations, dir);
    await makeSpare(dir);
    return { tarball, migrations };
  } finally {
    await db.close();
  }
}
