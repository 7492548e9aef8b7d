// Other architectures, each with values worked out by hand from the kernel source: arm64 with
// 16K and 64K pages (6.18 arch/arm64: SECTION_SIZE_BITS 27/29, ARCH_FORCE_MAX_ORDER 11/13,
// pageblock = PMD order), s390x (SECTION_SIZE_BITS 27, blocks of max(section, rzm)), and i386
// PAE with HighMem (4.9: FLATMEM, 40-byte struct page, 512 KiB batch cap).
import { describe, expect, it } from 'vitest';
import { pagesPerSection, pagesPerSubsection, pageblockNrPages } from '../src/arch/arch.js';
import { memoryDevInit } from '../src/kernel/memory_block.js';
import { bootYaml, zone } from './helpers.js';

const ARM = (page: number) => `
arch: arm64
config: { pageBytes: ${page} }
nodes:
  - nid: 0
    cpus: 4
    memory:
      - { start: 2G, end: 10G }
`;

describe('arm64 with 16K pages (6.18)', () => {
  const s = bootYaml('6.18', ARM(16384));
  it('has 128 MiB sections of 8192 pages, 32 MiB pageblocks, 2 MiB subsections', () => {
    expect(pagesPerSection(s.arch)).toBe(8192);
    expect(pageblockNrPages(s.arch)).toBe(2048);
    expect(pagesPerSubsection(s.arch)).toBe(128);
    expect(s.arch.maxOrderNrPages).toBe(2048);
  });
  it('puts DRAM below 4 GiB in ZONE_DMA, leaves DMA32 empty, the rest Normal', () => {
    expect(s.log.lines().slice(0, 5)).toEqual([
      'Zone ranges:',
      '  DMA      [mem 0x0000000080000000-0x00000000ffffffff]',
      '  DMA32    empty',
      '  Normal   [mem 0x0000000100000000-0x000000027fffffff]',
      '  Device   empty',
    ]);
    expect(zone(s, 0, 'DMA')).toMatchObject({ zoneStartPfn: 131072, spannedPages: 131072 });
    expect(zone(s, 0, 'Normal')).toMatchObject({ zoneStartPfn: 262144, spannedPages: 393216 });
    expect(s.totalPages).toBe(524288);
    expect(s.log.lines().some((l) => l.startsWith('x86/mm'))).toBe(false);
  });
  it('has 128 MiB memory blocks 16..79', () => {
    const mb = memoryDevInit(s);
    expect(mb.blockBytes).toBe(2 ** 27);
    expect(mb.blocks.map((b) => b.id)).toEqual(Array.from({ length: 64 }, (_, i) => 16 + i));
    expect(mb.blocks.find((b) => b.id === 31)?.validZones).toBe('DMA');
    expect(mb.blocks.find((b) => b.id === 32)?.validZones).toBe('Normal');
  });
});

describe('arm64 with 64K pages (6.18)', () => {
  const s = bootYaml('6.18', ARM(65536));
  it('has 512 MiB sections and pageblocks of 8192 pages, MAX_PAGE_ORDER 13', () => {
    expect(pagesPerSection(s.arch)).toBe(8192);
    expect(pageblockNrPages(s.arch)).toBe(8192);
    expect(s.arch.maxOrderNrPages).toBe(8192);
    expect(pagesPerSubsection(s.arch)).toBe(32);
  });
  it('has 512 MiB memory blocks 4..19 and the same zone bytes as with 4K pages', () => {
    const mb = memoryDevInit(s);
    expect(mb.blockBytes).toBe(2 ** 29);
    expect(mb.blocks.map((b) => b.id)).toEqual(Array.from({ length: 16 }, (_, i) => 4 + i));
    expect(zone(s, 0, 'DMA')).toMatchObject({ zoneStartPfn: 32768, spannedPages: 32768 });
    expect(s.log.lines()).toContain('  Normal   [mem 0x0000000100000000-0x000000027fffffff]');
  });
  it('rounds ZONE_MOVABLE to MAX_ORDER_NR_PAGES = 8192 pages (512 MiB)', () => {
    // movablecore=1G: 16384 pages rounded to 8192 stays 16384; kernelcore = 131072 - 16384
    // pages; the DMA zone (32768 pages below 4 GiB) counts first, so ZONE_MOVABLE starts at
    // pfn 65536 + (114688 - 32768) = 147456 (0x240000000).
    const m = bootYaml('6.18', ARM(65536).replace('arch: arm64', 'arch: arm64\ncmdline: movablecore=1G'));
    expect(m.log.lines()).toContain('  Node 0: 0x0000000240000000');
  });
});

