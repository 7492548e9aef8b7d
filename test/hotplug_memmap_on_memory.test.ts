// memory_hotplug.memmap_on_memory, memory groups under online_policy=auto-movable, and
// /proc/iomem. Expected values are derived here from the kernel rules the test names (read in
// mm/memory_hotplug.c and drivers/base/memory.c of 5.3, 6.1, 6.6.9, 6.8 and 6.18.2), not from mmsim.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/drivers/scheduler.js';
import { mightSleepChecker, type Checker } from '../src/kernel/debug.js';
import type { Task } from '../src/kernel/task.js';
import { hotplugCheckers } from '../src/kernel/debug.js';
import { addMemory, memmapOnMemoryPages, offlineBlock, onlineBlock, removeMemory } from '../src/kernel/memory_hotplug.js';
import type { Machine } from '../src/kernel/machine.js';
import { type HotplugDevice } from '../src/kernel/machine.js';
import { pageFlagBits, pageFlagsField, pageFlagsLayout } from '../src/kernel/page_layout.js';
import { pageConfigFor } from '../src/kernel/memmap_source.js';
import { procIomem } from '../src/formats/iomem.js';
import { bootMachine, loadMachine } from '../src/drivers/run.js';
import { machineYaml, root, sharedData, zone, unless } from './helpers.js';
import { join } from 'node:path';

const G = 2 ** 30;
const M128 = 2 ** 27;

/** The QEMU guest of ../shared/qemu-oracle (two 1 GiB nodes) with extra command-line options. */
function qemu(kernel: string, cmdline: string, poison = false): Machine {
  return machineYaml(
    kernel,
    `cmdline: "${cmdline}"\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }] }\n`,
    { poison },
  );
}

function run(m: Machine, task: Task<number>, extra: Checker[] = []): number {
  const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m), ...extra]);
  const id = s.spawn('op', task);
  s.runInOrder();
  expect(s.violations.map((v) => v.message)).toEqual([]);
  return s.result(id) as number;
}

/** The struct page's flags word, its zone name and the PG_ flags named. */
function pageAt(m: Machine, pfn: number): { zone: string; flags: Set<string> } {
  const rec = new Uint8Array(m.recordScratch.length);
  expect(m.store.readRecord(pfn, rec)).toBe(true);
  const flags = new DataView(rec.buffer).getBigUint64(0, true);
  const layout = pageFlagsLayout(pageConfigFor(m.state));
  const names = new Set<string>();
  for (const [name, bit] of pageFlagBits(pageConfigFor(m.state))) if ((flags >> BigInt(bit)) & 1n) names.add(name);
  return { zone: m.state.zoneNames[Number(pageFlagsField(flags, layout, 'zone'))] ?? '?', flags: names };
}

