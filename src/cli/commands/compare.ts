// `mmsim compare`: one explore per design over a built-in scenario, one row each.
import type { Command } from 'commander';
import { exploreOptions } from './common.js';

export function compareCommand(program: Command, out: (s: string) => void): void {
  exploreOptions(
    program
      .command('compare')
      .description('One explore per design over a built-in scenario: one row each (verdict, interleavings, invariants broken with their shortest trace).')
      .argument('[scenario]', 'a built-in scenario (see mmsim explore)')
      .option('--designs <list>', 'comma-separated designs (names or files)', 'v4.19,v5.3,serialize,seqlock-after-unlock,seqlock-whole,seqlock-per-pageblock,no-shrink,6.1,current')
      .option('--time <preset>', 'also time each design on a published machine (default: seed-2019, the thread\'s 4-node system; "none" to skip)', 'seed-2019')
      .option('--json', 'print the rows as JSON'),
  ).action(
    async (
      scenario: string | undefined,
      opts: { designs: string; time: string; jobs?: string; bound?: string; runs?: string; seed?: string; reduce: string; config: string; walker: string[]; json?: boolean },
    ) => {
      const { compareRows, compareTable } = await import('../explore.js');
      const rows = await compareRows(scenario, opts.designs.split(',').filter(Boolean), opts, opts.time === 'none' ? null : opts.time);
      out(opts.json ? JSON.stringify(rows, null, 2) + '\n' : compareTable(rows));
    },
  );
}
