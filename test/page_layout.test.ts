// struct page and page->flags, with every expected value worked out by hand from the kernel's
// formulas (page-flags-layout.h, the *_PGOFF chain of mm.h / mmzone.h, kernel/bounds.c) for
// v5.3, 6.1 and 6.18; the arithmetic is in the comments.
import { describe, expect, it } from 'vitest';
import { i386Arch } from '../src/arch/others.js';
import { x86_64 } from '../src/arch/x86_64.js';
import { InputError } from '../src/errors.js';
import { parseKconfig } from '../src/kernel/kconfig.js';
import {
  DEFAULT_PAGE_CONFIG_X86_64,
  clearPageType,
  decodePageFlags,
  decodePageType,
  defaultPageConfig,
  encodePageType,
  formatPageFlagsPGp,
  initSinglePageFlagsWord,
  initSinglePageRecord,
  pageConfigFromKconfig,
  pageFlagBits,
  pageflagsEnum,
  nrPageflags,
  pageFlagsField,
  pageFlagsLayout,
  pageHasType,
  recordFlagsField,
  pageTypeValues,
  readPageFlags,
  setPageReserved,
  structPageLayout,
  type PageConfig,
} from '../src/kernel/page_layout.js';

const V53 = DEFAULT_PAGE_CONFIG_X86_64('v5.3');
const V61 = DEFAULT_PAGE_CONFIG_X86_64('6.1');
const V618 = DEFAULT_PAGE_CONFIG_X86_64('6.18');
const ZONE_NORMAL = 2; // x86_64: DMA 0, DMA32 1, Normal 2, Movable 3, Device 4
const VMEMMAP = 0xffffea0000000000n;

function reservedWord(cfg: PageConfig, zone: number, nid: number, pfn: number): bigint {
  const bit = pageFlagBits(cfg).get('PG_reserved') ?? -1;
  return initSinglePageFlagsWord(zone, nid, pfn, cfg) | (1n << BigInt(bit));
}

function hex(dv: DataView, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++)
    s += dv
      .getUint8(off + i)
      .toString(16)
      .padStart(2, '0');
  return s;
}

describe('NR_PAGEFLAGS and bit numbers (x86_64 defaults)', () => {
  it('v5.3: 21 unconditional flags + mlocked, uncached (X86_PAT), hwpoison, young, idle = 26', () => {
    expect(pageFlagsLayout(V53).nrPageflags).toBe(26);
    const bits = pageFlagBits(V53);
    expect(bits.get('PG_reserved')).toBe(12);
    expect(bits.get('PG_head')).toBe(16);
    expect(bits.get('PG_mlocked')).toBe(21);
    expect(bits.get('PG_uncached')).toBe(22);
    expect(bits.get('PG_idle')).toBe(25);
    expect(bits.get('PG_swapcache')).toBe(10); // alias of PG_owner_priv_1
    expect(bits.has('PG_arch_2')).toBe(false);
  });

  it('6.1: the v5.3 list + arch_2 (every 64-bit build) = 27', () => {
    expect(pageFlagsLayout(V61).nrPageflags).toBe(27);
    expect(pageFlagBits(V61).get('PG_reserved')).toBe(12);
    expect(pageFlagBits(V61).get('PG_arch_2')).toBe(26);
    expect(pageFlagBits(V61).get('PG_double_map')).toBe(6); // = PG_workingset in 6.1 (PG_private_2 = 14 in v5.3)
    expect(pageFlagBits(V53).get('PG_double_map')).toBe(14);
  });

  it('6.18: 20 unconditional (no error, slab, uncached; + owner_2, dropbehind) + mlocked, hwpoison, young, idle, arch_2 = 25', () => {
    expect(pageFlagsLayout(V618).nrPageflags).toBe(25);
    const bits = pageFlagBits(V618);
    expect(bits.get('PG_writeback')).toBe(1);
    expect(bits.get('PG_head')).toBe(6);
    expect(bits.get('PG_reserved')).toBe(13);
    expect(bits.get('PG_dropbehind')).toBe(19);
    expect(bits.get('PG_arch_2')).toBe(24);
    expect(bits.has('PG_slab')).toBe(false);
    expect(bits.has('PG_uncached')).toBe(false);
  });

  it('conditional flags drop out: 6.18 without MEMORY_FAILURE and idle tracking has 22', () => {
    expect(pageFlagsLayout({ ...V618, memoryFailure: false, pageIdleFlag: false }).nrPageflags).toBe(22);
  });
});

