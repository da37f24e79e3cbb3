import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/db/embedded.js';
import { makeSpare, unpackSnapshot, writeSnapshot } from '../../src/db/embedded-snapshot.js';
import { buildSnapshot, withoutWalSegmentsAfter } from '../../src/db/embedded-snapshot-build.js';
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
    // 1 MB WAL segments, one of them in the snapshot (below); PostgreSQL makes the next ones it needs:
    // 3 MB of rows written (and a switch) go through.
    expect((await db.query('SHOW wal_segment_size')).rows).toEqual([{ wal_segment_size: '1MB' }]);
    await db.exec("CREATE TABLE wal_filler AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 3000) g");
    await db.query('SELECT pg_switch_wal()');
    expect((await db.query('SELECT count(*)::int AS n FROM wal_filler')).rows).toEqual([{ n: 3000 }]);
    await db.exec('DROP TABLE wal_filler');
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

describe('withoutWalSegmentsAfter', () => {
  it('leaves one WAL segment, of 1 MB, in the snapshot built', () => {
    const tar = gunzipSync(readFileSync(join(root, 'snapshot', 'migrated.tar.gz')));
    const segments = names(tar).filter((n) => /pg_wal\/[0-9A-F]{24}$/.test(n));
    expect(segments).toHaveLength(1);
  });

  /** A ustar entry: header (name, octal size, type) and its data padded to 512 bytes. */
  const entry = (name: string, data: string, type = '0') => {
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write(data.length.toString(8).padStart(11, '0'), 124);
    header.write(type, 156);
    return Buffer.concat([header, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512)]);
  };
  const names = (tar: Buffer) => {
    const out: string[] = [];
    for (let at = 0; at + 512 <= tar.length; ) {
      const name = tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, '');
      if (!name) break;
      out.push(name);
      at += 512 + Math.ceil(Number.parseInt(tar.subarray(at + 124, at + 136).toString('utf8').replace(/\0.*$/s, ''), 8) / 512) * 512;
    }
    return out;
  };

  it('drops the WAL segments after the current one and keeps every other entry whole', () => {
    const tar = Buffer.concat([
      entry('/pg_wal', '', '5'),
      entry('/pg_wal/000000010000000000000009', 'old'),
      entry('/pg_wal/00000001000000000000000A', 'current'),
      entry('/pg_wal/00000001000000000000000B', 'ahead'),
      entry('/pg_wal/archive_status', '', '5'),
      entry('/base/5/1259', 'x'.repeat(700)),
      entry('/pg_wal/000000010000000000000010', 'ahead'),
      Buffer.alloc(1024),
    ]);
    const kept = withoutWalSegmentsAfter(tar, '00000001000000000000000A');
    expect(names(kept)).toEqual(['/pg_wal', '/pg_wal/000000010000000000000009', '/pg_wal/00000001000000000000000A', '/pg_wal/archive_status', '/base/5/1259']);
    expect(kept.includes(Buffer.from('x'.repeat(700)))).toBe(true);
    expect(kept.subarray(-1024).every((b) => b === 0)).toBe(true);
  });
});
