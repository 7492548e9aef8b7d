// `mmsim time`: how long memmap initialisation takes on a published machine under a design.
import type { Command } from 'commander';

export function timeCommand(program: Command, out: (s: string) => void): void {
  program
    .command('time')
    .description(
      'The time driver: how long memmap initialisation takes on a published machine under a design (simulated CPUs, locks, a cost model whose one calibration constant per machine is fitted to one published figure).',
    )
    .argument('[preset]', 'duyck-2018, seed-2019, jordan-2020-skylake, jordan-2020-haswell, tatashin-2017, martins-2022-devdax')
    .option('--preset <name>', 'the published machine (same as the argument)')
    .option('--design <name|file>', 'a design (mmsim designs), a kernel release or a design file', 'current')
    .option('--threads <n>', 'deferred init: padata threads per node')
    .option('--align <size>', 'device-dax alignment (the compound page size), e.g. 2M or 1G')
    .option('--json', 'print {design, preset, total_ms, per_node_ms, lock_wait_ms, phases, ...}')
    .option('--svg <file>', 'write the timeline as an SVG figure')
    .option('--poison', "page_init_poisoning on (CONFIG_DEBUG_VM; 5.3-6.18 unless vm_debug=-, mm/debug.c setup_vm_debug; 4.19 always): memset each added section's memmap")
    .action(async (preset: string | undefined, opts: { preset?: string; design: string; threads?: string; align?: string; json?: boolean; svg?: string; poison?: boolean }) => {
      const { timeCommand: time } = await import('../time.js');
      await time(preset, opts, out);
    });
}
