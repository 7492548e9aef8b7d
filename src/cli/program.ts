// mmsim command line. Every user-facing error is one line on stderr and exit code 2.
import { Command, CommanderError, Option } from 'commander';
import { InputError } from '../errors.js';
import { boot, loadMachine, type BootSource } from '../drivers/run.js';
import { runDemo } from './demo.js';
import { machineJsonSchema } from '../formats/machine-yaml.js';
import { scenarioJsonSchema } from '../formats/scenario.js';
import { bootMachineFile, ExpectFailed, readText, runDriverSysfs, runScenario, runTask } from '../drivers/run.js';
import { ndctl } from '../tools/ndctl.js';
import { daxctl } from '../tools/daxctl.js';
import { RUN_VIEWS, type RunView } from '../formats/scenario.js';
import { machineYamlFromSysfs, sysfsView, writeSysfsTree } from '../formats/sysfs-export.js';
import { lsmem } from '../tools/lsmem.js';
import { chmem } from '../tools/chmem.js';
import { readSysfsMemory } from '../formats/sysfs-memory-read.js';
import { runLsmem } from './lsmem.js';
import { kmemN } from './kmem.js';
import { bootMemmap, parsePfnRange, printPages } from './page.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseKconfig } from '../kernel/kconfig.js';
import { memoryDevInit } from '../kernel/memory_block.js';
import { printBoot, PRINT_FORMATS, type PrintFormat } from '../formats/boot-print.js';
import { profileForOption } from '../profiles/profile.js';
import { ZONEINFO_LAYOUTS } from '../formats/zoneinfo-layouts.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The machine options shared by boot, sysfs export, kmem and lsmem, as loadMachine takes them. */
function machineSource(machine: string | undefined, opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string }): BootSource {
  return {
    ...(machine !== undefined ? { machineFile: machine } : {}),
    ...(opts.fromDmesg !== undefined ? { fromDmesg: opts.fromDmesg } : {}),
    ...(opts.fromLive ? { fromLive: true } : {}),
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
  };
}

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
    '  values when the machine gives memblock.reserved (YAML "reserved:"), else 0.',
    '  not modelled, printed as 0:',
    ...wrap([...names].map((n, i, all) => (i < all.length - 1 ? `${n},` : `${n}.`)), 100, '    '),
  ].join('\n');
}

