import { defineConfig } from 'vitest/config';

/** The booking page in a real Chromium (scripts/test-browser.sh): kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
