// `mmsim demo`: the 2019 thread's question told on the built-in 4-node machine — what it is,
// each design explored and timed, the kernel's BUG line for the race, what follows and what to
// run next; `--full` prints the whole boot (dmesg and zoneinfo) as well.
import type { Command } from 'commander';
import { archFor } from '../../arch/index.js';
import { demoMachineSpec } from '../../designs/builtin_scenarios.js';
import { freeAreaInit } from '../../kernel/mm_init.js';
import { profileForOption } from '../../profiles/profile.js';
import { printBoot } from '../../formats/boot-print.js';
import { makeDirs } from '../../formats/sysfs-export.js';
import { InputError } from '../../errors.js';
import type { ExploreResult } from '../../drivers/explore.js';
import type { TimeResult } from '../../drivers/time.js';
import type { CompareRow } from '../explore.js';

/** The designs the demo compares, in the order of the thread's story. */
export const DEMO_DESIGNS = ['v4.19', 'v5.3', 'serialize', 'seqlock-after-unlock', 'seqlock-whole', 'seqlock-per-pageblock', 'no-shrink', '6.1', 'current'] as const;

export function runDemo(kernel: string): string {
  const spec = demoMachineSpec();
  const profile = profileForOption(kernel);
  const state = freeAreaInit(archFor(spec, profile), profile, spec);
  return printBoot(state, ['dmesg', 'zoneinfo'], { explain: false, sources: ['built-in demo machine'] });
}

const GiB = 2 ** 30;
const size = (bytes: number): string => (bytes >= 1024 * GiB && bytes % (1024 * GiB) === 0 ? `${bytes / (1024 * GiB)} TiB` : `${Math.round(bytes / GiB)} GiB`);
const hex = (n: number): string => `0x${n.toString(16).padStart(16, '0')}`;

/** The machine in a few lines: totals, then the kernel's own boot lines for the memory layout. */
export function demoMachineLines(kernel: string): string[] {
  const spec = demoMachineSpec();
  const dmesg = runDemo(kernel).split('\n');
  const nodes = new Set(spec.memory.map((m) => m.nid));
  const dram = spec.memory.reduce((a, m) => a + m.size, 0);
  const pmem = spec.pmem.reduce((a, p) => a + p.size, 0);
  const cpus = spec.nodes.reduce((a, n) => a + n.cpus, 0);
  // The layout as the kernel prints it at boot: the "Early memory node ranges" block.
  const at = dmesg.indexOf('Early memory node ranges');
  const ranges = at < 0 ? [] : dmesg.slice(at + 1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('  node ')));
  return [
    `The machine (the thread's kind of system, Linux ${kernel} profile): ${nodes.size} NUMA nodes, ${cpus} CPUs, ${size(dram)} of DRAM and`,
    `${spec.pmem.length} x ${size(spec.pmem[0]?.size ?? 0)} of persistent memory (${size(pmem)}), one region per node. Its RAM as the kernel prints it at boot:`,
    ...ranges.map((l) => `  ${l.trim()}`),
    ...spec.pmem.map((p, i) => `  pmem${i}: [mem ${hex(p.base)}-${hex(p.base + p.size - 1)}] node ${p.nid}, ZONE_DEVICE once a namespace maps it`),
  ];
}

/** `text` as lines of at most 118 characters, the first indented by two, the rest by `indent`. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '  ';
  for (const word of text.split(' ')) {
    if (line.trim() && line.length + 1 + word.length > 118) {
      lines.push(line);
      line = indent;
    }
    line += line.trim() ? ` ${word}` : word;
  }
  return [...lines, line];
}

/** A progress line on stderr while a design is explored and timed (a terminal only). */
function progress(text: string | null): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(text === null ? '\r\x1b[K' : `\r\x1b[K${text}`);
}

