// kmem -n and page: the formatters of `mmsim kmem -n` (crash's kmem -n) and `mmsim page` (drgn's
// struct page printing), checked against crash's documented sample (help.c) and against output of
// crash's own print statements, and a struct page worked out by hand in drgn's format.
import { describe, expect, it } from 'vitest';
import { formatKmemN, memoryBlockStateName, memSectionStateLetters, type KmemNBlock, type KmemNInput, type KmemNSection, type KmemNZone } from '../src/formats/kmem.js';
import { formatPage, formatPages, pageFieldsFromRaw, xxdDump, type PageFields, type PageView } from '../src/formats/page-print.js';

const zone = (index: number, name: string, spannedPages: number, startPfn: number): KmemNZone => ({
  index,
  name,
  spannedPages,
  presentPages: spannedPages,
  startPfn,
});

/** kernel virtual addresses of pg_data_t/zone/mem_section/memory_block: mmsim prints dashes. */
const dashAddrs = (line: string): string => line.replace(/ffff8800[0-9a-f]{8}/g, '-'.repeat(16));

describe('kmem -n against the sample in crash help.c', () => {
  // crash-utility/crash help.c (help_kmem[], "Display memory node data"), at abcb45e7: the
  // 4-space indent of the help text removed. The section and memory-block lines of the sample are
  // trimmed (crash pads the PFN and START_SECTION_NO columns), and the memory-block table is from
  // the first version of that table (crash commit e342618, 2018), before the NODE column and the
  // current spacing.
  const HELP_NODES = [
    'NODE    SIZE      PGLIST_DATA       BOOTMEM_DATA       NODE_ZONES   ',
    '  0    262095   ffff88003d52a000        ----        ffff88003d52a000',
    '                                                    ffff88003d52a740',
    '                                                    ffff88003d52ae80',
    '                                                    ffff88003d52b5c0',
    '    MEM_MAP          START_PADDR    START_MAPNR',
    'ffffea0000000040        1000             1     ',
    '',
    'ZONE  NAME         SIZE       MEM_MAP      START_PADDR  START_MAPNR',
    '  0   DMA          4095  ffffea0000000040         1000            1',
    '  1   DMA32      258000  ffffea0000040000      1000000         4096',
    '  2   Normal          0                 0            0            0',
    '  3   Movable         0                 0            0            0',
    '',
    '-------------------------------------------------------------------',
    '',
    'NR      SECTION        CODED_MEM_MAP        MEM_MAP       STATE PFN',
  ];
  const HELP_SECTIONS = [
    ' 0  ffff88003d4d9000  ffffea0000000000  ffffea0000000000   PM   0',
    ' 1  ffff88003d4d9020  ffffea0000000000  ffffea0000200000   PM   32768',
    ' 2  ffff88003d4d9040  ffffea0000000000  ffffea0000400000   PM   65536',
    ' 3  ffff88003d4d9060  ffffea0000000000  ffffea0000600000   PM   98304',
    ' 4  ffff88003d4d9080  ffffea0000000000  ffffea0000800000   PM   131072',
    ' 5  ffff88003d4d90a0  ffffea0000000000  ffffea0000a00000   PM   163840',
    ' 6  ffff88003d4d90c0  ffffea0000000000  ffffea0000c00000   PM   196608',
    ' 7  ffff88003d4d90e0  ffffea0000000000  ffffea0000e00000   PM   229376',
  ];
  const HELP_BLOCKS = [
    '   MEM_BLOCK        NAME     PHYSICAL RANGE      STATE   START_SECTION_NO',
    ' ffff88003a707c00  memory0          0 -  7ffffff ONLINE  0',
    ' ffff88003a6e0000  memory1    8000000 -  fffffff ONLINE  1',
    ' ffff88003a6e1000  memory2   10000000 - 17ffffff ONLINE  2',
    ' ffff88003a6e1400  memory3   18000000 - 1fffffff ONLINE  3',
    ' ffff88003a6e1800  memory4   20000000 - 27ffffff ONLINE  4',
    ' ffff88003a6e0400  memory5   28000000 - 2fffffff ONLINE  5',
    ' ffff88003a6e0800  memory6   30000000 - 37ffffff ONLINE  6',
    ' ffff88003a6e0c00  memory7   38000000 - 3fffffff ONLINE  7',
  ];

  // The machine of the sample: 1 GiB, one node from pfn 1, 128 MiB sections and blocks, a kernel
  // of 2018 (sections P and M only, no memory_block.nid).
  const sections: KmemNSection[] = [...Array(8).keys()].map((nr) => ({
    nr,
    pfn: nr * 32768,
    flags: { present: true, hasMemMap: true, online: false, early: false },
  }));
  const blocks: KmemNBlock[] = [...Array(8).keys()].map((id) => ({
    id,
    startPhys: BigInt(id) * 0x8000000n,
    sizeBytes: 0x8000000n,
    node: 0,
    state: 'online',
    startSectionNr: id,
  }));
  const input: KmemNInput = {
    nodes: [
      {
        nid: 0,
        spannedPages: 262095,
        presentPages: 261998,
        startPfn: 1,
        zones: [zone(0, 'DMA', 4095, 1), zone(1, 'DMA32', 258000, 4096), zone(2, 'Normal', 0, 0), zone(3, 'Movable', 0, 0)],
      },
    ],
    sections,
    blocks,
    vmemmapBase: 0xffffea0000000000n,
    structPageBytes: 64,
    pageBytes: 4096,
    blockTable: { nid: false },
  };
  const out = formatKmemN(input).split('\n');

  it('prints the node, zone and section headers and rows of the sample, addresses as dashes', () => {
    expect(out.slice(0, HELP_NODES.length)).toEqual(HELP_NODES.map(dashAddrs));
  });

  it('prints the sample section rows (crash pads PFN to 16 columns)', () => {
    const rows = out.slice(HELP_NODES.length, HELP_NODES.length + 8);
    expect(rows.map((l) => l.trimEnd())).toEqual(HELP_SECTIONS.map(dashAddrs));
    for (const r of rows) expect(r).toHaveLength(HELP_SECTIONS[0]!.length - 1 + 16);
  });

  it('prints the sample memory blocks with the same fields (current crash spacing)', () => {
    const rest = out.slice(HELP_NODES.length + 8);
    expect(rest[0]).toBe('');
    const words = (l: string): string[] => l.trim().split(/\s+/);
    expect(rest.slice(1, 10).map(words)).toEqual(HELP_BLOCKS.map(dashAddrs).map(words));
    expect(rest.slice(10)).toEqual(['']);
  });
});

