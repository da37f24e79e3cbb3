/**
 * `npm run demo` (scripts/demo.ts) on a fresh database: an empty embedded
 * DATA_DIR, or under scripts/test-postgres.sh a fresh PostgreSQL database. It
 * prints the booking page's URL (and, with no ADMIN_API_KEY, the generated
 * administrator key), the demo type is then bookable by a guest over HTTP, and
 * a second run succeeds and adds nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { openEmbeddedDatabase } from '../../src/db/embedded.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createServer, type RunningServer } from '../../src/server.js';
import { upcomingDate } from '../helpers/api.js';
import { createTestDatabase } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN_LIMIT_MS = 120_000;
const SLOW = { timeout: 2 * RUN_LIMIT_MS };
/** Settings a developer's shell might carry that would point the demo elsewhere. */
const INHERITED = ['DATABASE_URL', 'DATA_DIR', 'ADMIN_API_KEY', 'PUBLIC_BASE_URL', 'PUBLIC_URL', 'HOST', 'PORT', 'REDIS_URL', 'SMTP_URL'];

/** `npm run demo` as a newcomer types it, with `env` as the storage; killed (its whole process group) after RUN_LIMIT_MS. */
function npmRunDemo(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const base = { ...process.env };
  for (const name of INHERITED) delete base[name];
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { out += d; });
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, RUN_LIMIT_MS);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

const BOOKING_PAGE_LINE = /^Demo ready\. .*open: (\S+)$/m;

describe('npm run demo', () => {
  const storage = inject('postgresTemplate') ? 'postgres' : 'embedded';
  let env: Record<string, string>;
  let openDb: () => Promise<Database>;
  let cleanup: () => Promise<void>;
  let adminKey: string | undefined;
  let firstRows: Record<string, number>;

  /** Rows of every table: a second run must leave every count as it was. */
  async function rowCounts(): Promise<Record<string, number>> {
    const db = await openDb();
    try {
      const { rows: tables } = await db.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
      );
      const counts: Record<string, number> = {};
      for (const { name } of tables) counts[name] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${name}"`)).rows[0]!.n;
      return counts;
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    const pgServer = inject('postgresTemplate');
    if (pgServer) {
      const created = await createTestDatabase(pgServer);
      env = { DATABASE_URL: created.url };
      openDb = () => openPostgresDatabase({ url: created.url, poolSize: 2 });
      cleanup = created.drop;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'demo-test-'));
      env = { DATA_DIR: dir };
      openDb = () => openEmbeddedDatabase({ dataDir: dir });
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  afterAll(async () => cleanup?.());

  it(`first run on a fresh ${storage} database: exit 0, the booking page's URL, and the administrator key it generated`, SLOW, async () => {
    const run = await npmRunDemo(env);
    expect(run.code, run.out).toBe(0);
    expect(BOOKING_PAGE_LINE.exec(run.out)?.[1], run.out).toBe('http://127.0.0.1:3000/book/demo-consultation');
    // Without ADMIN_API_KEY the first start of a database makes the only administrator key there will be: it must be shown.
    adminKey = /"adminApiKey":"([^"]+)"/.exec(run.out)?.[1];
    expect(adminKey, run.out).toBeDefined();
    firstRows = await rowCounts();
    expect(firstRows.event_types).toBe(1);
  });

  it('a second run: exit 0, the same URL, no new key, and not one row more anywhere', SLOW, async () => {
    expect(firstRows).toBeDefined();
    const run = await npmRunDemo(env);
    expect(run.code, run.out).toBe(0);
    expect(BOOKING_PAGE_LINE.exec(run.out)?.[1], run.out).toBe('http://127.0.0.1:3000/book/demo-consultation');
    expect(run.out).not.toContain('adminApiKey');
    expect(await rowCounts()).toEqual(firstRows);
  });

  describe('afterwards, the server on that database', () => {
    let server: RunningServer & { db?: Database };
    let db: Database;
    let base: string;
    beforeAll(async () => {
      db = await openDb();
      const config = loadConfig({ ...env, LOG_LEVEL: 'silent', EXPIRY_SWEEP_SECONDS: '3600' });
      server = await createServer(config, { db, logger: false });
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      const address = server.app.server.address();
      if (typeof address !== 'object' || !address) throw new Error('not listening');
      base = `http://127.0.0.1:${address.port}`;
    });
    afterAll(async () => {
      await server?.close();
      await db?.close();
    });

    it('serves the booking page, and a guest books the demo type over HTTP without a key', async () => {
      const page = await fetch(`${base}/book/demo-consultation`);
      expect(page.status).toBe(200);
      const type = await (await fetch(`${base}/v1/public/event-types/demo-consultation`)).json();
      expect(type).toMatchObject({ slug: 'demo-consultation', public: true });
      const day = upcomingDate(2, 7); // a Tuesday a week or more ahead: inside the 60-day window, past the notice
      const slots = await (await fetch(`${base}/v1/slots?eventTypeId=${type.id}&from=${day}&to=${day}&timeZone=Europe/Berlin`)).json();
      expect(slots.slots.length, JSON.stringify(slots)).toBeGreaterThan(0);
      const held = await fetch(`${base}/v1/bookings`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          eventTypeId: type.id, start: slots.slots[0].start, answers: { topic: 'A first talk' },
          guest: { name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'Europe/Berlin' },
        }),
      });
      const booking = await held.json();
      expect(held.status, JSON.stringify(booking)).toBe(201);
      const confirmed = await fetch(`${base}/v1/bookings/${booking.id}/confirm?token=${booking.manageToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(confirmed.status).toBe(200);
      expect((await confirmed.json()).status).toBe('confirmed');
    });

    it('the administrator key the first run printed works', async () => {
      const me = await fetch(`${base}/v1/users/me`, { headers: { authorization: `Bearer ${adminKey}` } });
      expect(me.status).toBe(200);
      expect((await me.json()).role).toBe('admin');
    });
  });
});
