import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/db/embedded.js';
import { unpackSnapshot, writeSnapshot } from '../../src/db/embedded-snapshot.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';

// One snapshot made as scripts/build-db-snapshot.ts makes it, in a temp dir (not .cache).
let root: string;
let snapshotDir: URL;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'snapshot-test-'));
  snapshotDir = pathToFileURL(`${root}/snapshot/`);
  const db = await openEmbeddedDatabase({ dataDir: 'memory', snapshot: false });
  const applied = await migrate(db);
  await db.exec('CHECKPOINT');
  await writeSnapshot(await db.dumpDataDir(), applied, snapshotDir);
  await db.close();
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the migrated snapshot of the embedded database', () => {
  it('unpacks into a fresh data directory that PGlite opens with every migration applied and nothing left to run', async () => {
    const dataDir = join(root, 'fresh');
    expect(await unpackSnapshot(dataDir, snapshotDir)).toBe(true);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    const db = await openEmbeddedDatabase({ dataDir });
    try {
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.name)).toEqual((await loadMigrations()).map((m) => m.name));
      await db.query("INSERT INTO users (id, name, email, role, time_zone) VALUES ('u1', 'a', 'a@example.com', 'client', 'UTC')");
    } finally {
      await db.close();
    }
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

  it('is used when migrations newer than it exist: they are left for migrate() to run', async () => {
    const older = pathToFileURL(`${root}/older/`);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', snapshotDir), 'utf8'));
    manifest.migrations.pop();
    await writeSnapshot(new Blob([readFileSync(new URL('migrated.tar.gz', snapshotDir))]), [], older);
    writeFileSync(new URL('manifest.json', older), JSON.stringify(manifest));
    expect(await unpackSnapshot(join(root, 'older-data'), older)).toBe(true);
  });
});
