import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/qemu/**', 'node_modules/**'],
    testTimeout: 60_000,
    // Two files at a time even on 2 CPUs (vitest's default there is one, CPUs - 1): much of the
    // suite waits on the mmsim processes it starts, and the rest fills the second core
    // (docs/performance.md, "npm test in under 5 minutes").
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
