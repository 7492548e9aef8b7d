import { defineConfig } from 'vitest/config';

// npm run test:race: seed-2019's race on the real kernels of ../shared/kernels under QEMU (TCG),
// against mmsim explore's verdicts (docs/fidelity.md). One guest at a time: the races' timing and
// the no-BUG bounds are measured on an otherwise idle machine as far as the suite goes.
export default defineConfig({
  test: {
    include: ['test/race/**/*.test.ts'],
    testTimeout: 400_000,
    fileParallelism: false,
    maxConcurrency: 1,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
