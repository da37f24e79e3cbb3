// `npm start`: run src/ as plain JavaScript, transpiled by esbuild into .start/ whenever src/ changed.
//
// Why not tsx: its loader costs ~35 MB resident and compiles every module on each start; a per-file
// transpile kept on disk costs nothing once made. Why not dist/: that is tsc's (`npm run build`,
// type-checked, the Dockerfile's), and two writers of one folder leave each other's stale files.
// Why per file and not one bundle: paths located from a module's own URL (the migrations beside
// src/db/migrate.ts, ../../.cache/embedded-db/, ../../../web/booking-page/dist/) hold in .start/
// as they do in src/ and dist/, since each sits one level under the root.
//
//   node scripts/start.mjs            transpile if src/ changed, then run .start/main.js in this process
//   node scripts/start.mjs --build    transpile if src/ changed, and stop (the `prepare` script)
//
// package.json starts it with --max-semi-space-size=2 (MB per young-generation half, V8's default 16):
// bench table 8 measured VmHWM through start and load 218-224 vs 229-248 MB. And with
// --optimize-for-size, which makes V8 grow its old generation less eagerly and collect sooner:
// VmHWM through start, 2,000 slot reads and 200 holds 183-185 vs 195-218 MB (/health: 174-179 vs
// 181-192), with no difference in CPU time above the noise of a machine at load 5-9. Both are
// heap-configuration flags, read when V8 starts: set later (v8.setFlagsFromString after listen),
// --optimize-for-size measured 197-215 MB, so it is on the command line. MALLOC_ARENA_MAX=1 took
// ~10 MB more off on Linux but is not set there: an env prefix in an npm script fails under Windows'
// cmd.exe, so it is the README's advice for Linux instead.
//
// "Changed" is a signature of every file and folder under src/ (count, sum and max of mtimes;
// a deleted or renamed file changes its folder's mtime) and of this script; checking it takes a few ms.
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const OUT = path.join(ROOT, '.start');
const STAMP = path.join(OUT, '.signature');

function signature() {
  const entries = [SRC, ...readdirSync(SRC, { recursive: true }).map((f) => path.join(SRC, f)), fileURLToPath(import.meta.url)];
  let sum = 0;
  let max = 0;
  for (const e of entries) {
    const m = statSync(e).mtimeMs;
    sum += m;
    if (m > max) max = m;
  }
  return `${entries.length}:${sum}:${max}`;
}

async function transpile(sig) {
  const t0 = performance.now();
  const files = readdirSync(SRC, { recursive: true }).map(String);
  const entryPoints = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => path.join(SRC, f));
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const { buildSync } = await import('esbuild');
  // buildSync runs esbuild as a short child process: nothing of it stays behind in the server.
  buildSync({ entryPoints, outdir: tmp, outbase: SRC, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  // Everything else under src/ (the SQL migrations) is located beside its module, so it is copied along.
  for (const f of files) {
    const from = path.join(SRC, f);
    if (!f.endsWith('.ts') && statSync(from).isFile()) cpSync(from, path.join(tmp, f));
  }
  writeFileSync(path.join(tmp, '.signature'), sig);
  rmSync(OUT, { recursive: true, force: true });
  renameSync(tmp, OUT);
  console.error(`src/ transpiled to .start/ (${entryPoints.length} files, ${Math.round(performance.now() - t0)} ms)`);
}

const sig = signature();
if (!existsSync(STAMP) || readFileSync(STAMP, 'utf8') !== sig) await transpile(sig);
if (!process.argv.includes('--build')) await import(pathToFileURL(path.join(OUT, 'main.js')).href);
