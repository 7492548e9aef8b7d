// Unit tests of the boot layout. Every expected number is worked out by hand from the kernel
// function named in the test (6.18 mm/mm_init.c unless said otherwise), not from mmsim.
import { describe, expect, it } from 'vitest';
import { bootYaml, zone } from './helpers.js';

const PC_LOW = `
      - { start: 0x1000, end: 0x9f000 }`;

describe('hole at a zone boundary (memmap_init / init_unavailable_range)', () => {
  // DMA32 memory ends 1 MiB below 4 GiB; the PCI hole runs to 4 GiB where Normal starts.
  const yaml = `
nodes:
  - nid: 0
    cpus: 2
    memory:${PC_LOW}
      - { start: 0x100000, end: 0xbff00000 }
      - { start: 4G, end: 5G }
`;
  const s = bootYaml('6.18', yaml);

  it('spans and present pages per zone (zone_spanned_pages_in_node, zone_absent_pages_in_node)', () => {
    expect(zone(s, 0, 'DMA')).toMatchObject({ zoneStartPfn: 1, spannedPages: 4095, presentPages: 158 + 3840 });
    // DMA32 spans [0x1000, 0x100000) though memory stops at 0xbff00.
    expect(zone(s, 0, 'DMA32')).toMatchObject({
      zoneStartPfn: 0x1000,
      spannedPages: 0x100000 - 0x1000,
      presentPages: 0xbff00 - 0x1000,
    });
    expect(zone(s, 0, 'Normal')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 0x40000, presentPages: 0x40000 });
  });

  it('counts the hole in the zone above it, and only its valid (present-section) pfns', () => {
    // Hole [0xbff00, 0x100000): only section 23 [0xb8000, 0xc0000) exists -> 0x100 pages,
    // attributed to Normal, the zone of the range after the hole.
    expect(s.log.lines()).toContain('On node 0, zone Normal: 256 pages in unavailable ranges');
    expect(s.log.lines()).toContain('On node 0, zone DMA: 1 pages in unavailable ranges');
    expect(s.log.lines()).toContain('On node 0, zone DMA: 97 pages in unavailable ranges');
    expect(s.log.lines().filter((l) => l.includes('unavailable'))).toHaveLength(3);
  });

  it('v5.3 zeroes the same holes once, below max_pfn (zero_resv_unavail)', () => {
    const old = bootYaml('5.3', yaml);
    // pfn 0 + [0x9f, 0x100) + [0xbff00, 0xc0000) = 1 + 97 + 256.
    expect(old.log.lines()).toContain('Zeroed struct page in unavailable ranges: 354 pages');
  });
});

describe('a node spanning several zones (calculate_node_totalpages)', () => {
  const s = bootYaml(
    '6.18',
    `
nodes:
  - nid: 0
    cpus: 4
    memory:${PC_LOW}
      - { start: 0x100000, end: 2G }
  - nid: 1
    cpus: 4
    memory:
      - { start: 2G, end: 3G }
      - { start: 4G, end: 8G }
`,
  );
  it('node 1 has DMA32 with a hole and Normal', () => {
    const n1 = s.nodes.find((n) => n.nodeId === 1);
    expect(n1).toMatchObject({ nodeStartPfn: 0x80000, nodeSpannedPages: 0x180000, nodePresentPages: 0x40000 + 0x100000 });
    expect(zone(s, 1, 'DMA')).toMatchObject({ spannedPages: 0, presentPages: 0, zoneStartPfn: 0 });
    expect(zone(s, 1, 'DMA32')).toMatchObject({ zoneStartPfn: 0x80000, spannedPages: 0x80000, presentPages: 0x40000 });
    expect(zone(s, 1, 'Normal')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 0x100000, presentPages: 0x100000 });
    expect(s.log.lines()).toContain('Initmem setup node 1 [mem 0x0000000080000000-0x00000001ffffffff]');
  });
  it('the node span of node 0 ends where its memory ends', () => {
    expect(zone(s, 0, 'DMA32')).toMatchObject({ zoneStartPfn: 0x1000, spannedPages: 0x80000 - 0x1000 });
    expect(zone(s, 0, 'Normal')).toMatchObject({ spannedPages: 0 });
  });
});

