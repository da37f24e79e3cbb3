/** `npm run demo`: makes sure the demo provider and its public type exist (on the configured database) and prints the booking page. */
import { loadConfig } from '../src/config.js';
import { seedDemo } from '../src/features/demo/seed.js';
import { createServer } from '../src/server.js';

const config = loadConfig();
// Warnings only, not silence: on a fresh database without ADMIN_API_KEY this start creates the one
// administrator key there will ever be, and it is shown only in that warning (a later npm start finds the admin).
const server = await createServer(config, { logger: { level: 'warn' } });
try {
  const url = await seedDemo(server.ctx, { onlyIfEmpty: false });
  console.log(`Demo ready. Start the server (npm start) and open: ${url}`);
} finally {
  await server.close();
}
