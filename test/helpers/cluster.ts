/**
 * N real server processes on one fresh PostgreSQL database (cloned from the
 * migrated template), with the environment a fault test needs (REDIS_URL,
 * limits off, loopback webhooks), plus the controls the faults are made of:
 * kill one with SIGKILL, start it again on its port, stop them all.
 *
 * Spawning, readiness, stopping and ports come from server-processes.ts; what
 * this adds is N processes, kill/restart in a slot, and a pool of the test's
 * own that survives the database going away (a single pg.Client would be dead
 * after a restart).
 */
import pg from 'pg';
import { createTestDatabase } from './postgres.js';
import { freePort, PROCESS_ADMIN_KEY, spawnServer, sqlThrough, stopServer, waitForHealth, type ServerProcess } from './server-processes.js';

export const CLUSTER_ADMIN_KEY = PROCESS_ADMIN_KEY;

export interface ClusterSql {
  query<T>(text: string, params?: readonly unknown[]): Promise<{ rows: T[]; rowCount: number }>;
}

export interface Cluster {
  /** Index i is always "process i"; a killed one keeps its slot (and its port) until restarted. */
  servers: ServerProcess[];
  databaseUrl: string;
  sql: ClusterSql;
  /** SIGKILL: no graceful shutdown, in-flight requests are cut. Resolves once the process is gone. */
  kill(index: number): Promise<void>;
  /** A new process in slot `index` on the same port and environment; resolves when it is healthy. */
  restart(index: number): Promise<ServerProcess>;
  isAlive(index: number): boolean;
  stop(): Promise<void>;
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < n && tries < 50; tries++) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  if (ports.length < n) throw new Error(`could not find ${n} free loopback ports`);
  return ports;
}

export async function startCluster(options: {
  postgresServerUrl: string;
  size: number;
  /** Added to every process's environment (see spawnServer for the base). */
  env?: Record<string, string>;
  names?: string[];
  /**
   * Start process 0 alone first, then the rest: with Redis, process 0 then
   * takes the change feed's leader lease (SET NX at start), so a test knows
   * which process to kill to kill the leader.
   */
  firstAlone?: boolean;
}): Promise<Cluster> {
  const database = await createTestDatabase(options.postgresServerUrl);
  const env = { DATABASE_POOL_SIZE: '10', ...options.env };
  const pool = new pg.Pool({ connectionString: database.url, max: 3, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => {}); // the database is stopped on purpose in some tests
  const ports = await distinctPorts(options.size);
  const names = ports.map((_, i) => options.names?.[i] ?? `process ${String.fromCharCode(65 + i)}`);
  const launch = (i: number) => spawnServer(names[i]!, database.url, ports[i]!, env);
  const servers: ServerProcess[] = [];
  const killAll = () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const isAlive = (i: number) => {
    const s = servers[i];
    return !!s && s.child.exitCode === null && s.child.signalCode === null;
  };
  const stop = async () => {
    await Promise.all(servers.map(stopServer));
    process.removeListener('exit', killAll);
    await pool.end().catch(() => {});
    await database.drop().catch(() => {});
  };
  try {
    for (let i = 0; i < ports.length; i++) {
      servers.push(launch(i));
      if (i === 0 && options.firstAlone) await waitForHealth(servers[0]!);
    }
    await Promise.all(servers.map(waitForHealth));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    servers,
    databaseUrl: database.url,
    sql: sqlThrough(pool),
    isAlive,
    async kill(i) {
      const s = servers[i]!;
      if (!isAlive(i)) return;
      s.child.kill('SIGKILL');
      await s.exited;
    },
    async restart(i) {
      if (isAlive(i)) throw new Error(`${servers[i]!.name} is still running`);
      const fresh = launch(i);
      servers[i] = fresh;
      await waitForHealth(fresh);
      return fresh;
    },
    stop,
  };
}