export function demoCommand(program: Command, out: (s: string) => void): void {
  program
    .command('demo')
    .description(
      "The 2019 thread's question on the built-in 4-node machine with persistent memory: each design explored (is the race there?) and timed (how long does boot-time init take?), in about 50 lines; --full adds the boot's dmesg and zoneinfo.",
    )
    .option('--kernel <release>', 'kernel profile of the machine shown', '6.18')
    .option('--out <dir>', 'where the timeline SVGs go', 'mmsim-demo')
    .option('--full', "also print the machine's whole boot: the kernel's dmesg lines and /proc/zoneinfo")
    .action(async (opts: { kernel: string; out: string; full?: boolean }) => {
      // The SVGs' directory first: a run of minutes must not end in an error about it.
      try {
        makeDirs(opts.out);
      } catch (e) {
        throw new InputError(`--out ${opts.out}: cannot make the directory (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a writable directory`);
      }
      if (opts.full) out(runDemo(opts.kernel) + '\n');
      out(
        [
          'mmsim demo: the question of "[PATCH v3 01/11] mm/memremap: Get rid of memmap_init_zone_device()" (linux-mm, August 2019).',
          '  Hildenbrand: initialise ZONE_DEVICE struct pages under mem_hotplug_lock, or a namespace removed meanwhile shrinks the',
          '  zone by reading struct pages not yet written, and the zone may no longer span the memory just added.',
          '  Duyck: under the lock the nodes go one after another: 2 to 4 minutes where it now takes about 30 seconds.',
          'Nobody could measure either. mmsim runs a model of the kernel code of each design and answers both.',
          '',
          ...demoMachineLines(opts.kernel),
          '',
          'For each design (progress on stderr):',
          '  verdict        mmsim explore seed-2019: namespace A is set up (memremap_pages) while namespace B is destroyed',
          "                 (memunmap_pages); every interleaving that can differ (DPOR) is run against the kernel's own checks",
          '                 (VM_BUG_ON_PAGE, might_sleep) and reads of uninitialised struct pages. ok = no interleaving breaks one.',
          '  interleavings  how many the search ran to prove it.',
          "  time           simulated, not measured here: wall time to initialise the 4 nodes' persistent memory at boot",
          "                 (mmsim time seed-2019: 4 x 3 TiB, 28 CPUs a node, calibrated on the thread's 24 s a node).",
          '  broken         each invariant broken, with the number of steps in its shortest trace.',
          '',
        ].join('\n') + '\n',
      );
      const { compareRows, compareTable } = await import('../explore.js');
      const results = new Map<string, ExploreResult>();
      const timelines = new Map<string, TimeResult>();
      const rows = await compareRows('seed-2019', DEMO_DESIGNS, { reduce: 'dpor', config: 'debug_vm' }, 'seed-2019', (d, i, r, t) => {
        if (r) results.set(d, r);
        if (t) timelines.set(d, t);
        progress(r ? `  ${d}: explored, timing...` : `  ${d} (${i + 1} of ${DEMO_DESIGNS.length}): exploring...`);
      });
      progress(null);
      out(compareTable(rows).replace('invariants broken (shortest steps)', 'broken (steps)'));
      const race = results.get('v5.3')?.violations.find((v) => v.invariant === 'zone_spans_pfn');
      if (race) {
        out(`\nThe v5.3 race as the kernel reports it, after ${race.schedule.length} steps (mmsim explore seed-2019 --design v5.3 prints them):\n  ${race.message}\n`);
      }
      const safe = rows.filter((r) => r.verdict === 'ok');
      const unsafe = rows.filter((r) => r.verdict !== 'ok');
      // Times as printed (one decimal), so that designs the table shows equal are grouped.
      const shown = (r: CompareRow): number => Number((r.timeSeconds ?? 0).toFixed(1));
      const fastest = Math.min(...safe.map(shown));
      const groups = [...new Set(safe.map(shown))].sort((a, b) => a - b);
      const costs = groups.map(
        (t) =>
          `${safe
            .filter((r) => shown(r) === t)
            .map((r) => r.design)
            .join(', ')} in ${t.toFixed(1)} s${t > fastest ? ` (${(t / fastest).toFixed(1)}x)` : ''}`,
      );
      const why = unsafe.map((r) => `${r.design} (${r.invariants.replace(/ \(\d+(, single task)?\)/g, '').replace(/poisoned struct page read \([^)]*\)/g, 'poisoned read')})`);
      out(
        [
          '',
          'So:',
          ...wrap(`safe: ${costs.join('; ') || 'none'}.`, '          '),
          ...wrap(`unsafe: ${why.join(', ') || 'none'}.`, '          '),
          "  no-shrink is 5.5's answer: memunmap_pages no longer shrinks ZONE_DEVICE spans, so the init can stay outside the lock.",
          // Recorded runs of `mmsim verify --race seed-2019` (docs/fidelity.md's race table), not run here.
          ...wrap(
            'confirmed on real kernels under QEMU (mmsim verify --race seed-2019, docs/fidelity.md): Linux 5.3 hits this BUG within 3 s of looping; 4.19.1 and 6.1 with DEBUG_VM ran 49-78 cycles without a BUG, as the model predicts there (a poisoned read is silent without DEBUG_VM_PGFLAGS).',
            '  ',
          ),
          '',
          'Next:',
          '  mmsim explore seed-2019 --design v5.3    the race step by step, with the locks each task holds',
          '  mmsim serve                               the lab in a browser: memory map, playback, traces, timelines',
          '  docs/designs.md                           each design, the kernel source it follows, why each row reads as it does',
        ].join('\n') + '\n',
      );
      // The timelines the table's time column came from: each design is timed once.
      const { timelineSvg } = await import('../../drivers/time.js');
      const { writeFileSync } = await import('node:fs');
      const timed = ['v4.19', 'v5.3', 'serialize'].flatMap((d) => timelines.get(d) ?? []);
      for (const r of timed) writeFileSync(`${opts.out}/seed-2019-${r.design}.svg`, timelineSvg([r]));
      writeFileSync(`${opts.out}/seed-2019-compare.svg`, timelineSvg(timed));
      out(`  timelines (SVG): ${timed.map((r) => `${opts.out}/seed-2019-${r.design}.svg`).join(', ')}, ${opts.out}/seed-2019-compare.svg\n`);
    });
}
