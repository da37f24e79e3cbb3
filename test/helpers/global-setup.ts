import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openEmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { prepareTemplateDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedTemplatePath: string;
    postgresTemplate: string | null;
  }
}

/**
 * Creating and migrating a PGlite takes seconds; do it once per run and let
 * every test file load a copy of the migrated data directory. On PostgreSQL
 * (TEST_DATABASE_URL), migrate a template database that test files clone.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const db = await openEmbeddedDatabase({ dataDir: 'memory' });
  await migrate(db);
  const dir = join(tmpdir(), `booking-engine-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'migrated.tar.gz');
  const blob = await db.dumpDataDir();
  writeFileSync(path, Buffer.from(await blob.arrayBuffer()));
  await db.close();
  project.provide('embeddedTemplatePath', path);
  project.provide('postgresTemplate', process.env.TEST_DATABASE_URL ? await prepareTemplateDatabase(process.env.TEST_DATABASE_URL) : null);
  return () => rmSync(dir, { recursive: true, force: true });
}
