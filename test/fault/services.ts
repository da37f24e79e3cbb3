/**
 * The fault suite's own PostgreSQL cluster and Redis, stopped and started
 * through the same scripts that scripts/test-fault.sh used to start them (so
 * only this suite's throwaway services are touched, never the default ones
 * other suites use). Everything comes from the environment that script sets;
 * without it the suite is skipped.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A stop or start that takes longer than this is a failure, not a hang. */
const SCRIPT_TIMEOUT_MS = 90_000;

export interface FaultEnv {
  databaseUrl: string;
  redisUrl: string;
  pgDir: string;
  pgPort: string;
  redisDir: string;
  redisPort: string;
}

/** The suite's environment, or null (skip) when scripts/test-fault.sh did not set it. */
export function faultEnv(env: NodeJS.ProcessEnv = process.env): FaultEnv | null {
  const { FAULT_DATABASE_URL, FAULT_REDIS_URL, FAULT_PGTEST_DIR, FAULT_PGTEST_PORT, FAULT_REDISTEST_DIR, FAULT_REDISTEST_PORT } = env;
  if (!FAULT_DATABASE_URL || !FAULT_REDIS_URL || !FAULT_PGTEST_DIR || !FAULT_PGTEST_PORT || !FAULT_REDISTEST_DIR || !FAULT_REDISTEST_PORT) {
    return null;
  }
  return {
    databaseUrl: FAULT_DATABASE_URL,
    redisUrl: FAULT_REDIS_URL,
    pgDir: FAULT_PGTEST_DIR,
    pgPort: FAULT_PGTEST_PORT,
    redisDir: FAULT_REDISTEST_DIR,
    redisPort: FAULT_REDISTEST_PORT,
  };
}

function runScript(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [`scripts/${script}`],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: SCRIPT_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${script} failed: ${error.message}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

/** `pg_ctl stop -m fast` on the suite's cluster: connections are cut, new ones refused. */
export const stopPostgres = (f: FaultEnv) => runScript('postgres-stop.sh', { PGTEST_DIR: f.pgDir, PGTEST_PORT: f.pgPort });
export const startPostgres = (f: FaultEnv) => runScript('postgres-start.sh', { PGTEST_DIR: f.pgDir, PGTEST_PORT: f.pgPort });
export const stopRedis = (f: FaultEnv) => runScript('redis-stop.sh', { REDISTEST_DIR: f.redisDir, REDISTEST_PORT: f.redisPort });
export const startRedis = (f: FaultEnv) => runScript('redis-start.sh', { REDISTEST_DIR: f.redisDir, REDISTEST_PORT: f.redisPort });

/** One GET on the suite's Redis (redis-cli); null when the key is missing or Redis does not answer. */
export function redisGet(f: FaultEnv, key: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', f.redisPort, '--raw', 'GET', key], { timeout: 5_000 }, (error, stdout) => {
      const value = stdout.trim();
      resolve(error || value === '' ? null : value);
    });
  });
}
