// ZONE_DEVICE core: the altmap allocator, memremap_pages / memmap_init_zone_device and
// memunmap_pages per profile, and the device-page checker. Expected values are worked out here
// from the kernel's rules (KERNEL-NOTES §1.5, §2.5, §7; mm/sparse-vmemmap.c, mm/memremap.c and
// drivers/nvdimm/pfn_devs.c of 5.3, 6.1 and 6.18.2) and from the QEMU 6.1 run (QEMU-ORACLE §4 (b)).
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/drivers/scheduler.js';
import { mightSleepChecker, type Checker } from '../src/kernel/debug.js';
import type { Task } from '../src/kernel/task.js';
import { hotplugCheckers, pageblockZoneChecker } from '../src/kernel/debug.js';
import type { Machine } from '../src/kernel/machine.js';
import { memremapPages, memunmapPages, pagePgmap, pgmapAddress } from '../src/kernel/memremap.js';
import { VmemAltmap, type DevPagemap, type PgmapType } from '../src/kernel/dev_pagemap.js';
import { structPageLayout } from '../src/kernel/page_layout.js';
import { pageConfigFor } from '../src/kernel/memmap_source.js';
import { printBootZoneinfo } from '../src/formats/zoneinfo-print.js';
import { machineYaml, zone } from './helpers.js';

const G = 2 ** 30;
const M = 2 ** 20;

function qemu(kernel: string, poison = false): Machine {
  return machineYaml(
    kernel,
    `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }], pmem: [{ start: 4G, size: 2G }] }\n`,
    { poison },
  );
}

/** The nvdimm pfn device's altmap for --map=dev (nd_pfn_init / __nvdimm_setup_pfn, §7.3) of an aligned namespace. */
function mapDevAltmap(startBytes: number, sizeBytes: number, alignBytes: number): { altmap: VmemAltmap; dataoff: number } {
  const infoBlock = 8192;
  const npfns = (sizeBytes - infoBlock) / 4096;
  const dataoff = Math.ceil((startBytes + infoBlock + 64 * npfns) / alignBytes) * alignBytes - startBytes;
  return { altmap: new VmemAltmap(startBytes / 4096, 2, (dataoff - infoBlock) / 4096), dataoff };
}

function pgmap(m: Machine, type: PgmapType, altmap: VmemAltmap | null, start = 4 * G, size = 2 * G): DevPagemap {
  return { name: 'dax0.0', type, start, end: start + size - 1, altmap, vmemmapShift: 0, address: pgmapAddress(m), nid: 1, initialisedTo: 0, live: true };
}

function run(m: Machine, task: Task<number>, extra: Checker[] = []): { rc: number; violations: string[] } {
  const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m), ...extra]);
  const id = s.spawn('op', task);
  s.runInOrder();
  return { rc: s.result(id) as number, violations: s.violations.map((v) => v.message) };
}

describe('vmem_altmap: altmap_alloc_block_buf', () => {
  it('a 2 GiB namespace mapped with --map=dev, 2 MiB aligned: 16 section PMDs fill free exactly after 510 pfns of padding', () => {
    const { altmap, dataoff } = mapDevAltmap(4 * G, 2 * G, 2 * M);
    expect(dataoff).toBe(34 * M); // the QEMU run: dax0.0 mapped from 0x102200000
    expect([altmap.reserve, altmap.free, altmap.offset]).toEqual([2, 8702, 8704]);
    const got: number[] = [];
    for (let i = 0; i < 16; i++) got.push(altmap.allocBlockBuf(512) as number);
    // First block: next pfn base+2 rounds up to the next 512-pfn boundary (padding 510).
    expect(got[0]).toBe(0x100200);
    expect(got.every((p, i) => p === 0x100200 + 512 * i)).toBe(true);
    expect([altmap.alloc, altmap.align, altmap.nrFree]).toEqual([8192, 510, 0]);
    expect(altmap.allocBlockBuf(512)).toBeNull();
    expect(altmap.allocBlockBuf(1)).toBeNull();
  });
  it('1 GiB alignment leaves most of the first GiB as memmap storage; small blocks align to their own size; exhaustion', () => {
    const { altmap, dataoff } = mapDevAltmap(4 * G, 2 * G, G);
    expect(dataoff).toBe(G);
    expect(altmap.free).toBe((G - 8192) / 4096);
    expect(altmap.allocBlockBuf(8)).toBe(0x100008); // 8-pfn unit: next pfn 0x100002 rounds to 0x100008
    expect([altmap.alloc, altmap.align]).toEqual([8, 6]);
    expect(altmap.allocBlockBuf(3)).toBe(0x100010); // unit 1: no padding
    const tiny = new VmemAltmap(0x100000, 2, 1000);
    expect(tiny.allocBlockBuf(512)).toBeNull(); // 512 + 510 padding > 1000
    expect([tiny.alloc, tiny.align]).toEqual([0, 0]);
    expect(tiny.allocBlockBuf(256)).toBe(0x100100); // 256 + 254 fits
  });
});

