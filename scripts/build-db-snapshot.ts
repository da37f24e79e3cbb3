/**
 * Makes the migrated, empty embedded database that a first start uses
 * instead of running initdb (src/db/embedded-snapshot.ts explains the checks):
 * .cache/embedded-db/migrated.tar.gz, its manifest and a spare unpacked copy.
 * Runs in `npm ci` (prepare); run it again after adding a migration to keep
 * first starts fast (without it they are only slower: the newer migrations
 * run at start), or to make a new spare once a first start has used it up.
 */
import { buildSnapshot } from '../src/db/embedded-snapshot-build.js';

const started = Date.now();
const { tarball, migrations } = await buildSnapshot();
console.log(`embedded database snapshot: ${migrations.length} migrations in ${tarball}, and an unpacked copy beside it (${((Date.now() - started) / 1000).toFixed(1)} s)`);
