/**
 * The live stream across processes: two real server processes on one
 * PostgreSQL database; a WebSocket subscriber on process A sees a change made
 * through process B within a second (each process tails the events outbox).
 * PostgreSQL only (TEST_DATABASE_URL), like two-processes.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';
import { createClients, createProviderWithHours, http, slotsOn, type Http } from './race.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_KEY = 'two-processes-admin-key-0123456789';
const STARTUP_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 10_000;

interface ServerProcess {
  name: string;
  child: ChildProcess;
  baseUrl: string;
  output: string[];
  exited: Promise<number | null>;
}

/** A port the OS says is free right now on loopback. */
async function freePort(): Promise<number> {
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

function spawnServer(name: string, databaseUrl: string, port: number): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TZ: process.env.TZ ?? 'UTC',
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '20',
      ADMIN_API_KEY: ADMIN_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
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

async function waitForHealth(p: ServerProcess): Promise<void> {
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
async function stopServer(p: ServerProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
  if ((await Promise.race([p.exited, timeout])) === 'timeout') {
    p.child.kill('SIGKILL');
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('the live stream across two server processes', () => {
  const servers: ServerProcess[] = [];
  const streams: StreamClient[] = [];
  let database: { url: string; drop(): Promise<void> } | null = null;
  let callers: Http[] = [];
  let client: pg.Client | null = null;
  const sql = { query: async <T>(text: string, params: unknown[]) => ({ rows: (await client!.query(text, params)).rows as T[] }) };
  const killAll = () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  };

  beforeAll(async () => {
    process.once('exit', killAll);
    const pgServer = inject('postgresTemplate');
    if (!pgServer) throw new Error('TEST_DATABASE_URL is set but no PostgreSQL template was prepared');
    database = await createTestDatabase(pgServer);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const portA = await freePort();
    let portB = await freePort();
    for (let i = 0; i < 10 && portB === portA; i++) portB = await freePort();
    servers.push(spawnServer('server A', database.url, portA));
    servers.push(spawnServer('server B', database.url, portB));
    await Promise.all(servers.map(waitForHealth));
    callers = servers.map((s) => http(s.baseUrl, ADMIN_KEY));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all(servers.map(stopServer));
    process.removeListener('exit', killAll);
    await client?.end().catch(() => {});
    await database?.drop();
  }, 60_000);

  it('a subscriber on process A sees a hold made through process B within a second', { timeout: 60_000 }, async () => {
    const provider = await createProviderWithHours(callers[0]!);
    const [customer] = await createClients(callers[0]!, 1);
    const wsBase = servers[0]!.baseUrl.replace(/^http/, 'ws');
    const stream = await openStream(`${wsBase}/v1/stream?apiKey=${encodeURIComponent(customer!.apiKey)}`);
    streams.push(stream);
    stream.send({ type: 'subscribe', providerIds: [provider.id] });
    await stream.next((m) => m.type === 'subscribed');

    const viaB = http(servers[1]!.baseUrl, customer!.apiKey);
    const slots = await slotsOn(viaB, provider.id, upcomingDate(1));
    let last = 0;
    for (const slot of [slots[0]!, slots[8]!, slots[16]!]) {
      const res = await viaB('POST', '/v1/bookings', { providerId: provider.id, start: slot.start, duration: 60 });
      expect(res.status, res.text).toBe(201);
      const change = await stream.next((m) => m.type === 'availability.changed' && m.providerId === provider.id, 1_000);
      const { rows } = await sql.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [provider.id]);
      expect(change.version).toBe(Number(rows[0]!.v)); // the provider's version after this hold
      expect(change.version).toBeGreaterThan(last);
      last = change.version;
    }
    // availability edits through B arrive too
    const edit = await callers[1]!('PUT', `/v1/providers/${provider.id}/schedule`, {
      timeZone: 'Europe/Berlin',
      weekly: [{ day: 'monday', start: '08:00', end: '18:00' }],
    });
    expect(edit.status, edit.text).toBe(200);
    await stream.next((m) => m.type === 'availability.changed' && m.providerId === provider.id, 1_000);
  });
});
