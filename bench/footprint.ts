// 8. Footprint and first start of the embedded server, as a user meets it: the tree's `npm start` command
//    line (its package.json, run by node without npm in front) on a DATA_DIR that does not exist yet, then 2,000 slot reads and 200 holds; time to /health and the
//    kernel's high-water mark (VmHWM) of the server process through all of it.
//    BENCH_BEFORE_TREE=<dir>: the same on another checkout (with its own node_modules), alternated with
//    ours in the same run, so that before and after share the load of the machine.
//    FP_START='<start script>': this tree runs that instead of its package.json's (to try flags).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addDaysIso, createUsers, dateAhead, hold, putSchedule, seedWeekReader } from './lib/api.js';
import { pool, request, ROOT, RssSampler, startCommand, startEngine } from './lib/proc.js';
import { met, ratio, type Table } from './lib/report.js';

const READS = 2000;
const READ_CONCURRENCY = 16;
const HOLDS = 200; // 10 providers x 20 hours; 40 clients x 5 holds (the per-client hold limit)
const ROUNDS = Number(process.env.FP_ROUNDS ?? 2);

/** A start right after the tree's `prepare` made the database snapshot (as `npm ci` leaves it), or the start after that one. */
type StartKind = 'after npm ci' | 'next fresh DATA_DIR';

interface Run { tree: string; kind: StartKind; startS: number; rssStartedMB: number; hwmStartMB: number; hwmMB: number; peaks: Record<string, number>; reads: number; holds: number; load1: number }

