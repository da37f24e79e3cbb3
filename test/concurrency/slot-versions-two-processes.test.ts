import { describeSlotVersionsAcrossProcesses } from './slot-versions.js';

// Without Redis: each process's feed polls the outbox itself, woken by PostgreSQL's NOTIFY (test/concurrency/slot-versions.ts).
describeSlotVersionsAcrossProcesses('slot versions known in memory, two processes', Boolean(process.env.TEST_DATABASE_URL), () => ({}));