describe('page->flags field layout (x86_64 defaults: NODES_SHIFT 10, NR_CPUS 8192, 5 zones)', () => {
  // Common: MAX_NR_ZONES 5 -> ZONES_SHIFT 3; SPARSEMEM_VMEMMAP -> SECTIONS_WIDTH 0;
  // LAST_CPUPID_SHIFT = 8 + NR_CPUS_BITS(8192 = 2^13 -> 13) = 21.
  it('v5.3: room 64-26 = 38; 3+10 <= 38 -> NODES 10; 3+10+21+0 = 34 <= 38 -> LAST_CPUPID 21', () => {
    const l = pageFlagsLayout(V53);
    // NODES_PGOFF = 64-0-10 = 54; ZONES_PGOFF = 54-3 = 51; LAST_CPUPID_PGOFF = 51-21 = 30
    expect(l.fields.map((f) => [f.name, f.shift, f.width])).toEqual([
      ['node', 54, 10],
      ['zone', 51, 3],
      ['last_cpupid', 30, 21],
    ]);
    expect(l.zonesShift).toBe(3);
    expect(l.lastCpupidInFlags).toBe(true);
    expect(l.nodeNotInPageFlags).toBe(false);
    expect(l.unusedBits).toBe(4); // 38 - 34
    // ZONEID = NODES_SHIFT + ZONES_SHIFT = 13 bits at min(54, 51) = 51
    expect([l.zoneidShift, l.zoneidPgshift]).toEqual([13, 51]);
  });

  it('6.1: room 64-27 = 37; LRU_GEN_WIDTH = order_base_2(5) = 3; 3+3+10+0+21 = 37 <= 37; LRU_REFS = min(2, 0) = 0', () => {
    const l = pageFlagsLayout(V61);
    // LAST_CPUPID_PGOFF 30, KASAN_TAG_PGOFF 30, LRU_GEN_PGOFF = 30-3 = 27
    expect(l.fields.map((f) => [f.name, f.shift, f.width])).toEqual([
      ['node', 54, 10],
      ['zone', 51, 3],
      ['last_cpupid', 30, 21],
      ['lru_gen', 27, 3],
    ]);
    expect(l.lruRefsWidth).toBe(0);
    expect(l.unusedBits).toBe(0);
  });

  it('6.18: room 64-25 = 39; 3+3+10+21 = 37 <= 39; LRU_REFS = min(2, 39-37) = 2 at 27-2 = 25', () => {
    const l = pageFlagsLayout(V618);
    expect(l.fields.map((f) => [f.name, f.shift, f.width])).toEqual([
      ['node', 54, 10],
      ['zone', 51, 3],
      ['last_cpupid', 30, 21],
      ['lru_gen', 27, 3],
      ['lru_refs', 25, 2],
    ]);
    expect(l.unusedBits).toBe(0);
    expect(l.fields.find((f) => f.name === 'zone')?.mask).toBe(0x7n << 51n);
  });

  it('NODES_SHIFT 6 moves node/zone/cpupid up by 4 bits', () => {
    // v5.3: NODES_PGOFF 58, ZONES_PGOFF 55, LAST_CPUPID_PGOFF 34
    expect(pageFlagsLayout({ ...V53, nodesShift: 6 }).fields.map((f) => f.shift)).toEqual([58, 55, 34]);
    // 6.18: 58, 55, 34, LRU_GEN 31, LRU_REFS = min(2, 39 - 33) = 2 at 29
    expect(pageFlagsLayout({ ...V618, nodesShift: 6 }).fields.map((f) => f.shift)).toEqual([58, 55, 34, 31, 29]);
  });

  it('KASAN_SW_TAGS on v5.3 pushes LAST_CPUPID out of flags: 3+10+21+8 = 42 > 38', () => {
    const cfg = { ...V53, kasanSwTags: true };
    const l = pageFlagsLayout(cfg);
    expect(l.lastCpupidInFlags).toBe(false);
    // LAST_CPUPID_WIDTH 0 -> LAST_CPUPID_PGOFF = ZONES_PGOFF = 51; KASAN_TAG_PGOFF = 51 - 8 = 43
    expect(l.fields.map((f) => [f.name, f.shift, f.width])).toEqual([
      ['node', 54, 10],
      ['zone', 51, 3],
      ['kasan_tag', 43, 8],
    ]);
    // struct page grows by int _last_cpupid at 64 -> 68, aligned to 16 (HAVE_ALIGNED_STRUCT_PAGE) -> 80
    const sp = structPageLayout(cfg);
    expect(sp.fields.get('_last_cpupid')?.offset).toBe(64);
    expect(sp.size).toBe(80);
    // flags: node 1<<54 | zone 2<<51 | tag 0xff<<43 = 0x0040.. + 0x0010.. + 0x0007f8<<40
    expect(initSinglePageFlagsWord(ZONE_NORMAL, 1, 0, cfg)).toBe(0x0057f80000000000n);
  });

  it('NR_CPUS_BITS: v5.3 ilog2, 6.x order_base_2 (NR_CPUS 320: 8 vs 9)', () => {
    expect(pageFlagsLayout({ ...V53, nrCpus: 320 }).lastCpupidShift).toBe(16);
    expect(pageFlagsLayout({ ...V618, nrCpus: 320 }).lastCpupidShift).toBe(17);
  });

  it('classic SPARSEMEM with no room for nodes: the node goes, the section stays', () => {
    // 6.18, SECTIONS_SHIFT = MAX_PHYSMEM_BITS 46 - SECTION_SIZE_BITS 27 = 19; room 39;
    // ZONES 3 + LRU_GEN 3 + SECTIONS 19 + NODES_SHIFT 15 = 40 > 39 -> NODES_WIDTH 0.
    // SECTIONS_PGOFF = 64-19 = 45, ZONES_PGOFF = 45-0-3 = 42, LRU_GEN 42-3 = 39, LRU_REFS min(2, 39-25) = 2 at 37.
    const l = pageFlagsLayout({ ...V618, sparsemem: 'classic', nodesShift: 15, numaBalancing: false });
    expect(l.nodesWidth).toBe(0);
    expect(l.nodeNotInPageFlags).toBe(true);
    expect(l.fields.map((f) => [f.name, f.shift, f.width])).toEqual([
      ['section', 45, 19],
      ['zone', 42, 3],
      ['lru_gen', 39, 3],
      ['lru_refs', 37, 2],
    ]);
    // ZONEID = SECTIONS_SHIFT + ZONES_SHIFT = 22 at min(45, 42) = 42
    expect([l.zoneidShift, l.zoneidPgshift]).toEqual([22, 42]);
  });

  it('vmemmap with no room for nodes is the kernel #error', () => {
    expect(() => pageFlagsLayout({ ...V618, nodesShift: 40 })).toThrow(InputError);
  });
});

