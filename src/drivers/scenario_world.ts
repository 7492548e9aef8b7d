// Explore worlds: a built-in scenario (designs/builtin_scenarios.ts) or a scenario file with a
// `concurrent` block, booted by bootMachine under a design and config. The steps before the
// block (or a built-in's setup) run under the run driver (program order) to set the stage; the
// block's operations (or the built-in's tasks) become the tasks explored. The design's profile
// and steps replace the scenario's kernel; the config sets page poisoning and which checkers judge.
import { blockNames, blockSpanName } from '../formats/blocks-print.js';
import { InputError, oneLine } from '../errors.js';
import { applyStep, blockIdsIn, bootMachine, checkStepRange, loadMachine, neverAdded, prepareScenario, probeScenarioDevices } from './run.js';
import { Scheduler } from './scheduler.js';
import { addMemory, offlineBlock, onlineBlock, removeMemory } from '../kernel/memory_hotplug.js';
import { type Machine } from '../kernel/machine.js';
import type { ScenarioStep } from '../formats/scenario.js';
import { resolveDesign, type Design } from '../designs/designs.js';
import type { World, WorldContext } from './explore.js';
import { builtinMachineSpec, builtinStage, checkersFor, watchedCheckers, type DebugConfig, type WorldSpec } from '../designs/builtin_scenarios.js';
import type { Task } from '../kernel/task.js';
import { snapshotGraph } from './snapshot.js';

/** The task of one operation of a concurrent block (at `at`), and its name. */
function operation(m: Machine, st: ScenarioStep, i: number, at: string): { name: string; task: Task<number>; label: string; call: string } {
  checkStepRange(m, st, at);
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const pfns = (start: number, size: number): string => `[${hex(start / m.pageBytes)}-${hex((start + size) / m.pageBytes)})`;
  if ('add' in st) {
    const device = st.add.device === 'virtio-mem' ? ({ kind: 'virtio-mem', name: st.add.name } as const) : ({ kind: 'dimm' } as const);
    if (st.add.device === 'nvdimm') throw new InputError(`concurrent operation ${i + 1}: an nvdimm add is not a hotplug task; use dimm or virtio-mem`);
    const call = `add_memory(node ${st.add.node}, ${pfns(st.add.start, st.add.size)}${st.add.device === 'virtio-mem' ? ', virtio-mem' : ''})`;
    return { name: `${i + 1}: add_memory ${blockSpanName(st.add.start, st.add.size, m.blockBytes)}`, task: addMemory(m, st.add.node, st.add.start, st.add.size, device), label: `${i + 1}`, call };
  }
  if ('remove' in st) {
    const call = `remove_memory(${pfns(st.remove.start, st.remove.size)})`;
    return { name: `${i + 1}: remove_memory ${blockSpanName(st.remove.start, st.remove.size, m.blockBytes)}`, task: removeMemory(m, st.remove.start, st.remove.size), label: `${i + 1}`, call };
  }
  if ('online' in st || 'offline' in st) {
    const ids = blockIdsIn(m, 'online' in st ? st.online.blocks : st.offline.blocks, at);
    const type = 'online' in st ? st.online.type : null;
    function* each(): Task<number> {
      for (const id of ids) {
        const rc = type ? yield* onlineBlock(m, id, type) : yield* offlineBlock(m, id);
        if (rc) return rc;
      }
      return 0;
    }
    const call = `${type ? 'online_pages' : 'offline_pages'}(${blockNames(ids)}${type ? `, ${type}` : ''})`;
    return { name: `${i + 1}: ${type ?? 'offline'} ${blockNames(ids)}`, task: each(), label: `${i + 1}`, call };
  }
  throw new InputError(`concurrent operation ${i + 1}: expected add, remove, online or offline`);
}