describe('memremap_pages', () => {
  it('6.1 devdax --map=dev on the 2 GiB NVDIMM: Device spanned 524288, present and managed 0, no start_pfn line; altmap pfns initialised under the lock, device pages after it', () => {
    const m = qemu('6.1');
    const { altmap } = mapDevAltmap(4 * G, 2 * G, 2 * M);
    const p = pgmap(m, 'generic', altmap);
    const held = new Map<number, boolean>();
    const probe: Checker = (_s, _t, y) => {
      if (y.op === 'set_pfnblock_flags') held.set(y.pfn, m.memHotplugLock.writer !== null);
      return null;
    };
    const r = run(m, memremapPages(m, p), [probe]);
    expect(r).toEqual({ rc: 0, violations: [] });
    expect(zone(m.state, 1, 'Device')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 524288, presentPages: 0 });
    const zi = printBootZoneinfo(m.state);
    const dev = zi.slice(zi.indexOf('Node 1, zone   Device'));
    expect(dev).toMatch(/^Node 1, zone   Device\n  pages free     0\n/);
    expect(dev.split('\n').slice(0, 12).join('\n')).toMatch(/spanned  524288\n\s+present  0\n\s+managed  0\n/);
    expect(dev).not.toMatch(/start_pfn/);
    // The altmap's memmap pfns [base+2, base+8704) under mem_hotplug_lock, the device pages from
    // pfn_first 0x102200 after it is dropped.
    expect(held.get(0x100200)).toBe(true);
    expect(held.get(0x102200)).toBe(false);
    // The reserve pfns are never initialised; altmap pfns have no pgmap; device pages have it.
    expect(m.store.stateOf(0x100000)).not.toBe('initialized');
    expect(m.store.stateOf(0x100002)).toBe('initialized');
    expect(pagePgmap(m, 0x100002)).not.toBe(p.address);
    expect(pagePgmap(m, 0x102200)).toBe(p.address);
    expect(pagePgmap(m, 0x17ffff)).toBe(p.address);
    expect(altmap.alloc).toBe(8192);
  });
  it('the refcount of a device page per kernel and type: v5.3 1; 6.1 0 for private/coherent; 6.18 1 only for generic', () => {
    const refcount = (kernel: string, type: PgmapType): number => {
      const m = qemu(kernel);
      const p = pgmap(m, type, null, 4 * G, 128 * M);
      expect(run(m, memremapPages(m, p)).rc).toBe(0);
      const rec = new Uint8Array(m.recordScratch.length);
      m.store.readRecord(0x100000, rec);
      const off = structPageLayout(pageConfigFor(m.state)).fields.get('_refcount')?.offset ?? -1;
      return new DataView(rec.buffer).getInt32(off, true);
    };
    expect(['fsdax', 'generic'].map((t) => refcount('5.3', t as PgmapType))).toEqual([1, 1]);
    expect(['fsdax', 'generic', 'private', 'coherent'].map((t) => refcount('6.1', t as PgmapType))).toEqual([1, 1, 0, 0]);
    expect(['fsdax', 'generic', 'private', 'p2pdma'].map((t) => refcount('6.18', t as PgmapType))).toEqual([0, 1, 0, 0]);
    // MEMORY_DEVICE_COHERENT came after 5.19: a kernel without it refuses the type.
    const m519 = qemu('5.19');
    expect(run(m519, memremapPages(m519, pgmap(m519, 'coherent', null, 4 * G, 128 * M))).rc).toBe(-22);
  });
  it('refusals: System RAM in the range (ENXIO), a second pgmap over the same pfns (ENOMEM), altmap too small (ENOMEM); nothing is left behind', () => {
    const m = qemu('6.1');
    expect(run(m, memremapPages(m, pgmap(m, 'fsdax', null, 0x40000000, 128 * M))).rc).toBe(-6);
    expect(run(m, memremapPages(m, pgmap(m, 'fsdax', null, 4 * G, 128 * M))).rc).toBe(0);
    expect(run(m, memremapPages(m, pgmap(m, 'fsdax', null, 4 * G, 256 * M))).rc).toBe(-12);
    expect(m.state.log.lines().at(-1)).toBe('Conflicting mapping in same section');
    const before = JSON.stringify(m.state.nodes);
    const small = new VmemAltmap((5 * G) / 4096, 2, 600);
    expect(run(m, memremapPages(m, pgmap(m, 'fsdax', small, 5 * G, 256 * M))).rc).toBe(-12);
    expect(JSON.stringify(m.state.nodes)).toBe(before);
    expect(m.state.sparse.runOf((5 * G) / 4096 / 32768)?.present ?? false).toBe(false);
    expect(m.pgmaps).toHaveLength(1);
  });
});

