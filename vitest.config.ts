import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on 2 cores (vitest's default there is one): most of a file's time is
    // spent waiting on servers, timers and the database, and every file has its own data dir or cloned
    // database. Measured on 2 cores: the embedded suite 146 s instead of 238-310 s, PostgreSQL 179 s instead of 287 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
