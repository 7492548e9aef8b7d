// fast-check: random hotplug operation sequences on random machines keep the debug checkers
// quiet, and the dense and extent memmaps stay byte-identical with the same zone states.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/drivers/scheduler.js';
import { snapshotGraph } from '../src/drivers/snapshot.js';
import { mightSleepChecker } from '../src/kernel/debug.js';
import { hotplugCheckers } from '../src/kernel/debug.js';
import { addMemory, offlineBlock, onlineBlock, removeMemory, type OnlineType } from '../src/kernel/memory_hotplug.js';
import type { Machine } from '../src/kernel/machine.js';
import { DenseMemmap } from '../src/memmap/dense.js';
import { machineYaml } from './helpers.js';

type Op =
  | { op: 'add'; node: number; block: number; n: number; device: 'dimm' | 'virtio-mem' }
  | { op: 'online'; block: number; type: OnlineType }
  | { op: 'offline'; block: number }
  | { op: 'remove'; block: number; n: number };

const BLOCK = 2 ** 27; // 128 MiB blocks below 64 GiB
const FIRST_HOT = 32; // hot-added blocks from 4 GiB
// Blocks from a small pool, so that add, online, offline and remove meet the same blocks often.
const hotBlock = fc.integer({ min: FIRST_HOT, max: FIRST_HOT + 7 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), node: fc.nat(1), block: hotBlock, n: fc.integer({ min: 1, max: 4 }), device: fc.constantFrom('dimm' as const, 'virtio-mem' as const) }),
  fc.record({
    op: fc.constant('online' as const),
    block: fc.oneof(hotBlock, hotBlock, fc.integer({ min: 0, max: 23 })),
    type: fc.constantFrom('online' as const, 'online_kernel' as const, 'online_movable' as const),
  }),
  fc.record({ op: fc.constant('offline' as const), block: fc.oneof(hotBlock, hotBlock, fc.integer({ min: 0, max: 23 })) }),
  fc.record({ op: fc.constant('remove' as const), block: hotBlock, n: fc.integer({ min: 1, max: 4 }) }),
);

/**
 * CONFIG_DEBUG_VM poisoning is on except for v5.3, where removing never-onlined memory reads a
 * poisoned struct page by design of that kernel (tested on its own in cli.test.ts).
 */
function machine(kernel: string, dense: boolean, cmdline: string): Machine {
  const poison = kernel !== '5.3';
  return machineYaml(
    kernel,
    `cmdline: "${cmdline}"\ndmaReservePages: 0\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 2G, end: 3G }] }\n`,
    { poison, memmap: dense ? 'dense' : 'extent', seed: 5 },
  );
}

/**
 * machine(kernel, dense, cmdline) booted once: each call after the first puts it back as booted
 * instead of booting again (a dense 3 GiB boot is most of a run's time): snapshotGraph, as
 * explore's worlds are restored for each replay (every object the machine reaches but the
 * kernel's and the memmap geometry's constants), and the dense sections' record and state bytes,
 * which live in SharedArrayBuffers that snapshotGraph does not copy. Each call checks the zones
 * are the booted ones; sameAsBoot compares the restored machine with a fresh boot.
 */
function rebooter(kernel: string, dense: boolean, cmdline: string): () => Machine {
  const m = machine(kernel, dense, cmdline);
  const constants = new Set<object>([m.state.profile, m.state.arch, m.state.spec, m.pageConfig, m.pageFlagsLayout, m.store.geometry]);
  const restore = snapshotGraph(m, (o) => constants.has(o));
  const bytes = sectionBytes(m).map(([buf, copy]) => [buf, copy.slice()] as const);
  const booted = JSON.stringify(m.state.nodes);
  let used = false;
  return () => {
    if (used) {
      restore();
      for (const [buf, copy] of bytes) buf.set(copy);
    }
    used = true;
    expect(JSON.stringify(m.state.nodes)).toBe(booted);
    return m;
  };
}

/** A dense store's section buffers (records, then states, by section), each as bytes; none for an extent store. */
function sectionBytes(m: Machine): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [];
  if (m.store instanceof DenseMemmap)
    for (const [, sec] of [...m.store.sections].sort(([a], [b]) => a - b))
      for (const buf of [sec.records, sec.states]) {
        const u8 = new Uint8Array(buf);
        out.push([u8, u8]);
      }
  return out;
}