describe('flags word of a reserved page, node 1, ZONE_NORMAL', () => {
  // node 1 << 54 = 0x0040000000000000; zone 2 << 51 = 0x0010000000000000;
  // last_cpupid 0x1fffff << 30 = 0x0007ffffc0000000; sum = 0x0057ffffc0000000.
  it('v5.3 (PG_reserved 12 -> 0x1000)', () => {
    expect(reservedWord(V53, ZONE_NORMAL, 1, 0x100000)).toBe(0x0057ffffc0001000n);
  });
  it('6.1 (same fields, PG_reserved 12)', () => {
    expect(reservedWord(V61, ZONE_NORMAL, 1, 0x100000)).toBe(0x0057ffffc0001000n);
  });
  it('6.18 (PG_reserved 13 -> 0x2000)', () => {
    expect(reservedWord(V618, ZONE_NORMAL, 1, 0x100000)).toBe(0x0057ffffc0002000n);
  });
  it('NODES_SHIFT 6: 1<<58 | 2<<55 | 0x1fffff<<34 = 0x0400.. + 0x0100.. + 0x007ffffc00000000', () => {
    expect(reservedWord({ ...V53, nodesShift: 6 }, ZONE_NORMAL, 1, 0x100000)).toBe(0x057ffffc00001000n);
    expect(reservedWord({ ...V618, nodesShift: 6 }, ZONE_NORMAL, 1, 0x100000)).toBe(0x057ffffc00002000n);
  });
  it('without NUMA_BALANCING there is no cpupid field: 0x0050000000001000 (v5.3)', () => {
    expect(reservedWord({ ...V53, numaBalancing: false }, ZONE_NORMAL, 1, 0)).toBe(0x0050000000001000n);
  });
});