describe('memory_hotplug.memmap_on_memory', () => {
  // sizeof(struct page) = 64: a 128 MiB block (32768 pages) has a 2 MiB memmap = 512 pages, one
  // PMD and a whole pageblock, so every kernel that has the feature can carve it.
  it('6.1: a one-block pc-dimm hosts its own memmap: 512 pages present but never managed', () => {
    const m = qemu('6.1', 'memory_hotplug.memmap_on_memory=1');
    expect(memmapOnMemoryPages(m)).toBe((32768 * 64) / 4096);
    expect(run(m, addMemory(m, 1, 4 * G, M128))).toBe(0);
    expect(m.vmemmapPages.get(32)).toBe(512);
    expect(run(m, onlineBlock(m, 32, 'online_movable'))).toBe(0);
    expect(zone(m.state, 1, 'Movable')).toMatchObject({ zoneStartPfn: 1048576, spannedPages: 32768, presentPages: 32768, managedPages: 32768 - 512 });
    // mhp_init_memmap_on_memory: the vmemmap pages are in the zone, PG_reserved (memmap_init_range
    // MEMINIT_HOTPLUG in 6.1) and PG_vmemmap_self_hosted (PG_owner_priv_1); the next page is not.
    const first = pageAt(m, 1048576);
    expect(first.zone).toBe('Movable');
    expect(first.flags.has('PG_vmemmap_self_hosted') && first.flags.has('PG_reserved')).toBe(true);
    expect(pageAt(m, 1048576 + 512).flags.has('PG_vmemmap_self_hosted')).toBe(false);
    // Offline gives it all back and the span shrinks to nothing.
    expect(run(m, offlineBlock(m, 32))).toBe(0);
    expect(zone(m.state, 1, 'Movable')).toMatchObject({ spannedPages: 0, presentPages: 0, managedPages: 0 });
  });

  it('6.1 carves only when the added range is one memory block; 6.8+ splits any range per block', () => {
    const a = qemu('6.1', 'memory_hotplug.memmap_on_memory=1');
    expect(run(a, addMemory(a, 1, 4 * G, 2 * M128))).toBe(0);
    expect(a.vmemmapPages.size).toBe(0);
    const b = qemu('6.18', 'memory_hotplug.memmap_on_memory=1');
    expect(run(b, addMemory(b, 1, 4 * G, 2 * M128))).toBe(0);
    expect([...b.vmemmapPages]).toEqual([
      [32, 512],
      [33, 512],
    ]);
    for (const id of [32, 33]) expect(run(b, onlineBlock(b, id, 'online_movable'))).toBe(0);
    expect(zone(b.state, 1, 'Movable')).toMatchObject({ presentPages: 65536, managedPages: 65536 - 1024 });
    // 6.18 from 6.12 on: PageOffline at hotplug init is cleared again for the vmemmap pages.
    expect(pageAt(b, 1048576).flags.has('PG_reserved')).toBe(false);
  });

  it('off unless given; refused values and kernels without it (5.3, 5.12) leave it off; bare "memmap_on_memory" is Y only before 6.6', () => {
    for (const [kernel, cmdline, want] of [
      ['6.1', '', 0],
      ['6.1', 'memory_hotplug.memmap_on_memory=0', 0],
      ['6.1', 'memory_hotplug.memmap_on_memory=force', 0], // 6.1: a bool; "force" is refused
      ['6.6', 'memory_hotplug.memmap_on_memory=force', 512],
      ['6.1', 'memory_hotplug.memmap_on_memory', 512],
      ['6.6', 'memory_hotplug.memmap_on_memory', 0],
      ['5.12', 'memory_hotplug.memmap_on_memory=1', 0],
      ['5.3', 'memory_hotplug.memmap_on_memory=1', 0],
    ] as const) {
      const m = qemu(kernel, cmdline);
      expect(run(m, addMemory(m, 1, 4 * G, M128)), `${kernel} ${cmdline}`).toBe(0);
      expect(m.vmemmapPages.get(32) ?? 0, `${kernel} ${cmdline}`).toBe(want);
    }
  });

  it('6.1 refuses to remove memmap_on_memory memory in another granularity (EINVAL, "wrong granularity"); 6.18 removes per block', () => {
    for (const kernel of ['6.1', '6.18']) {
      const m = qemu(kernel, 'memory_hotplug.memmap_on_memory=1');
      expect(run(m, addMemory(m, 1, 4 * G, M128))).toBe(0);
      expect(run(m, addMemory(m, 1, 4 * G + M128, M128))).toBe(0);
      const rc = run(m, removeMemory(m, 4 * G, 2 * M128));
      if (kernel === '6.1') {
        expect(rc).toBe(-22);
        expect(m.state.log.lines().at(-1)).toBe('Refuse to remove 0x100000000 - 0x110000000,wrong granularity');
        expect(m.blocks.has(32) && m.blocks.has(33)).toBe(true);
      } else {
        expect(rc).toBe(0);
        expect(m.blocks.has(32) || m.blocks.has(33)).toBe(false);
      }
    }
  });

  it('the vmemmap pages are initialised outside mem_hotplug_lock before 6.6, inside from 6.6 on', () => {
    for (const [kernel, held] of [
      ['6.1', false],
      ['6.6', true],
      ['6.18', true],
    ] as const) {
      const m = qemu(kernel, 'memory_hotplug.memmap_on_memory=1');
      expect(run(m, addMemory(m, 1, 4 * G, M128))).toBe(0);
      const seen: boolean[] = [];
      const probe: Checker = (_s, _t, y) => {
        if (y.op === 'set_pfnblock_flags' && y.pfn === 1048576) seen.push(m.memHotplugLock.writer !== null);
        return null;
      };
      expect(run(m, onlineBlock(m, 32, 'online'), [probe])).toBe(0);
      expect(seen, kernel).toEqual([held]);
    }
  });
});