const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** What `npm ci`'s prepare does for the database: the tree's own scripts/build-db-snapshot.ts. */
function prepareDatabase(tree: string, log: (s: string) => void) {
  const t0 = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-db-snapshot.ts'], { cwd: tree, stdio: 'ignore' });
  log(`  footprint: ${tree === ROOT ? 'this tree' : 'before'}: scripts/build-db-snapshot.ts ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function once(tree: string, kind: StartKind): Promise<Run> {
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'booking-footprint-')), 'data'); // does not exist yet
  const t0 = performance.now();
  const server = await startEngine({ tree, env: { DATA_DIR: dataDir } });
  const startS = (performance.now() - t0) / 1000;
  const rss = new RssSampler(server.pid);
  const hwmStartMB = rss.stop().hwmMB;
  const sampler = new RssSampler(server.pid);
  try {
    const base = server.url;
    sampler.mark('seeding');
    const { url, readerKey } = await seedWeekReader(base, 'fp');
    sampler.mark('slot reads');
    const reads = await pool(Array.from({ length: READS }, () => () => request(url, { key: readerKey })), READ_CONCURRENCY);
    sampler.mark('seeding');
    const providers = await createUsers(base, 'provider', 'fp-hold-provider', 10);
    await pool(providers.map((p) => () => putSchedule(base, p.id, 'UTC', '08:00', '18:00')), 4);
    const clients = await createUsers(base, 'client', 'fp-hold-client', HOLDS / 5);
    const day0 = dateAhead(3);
    sampler.mark('holds');
    const holds = await pool(Array.from({ length: HOLDS }, (_, i) => () => {
      const k = Math.floor(i / 10); // 0..19: 2 days x 10 hours
      const start = `${addDaysIso(day0, Math.floor(k / 10))}T${String(8 + (k % 10)).padStart(2, '0')}:00:00Z`;
      return hold(base, clients[Math.floor(i / 5)]!.key, providers[i % 10]!.id, start);
    }), 8);
    const mem = sampler.stop();
    return {
      tree, kind, startS, rssStartedMB: mem.peaks.start ?? NaN, hwmStartMB, hwmMB: mem.hwmMB, peaks: mem.peaks,
      reads: reads.filter((r) => r.status === 200).length, holds: holds.filter((r) => r.status === 201).length, load1: load1(),
    };
  } finally {
    sampler.stop();
    await server.stop();
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
}

export async function footprintBench(log: (s: string) => void): Promise<{ table: Table; raw: unknown }> {
  const before = process.env.BENCH_BEFORE_TREE ? path.resolve(process.env.BENCH_BEFORE_TREE) : null;
  const runs: Run[] = [];
  const trees = before ? [before, ROOT] : [ROOT];
  for (const tree of trees) {
    // What `prepare` did at `npm ci`: transpile src/ now, so that the timed starts find it done (as a user's first does).
    const cmd = startCommand(tree);
    if (cmd.argv.includes('scripts/start.mjs')) {
      const t0 = performance.now();
      execFileSync(process.execPath, ['scripts/start.mjs', '--build'], { cwd: tree, stdio: 'ignore' });
      log(`  footprint: ${tree === ROOT ? 'this tree' : 'before'}: node scripts/start.mjs --build ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }
    log(`  footprint: ${tree === ROOT ? 'this tree' : 'before'} starts with: ${cmd.script}`);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const tree of trees) {
      log(`  footprint: round ${round + 1}/${ROUNDS}, ${tree === ROOT ? 'this tree' : `before (${tree})`}`);
      prepareDatabase(tree, log);
      runs.push(await once(tree, 'after npm ci'));
      runs.push(await once(tree, 'next fresh DATA_DIR'));
    }
  }
  const label = (r: Run) => (r.tree === ROOT ? 'this tree' : 'before');
  const rows = runs.map((r) => [
    label(r), r.kind, r.startS.toFixed(2), r.hwmStartMB.toFixed(0), r.hwmMB.toFixed(0), `${r.reads} / ${READS}`, `${r.holds} / ${HOLDS}`, r.load1.toFixed(2),
    r.tree === ROOT ? `first start < 2 s: ${met(r.startS < 2)}; VmHWM < 200 MB: ${met(r.hwmMB < 200)}` : '',
  ]);
  if (before) {
    for (const kind of ['after npm ci', 'next fresh DATA_DIR'] as const) {
      const best = (tree: string, f: (r: Run) => number) => Math.min(...runs.filter((r) => r.tree === tree && r.kind === kind).map(f));
      rows.push(['this tree / before (best of each)', kind, ratio(best(ROOT, (r) => r.startS) / best(before, (r) => r.startS)),
        ratio(best(ROOT, (r) => r.hwmStartMB) / best(before, (r) => r.hwmStartMB)), ratio(best(ROOT, (r) => r.hwmMB) / best(before, (r) => r.hwmMB)), '', '', '', '']);
    }
  }
  return {
    table: {
      title: `8. Footprint: first start of the embedded server on a DATA_DIR that does not exist yet, then ${READS.toLocaleString('en-US')} slot reads and ${HOLDS} holds`,
      columns: ['tree', 'start', 'start to /health s', 'VmHWM at /health MB', 'VmHWM at the end MB', 'slot reads 200', 'holds 201', 'load (1 min) after', 'target met?'],
      rows,
      notes: [
        `Each tree runs its own \`npm start\` command line without npm in front (this tree: \`${startCommand(ROOT).script}\`${before ? `; before: \`${startCommand(before).script}\`` : ''}), with LOG_LEVEL=warn, rate limits off; the time is from spawning the process to the first 200 of /health, so it includes Node (and tsx where the script uses it), the check that .start/ is up to date (made beforehand, as \`npm ci\`'s prepare does), the database (the spare data directory renamed into place, the snapshot unpacked, or initdb; migrations), the demo seed and Fastify. npm's own start-up (~0.2-0.3 s) is not counted.`,
        `"after npm ci": the tree's scripts/build-db-snapshot.ts (what \`npm ci\`'s prepare runs for the database) ran just before; from this session on it also leaves a spare unpacked data directory, which this start renames into place. "next fresh DATA_DIR": the start right after, on another new DATA_DIR, when that spare is used up and the tarball is unpacked (~560 files; creating a file costs ~1 ms of kernel time on this VM, varying).`,
        `Reads: GET /v1/slots of one provider's 7 days, ${READ_CONCURRENCY} in flight, one client key. Holds: 10 providers (UTC, 08:00-18:00) x 20 hours, 40 clients with 5 holds each, 8 in flight. MB = 10^6 bytes.`,
        before ? `"before" is the checkout in BENCH_BEFORE_TREE (${before}), run alternately with this tree, ${ROUNDS} rounds each.` : `${ROUNDS} rounds.`,
        `Start times move with the load average (last column); VmHWM much less.`,
      ],
    },
    raw: runs.map((r) => ({ ...r, tree: label(r) })),
  };
}
