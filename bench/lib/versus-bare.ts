// GET load on one of our URLs against a bare node:http server answering the same bytes, in alternating
// slices: the machine's speed drifts by tens of percent within a minute (bare alone measured 28,567,
// 36,264 and 52,957 req/s in three runs a minute apart), so two back-to-back runs of 10 s each gave
// ratios that moved with the drift. Alternating 2-second slices gives both sides the same machine.
import autocannon from 'autocannon';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectStatus, startServer } from './proc.js';

export const CONNECTIONS = 64;
const WARMUP_S = 3;
const SLICES = 5;
const SLICE_S = 2;

export interface LoadResult {
  reqPerSec: number;
  total: number;
  /** Median of the slices' p50. */
  p50: number;
  /** Highest of the slices' p99 (autocannon gives percentiles per run, not histograms to merge). */
  p99: number;
  p97_5: number;
  max: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Measured seconds (the slices' sum). */
  seconds: number;
  /**
   * The server process's CPU time (user + system, from /proc) per answered request, in µs, when its
   * pid is known: unlike req/s, it hardly moves with what else the machine does, and it says how far
   * a server is from the bare one's cost (autocannon shares the cores, so req/s also measures autocannon).
   */
  cpuMicrosPerRequest?: number;
}

type Run = autocannon.Result;

function run(url: string, key: string | undefined, duration: number): Promise<Run> {
  return autocannon({ url, connections: CONNECTIONS, duration, headers: key ? { authorization: `Bearer ${key}` } : {} });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux
/** utime + stime of a process, in µs. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** A slice's run and the server's CPU time over it. */
async function measured(url: string, key: string | undefined, pid: number | undefined): Promise<Run & { cpuMicros?: number }> {
  const before = pid === undefined ? 0 : cpuMicros(pid);
  const r = await run(url, key, SLICE_S);
  return pid === undefined ? r : Object.assign(r, { cpuMicros: cpuMicros(pid) - before });
}

function combine(runs: (Run & { cpuMicros?: number })[]): LoadResult {
  const total = runs.reduce((s, r) => s + r.requests.total, 0);
  const seconds = runs.reduce((s, r) => s + r.duration, 0);
  return {
    reqPerSec: total / seconds,
    total,
    p50: median(runs.map((r) => r.latency.p50)),
    p99: Math.max(...runs.map((r) => r.latency.p99)),
    p97_5: Math.max(...runs.map((r) => r.latency.p97_5)),
    max: Math.max(...runs.map((r) => r.latency.max)),
    ok: runs.reduce((s, r) => s + r['2xx'], 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors + r.timeouts, 0),
    seconds,
    ...(runs.every((r) => r.cpuMicros !== undefined) ? { cpuMicrosPerRequest: runs.reduce((s, r) => s + r.cpuMicros!, 0) / total } : {}),
  };
}

/**
 * `url` (with the key; `pid`: its server, for its CPU time) and a bare node:http child answering that URL's exact body: both warmed up,
 * then SLICES x (ours SLICE_S s, bare SLICE_S s). Loopback only; bounded by the slice count.
 */
export async function loadVersusBare(url: string, key?: string, pid?: number): Promise<{ ours: LoadResult; bare: LoadResult; bodyBytes: number }> {
  const sample = await expectStatus(200, url, key ? { key } : {});
  const bodyFile = path.join(os.tmpdir(), `bench-bare-body-${process.pid}-${Date.now()}.json`);
  writeFileSync(bodyFile, sample.body);
  const bare = await startServer('bench/bare-server.ts', { args: [bodyFile], readyPath: '/' });
  try {
    await run(url, key, WARMUP_S);
    await run(`${bare.url}/`, undefined, 1);
    const ours: Run[] = [];
    const theirs: Run[] = [];
    for (let i = 0; i < SLICES; i++) {
      ours.push(await measured(url, key, pid));
      theirs.push(await measured(`${bare.url}/`, undefined, bare.pid));
    }
    return { ours: combine(ours), bare: combine(theirs), bodyBytes: Buffer.byteLength(sample.body) };
  } finally {
    await bare.stop();
    rmSync(bodyFile, { force: true });
  }
}

export const LOAD_NOTE = `autocannon: ${CONNECTIONS} connections; ours warmed up ${WARMUP_S} s, then ${SLICES} slices of ${SLICE_S} s alternating with the bare server (same body bytes), so both see the same machine; req/s = requests / measured seconds; p50 = median of the slices' p50, p99 = highest slice p99.`;
