import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/qemu/**', 'test/race/**', 'node_modules/**'],
    testTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // Three test files at a time on 2 CPUs (150%: vitest's default there is one), each worker
    // process running file after file without a fresh process and module load per file (isolate:
    // false); no test file leaves global state behind (spies are restored, no env or cwd changes).
    // Files wait on CLI runner processes, Chromium and Redis; with three the CPUs stayed busy
    // (vmstat: 1% idle) and the run took 4 min 40 s against 5 min 54 s with two (docs/performance.md).
    maxWorkers: '150%',
    isolate: false,
    // The slowest files start first (test/sequencer.ts).
    sequence: { sequencer: SlowestFirst },
  },
});
