import type { Config } from '../config.js';
import type { Database } from './database.js';
import { openEmbeddedDatabase } from './embedded.js';
import { migrate } from './migrate.js';
import { openPostgresDatabase } from './postgres.js';

/** DATABASE_URL picks the server; without it, the embedded database in DATA_DIR. Migrations run either way. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolSize'>): Promise<Database> {
  const db = config.databaseUrl
    ? await openPostgresDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize })
    : await openEmbeddedDatabase({ dataDir: config.dataDir });
  await migrate(db);
  return db;
}