describe('memunmap_pages', () => {
  it('6.1: the Device span never shrinks (QEMU: still 524288 after destroy-namespace); v5.3 shrinks it, and its shrink_pgdat_span cuts node 1 short', () => {
    // v5.3 (mm/memory_hotplug.c 5.3.0 shrink_pgdat_span): removing the last section 0x178000
    // (node end == its end) runs find_biggest_section_pfn(1, NULL, 0x40000, 0x178000) a
    // subsection at a time: sections 0x100000-0x177fff are gone already (__remove_pages removes
    // one before shrinking for the next), so the first pfn_valid pfn is 0x7ffff, the
    // BIOS-reserved tail of node 1's early section 15 — never initialised, pfn_to_nid != 1 (the
    // PGFLAGS kernel BUGs on exactly this read, ../shared/kernels README) — then 0x7fdff, node 1:
    // node_spanned_pages = 0x7fdff - 0x40000 + 1 = 0x3fe00, and DMA32 [0x40000, 0x7ffdf) now
    // ends past the node. 6.1's update_pgdat_span takes the zones' spans and reads no page.
    for (const [kernel, spanned, violations] of [
      ['6.1', 524288, []],
      ['6.18', 524288, []],
      ['5.3', 0, ['zone DMA32 [ 0x40000 - 0x7ffdf ] outside node 1 span']],
    ] as const) {
      const m = qemu(kernel);
      const { altmap } = mapDevAltmap(4 * G, 2 * G, 2 * M);
      const p = pgmap(m, 'generic', altmap);
      expect(run(m, memremapPages(m, p)).rc).toBe(0);
      expect(run(m, memunmapPages(m, p))).toEqual({ rc: 0, violations });
      if (kernel === '5.3') expect([m.node(1).nodeStartPfn, m.node(1).nodeSpannedPages]).toEqual([0x40000, 0x3fe00]);
      expect(zone(m.state, 1, 'Device').spannedPages, kernel).toBe(spanned);
      expect(altmap.alloc).toBe(0);
      expect(m.state.sparse.runOf(0x100000 / 32768)?.present ?? false).toBe(false);
    }
  });
  it('with CONFIG_DEBUG_VM, v5.3 reads the never-initialised first page of an altmap range for its node (fixed by 77e080e7680e); 6.1 reads pfn_first', () => {
    for (const [kernel, bug] of [
      ['5.3', true],
      ['6.1', false],
    ] as const) {
      const m = qemu(kernel, true);
      const { altmap } = mapDevAltmap(4 * G, 2 * G, 2 * M);
      const p = pgmap(m, 'generic', altmap);
      expect(run(m, memremapPages(m, p)).violations).toEqual([]);
      const v = run(m, memunmapPages(m, p)).violations;
      if (bug) expect(v[0]).toBe('page:ffffea0004000000 is uninitialized and poisoned; page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))');
      else expect(v).toEqual([]);
    }
  });
});

