import { randomBytes } from 'node:crypto';
import { describeSlotVersionsAcrossProcesses } from '../concurrency/slot-versions.js';

// With Redis: one leader tails the outbox and publishes, and a process trusts what it knows while the
// leader's heartbeat is fresh (test/concurrency/slot-versions.ts). PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL).
const REDIS_URL = process.env.TEST_REDIS_URL;
const prefix = `test:${randomBytes(4).toString('hex')}:`;
describeSlotVersionsAcrossProcesses(
  'slot versions known in memory, two processes sharing Redis',
  Boolean(REDIS_URL && process.env.TEST_DATABASE_URL),
  () => ({ REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: prefix }),
);
