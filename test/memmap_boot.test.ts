// Boot-time memmap states, worked out from the kernel's memmap_init / defer_init /
// init_unavailable_range / zero_resv_unavail / memmap_init_reserved_pages.
import { describe, expect, it } from 'vitest';
import { firstDeferredPfns, memmapBoot } from '../src/kernel/memmap_init.js';
import { ExtentMemmap } from '../src/memmap/extent.js';
import { makePageWriter } from '../src/memmap/page_writer.js';
import { bootYaml, STANDIN_SOURCE } from './helpers.js';

const SOURCE = STANDIN_SOURCE;

function store(state: ReturnType<typeof bootYaml>) {
  return new ExtentMemmap({ pagesPerSection: state.sparse.pagesPerSection, writer: makePageWriter(SOURCE), seed: 42 });
}

function linkOf(s: ExtentMemmap, pfn: number): { zone: number; nid: number; reserved: boolean } {
  const b = new Uint8Array(64);
  s.readRecord(pfn, b);
  const flags = new DataView(b.buffer).getBigUint64(0, true);
  return { zone: Number(flags >> 60n), nid: Number((flags >> 50n) & 0x3ffn), reserved: ((flags >> 13n) & 1n) === 1n };
}

const MACHINE = `
dmaReservePages: 0
reserved:
  - { start: 0x1000000, size: 32M }
  - { start: 0x140000000, size: 4M }
nodes:
  - nid: 0
    cpus: 2
    memory:
      - { start: 0x1000, end: 0x9f000 }
      - { start: 0x100000, end: 0xbff00000 }
      - { start: 4G, end: 6G }
  - nid: 1
    cpus: 2
    memory:
      - { start: 6G, end: 8G }
`;

describe('defer_init: first_deferred_pfn per node', () => {
  it('6.18: one section of the highest zone is initialised early, counted over memblock memory', () => {
    // Node 0's highest zone is Normal [0x100000, 0x180000). defer_init counts before it inits:
    // at pfn 0x108000 the count is 32769 > PAGES_PER_SECTION and the pfn is section-aligned,
    // so exactly one section is initialised early. Node 1 likewise from 0x180000: 0x188000.
    const fd = firstDeferredPfns(bootYaml('6.18', MACHINE));
    expect(fd.get(0)).toBe(0x108000);
    expect(fd.get(1)).toBe(0x188000);
  });
  it('is off without CONFIG_DEFERRED_STRUCT_PAGE_INIT', () => {
    expect(firstDeferredPfns(bootYaml('6.18', `config: { deferredStructPageInit: false }\n${MACHINE}`)).size).toBe(0);
  });
});

describe('after boot (6.18)', () => {
  const state = bootYaml('6.18', MACHINE);
  const s = store(state);
  const r = memmapBoot(state, s, { poison: false, runDeferred: false });

  it('fresh memmap is stale (raw memblock memory) without DEBUG_VM', () => {
    expect(r.fresh).toBe('stale');
  });
  it('holes get the zone of the range above them and PG_reserved (init_unavailable_range)', () => {
    expect(s.stateOf(0)).toBe('initialized');
    expect(linkOf(s, 0)).toEqual({ zone: 0, nid: 0, reserved: true });
    expect(linkOf(s, 0xbff00)).toEqual({ zone: 2, nid: 0, reserved: true });
    expect(linkOf(s, 0xbfeff)).toEqual({ zone: 1, nid: 0, reserved: false });
  });
  it('memblock.reserved gets PG_reserved; deferred reserved pages are initialised early', () => {
    expect(linkOf(s, 0x1000)).toEqual({ zone: 1, nid: 0, reserved: true });
    expect(linkOf(s, 0x3000)).toEqual({ zone: 1, nid: 0, reserved: false });
    // 0x140000 lies past node 0's first_deferred_pfn 0x108000: initialised by reserve_bootmem_region.
    expect(s.stateOf(0x140000)).toBe('initialized');
    expect(linkOf(s, 0x140000)).toEqual({ zone: 2, nid: 0, reserved: true });
  });
  it('deferred pfns stay uninitialised until deferred_init_memmap, exactly the free deferred ranges', () => {
    expect(s.stateOf(0x107fff)).toBe('initialized');
    expect(s.stateOf(0x108000)).toBe('stale');
    expect(s.stateOf(0x17ffff)).toBe('stale');
    expect(r.deferred.map((d) => [d.nid, d.start.toString(16), d.end.toString(16)])).toEqual([
      [0, '108000', '140000'],
      [0, '140400', '180000'],
      [1, '188000', '200000'],
    ]);
    const t = store(state);
    memmapBoot(state, t, { poison: false, runDeferred: true });
    for (const pfn of [0x108000, 0x13ffff, 0x140400, 0x17ffff, 0x188000, 0x1fffff]) expect(t.stateOf(pfn)).toBe('initialized');
    expect(linkOf(t, 0x1fffff)).toEqual({ zone: 2, nid: 1, reserved: false });
  });
  it('every pfn of a present section ends initialised', () => {
    const t = store(state);
    memmapBoot(state, t, { poison: true, runDeferred: true });
    for (const sec of state.sparse.sections.values()) {
      const base = sec.sectionNr * state.sparse.pagesPerSection;
      for (let pfn = base; pfn < base + state.sparse.pagesPerSection; pfn += 511) expect(t.stateOf(pfn), `pfn ${pfn}`).toBe('initialized');
    }
  });
});

