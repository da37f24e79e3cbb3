// `npm run bench`: the seven tables, printed and written to bench/RESULTS.md (+ raw bench/results.json).
// Numbers only: nothing here fails the run because something is slow. A benchmark that breaks
// shows "failed: <reason>" in its table and the others still run. Loopback addresses only.
// BENCH_ONLY=<part>[,<part>...] runs some parts and only prints their tables (RESULTS.md and results.json
// are left alone); parts: engine, growth, http, contention, team-slots, team-race, teams (= both team parts), booking-page, footprint,
// scale (long: only with BENCH_ONLY=scale or BENCH_SCALE=1; BENCH_ONLY=scale writes its tables into RESULTS.md and results.json)
// (BENCH_BEFORE_TREE=<checkout> adds that tree's first start, alternated with ours, and table 9: its slot reads and ours).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BOOKING_PAGE_TITLE, bookingPageBench } from './booking-page.js';
import { contentionBench } from './contention.js';
import { engineBench } from './engine.js';
import { growthBench } from './growth.js';
import { teamSlotsBench, TEAM_RACE_TITLE } from './teams.js';
import { footprintBench } from './footprint.js';
import { slotsBeforeAfterBench } from './slots-ab.js';
import { bareRow, httpBench, slotsRow } from './http.js';
import { keptScaleResults, saveScaleResults, scaleBench, SCALE_TITLE } from './scale.js';
import { destroyAgents, killAllChildren, ROOT } from './lib/proc.js';
import { beforeAfterTable, BASELINE, int, machine, ms, renderTable, skippedTable, type Table } from './lib/report.js';

const PARTS = ['engine', 'growth', 'http', 'contention', 'team-slots', 'team-race', 'teams', 'booking-page', 'footprint', 'scale'];
const only = (process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const unknownParts = only.filter((x) => !PARTS.includes(x));
if (unknownParts.length) {
  process.stderr.write(`BENCH_ONLY: unknown part(s) ${unknownParts.join(', ')}; parts: ${PARTS.join(', ')}\n`);
  process.exit(2);
}
const partial = only.length > 0;
const want = (part: string) => part === 'scale'
  ? only.includes('scale') || process.env.BENCH_SCALE === '1'
  : !partial || only.includes(part) || (part.startsWith('team-') && only.includes('teams'));

const WATCHDOG_MS = (want('scale') ? 45 : 15) * 60_000; // the whole run normally takes 3-4 minutes; scale alone 4-5 (big database made afresh)
const started = Date.now();
const log = (s: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);

const watchdog = setTimeout(() => {
  log(`still running after ${WATCHDOG_MS / 60_000} minutes: stopping`);
  killAllChildren();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { killAllChildren(); process.exit(130); });

// Every server runs `npm start`'s command line (on PostgreSQL without its memory flags, as the container runs it:
// bench/lib/proc.ts startEngine): transpile src/ now, as
// `npm ci`'s prepare does, so that no timed start pays for it.
execFileSync(process.execPath, ['scripts/start.mjs', '--build'], { cwd: ROOT, stdio: 'ignore' });

async function attempt<T>(name: string, fn: () => Promise<T>): Promise<T | Error> {
  log(name);
  try {
    return await fn();
  } catch (e) {
    log(`${name} failed: ${(e as Error).stack ?? e}`);
    return e as Error;
  }
}
const failed = (title: string, e: Error) => skippedTable(title, `failed: ${e.message.slice(0, 300)}`);

// Load average: at start and end, and the highest 1-minute value seen (sampled every 5 s, bounded by the watchdog).
const loadavg = (): number[] => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
  } catch {
    return [];
  }
};
const loadAtStart = loadavg();
let loadMax1 = loadAtStart[0] ?? NaN;
const loadTimer = setInterval(() => { loadMax1 = Math.max(loadMax1, loadavg()[0] ?? NaN); }, 5000);
loadTimer.unref();
const git = (...args: string[]) => {
  try {
    // --no-optional-locks: never rewrite the index while someone else may be committing.
    return execFileSync('git', ['--no-optional-locks', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};
const commit = git('log', '-1', '--format=%h %s') || 'unknown';
const srcDirty = git('status', '--porcelain', '--', 'src').length > 0;
// The servers load src/ when they start, minutes into the run: note any file in src/ that changes meanwhile.
const srcFiles = (): Map<string, string> => {
  const out = new Map<string, string>();
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile()) { const st = statSync(p); out.set(path.relative(ROOT, p), `${st.mtimeMs}:${st.size}`); }
    }
  };
  try { walk(path.join(ROOT, 'src'), 0); } catch { /* reported as no change */ }
  return out;
};
const srcAtStart = srcFiles();

