import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { migrate } from '../../src/db/migrate.js';

const TEMPLATE = 'booking_test_template';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Migrates a fresh template database once per run; returns the server URL (maintenance database). */
export async function prepareTemplateDatabase(url: string): Promise<string> {
  await adminQuery(url, `DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await adminQuery(url, `CREATE DATABASE ${TEMPLATE}`);
  const db = await openPostgresDatabase({ url: withDatabase(url, TEMPLATE), poolSize: 1 });
  await migrate(db);
  await db.close();
  return url;
}

/** A new database cloned from the migrated template: each test file gets its own, isolated. */
export async function createTestDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `booking_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(url, `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  return {
    url: withDatabase(url, name),
    drop: () => adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