/** The restored machine `m` is a fresh boot: zones, blocks, memory sections and every memmap byte and page state. */
function sameAsBoot(m: Machine, fresh: Machine): void {
  // Cache epochs (sparse.epoch) come from one counter that never goes back: a fresh boot's differ.
  const json = (v: unknown): string => JSON.stringify(v, (k, x: unknown) => (k === 'epoch' ? undefined : typeof x === 'bigint' ? `${x}n` : x instanceof Map || x instanceof Set ? [...x] : x));
  expect(json(m.state.nodes)).toBe(json(fresh.state.nodes));
  expect(json([...m.blocks])).toBe(json([...fresh.blocks]));
  expect(json(m.state.sparse)).toBe(json(fresh.state.sparse));
  const a = sectionBytes(m);
  const b = sectionBytes(fresh);
  expect(a.length).toBe(b.length);
  a.forEach(([x], i) => expect(Buffer.compare(x, (b[i] as [Uint8Array, Uint8Array])[0])).toBe(0));
  const ra = new Uint8Array(64);
  const rb = new Uint8Array(64);
  for (const run of fresh.state.sparse.runs)
    for (let pfn = run.startNr * 32768; pfn < run.endNr * 32768; pfn += 61) {
      m.store.readRecord(pfn, ra);
      fresh.store.readRecord(pfn, rb);
      if (Buffer.compare(ra, rb) !== 0 || m.store.stateOf(pfn) !== fresh.store.stateOf(pfn)) throw new Error(`restored pfn 0x${pfn.toString(16)} differs from a fresh boot`);
    }
}

function apply(m: Machine, o: Op): number {
  const task =
    o.op === 'add'
      ? addMemory(m, o.node, o.block * BLOCK, o.n * BLOCK, o.device === 'dimm' ? { kind: 'dimm' } : { kind: 'virtio-mem', name: 'virtio0', regionStart: FIRST_HOT * BLOCK, regionBytes: 8 * BLOCK })
      : o.op === 'online'
        ? onlineBlock(m, o.block, o.type)
        : o.op === 'offline'
          ? offlineBlock(m, o.block)
          : removeMemory(m, o.block * BLOCK, o.n * BLOCK);
  const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
  const id = s.spawn(o.op, task);
  s.runInOrder();
  if (s.violations.length) throw new Error(`${JSON.stringify(o)}: ${s.violations[0]?.message}`);
  return s.result(id) as number;
}

describe('random hotplug sequences', () => {
  // 6.1 again with online_policy=auto-movable and a small ratio, so "online" picks both zones.
  // And with memmap_on_memory: 6.1 (single-block adds only) and 6.18 (every block, "force").
  for (const [kernel, cmdline] of [
    ['5.3', ''],
    ['6.1', ''],
    ['6.18', ''],
    ['6.1', 'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=40'],
    ['6.1', 'memory_hotplug.memmap_on_memory=1 memory_hotplug.online_policy=auto-movable'],
    ['6.18', 'memory_hotplug.memmap_on_memory=force'],
  ] as const) {
    it(`${kernel}${cmdline ? ` ${cmdline}` : ''}: checkers stay quiet and both backends agree (fast-check)`, () => {
      let offlined = 0;
      const dense = rebooter(kernel, true, cmdline);
      const extent = rebooter(kernel, false, cmdline);
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 10, maxLength: 40 }), (ops) => {
          const d = dense();
          const e = extent();
          for (const o of ops) {
            const rc = apply(d, o);
            expect(rc, JSON.stringify(o)).toBe(apply(e, o));
            if (o.op === 'offline' && rc === 0) offlined++;
          }
          expect(JSON.stringify(d.state.nodes)).toBe(JSON.stringify(e.state.nodes));
          const a = new Uint8Array(64);
          const b = new Uint8Array(64);
          for (const run of e.state.sparse.runs) {
            for (let sec = run.startNr; sec < run.endNr; sec++) {
              for (let pfn = sec * 32768; pfn < (sec + 1) * 32768; pfn += 4093) {
                d.store.readRecord(pfn, a);
                e.store.readRecord(pfn, b);
                if (Buffer.compare(a, b) !== 0 || d.store.stateOf(pfn) !== e.store.stateOf(pfn)) throw new Error(`pfn 0x${pfn.toString(16)} differs`);
              }
            }
          }
        }),
        { numRuns: 30, seed: 1125 },
      );
      // The runs must reach offline (spans shrink, memmap poisoned again), or they prove little.
      expect(offlined).toBeGreaterThan(10);
      // What each run started from was the machine as booted.
      sameAsBoot(dense(), machine(kernel, true, cmdline));
      sameAsBoot(extent(), machine(kernel, false, cmdline));
    });
  }
});
