// The seed-2019 built-in scenarios (issue 8; layouts pinned in docs/designs.md). One node with
// 1 GiB of RAM (seed-2019, seed-2019-hotplug) or 1 GiB + 64 MiB (seed-2019-subsection).
// - seed-2019: two 128 MiB persistent-memory namespaces mapped with --map=dev (an altmap of 2
//   reserve pfns and 1022 memmap pfns each), A at 4 GiB and B right above it. B is already
//   mapped; A is being memremapped while B is destroyed.
// - seed-2019-hotplug: the same with hot-added RAM: three 128 MiB DIMMs from 4 GiB, C, A and B;
//   C and B are online (Movable), A is added but offline and is being onlined (online_movable)
//   while B is offlined and removed — B's span search walks down through A.
// - seed-2019-subsection: A is a 192 MiB namespace starting at 1 GiB + 64 MiB, inside the last
//   RAM section (a section shared with System RAM); B is the 128 MiB namespace above it.
// - seed-2019-map-mem: seed-2019 with --map=mem (the memmap in RAM, no altmap), as the real 5.3
//   race runs in ../shared/kernels: every pfn of B from its first is initialised, so 5.3's
//   page_to_nid of B's first page reads a good page and B's shrink search reaches A's memmap.
// The kernel config (--config): CONFIG_DEBUG_VM with page_init_poison but not
// CONFIG_DEBUG_VM_PGFLAGS by default, as in the 5.4-rc4 report: a poisoned struct page reads as
// all-ones fields (a false answer) and the checkers that fire are the kernel's own assertions
// and bad_range. With pgflags, PF_POISONED_CHECK fires on reading a poisoned page; without
// DEBUG_VM the memmap is stale (an earlier owner's bytes) and no VM_BUG_ON exists, so only the
// model's own invariants judge.
import { devicePageChecker, deviceSpanChecker, memoizedChecker, pageblockZoneChecker, pageCountChecker, poisonedReadChecker, zoneSpanChecker, type Checker } from '../kernel/debug.js';
import { VmemAltmap, type DevPagemap } from '../kernel/dev_pagemap.js';
import type { Machine } from '../kernel/machine.js';
import { machineSpec, type MachineSpec, type NodeInCode } from '../kernel/machine_spec.js';
import { addMemory, offlineBlock, onlineBlock, removeMemory } from '../kernel/memory_hotplug.js';
import { memremapPages, memunmapPages, pgmapAddress } from '../kernel/memremap.js';
import type { Task } from '../kernel/task.js';
import type { Design, ResolvedDesign } from './designs.js';
import { compactionScanner, kpageflagsReader, memoryFailure, setZoneContiguous, testPagesInAZone, type WalkerName } from '../kernel/walkers.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export const BUILTIN_SCENARIOS = ['seed-2019', 'seed-2019-hotplug', 'seed-2019-subsection', 'seed-2019-map-mem'] as const;
export type BuiltinScenario = (typeof BUILTIN_SCENARIOS)[number];

/** The kernel config the world is built with (--config). */
export type DebugConfig = 'debug_vm' | 'debug_vm_pgflags' | 'no_debug_vm';
export const DEBUG_CONFIGS: readonly DebugConfig[] = ['debug_vm', 'debug_vm_pgflags', 'no_debug_vm'];