describe('move_pfn_range_to_zone locking per profile', () => {
  it('pgdat_resize_lock and the zone span seqlock up to 5.13, none from 5.14 (27cacaad16c5)', () => {
    for (const [kernel, locked] of [
      ['5.3', true],
      ['5.12', true],
      ['5.14', false],
      ['6.1', false],
    ] as const) {
      const m = qemu(kernel, '');
      expect(run(m, addMemory(m, 1, 4 * G, M128))).toBe(0);
      const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
      s.spawn('online', onlineBlock(m, 32, 'online_movable'));
      s.runInOrder();
      expect(
        s.trace.some((t) => t.op === 'spin_lock_irqsave'),
        kernel,
      ).toBe(locked);
      expect(
        s.trace.some((t) => t.op === 'write_seqlock'),
        kernel,
      ).toBe(locked);
    }
  });
  it("set_pfnblock_flags_mask asserts zone_spans_pfn in the kernel's words", () => {
    const m = qemu('6.1', '');
    const z = zone(m.state, 1, 'Movable');
    const task = (function* (): Task<number> {
      yield { op: 'set_pfnblock_flags', zone: z, pfn: 1048576 };
      return 0;
    })();
    const s = new Scheduler(hotplugCheckers(m));
    s.spawn('bad', task);
    s.runInOrder();
    expect(s.violations[0]?.message).toBe('page:ffffea0004000000 pfn:0x100000 node 1 zone Movable; page dumped because: VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))');
  });
});

describe('online_policy=auto-movable with memory groups', () => {
  /**
   * The 6.1 rule for one virtio-mem device (a dynamic group, unit = one block) on node 1, with
   * auto_movable_numa_aware: a block goes MOVABLE iff movable + 32768 <= 301% of the node's early
   * kernel pages plus the group's own kernel pages (and the same over all nodes).
   */
  function expected(nodeEarly: number, allEarly: number, blocks: number): string[] {
    let movable = 0;
    let kernel = 0;
    const out: string[] = [];
    for (let i = 0; i < blocks; i++) {
      const ok = movable + 32768 <= Math.floor((301 * (nodeEarly + kernel)) / 100) && movable + 32768 <= Math.floor((301 * (allEarly + kernel)) / 100);
      if (ok) movable += 32768;
      else kernel += 32768;
      out.push(ok ? 'Movable' : 'Normal');
    }
    return out;
  }
  it('virtio-mem: kernel memory inside the dynamic group lets more of it go MOVABLE', () => {
    const m = qemu('6.1', 'memhp_default_state=online memory_hotplug.online_policy=auto-movable');
    const node1Early = zone(m.state, 1, 'DMA32').presentPages;
    const allEarly = m.state.nodes.flatMap((n) => n.zones).reduce((s, z) => s + z.presentPages, 0);
    const dev: HotplugDevice = { kind: 'virtio-mem', name: 'virtio0', regionStart: 4 * G, regionBytes: 8 * G };
    expect(run(m, addMemory(m, 1, 4 * G, 8 * G, dev))).toBe(0);
    const zones = Array.from({ length: 64 }, (_, i) => m.blocks.get(32 + i)?.validZones);
    const want = expected(node1Early, allEarly, 64);
    expect(zones).toEqual(want);
    // The rule really alternates here (some kernel blocks, then movable again).
    expect(want.indexOf('Normal')).toBe(24);
    expect(want.lastIndexOf('Movable')).toBeGreaterThan(24);
  });
  it('a pc-dimm (static group) stays in the kernel zone once part of it is there', () => {
    const m = qemu('6.1', 'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=20');
    // 20% of node 1's 262111 early kernel pages = 52422: one 32768-page block fits, the whole
    // 4-block dimm (s.max_pages 131072) does not, so its first block goes Normal, and then every
    // other block of it too (present_kernel_pages), although one block alone would fit.
    expect(run(m, addMemory(m, 1, 4 * G, 4 * M128))).toBe(0);
    expect(run(m, onlineBlock(m, 32, 'online'))).toBe(0);
    expect(m.blocks.get(32)?.validZones).toBe('Normal');
    expect(run(m, onlineBlock(m, 33, 'online'))).toBe(0);
    expect(m.blocks.get(33)?.validZones).toBe('Normal');
    expect(run(m, addMemory(m, 1, 5 * G, M128))).toBe(0);
    expect(run(m, onlineBlock(m, 40, 'online'))).toBe(0);
    expect(m.blocks.get(40)?.validZones).toBe('Movable');
  });
});