describe('decoding', () => {
  it("drgn decode_page_flags: set PG_ enumerators below NR_PAGEFLAGS, aliases included, '0' for none", () => {
    expect(decodePageFlags(0x0057ffffc0001000n, V53)).toBe('PG_reserved');
    expect(decodePageFlags(0x0057ffffc0002000n, V618)).toBe('PG_reserved');
    expect(decodePageFlags(0x0057ffffc0000000n, V618)).toBe('0');
    // 6.18 PG_owner_priv_1 (bit 10) + PG_reserved (13): the base bits in order, then the aliases of bit 10
    expect(decodePageFlags((1n << 10n) | (1n << 13n), V618)).toBe('PG_owner_priv_1|PG_reserved|PG_swapcache|PG_checked|PG_pinned|PG_foreign|PG_xen_remapped|PG_vmemmap_self_hosted');
  });

  it('%pGp: v5.3 names only; 6.x 0x<word>(names|node=|zone=|lastcpupid=0x..)', () => {
    expect(formatPageFlagsPGp(0x0057ffffc0001000n, V53)).toBe('reserved');
    expect(formatPageFlagsPGp(0x0057ffffc0001000n, V61)).toBe('0x57ffffc0001000(reserved|node=1|zone=2|lastcpupid=0x1fffff)');
    expect(formatPageFlagsPGp(0x0057ffffc0002000n, V618)).toBe('0x57ffffc0002000(reserved|node=1|zone=2|lastcpupid=0x1fffff)');
    // pageflag_names order puts waiters (bit 7) before referenced (bit 2 in 6.18)
    expect(formatPageFlagsPGp((1n << 2n) | (1n << 7n), V618)).toBe('0x84(waiters|referenced|node=0|zone=0|lastcpupid=0x0)');
    expect(formatPageFlagsPGp(0n, V53)).toBe('');
  });
});