describe('memoryless node', () => {
  const yaml = `
nodes:
  - nid: 0
    cpus: 4
    memory:${PC_LOW}
      - { start: 0x100000, end: 4G }
  - nid: 1
    cpus: 4
`;
  it('6.18 prints "as memoryless" in node order (free_area_init_node)', () => {
    const lines = bootYaml('6.18', yaml).log.lines();
    const i0 = lines.indexOf('Initmem setup node 0 [mem 0x0000000000001000-0x00000000ffffffff]');
    const i1 = lines.indexOf('Initmem setup node 1 as memoryless');
    expect(i0).toBeGreaterThanOrEqual(0);
    expect(i1).toBe(i0 + 1);
    expect(lines).toContain('Built 2 zonelists, mobility grouping on.  Total pages: 1048478');
  });
  it('v5.3 sets it up late with an empty range (x86 init_memory_less_node)', () => {
    // v5.3 needs dma_reserve for Total pages; give it as the log line would.
    const lines = bootYaml('5.3', `dmaReservePages: 100\n${yaml}`).log.lines();
    const late = lines.indexOf('Initmem setup node 1 [mem 0x0000000000000000-0x0000000000000000]');
    expect(late).toBeGreaterThan(lines.indexOf('Initmem setup node 0 [mem 0x0000000000001000-0x00000000ffffffff]'));
    expect(lines[late + 1]).toBe('On node 1 totalpages: 0');
    expect(lines[late + 2]).toMatch(/^Built 2 zonelists, mobility grouping on\./);
  });
});

describe('find_zone_movable_pfns_for_nodes', () => {
  it('movablecore as a percent: rounded up to MAX_ORDER_NR_PAGES, kernelcore is the rest', () => {
    // totalpages = 158 + 524032 + 3670016 = 4194206; 25% -> 1048551 -> up to 1048576 movable;
    // kernelcore 3145630: 158 + 524032 below 4 GiB, 2621440 above -> movable from 0x380000.
    const s = bootYaml(
      '6.18',
      `
cmdline: movablecore=25%
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 2G }
      - { start: 4G, end: 18G }
`,
    );
    expect(s.log.lines()).toContain('  Node 0: 0x0000000380000000');
    expect(zone(s, 0, 'Normal')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 0x280000 });
    expect(zone(s, 0, 'Movable')).toMatchObject({ zoneStartPfn: 0x380000, spannedPages: 0x100000, presentPages: 0x100000 });
  });

  it('kernelcore spread over nodes: each node gets kernelcore / nodes, node 0 mostly below 4 GiB', () => {
    // kernelcore=4G = 1048576 pages, 524288 per node. Node 0 has 524190 below 4 GiB, so 98
    // pages of Normal -> 0x100062, rounded up to 1024 -> 0x100400. Node 1: 0x180000 + 524288.
    const s = bootYaml(
      '6.18',
      `
cmdline: kernelcore=4G
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 2G }
      - { start: 4G, end: 6G }
  - nid: 1
    memory:
      - { start: 6G, end: 14G }
`,
    );
    expect(s.log.lines()).toContain('  Node 0: 0x0000000100400000');
    expect(s.log.lines()).toContain('  Node 1: 0x0000000200000000');
    expect(zone(s, 0, 'Normal')).toMatchObject({ spannedPages: 1024 });
    expect(zone(s, 0, 'Movable')).toMatchObject({ zoneStartPfn: 0x100400, spannedPages: 0x180000 - 0x100400 });
    expect(zone(s, 1, 'Normal')).toMatchObject({ zoneStartPfn: 0x180000, spannedPages: 0x80000 });
    expect(zone(s, 1, 'Movable')).toMatchObject({ zoneStartPfn: 0x200000, spannedPages: 0x180000 });
  });

  it('movable_node: ZONE_MOVABLE starts at the lowest hot-pluggable region of each node', () => {
    const s = bootYaml(
      '6.18',
      `
cmdline: movable_node
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 4G }
      - { start: 4G, end: 8G }
  - nid: 1
    memory:
      - { start: 8G, end: 16G, hotpluggable: true }
`,
    );
    expect(s.log.lines()).toContain('  Node 1: 0x0000000200000000');
    expect(zone(s, 1, 'Normal')).toMatchObject({ spannedPages: 0 });
    expect(zone(s, 1, 'Movable')).toMatchObject({ zoneStartPfn: 0x200000, spannedPages: 0x200000 });
  });
});

