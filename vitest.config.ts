import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/qemu/**', 'test/race/**', 'node_modules/**'],
    testTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // Three test files at a time on 2 CPUs (1.5 per CPU; vitest's default there is one), each
    // worker process running file after file without a fresh process and module load per file
    // (isolate: false); no test file leaves global state behind (spies are restored, no env or
    // cwd changes). Files wait on CLI runner processes, Chromium and Redis; with three the CPUs
    // stayed busy (vmstat: 1% idle) and the run took 4 min 40 s against 5 min 54 s with two
    // (docs/performance.md). At most 8: only 2 CPUs were measured, and each worker holds its
    // own heap, runner process and browser.
    maxWorkers: Math.min(8, Math.max(2, Math.round(availableParallelism() * 1.5))),
    isolate: false,
    // The slowest files start first (test/sequencer.ts).
    sequence: { sequencer: SlowestFirst },
  },
});