describe('the device-page checker', () => {
  it('reports a device page whose page->pgmap is not its pgmap', () => {
    const m = qemu('6.1');
    const p = pgmap(m, 'fsdax', null, 4 * G, 128 * M);
    expect(run(m, memremapPages(m, p)).rc).toBe(0);
    const lru = (structPageLayout(pageConfigFor(m.state)).fields.get('lru')?.offset ?? 8) / 4;
    m.store.setWordsRange(0x100000 + 32767, 0x100000 + 32768, [
      [lru, 0],
      [lru + 1, 0],
    ]);
    // A reader's get_online_mems: a lock operation, at which a sequential run always runs the whole-state checkers.
    const noop = (function* (): Task<number> {
      yield { op: 'down_read', lock: m.memHotplugLock };
      return 0;
    })();
    expect(run(m, noop).violations).toEqual([`page:ffffea00041fffc0 pfn:0x107fff of dax0.0 has page->pgmap 0x0, not 0x${p.address.toString(16)}`]);
  });
});

describe('compound devmaps (vmemmap_shift)', () => {
  /** Struct pages memmap_init_zone_device writes (its work yields) and the pageblocks it sets (set_pfnblock_flags, each pageblock of a batch counted) for a 1 GiB devdax range at 4G. */
  function written(kernel: string, align: number, altmap: boolean): { pages: number; pageblocks: number } {
    const m = qemu(kernel);
    const a = altmap ? mapDevAltmap(4 * G, G, Math.max(align, 2 * M)).altmap : null;
    const p: DevPagemap = { ...pgmap(m, 'generic', a, 4 * G, G), vmemmapShift: Math.log2(align / 4096) };
    let pages = 0;
    let pageblocks = 0;
    const count: Checker = (_s, _t, y) => {
      if (y.op === 'work' && y.work === 'memmap-init-zone-device') pages += y.nrPages;
      if (y.op === 'set_pfnblock_flags' && y.pfn >= 0x100000 + (a?.offset ?? 0)) pageblocks += y.nr ?? 1;
      return null;
    };
    const r = run(m, memremapPages(m, p), [count]);
    expect(r).toEqual({ rc: 0, violations: [] });
    return { pages, pageblocks };
  }
  it('6.1, no altmap: 4K writes every page; 2M and 1G write 128 struct pages per compound page (2 vmemmap pages), and 1G leaves 511 of 512 pageblocks at 0, MIGRATE_UNMOVABLE (never set_pfnblock_flags_mask)', () => {
    expect(written('6.1', 4096, false)).toEqual({ pages: 262144, pageblocks: 512 });
    expect(written('6.1', 2 * M, false)).toEqual({ pages: 512 * 128, pageblocks: 512 });
    expect(written('6.1', G, false)).toEqual({ pages: 128, pageblocks: 1 });
  });
  it('with an altmap (--map=dev) every struct page of the device range is written', () => {
    const { altmap } = mapDevAltmap(4 * G, G, 2 * M);
    expect(written('6.1', 2 * M, true).pages).toBe(262144 - altmap.offset);
    expect(written('6.18', G, true).pages).toBe(262144 - mapDevAltmap(4 * G, G, G).altmap.offset);
  });
  it('a batch of pageblocks (set_pfnblock_flags with nr and stride) trips zone_spans_pfn at its first pfn outside the span, as one yield per pageblock would', () => {
    const m = qemu('6.18');
    const z = zone(m.state, 1, 'DMA32'); // node 1's [1 GiB, 0x7ffdf000): pfns [0x40000, 0x7ffdf)
    expect([z.zoneStartPfn, z.zoneStartPfn + z.spannedPages]).toEqual([0x40000, 0x7ffdf]);
    const check = pageblockZoneChecker(m);
    const s = new Scheduler([]);
    const at = (pfn: number, nr: number, stride: number): string | null => check(s, 0, { op: 'set_pfnblock_flags', zone: z, pfn, nr, stride })?.message ?? null;
    // 0x7fa00, 0x7fc00, 0x7fe00 lie inside; 0x80000 is the first outside.
    expect(at(0x7fa00, 3, 0x200)).toBeNull();
    expect(at(0x7fa00, 4, 0x200)).toMatch(/ pfn:0x80000 node 1 zone DMA32; /);
    expect(at(0x3fe00, 4, 0x200)).toMatch(/ pfn:0x3fe00 node 1 zone DMA32; /);
    expect(at(0x40000, 0x1fff, 0x20)).toBeNull(); // up to 0x7ffc0
    expect(at(0x40000, 0x2000, 0x20)).toMatch(/ pfn:0x7ffe0 /);
  });
  it('heads carry PG_head and the pgmap, tails point at their head (compound_head | 1) and reach the pgmap through it; refcount 0 on tails', () => {
    const m = qemu('6.1');
    const p: DevPagemap = { ...pgmap(m, 'generic', null, 4 * G, 128 * M), vmemmapShift: 9 };
    expect(run(m, memremapPages(m, p))).toEqual({ rc: 0, violations: [] });
    const rec = new Uint8Array(m.recordScratch.length);
    const dv = new DataView(rec.buffer);
    m.store.readRecord(0x100200 + 300, rec); // an aliased tail (past the 128 written)
    expect(dv.getBigUint64(8, true)).toBe(0xffffea0000000000n + 0x100200n * 64n + 1n);
    expect(pagePgmap(m, 0x100200 + 300)).toBe(p.address);
    expect(pagePgmap(m, 0x100200)).toBe(p.address);
    const off = structPageLayout(pageConfigFor(m.state)).fields.get('_refcount')?.offset ?? -1;
    expect(dv.getInt32(off, true)).toBe(0);
    // 5.15 has no vmemmap_shift: the pgmap is refused.
    const old = qemu('5.15');
    expect(run(old, memremapPages(old, { ...pgmap(old, 'generic', null, 4 * G, 128 * M), vmemmapShift: 9 })).rc).toBe(-22);
  });
});