describe('s390x with a 256 MiB storage increment', () => {
  const s = bootYaml(
    '6.18',
    `
arch: s390x
config: { rzmBytes: 256M }
nodes: [{ nid: 0, cpus: 2, memory: [{ start: 0, end: 6G }] }]
`,
  );
  it('has DMA below 2 GiB and Normal above, no Device zone, 1 MiB pageblocks', () => {
    expect(s.log.lines().slice(0, 3)).toEqual(['Zone ranges:', '  DMA      [mem 0x0000000000000000-0x000000007fffffff]', '  Normal   [mem 0x0000000080000000-0x000000017fffffff]']);
    expect(pageblockNrPages(s.arch)).toBe(256);
    expect(s.arch.zones).not.toContain('Device');
  });
  it('makes 24 blocks of 256 MiB (two 128 MiB sections each)', () => {
    const mb = memoryDevInit(s);
    expect(mb.blockBytes).toBe(2 ** 28);
    expect(mb.sectionsPerBlock).toBe(2);
    expect(mb.blocks).toHaveLength(24);
    expect(mb.blocks.find((b) => b.id === 7)?.validZones).toBe('DMA');
    expect(mb.blocks.find((b) => b.id === 8)?.validZones).toBe('Normal');
  });
  it('without rzm the block is one section', () => {
    const t = bootYaml('6.18', `arch: s390x\nnodes: [{ nid: 0, memory: [{ start: 0, end: 1G }] }]\n`);
    expect(memoryDevInit(t).blockBytes).toBe(2 ** 27);
  });
});

describe('i386 PAE with HighMem (4.9)', () => {
  const s = bootYaml(
    '4.9',
    `
arch: i386
config: { lowmemBytes: 0x38000000 }
nodes:
  - nid: 0
    cpus: 2
    memory:
      - { start: 0x1000, end: 0x9f000 }
      - { start: 0x100000, end: 0xc0000000 }
      - { start: 4G, end: 8G }
`,
  );
  it('prints the HighMem/LowMem split and the three zones', () => {
    expect(s.log.lines().slice(0, 8)).toEqual([
      '7296MB HIGHMEM available.',
      '896MB LOWMEM available.',
      '  mapped low ram: 0 - 38000000',
      '  low ram: 0 - 38000000',
      'Zone ranges:',
      '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      '  Normal   [mem 0x0000000001000000-0x0000000037ffffff]',
      '  HighMem  [mem 0x0000000038000000-0x00000001ffffffff]',
    ]);
  });
  it('charges 40-byte struct pages to lowmem zones only and sums Total pages', () => {
    const lines = s.log.lines();
    expect(lines).toContain('  DMA zone: 40 pages used for memmap');
    expect(lines).toContain('  Normal zone: 2200 pages used for memmap');
    expect(lines.some((l) => /HighMem zone: \d+ pages used for memmap/.test(l))).toBe(false);
    expect(lines).toContain('  HighMem zone: 1605632 pages, LIFO batch:31');
    expect(lines).toContain('Built 1 zonelists in Zone order, mobility grouping on.  Total pages: 1832670');
    expect(lines.some((l) => l.startsWith('Policy zone'))).toBe(false);
  });
  it('is FLATMEM: no sections, no memory blocks', () => {
    expect(s.sparse.sections.size).toBe(0);
    expect(memoryDevInit(s).blocks).toHaveLength(0);
  });
});