describe('v5.3', () => {
  it('zeroes holes, walks zone spans, and leaves the last section tail uninitialised', () => {
    const state = bootYaml('5.3', `dmaReservePages: 0\nnodes: [{ nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x104000000 }] }]\n`);
    const s = store(state);
    memmapBoot(state, s, { poison: true, runDeferred: true });
    expect(s.stateOf(0)).toBe('zeroed'); // zero_resv_unavail: pfn 0 is a hole below max_pfn
    expect(s.stateOf(0x9f)).toBe('initialized'); // in the DMA span: memmap_init_zone init'd it
    expect(linkOf(s, 0x9f)).toEqual({ zone: 0, nid: 0, reserved: false });
    // [0x104000, 0x108000) is past max_pfn: v5.3 never touches it (fixed in 5.4/5.6).
    expect(s.stateOf(0x104000)).toBe('poisoned');
    expect(s.stateOf(0x107fff)).toBe('poisoned');
  });
});

describe('zero_resv_unavail / init_unavailable_mem: zeroed up to 5.5, initialised from 5.6 (issue 19 brackets)', () => {
  // Memory to 4 GiB + 64 MiB: the tail [0x104000, 0x108000) of the last section is past max_pfn and
  // outside every zone span; pfn 0 is below the DMA zone (which starts at pfn 1).
  // 5.5: zero_resv_unavail stops at max_pfn (e822969cab48 is v5.6-rc1): the tail keeps its poison.
  // 5.4.19: e822969cab48 backported, zero_pfn_range -> mm_zero_struct_page (5.4.18's is the same).
  // 5.6: init_unavailable_range (5.6.4) -> __init_single_page(page, pfn, 0, 0) + __SetPageReserved;
  //      node 0, zone 0 (DMA) (the test's stand-in record keeps PG_reserved at bit 13).
  const yaml = `dmaReservePages: 0\nnodes: [{ nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x104000000 }] }]\n`;
  const boot = (k: string): ExtentMemmap => {
    const state = bootYaml(k, yaml);
    const s = store(state);
    memmapBoot(state, s, { poison: true, runDeferred: true });
    return s;
  };
  it('5.5 leaves the tail, 5.4.19 zeroes it, 5.6 initialises it as node 0 zone 0 PG_reserved', () => {
    expect(boot('5.5').stateOf(0x104000)).toBe('poisoned');
    expect(boot('5.5').stateOf(0)).toBe('zeroed');
    const s5419 = boot('5.4.19');
    for (const pfn of [0, 0x104000, 0x107fff]) expect(s5419.stateOf(pfn), `5.4.19 pfn ${pfn}`).toBe('zeroed');
    const s56 = boot('5.6');
    for (const pfn of [0, 0x104000, 0x107fff]) {
      expect(s56.stateOf(pfn), `5.6 pfn ${pfn}`).toBe('initialized');
      expect(linkOf(s56, pfn), `5.6 pfn ${pfn}`).toEqual({ zone: 0, nid: 0, reserved: true });
    }
    // A hole inside the DMA span: memmap_init_zone (5.6/5.7 walk the whole span) re-initialises it
    // with the zone's link and no PG_reserved.
    expect(linkOf(s56, 0x9f)).toEqual({ zone: 0, nid: 0, reserved: false });
  });
});

