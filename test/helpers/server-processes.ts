/**
 * Real server processes (`node --import tsx src/main.ts`) for the tests that
 * need more than one process on one PostgreSQL database: start on a free
 * loopback port, wait for /health, stop with SIGTERM then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { createTestDatabase } from './postgres.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROCESS_ADMIN_KEY = 'two-processes-admin-key-0123456789';
const STARTUP_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  baseUrl: string;
  output: string[];
  exited: Promise<number | null>;
}

/** A port the OS says is free right now on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `extraEnv` adds to (or overrides) the environment below, e.g. REDIS_URL. */
export function spawnServer(name: string, databaseUrl: string, port: number, extraEnv: Record<string, string> = {}): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TZ: process.env.TZ ?? 'UTC',
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '20',
      ADMIN_API_KEY: PROCESS_ADMIN_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.splice(0, output.length - 200); // bounded
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
  });
  return { name, child, baseUrl: `http://127.0.0.1:${port}`, output, exited };
}

export async function waitForHealth(p: ServerProcess): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exitCode: number | null | undefined;
  void p.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`${p.name} exited with ${exitCode} before it was healthy:\n${p.output.join('')}`);
    }
    try {
      const res = await fetch(`${p.baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p.name} was not healthy within ${STARTUP_TIMEOUT_MS} ms:\n${p.output.join('')}`);
}

/** SIGTERM, then SIGKILL if it has not exited in time. Never throws. */
export async function stopServer(p: ServerProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
  if ((await Promise.race([p.exited, timeout])) === 'timeout') {
    p.child.kill('SIGKILL');
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }
}

/** Plain SQL for a test's checks, through a pg client or pool. */
export function sqlThrough(client: pg.Client | pg.Pool) {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const r = await client.query(text, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  };
}

export interface ServersOnOneDatabase {
  servers: ServerProcess[];
  /** The servers' database, for a test that needs a connection of its own (a lock held across requests). */
  databaseUrl: string;
  sql: { query<T>(text: string, params?: readonly unknown[]): Promise<{ rows: T[]; rowCount: number }> };
  stop(): Promise<void>;
}

/** Two processes on a database cloned from the run's PostgreSQL template (TEST_DATABASE_URL; see global-setup.ts). */
export function startTwoServersOnOneDatabase(extraEnv: Record<string, string> = {}): Promise<ServersOnOneDatabase> {
  return startServersOnOneDatabase(2, extraEnv);
}

/**
 * A fresh database cloned from the migrated template, `count` server processes
 * on it (server A, B, C, ...), and a connection of the test's own for checks
 * in SQL. `stop()` always cleans up; a vitest worker that dies does not leave
 * servers behind either.
 */
export async function startServersOnOneDatabase(count: number, extraEnv: Record<string, string> = {}): Promise<ServersOnOneDatabase> {
  const servers: ServerProcess[] = [];
  const killAll = () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  };
  const postgresServerUrl = inject('postgresTemplate');
  if (!postgresServerUrl) throw new Error('TEST_DATABASE_URL is set but no PostgreSQL template was prepared');
  process.once('exit', killAll);
  const database = await createTestDatabase(postgresServerUrl);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const stop = async () => {
    await Promise.all(servers.map(stopServer));
    process.removeListener('exit', killAll);
    await client.end().catch(() => {});
    await database.drop();
  };
  try {
    const ports: number[] = [];
    while (ports.length < count) {
      let port = await freePort();
      for (let i = 0; i < 10 && ports.includes(port); i++) port = await freePort();
      ports.push(port);
    }
    for (const [i, port] of ports.entries()) servers.push(spawnServer(`server ${String.fromCharCode(65 + i)}`, database.url, port, extraEnv));
    await Promise.all(servers.map(waitForHealth));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    servers,
    databaseUrl: database.url,
    sql: sqlThrough(client),
    stop,
  };
}
