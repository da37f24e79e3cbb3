import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import type { Clock } from '../../src/features/context.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { openEmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createServer, type RunningServer } from '../../src/server.js';
import { createTestDatabase } from './postgres.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
/** Calendar settings are sealed with it; a test of the missing key passes ENCRYPTION_KEY: ''. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * Google Calendar configured against a closed loopback port: connecting one answers its
 * authorizationUrl with no network (the fuzzer does that). Google tests pass the env() of
 * test/helpers/google-fake.ts; a test of the unconfigured server passes GOOGLE_CLIENT_ID: ''.
 */
const GOOGLE_NOWHERE = {
  GOOGLE_CLIENT_ID: 'test-client.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'test-client-secret',
  GOOGLE_REDIRECT_URI: 'http://127.0.0.1:9/v1/calendars/google/callback',
  GOOGLE_AUTH_URL: 'http://127.0.0.1:9/o/oauth2/v2/auth',
  GOOGLE_TOKEN_URL: 'http://127.0.0.1:9/token',
  GOOGLE_API_ROOT_URL: 'http://127.0.0.1:9/',
};

export interface TestServer extends RunningServer {
  db: Database;
  config: Config;
  /** Which storage this run uses: the same suites run on both. */
  storage: 'embedded' | 'postgres';
  databaseUrl: string | null;
}

/**
 * The real app on a fresh database: embedded (a copy of the migrated template)
 * by default, PostgreSQL when TEST_DATABASE_URL is set. Tests call
 * `server.app.inject()`; `close()` drops everything.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { clock?: Clock } = {},
): Promise<TestServer> {
  // One admin key creates every user of a suite: a rate limit far above any test's pace (limits.test.ts lowers it).
  const config = loadConfig({
    ADMIN_API_KEY: ADMIN_KEY, DATA_DIR: 'memory', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...GOOGLE_NOWHERE, ...env,
  });
  const pgServer = inject('postgresTemplate');
  let db: Database;
  let drop: (() => Promise<void>) | null = null;
  let databaseUrl: string | null = null;
  if (pgServer) {
    const created = await createTestDatabase(pgServer);
    databaseUrl = created.url;
    drop = created.drop;
    db = await openPostgresDatabase({ url: created.url, poolSize: 20 });
  } else {
    const template = readFileSync(inject('embeddedTemplatePath'));
    db = await openEmbeddedDatabase({ dataDir: 'memory', loadDataDir: new Blob([template]) });
  }
  await migrate(db); // a no-op on the migrated template; proves migrations are idempotent
  const server = await createServer(config, { db, logger: false, ...(options.clock ? { clock: options.clock } : {}) });
  return {
    ...server,
    db,
    config,
    storage: pgServer ? 'postgres' : 'embedded',
    databaseUrl,
    async close() {
      await server.close();
      await db.close();
      if (drop) await drop();
    },
  };
}
