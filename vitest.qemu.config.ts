import { defineConfig } from 'vitest/config';

// npm run test:qemu: the scenarios on a real kernel under QEMU (after `mmsim verify --setup`).
export default defineConfig({
  test: {
    include: ['test/qemu/**/*.test.ts'],
    testTimeout: 300_000,
    maxConcurrency: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
