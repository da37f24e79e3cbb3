/**
 * Makes the migrated, empty embedded database that a first start unpacks
 * instead of running initdb (src/db/embedded-snapshot.ts explains the checks):
 * .cache/embedded-db/migrated.tar.gz and its manifest. Runs in `npm ci`
 * (prepare); run it again after adding a migration to keep first starts fast
 * (without it they are only slower: the newer migrations run at start).
 */
import { openEmbeddedDatabase } from '../src/db/embedded.js';
import { writeSnapshot } from '../src/db/embedded-snapshot.js';
import { migrate } from '../src/db/migrate.js';

const started = Date.now();
const db = await openEmbeddedDatabase({ dataDir: 'memory', snapshot: false });
try {
  const applied = await migrate(db);
  // Everything in the data files, so that the tarball holds no WAL still to replay.
  await db.exec('CHECKPOINT');
  const path = await writeSnapshot(await db.dumpDataDir(), applied);
  console.log(`embedded database snapshot: ${applied.length} migrations in ${path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} finally {
  await db.close();
}
