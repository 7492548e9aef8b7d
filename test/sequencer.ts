// The order test files start in: the slowest first (longest-processing-time first), so that no
// long file starts last and runs alone at the end while the other workers sit idle. vitest's own
// order (its cached durations, else the larger file first) decides among the rest; on a fresh
// clone it has no durations, and by size the README and explore_jobs tests started last. The
// list is the slowest files of `time npm test` on 2026-12-06 (docs/performance.md), slowest first.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOWEST = ['explore_seed', 'readme', 'explore_jobs', 'fuzz', 'sweep', 'cli_outputs', 'lab', 'explore_cli', 'time', 'lab_server', 'hotplug_props'];

const rank = (s: TestSpecification): number => {
  const name = /([^/]+)\.test\.ts$/.exec(s.moduleId)?.[1] ?? '';
  const i = SLOWEST.indexOf(name);
  return i < 0 ? SLOWEST.length : i;
};

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Array.prototype.sort is stable: files outside the list keep vitest's order after the list.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
