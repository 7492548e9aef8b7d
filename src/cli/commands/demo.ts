// `mmsim demo`: the built-in example machine, booted and printed.
import type { Command } from 'commander';
import { archFor } from '../../arch/index.js';
import { demoMachineSpec } from '../../designs/builtin_scenarios.js';
import { freeAreaInit } from '../../kernel/mm_init.js';
import { profileForOption } from '../../profiles/profile.js';
import { printBoot } from '../../formats/boot-print.js';
import { makeDirs } from '../../formats/sysfs-export.js';
import { InputError } from '../../errors.js';

export function runDemo(kernel: string): string {
  const spec = demoMachineSpec();
  const profile = profileForOption(kernel);
  const state = freeAreaInit(archFor(spec, profile), profile, spec);
  return printBoot(state, ['dmesg', 'zoneinfo'], { explain: false, sources: ['built-in demo machine'] });
}

export function demoCommand(program: Command, out: (s: string) => void): void {
  program
    .command('demo')
    .description("Boot the built-in 4-node machine with persistent memory and print its dmesg lines and zoneinfo; then the 2019 thread's race (seed-2019) explored under each design.")
    .option('--kernel <release>', 'kernel profile (default 6.18)', '6.18')
    .option('--out <dir>', 'where the timeline SVGs go', 'mmsim-demo')
    .action(async (opts: { kernel: string; out: string }) => {
      // The SVGs' directory first: a run of minutes must not end in an error about it.
      try {
        makeDirs(opts.out);
      } catch (e) {
        throw new InputError(`--out ${opts.out}: cannot make the directory (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a writable directory`);
      }
      out(runDemo(opts.kernel));
      const { compareRows, compareTable } = await import('../explore.js');
      const rows = await compareRows(
        'seed-2019',
        ['v4.19', 'v5.3', 'serialize', 'seqlock-after-unlock', 'seqlock-whole', 'seqlock-per-pageblock', 'no-shrink', '6.1', 'current'],
        { reduce: 'dpor', config: 'debug_vm' },
        'seed-2019',
      );
      out(
        `\nThe seed thread's question, per design: is it safe (mmsim explore seed-2019: namespace A memremapped while B is\ndestroyed, every interleaving), and how long does the 4-node system (4 x 3 TB pmem) take (mmsim time seed-2019)?\n${compareTable(rows)}`,
      );
      const { timeFor } = await import('../time.js');
      const { timelineSvg } = await import('../../drivers/time.js');
      const { writeFileSync } = await import('node:fs');
      const results = [];
      for (const d of ['v4.19', 'v5.3', 'serialize']) results.push(await timeFor('seed-2019', d, {}));
      for (const r of results) writeFileSync(`${opts.out}/seed-2019-${r.design}.svg`, timelineSvg([r]));
      writeFileSync(`${opts.out}/seed-2019-compare.svg`, timelineSvg(results));
      out(`timelines: ${results.map((r) => `${opts.out}/seed-2019-${r.design}.svg`).join(', ')}, ${opts.out}/seed-2019-compare.svg\n`);
    });
}