const env = machine();
const raw: Record<string, unknown> = { machine: env };
const tables: Table[] = [];

const notRun = new Error('not run (BENCH_ONLY)');
const engine = want('engine') ? await attempt('1. slot engine vs peers', () => engineBench(log)) : notRun;
if (want('engine')) tables.push(engine instanceof Error ? failed('1. Slot engine, pure', engine) : engine.table);
raw.engine = engine instanceof Error ? { error: engine.message } : engine.raw;

const growth = want('growth') ? await attempt('2. growth', () => growthBench(log)) : notRun;
if (want('growth')) tables.push(growth instanceof Error ? failed('2. Growth of our engine', growth) : growth.table);
raw.growth = growth instanceof Error ? { error: growth.message } : growth.raw;

// Table 6 is pure engine too: measured here, next to tables 1 and 2, before any server runs; shown after table 5.
const teamSlots = want('team-slots') ? await attempt('6. team slot listing', () => teamSlotsBench(log)) : notRun;
raw.teamSlots = teamSlots instanceof Error ? { error: teamSlots.message } : teamSlots.raw;

const http = want('http') ? await attempt('3. HTTP', () => httpBench(log)) : notRun;
if (want('http')) tables.push(http instanceof Error ? failed('3. HTTP', http) : http.http);
raw.http = http instanceof Error ? { error: http.message } : http.raw;

// Table 7 runs on table 4's servers, after its race (bench/contention.ts).
const contention = want('contention') || want('team-race')
  ? await attempt(want('contention') ? '4. contention on PostgreSQL (and 7. team race)' : '7. team race on PostgreSQL',
    () => contentionBench(log, { v1: want('contention'), teams: want('team-race') }))
  : notRun;
if (want('contention')) tables.push(contention instanceof Error ? failed('4. Contention (two servers, one PostgreSQL)', contention) : contention.table);
raw.contention = contention instanceof Error || !want('contention') ? { error: (contention instanceof Error ? contention : notRun).message } : contention.raw;

if (!(http instanceof Error) && !(contention instanceof Error) && contention.slotsLoad) {
  const { label, result, bare } = contention.slotsLoad;
  http.http.rows.splice(2, 0, slotsRow(label, result, bare), bareRow('bare node:http, the PostgreSQL row\'s bytes, alternating with it', bare));
  http.http.notes.push('The PostgreSQL rows are the same load run during table 4 against server 1 of the two (without `npm start`\'s memory flags, as the container runs it), with PostgreSQL on the same 2 cores, alternating with a bare server answering that response\'s bytes.');
}

