import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/qemu/**', 'test/race/**', 'node_modules/**'],
    testTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
