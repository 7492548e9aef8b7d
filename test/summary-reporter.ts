// Prints the plain closing line "N passed, N failed, N skipped" after a vitest run, so that a
// reader (or CI) that does not know vitest's own summary still sees the count, and before it the
// full name of each test skipped for a reason, which says why ("... (skipped: no ../shared/data)").
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const reasons: string[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          // A skip for a reason names it (test/helpers.ts unless()); others were left out by a filter (-t).
          if (t.fullName.includes('(skipped: ')) reasons.push(`${m.moduleId.replace(/^.*\/test\//, 'test/')} > ${t.fullName}`);
        }
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\n${reasons.map((l) => `${l}\n`).join('')}${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
