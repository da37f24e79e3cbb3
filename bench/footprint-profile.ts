// Where the embedded server's memory and start-up time go, step by step, in one process:
//   DATA_DIR=<fresh dir> npx tsx bench/footprint-profile.ts
// Prints after each step: ms since start, VmRSS and VmHWM (/proc/self/status), V8 heap used, external
// memory and ArrayBuffers (process.memoryUsage(); PGlite's WebAssembly memory counts as external), and
// the resident MB of the largest mappings (/proc/self/smaps: the WebAssembly memory is the 128 MB+ one).
import { readFileSync } from 'node:fs';

const t0 = performance.now();
const kb = (field: string, text: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)![1]) / 1024;
function largestMappings(n: number): string {
  const out: [string, number][] = [];
  let header = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) { header = line; continue; }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (!rss) continue;
    const [from, to] = header.split(' ')[0]!.split('-').map((x) => Number.parseInt(x, 16)) as [number, number];
    const name = header.split(/\s+/).slice(5).join(' ').replace(/.*\//, '') || 'anon';
    out.push([`${name}(${((to - from) / 1048576).toFixed(0)} MB virt)`, Number(rss[1]) / 1024]);
  }
  return out.sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ');
}
function step(label: string): void {
  const status = readFileSync('/proc/self/status', 'utf8');
  const m = process.memoryUsage();
  console.log([label.padEnd(20), `${(performance.now() - t0).toFixed(0).padStart(6)} ms`, `rss ${kb('VmRSS', status).toFixed(0)}`,
    `hwm ${kb('VmHWM', status).toFixed(0)}`, `heapUsed ${(m.heapUsed / 1e6).toFixed(0)}`, `external ${(m.external / 1e6).toFixed(0)}`,
    `arrayBuffers ${(m.arrayBuffers / 1e6).toFixed(0)}`, '|', largestMappings(6)].join('  '));
}

step('node + tsx');
const { loadConfig } = await import('../src/config.js');
const { createServer } = await import('../src/server.js');
const { openDatabase } = await import('../src/db/open.js');
const { seedDemo } = await import('../src/features/demo/seed.js');
step('modules imported');
const config = loadConfig();
const db = await openDatabase(config);
step('database open');
const server = await createServer(config, { db });
step('createServer');
await seedDemo(server.ctx, { onlyIfEmpty: true });
step('demo seeded');
await server.app.listen({ port: 0, host: '127.0.0.1' });
step('listening');
await server.close();
await db.close();
process.exit(0);
