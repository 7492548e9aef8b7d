// A scenario file as an explore world: the steps before its `concurrent` block run under the run
// driver (program order) to set the stage; the block's operations become the tasks explored.
// The design's profile and steps replace the scenario's kernel; the config sets page poisoning
// and which checkers judge (as for the built-in scenarios).
import { InputError } from '../errors.js';
import { loadMachine, boot } from '../cli/boot.js';
import { applyStep, prepareScenario, probeScenarioDevices } from '../cli/run.js';
import { addMemory, offlineBlock, onlineBlock, removeMemory, type HotplugMachine } from '../kernel/memory_hotplug.js';
import type { ScenarioStep } from '../formats/scenario.js';
import { resolveDesign, type Design } from './designs.js';
import type { World, WorldContext } from './explore.js';
import { exploreMachine, watchedCheckers, type DebugConfig } from './seed2019.js';
import type { Task } from './task.js';

/** The task of one operation of a concurrent block, and its name. */
function operation(m: HotplugMachine, st: ScenarioStep, i: number): { name: string; task: Task<number> } {
  const hex = (n: number): string => `0x${n.toString(16)}`;
  if ('add' in st) {
    const device = st.add.device === 'virtio-mem' ? ({ kind: 'virtio-mem', name: st.add.name } as const) : ({ kind: 'dimm' } as const);
    if (st.add.device === 'nvdimm') throw new InputError(`concurrent operation ${i + 1}: an nvdimm add is not a hotplug task; use dimm or virtio-mem`);
    return { name: `${i + 1}: add_memory ${hex(st.add.start)}`, task: addMemory(m, st.add.node, st.add.start, st.add.size, device) };
  }
  if ('remove' in st) return { name: `${i + 1}: remove_memory ${hex(st.remove.start)}`, task: removeMemory(m, st.remove.start, st.remove.size) };
  if ('online' in st || 'offline' in st) {
    const ids = 'online' in st ? st.online.blocks : st.offline.blocks;
    const type = 'online' in st ? st.online.type : null;
    function* each(): Task<number> {
      for (const id of ids) {
        const rc = type ? yield* onlineBlock(m, id, type) : yield* offlineBlock(m, id);
        if (rc) return rc;
      }
      return 0;
    }
    return { name: `${i + 1}: ${type ?? 'offline'} memory${ids.join(',')}`, task: each() };
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
  const spec = { ...loaded.spec, boot: { ...loaded.spec.boot, ...extraBoot, movableNode: loaded.spec.boot.movableNode || !!extraBoot.movableNode } };
  const state = boot({ ...loaded, profile: r.profile, spec });
  const m = exploreMachine(state, config, r.steps);
  for (const id of scenario.unmovable) m.unmovableBlocks.add(id);
  probeScenarioDevices(m, scenario.steps);
  scenario.steps.slice(0, at).forEach((st, i) => applyStep(m, st, where(i), `step ${i + 1}`, [], () => {}));
  const block = scenario.steps[at] as Extract<ScenarioStep, { concurrent: unknown }>;
  const mm = ctx.recorder ? ctx.recorder.instrument(m) : m;
  // The node of each operation: the add's node, else that of the first block it names or touches.
  const nodeOf = (st: ScenarioStep): number => {
    if ('add' in st) return st.add.node;
    const pfn = 'remove' in st ? st.remove.start / m.pageBytes : null;
    const ids = 'online' in st ? st.online.blocks : 'offline' in st ? st.offline.blocks : [];
    const b = pfn !== null ? m.blocks.get(Math.floor(pfn / m.pagesPerBlock)) : m.blocks.get(ids[0] ?? -1);
    return b?.nid ?? 0;
  };
  return { tasks: block.concurrent.map((st, i) => operation(mm, st, i)), checkers: watchedCheckers(m, mm, config), machine: m, taskNodes: block.concurrent.map(nodeOf) };
}