describe('page_type', () => {
  it('v5.3: PAGE_TYPE_BASE 0xf0000000, buddy 0x80, offline 0x100, kmemcg 0x200, table 0x400, guard 0x800 (cleared bits)', () => {
    expect(encodePageType('v5.3', 'buddy')).toBe(0xffffff7f);
    expect(encodePageType('v5.3', 'table')).toBe(0xfffffbff);
    expect(decodePageType('v5.3', 0xffffff7f)).toEqual(['buddy']);
    expect(decodePageType('v5.3', 0xfffffdff)).toEqual(['kmemcg']);
    expect(pageHasType('v5.3', 0xffffff7f)).toBe(true); // -129 < -128
    expect(pageHasType('v5.3', 0xffffffff)).toBe(false);
    expect(clearPageType('v5.3', 'buddy', 0xffffff7f)).toBe(0xffffffff);
  });
  it('6.1: table 0x200, guard 0x400', () => {
    expect(encodePageType('6.1', 'table')).toBe(0xfffffdff);
    expect(decodePageType('6.1', 0xfffffbff)).toEqual(['guard']);
  });
  it('6.18: PGTY_* << 24 in page_type (union with _mapcount at 48)', () => {
    expect(encodePageType('6.18', 'buddy')).toBe(0xf0000000);
    expect(encodePageType('6.18', 'slab')).toBe(0xf5000000);
    expect(decodePageType('6.18', 0xf2000123)).toEqual(['table']);
    expect(pageHasType('6.18', 0xf0000000)).toBe(true);
    expect(pageHasType('6.18', 0xffffffff)).toBe(false); // _mapcount -1
    expect(pageHasType('6.18', 0)).toBe(false); // mapcount
    expect(clearPageType('6.18', 'buddy', 0xf0000000)).toBe(0xffffffff);
    expect(() => encodePageType('6.18', 'kmemcg')).toThrow(InputError);
  });
});

describe('struct page', () => {
  it('x86_64 offsets, all three versions, 64 bytes', () => {
    for (const cfg of [V53, V61, V618]) {
      const sp = structPageLayout(cfg);
      const at = (n: string): number | undefined => sp.fields.get(n)?.offset;
      expect(sp.size).toBe(64);
      expect([at('flags'), at('lru'), at('compound_head'), at('zone_device_data'), at('mapping'), at('private')]).toEqual([0, 8, 8, 16, 24, 40]);
      expect([at('_mapcount'), at('page_type'), at('_refcount')]).toEqual([48, 48, 52]);
    }
    expect(structPageLayout(V53).fields.get('mem_cgroup')?.offset).toBe(56);
    expect(structPageLayout(V618).fields.get('memcg_data')?.offset).toBe(56);
    expect(structPageLayout(V61).fields.get('index')?.offset).toBe(32);
    expect(structPageLayout(V618).fields.get('__folio_index')?.offset).toBe(32);
    expect(structPageLayout(V618).fields.has('pgmap')).toBe(false);
  });

  it('i386: 4-byte words, 36 bytes aligned to 8 = 40', () => {
    const cfg = defaultPageConfig(i386Arch(), '6.18');
    const sp = structPageLayout(cfg);
    expect(sp.size).toBe(40);
    expect([sp.fields.get('mapping')?.offset, sp.fields.get('_mapcount')?.offset, sp.fields.get('memcg_data')?.offset]).toEqual([12, 24, 32]);
    // 4 zones -> ZONES_SHIFT 2 at 32-2 = 30; no NUMA. NR_PAGEFLAGS = 20 + mlocked + arch_2 = 22
    expect(pageFlagsLayout(cfg).nrPageflags).toBe(22);
    expect(initSinglePageFlagsWord(1, 0, 0x1000, cfg)).toBe(0x40000000n);
  });

  it('__init_single_page at pfn 0x100000, node 1, ZONE_NORMAL, 6.18 defaults: the full 64 bytes', () => {
    const dv = new DataView(new ArrayBuffer(128));
    dv.setUint8(64 + 3, 0xaa); // the neighbour is left alone
    for (let i = 0; i < 64; i++) dv.setUint8(i, 0x5a); // garbage is zeroed
    initSinglePageRecord(dv, 0, 0x100000, ZONE_NORMAL, 1, V618, VMEMMAP);
    // flags 0x0057ffffc0000000 LE; lru.next = lru.prev = 0xffffea0000000000 + 0x100000*64 + 8
    // = 0xffffea0004000008 LE; mapping/index/private 0; _mapcount -1; _refcount 1; memcg_data 0.
    expect(hex(dv, 0, 64)).toBe('000000c0ffff5700' + '08000004' + '00eaffff' + '08000004' + '00eaffff' + '00'.repeat(24) + 'ffffffff' + '01000000' + '00'.repeat(8));
    expect(dv.getUint8(67)).toBe(0xaa);
    setPageReserved(dv, 0, V618);
    expect(readPageFlags(dv, 0, V618)).toBe(0x0057ffffc0002000n);
    expect(hex(dv, 0, 8)).toBe('002000c0ffff5700');
  });

  it('v5.3 record with KASAN_SW_TAGS: _last_cpupid = 0x1fffff at 64 in an 80-byte record', () => {
    const cfg = { ...V53, kasanSwTags: true };
    const dv = new DataView(new ArrayBuffer(80));
    initSinglePageRecord(dv, 0, 0, 0, 0, cfg, VMEMMAP);
    expect(dv.getInt32(64, true)).toBe(0x1fffff);
    expect(dv.getBigUint64(0, true)).toBe(0xffn << 43n); // zone 0, node 0, tag 0xff
    expect(dv.getBigUint64(8, true)).toBe(VMEMMAP + 8n); // pfn 0: 80-byte stride, + 8
  });
});