if (!partial) {
  const memRows = [
    ...(http instanceof Error ? [['server during table 3', `failed: ${http.message.slice(0, 200)}`, '']] : http.memory.rows),
    ...(contention instanceof Error ? [] : contention.memoryRows),
  ];
  tables.push({
    title: '5. Memory: peak RSS of the server process (VmRSS sampled every 100 ms from /proc/<pid>/status; MB = 10^6 bytes)',
    columns: ['process and phase', 'peak RSS MB', 'target met? (< 200 MB)'],
    rows: memRows,
    notes: [
      'VmHWM is the kernel\'s high-water mark over the whole life of the process, start-up included; VmHWM above every sampled peak means the peak came during start-up, before the server answered /health.',
      'Table 3\'s server runs the embedded database (PGlite, PostgreSQL compiled to WebAssembly) inside the same process, on an on-disk DATA_DIR that a previous start initialised (its second start is measured). The DATA_DIR=memory row is one extra start of the same server in memory, stopped 1 s after /health: it unpacks the migrated snapshot (src/db/embedded-snapshot.ts), or without one runs initdb, inside the process at every start.',
      'The embedded servers run `npm start`\'s command line without npm in front (scripts/start.mjs: src/ transpiled by esbuild into .start/, node flags from package.json: --max-semi-space-size=2 --optimize-for-size, which keep them under 200 MB); the servers on PostgreSQL run the same without those memory flags, as the container does (docs/container.md: `node dist/main.js`; bench/lib/proc.ts startEngine says what the flags cost them).',
      'The servers of table 4 are sampled during table 4 only: sampling stops (VmHWM read) before table 7\'s race runs on them.',
    ],
  });
  raw.memory = { http: http instanceof Error ? null : http.memory.raw };
}

if (want('team-slots')) tables.push(teamSlots instanceof Error ? failed('6. Team event type: slot listing, pure engine', teamSlots) : teamSlots.table);
if (want('team-race')) {
  const t = contention instanceof Error ? contention : contention.teams ?? new Error('not run');
  tables.push(t instanceof Error ? failed(TEAM_RACE_TITLE, t) : t.table);
  raw.teamRace = t instanceof Error ? { error: t.message } : t.raw;
}

// The booking page in Chromium, after every server above has stopped (skipped, with a line saying so, without /usr/bin/chromium).
const bookingPage = want('booking-page') ? await attempt('booking page in Chromium', () => bookingPageBench(log)) : notRun;
if (want('booking-page')) tables.push(bookingPage instanceof Error ? failed(BOOKING_PAGE_TITLE, bookingPage) : bookingPage.table);
raw.bookingPage = bookingPage instanceof Error ? { error: bookingPage.message } : bookingPage.raw;
// Table 8 last: its servers start on fresh data dirs and must not share the cores with the others.
const footprint = want('footprint') ? await attempt('8. footprint and first start', () => footprintBench(log)) : notRun;
if (want('footprint')) tables.push(footprint instanceof Error ? failed('8. Footprint and first start', footprint) : footprint.table);
raw.footprint = footprint instanceof Error ? { error: footprint.message } : footprint.raw;
// Table 9 only with BENCH_BEFORE_TREE (part 'footprint' or a full run): slot reads of that tree and ours, alternated.
const beforeTree = process.env.BENCH_BEFORE_TREE ? path.resolve(process.env.BENCH_BEFORE_TREE) : null;
if (beforeTree && want('footprint')) {
  const ab = await attempt('9. slot reads before/after', () => slotsBeforeAfterBench(log, beforeTree));
  tables.push(ab instanceof Error ? failed('9. GET /v1/slots before vs after', ab) : ab.table);
  raw.slotsBeforeAfter = ab instanceof Error ? { error: ab.message } : ab.raw;
}

// Table 10 (scale) only when asked for: it generates a million bookings (bench/scale.ts).
const scale = want('scale') ? await attempt('10. scale', () => scaleBench(log)) : notRun;
if (want('scale')) tables.push(...(scale instanceof Error ? [failed(SCALE_TITLE, scale)] : [scale.table, scale.planTable]));
if (want('scale')) raw.scale = scale instanceof Error ? { error: scale.message } : scale.raw;

