import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/open.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // The database opens (the snapshot unpacked on libuv's threads, PostgreSQL's WebAssembly compiled
  // on V8's) while the rest of the app's modules load: the two overlap instead of adding up.
  const [db, { createServer }, { DEMO_SLUG, seedDemo }, { findEventTypeBySlug }] = await Promise.all([
    openDatabase(config), import('./server.js'), import('./features/demo/seed.js'), import('./db/event-types-repo.js'),
  ]);
  const server = await createServer(config, { db }).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  // A fresh database (no provider, no event type ever) gets the demo's provider and public type.
  await seedDemo(server.ctx, { onlyIfEmpty: true });
  await server.app.listen({ port: config.port, host: config.host });
  server.app.log.info(
    `booking engine on ${config.databaseUrl ? 'PostgreSQL' : `embedded database (${config.dataDir})`}; docs at http://${config.host}:${config.port}/docs`,
  );
  if (await findEventTypeBySlug(server.ctx.db, DEMO_SLUG)) {
    server.app.log.info(`booking page of the demo: ${config.publicBaseUrl}/book/${DEMO_SLUG}`);
  }
  // SIGTERM: stop accepting, let in-flight requests finish, close the database, exit.
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      server.close().then(() => db.close()).then(
        () => process.exit(0),
        (error) => {
          console.error(error);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error) => {
  // A setting that only the database can judge (ENCRYPTION_KEY once calendars are stored) fails here.
  if (error instanceof ConfigError) {
    console.error(`Invalid configuration: ${error.message}`);
    process.exit(2);
  }
  console.error('Failed to start:', error);
  process.exit(1);
});