describe('mem= truncation (x86 parse_memopt: RAM at or above the limit is removed)', () => {
  const s = bootYaml(
    '6.18',
    `
cmdline: mem=6G
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 3G }
      - { start: 4G, end: 9G }
`,
  );
  it('cuts the Normal zone at 6 GiB', () => {
    expect(s.log.lines()).toContain('  Normal   [mem 0x0000000100000000-0x000000017fffffff]');
    expect(s.log.lines()).toContain('  node   0: [mem 0x0000000100000000-0x000000017fffffff]');
    expect(zone(s, 0, 'Normal')).toMatchObject({ spannedPages: 0x80000, presentPages: 0x80000 });
    expect(s.maxPfn).toBe(0x180000);
  });
});

describe('probe_memory_block_size (arch/x86/mm/init_64.c)', () => {
  // 96 GiB + 128 MiB: not 2 GiB aligned at the end.
  const yaml = (hv: string) => `
hypervisor: ${hv}
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 2G }
      - { start: 4G, end: 0x1808000000 }
`;
  it('6.18 bare metal takes 2 GiB at once; under a hypervisor the end alignment decides', () => {
    expect(bootYaml('6.18', yaml('null')).memoryBlockBytes).toBe(2 ** 31);
    expect(bootYaml('6.18', yaml('KVM')).memoryBlockBytes).toBe(128 * 2 ** 20);
  });
  it('v5.3 always searches the alignment', () => {
    expect(bootYaml('5.3', yaml('null')).memoryBlockBytes).toBe(128 * 2 ** 20);
  });
  it('below 64 GiB it is 128 MiB', () => {
    expect(bootYaml('6.18', `nodes: [{ nid: 0, memory: [{ start: 0x100000, end: 32G }] }]`).memoryBlockBytes).toBe(128 * 2 ** 20);
  });
});