describe('5.8-5.11 memmap_init by memblock range (73a6e474cb37; 5.7.14 walks the span, 5.8.1 the ranges)', () => {
  // Node 0's Normal zone [0x100000, 0x188000) holds two memblock ranges: [4G, 6G) and
  // [6G + 64M, 6G + 128M); the hole [0x180000, 0x184000) lies in a present section.
  const yaml = `dmaReservePages: 0\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 3G }, { start: 4G, end: 6G }, { start: 0x184000000, end: 0x188000000 }] }]\n`;
  it('defer_init: 5.7 and 5.12 count the zone from its start (0x108000); 5.8 only the range ending at the node end, 16384 pfns: nothing deferred', () => {
    // 5.7 memmap_init_zone over [0x100000, 0x188000): the 32769th valid pfn is 0x108000, aligned.
    // 5.12 memmap_init_range(..., zone_end_pfn): the same count over memblock memory.
    // 5.8.1 memmap_init_zone(size of [4G, 6G)): end_pfn 0x180000 < pgdat_end_pfn 0x188000, so
    // defer_init returns false for all of it; [0x184000, 0x188000) ends at the node's end but
    // holds 16384 <= PAGES_PER_SECTION pfns.
    expect(firstDeferredPfns(bootYaml('5.7', yaml)).get(0)).toBe(0x108000);
    expect(firstDeferredPfns(bootYaml('5.12', yaml)).get(0)).toBe(0x108000);
    expect(firstDeferredPfns(bootYaml('5.8', yaml)).get(0)).toBeUndefined();
  });
  it("the hole inside the Normal span: 5.7 initialises it with the zone, 5.8 leaves init_unavailable_mem's node 0, zone 0, PG_reserved", () => {
    // Without deferred init (with it, 5.7 defers the hole too and deferred_init_memmap only walks
    // memblock memory: the hole keeps init_unavailable_mem's values on both).
    const boot = (k: string): ExtentMemmap => {
      const state = bootYaml(k, `config: { deferredStructPageInit: false }\n${yaml}`);
      const s = store(state);
      memmapBoot(state, s, { poison: true, runDeferred: true });
      return s;
    };
    // x86_64 zones: DMA 0, DMA32 1, Normal 2.
    expect(linkOf(boot('5.7'), 0x180000)).toEqual({ zone: 2, nid: 0, reserved: false });
    expect(linkOf(boot('5.8'), 0x180000)).toEqual({ zone: 0, nid: 0, reserved: true });
    expect(linkOf(boot('5.8'), 0x184000)).toEqual({ zone: 2, nid: 0, reserved: false });
  });
});

describe('memmap_init_reserved_pages: reserved memory outside memblock.memory (6.1)', () => {
  // The QEMU pc layout: node 1's RAM ends at 0x7ffdf000, the firmware keeps the rest of low RAM,
  // and acpi_reserve_initial_tables puts the ACPI tables (0x7ffdf000-0x7ffe22be) in memblock.reserved.
  const GUEST = (deferred: boolean): string => `
dmaReservePages: 0
config: { deferredStructPageInit: ${deferred} }
reserved:
  - { start: 0x7ffdf000, size: 0x32bf }
nodes:
  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x40000000 }] }
  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }] }
`;
  it('init_reserved_page gives them first_online_node and MAX_NR_ZONES where deferred init has not reached', () => {
    // memmap_init's tail: init_unavailable_range(0x7ffdf, 0x80000, DMA32, node 1) (the last
    // range's node and zone). memmap_init_reserved_pages -> reserve_bootmem_region -> init_reserved_page:
    // early_pfn_to_nid(0x7ffdf) finds no memblock.memory region: first_online_node, 0. Node 0's
    // first_deferred_pfn is 0x10000 (its highest zone DMA32 starts at 0x1000; the 32769th pfn,
    // 0x9000, is not section-aligned, the next section start is), so 0x7ffdf >= it: no zone of
    // node 0 spans the pfn, zid ends at MAX_NR_ZONES = 5 (DMA, DMA32, Normal, Movable, Device);
    // __init_single_page(page, pfn, 5, 0), then __SetPageReserved.
    const state = bootYaml('6.1', GUEST(true));
    expect(firstDeferredPfns(state).get(0)).toBe(0x10000);
    const s = store(state);
    memmapBoot(state, s, { poison: false, runDeferred: true });
    for (const pfn of [0x7ffdf, 0x7ffe2]) expect(linkOf(s, pfn)).toEqual({ zone: 5, nid: 0, reserved: true });
    for (const pfn of [0x7ffe3, 0x7ffff]) expect(linkOf(s, pfn)).toEqual({ zone: 1, nid: 1, reserved: true });
  });
  it('without CONFIG_DEFERRED_STRUCT_PAGE_INIT init_reserved_page is empty: the tail keeps node 1 DMA32', () => {
    const state = bootYaml('6.1', GUEST(false));
    const s = store(state);
    memmapBoot(state, s, { poison: false, runDeferred: true });
    for (const pfn of [0x7ffdf, 0x7ffe2, 0x7ffff]) expect(linkOf(s, pfn)).toEqual({ zone: 1, nid: 1, reserved: true });
  });
});
