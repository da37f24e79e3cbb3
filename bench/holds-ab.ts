// Holds before vs after in one run: `npx tsx bench/holds-ab.ts <before checkout>` (HOLDS_ROUNDS, default 2).
// The two hold loads of the full bench, without their read loads, for two trees that alternate:
//  - embedded: table 3's POST /v1/bookings (2,000 holds on distinct slots, 20 providers, 64 in flight),
//    on a fresh DATA_DIR;
//  - PostgreSQL: table 4's race (2,000 holds at once over 500 slots, two server processes), on a fresh
//    database of one cluster (scripts/postgres-start.sh, HOLDS_PG_DIR / HOLDS_PG_PORT, stopped at the end).
// Prints one table; writes nothing. Loopback only; every load is bounded by its request count.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { addDaysIso, createUser, createUsers, dateAhead, hold, putSchedule, type Account } from './lib/api.js';
import { destroyAgents, expectStatus, pool, profileArgs, ROOT, startEngine, type Server } from './lib/proc.js';
import { int, renderTable } from './lib/report.js';

const ROUNDS = Number(process.env.HOLDS_ROUNDS ?? 2);
/** HOLDS_ONLY=embedded or postgres: one of the two loads. */
const ONLY = process.env.HOLDS_ONLY;
const PG_DIR = process.env.HOLDS_PG_DIR ?? '/tmp/pg-holds-bench';
const PG_PORT = process.env.HOLDS_PG_PORT ?? '55443';
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' / ');
const statusesOf = (codes: number[]) => {
  const out: Record<string, number> = {};
  for (const c of codes) out[c] = (out[c] ?? 0) + 1;
  return out;
};

/** Table 3's POST load on a fresh embedded DATA_DIR: created/s. */
async function embeddedHolds(tree: string): Promise<{ perSec: number; statuses: Record<string, number> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'holds-ab-'));
  const server = await startEngine({ tree, env: { DATA_DIR: path.join(dir, 'data') }, nodeArgs: profileArgs(), timeoutMs: 120_000 });
  try {
    const base = server.url;
    const providers = await createUsers(base, 'provider', 'post-provider', 20);
    await pool(providers.map((p) => () => putSchedule(base, p.id, 'UTC', '08:00', '18:00')), 8);
    const clients = await createUsers(base, 'client', 'post-client', 400);
    const day0 = dateAhead(3);
    const tasks = Array.from({ length: 2000 }, (_, i) => {
      const k = Math.floor(i / 20) % 100;
      const start = `${addDaysIso(day0, Math.floor(k / 10))}T${String(8 + (k % 10)).padStart(2, '0')}:00:00Z`;
      // A request past its 30 s limit counts as status 0 (the table shows it) rather than ending the run.
      return () => hold(base, clients[Math.floor(i / 5)]!.key, providers[i % 20]!.id, start, 64).catch(() => ({ status: 0 }));
    });
    const t0 = performance.now();
    const replies = await pool(tasks, 64);
    const seconds = (performance.now() - t0) / 1000;
    const statuses = statusesOf(replies.map((r) => r.status));
    return { perSec: (statuses['201'] ?? 0) / seconds, statuses };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Table 4's race on a fresh database: winners/s over the wall time of all 2,000 requests. */
async function contendedHolds(tree: string, clusterUrl: string): Promise<{ perSec: number; statuses: Record<string, number> }> {
  const dbName = `holds_ab_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  const servers: Server[] = [];
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(clusterUrl);
    url.pathname = `/${dbName}`;
    for (let i = 0; i < 2; i++) servers.push(await startEngine({ tree, env: { DATABASE_URL: url.toString() }, nodeArgs: profileArgs(), timeoutMs: 120_000 }));
    const [a, b] = servers as [Server, Server];
    const monday = dateAhead(3, 1);
    const slots: { provider: Account; start: string }[] = [];
    for (let p = 0; p < 5; p++) {
      const provider = await createUser(a.url, 'provider', `race-provider${p}`, 'Europe/Berlin');
      await putSchedule(a.url, provider.id, 'Europe/Berlin', '09:00', '17:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
      const r = await expectStatus(200, `${a.url}/v1/slots?providerId=${provider.id}&from=${monday}&to=${addDaysIso(monday, 13)}`, { key: provider.key });
      for (const s of (r.json.slots as { start: string }[]).slice(0, 100)) slots.push({ provider, start: s.start });
    }
    const clients = await createUsers(a.url, 'client', 'race-client', 400);
    const order = Array.from({ length: 2000 }, (_, r) => r);
    let seed = 12345;
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const t0 = performance.now();
    const codes = await Promise.all(order.map((r) => {
      const slot = slots[r % 500]!;
      const server = (r + Math.floor(r / 500)) % 2 === 0 ? a : b;
      return hold(server.url, clients[Math.floor(r / 5)]!.key, slot.provider.id, slot.start, 256).then((x) => x.status, () => 0);
    }));
    const seconds = (performance.now() - t0) / 1000;
    const statuses = statusesOf(codes);
    return { perSec: (statuses['201'] ?? 0) / seconds, statuses };
  } finally {
    for (const s of servers) await s.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

const before = process.argv[2];
if (!before) throw new Error('usage: npx tsx bench/holds-ab.ts <before checkout>');
const env = { ...process.env, PGTEST_DIR: PG_DIR, PGTEST_PORT: PG_PORT };
for (const tree of [before, ROOT]) execFileSync(process.execPath, ['scripts/start.mjs', '--build'], { cwd: tree, stdio: 'ignore' });
const clusterUrl = execFileSync('bash', ['scripts/postgres-start.sh'], { cwd: ROOT, env, encoding: 'utf8' }).trim().split('\n').pop()!;
const rows: (string | number)[][] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [label, tree] of [['before', before], ['this tree', ROOT]] as const) {
      process.stderr.write(`round ${round}: ${label}\n`);
      const none = { perSec: NaN, statuses: {} };
      const e = ONLY === 'postgres' ? none : await embeddedHolds(tree);
      const loadE = loadavg();
      const c = ONLY === 'embedded' ? none : await contendedHolds(tree, clusterUrl);
      rows.push([round, label, int(e.perSec), JSON.stringify(e.statuses), loadE, int(c.perSec), JSON.stringify(c.statuses), loadavg()]);
      process.stderr.write(`${rows.at(-1)!.join(' | ')}\n`);
    }
  }
} finally {
  destroyAgents();
  execFileSync('bash', ['scripts/postgres-stop.sh'], { cwd: ROOT, env, stdio: 'ignore' });
}
process.stdout.write(renderTable({
  title: `Holds before (${before}) vs this tree, alternated`,
  columns: ['round', 'tree', 'embedded created/s', 'statuses', 'load after', 'PostgreSQL race holds/s', 'statuses', 'load after'],
  rows,
  notes: [],
}));