describe('kconfig', () => {
  const text = [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    'CONFIG_64BIT=y',
    'CONFIG_SMP=y',
    'CONFIG_NR_CPUS=8192',
    'CONFIG_NUMA=y',
    'CONFIG_NODES_SHIFT=10',
    'CONFIG_NUMA_BALANCING=y',
    'CONFIG_ZONE_DMA=y',
    'CONFIG_ZONE_DMA32=y',
    'CONFIG_ZONE_DEVICE=y',
    'CONFIG_SPARSEMEM=y',
    'CONFIG_SPARSEMEM_VMEMMAP=y',
    'CONFIG_MEMCG=y',
    'CONFIG_MMU=y',
    'CONFIG_ARCH_USES_PG_ARCH_2=y',
    'CONFIG_MEMORY_FAILURE=y',
    'CONFIG_PAGE_IDLE_FLAG=y',
    'CONFIG_IDLE_PAGE_TRACKING=y',
    'CONFIG_MIGRATION=y',
    'CONFIG_MEMORY_HOTPLUG=y',
    'CONFIG_HAVE_ALIGNED_STRUCT_PAGE=y',
    'CONFIG_LRU_GEN=y',
    '# CONFIG_KASAN is not set',
    'CONFIG_LOCALVERSION="-amd64 \\"x\\""',
    'CONFIG_PHYSICAL_START=0x1000000',
    'CONFIG_EXT4_FS=m',
    '',
  ].join('\n');

  it('parses y, m, numbers, strings and "is not set"', () => {
    const k = parseKconfig(text, 'x.config');
    expect(k.get('CONFIG_NR_CPUS')).toBe('8192');
    expect(k.get('CONFIG_KASAN')).toBe('n');
    expect(k.get('CONFIG_LOCALVERSION')).toBe('-amd64 "x"');
    expect(k.get('CONFIG_PHYSICAL_START')).toBe('0x1000000');
    expect(k.get('CONFIG_EXT4_FS')).toBe('m');
  });

  it('gives the 6.18 x86_64 defaults', () => {
    expect(pageConfigFromKconfig(parseKconfig(text, 'x.config'), '6.18', x86_64)).toEqual(V618);
  });

  it('malformed lines: file:line:col: expected ...', () => {
    expect(() => parseKconfig('CONFIG_A=y\n\nCONFIG_FOO y\n', 't.config')).toThrow("t.config:3:11: expected '=' after CONFIG_FOO");
    expect(() => parseKconfig('CONFIG_A=maybe\n', 't.config')).toThrow(/^t\.config:1:10: expected y, m/);
    expect(() => parseKconfig('CONFIG_S="open\n', 't.config')).toThrow("t.config:1:15: expected a closing '\"'");
    expect(() => parseKconfig('FOO=y\n', 't.config')).toThrow(InputError);
  });
});

