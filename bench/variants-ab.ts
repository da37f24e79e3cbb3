// Server variants alternated in one run: `npx tsx bench/variants-ab.ts` (not part of `npm run bench`).
// Each variant (node flags, environment, a tree) starts `scripts/start.mjs` on a fresh embedded DATA_DIR,
// then: GET /v1/slots against a bare node:http server in alternating slices (bench/lib/versus-bare.ts),
// 2,000 holds as table 3's POST load (64 in flight), and the server's VmHWM after each. Prints a line per
// run; writes nothing. Loopback only; every load is bounded by its duration or request count.
//
//   VARIANTS='{"on":{"env":{}},"off":{"env":{"FAST_SLOT_READS":"false"}}}' npx tsx bench/variants-ab.ts
//   VARIANTS='{"a":{"flags":["--max-semi-space-size=2"]},"b":{"flags":["--max-semi-space-size=16"]}}' ...
//
// A variant's flags replace package.json's start flags (default: those flags); ROUNDS (default 2)
// rounds of every variant in turn; POSTS=0 skips the holds.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addDaysIso, createUsers, dateAhead, hold, putSchedule, seedWeekReader } from './lib/api.js';
import { destroyAgents, pool, ROOT, RssSampler, startCommand, startServer } from './lib/proc.js';
import { loadVersusBare } from './lib/versus-bare.js';

interface Variant { flags?: string[]; env?: Record<string, string>; tree?: string }

const variants = JSON.parse(process.env.VARIANTS ?? '{"npm start":{}}') as Record<string, Variant>;
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const POSTS = process.env.POSTS !== '0';

/** Table 3's POST load: 20 providers x 100 distinct hours, 400 clients x 5 holds; created/s. */
async function holds(base: string): Promise<number> {
  const providers = await createUsers(base, 'provider', 'ab-provider', 20);
  await pool(providers.map((p) => () => putSchedule(base, p.id, 'UTC', '08:00', '18:00')), 8);
  const clients = await createUsers(base, 'client', 'ab-client', 400);
  const day0 = dateAhead(3);
  const t0 = performance.now();
  const replies = await pool(Array.from({ length: 2000 }, (_, i) => {
    const k = Math.floor(i / 20) % 100;
    const start = `${addDaysIso(day0, Math.floor(k / 10))}T${String(8 + (k % 10)).padStart(2, '0')}:00:00Z`;
    return () => hold(base, clients[Math.floor(i / 5)]!.key, providers[i % 20]!.id, start, 64);
  }), 64);
  return replies.filter((r) => r.status === 201).length / ((performance.now() - t0) / 1000);
}

for (let round = 0; round < ROUNDS; round++) {
  for (const [name, v] of Object.entries(variants)) {
    const tree = v.tree ?? ROOT;
    const cmd = startCommand(tree);
    const argv = v.flags ? [...v.flags, 'scripts/start.mjs'] : cmd.argv;
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'variants-ab-')), 'data');
    const t0 = performance.now();
    const server = await startServer(argv.join(' '), { env: { ...cmd.env, DATA_DIR: dataDir, ...v.env }, cwd: tree, argv });
    const startS = (performance.now() - t0) / 1000;
    try {
      const { url, readerKey } = await seedWeekReader(server.url, 'ab');
      const { ours, bare } = await loadVersusBare(url, readerKey, server.pid);
      const afterReads = new RssSampler(server.pid).stop().hwmMB;
      const created = POSTS ? `${Math.round(await holds(server.url))} created/s` : 'no holds';
      const hwm = new RssSampler(server.pid).stop().hwmMB;
      console.log(`${round + 1} ${name.padEnd(14)} start ${startS.toFixed(2)} s | slots ${Math.round(ours.reqPerSec)} vs bare ${Math.round(bare.reqPerSec)} req/s = ${(ours.reqPerSec / bare.reqPerSec).toFixed(2)}x, p99 ${ours.p99} ms, server CPU ${ours.cpuMicrosPerRequest?.toFixed(1)} vs bare ${bare.cpuMicrosPerRequest?.toFixed(1)} µs/request | ${created} | VmHWM after reads ${afterReads.toFixed(0)} MB, at the end ${hwm.toFixed(0)} MB | load ${os.loadavg()[0]!.toFixed(2)}`);
    } finally {
      await server.stop();
      rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  }
}
destroyAgents();
