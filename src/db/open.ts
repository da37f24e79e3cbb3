import type { Config } from '../config.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPostgresDatabase } from './postgres.js';

/**
 * DATABASE_URL picks the server; without it, the embedded database in DATA_DIR.
 * Migrations run either way. PGlite is imported only when used: a server-backed
 * process does not carry the WebAssembly engine.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolSize' | 'embeddedSharedBuffersMb' | 'pgPreparedStatements'>): Promise<Database> {
  const db = config.databaseUrl
    ? await openPostgresDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize, preparedStatements: config.pgPreparedStatements })
    : await (await import('./embedded.js')).openEmbeddedDatabase({ dataDir: config.dataDir, sharedBuffersMb: config.embeddedSharedBuffersMb });
  await migrate(db);
  return db;
}