describe("6.12's enum pageflags (Debian 6.12.118's DWARF, read with drgn)", () => {
  it('numbers the bits as the kernel does: PG_writeback 1, PG_head 6, PG_reserved 13, PG_arch_2 23, __NR_PAGEFLAGS 24', () => {
    const cfg = DEFAULT_PAGE_CONFIG_X86_64('6.12');
    // prog.type('enum pageflags').enumerators below __NR_PAGEFLAGS, aliases included, in order.
    const dwarf =
      'PG_locked:0 PG_writeback:1 PG_referenced:2 PG_uptodate:3 PG_dirty:4 PG_lru:5 PG_head:6 PG_waiters:7 PG_active:8 PG_workingset:9 ' +
      'PG_owner_priv_1:10 PG_owner_2:11 PG_arch_1:12 PG_reserved:13 PG_private:14 PG_private_2:15 PG_reclaim:16 PG_swapbacked:17 ' +
      'PG_unevictable:18 PG_mlocked:19 PG_hwpoison:20 PG_young:21 PG_idle:22 PG_arch_2:23 PG_readahead:16 PG_swapcache:10 PG_checked:10 ' +
      'PG_anon_exclusive:11 PG_mappedtodisk:11 PG_fscache:15 PG_pinned:10 PG_savepinned:4 PG_foreign:10 PG_xen_remapped:10 PG_isolated:16 ' +
      'PG_reported:3 PG_vmemmap_self_hosted:10 PG_has_hwpoisoned:8 PG_large_rmappable:9 PG_partially_mapped:16';
    expect(
      pageflagsEnum(cfg)
        .map((e) => `${e.name}:${e.bit}`)
        .join(' '),
    ).toBe(dwarf);
    expect(nrPageflags(cfg)).toBe(24);
  });
});

describe("6.12's page_type (Debian 6.12.118's DWARF: enum pagetype, read with drgn)", () => {
  it('one PGTY in the top byte, as from 6.12 on: PageOffline is 0xf1000000, cleared back to UINT_MAX; 6.1 clears bit 0x100 instead', () => {
    // prog.type('enum pagetype'): PGTY_buddy 0xf0, PGTY_offline 0xf1, ..., PGTY_unaccepted 0xf7 (no large_kmalloc in 6.12).
    expect([...pageTypeValues('6.12')].map(([n, v]) => `${n}:${v.toString(16)}`).join(' ')).toBe('buddy:f0 offline:f1 table:f2 guard:f3 hugetlb:f4 slab:f5 zsmalloc:f6 unaccepted:f7');
    expect(encodePageType('6.12', 'offline')).toBe(0xf1000000);
    expect(decodePageType('6.12', 0xf1000000)).toEqual(['offline']);
    expect(clearPageType('6.12', 'offline', 0xf1000000)).toBe(0xffffffff);
    expect(encodePageType('6.1', 'offline')).toBe(0xfffffeff);
  });
});

describe('recordFlagsField', () => {
  it('reads the node, zone and section fields of a record as pageFlagsField reads the 64-bit word (x86_64 and i386 layouts)', () => {
    const dv = new DataView(new ArrayBuffer(8));
    const layouts = [V53, V61, V618, defaultPageConfig(i386Arch(), '6.18')].map((c) => pageFlagsLayout(c));
    // Every field of each layout is exercised; words with bits set at and around each field's edges.
    let x = 0x9e3779b97f4a7c15n;
    for (const layout of layouts) {
      expect(layout.fields.length).toBeGreaterThan(0);
      for (let i = 0; i < 200; i++) {
        x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
        dv.setBigUint64(0, x, true);
        for (const f of layout.fields) expect(recordFlagsField(dv, layout, f.name)).toBe(Number(pageFlagsField(x, layout, f.name)));
      }
    }
  });
});