describe('profile features that change the layout between versions', () => {
  it('zone_movable_pfn at the end of a node is cleared from 5.19 on, printed before', () => {
    // kernelcore=4G over two nodes: node 0 lies wholly below 4 GiB, so its kernelcore walk stops
    // at its end (0x80000); node 1 takes 524288 + 98 pages of Normal -> 0x180062 -> 0x180400.
    const yaml = `
cmdline: kernelcore=4G
dmaReservePages: 0
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 2G }
  - nid: 1
    memory:
      - { start: 4G, end: 12G }
`;
    const now = bootYaml('6.18', yaml).log.lines();
    expect(now).not.toContain('  Node 0: 0x0000000080000000');
    expect(now).toContain('  Node 1: 0x0000000180400000');
    const old = bootYaml('5.3', yaml).log.lines();
    expect(old).toContain('  Node 0: 0x0000000080000000');
    expect(old).toContain('  Node 1: 0x0000000180400000');
  });

  it('kernelcore=mirror without mirrored memory: ignored with a warning from 6.6, applied before', () => {
    const yaml = `
cmdline: kernelcore=mirror
dmaReservePages: 0
nodes:
  - nid: 0
    memory:${PC_LOW}
      - { start: 0x100000, end: 2G }
      - { start: 4G, end: 8G }
`;
    const now = bootYaml('6.18', yaml).log.lines();
    expect(now).toContain('The system has no mirror memory, ignore kernelcore=mirror.');
    expect(now.some((l) => /^  Node 0: /.test(l))).toBe(false);
    // v5.3: every region is unmirrored; those below 4 GiB only warn, the one at 4 GiB starts
    // ZONE_MOVABLE.
    const old = bootYaml('5.3', yaml).log.lines();
    expect(old).toContain('This configuration results in unmirrored kernel memory.');
    expect(old).toContain('  Node 0: 0x0000000100000000');
  });

  it('5.19-6.7 print "Initializing node N as memoryless" before the Initmem line', () => {
    const yaml = `
nodes:
  - { nid: 0, cpus: 2, memory: [{ start: 0x100000, end: 4G }] }
  - { nid: 1, cpus: 2 }
`;
    const l61 = bootYaml('6.1', yaml).log.lines();
    const i = l61.indexOf('Initializing node 1 as memoryless');
    expect(i).toBeGreaterThan(0);
    expect(l61[i + 1]).toBe('Initmem setup node 1 as memoryless');
    expect(bootYaml('6.8', yaml).log.lines()).not.toContain('Initializing node 1 as memoryless');
  });

  it('4.15-4.17 count reserved-but-unavailable pages after the nodes, when memblock.reserved is known', () => {
    // Reserved [0x9f000, 0x100000) of which [0x9f000, 0xa0000)... all of it lies in the hole
    // [0x9f, 0x100) of section 0 -> 97 pages; the reserved page 0 is a hole too -> 1 more.
    const yaml = `
dmaReservePages: 0
reserved:
  - { start: 0, size: 0x1000 }
  - { start: 0x9f000, end: 0x100000 }
  - { start: 0x1000000, size: 16M }
nodes:
  - { nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }
`;
    const lines = bootYaml('4.16', yaml).log.lines();
    expect(lines).toContain('Reserved but unavailable: 98 pages');
    expect(lines.indexOf('Reserved but unavailable: 98 pages')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Initmem setup node 0')));
    const unknown = bootYaml('4.16', yaml.replace(/reserved:\n(  - .*\n)+/, ''));
    expect(unknown.log.omissions().map((o) => o.what)).toContain('Reserved but unavailable: N pages');
  });

  it('4.19.0-4.19.102 count reserved-but-unavailable pages before the nodes; 4.19.103 zeroes the holes of memblock.memory instead', () => {
    // 4.19.1 (chens37/linux-4.19.1) free_area_init_nodes: zero_resv_unavail() over
    // for_each_resv_unavail_range, then for_each_online_node free_area_init_node (e181ae0c5db9,
    // 4.18). Same reserved ranges as the 4.16 case: page 0 (1) + [0x9f, 0x100) (97) = 98.
    // 4.19.103 (907ec5fca3dc, ec393a0f014e, e822969cab48; 4.19.108 read): the holes of memory,
    // [0, 1) + [0x9f, 0x100) + [max_pfn 0x100000, round_up(0x100000, 0x8000)) = 1 + 97 + 0.
    const yaml = `
dmaReservePages: 0
reserved:
  - { start: 0, size: 0x1000 }
  - { start: 0x9f000, end: 0x100000 }
nodes:
  - { nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }
`;
    const before = (k: string): [number, number] => {
      const lines = bootYaml(k, yaml).log.lines();
      return [lines.indexOf('Reserved but unavailable: 98 pages'), lines.findIndex((l) => l.startsWith('On node 0 totalpages:'))];
    };
    const [r419, n419] = before('4.19.102');
    expect(r419).toBeGreaterThanOrEqual(0);
    expect(r419).toBeLessThan(n419);
    const [r416, n416] = before('4.16');
    expect(n416).toBeGreaterThanOrEqual(0);
    expect(r416).toBeGreaterThan(n416);
    const l103 = bootYaml('4.19.103', yaml).log.lines();
    expect(l103).toContain('Zeroed struct page in unavailable ranges: 98 pages');
    expect(l103.some((l) => l.startsWith('Reserved but unavailable'))).toBe(false);
  });

  it('5.6, 5.4.19+ and 4.19.103+ count the zeroed tail up to the section end (e822969cab48), 5.3, 5.4.18 and 5.5 only to max_pfn', () => {
    // Memory ends at 4 GiB + 64 MiB: the section [0x100000, 0x108000) is half memory.
    const yaml = `
dmaReservePages: 0
nodes:
  - { nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 3G }, { start: 4G, end: 0x104000000 }] }
`;
    // Holes: pfn 0 (1) + [0x9f, 0x100) (97) + none between 3G and 4G (sections absent).
    expect(bootYaml('5.3', yaml).log.lines()).toContain('Zeroed struct page in unavailable ranges: 98 pages');
    // 5.4.19: plus the tail [0x104000, 0x108000) = 16384 pages (e822969cab48 in the 5.4.19
    // announcement; 5.4.18's tree, wuyansky/Linux-5.4.18, stops at max_pfn).
    for (const k of ['5.4.19', '5.6', '4.19.103']) expect(bootYaml(k, yaml).log.lines(), k).toContain('Zeroed struct page in unavailable ranges: 16482 pages');
    for (const k of ['5.4.18', '5.4', '5.5', '4.20']) expect(bootYaml(k, yaml).log.lines(), k).toContain('Zeroed struct page in unavailable ranges: 98 pages');
  });
});