describe('/proc/iomem', () => {
  it('the firmware map after the early edits, then hot-added System RAM and a virtio-mem region with merged children', () => {
    const m = qemu('6.1', 'memhp_default_state=online');
    expect(run(m, addMemory(m, 1, 4 * G, 2 * M128))).toBe(0);
    expect(run(m, addMemory(m, 1, 8 * G, 2 * M128, { kind: 'virtio-mem', name: 'virtio0', regionStart: 8 * G, regionBytes: G }))).toBe(0);
    // No e820 in this machine: the memblock ranges stand in for it.
    expect(procIomem(m)).toBe(
      '00001000-0009efff : System RAM\n00100000-7ffdefff : System RAM\n100000000-10fffffff : System RAM\n200000000-23fffffff : virtio0\n  200000000-20fffffff : System RAM (virtio_mem)\n',
    );
    expect(run(m, offlineBlock(m, 64))).toBe(0);
    expect(run(m, removeMemory(m, 8 * G, M128))).toBe(0);
    expect(procIomem(m)).toContain('200000000-23fffffff : virtio0\n  208000000-20fffffff : System RAM (virtio_mem)\n');
  });
  const live = existsSync('/proc/iomem') ? readFileSync('/proc/iomem', 'utf8') : '';
  const readable = /^00001000-/m.test(live) && existsSync('/dev/kmsg');
  it.skipIf(!readable)(
    `the live machine: its dmesg e820 table gives its own /proc/iomem top-level firmware entries${unless(readable, '/proc/iomem hides its addresses (not root) or no /dev/kmsg')}`,
    () => {
      const m = bootMachine(loadMachine({ fromLive: true }), { memmapBoot: false });
      const top = (t: string): string[] => t.split('\n').filter((l) => /^[0-9a-f]+-[0-9a-f]+ : (System RAM|Reserved|ACPI Tables|ACPI Non-volatile Storage)$/.test(l));
      expect(top(procIomem(m))).toEqual(top(live));
    },
  );
  it("a machine file's e820 table: names by type", () => {
    const m = machineYaml(
      '6.1',
      `e820:\n  - { start: 0, end: 0x1000, type: reserved }\n  - { start: 0x1000, end: 0x9fc00, type: usable }\n  - { start: 0x9fc00, end: 0x100000, type: reserved }\n  - { start: 0x100000, end: 0x7ffdf000, type: usable }\n  - { start: 0x7ffdf000, end: 0x80000000, type: ACPI NVS }\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x7ffdf000 }] }\n`,
      { memmapBoot: false },
    );
    expect(procIomem(m)).toBe(
      '00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n0009fc00-000fffff : Reserved\n00100000-7ffdefff : System RAM\n7ffdf000-7fffffff : ACPI Non-volatile Storage\n',
    );
  });
  it('mmsim run --print iomem: the System RAM lines the real 6.1 guest showed (golden nvdimm report), then the dimm', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [join(root, 'dist/cli/main.js'), 'run', join(root, 'examples/dimm.scenario.yaml'), '--print', 'iomem'], { encoding: 'utf8' });
    const golden = join(sharedData, '..', 'qemu-oracle', 'golden', 'nvdimm', 'steps.txt');
    const ram = [
      ...new Set(
        readFileSync(golden, 'utf8')
          .split('\n')
          .filter((l) => /^[0-9a-f]+-[0-9a-f]+ : System RAM$/.test(l)),
      ),
    ];
    expect(ram).toHaveLength(2);
    expect(out).toContain(`##### step 1: iomem\n${ram.join('\n')}\n100000000-13fffffff : System RAM\n#####`);
  });
});

