// What several commands share: repeatable options, the machine options, explore's search options.
import type { Command } from 'commander';
import type { BootSource } from '../../drivers/run.js';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The machine options shared by boot, sysfs export, kmem and lsmem, as loadMachine takes them. */
export function machineSource(machine: string | undefined, opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string }): BootSource {
  return {
    ...(machine !== undefined ? { machineFile: machine } : {}),
    ...(opts.fromDmesg !== undefined ? { fromDmesg: opts.fromDmesg } : {}),
    ...(opts.fromLive ? { fromLive: true } : {}),
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
  };
}

/** The search options of explore and compare. */
export const exploreOptions = (c: Command): Command =>
  c
    .option(
      '--config <config>',
      'the kernel config: debug_vm (CONFIG_DEBUG_VM with page_init_poison, as in the 2019 report), debug_vm_pgflags (also CONFIG_DEBUG_VM_PGFLAGS) or no_debug_vm (a distribution kernel: stale memmap)',
      'debug_vm',
    )
    .option(
      '--walker <name>',
      `add a pfn walker as a concurrent task (repeatable): compaction, kpageflags, memory_failure, set_zone_contiguous, test_pages_in_a_zone`,
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--bound <n>', 'at most this many preemptions per interleaving (default: every interleaving)')
    .option('--runs <n>', 'random mode: this many random schedules (with --seed)')
    .option('--seed <n>', 'the seed of random mode', '1')
    .option('--reduce <how>', 'exhaustive search: dpor (dynamic partial-order reduction with sleep sets), sleep (sleep sets and state hashing) or none', 'dpor')
    .option('--jobs <n>', 'threads for an exhaustive DPOR search, this one and N-1 workers (default: every core; a search done within 250 ms starts none); the result is the same for any number');