describe('kmem -n against crash memory.c print statements', () => {
  // Expected text produced by compiling the fprintf/mkstring statements of crash memory.c
  // (dump_memory_nodes, dump_mem_sections, print_memory_block, dump_memory_blocks) and tools.c
  // mkstring at abcb45e7 in a C harness fed the values below (dashes for the unmodelled
  // addresses): two nodes, a missing section under node 0's Normal zone (mem_map 0), a
  // ZONE_DEVICE-tainted section, block states and PADDR_PRLEN 9 (8 GiB present).
  const FULL = [
    'NODE    SIZE      PGLIST_DATA       BOOTMEM_DATA       NODE_ZONES   ',
    '  0   1048447   ----------------        ----        ----------------',
    '                                                    ----------------',
    '                                                    ----------------',
    '                                                    ----------------',
    '    MEM_MAP          START_PADDR    START_MAPNR',
    'ffffea0000000040        1000             1     ',
    '',
    'ZONE  NAME         SIZE       MEM_MAP      START_PADDR  START_MAPNR',
    '  0   DMA          4095  ffffea0000000040         1000            1',
    '  1   DMA32      520192  ffffea0000040000      1000000         4096',
    '  2   Normal     524160                 0     80000000       524288',
    '  3   Movable         0                 0            0            0',
    '',
    '-------------------------------------------------------------------',
    '',
    'NODE    SIZE      PGLIST_DATA       BOOTMEM_DATA       NODE_ZONES   ',
    '  1   1048576   ----------------        ----        ----------------',
    '                                                    ----------------',
    '                                                    ----------------',
    '                                                    ----------------',
    '    MEM_MAP          START_PADDR    START_MAPNR',
    'ffffea0004000000      100000000       1048576  ',
    '',
    'ZONE  NAME         SIZE       MEM_MAP      START_PADDR  START_MAPNR',
    '  0   DMA             0                 0            0            0',
    '  1   DMA32           0                 0            0            0',
    '  2   Normal    1048576  ffffea0004000000    100000000      1048576',
    '  3   Movable         0                 0            0            0',
    '',
    '-------------------------------------------------------------------',
    '',
    'NR      SECTION        CODED_MEM_MAP        MEM_MAP       STATE PFN',
    ' 0  ----------------  ffffea0000000000  ffffea0000000000  PMOE  0               ',
    ' 1  ----------------  ffffea0000000000  ffffea0000200000  PMOE  32768           ',
    ' 2  ----------------  ffffea0000000000  ffffea0000400000  PMOE  65536           ',
    ' 3  ----------------  ffffea0000000000  ffffea0000600000  PMOE  98304           ',
    '32  ----------------  ffffea0000000000  ffffea0004000000   PMO  1048576         ',
    '33  ----------------  ffffea0000000000  ffffea0004200000   PMO  1081344         ',
    '63  ----------------  ffffea0000000000  ffffea0007e00000  PMOD  2064384         ',
    '',
    '   MEM_BLOCK        NAME         PHYSICAL RANGE      NODE  STATE   START_SECTION_NO',
    ' ----------------   memory0            0 -   7ffffff  0    ONLINE  0           ',
    ' ----------------   memory1      8000000 -   fffffff  0    OFFLINE 1           ',
    ' ----------------   memory15    78000000 -  7fffffff  0    GOING_OFFLINE 15          ',
    ' ----------------   memory63   1f8000000 - 1ffffffff  1    ONLINE  63          ',
    '',
  ];
  const NO_NID = [
    '',
    '   MEM_BLOCK        NAME        PHYSICAL RANGE      STATE   START_SECTION_NO',
    ' ----------------  memory0           0 -   7ffffff  ONLINE  0           ',
    ' ----------------  memory1     8000000 -   fffffff  OFFLINE 1           ',
    ' ----------------  memory15   78000000 -  7fffffff  GOING_OFFLINE 15          ',
    ' ----------------  memory63  1f8000000 - 1ffffffff  ONLINE  63          ',
    '',
  ];
  const PHYS_START = [
    '',
    '   MEM_BLOCK        NAME         PHYSICAL START      NODE  STATE   START_SECTION_NO',
    ' ----------------   memory0              0            0    ONLINE  0           ',
    ' ----------------   memory1           8000000         0    OFFLINE 1           ',
    ' ----------------   memory15         78000000         0    GOING_OFFLINE 15          ',
    ' ----------------   memory63         1f8000000        1    ONLINE  63          ',
    '',
  ];

  const nrs = [0, 1, 2, 3, 32, 33, 63];
  const input: KmemNInput = {
    nodes: [
      {
        nid: 0,
        spannedPages: 1048447,
        startPfn: 1,
        zones: [zone(0, 'DMA', 4095, 1), zone(1, 'DMA32', 520192, 4096), zone(2, 'Normal', 524160, 524288), zone(3, 'Movable', 0, 0)],
      },
      {
        nid: 1,
        spannedPages: 1048576,
        startPfn: 1048576,
        zones: [zone(0, 'DMA', 0, 0), zone(1, 'DMA32', 0, 0), zone(2, 'Normal', 1048576, 1048576), zone(3, 'Movable', 0, 0)],
      },
    ],
    sections: nrs.map((nr) => ({
      nr,
      pfn: nr * 32768,
      flags: { present: true, hasMemMap: true, online: true, early: nr < 32, deviceTainted: nr === 63 },
    })),
    blocks: (
      [
        [0, 'online'],
        [1, 'offline'],
        [15, 'going-offline'],
        [63, 'ONLINE'],
      ] as const
    ).map(([id, state]) => ({
      id,
      startPhys: BigInt(id) * 0x8000000n,
      sizeBytes: 0x8000000n,
      node: id >= 32 ? 1 : 0,
      state,
      startSectionNr: id,
    })),
  };

  it('matches byte for byte (memory_block.nid, PHYSICAL RANGE)', () => {
    expect(formatKmemN(input)).toBe(FULL.join('\n'));
  });

  it('matches without memory_block.nid', () => {
    expect(formatKmemN({ ...input, blockTable: { nid: false } }).endsWith(NO_NID.join('\n'))).toBe(true);
  });

  it('matches PHYSICAL START (no memory_block_size_probed, no end_section_nr)', () => {
    expect(formatKmemN({ ...input, blockTable: { range: false } }).endsWith(PHYS_START.join('\n'))).toBe(true);
  });

  it('leaves the block table out when asked, and skips sections that are not present', () => {
    const out = formatKmemN({
      ...input,
      sections: [...input.sections, { nr: 40, pfn: 40 * 32768, flags: { present: false, hasMemMap: false, online: false, early: false } }],
      blockTable: { show: false },
    });
    expect(out).toBe(FULL.slice(0, FULL.indexOf('   MEM_BLOCK        NAME         PHYSICAL RANGE      NODE  STATE   START_SECTION_NO') - 1).join('\n') + '\n');
  });

  it('names section states and block states as crash does', () => {
    expect(memSectionStateLetters({ present: true, hasMemMap: true, online: true, early: true, deviceTainted: true })).toBe('PMOED');
    expect(memSectionStateLetters({ present: true, hasMemMap: false, online: false, early: false })).toBe('P');
    expect(memoryBlockStateName('going-offline')).toBe('GOING_OFFLINE');
    expect(memoryBlockStateName('CANCEL_ONLINE')).toBe('CANCEL_ONLINE');
    expect(memoryBlockStateName('weird')).toBe('UNKNOWN');
  });
});