describe('offlining boot memory', () => {
  it('a block with a memory hole: EINVAL from 5.8 ("memory holes"); v5.3 offlines the RAM in it', () => {
    // Node 1's RAM ends at 0x7ffdf000, inside block 15 [0x78000000, 0x80000000): 32735 pages of RAM.
    const a = qemu('6.1', '');
    expect(run(a, offlineBlock(a, 15))).toBe(-22);
    expect(a.blocks.get(15)?.state).toBe('online');
    const b = qemu('5.3', '');
    const before = zone(b.state, 1, 'DMA32').presentPages;
    expect(run(b, offlineBlock(b, 15))).toBe(0);
    expect(before - zone(b.state, 1, 'DMA32').presentPages).toBe(0x7ffdf - 0x78000);
  });
  it("memblock-reserved pages make boot memory unmovable: EBUSY where a reserved range lies, or once the zone's reserved pages could not fit the rest", () => {
    const b = qemu('5.3', '');
    const z = zone(b.state, 1, 'DMA32');
    const reserved = z.presentPages - (z.managedPages ?? 0);
    expect(reserved).toBeGreaterThan(0);
    for (let id = 8; id <= 14; id++) expect(run(b, offlineBlock(b, id)), `memory${id}`).toBe(0);
    // Only block 15 is left online (32735 pages): it must keep the zone's reserved pages.
    expect(run(b, offlineBlock(b, 15))).toBe(-16);
    expect(z.managedPages).toBeGreaterThanOrEqual(0);
    const m = machineYaml(
      '6.1',
      'reserved: [{ start: 0x48000000, size: 0x200000 }]\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x80000000 }] }\n',
      { memmapBoot: false },
    );
    expect(run(m, offlineBlock(m, 9))).toBe(-16);
    expect(run(m, offlineBlock(m, 10))).toBe(0);
  });
});

describe('try_offline_node', () => {
  it('v5.3 takes a CPU-less node offline while a never-onlined block of it is still present (its node span is empty); the fix keeps it online', () => {
    // 2c91f8fc6c99: in the 5.4-rc8 shortlog (mainline 5.4), 5.3.12 and (backported) 4.19.100.
    for (const [kernel, online] of [
      ['5.3', false],
      ['6.1', true],
      ['5.4', true],
      ['5.3.11', false],
      ['5.3.12', true],
      ['4.19.99', false],
      ['4.19.100', true],
    ] as const) {
      const m = machineYaml(kernel, 'nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }\n  - { nid: 1, cpus: 0, memory: [] }\n', { memmapBoot: false });
      expect(run(m, addMemory(m, 1, 4 * G, M128))).toBe(0);
      expect(run(m, addMemory(m, 1, 5 * G, M128))).toBe(0);
      expect(run(m, onlineBlock(m, 32, 'online_movable'))).toBe(0);
      expect(run(m, offlineBlock(m, 32))).toBe(0);
      expect(run(m, removeMemory(m, 4 * G, M128))).toBe(0);
      expect(m.blocks.get(40)?.nid).toBe(1);
      expect(m.node(1).online, kernel).toBe(online);
    }
  });
});