/** A fresh world of a scenario file with one concurrent block. */
export function scenarioWorld(file: string, design: string | Design, config: DebugConfig, user: readonly Design[], ctx: WorldContext): World {
  const { scenario, where, machineFile, extraBoot } = prepareScenario(file);
  const at = scenario.steps.findIndex((st) => 'concurrent' in st);
  if (at < 0) throw new InputError(`${file}: no concurrent block to explore; add a step \`concurrent: [ ... ]\` with the operations that run at once`);
  if (scenario.steps.slice(at + 1).some((st) => !('expect' in st) && !('print' in st))) {
    throw new InputError(`${where(at + 1)}: explore stops at the concurrent block; move this step before it or into it`);
  }
  const r = resolveDesign(design, user);
  const loaded = loadMachine({ machineFile });
  // Namespaces configured before boot are not probed here (the stage is the scenario's steps).
  const m = bootMachine({ spec: loaded.spec, profile: r.profile }, { poison: config !== 'no_debug_vm', extraBoot, steps: r.steps, probeNamespaces: false });
  for (const id of scenario.unmovable) m.unmovableBlocks.add(id);
  probeScenarioDevices(m, scenario.steps);
  scenario.steps.slice(0, at).forEach((st, i) => applyStep(m, st, where(i), `step ${i + 1}`, [], () => {}));
  const block = scenario.steps[at] as Extract<ScenarioStep, { concurrent: unknown }>;
  // A remove must name memory that is there, or that an add beside it brings.
  const addedBeside = (id: number): boolean =>
    block.concurrent.some((st) => 'add' in st && st.add.device !== 'nvdimm' && id * m.blockBytes >= st.add.start && id * m.blockBytes < st.add.start + st.add.size);
  block.concurrent.forEach((st, i) => {
    const never = 'remove' in st ? neverAdded(m, st.remove.start, st.remove.size, addedBeside) : null;
    if (never) throw new InputError(`${where(at)}: concurrent operation ${i + 1}: remove: ${never}`);
  });
  const mm = ctx.recorder ? ctx.recorder.instrument(m) : m;
  // The node of each operation: the add's node, else that of the first block it names or touches.
  const nodeOf = (st: ScenarioStep): number => {
    if ('add' in st) return st.add.node;
    const pfn = 'remove' in st ? st.remove.start / m.pageBytes : null;
    const ids = 'online' in st ? st.online.blocks : 'offline' in st ? st.offline.blocks : [];
    const b = pfn !== null ? m.blocks.get(Math.floor(pfn / m.pagesPerBlock)) : m.blocks.get(ids[0]?.first ?? -1);
    return b?.nid ?? 0;
  };
  const tasks = (): World['tasks'] => block.concurrent.map((st, i) => operation(mm, st, i, where(at)));
  return restartable(m, tasks, { checkers: watchedCheckers(m, mm, config), machine: m, taskNodes: block.concurrent.map(nodeOf) });
}

/**
 * A world whose machine is as its stage left it, with tasks from `tasks`; `again` puts the
 * machine back so (snapshotGraph: every object the machine reaches, but for the constants of
 * its kernel and memmap geometry) and makes fresh tasks.
 */
function restartable(m: Machine, tasks: () => World['tasks'], rest: Omit<World, 'tasks' | 'again'>): World {
  const constants = new Set<object>([m.state.profile, m.state.arch, m.state.spec, m.pageConfig, m.pageFlagsLayout, m.store.geometry]);
  const restore = snapshotGraph(m, (o) => constants.has(o));
  const again = (): World => {
    restore();
    return { ...rest, tasks: tasks(), again };
  };
  return { ...rest, tasks: tasks(), again };
}

/** A fresh world of a built-in scenario for a design (or kernel release) and config. */
export function builtinWorld(spec: WorldSpec, ctx: WorldContext = { recorder: null }): World {
  const config = spec.config ?? 'debug_vm';
  const resolved = typeof spec.design === 'object' && 'profile' in spec.design ? spec.design : resolveDesign(spec.design, spec.userDesigns);
  const m = bootMachine({ spec: builtinMachineSpec(spec.scenario), profile: resolved.profile }, { poison: config !== 'no_debug_vm', steps: resolved.steps });
  // A user design (from a file) that breaks the stage is that file's error (exit 2); a built-in
  // design that does is mmsim's bug.
  const file = resolved.design.source;
  const fail = (why: string): Error =>
    file ? new InputError(`design ${file}: ${spec.scenario}'s setup (before its concurrent tasks) under this design: ${why}`) : new Error(`${spec.scenario} setup: ${why}`);
  const setup = (name: string, task: Task<number>): void => {
    const s = new Scheduler(checkersFor(m, config));
    s.spawn(name, task);
    m.inOrder(() => s.runInOrder());
    if (s.violations.length) throw fail(oneLine(s.violations[0]?.message ?? ''));
    const rc = s.result(0);
    if (rc !== 0) throw fail(`${name} returned ${String(rc)}${typeof rc === 'number' ? '' : ": a step must return what the kernel's does (return yield* api.base(...a))"}`);
  };
  let mm = m;
  const tasks = builtinStage(spec.scenario, spec.walkers ?? [], m, {
    setup,
    watched: () => (mm = ctx.recorder ? ctx.recorder.instrument(m) : m),
    watchPgmap: (p) => ctx.recorder?.instrumentPgmap(p),
  });
  return restartable(m, tasks, { checkers: watchedCheckers(m, mm, config), machine: m });
}

/** The seed-2019 world for a design or kernel release (default config). */
export function seed2019World(design: string, ctx: WorldContext = { recorder: null }): World {
  return builtinWorld({ scenario: 'seed-2019', design }, ctx);
}