describe('sub-section ZONE_DEVICE', () => {
  /** RAM up to 0x7c000000, so section 15 [0x78000000, 0x80000000) is half RAM; pmem from 0x7c000000. */
  function shared(kernel: string): Machine {
    return machineYaml(kernel, `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x7c000000 }], pmem: [{ start: 0x7c000000, size: 0x4000000 }] }\n`);
  }
  const pm = (m: Machine): DevPagemap => ({
    name: 'pmem0',
    type: 'fsdax',
    start: 0x7c000000,
    end: 0x7fffffff,
    altmap: null,
    vmemmapShift: 0,
    address: pgmapAddress(m),
    nid: 0,
    initialisedTo: 0,
    live: true,
  });
  it('shares the early section: subsection bits set, SECTION_TAINT_ZONE_DEVICE from 5.12, and pfn_to_online_page then says no for device pfns', async () => {
    const { pfnToOnlinePage } = await import('../src/kernel/mm.js');
    for (const [kernel, taint] of [
      ['5.11', false],
      ['6.1', true],
      ['6.18', true],
    ] as const) {
      const m = shared(kernel);
      const before = m.state.sparse.subsectionMap(15);
      const p = pm(m);
      expect(run(m, memremapPages(m, p))).toEqual({ rc: 0, violations: [] });
      expect(m.state.sparse.subsectionMap(15), kernel).toBe(m.state.sparse.fullSubsectionMap);
      expect(before).toBe((1n << 32n) - 1n); // the RAM half: subsections 0..31
      expect(m.state.sparse.deviceTainted.has(15), kernel).toBe(taint);
      expect(m.state.sparse.sections.get(15)?.deviceTainted).toBe(taint);
      // A device pfn in the online section: 5.11's pfn_to_online_page hands out its page.
      expect(pfnToOnlinePage(m, 0x7c000), kernel).toBe(!taint);
      expect(pfnToOnlinePage(m, 0x7bfff), kernel).toBe(true);
      // Unmapping clears the device's subsections; the early section stays.
      expect(run(m, memunmapPages(m, p)).rc).toBe(0);
      expect(m.state.sparse.subsectionMap(15)).toBe(before);
      expect(m.state.sparse.runOf(15)?.present).toBe(true);
    }
  });
  it('a second pgmap over the same pfns is refused (ENOMEM, "Conflicting mapping in same section") and leaves the subsection map as it was', () => {
    const m = shared('6.1');
    expect(run(m, memremapPages(m, pm(m))).rc).toBe(0);
    const map = m.state.sparse.subsectionMap(15);
    const other: DevPagemap = { ...pm(m), start: 0x7e000000, end: 0x81ffffff, name: 'pmem1', address: pgmapAddress(m) };
    expect(run(m, memremapPages(m, other)).rc).toBe(-12); // its first pfn is in pmem0: "Conflicting mapping in same section"
    expect(m.state.sparse.subsectionMap(15)).toBe(map);
  });
});
