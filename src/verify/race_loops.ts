// `mmsim verify --race FILE`: a scenario's concurrent block as guest loops. Each operation of the
// block becomes a loop that runs the operation, then its inverse, which puts the memory it touches
// back in the state the steps before the block left it in, so that every cycle runs the operation
// from the scenario's own starting state while the other loops run theirs:
//   online blocks   -> offline them; where a block had never been onlined before the block, also
//                      device_del and device_add its pc-dimm and replay the earlier online/offline
//                      steps on that dimm's blocks (only a fresh add gives back a memmap that was
//                      never initialised, which is the state the model explores)
//   offline blocks  -> online them with the type of the last earlier online step of each block
//                      (plain `online` for boot memory)
//   remove a dimm   -> device_add it again, then replay the earlier online/offline steps on its blocks
//   add a dimm      -> device_del it
// What cannot be looped is refused (one line, file:line:col): an operation with errno (the kernel
// refuses it: there is nothing to undo), a virtio-mem or NVDIMM add, a remove that is not a whole
// pc-dimm added before the block, an online of a never-onlined block that no pc-dimm of the
// scenario holds, and two operations touching the same blocks or dimm (each loop would undo the
// state the other starts from).
import { InputError } from '../errors.js';
import { blockNames } from '../formats/blocks-print.js';
import { expandBlocks, type ScenarioStep } from '../formats/scenario.js';

type StateValue = 'online' | 'online_kernel' | 'online_movable' | 'offline';

/** A pc-dimm of the scenario: where it is and the memory blocks it holds. */
export interface RaceDimm {
  readonly node: number;
  readonly start: number;
  readonly size: number;
  readonly ids: readonly number[];
}

/** One thing a loop does: a block state write in the guest, or a pc-dimm unplugged or plugged by the host (the guest waits on sysfs). */
export type LoopAction =
  { readonly kind: 'state'; readonly ids: readonly number[]; readonly value: StateValue } | { readonly kind: 'unplug'; readonly dimm: RaceDimm } | { readonly kind: 'plug'; readonly dimm: RaceDimm };

