import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: on this 2-core machine vitest's default is one, and the suite (browsers, spawned
    // servers, PostgreSQL) waits on I/O for much of its time, so the second core halves nothing but gains a lot.
    maxWorkers: 2,
  },
});