export function buildProgram(out: (s: string) => void): Command {
  const program = new Command();
  program
    .name('mmsim')
    .description("An executable model of Linux's physical memory model: nodes, zones, sections, memmap, hotplug.")
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) });

  program
    .command('boot')
    .description('Boot a machine and print its memory layout in the kernel\'s own formats.')
    .argument('[machine]', 'a YAML machine file')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine (dmesg, else /sys/firmware/memmap and /sys/devices/system/node)')
    .option('--kernel <release>', 'kernel profile: a full release (5.19.0-0.deb11.2-amd64) or a short form (6.1)')
    .addOption(
      new Option('--print <format>', `what to print (repeatable): ${PRINT_FORMATS.join(', ')}`)
        .argParser(collect)
        .default([] as string[]),
    )
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

  const sysfs = program.command('sysfs').description('/sys/devices/system/memory: write a machine out, or read a tree in.');
  sysfs
    .command('export')
    .description("Write a machine's memory blocks as DIR/sys/devices/system/memory, as the kernel presents them.")
    .argument('[machine]', 'a YAML machine file')
    .argument('[dir]', 'the directory to write (lsmem --sysroot DIR reads it)')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine')
    .option('--kernel <release>', 'kernel profile')
    .action((a: string | undefined, b: string | undefined, opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string }) => {
      // One positional is the directory; two are machine and directory.
      const [machine, dir] = b === undefined ? [undefined, a] : [a, b];
      if (dir === undefined) throw new InputError('sysfs export: give the directory to write');
      const loaded = loadMachine(machineSource(machine, opts));
      const mb = memoryDevInit(boot(loaded));
      try {
        writeSysfsTree(dir, sysfsView(mb));
      } catch (e) {
        throw new InputError(`sysfs export: cannot write ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a writable directory`);
      }
      out(`wrote ${mb.blocks.length} memory blocks to ${dir}/sys/devices/system/memory\n`);
      for (const [id, why] of mb.notes) out(`memory${id}: ${why}; the file is left out\n`);
    });

  sysfs
    .command('import')
    .description('Read DIR/sys/devices/system/memory (a real tree or a dump) into a machine file.')
    .argument('<dir>', 'the root of the tree (as lsmem --sysroot takes it)')
    .addOption(new Option('--arch <arch>', 'the architecture of the system it came from').choices(['x86_64', 'arm64', 'i386', 's390x']).default('x86_64'))
    .option('--kernel <release>', 'the kernel it ran', '6.18')
    .option('-o, --output <file>', 'write the machine here instead of standard output')
    .action((dir: string, opts: { arch: 'x86_64' | 'arm64' | 'i386' | 's390x'; kernel: string; output?: string }) => {
      const yaml = machineYamlFromSysfs(readSysfsMemory(dir), { source: dir, arch: opts.arch, kernel: opts.kernel });
      if (opts.output === undefined) out(yaml);
      else {
        try {
          writeFileSync(opts.output, yaml);
        } catch (e) {
          throw new InputError(`sysfs import: cannot write ${opts.output} (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a writable path`);
        }
      }
    });

  program
    .command('chmem')
    .description("util-linux 2.42's chmem over --sysroot DIR or a model machine: mmsim chmem [MACHINE|SCENARIO] [chmem options]")
    .allowUnknownOption();

  program
    .command('designs')
    .description('The designs mmsim explore compares (each a base, changed features and replaced steps), and the steps a design file may replace.')
    .option('--diff <designs...>', 'how two designs (names or files) differ: base, features, steps')
    .action(async (opts: { diff?: string[] }) => {
      const { designsCommand } = await import('./explore.js');
      await designsCommand(opts.diff, out);
    });

  const exploreOptions = (c: Command): Command =>
    c
      .option('--config <config>', 'the kernel config: debug_vm (CONFIG_DEBUG_VM with page_init_poison, as in the 2019 report), debug_vm_pgflags (also CONFIG_DEBUG_VM_PGFLAGS) or no_debug_vm (a distribution kernel: stale memmap)', 'debug_vm')
      .option('--walker <name>', `add a pfn walker as a concurrent task (repeatable): compaction, kpageflags, memory_failure, set_zone_contiguous, test_pages_in_a_zone`, (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--bound <n>', 'at most this many preemptions per interleaving (default: every interleaving)')
      .option('--runs <n>', 'random mode: this many random schedules (with --seed)')
      .option('--seed <n>', 'the seed of random mode', '1')
      .option('--reduce <how>', 'exhaustive search: dpor (dynamic partial-order reduction with sleep sets), sleep (sleep sets and state hashing) or none', 'dpor');

  exploreOptions(
    program
      .command('explore')
      .description("Explore the interleavings of a built-in scenario's concurrent kernel tasks and print the shortest trace for each invariant it breaks.")
      .argument('[scenario]', 'seed-2019 (namespace A memremapped while B is destroyed), seed-2019-hotplug (the same with hot-added RAM), seed-2019-subsection (A shares a section with System RAM)')
      .option('--design <name|file>', 'v5.3, serialize (the 2019 patch), seqlock (the reviewer\'s suggestion), no-shrink (the 5.5 fixes), 6.1, current (6.18), a kernel release, or a design file', 'v5.3')
      .option('--json', "print the result as JSON (each violation's schedule, for --replay)")
      .option('--replay <file>', 'step through a violation saved from --json (its first, or --invariant)')
      .option('--invariant <name>', 'with --replay: which saved violation'),
  ).action(async (scenario: string | undefined, opts: { design: string; bound?: string; runs?: string; seed?: string; reduce: string; config: string; walker: string[]; json?: boolean; replay?: string; invariant?: string }) => {
    const { exploreCommand, replayCommand } = await import('./explore.js');
    if (opts.replay !== undefined) await replayCommand(opts.replay, opts.invariant, out);
    else await exploreCommand(scenario, opts, out);
  });

  program
    .command('serve')
    .description('The lab in a browser on 127.0.0.1: the physical map, scenario playback, explore counterexamples and timelines.')
    .argument('[scenario]', 'open this first: a built-in scenario (seed-2019, ...) or an example scenario file name')
    .option('--port <n>', 'the port (0: any free one)', '5719')
    .action(async (scenario: string | undefined, opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port ${opts.port}: expected a port number such as 5719`);
      const { serveLab } = await import('../lab/server.js');
      const { fileURLToPath } = await import('node:url');
      const here = fileURLToPath(new URL('.', import.meta.url));
      const lab = await serveLab(`${here}../lab-app`, `${here}../..`, port, scenario ?? null);
      out(`mmsim lab: ${lab.url} (Ctrl-C stops it)\n`);
      await new Promise<void>(() => {});
    });

  program
    .command('time')
    .description('The time driver: how long memmap initialisation takes on a published machine under a design (simulated CPUs, locks, a cost model whose one calibration constant per machine is fitted to one published figure).')
    .argument('[preset]', 'duyck-2018, seed-2019, jordan-2020-skylake, jordan-2020-haswell, tatashin-2017, martins-2022-devdax')
    .option('--preset <name>', 'the published machine (same as the argument)')
    .option('--design <name|file>', 'a design (mmsim designs), a kernel release or a design file', 'current')
    .option('--threads <n>', 'deferred init: padata threads per node')
    .option('--align <size>', 'device-dax alignment (the compound page size), e.g. 2M or 1G')
    .option('--json', 'print {design, preset, total_ms, per_node_ms, lock_wait_ms, phases, ...}')
    .option('--svg <file>', 'write the timeline as an SVG figure')
    .option('--poison', "page_init_poison on (CONFIG_DEBUG_VM without page_init_poison=off): memset each added section's memmap")
    .action(async (preset: string | undefined, opts: { preset?: string; design: string; threads?: string; align?: string; json?: boolean; svg?: string; poison?: boolean }) => {
      const { timeCommand } = await import('./time.js');
      await timeCommand(preset, opts, out);
    });

  exploreOptions(
    program
      .command('compare')
      .description('One explore per design over a built-in scenario: one row each (verdict, interleavings, invariants broken with their shortest trace).')
      .argument('[scenario]', 'a built-in scenario (see mmsim explore)')
      .option('--designs <list>', 'comma-separated designs (names or files)', 'v5.3,serialize,seqlock,no-shrink,6.1,current')
      .option('--time <preset>', 'also time each design on a published machine (default: seed-2019, the thread\'s 4-node system; "none" to skip)', 'seed-2019')
      .option('--json', 'print the rows as JSON'),
  ).action(async (scenario: string | undefined, opts: { designs: string; time: string; bound?: string; runs?: string; seed?: string; reduce: string; config: string; walker: string[]; json?: boolean }) => {
    const { compareRows, compareTable } = await import('./explore.js');
    const rows = await compareRows(scenario, opts.designs.split(',').filter(Boolean), opts, opts.time === 'none' ? null : opts.time);
    out(opts.json ? JSON.stringify(rows, null, 2) + '\n' : compareTable(rows));
  });

  program
    .command('verify')
    .description('Run a scenario on a real Linux kernel under QEMU and on mmsim; print a per-step, per-field diff (exit 1 on any difference).')
    .option('--setup', "install QEMU and the tools (Debian packages), fetch Debian's current cloud kernel and build the initramfs")
    .option('--qemu <scenario>', 'the scenario to run')
    .option('--kernel <bzImage>', 'a kernel image of your own (its modules via --initrd-extra or --initrd)')
    .option('--initrd <file>', 'an initramfs to use instead of the one --setup built')
    .option('--initrd-extra <dir>', 'files added to the initramfs (e.g. lib/modules/RELEASE/... and etc/modules.order for your kernel)')
    .option('--keep', 'keep the temporary directory (console log, NVDIMM images, the guest boot log)')
    .action(async (opts: { setup?: boolean; qemu?: string; kernel?: string; initrd?: string; initrdExtra?: string; keep?: boolean }) => {
      const { verifySetup } = await import('../verify/setup.js');
      const { formatDiff, verifyScenario } = await import('../verify/verify.js');
      if (opts.setup) verifySetup((s) => process.stderr.write(s));
      if (!opts.qemu) {
        if (opts.setup) return;
        throw new InputError('verify: give --qemu SCENARIO (and run --setup once before)');
      }
      const steps = await verifyScenario(
        opts.qemu,
        { ...(opts.kernel !== undefined ? { vmlinuz: opts.kernel } : {}), ...(opts.initrd !== undefined ? { initrd: opts.initrd } : {}), ...(opts.initrdExtra !== undefined ? { initrdExtra: opts.initrdExtra } : {}), keep: opts.keep === true },
        (s) => process.stderr.write(s),
      );
      out(formatDiff(steps));
      if (steps.some((s) => s.diffs.length)) throw new ExpectFailed(`verify: ${opts.qemu}: the kernel and mmsim differ (above)`);
    });

  program
    .command('ndctl')
    .description('ndctl (v81) over a model machine: mmsim ndctl MACHINE|SCENARIO list|create-namespace|destroy-namespace|disable-region|enable-region|init-labels [options]')
    .allowUnknownOption();

  program
    .command('daxctl')
    .description('daxctl (v81) over a model machine: mmsim daxctl MACHINE|SCENARIO list|reconfigure-device|online-memory|offline-memory [options]')
    .allowUnknownOption();

  program
    .command('lsmem')
    .description("util-linux 2.42's lsmem over --sysroot DIR (default /) or over a machine: mmsim lsmem [MACHINE] [lsmem options]")
    .allowUnknownOption();

  program
    .command('kmem')
    .description("crash's kmem -n for a machine: nodes and zones, mem_section states, memory blocks.")
    .argument('[machine]', 'a YAML machine file')
    .option('-n', 'memory nodes, sections and blocks (the only kmem view mmsim has)')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine')
    .option('--kernel <release>', 'kernel profile')
    .option('--explain', 'say which columns mmsim does not model')
    .action((machine: string | undefined, opts: { n?: boolean; fromDmesg?: string; fromLive?: boolean; kernel?: string; explain?: boolean }) => {
      if (!opts.n) throw new InputError('kmem: give -n (mmsim models the memory-node view of crash\'s kmem)');
      const loaded = loadMachine(machineSource(machine, opts));
      const state = boot(loaded);
      out(kmemN(state, memoryDevInit(state), opts.explain === true));
    });

  program
    .command('page')
    .description("Boot a machine's memmap and print struct pages of PFN or PFN-PFN, decoded as drgn shows them.")
    .argument('[machine]', 'a YAML machine file')
    .argument('[pfns]', 'PFN or PFN-PFN (decimal or 0x hex, inclusive)')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine')
    .option('--kernel <release>', 'kernel profile')
    .addOption(new Option('--memmap <backend>', 'struct page storage').choices(['dense', 'extent']).default('dense'))
    .option('--poison', 'CONFIG_DEBUG_VM page_init_poison: fresh memmaps are all 0xff')
    .option('--seed <n>', 'seed for the bytes stale struct pages hold', '1')
    .option('--kconfig <file>', 'a kernel .config deciding the struct page layout (default: the distro defaults of the arch)')
    .action(async (a: string | undefined, b: string | undefined, opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string; memmap: 'dense' | 'extent'; poison?: boolean; seed: string; kconfig?: string }) => {
      const [machine, pfns] = b === undefined ? [undefined, a] : [a, b];
      if (pfns === undefined) throw new InputError('page: give PFN or PFN-PFN');
      const range = parsePfnRange(pfns);
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed)) throw new InputError(`page: --seed ${opts.seed}: expected an integer`);
      const loaded = loadMachine(machineSource(machine, opts));
      const kconfig = opts.kconfig === undefined ? null : parseKconfig(readKconfig(opts.kconfig), opts.kconfig);
      const state = boot(kconfig ? { ...loaded, spec: { ...loaded.spec, config: { ...loaded.spec.config, kconfig } } } : loaded);
      const store = await bootMemmap(state, opts.memmap, { poison: opts.poison === true, seed });
      out(printPages(state, store, range.start, range.end));
    });

  program
    .command('run')
    .description('Run a scenario: a machine, then hotplug steps as kernel tasks in program order.')
    .argument('<scenario>', 'a scenario YAML file (examples/*.scenario.yaml)')
    .option('--kernel <release>', 'kernel profile (overrides the scenario\'s)')
    .addOption(
      new Option('--print <view>', `print a view after every step (repeatable): ${RUN_VIEWS.join(', ')}`)
        .argParser(collect)
        .default([] as string[]),
    )
    .action((file: string, opts: { kernel?: string; print: string[] }) => {
      for (const v of opts.print) {
        if (!(RUN_VIEWS as readonly string[]).includes(v)) throw new InputError(`--print ${v}: expected one of ${RUN_VIEWS.join(', ')}`);
      }
      runScenario(file, opts.print as RunView[], opts.kernel, out);
    });

  program
    .command('schema')
    .description('Print the JSON Schema of mmsim machine files (or scenario files with --scenario), for editors.')
    .option('--scenario', 'the scenario file schema')
    .action((opts: { scenario?: boolean }) => {
      out(JSON.stringify(opts.scenario ? scenarioJsonSchema() : machineJsonSchema(), null, 2) + '\n');
    });

  program
    .command('demo')
    .description("Boot the built-in 4-node machine with persistent memory and print its dmesg lines and zoneinfo; then the 2019 thread's race (seed-2019) explored under each design.")
    .option('--kernel <release>', 'kernel profile (default 6.18)', '6.18')
    .option('--out <dir>', 'where the timeline SVGs go', 'mmsim-demo')
    .action(async (opts: { kernel: string; out: string }) => {
      out(runDemo(opts.kernel));
      const { compareRows, compareTable } = await import('./explore.js');
      const rows = await compareRows('seed-2019', ['v4.19', 'v5.3', 'serialize', 'seqlock', 'no-shrink', '6.1', 'current'], { reduce: 'dpor', config: 'debug_vm' }, 'seed-2019');
      out(`\nThe seed thread's question, per design: is it safe (mmsim explore seed-2019: namespace A memremapped while B is\ndestroyed, every interleaving), and how long does the 4-node system (4 x 3 TB pmem) take (mmsim time seed-2019)?\n${compareTable(rows)}`);
      const { timeFor } = await import('./time.js');
      const { timelineSvg } = await import('../drivers/time.js');
      const { mkdirSync, writeFileSync } = await import('node:fs');
      mkdirSync(opts.out, { recursive: true });
      const results = [];
      for (const d of ['v4.19', 'v5.3', 'serialize']) results.push(await timeFor('seed-2019', d, {}));
      for (const r of results) writeFileSync(`${opts.out}/seed-2019-${r.design}.svg`, timelineSvg([r]));
      writeFileSync(`${opts.out}/seed-2019-compare.svg`, timelineSvg(results));
      out(`timelines: ${results.map((r) => `${opts.out}/seed-2019-${r.design}.svg`).join(', ')}, ${opts.out}/seed-2019-compare.svg\n`);
    });

  return program;
}

/**
 * `mmsim lsmem [MACHINE | --from-dmesg F | --from-live] [--kernel R] [lsmem options]`: util-linux
 * lsmem over a sysfs tree (--sysroot DIR, default /) or over a machine booted by mmsim. Its options
 * are lsmem's own, so it is parsed here rather than by commander.
 */
function lsmemMain(args: readonly string[]): number {
  const rest: string[] = [];
  let machineFile: string | undefined;
  let fromDmesg: string | undefined;
  let kernel: string | undefined;
  let fromLive = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new InputError(`lsmem: ${a} needs a value`);
      return v;
    };
    if (a === '--from-dmesg') fromDmesg = next();
    else if (a.startsWith('--from-dmesg=')) fromDmesg = a.slice('--from-dmesg='.length);
    else if (a === '--from-live') fromLive = true;
    else if (a === '--kernel') kernel = next();
    else if (a.startsWith('--kernel=')) kernel = a.slice('--kernel='.length);
    else if (!a.startsWith('-') && machineFile === undefined && (i === 0 || !/^(-o|--output|--split|-s|--sysroot|--summary)$/.test(args[i - 1] ?? ''))) {
      machineFile = a;
    } else rest.push(a);
  }
  let result;
  if (machineFile !== undefined || fromDmesg !== undefined || fromLive) {
    const loaded = loadMachine(machineSource(machineFile, { ...(fromDmesg !== undefined ? { fromDmesg } : {}), fromLive, ...(kernel !== undefined ? { kernel } : {}) }));
    result = lsmem(sysfsView(memoryDevInit(boot(loaded))), rest, process.env);
  } else {
    result = runLsmem(rest);
  }
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.exitCode;
}

