// `mmsim boot`: boot a machine and print its memory layout in the kernel's own formats.
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { boot, loadMachine } from '../../drivers/run.js';
import { printBoot, PRINT_FORMATS, type PrintFormat } from '../../formats/boot-print.js';
import { ZONEINFO_LAYOUTS } from '../../formats/zoneinfo-layouts.js';
import { collect, machineSource } from './common.js';

/** Wraps words into lines of at most `width` characters, each indented by `indent`. */
function wrap(words: readonly string[], width: number, indent: string): string[] {
  const lines: string[] = [];
  let cur = indent;
  for (const w of words) {
    if (cur.length + w.length + 1 > width && cur.trim()) {
      lines.push(cur.trimEnd());
      cur = indent;
    }
    cur += `${w} `;
  }
  if (cur.trim()) lines.push(cur.trimEnd());
  return lines;
}

/** What --print zoneinfo models, and every counter it prints as 0, from the layouts. */
function zoneinfoHelp(): string {
  const modelled = new Set(['spanned', 'present', 'managed']);
  const names = new Set<string>(['pages free']);
  for (const l of Object.values(ZONEINFO_LAYOUTS)) {
    for (const n of [...l.zoneFields, ...l.nodeStats, ...l.zoneStats, ...l.numaStats]) if (!modelled.has(n)) names.add(n);
    for (const n of l.pagesetFields) names.add(`pageset ${n}`);
  }
  names.add('vm stats threshold');
  names.add('node_unreclaimable');
  return [
    '',
    'zoneinfo (layouts of v5.3, 6.1 and 6.18; other kernels use the nearest older one):',
    '  modelled: spanned, present, start_pfn, the protection shape; managed and the protection',
    "  values from boot's memblock model (x86_64, where the kernel image is known: a measured build,",
    '  a log\'s "Memory:" line or YAML "image:") or the machine\'s memblock.reserved (YAML "reserved:"),',
    '  else 0 (mmsim run adds the pages hotplug onlined since to every zone whose boot share is known',
    '  or empty).',
    '  not modelled, printed as 0:',
    ...wrap(
      [...names].map((n, i, all) => (i < all.length - 1 ? `${n},` : `${n}.`)),
      100,
      '    ',
    ),
  ].join('\n');
}

export function bootCommand(program: Command, out: (s: string) => void): void {
  program
    .command('boot')
    .description("Boot a machine and print its memory layout in the kernel's own formats.")
    .argument('[machine]', 'a YAML machine file')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine (dmesg, else /sys/firmware/memmap and /sys/devices/system/node)')
    .option('--kernel <release>', 'kernel profile: a full release (5.19.0-0.deb11.2-amd64) or a short form (6.1)')
    .addOption(new Option('--print <format>', `what to print (repeatable): ${PRINT_FORMATS.join(', ')}`).argParser(collect).default([] as string[]))
    .option('--explain', 'say which lines were left out and why, and which profile rules applied')
    .addHelpText('after', zoneinfoHelp())
    .action((machine: string | undefined, opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string; print: string[]; explain?: boolean }) => {
      const formats = opts.print.length ? opts.print : ['dmesg'];
      for (const f of formats) {
        if (!(PRINT_FORMATS as readonly string[]).includes(f)) {
          throw new InputError(`--print ${f}: expected one of ${PRINT_FORMATS.join(', ')}`);
        }
      }
      const loaded = loadMachine(machineSource(machine, opts));
      const state = boot(loaded);
      out(printBoot(state, formats as PrintFormat[], { explain: opts.explain === true, sources: loaded.sources }));
    });
}