const hs = http instanceof Error ? undefined : http.summary;
const cs = contention instanceof Error ? undefined : contention.summary;
const pgSlots = contention instanceof Error ? undefined : contention.slotsLoad?.result;
if (!partial) tables.push(beforeAfterTable({
  slotsEmbedded: hs && { reqPerSec: hs.slots.reqPerSec, p99: hs.slots.p99 },
  slotsPostgres: pgSlots && { reqPerSec: pgSlots.reqPerSec, p99: pgSlots.p99 },
  postCreatedPerSec: hs?.createdPerSec,
  contentionHoldsPerSec: cs?.holdsPerSec,
  embeddedStartMB: hs?.startMB,
  inMemoryStartMB: hs?.inMemoryStartMB ?? undefined,
  inMemoryHwmMB: hs?.inMemoryHwmMB ?? undefined,
  embeddedLoadMB: hs?.loadPeaksMB,
  postgresServerMB: cs?.serverMB,
}));
raw.baseline = BASELINE;
destroyAgents();

const seconds = ((Date.now() - started) / 1000).toFixed(0);
clearInterval(loadTimer);
const loadAtEnd = loadavg();
loadMax1 = Math.max(loadMax1, loadAtEnd[0] ?? NaN);
const srcAtEnd = srcFiles();
const srcChanged = [...new Set([...srcAtStart.keys(), ...srcAtEnd.keys()])].filter((f) => srcAtStart.get(f) !== srcAtEnd.get(f)).sort();
raw.srcChangedDuringRun = srcChanged;
const fmtLoad = (l: number[]) => (l.length ? l.map((x) => x.toFixed(2)).join(' / ') : 'n/a');
raw.loadAverage = { start: loadAtStart, end: loadAtEnd, max1min: loadMax1 };
const header = [
  '# Benchmarks',
  '',
  `Generated by \`npm run bench\` (bench/run.ts) in ${seconds} s; raw numbers in [results.json](results.json). Ratios matter more than absolute`,
  'numbers: the machine is shared and noisy. Nothing here fails a run on speed; "target met?" only reports.',
  '',
  `Machine: ${env.cores} cores, ${env.cpu}, ${env.memoryGiB} GiB; Node ${env.node}; ${env.platform}; ${env.date}.`,
  '',
  `Load average (1 / 5 / 15 min, /proc/loadavg) at start: ${fmtLoad(loadAtStart)}; at end: ${fmtLoad(loadAtEnd)}; highest 1-minute value sampled every 5 s during the run: ${loadMax1.toFixed(2)}. The ${env.cores} cores are shared with whatever else runs on the machine.`,
  '',
  `Tree: ${commit}${srcDirty ? ' (with uncommitted changes in src/)' : ''}${srcChanged.length ? `; WARNING: ${srcChanged.length} file(s) in src/ changed during the run (${srcChanged.slice(0, 6).join(', ')}${srcChanged.length > 6 ? ', ...' : ''}), so servers started after the change ran other code` : '; src/ did not change during the run'}. The before/after comparison with the previous run is the last section.`,
  '',
].join('\n');
const body = tables.map(renderTable).join('\n');
process.stdout.write(`\n${header}\n${body}`);
if (partial && want('scale') && !(scale instanceof Error)) {
  saveScaleResults([scale.table, scale.planTable], raw.scale, `${commit}; load average at start ${fmtLoad(loadAtStart)}, at end ${fmtLoad(loadAtEnd)}`);
  log('table 10 written into bench/RESULTS.md and bench/results.json (scale); the other tables left as they were');
}
if (partial) {
  if (want('scale') && !(scale instanceof Error)) { log(`done in ${seconds} s`); process.exit(0); }
  log(`done in ${seconds} s (BENCH_ONLY=${only.join(',')}: printed only; bench/RESULTS.md and bench/results.json left as they were)`);
  process.exit(0);
}
// Table 10 not run: the earlier one stays, under its own tree and load line.
const kept = want('scale') ? null : keptScaleResults();
writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), `${header}\n${body}${kept ? `\n${kept.section}\n` : ''}`);
writeFileSync(path.join(ROOT, 'bench/results.json'), `${JSON.stringify({ ...raw, ...(kept ? kept.raw : {}), seconds: Number(seconds) }, null, 2)}\n`);
log(`done in ${seconds} s: bench/RESULTS.md, bench/results.json`);
process.exit(0);