function readKconfig(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of a kernel .config`);
  }
}

/**
 * `mmsim chmem [MACHINE.yaml | SCENARIO.yaml] [chmem options]`: util-linux chmem over a sysfs
 * tree (a live /sys, or --sysroot DIR), or over a model machine: a machine file booted, or a
 * scenario run to its end; each state write then runs the kernel's online/offline with its errno.
 */
function chmemMain(args: readonly string[]): number {
  const first = args[0];
  if (first !== undefined && !first.startsWith('-') && /\.ya?ml$/.test(first)) {
    const rest = args.slice(1);
    if (rest.some((a) => a === '-s' || a.startsWith('--sysroot') || /^-[^-]*s/.test(a))) {
      throw new InputError('chmem: give either a machine or scenario file or --sysroot DIR, not both');
    }
    const m = /(^|\n)steps\s*:/.test(readText(first))
      ? runScenario(first, [], undefined, () => undefined)
      : bootMachineFile(first, undefined);
    const r = chmem('/', rest, runDriverSysfs(m, first));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  }
  const r = chmem('/', args);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.exitCode;
}

/**
 * `mmsim ndctl|daxctl MACHINE.yaml|SCENARIO.yaml ARGS`: the tool over a machine booted, or a
 * scenario run to its end, its kernel operations under the run driver.
 */
function nvdimmToolMain(tool: 'ndctl' | 'daxctl', args: readonly string[]): number {
  const first = args[0];
  if (first === undefined || !/\.ya?ml$/.test(first)) throw new InputError(`${tool}: give a machine or scenario file first, then the ${tool} command (e.g. mmsim ${tool} examples/nvdimm.scenario.yaml list -u)`);
  const m = /(^|\n)steps\s*:/.test(readText(first)) ? runScenario(first, [], undefined, () => undefined) : bootMachineFile(first, undefined);
  const r = (tool === 'ndctl' ? ndctl : daxctl)(m, args.slice(1), (task) => runTask(m, first, task));
  process.stdout.write(r.output);
  return r.exitCode;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram((s) => process.stdout.write(s));
  try {
    if (argv[2] === 'lsmem') return lsmemMain(argv.slice(3));
    if (argv[2] === 'chmem') return chmemMain(argv.slice(3));
    if ((argv[2] === 'ndctl' || argv[2] === 'daxctl') && argv[3] !== '--help' && argv[3] !== '-h') return nvdimmToolMain(argv[2], argv.slice(3));
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its one-line message (or help/version, which exit 0).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InputError) {
      process.stderr.write(`mmsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ExpectFailed) {
      process.stderr.write(`mmsim: ${e.message}\n`);
      return 1;
    }
    const err = e as Error;
    process.stderr.write(`mmsim: internal error: ${err.message} (please report it with the command that produced it)\n`);
    return 1;
  }
}


