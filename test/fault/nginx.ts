/**
 * deploy/nginx.conf in front of the suite's processes: the file is used as
 * is, with its `listen` line and its upstream servers rewritten to this
 * run's loopback ports, under a prefix folder of its own. Skipped (null)
 * when nginx is not installed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/server-processes.js';

const CONFIG = fileURLToPath(new URL('../../deploy/nginx.conf', import.meta.url));
const START_TIMEOUT_MS = 10_000;

export function nginxAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('nginx', ['-v'], { timeout: 5_000 }, (error) => resolve(!error)));
}

/** The config with this run's listen port and upstream servers. */
export function renderConfig(listenPort: number, upstreams: string[]): string {
  const config = readFileSync(CONFIG, 'utf8');
  const servers = upstreams.map((u) => `    server ${new URL(u).host} max_fails=1 fail_timeout=5s;`).join('\n');
  const rendered = config
    .replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${listenPort};`)
    .replace(/(upstream booking \{\n)(?:\s*server [^\n]*\n)+/, `$1${servers}\n`);
  if (!rendered.includes(`listen 127.0.0.1:${listenPort};`) || !rendered.includes(servers)) {
    throw new Error('deploy/nginx.conf no longer has the listen line or upstream block this suite rewrites');
  }
  return rendered;
}

export interface Nginx {
  baseUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startNginx(upstreams: string[], dir: string): Promise<Nginx> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(`${dir}/nginx.conf`, renderConfig(port, upstreams));
  const child = spawn('nginx', ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // fast shutdown
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return { baseUrl, child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`nginx did not answer within ${START_TIMEOUT_MS} ms: ${stderr}`);
}
