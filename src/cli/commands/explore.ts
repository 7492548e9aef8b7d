// `mmsim explore`: the interleavings of a built-in scenario's concurrent tasks, or --replay of a saved violation.
import type { Command } from 'commander';
import { exploreOptions } from './common.js';
import { InputError } from '../../errors.js';

export function exploreCommand(program: Command, out: (s: string) => void): void {
  exploreOptions(
    program
      .command('explore')
      .description("Explore the interleavings of a built-in scenario's concurrent kernel tasks and print the shortest trace for each invariant it breaks.")
      .argument('[scenario]', 'seed-2019 (namespace A memremapped while B is destroyed), seed-2019-hotplug (the same with hot-added RAM), seed-2019-subsection (A shares a section with System RAM)')
      .option(
        '--design <name|file>',
        "v4.19, v5.3, serialize (the 2019 patch), seqlock-after-unlock, seqlock-whole, seqlock-per-pageblock (readings of the reviewer's suggestion; seqlock is the first's old name), no-shrink (the 5.5 fixes), 6.1, current (6.18), a kernel release, or a design file",
        'v5.3',
      )
      .option('--json', "print the result as JSON (each violation's schedule, for --replay)")
      .option('--replay <file>', 'step through a violation saved from --json (its first, or --invariant)')
      .option('--invariant <name>', 'with --replay: which saved violation')
      .option(
        '--reproducer <dir>',
        "write a reproducer into DIR: README.md, guest.sh (the scenario as guest loops) and, where the trace's preemption point has a known kernel location, a delay patch",
      ),
  ).action(
    async (
      scenario: string | undefined,
      opts: {
        design: string;
        jobs?: string;
        bound?: string;
        runs?: string;
        seed?: string;
        reduce: string;
        config: string;
        walker: string[];
        json?: boolean;
        replay?: string;
        invariant?: string;
        reproducer?: string;
      },
    ) => {
      const { exploreCommand: explore, replayCommand: replay } = await import('../explore.js');
      if (opts.replay !== undefined && opts.reproducer !== undefined) throw new InputError('explore: --reproducer goes with a search, not --replay (run the search the replay file names)');
      if (opts.replay !== undefined) await replay(opts.replay, opts.invariant, out);
      else await explore(scenario, opts, out);
    },
  );
}
