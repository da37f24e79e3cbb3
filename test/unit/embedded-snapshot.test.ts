import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/db/embedded.js';
import { makeSpare, unpackSnapshot, writeSnapshot } from '../../src/db/embedded-snapshot.js';
import { buildSnapshot } from '../../src/db/embedded-snapshot-build.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';

// One snapshot made as scripts/build-db-snapshot.ts makes it, in a temp dir (not .cache).
let root: string;
let snapshotDir: URL;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'snapshot-test-'));
  snapshotDir = pathToFileURL(`${root}/snapshot/`);
  await buildSnapshot(snapshotDir);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spares = (dir: URL) => readdirSync(dir).filter((f) => f.startsWith('unpacked-'));

/** Opens the data directory and checks it is the migrated, empty database, writable. */
async function expectMigratedDatabase(dataDir: string, email: string) {
  expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
  const db = await openEmbeddedDatabase({ dataDir });
  try {
    expect(await migrate(db)).toEqual([]);
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.name)).toEqual((await loadMigrations()).map((m) => m.name));
    expect((await db.query('SELECT count(*)::int AS n FROM users')).rows).toEqual([{ n: 0 }]);
    await db.query(`INSERT INTO users (id, name, email, role, time_zone) VALUES ('u1', 'a', '${email}', 'client', 'UTC')`);
    // initdb's template databases are not in the snapshot (fewer files to create at a first start).
    expect((await db.query('SELECT datname FROM pg_database')).rows).toEqual([{ datname: 'postgres' }]);
  } finally {
    await db.close();
  }
}

describe('the migrated snapshot of the embedded database', () => {
  it('is made with a spare unpacked copy, which the first fresh data directory takes; the next ones unpack the tarball', async () => {
    expect(spares(snapshotDir)).toHaveLength(1);
    const first = join(root, 'fresh-1');
    expect(await unpackSnapshot(first, snapshotDir)).toBe(true);
    expect(spares(snapshotDir)).toEqual([]); // moved, not copied
    const second = join(root, 'fresh-2');
    expect(await unpackSnapshot(second, snapshotDir)).toBe(true);
    expect(readdirSync(root).filter((f) => f.includes('.unpacking-'))).toEqual([]); // no staging dir left
    // Both are whole databases of their own: a row written in one is not in the other.
    await expectMigratedDatabase(first, 'first@example.com');
    await expectMigratedDatabase(second, 'second@example.com');
  }, 60_000);

  it('gives two data directories opened at once one spare between them: both get a whole database', async () => {
    expect(await makeSpare(snapshotDir)).toBe(true);
    expect(await makeSpare(snapshotDir)).toBe(true); // already there: nothing to do
    expect(spares(snapshotDir)).toHaveLength(1);
    const dirs = [join(root, 'race-a'), join(root, 'race-b')];
    expect(await Promise.all(dirs.map((d) => unpackSnapshot(d, snapshotDir)))).toEqual([true, true]);
    expect(spares(snapshotDir)).toEqual([]);
    for (const d of dirs) await expectMigratedDatabase(d, `${d.slice(-1)}@example.com`);
  }, 60_000);

  it('writes no spare into a data directory that is not empty, and leaves the spare for the next one', async () => {
    expect(await makeSpare(snapshotDir)).toBe(true);
    const used = join(root, 'used');
    expect(await unpackSnapshot(used, snapshotDir)).toBe(true); // takes the spare
    expect(await makeSpare(snapshotDir)).toBe(true);
    expect(await unpackSnapshot(used, snapshotDir)).toBe(false); // a data directory already: neither spare nor tarball goes in
    expect(spares(snapshotDir)).toHaveLength(1);
  });

  it('forgets its spare when a new snapshot is written: a spare of an older one is never moved into place', async () => {
    const other = pathToFileURL(`${root}/rewritten/`);
    await buildSnapshot(other);
    const old = spares(other);
    expect(old).toHaveLength(1);
    await writeSnapshot(new Blob([readFileSync(new URL('migrated.tar.gz', other))]), (await loadMigrations()).map((m) => m.name), other);
    expect(spares(other)).toEqual([]);
  }, 60_000);

  it('is not used when a migration it names has changed since: no data directory is made (PGlite runs initdb instead)', async () => {
    const changed = pathToFileURL(`${root}/changed/`);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', snapshotDir), 'utf8'));
    manifest.migrations[1].sha256 = '0'.repeat(64);
    rmSync(join(root, 'changed'), { recursive: true, force: true });
    await writeSnapshot(new Blob([readFileSync(new URL('migrated.tar.gz', snapshotDir))]), [], changed);
    writeFileSync(new URL('manifest.json', changed), JSON.stringify(manifest));
    const dataDir = join(root, 'not-made');
    expect(await unpackSnapshot(dataDir, changed)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('opens with the shared_buffers asked for (EMBEDDED_SHARED_BUFFERS_MB), 8 MB by default', async () => {
    for (const [asked, shown] of [[undefined, '8MB'], [24, '24MB']] as const) {
      const db = await openEmbeddedDatabase({ dataDir: 'memory', ...(asked ? { sharedBuffersMb: asked } : {}) });
      try {
        expect((await db.query('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: shown }]);
      } finally {
        await db.close();
      }
    }
  }, 60_000);

  it('is used when migrations newer than it exist: they are left for migrate() to run', async () => {
    const older = pathToFileURL(`${root}/older/`);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', snapshotDir), 'utf8'));
    manifest.migrations.pop();
    await writeSnapshot(new Blob([readFileSync(new URL('migrated.tar.gz', snapshotDir))]), [], older);
    writeFileSync(new URL('manifest.json', older), JSON.stringify(manifest));
    expect(await unpackSnapshot(join(root, 'older-data'), older)).toBe(true);
  });
});
