import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/qemu/**', 'test/race/**', 'node_modules/**'],
    testTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // Two test files at a time on 2 CPUs (the default there is one), each worker process running
    // file after file without a fresh process and module load per file (isolate: false); no test
    // file leaves global state behind (spies are restored, no env or cwd changes).
    maxWorkers: 2,
    isolate: false,
  },
});