describe('page: drgn struct page format', () => {
  // Worked by hand from drgn libdrgn/language_c.c (PRETTY flags: "*(type *)0x.. = {", one member
  // per line, a tab per level, member type names in parentheses, unsigned in decimal, pointers
  // 0x%x, atomic_t as a nested struct) for pfn 0x1000 of a 4-level nokaslr x86_64 machine: a
  // reserved page that memmap_init wrote (lru pointing at itself, _mapcount -1, _refcount 1).
  const address = 0xffffea0000000000n + 0x1000n * 64n;
  const fields: PageFields = {
    flags: 0x4000000000001000n,
    lruNext: address + 8n,
    lruPrev: address + 8n,
    mapping: 0n,
    index: 0n,
    private: 0n,
    mapcount: -1,
    refcount: 1,
    memcgData: 0n,
  };
  const raw = new Uint8Array(64);
  const dv = new DataView(raw.buffer);
  dv.setBigUint64(0, fields.flags, true);
  dv.setBigUint64(8, fields.lruNext, true);
  dv.setBigUint64(16, fields.lruPrev, true);
  dv.setInt32(48, -1, true);
  dv.setInt32(52, 1, true);
  const page: PageView = { pfn: 0x1000, address, raw, fields, flagNames: 'PG_reserved', zone: 'DMA32', nid: 0, state: 'initialized' };

  const EXPECTED = [
    '# pfn 0x1000 (4096): node 0, zone DMA32, struct page initialized',
    '>>> pfn_to_page(0x1000)',
    '*(struct page *)0xffffea0000040000 = {',
    '\t.flags = (unsigned long)4611686018427392000,',
    '\t.lru = (struct list_head){',
    '\t\t.next = (struct list_head *)0xffffea0000040008,',
    '\t\t.prev = (struct list_head *)0xffffea0000040008,',
    '\t},',
    '\t.mapping = (struct address_space *)0x0,',
    '\t.index = (pgoff_t)0,',
    '\t.private = (unsigned long)0,',
    '\t._mapcount = (atomic_t){',
    '\t\t.counter = (int)-1,',
    '\t},',
    '\t._refcount = (atomic_t){',
    '\t\t.counter = (int)1,',
    '\t},',
    '\t.memcg_data = (unsigned long)0,',
    '}',
    '>>> decode_page_flags(pfn_to_page(0x1000))',
    "'PG_reserved'",
    '# xxd -o 0xffffea0000040000 (raw struct page, 64 bytes)',
    // xxd -o 0xffffea0000040000 of the same 64 bytes (xxd 2022-01-14, run by hand)
    'ffffea0000040000: 0010 0000 0000 0040 0800 0400 00ea ffff  .......@........',
    'ffffea0000040010: 0800 0400 00ea ffff 0000 0000 0000 0000  ................',
    'ffffea0000040020: 0000 0000 0000 0000 0000 0000 0000 0000  ................',
    'ffffea0000040030: ffff ffff 0100 0000 0000 0000 0000 0000  ................',
    '',
  ];

  it('prints the page as drgn does, with decode_page_flags and the xxd dump', () => {
    expect(formatPage(page)).toBe(EXPECTED.join('\n'));
  });

  it('reads the fields back from the raw bytes', () => {
    expect(pageFieldsFromRaw(raw)).toEqual(fields);
  });

  it('prints the bare struct without prompts or hex, and separates pages by a blank line', () => {
    const bare = formatPage({ ...page, raw: undefined }, { repl: false });
    expect(bare).toBe([...EXPECTED.slice(2, 19), "'PG_reserved'", ''].join('\n'));
    const two = formatPages([page, { ...page, pfn: 0x1001, address: address + 64n }], { hex: false });
    expect(two.split('\n').filter((l) => l === '')).toHaveLength(2);
    expect(two).toContain('\n\n# pfn 0x1001 (4097)');
  });

  it('prints a short line as xxd does', () => {
    // printf 'ab\0' | xxd -o 0x10
    expect(xxdDump(new Uint8Array([0x61, 0x62, 0]), 0x10n)).toBe('00000010: 6162 00                                  ab.\n');
  });
});
