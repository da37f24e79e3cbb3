import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { loadMigrations } from './migrate.js';

/**
 * A migrated, empty embedded data directory made at install time
 * (scripts/build-db-snapshot.ts, run by `prepare`), so that a first start
 * unpacks a tarball instead of running initdb and every migration inside the
 * process: initdb alone took 5-9 s and peaked near 800 MB resident.
 *
 * The manifest names the PGlite version and each migration with a hash of its
 * SQL. A snapshot is used only if that PGlite is the installed one and its
 * migrations are, file for file, the first ones of src/db/migrations; newer
 * migrations then run as on any start. Anything else (no snapshot, a changed
 * migration, another PGlite) falls back to initdb: slower, never wrong.
 */
export const SNAPSHOT_DIR = new URL('../../.cache/embedded-db/', import.meta.url);
const tarballIn = (dir: URL) => new URL('migrated.tar.gz', dir);
const manifestIn = (dir: URL) => new URL('manifest.json', dir);

interface Manifest {
  pglite: string;
  migrations: { name: string; sha256: string }[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite'); // …/dist/index.cjs
  const pkg = JSON.parse(await readFile(join(dirname(entry), '../package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function currentMigrations(): Promise<Manifest['migrations']> {
  return (await loadMigrations()).map((m) => ({ name: m.name, sha256: sha256(m.sql) }));
}

/** The manifest's text when there is a snapshot that fits the installed PGlite and migrations, else null. */
async function fittingManifest(dir: URL): Promise<string | null> {
  let text: string;
  let manifest: Manifest;
  try {
    text = await readFile(manifestIn(dir), 'utf8');
    manifest = JSON.parse(text) as Manifest;
  } catch {
    return null;
  }
  if (manifest.pglite !== (await pgliteVersion())) return null;
  const migrations = await currentMigrations();
  const fits = Array.isArray(manifest.migrations) && manifest.migrations.length <= migrations.length
    && manifest.migrations.every((m, i) => m.name === migrations[i]!.name && m.sha256 === migrations[i]!.sha256);
  return fits ? text : null;
}

/**
 * The snapshot already unpacked, made at install time beside the tarball and named after the
 * manifest it was unpacked from. A first start renames it into place. Creating a data directory's
 * files is kernel time on the benchmark machine, ~1 ms a file and varying (the 1,164-file snapshot
 * unpacked alone in 0.17-1.09 s over fifteen timings; the 562-file one took 1.1-1.4 s inside first
 * starts), while a rename takes well under a millisecond. One start uses it up; later fresh data
 * directories unpack the tarball.
 */
const spareIn = (dir: URL, manifestText: string) => fileURLToPath(new URL(`unpacked-${sha256(manifestText).slice(0, 16)}`, dir));

/** For an in-memory database: the snapshot as PGlite's `loadDataDir` takes it, or null. */
export async function readSnapshot(dir = SNAPSHOT_DIR): Promise<Blob | null> {
  if (!(await fittingManifest(dir))) return null;
  return readFile(tarballIn(dir)).then((b) => new Blob([b]), () => null);
}

/**
 * For an on-disk database: moves the spare unpacked snapshot to `dataDir`, or else unpacks the
 * tarball there; `dataDir` must not exist yet or be empty. False when there is no snapshot that
 * fits. Streamed to disk rather than handed to PGlite's loadDataDir, which holds the whole
 * unpacked tar and its copy in memory and left the process ~90 MB larger for its life. Unpacked
 * into a sibling directory first and renamed into place, so a failed unpack never leaves a half
 * data directory behind.
 */
export async function unpackSnapshot(dataDir: string, dir = SNAPSHOT_DIR): Promise<boolean> {
  const manifestText = await fittingManifest(dir);
  if (!manifestText) return false;
  try {
    await mkdir(dirname(dataDir), { recursive: true });
    // Fails when there is no spare (used up, or another process took it a moment ago), when the
    // data directory is on another file system (EXDEV) or is not empty: then the tarball is unpacked.
    await rename(spareIn(dir, manifestText), dataDir);
    return true;
  } catch {
    // unpacked below
  }
  return extractInto(dataDir, dir);
}

/** Unpacks the tarball next to the snapshot, to be renamed into place by the next first start. */
export async function makeSpare(dir = SNAPSHOT_DIR): Promise<boolean> {
  const manifestText = await fittingManifest(dir);
  if (!manifestText) return false;
  const spare = spareIn(dir, manifestText);
  if (existsSync(spare)) return true;
  return extractInto(spare, dir);
}

async function extractInto(target: string, dir: URL): Promise<boolean> {
  const staging = `${target}.unpacking-${process.pid}`;
  try {
    await rm(staging, { recursive: true, force: true });
    await extractTar(createReadStream(tarballIn(dir)).pipe(createGunzip()), staging);
    await rename(staging, target); // replaces an empty directory; fails on one that is not
    return true;
  } catch {
    await rm(staging, { recursive: true, force: true });
    return false; // PGlite runs initdb as without a snapshot
  }
}

/**
 * The ustar subset PGlite's dumpDataDir writes: directories and regular files, 512-byte blocks.
 * Each file is written chunk by chunk as it is unzipped: holding a whole file (the 16 MB WAL
 * segment of snapshots before 1 MB segments) left ~40 MB of native heap behind for the life of
 * the process. The writes are synchronous: the data directory is ~560 small files, and an open, write, close and mkdir
 * each sent to libuv's thread pool and awaited took ~2 s of a first start (vs ~0.3 s).
 */
async function extractTar(input: AsyncIterable<Buffer>, into: string): Promise<void> {
  await mkdir(into, { recursive: true, mode: 0o700 });
  const made = new Set<string>([into]);
  const mkdirOnce = (dir: string) => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    made.add(dir);
  };
  let pending: Buffer = Buffer.alloc(0);
  let file: { fd: number; left: number } | null = null;
  let padding = 0;
  const field = (h: Buffer, at: number, len: number) => h.subarray(at, at + len).toString('utf8').replace(/\0.*$/s, '');
  try {
    for await (const chunk of input) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (file) {
          const take = Math.min(file.left, pending.length);
          if (take > 0) writeSync(file.fd, pending, 0, take);
          pending = pending.subarray(take);
          file.left -= take;
          if (file.left > 0) break;
          closeSync(file.fd);
          file = null;
        }
        if (padding) {
          const skip = Math.min(padding, pending.length);
          pending = pending.subarray(skip);
          padding -= skip;
          if (padding) break;
        }
        if (pending.length < 512) break;
        const header = pending.subarray(0, 512);
        pending = pending.subarray(512);
        const name = field(header, 0, 100);
        if (!name) continue; // the two zero blocks at the end
        const prefix = field(header, 345, 155);
        const relative = normalize(`${prefix ? `${prefix}/` : ''}${name}`).replace(/^\/+/, '');
        if (relative.startsWith('..')) throw new Error(`snapshot: path outside the data directory: ${name}`);
        const target = join(into, relative);
        const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
        const mode = Number.parseInt(field(header, 100, 8).trim() || '600', 8) & 0o777;
        const type = String.fromCharCode(header[156]!);
        if (type === '5') {
          mkdirOnce(target);
        } else if (type === '0' || type === '\0') {
          mkdirOnce(dirname(target));
          file = { fd: openSync(target, 'w', mode), left: size };
          padding = (512 - (size % 512)) % 512;
        } else {
          throw new Error(`snapshot: unexpected tar entry type ${JSON.stringify(type)} for ${name}`);
        }
      }
    }
    if (file) throw new Error('snapshot: the tarball ends inside a file');
  } finally {
    if (file) closeSync(file.fd);
  }
}

/** Writes the tarball, then the manifest that vouches for it (a half-written pair is never read as valid). */
export async function writeSnapshot(tarball: Blob, migrationNames: string[], dir = SNAPSHOT_DIR): Promise<string> {
  const all = await currentMigrations();
  const migrations = all.filter((m) => migrationNames.includes(m.name));
  await mkdir(dir, { recursive: true });
  await writeFile(manifestIn(dir), '{}'); // invalidates any older pair first
  for (const old of await readdir(dir)) {
    if (old.startsWith('unpacked-')) await rm(new URL(old, dir), { recursive: true, force: true });
  }
  await writeFile(new URL('migrated.tar.gz.tmp', dir), Buffer.from(await tarball.arrayBuffer()));
  await rename(new URL('migrated.tar.gz.tmp', dir), tarballIn(dir));
  await writeFile(manifestIn(dir), `${JSON.stringify({ pglite: await pgliteVersion(), migrations } satisfies Manifest, null, 2)}\n`);
  return fileURLToPath(tarballIn(dir));
}