export interface WorldSpec {
  readonly scenario: BuiltinScenario;
  readonly design: string | Design | ResolvedDesign;
  readonly config?: DebugConfig;
  /** User designs a name may refer to (as a base). */
  readonly userDesigns?: readonly Design[];
  /** Other pfn walkers run as concurrent tasks over A's range (or A's zone). */
  readonly walkers?: readonly WalkerName[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** What a walker task runs, for explore's trace ("kpageflags_read([0x100000-0x108000))"). */
function walkerCall(w: WalkerName, start: number, end: number, ramZone: string): string {
  switch (w) {
    case 'compaction':
      return `isolate_migratepages over zone ${ramZone} (__pageblock_pfn_to_page per pageblock)`;
    case 'kpageflags':
      return `kpageflags_read([${hex(start)}-${hex(end)}))`;
    case 'memory_failure':
      return `memory_failure(${hex(end - 1)})`;
    case 'set_zone_contiguous':
      return `set_zone_contiguous(zone ${ramZone})`;
    case 'test_pages_in_a_zone':
      return `test_pages_in_a_zone([${hex(start)}-${hex(end)}))`;
  }
}

/** A walker task over the scenario's namespace or block A: [start, end) and the zone of RAM around it. */
function walkerTask(m: Machine, w: WalkerName, start: number, end: number, ramZone: string): Task<number> {
  const zone = m.zoneByName(0, ramZone as Parameters<Machine['zoneByName']>[1]);
  switch (w) {
    case 'compaction':
      return compactionScanner(m, zone);
    case 'kpageflags':
      return kpageflagsReader(m, start, end);
    case 'memory_failure':
      return memoryFailure(m, end - 1);
    case 'set_zone_contiguous':
      return setZoneContiguous(m, zone);
    case 'test_pages_in_a_zone':
      return testPagesInAZone(m, start, end);
  }
}

/** The checkers a config has: the kernel's VM_BUG_ONs and bad_range only with DEBUG_VM. */
export function checkersFor(m: Machine, config: DebugConfig): Checker[] {
  const model = [pageCountChecker(m), devicePageChecker(m), poisonedReadChecker(m, config === 'debug_vm_pgflags')];
  if (config === 'no_debug_vm') return [...model, deviceSpanChecker(m)];
  return [zoneSpanChecker(m), pageblockZoneChecker(m), ...model];
}

/**
 * The checkers over the plain machine (fast), each paired with its twin over the recorder's
 * wrapped machine, which the scheduler runs when one fires to record what it read.
 */
export function watchedCheckers(m: Machine, mm: Machine, config: DebugConfig): Checker[] {
  // The plain ones run once per state where they can say what they read (memoizedChecker).
  const plain = checkersFor(m, config).map(memoizedChecker);
  if (mm === m) return plain;
  const twins = checkersFor(mm, config);
  plain.forEach((c, i) => (c.capture = twins[i]));
  return plain;
}

/**
 * The demo's machine (`mmsim demo`): four nodes, each with 96 GiB of DRAM and 3 TiB of persistent
 * memory (e820 type 12, not memblock memory: it becomes ZONE_DEVICE through memremap_pages
 * later); node 0 holds the legacy low memory with the usual PC holes. Booted under 6.18 unless
 * the user names a kernel.
 */
export function demoMachineSpec(): MachineSpec {
  const dram = 96 * GiB;
  const pmem = 3 * 1024 * GiB;
  const node = (nid: number, memory: { start: number; end: number }[]): NodeInCode => ({ nid, cpus: 4, memory, pmem: [{ start: 392 * GiB + nid * pmem, end: 392 * GiB + (nid + 1) * pmem }] });
  return machineSpec(
    [
      node(0, [
        { start: 0x1000, end: 0x9f000 },
        { start: 0x100000, end: 0x7ff00000 },
        { start: 4 * GiB, end: 98 * GiB },
      ]),
      ...[1, 2, 3].map((nid) => node(nid, [{ start: 2 * GiB + nid * dram, end: 2 * GiB + (nid + 1) * dram }])),
    ],
    'demo-4node-pmem',
  );
}

/** The built-in scenario's machine: one node of 2 CPUs with 1 GiB of RAM (1 GiB + 64 MiB for seed-2019-subsection). */
export function builtinMachineSpec(scenario: BuiltinScenario): MachineSpec {
  const ramEnd = scenario === 'seed-2019-subsection' ? 0x44000000 : GiB;
  return machineSpec([{ nid: 0, cpus: 2, memory: [{ start: 0x100000, end: ramEnd }] }]);
}

/** What a driver lends a built-in scenario while it sets the stage and names its concurrent tasks. */
export interface ScenarioHooks {
  /** Run a setup task to completion in program order; throws if it breaks an invariant or fails. */
  readonly setup: (name: string, task: Task<number>) => void;
  /** The machine the concurrent tasks act on, asked for once the stage is set (a recorder's wrapped one, or the machine). */
  readonly watched: () => Machine;
  /** Each pgmap a concurrent task maps, so that a recorder can watch it. */
  readonly watchPgmap?: (p: DevPagemap) => void;
}

/**
 * A built-in scenario on a machine booted from builtinMachineSpec: the stage is set through
 * hooks.setup (B mapped; or the three DIMMs added and C, B online), then the tasks that run
 * concurrently (A's memremap or online, B's memunmap or offline+remove, and the walkers).
 */
export function builtinTasks(scenario: BuiltinScenario, walkers: readonly WalkerName[], m: Machine, hooks: ScenarioHooks): BuiltinTask[] {
  return builtinStage(scenario, walkers, m, hooks)();
}

/** A concurrent task of a built-in scenario, its name and how a trace shows it. */
export interface BuiltinTask {
  readonly name: string;
  readonly task: Task<unknown>;
  readonly label?: string;
  readonly call?: string;
  /** A pfn walker (--walker): see World's tasks. */
  readonly walker?: boolean;
}

/**
 * builtinTasks in two halves: the stage is set (hooks.setup, hooks.watched) once, and the
 * function returned makes the concurrent tasks, fresh at each call (the explore driver calls it
 * again for each replay once it has put the machine back as the stage left it).
 */
export function builtinStage(scenario: BuiltinScenario, walkers: readonly WalkerName[], m: Machine, hooks: ScenarioHooks): () => BuiltinTask[] {
  const namespace = (name: string, start: number, bytes: number): DevPagemap => ({
    name,
    type: 'fsdax',
    start,
    end: start + bytes - 1,
    // nd_pfn_init for --map=dev at 2 MiB alignment: 64 bytes per pfn + 8 KiB, rounded up to 2 MiB
    // (4 MiB for 128 and 192 MiB): reserve 2, free 1022. --map=mem (seed-2019-map-mem): no altmap,
    // the memmap comes from RAM (PFN_MODE_RAM: __nvdimm_setup_pfn leaves pgmap->altmap unset).
    altmap: scenario === 'seed-2019-map-mem' ? null : new VmemAltmap(start / 4096, 2, 1022),
    vmemmapShift: 0,
    address: pgmapAddress(m),
    nid: 0,
    initialisedTo: 0,
    live: true,
  });
  if (scenario === 'seed-2019-hotplug') {
    const c = 4 * GiB;
    const a = 4 * GiB + 128 * MiB;
    const b = 4 * GiB + 256 * MiB;
    for (const [n, x] of [
      ['C', c],
      ['A', a],
      ['B', b],
    ] as const)
      hooks.setup(`add ${n}`, addMemory(m, 0, x, 128 * MiB));
    const blockOf = (bytes: number): number => bytes / m.blockBytes;
    hooks.setup('online C', onlineBlock(m, blockOf(c), 'online_movable'));
    hooks.setup('online B', onlineBlock(m, blockOf(b), 'online_movable'));
    const mm = hooks.watched();
    function* offlineRemove(): Task<number> {
      const rc = yield* offlineBlock(mm, blockOf(b));
      if (rc) return rc;
      return yield* removeMemory(mm, b, 128 * MiB);
    }
    const pfns = (x: number): string => `[${hex(x / 4096)}-${hex((x + 128 * MiB) / 4096)})`;
    return () => [
      { name: 'online A', task: onlineBlock(mm, blockOf(a), 'online_movable'), label: 'A', call: `online_pages(memory${blockOf(a)}, ${pfns(a)}, online_movable)` },
      { name: 'offline+remove B', task: offlineRemove(), label: 'B', call: `offline_pages(memory${blockOf(b)}, ${pfns(b)}), then remove_memory(${pfns(b)})` },
      ...walkers.map((w) => ({ name: w, task: walkerTask(mm, w, a / 4096, (a + 128 * MiB) / 4096, 'Movable'), call: walkerCall(w, a / 4096, (a + 128 * MiB) / 4096, 'Movable'), walker: true })),
    ];
  }
  const [aStart, aBytes, bStart] = scenario === 'seed-2019-subsection' ? [GiB + 64 * MiB, 192 * MiB, GiB + 256 * MiB] : [4 * GiB, 128 * MiB, 4 * GiB + 128 * MiB];
  const b = namespace('pmem1', bStart, 128 * MiB);
  hooks.setup('memremap B', memremapPages(m, b));
  const mm = hooks.watched();
  const range = (p: DevPagemap): string => `${p.name}, [${hex(p.start / 4096)}-${hex((p.end + 1) / 4096)})`;
  const walkStart = Math.floor(aStart / (128 * MiB)) * 32768;
  return () => {
    // A's pgmap is made by its task's caller, so each set of tasks gets its own.
    const a = namespace('pmem0', aStart, aBytes);
    hooks.watchPgmap?.(a);
    return [
      { name: 'memremap A', task: memremapPages(mm, a), label: 'A', call: `memremap_pages(${range(a)})` },
      { name: 'memunmap B', task: memunmapPages(mm, b), label: 'B', call: `memunmap_pages(${range(b)})` },
      ...walkers.map((w) => ({ name: w, task: walkerTask(mm, w, walkStart, (aStart + aBytes) / 4096, 'Normal'), call: walkerCall(w, walkStart, (aStart + aBytes) / 4096, 'Normal'), walker: true })),
    ];
  };
}