export interface RaceLoop {
  /** L1, L2, ...: the loop's name in the guest's lines. */
  readonly name: string;
  /** file:line:col of the operation in the concurrent block. */
  readonly at: string;
  /** The operation, as mmsim run's step headers name it ("online_movable memory33"). */
  readonly op: string;
  readonly forward: readonly LoopAction[];
  readonly inverse: readonly LoopAction[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** An action as words ("offline memory33", "device_del pc-dimm 0x110000000 (memory34)"). */
export function actionText(a: LoopAction): string {
  if (a.kind === 'state') return `${a.value} ${blockNames(a.ids)}`;
  return `${a.kind === 'unplug' ? 'device_del' : 'device_add'} pc-dimm ${hex(a.dimm.start)} (${blockNames(a.dimm.ids)})`;
}

interface DimmState extends RaceDimm {
  /** The online/offline writes the steps made on its blocks, in order (replayed after a re-add). */
  readonly history: LoopAction[];
}

/**
 * The loops of the concurrent block at step `at` (its operations in order), from the steps before
 * it, for memory blocks of blockBytes. `where(i)` names step i, `whereOp(i, j)` operation j of the
 * block at step i.
 */
export function raceLoops(steps: readonly ScenarioStep[], at: number, blockBytes: number, where: (i: number) => string, whereOp: (i: number, j: number) => string): RaceLoop[] {
  const block = steps[at];
  if (!block || !('concurrent' in block)) throw new InputError(`${where(at)}: expected a concurrent block`);
  const idsOf = (start: number, size: number): number[] => Array.from({ length: Math.ceil(size / blockBytes) }, (_, k) => Math.floor(start / blockBytes) + k);
  const dimms: DimmState[] = [];
  /** Blocks the steps hot-added (boot memory was onlined at boot). */
  const added = new Set<number>();
  const onlined = new Map<number, StateValue>();
  const dimmOf = (id: number): DimmState | undefined => dimms.find((d) => d.ids.includes(id));
  const record = (ids: readonly number[], value: StateValue): void => {
    for (const id of ids) if (value !== 'offline') onlined.set(id, value);
    for (const d of new Set(ids.map(dimmOf))) {
      const mine = ids.filter((id) => d?.ids.includes(id));
      if (d && mine.length) d.history.push({ kind: 'state', ids: mine, value });
    }
  };
  // The state the steps before the block leave: plugged pc-dimms, with what was written to their blocks.
  for (const st of steps.slice(0, at)) {
    if ('add' in st && st.add.errno === undefined && st.add.device !== 'nvdimm') {
      const ids = idsOf(st.add.start, st.add.size);
      for (const id of ids) added.add(id);
      if (st.add.device === 'dimm') dimms.push({ node: st.add.node, start: st.add.start, size: st.add.size, ids, history: [] });
    } else if ('remove' in st && st.remove.errno === undefined) {
      const i = dimms.findIndex((d) => d.start === st.remove.start);
      if (i >= 0) dimms.splice(i, 1);
    } else if ('online' in st && st.online.errno === undefined) record(expandBlocks(st.online.blocks), st.online.type);
    else if ('offline' in st && st.offline.errno === undefined) record(expandBlocks(st.offline.blocks), 'offline');
    else if ('write' in st && st.write.errno === undefined) {
      const m = /^memory(\d+)\/state$/.exec(st.write.path);
      const v = st.write.value.trim();
      if (m && (v === 'online' || v === 'online_kernel' || v === 'online_movable' || v === 'offline')) record([Number(m[1])], v);
    }
  }
  const replug = (d: DimmState): LoopAction[] => [{ kind: 'plug', dimm: strip(d) }, ...d.history];
  const loops: RaceLoop[] = [];
  const touched: { ids: Set<number>; j: number }[] = [];
  block.concurrent.forEach((op, j) => {
    const here = whereOp(at, j);
    const refuse = (why: string): never => {
      throw new InputError(`${here}: verify --race cannot loop this operation: ${why}`);
    };
    const errno = 'add' in op ? op.add.errno : 'remove' in op ? op.remove.errno : 'online' in op ? op.online.errno : op.offline.errno;
    if (errno !== undefined) refuse(`it expects the kernel to refuse it (errno: ${errno}), so there is nothing for an inverse to undo`);
    let forward: LoopAction[];
    let inverse: LoopAction[];
    let text: string;
    let ids: number[];
    if ('add' in op) {
      if (op.add.device !== 'dimm') refuse(`a ${op.add.device} add has no device_del to undo it (only pc-dimms are plugged and unplugged in loops)`);
      const d: RaceDimm = { node: op.add.node, start: op.add.start, size: op.add.size, ids: idsOf(op.add.start, op.add.size) };
      if (d.ids.some((id) => dimmOf(id))) refuse(`${blockNames(d.ids)} are already plugged before the block`);
      forward = [{ kind: 'plug', dimm: d }];
      inverse = [{ kind: 'unplug', dimm: d }];
      text = `add pc-dimm node ${d.node} ${blockNames(d.ids)}`;
      ids = [...d.ids];
    } else if ('remove' in op) {
      const d = dimms.find((x) => x.start === op.remove.start && x.size === op.remove.size);
      if (!d)
        refuse(
          `[${hex(op.remove.start)}, ${hex(op.remove.start + op.remove.size)}) is not a whole pc-dimm added before the block (only a pc-dimm can be removed and added back: device_del, device_add)`,
        );
      const dd = d as DimmState;
      forward = [{ kind: 'unplug', dimm: strip(dd) }];
      inverse = replug(dd);
      text = `remove ${blockNames(dd.ids)}`;
      ids = [...dd.ids];
    } else if ('online' in op) {
      ids = expandBlocks(op.online.blocks);
      forward = [{ kind: 'state', ids, value: op.online.type }];
      inverse = [{ kind: 'state', ids, value: 'offline' }];
      const never = ids.filter((id) => added.has(id) && !onlined.has(id));
      const again: DimmState[] = [];
      for (const id of never) {
        const d = dimmOf(id);
        if (!d)
          refuse(
            `memory${id} was hot-added and never onlined before the block, and no pc-dimm of the scenario holds it, so its never-initialised memmap cannot be had back (by device_del and device_add)`,
          );
        else if (!again.includes(d)) again.push(d);
      }
      for (const d of again) inverse.push({ kind: 'unplug', dimm: strip(d) }, ...replug(d));
      ids = [...new Set([...ids, ...again.flatMap((d) => d.ids)])];
      text = `${op.online.type} ${blockNames(expandBlocks(op.online.blocks))}`;
    } else {
      ids = expandBlocks(op.offline.blocks);
      forward = [{ kind: 'state', ids, value: 'offline' }];
      // Each block back online with the type it was last onlined with (boot memory: plain online).
      const byType = new Map<StateValue, number[]>();
      for (const id of ids) {
        const t = onlined.get(id) ?? 'online';
        byType.set(t, [...(byType.get(t) ?? []), id]);
      }
      inverse = [...byType].map(([value, list]) => ({ kind: 'state' as const, ids: list, value }));
      text = `offline ${blockNames(ids)}`;
    }
    const mine = new Set(ids);
    const other = touched.find((t) => [...t.ids].some((id) => mine.has(id)));
    if (other)
      refuse(
        `it touches ${blockNames([...mine].filter((id) => other.ids.has(id)).sort((a, b) => a - b))} as operation ${other.j + 1} of the block does, and each loop's inverse would undo the state the other starts from`,
      );
    touched.push({ ids: mine, j });
    loops.push({ name: `L${j + 1}`, at: here, op: text, forward, inverse });
  });
  return loops;
}

function strip(d: RaceDimm): RaceDimm {
  return { node: d.node, start: d.start, size: d.size, ids: [...d.ids] };
}

const UP = 'cut -d. -f1 /proc/uptime';
const MEM = '/sys/devices/system/memory';
/** Seconds a loop waits for the host's device_add / device_del to show in sysfs before it gives up. */
export const PLUG_WAIT_S = 60;

/** An action as guest shell text (in a loop body: `break 2` leaves the loop). */
function actionShell(loop: string, a: LoopAction): string {
  const mark = `echo "mmsim-race: ${loop} ${actionText(a)}" > /dev/kmsg`;
  if (a.kind === 'state') return [mark, ...a.ids.map((id) => `echo ${a.value} > ${MEM}/memory${id}/state || echo "@@FAIL ${loop} ${a.value} memory${id}"`)].join('; ');
  const plug = a.kind === 'plug';
  // Wait (bounded) until every block is there (plug) or gone (unplug).
  const waitFor = (test: string, what: string): string =>
    `w=$(( $(${UP}) + ${PLUG_WAIT_S} )); until ${test}; do [ $(${UP}) -lt $w ] || { echo "@@FAIL ${loop} ${what} not ${PLUG_WAIT_S} s after ${plug ? 'device_add' : 'device_del'}"; break 2; }; sleep 0.05; done`;
  const there = a.dimm.ids.map((id) => `[ ${plug ? '-e' : '! -e'} ${MEM}/memory${id} ]`).join(' && ');
  const parts = [mark, `echo "@@REQ ${loop} ${a.kind} ${hex(a.dimm.start)}"`, waitFor(there, `${blockNames(a.dimm.ids)} ${plug ? 'there' : 'gone'}`)];
  return parts.join('; ');
}

/**
 * The loops as one guest shell command: each loop in the background, running its operation then
 * its inverse until `seconds` of guest uptime have passed or it has run `cycles` cycles; a line
 * "@@CYCLE Ln k" per finished cycle, "@@REQ Ln plug|unplug ADDR" where the host is to
 * device_add / device_del a pc-dimm, "@@FAIL ..." where an action did not go as asked.
 */
export function raceLoopsShell(loops: readonly RaceLoop[], seconds: number, cycles: number | null): string {
  const more = cycles === null ? '' : ` && [ $n -lt ${cycles} ]`;
  const one = (l: RaceLoop): string => {
    const body = [...l.forward, ...l.inverse].map((a) => actionShell(l.name, a)).join('; ');
    return `( n=0; end=$(( $(${UP}) + ${seconds} )); while [ $(${UP}) -lt $end ]${more}; do ${body}; n=$((n+1)); echo "@@CYCLE ${l.name} $n"; done; echo "@@LOOP ${l.name} $n" )`;
  };
  return `${loops.map(one).join(' & ')} & wait`;
}
