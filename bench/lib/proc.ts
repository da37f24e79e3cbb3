// Child processes (our server, the bare server, engine runs), a small keep-alive HTTP client
// and an RSS sampler. Every child is killed when the bench exits, however it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

const children = new Set<ChildProcess>();
export function killAllChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAllChildren);

/** Runs `node --import tsx <script> ...args`, returns the last stdout line parsed as JSON. */
export function runNodeJson<T>(script: string, args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; });
    child.stderr!.on('data', (d: Buffer) => { err = (err + d).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last) {
        try { resolve(JSON.parse(last) as T); return; } catch { /* fall through */ }
      }
      reject(new Error(`${script} ${args.join(' ')}: exit ${code ?? signal}${signal === 'SIGKILL' ? ` (time limit ${o.timeoutMs} ms)` : ''}: ${err.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Server {
  pid: number;
  url: string;
  stop(): Promise<void>;
  logTail(): string;
}

/** BENCH_CPU_PROF=<dir>: our server processes write V8 CPU profiles there (on exit). */
export const profileArgs = (): string[] => (process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : []);

/**
 * Starts `node --import tsx <script>` listening on 127.0.0.1:<PORT>, waits until `readyPath` answers 200.
 * `argv`: node's arguments in place of `--import tsx <script> ...args` (e.g. those of `npm start`).
 */
export async function startServer(
  script: string,
  o: { env?: NodeJS.ProcessEnv; args?: string[]; readyPath?: string; timeoutMs?: number; nodeArgs?: string[]; cwd?: string; argv?: string[] } = {},
): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, o.argv ?? [...(o.nodeArgs ?? []), '--import', 'tsx', script, ...(o.args ?? [])], {
    cwd: o.cwd ?? ROOT,
    // The per-key rate limit is off: one bench key sends far more than a real client may.
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_PER_MINUTE: '0', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let log = '';
  const keep = (d: Buffer) => { log = (log + d).slice(-8000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { children.delete(child); resolve(); }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before it was ready: ${log.slice(-1500)}`);
    try {
      if ((await request(`${url}${o.readyPath ?? '/health'}`)).status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} not ready after ${o.timeoutMs ?? 60_000} ms: ${log.slice(-1500)}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid!,
    url,
    logTail: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

const agents = new Map<string, http.Agent>();
function agentFor(origin: string, maxSockets: number): http.Agent {
  const key = `${origin}#${maxSockets}`;
  let a = agents.get(key);
  if (!a) agents.set(key, (a = new http.Agent({ keepAlive: true, maxSockets })));
  return a;
}
export function destroyAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

export interface Reply {
  status: number;
  body: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP request over a keep-alive agent (bounded: 30 s). */
export function request(
  url: string,
  o: { method?: string; key?: string; body?: unknown; headers?: Record<string, string>; maxSockets?: number } = {},
): Promise<Reply> {
  const u = new URL(url);
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const headers: Record<string, string> = { ...o.headers };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method: o.method ?? 'GET', headers, agent: agentFor(u.origin, o.maxSockets ?? 64), timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        let json: unknown = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${o.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `request` that insists on a status, for seeding. */
export async function expectStatus(status: number, url: string, o: Parameters<typeof request>[1] = {}): Promise<Reply> {
  const r = await request(url, o);
  if (r.status !== status) throw new Error(`${o.method ?? 'GET'} ${url}: expected ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
  return r;
}

/** Runs `tasks` with at most `concurrency` in flight; results in order. */
export async function pool<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return out;
}

/** Samples VmRSS of a process every `everyMs` (in MB = 10^6 bytes); phases split the peak by what was running. */
export class RssSampler {
  private timer: NodeJS.Timeout;
  private phase = 'start';
  readonly peakMB = new Map<string, number>();
  samples = 0;

  constructor(readonly pid: number, everyMs = 100) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  private read(field: 'VmRSS' | 'VmHWM'): number {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? (Number(m[1]) * 1024) / 1e6 : NaN;
    } catch {
      return NaN; // the process is gone
    }
  }

  private sample(): void {
    const rss = this.read('VmRSS');
    if (!Number.isFinite(rss)) return;
    this.samples++;
    this.peakMB.set(this.phase, Math.max(this.peakMB.get(this.phase) ?? 0, rss));
  }

  mark(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  /** Stops sampling; returns the kernel's high-water mark (VmHWM) as well. */
  stop(): { peaks: Record<string, number>; hwmMB: number; samples: number } {
    this.sample();
    const hwmMB = this.read('VmHWM');
    clearInterval(this.timer);
    return { peaks: Object.fromEntries(this.peakMB), hwmMB, samples: this.samples };
  }
}

export interface StartCommand { script: string; env: Record<string, string>; argv: string[] }

/**
 * `npm start` of a tree as node's argv and env: `[VAR=value ...] node <args>` or `tsx <file>` (the old script).
 * FP_START='<start script>': this tree runs that instead of its package.json's (to try flags).
 */
export function startCommand(tree: string): StartCommand {
  const script = (tree === ROOT && process.env.FP_START) || JSON.parse(readFileSync(path.join(tree, 'package.json'), 'utf8')).scripts.start as string;
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  const [bin, ...args] = words;
  if (bin === 'node' && !args.some((a) => /[&|;<>]/.test(a))) return { script, env, argv: args };
  if (bin === 'tsx' && args.length === 1) return { script, env, argv: ['--import', 'tsx', args[0]!] };
  throw new Error(`bench: cannot run the start script of ${tree} without a shell: ${script}`);
}

/** The node flags `npm start` gives the embedded server for its memory target (package.json; the README says why). */
const MEMORY_FLAGS = /^--(max-semi-space-size|optimize-for-size|max-old-space-size)(=|$)/;

/**
 * The engine of `tree` (ours by default) as users run it, without npm in front: on the embedded database,
 * `npm start`'s command line; on PostgreSQL (`env.DATABASE_URL`), the same without its memory flags, as
 * the container runs it (docs/container.md: `node dist/main.js`, no flags; the same code, built by tsc where
 * .start/ is esbuild's). Those flags keep the embedded server, database included, under 200 MB and cost CPU:
 * table 4's race, two servers with and without them alternated (4 pairs, load 1.3-1.6), 122-144 vs 152-173
 * holds/s, the servers' CPU 1.80-2.17 vs 1.45-1.61 ms per request; a server on PostgreSQL peaks near 110 MB.
 * `nodeArgs` (e.g. profileArgs()) go before the tree's own.
 */
export function startEngine(o: { tree?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<Server> {
  const tree = o.tree ?? ROOT;
  const cmd = startCommand(tree);
  const own = o.env?.DATABASE_URL ? cmd.argv.filter((a) => !MEMORY_FLAGS.test(a)) : cmd.argv;
  const argv = [...(o.nodeArgs ?? []), ...own];
  return startServer(argv.join(' '), { env: { ...cmd.env, ...o.env }, cwd: tree, argv, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
}
