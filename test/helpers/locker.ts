import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from './server.js';

/**
 * For a describe block on PostgreSQL: the real app, and a second connection to
 * its database that holds locks (or half-done changes) while a request runs.
 * Registers the hooks; read the two after beforeAll.
 */
export function serverWithLocker(): { readonly server: TestServer; readonly locker: pg.Client } {
  const it = {} as { server: TestServer; locker: pg.Client };
  beforeAll(async () => {
    it.server = await startTestServer();
    it.locker = new pg.Client({ connectionString: it.server.databaseUrl! });
    await it.locker.connect();
  });
  afterAll(async () => {
    await it.locker?.end();
    await it.server?.close();
  });
  return it;
}
