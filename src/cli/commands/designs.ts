// `mmsim designs [--diff A B]`: the designs explore compares, and the steps a design may replace.
import type { Command } from 'commander';

export function designsCommand(program: Command, out: (s: string) => void): void {
  program
    .command('designs')
    .description('The designs mmsim explore compares (each a base, changed features and replaced steps), and the steps a design file may replace.')
    .option('--diff <designs...>', 'how two designs (names or files) differ: base, features, steps')
    .option('--steps', 'every step a design file may replace: its signature, the kernel code it models, its locks and yields')
    .action(async (opts: { diff?: string[]; steps?: boolean }) => {
      const { designsCommand: designs } = await import('../explore.js');
      await designs(opts.diff, out, opts.steps === true);
    });
}
