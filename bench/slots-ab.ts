// 9. Slot reads before vs after in one run (BENCH_BEFORE_TREE=<checkout>): the embedded server of each tree
//    on a fresh DATA_DIR, the same provider and client, table 3's autocannon load alternating with the bare
//    node:http server answering that tree's bytes (bench/lib/versus-bare.ts); trees alternate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedWeekReader } from './lib/api.js';
import { ROOT, startEngine } from './lib/proc.js';
import { int, ms, ratio, type Table } from './lib/report.js';
import { LOAD_NOTE, loadVersusBare, type LoadResult } from './lib/versus-bare.js';

const ROUNDS = 2;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' / ');

async function once(tree: string): Promise<{ ours: LoadResult; bare: LoadResult; loadAfter: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slots-ab-'));
  const server = await startEngine({ tree, env: { DATA_DIR: path.join(dir, 'data') }, timeoutMs: 120_000 });
  try {
    const { url, readerKey } = await seedWeekReader(server.url, 'ab');
    const { ours, bare } = await loadVersusBare(url, readerKey);
    return { ours, bare, loadAfter: loadavg() };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function slotsBeforeAfterBench(log: (s: string) => void, before: string): Promise<{ table: Table; raw: unknown }> {
  const runs: { tree: string; ours: LoadResult; bare: LoadResult; loadAfter: string }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const tree of [before, ROOT]) {
      log(`  slots before/after: round ${round + 1}/${ROUNDS}, ${tree === ROOT ? 'this tree' : 'before'}`);
      runs.push({ tree: tree === ROOT ? 'this tree' : 'before', ...(await once(tree)) });
    }
  }
  return {
    table: {
      title: '9. GET /v1/slots before vs after in one run (embedded DB, fresh DATA_DIR, 64 connections)',
      columns: ['tree', 'req/s', 'p99 ms', '2xx / non-2xx / errors', 'bare req/s (alternating)', 'ours / bare', 'load 1 / 5 / 15 min after'],
      rows: runs.map((r) => [r.tree, int(r.ours.reqPerSec), ms(r.ours.p99), `${int(r.ours.ok)} / ${int(r.ours.non2xx)} / ${int(r.ours.errors)}`,
        int(r.bare.reqPerSec), ratio(r.ours.reqPerSec / r.bare.reqPerSec), r.loadAfter]),
      notes: [
        `"before" is the checkout in BENCH_BEFORE_TREE (${before}); each tree runs its own \`npm start\` command line (without npm) on a DATA_DIR that does not exist yet, one provider (Berlin, Mon-Fri 09:00-17:00, 7 days), one client key, no If-None-Match: every answer a full 200 from the slot cache after the first.`,
        `The bare server answers the exact bytes of that tree's slot response. ${LOAD_NOTE}`,
      ],
    },
    raw: runs,
  };
}
