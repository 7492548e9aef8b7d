// struct page and its page->flags word as data and pure functions, per kernel version (v5.3,
// 6.1, 6.18) and build configuration. Sources, re-expressed: include/linux/page-flags.h (enum
// pageflags, page types), page-flags-layout.h (field widths), mm.h / mmzone.h (*_PGOFF,
// *_PGSHIFT, masks, set_page_links, page_cpupid_reset_last, page_kasan_tag_reset),
// mm_types.h (struct page), kernel/bounds.c (NR_PAGEFLAGS, NR_CPUS_BITS, LRU_GEN_WIDTH),
// __init_single_page (mm/page_alloc.c in v5.3 and 6.1, mm/mm_init.c in 6.18),
// include/trace/events/mmflags.h and lib/vsprintf.c (%pGp).
import type { Arch, ArchName } from '../arch/arch.js';
import { InputError } from '../errors.js';
import { kconfigEnabled, kconfigInt } from './kconfig.js';

export type PageLayoutVersion = 'v5.3' | '6.1' | '6.12' | '6.18';

/** The configuration symbols that decide struct page and page->flags. */
export interface PageConfig {
  readonly version: PageLayoutVersion;
  readonly arch: ArchName;
  /** BITS_PER_LONG (CONFIG_64BIT). */
  readonly bitsPerLong: 32 | 64;
  /** Byte order of the stored record (s390x is big-endian). */
  readonly littleEndian: boolean;
  readonly pageShift: number;
  /** CONFIG_NODES_SHIFT (0 without CONFIG_NUMA). */
  readonly nodesShift: number;
  readonly smp: boolean;
  /** CONFIG_NR_CPUS. */
  readonly nrCpus: number;
  readonly numaBalancing: boolean;
  readonly kasanSwTags: boolean;
  /** CONFIG_KASAN_HW_TAGS (arm64 MTE; 6.1 and 6.18 only). */
  readonly kasanHwTags: boolean;
  /** CONFIG_LRU_GEN (6.1 and 6.18; ignored for v5.3). */
  readonly lruGen: boolean;
  readonly sparsemem: 'vmemmap' | 'classic' | 'flat';
  /** SECTION_SIZE_BITS and MAX_PHYSMEM_BITS: SECTIONS_SHIFT for classic SPARSEMEM. */
  readonly sectionSizeBits: number;
  readonly maxPhysmemBits: number;
  /** MAX_NR_ZONES, ZONE_DEVICE included when configured. */
  readonly zonesCount: number;
  readonly memcg: boolean;
  readonly mmu: boolean;
  /** CONFIG_ARCH_USES_PG_UNCACHED (x86 with X86_PAT; gone by 6.18). */
  readonly archUsesPgUncached: boolean;
  /** CONFIG_ARCH_USES_PG_ARCH_2 / _3 (6.18: X86_PAT, ARM64_MTE). 6.1 has PG_arch_2 on every 64-bit build. */
  readonly archUsesPgArch2: boolean;
  readonly archUsesPgArch3: boolean;
  readonly memoryFailure: boolean;
  /** v5.3: CONFIG_IDLE_PAGE_TRACKING; 6.x: CONFIG_PAGE_IDLE_FLAG. PG_young/PG_idle need 64BIT too. */
  readonly pageIdleFlag: boolean;
  /** Only decide alias names (PG_movable_ops*, PG_vmemmap_self_hosted). */
  readonly migration: boolean;
  readonly memoryHotplug: boolean;
  /** CONFIG_HAVE_ALIGNED_STRUCT_PAGE: struct page aligned to two words. */
  readonly alignedStructPage: boolean;
  /** CONFIG_KMSAN (6.1, 6.18): two extra pointers in struct page. */
  readonly kmsan: boolean;
  /**
   * A compound page's order lives in the first tail's _flags_1 low byte (6.6 and later, "mm: free
   * up a word in the first tail page"); before, in page[1].compound_order (folio->_folio_order),
   * byte 1 of the word after compound_head. Default: the 6.12 and 6.18 layouts.
   */
  readonly orderInFlags1?: boolean;
}

/**
 * Debian amd64-style defaults (stated assumption, not read from a Debian config file here):
 * MAXSMP (NR_CPUS 8192, NODES_SHIFT 10), NUMA_BALANCING, MEMCG, MEMORY_FAILURE,
 * IDLE_PAGE_TRACKING (so PAGE_IDLE_FLAG), X86_PAT, MIGRATION, MEMORY_HOTPLUG, SLUB
 * (HAVE_ALIGNED_STRUCT_PAGE), SPARSEMEM_VMEMMAP, zones DMA, DMA32, Normal, Movable, Device;
 * LRU_GEN=y on 6.1 and 6.18; no KASAN, no KMSAN.
 */
export function DEFAULT_PAGE_CONFIG_X86_64(version: PageLayoutVersion): PageConfig {
  return {
    version,
    arch: 'x86_64',
    bitsPerLong: 64,
    littleEndian: true,
    pageShift: 12,
    nodesShift: 10,
    smp: true,
    nrCpus: 8192,
    numaBalancing: true,
    kasanSwTags: false,
    kasanHwTags: false,
    lruGen: version !== 'v5.3',
    sparsemem: 'vmemmap',
    sectionSizeBits: 27,
    maxPhysmemBits: 46,
    zonesCount: 5,
    memcg: true,
    mmu: true,
    archUsesPgUncached: version !== '6.18',
    archUsesPgArch2: version !== 'v5.3',
    archUsesPgArch3: false,
    memoryFailure: true,
    pageIdleFlag: true,
    migration: true,
    memoryHotplug: true,
    alignedStructPage: true,
    kmsan: false,
  };
}

/**
 * Defaults for another Arch of src/arch: x86_64 takes DEFAULT_PAGE_CONFIG_X86_64 (with the
 * Arch's zone count); others take each arch's Kconfig defaults (arm64: NODES_SHIFT 2 in v5.3,
 * 4 later, NR_CPUS 256/512, MTE on in 6.18; i386: FLATMEM, no NUMA, no MEMORY_FAILURE, PAE's
 * 36 physical bits; s390x: no NUMA, big-endian), with MEMCG on and no idle-page tracking.
 */
export function defaultPageConfig(arch: Arch, version: PageLayoutVersion): PageConfig {
  if (arch.name === 'x86_64') return { ...DEFAULT_PAGE_CONFIG_X86_64(version), zonesCount: arch.zones.length };
  const base = {
    version,
    pageShift: arch.pageShift,
    sectionSizeBits: arch.sectionSizeBits,
    zonesCount: arch.zones.length,
    smp: true,
    kasanSwTags: false,
    kasanHwTags: false,
    lruGen: false,
    memcg: true,
    mmu: true,
    archUsesPgUncached: false,
    pageIdleFlag: false,
    migration: true,
    memoryHotplug: arch.sparsemem,
    alignedStructPage: true,
    kmsan: false,
  } as const;
  switch (arch.name) {
    case 'arm64':
      return {
        ...base,
        arch: 'arm64',
        bitsPerLong: 64,
        littleEndian: true,
        nodesShift: version === 'v5.3' ? 2 : 4,
        nrCpus: version === '6.18' ? 512 : 256,
        numaBalancing: true,
        sparsemem: 'vmemmap',
        maxPhysmemBits: 48,
        archUsesPgArch2: version !== 'v5.3',
        archUsesPgArch3: version === '6.18',
        memoryFailure: true,
      };
    case 'i386':
      return {
        ...base,
        arch: 'i386',
        bitsPerLong: 32,
        littleEndian: true,
        nodesShift: 0,
        nrCpus: 8,
        numaBalancing: false,
        sparsemem: arch.sparsemem ? 'classic' : 'flat',
        maxPhysmemBits: 36,
        archUsesPgUncached: version !== '6.18',
        archUsesPgArch2: version === '6.18',
        archUsesPgArch3: false,
        memoryFailure: false,
      };
    case 's390x':
      return {
        ...base,
        arch: 's390x',
        bitsPerLong: 64,
        littleEndian: false,
        nodesShift: 0,
        nrCpus: 64,
        numaBalancing: false,
        sparsemem: 'vmemmap',
        maxPhysmemBits: 46,
        archUsesPgArch2: version === '6.1' || version === '6.12',
        archUsesPgArch3: false,
        memoryFailure: false,
      };
  }
}

/**
 * The PageConfig of a parsed `.config` (see parseKconfig) for `version` on `arch`; symbols
 * the file lacks count as not set. MAX_NR_ZONES is counted from ZONE_DMA, ZONE_DMA32,
 * HIGHMEM and ZONE_DEVICE plus Normal and Movable. MAX_PHYSMEM_BITS: x86_64 46 (4-level),
 * i386 36 with X86_PAE else 32, arm64 ARM64_PA_BITS, s390x MAX_PHYSMEM_BITS (default 46).
 */
export function pageConfigFromKconfig(kconfig: ReadonlyMap<string, string>, version: PageLayoutVersion, arch: Arch): PageConfig {
  const on = (name: string): boolean => kconfigEnabled(kconfig, `CONFIG_${name}`);
  const is64 = kconfig.has('CONFIG_64BIT') ? on('64BIT') : arch.is64bit;
  const zonesCount = 2 + ['ZONE_DMA', 'ZONE_DMA32', 'HIGHMEM', 'ZONE_DEVICE'].filter(on).length;
  const sparsemem = on('SPARSEMEM_VMEMMAP') ? 'vmemmap' : on('SPARSEMEM') ? 'classic' : 'flat';
  let maxPhysmemBits: number;
  switch (arch.name) {
    case 'x86_64':
      maxPhysmemBits = 46;
      break;
    case 'i386':
      maxPhysmemBits = on('X86_PAE') ? 36 : 32;
      break;
    case 'arm64':
      maxPhysmemBits = kconfigInt(kconfig, 'CONFIG_ARM64_PA_BITS', 48);
      break;
    case 's390x':
      maxPhysmemBits = kconfigInt(kconfig, 'CONFIG_MAX_PHYSMEM_BITS', 46);
      break;
  }
  return {
    version,
    arch: arch.name,
    bitsPerLong: is64 ? 64 : 32,
    littleEndian: arch.name !== 's390x',
    pageShift: arch.pageShift,
    nodesShift: on('NUMA') ? kconfigInt(kconfig, 'CONFIG_NODES_SHIFT', 0) : 0,
    smp: on('SMP'),
    nrCpus: kconfigInt(kconfig, 'CONFIG_NR_CPUS', 1),
    numaBalancing: on('NUMA_BALANCING'),
    kasanSwTags: on('KASAN_SW_TAGS'),
    kasanHwTags: version !== 'v5.3' && on('KASAN_HW_TAGS'),
    lruGen: version !== 'v5.3' && on('LRU_GEN'),
    sparsemem,
    sectionSizeBits: arch.sectionSizeBits,
    maxPhysmemBits,
    zonesCount,
    memcg: on('MEMCG'),
    mmu: kconfig.has('CONFIG_MMU') ? on('MMU') : true,
    archUsesPgUncached: version !== '6.18' && on('ARCH_USES_PG_UNCACHED'),
    archUsesPgArch2: version === '6.1' || version === '6.12' ? is64 : version === '6.18' && on('ARCH_USES_PG_ARCH_2'),
    archUsesPgArch3: version === '6.18' && on('ARCH_USES_PG_ARCH_3'),
    memoryFailure: on('MEMORY_FAILURE'),
    pageIdleFlag: version === 'v5.3' ? on('IDLE_PAGE_TRACKING') : on('PAGE_IDLE_FLAG') || on('IDLE_PAGE_TRACKING'),
    migration: on('MIGRATION'),
    memoryHotplug: on('MEMORY_HOTPLUG'),
    alignedStructPage: on('HAVE_ALIGNED_STRUCT_PAGE'),
    kmsan: version !== 'v5.3' && on('KMSAN'),
  };
}

// ---------------------------------------------------------------------------------------------
// enum pageflags

/** One enumerator of enum pageflags (a real bit or an alias of one), in declaration order. */
export interface PageflagEnumerator {
  readonly name: string;
  readonly bit: number;
  readonly alias: boolean;
}

interface FlagLists {
  /** The bits below __NR_PAGEFLAGS in declaration order (bare names, no PG_). */
  readonly bits: string[];
  /** Aliases after __NR_PAGEFLAGS, in declaration order: [alias, target]. */
  readonly aliases: [string, string][];
  /** pageflag_names[] order for %pGp (mmflags.h __def_pageflag_names). */
  readonly names: string[];
}

/** enum pageflags and __def_pageflag_names of cfg.version with cfg's conditional entries. */
function flagLists(cfg: PageConfig): FlagLists {
  const is64 = cfg.bitsPerLong === 64;
  const idle = cfg.pageIdleFlag && is64;
  const opt = (cond: boolean, ...xs: string[]): string[] => (cond ? xs : []);
  const optA = (cond: boolean, ...xs: [string, string][]): [string, string][] => (cond ? xs : []);
  switch (cfg.version) {
    case 'v5.3': {
      const common = [
        'locked',
        'referenced',
        'uptodate',
        'dirty',
        'lru',
        'active',
        'workingset',
        'waiters',
        'error',
        'slab',
        'owner_priv_1',
        'arch_1',
        'reserved',
        'private',
        'private_2',
        'writeback',
        'head',
        'mappedtodisk',
        'reclaim',
        'swapbacked',
        'unevictable',
      ];
      const tail = [...opt(cfg.mmu, 'mlocked'), ...opt(cfg.archUsesPgUncached, 'uncached'), ...opt(cfg.memoryFailure, 'hwpoison'), ...opt(idle, 'young', 'idle')];
      return {
        bits: [...common, ...tail],
        aliases: [
          ['checked', 'owner_priv_1'],
          ['swapcache', 'owner_priv_1'],
          ['fscache', 'private_2'],
          ['pinned', 'owner_priv_1'],
          ['savepinned', 'dirty'],
          ['foreign', 'owner_priv_1'],
          ['xen_remapped', 'owner_priv_1'],
          ['slob_free', 'private'],
          ['double_map', 'private_2'],
          ['isolated', 'reclaim'],
        ],
        names: [
          'locked',
          'waiters',
          'error',
          'referenced',
          'uptodate',
          'dirty',
          'lru',
          'active',
          'workingset',
          'slab',
          'owner_priv_1',
          'arch_1',
          'reserved',
          'private',
          'private_2',
          'writeback',
          'head',
          'mappedtodisk',
          'reclaim',
          'swapbacked',
          'unevictable',
          ...tail,
        ],
      };
    }
    case '6.12': {
      // Read in Debian 6.12.118's DWARF (drgn): 6.18's numbering (PG_writeback 1, PG_head 6,
      // PG_reserved 13) without PG_dropbehind, PG_isolated aliasing PG_reclaim; 6.13-6.17 unread.
      const l = flagLists({ ...cfg, version: '6.18', archUsesPgArch3: false });
      const isolated = l.aliases.filter(([a]) => a !== 'movable_ops_isolated' && a !== 'movable_ops');
      return {
        bits: l.bits.filter((b) => b !== 'dropbehind'),
        aliases: [...isolated.slice(0, 10), ...(cfg.migration ? [['isolated', 'reclaim'] as [string, string]] : []), ...isolated.slice(10)],
        names: l.names.filter((b) => b !== 'dropbehind'),
      };
    }
    case '6.1': {
      const common = [
        'locked',
        'referenced',
        'uptodate',
        'dirty',
        'lru',
        'active',
        'workingset',
        'waiters',
        'error',
        'slab',
        'owner_priv_1',
        'arch_1',
        'reserved',
        'private',
        'private_2',
        'writeback',
        'head',
        'mappedtodisk',
        'reclaim',
        'swapbacked',
        'unevictable',
      ];
      const tail = [
        ...opt(cfg.mmu, 'mlocked'),
        ...opt(cfg.archUsesPgUncached, 'uncached'),
        ...opt(cfg.memoryFailure, 'hwpoison'),
        ...opt(idle, 'young', 'idle'),
        ...opt(is64, 'arch_2'),
        ...opt(cfg.kasanHwTags, 'skip_kasan_poison'),
      ];
      return {
        bits: [...common, ...tail],
        aliases: [
          ['readahead', 'reclaim'],
          ['anon_exclusive', 'mappedtodisk'],
          ['checked', 'owner_priv_1'],
          ['swapcache', 'owner_priv_1'],
          ['fscache', 'private_2'],
          ['pinned', 'owner_priv_1'],
          ['savepinned', 'dirty'],
          ['foreign', 'owner_priv_1'],
          ['xen_remapped', 'owner_priv_1'],
          ['slob_free', 'private'],
          ['double_map', 'workingset'],
          ...optA(cfg.memoryFailure, ['has_hwpoisoned', 'error']),
          ['isolated', 'reclaim'],
          ['reported', 'uptodate'],
          ...optA(cfg.memoryHotplug, ['vmemmap_self_hosted', 'owner_priv_1']),
        ],
        names: [
          'locked',
          'waiters',
          'error',
          'referenced',
          'uptodate',
          'dirty',
          'lru',
          'active',
          'workingset',
          'slab',
          'owner_priv_1',
          'arch_1',
          'reserved',
          'private',
          'private_2',
          'writeback',
          'head',
          'mappedtodisk',
          'reclaim',
          'swapbacked',
          'unevictable',
          ...tail,
        ],
      };
    }
    case '6.18': {
      const bits = [
        'locked',
        'writeback',
        'referenced',
        'uptodate',
        'dirty',
        'lru',
        'head',
        'waiters',
        'active',
        'workingset',
        'owner_priv_1',
        'owner_2',
        'arch_1',
        'reserved',
        'private',
        'private_2',
        'reclaim',
        'swapbacked',
        'unevictable',
        'dropbehind',
        ...opt(cfg.mmu, 'mlocked'),
        ...opt(cfg.memoryFailure, 'hwpoison'),
        ...opt(idle, 'young', 'idle'),
        ...opt(cfg.archUsesPgArch2, 'arch_2'),
        ...opt(cfg.archUsesPgArch3, 'arch_3'),
      ];
      return {
        bits,
        aliases: [
          ['readahead', 'reclaim'],
          ['swapcache', 'owner_priv_1'],
          ['checked', 'owner_priv_1'],
          ['anon_exclusive', 'owner_2'],
          ['mappedtodisk', 'owner_2'],
          ['fscache', 'private_2'],
          ['pinned', 'owner_priv_1'],
          ['savepinned', 'dirty'],
          ['foreign', 'owner_priv_1'],
          ['xen_remapped', 'owner_priv_1'],
          ...optA(cfg.migration, ['movable_ops_isolated', 'reclaim'], ['movable_ops', 'uptodate']),
          ['reported', 'uptodate'],
          ...optA(cfg.memoryHotplug, ['vmemmap_self_hosted', 'owner_priv_1']),
          ['has_hwpoisoned', 'active'],
          ['large_rmappable', 'workingset'],
          ['partially_mapped', 'reclaim'],
        ],
        names: [
          'locked',
          'waiters',
          'referenced',
          'uptodate',
          'dirty',
          'lru',
          'active',
          'workingset',
          'owner_priv_1',
          'owner_2',
          'arch_1',
          'reserved',
          'private',
          'private_2',
          'writeback',
          'head',
          'reclaim',
          'swapbacked',
          'unevictable',
          'dropbehind',
          ...opt(cfg.mmu, 'mlocked'),
          ...opt(cfg.memoryFailure, 'hwpoison'),
          ...opt(idle, 'idle', 'young'),
          ...opt(cfg.archUsesPgArch2, 'arch_2'),
          ...opt(cfg.archUsesPgArch3, 'arch_3'),
        ],
      };
    }
  }
}

/** enum pageflags of cfg.version as resolved for cfg (kernel/bounds.c's __NR_PAGEFLAGS is the count of non-alias entries); __NR_PAGEFLAGS itself is left out. */
export function pageflagsEnum(cfg: PageConfig): readonly PageflagEnumerator[] {
  const { bits, aliases } = flagLists(cfg);
  const index = new Map(bits.map((n, i) => [n, i] as const));
  const out: PageflagEnumerator[] = bits.map((n, i) => ({ name: `PG_${n}`, bit: i, alias: false }));
  for (const [alias, target] of aliases) {
    const bit = index.get(target);
    if (bit !== undefined) out.push({ name: `PG_${alias}`, bit, alias: true });
  }
  return out;
}

/** NR_PAGEFLAGS (kernel/bounds.c from enum pageflags) for cfg. */
export function nrPageflags(cfg: PageConfig): number {
  return flagLists(cfg).bits.length;
}

/** Bit numbers of every PG_ enumerator of cfg.version (aliases included), e.g. PG_reserved -> 12 (v5.3) / 13 (6.18). */
export function pageFlagBits(cfg: PageConfig): ReadonlyMap<string, number> {
  return new Map(pageflagsEnum(cfg).map((e) => [e.name, e.bit] as const));
}

// ---------------------------------------------------------------------------------------------
// page->flags fields

export type PageFlagsFieldName = 'section' | 'node' | 'zone' | 'last_cpupid' | 'kasan_tag' | 'lru_gen' | 'lru_refs';

export interface PageFlagsField {
  readonly name: PageFlagsFieldName;
  /** Lowest bit (the *_PGOFF, equal to *_PGSHIFT for a field that is present). */
  readonly shift: number;
  readonly width: number;
  /** ((1 << width) - 1) << shift. */
  readonly mask: bigint;
}

export interface PageFlagsLayout {
  readonly bitsPerLong: 32 | 64;
  readonly nrPageflags: number;
  readonly zonesShift: number;
  readonly zonesWidth: number;
  readonly nodesShift: number;
  readonly nodesWidth: number;
  readonly sectionsShift: number;
  readonly sectionsWidth: number;
  /** LAST_CPUPID_SHIFT (LAST__PID_SHIFT 8 + LAST__CPU_SHIFT = NR_CPUS_BITS) and the width in flags. */
  readonly lastCpupidShift: number;
  readonly lastCpupidWidth: number;
  readonly lastCpuShift: number;
  readonly kasanTagWidth: number;
  readonly lruGenWidth: number;
  readonly lruRefsWidth: number;
  /** *_PGOFF as the kernel defines them (also for absent fields). */
  readonly pgoff: Readonly<Record<PageFlagsFieldName, number>>;
  /** *_PGSHIFT: the PGOFF, or 0 for an absent field (LRU_GEN/LRU_REFS have no PGSHIFT; their PGOFF is given). */
  readonly pgshift: Readonly<Record<PageFlagsFieldName, number>>;
  readonly zoneidShift: number;
  readonly zoneidPgshift: number;
  /** Present fields from the top bit down. */
  readonly fields: readonly PageFlagsField[];
  readonly nodeNotInPageFlags: boolean;
  readonly lastCpupidInFlags: boolean;
  /** SECTION_IN_PAGE_FLAGS (classic SPARSEMEM). */
  readonly sectionInPageFlags: boolean;
  /** Bits used neither by flags nor by a present field (the gap above NR_PAGEFLAGS). */
  readonly unusedBits: number;
}

/** ilog2 (v5.3 NR_CPUS_BITS). */
function ilog2(n: number): number {
  return n <= 0 ? 0 : 31 - Math.clz32(n);
}

/** order_base_2 (6.x NR_CPUS_BITS, LRU_GEN_WIDTH). */
function orderBase2(n: number): number {
  return n <= 1 ? 0 : ilog2(n - 1) + 1;
}

/**
 * page-flags-layout.h plus the *_PGOFF/*_PGSHIFT/ZONEID definitions of mm.h (v5.3) or
 * mmzone.h (6.x) for cfg. Throws InputError where the kernel's #error would stop the build.
 * Leaves out KASAN_HW_TAGS on v5.3 (not in that kernel) and BUILD_VDSO32_64.
 */
export function pageFlagsLayout(cfg: PageConfig): PageFlagsLayout {
  const bpl = cfg.bitsPerLong;
  const nr = nrPageflags(cfg);
  const room = bpl - nr;
  const z = cfg.zonesCount;
  if (z > 8) throw new InputError(`MAX_NR_ZONES ${z}: ZONES_SHIFT supports at most 8 zones`);
  const zonesShift = z < 2 ? 0 : z <= 2 ? 1 : z <= 4 ? 2 : 3;
  const zonesWidth = zonesShift;
  const sectionsShift = cfg.sparsemem === 'flat' ? 0 : cfg.maxPhysmemBits - cfg.sectionSizeBits;
  const sectionsWidth = cfg.sparsemem === 'classic' ? sectionsShift : 0;
  const v53 = cfg.version === 'v5.3';
  const lruGenWidth = !v53 && cfg.lruGen ? orderBase2(4 + 1) : 0; // MAX_NR_GENS 4
  const lruRefsMax = !v53 && cfg.lruGen ? 4 - 2 : 0; // MAX_NR_TIERS 4
  const ns = cfg.nodesShift;

  let nodesWidth: number;
  if ((v53 ? sectionsWidth + zonesWidth + ns : zonesWidth + lruGenWidth + sectionsWidth + ns) <= room) nodesWidth = ns;
  else if (cfg.sparsemem === 'vmemmap') throw new InputError(`Vmemmap: No space for nodes field in page flags (NODES_SHIFT ${ns}, NR_PAGEFLAGS ${nr})`);
  else nodesWidth = 0;

  const kasanTagWidth = cfg.kasanSwTags ? 8 : cfg.kasanHwTags && !v53 ? (cfg.version === '6.1' || cfg.version === '6.12' ? 8 : 4) : 0;
  const nrCpusBits = cfg.smp ? (v53 ? ilog2(cfg.nrCpus) : orderBase2(cfg.nrCpus)) : 0;
  const lastCpuShift = cfg.numaBalancing ? nrCpusBits : 0;
  const lastCpupidShift = cfg.numaBalancing ? 8 + nrCpusBits : 0;
  const cpupidFits = v53 ? sectionsWidth + zonesWidth + ns + lastCpupidShift + kasanTagWidth <= room : zonesWidth + lruGenWidth + sectionsWidth + nodesWidth + kasanTagWidth + lastCpupidShift <= room;
  const lastCpupidWidth = cpupidFits ? lastCpupidShift : 0;
  const used = sectionsWidth + nodesWidth + zonesWidth + lastCpupidWidth + kasanTagWidth + lruGenWidth;
  if (used > room) throw new InputError(`Not enough bits in page flags (${used} field bits, ${room} free above NR_PAGEFLAGS ${nr})`);
  const lruRefsWidth = Math.min(lruRefsMax, room - used);

  const sections = bpl - sectionsWidth;
  const nodes = sections - nodesWidth;
  const zones = nodes - zonesWidth;
  const lastCpupid = zones - lastCpupidWidth;
  const kasanTag = lastCpupid - kasanTagWidth;
  const lruGen = kasanTag - lruGenWidth;
  const lruRefs = lruGen - lruRefsWidth;
  const pgoff: Record<PageFlagsFieldName, number> = {
    section: sections,
    node: nodes,
    zone: zones,
    last_cpupid: lastCpupid,
    kasan_tag: kasanTag,
    lru_gen: lruGen,
    lru_refs: lruRefs,
  };
  const widths: Record<PageFlagsFieldName, number> = {
    section: sectionsWidth,
    node: nodesWidth,
    zone: zonesWidth,
    last_cpupid: lastCpupidWidth,
    kasan_tag: kasanTagWidth,
    lru_gen: lruGenWidth,
    lru_refs: lruRefsWidth,
  };
  const pgshift: Record<PageFlagsFieldName, number> = {
    section: sectionsWidth ? sections : 0,
    node: nodesWidth ? nodes : 0,
    zone: zonesWidth ? zones : 0,
    last_cpupid: lastCpupidWidth ? lastCpupid : 0,
    kasan_tag: kasanTagWidth ? kasanTag : 0,
    lru_gen: lruGen,
    lru_refs: lruRefs,
  };
  const nodeNotInPageFlags = !(nodesWidth > 0 || ns === 0);
  const zoneidShift = nodeNotInPageFlags ? sectionsShift + zonesShift : ns + zonesShift;
  const zoneidPgoff = nodeNotInPageFlags ? Math.min(sections, zones) : Math.min(nodes, zones);
  const order: PageFlagsFieldName[] = ['section', 'node', 'zone', 'last_cpupid', 'kasan_tag', 'lru_gen', 'lru_refs'];
  const fields = order.filter((n) => widths[n] > 0).map((n) => ({ name: n, shift: pgoff[n], width: widths[n], mask: ((1n << BigInt(widths[n])) - 1n) << BigInt(pgoff[n]) }));
  return {
    bitsPerLong: bpl,
    nrPageflags: nr,
    zonesShift,
    zonesWidth,
    nodesShift: ns,
    nodesWidth,
    sectionsShift,
    sectionsWidth,
    lastCpupidShift,
    lastCpupidWidth,
    lastCpuShift,
    kasanTagWidth,
    lruGenWidth,
    lruRefsWidth,
    pgoff,
    pgshift,
    zoneidShift,
    zoneidPgshift: zoneidShift !== 0 ? zoneidPgoff : 0,
    fields,
    nodeNotInPageFlags,
    lastCpupidInFlags: cfg.numaBalancing && lastCpupidWidth !== 0,
    sectionInPageFlags: cfg.sparsemem === 'classic',
    unusedBits: room - used - lruRefsWidth,
  };
}

/** A field of a flags word: (flags >> PGSHIFT) & MASK, 0 for an absent field. */
export function pageFlagsField(flags: bigint, layout: PageFlagsLayout, name: PageFlagsFieldName): bigint {
  const f = layout.fields.find((x) => x.name === name);
  return f ? (flags >> BigInt(f.shift)) & ((1n << BigInt(f.width)) - 1n) : 0n;
}

/**
 * A reader of one page->flags field from the little-endian 64-bit word at byte 0 of a struct page
 * record, in 32-bit arithmetic (page_zonenum, page_to_nid on a record read back); the field is
 * looked up once, for loops over many pages. Fields up to 32 bits wide; an absent field reads 0.
 */
export function recordFlagsFieldReader(layout: PageFlagsLayout, name: PageFlagsFieldName): (view: DataView) => number {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) return () => 0;
  const mask = f.width >= 32 ? 0xffffffff : (1 << f.width) - 1;
  const shift = f.shift;
  if (shift >= 32) return (view) => ((view.getUint32(4, true) >>> (shift - 32)) & mask) >>> 0;
  if (shift === 0) return (view) => (view.getUint32(0, true) & mask) >>> 0;
  return (view) => (((view.getUint32(0, true) >>> shift) | (view.getUint32(4, true) << (32 - shift))) & mask) >>> 0;
}

const flagsFieldReaders = new WeakMap<PageFlagsLayout, Map<PageFlagsFieldName, (view: DataView) => number>>();

/** One page's field through the layout's reader (made once per layout and field): pageFlagsField of a record, without BigInt. */
export function recordFlagsField(view: DataView, layout: PageFlagsLayout, name: PageFlagsFieldName): number {
  let readers = flagsFieldReaders.get(layout);
  if (!readers) flagsFieldReaders.set(layout, (readers = new Map<PageFlagsFieldName, (view: DataView) => number>()));
  let read = readers.get(name);
  if (!read) readers.set(name, (read = recordFlagsFieldReader(layout, name)));
  return read(view);
}

/** Replace a present field (set_page_zone / set_page_node / set_page_section style); absent fields are left alone. */
function setField(flags: bigint, layout: PageFlagsLayout, name: PageFlagsFieldName, value: bigint): bigint {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) return flags;
  const m = (1n << BigInt(f.width)) - 1n;
  return (flags & ~f.mask) | ((value & m) << BigInt(f.shift));
}

/**
 * The page->flags word __init_single_page leaves (v5.3, 6.1, 6.18): set_page_links (zone, node,
 * section with SECTION_IN_PAGE_FLAGS), page_cpupid_reset_last (all ones in the field when
 * LAST_CPUPID is in flags) and page_kasan_tag_reset (SW tags: 0xff in v5.3, stored as 0 =
 * 0xff ^ 0xff in 6.x). No flag bits are set; PG_reserved is the caller's (setPageReserved).
 */
export function initSinglePageFlagsWord(zone: number, nid: number, pfn: number, cfg: PageConfig): bigint {
  const layout = pageFlagsLayout(cfg);
  let flags = 0n;
  flags = setField(flags, layout, 'zone', BigInt(zone));
  flags = setField(flags, layout, 'node', BigInt(nid));
  if (layout.sectionInPageFlags) flags = setField(flags, layout, 'section', BigInt(Math.floor(pfn / 2 ** (cfg.sectionSizeBits - cfg.pageShift))));
  if (layout.lastCpupidInFlags) {
    // LAST_CPUPID_MASK is (1 << LAST_CPUPID_SHIFT) - 1, shifted by LAST_CPUPID_PGSHIFT.
    flags |= ((1n << BigInt(layout.lastCpupidShift)) - 1n) << BigInt(layout.pgshift.last_cpupid);
  }
  if (cfg.kasanSwTags && cfg.version === 'v5.3') flags = setField(flags, layout, 'kasan_tag', 0xffn);
  return flags & ((1n << BigInt(cfg.bitsPerLong)) - 1n);
}

// ---------------------------------------------------------------------------------------------
// Decoding page->flags

/**
 * drgn's decode_page_flags (drgn.helpers.linux.mm): the flags below NR_PAGEFLAGS decoded with
 * decode_enum_type_flags over enum pageflags, so every enumerator (aliases included, in
 * declaration order) whose bit is set is listed, joined with '|'; "0" when none is set.
 */
export function decodePageFlags(flagsWord: bigint, cfg: PageConfig): string {
  const value = flagsWord & ((1n << BigInt(nrPageflags(cfg))) - 1n);
  if (value === 0n) return '0';
  return pageflagsEnum(cfg)
    .filter((e) => (value >> BigInt(e.bit)) & 1n)
    .map((e) => e.name)
    .join('|');
}

/** format_flags (lib/vsprintf.c, all versions): names of pageflag_names[] in table order, any unnamed rest as 0x hex. */
function formatFlagNames(flags: bigint, cfg: PageConfig): string {
  const bits = flagLists(cfg).bits;
  const parts: string[] = [];
  let rest = flags;
  for (const name of flagLists(cfg).names) {
    if (rest === 0n) break;
    const mask = 1n << BigInt(bits.indexOf(name));
    if ((rest & mask) !== mask) continue;
    parts.push(name);
    rest &= ~mask;
  }
  let out = parts.join('|');
  if (rest !== 0n) out += `${parts.length ? '|' : ''}0x${rest.toString(16)}`;
  return out;
}

/**
 * What the kernel's %pGp prints for a page->flags word. v5.3 (flags_string): only the names of
 * the set flags below NR_PAGEFLAGS ('' when none; dump_page printed "flags: %#lx(%pGp)").
 * 6.1 and 6.18 (format_page_flags): "0x<word>(" + names + then section=, node=, zone= in
 * decimal and lastcpupid=, kasantag= in 0x hex for each field of nonzero width + ")".
 * LRU_GEN/LRU_REFS are not printed by the kernel and not here.
 */
export function formatPageFlagsPGp(flags: bigint, cfg: PageConfig): string {
  const layout = pageFlagsLayout(cfg);
  const main = flags & ((1n << BigInt(layout.nrPageflags)) - 1n);
  if (cfg.version === 'v5.3') return formatFlagNames(main, cfg);
  const parts: string[] = [];
  if (main !== 0n) parts.push(formatFlagNames(main, cfg));
  const pff: [PageFlagsFieldName, string, 'dec' | 'hex'][] = [
    ['section', 'section', 'dec'],
    ['node', 'node', 'dec'],
    ['zone', 'zone', 'dec'],
    ['last_cpupid', 'lastcpupid', 'hex'],
    ['kasan_tag', 'kasantag', 'hex'],
  ];
  for (const [field, label, base] of pff) {
    if (!layout.fields.some((f) => f.name === field)) continue;
    let v = pageFlagsField(flags, layout, field);
    // pff[].mask is LAST_CPUPID_MASK = (1 << LAST_CPUPID_SHIFT) - 1, equal to the width here.
    if (field === 'last_cpupid') v = (flags >> BigInt(layout.pgshift.last_cpupid)) & ((1n << BigInt(layout.lastCpupidShift)) - 1n);
    parts.push(`${label}=${base === 'dec' ? v.toString(10) : `0x${v.toString(16)}`}`);
  }
  return `0x${flags.toString(16)}(${parts.join('|')})`;
}

// ---------------------------------------------------------------------------------------------
// page_type

const PGTY_612: readonly (readonly [string, number])[] = [
  ['buddy', 0xf0],
  ['offline', 0xf1],
  ['table', 0xf2],
  ['guard', 0xf3],
  ['hugetlb', 0xf4],
  ['slab', 0xf5],
  ['zsmalloc', 0xf6],
  ['unaccepted', 0xf7],
];

/** v5.3 and 6.1 single inverted bits under PAGE_TYPE_BASE; 6.12 and 6.18 PGTY_* values of the top byte. */
/** Whether page_type holds one PGTY in its top byte (6.12 on) rather than inverted bits. */
function pgty(version: PageLayoutVersion): boolean {
  return version === '6.12' || version === '6.18';
}

const PAGE_TYPES: Record<PageLayoutVersion, readonly (readonly [string, number])[]> = {
  'v5.3': [
    ['buddy', 0x80],
    ['offline', 0x100],
    ['kmemcg', 0x200],
    ['table', 0x400],
    ['guard', 0x800],
  ],
  '6.1': [
    ['buddy', 0x80],
    ['offline', 0x100],
    ['table', 0x200],
    ['guard', 0x400],
  ],
  // enum pagetype (4ffca5a96678, 6.12-rc1: one PGTY per page in page_type's top byte), read in
  // Debian 6.12.118's DWARF: buddy 0xf0 to unaccepted 0xf7; 6.18.2 adds large_kmalloc.
  '6.12': PGTY_612,
  '6.18': [...PGTY_612, ['large_kmalloc', 0xf8]],
};

/** v5.3/6.1 PAGE_TYPE_BASE. */
export const PAGE_TYPE_BASE = 0xf0000000;
/** page_type as __init_single_page leaves it (_mapcount = -1). */
export const PAGE_TYPE_NONE = 0xffffffff;

/** The page types of a version: v5.3/6.1 the PG_* bit, 6.12/6.18 the PGTY_* byte. */
export function pageTypeValues(version: PageLayoutVersion): ReadonlyMap<string, number> {
  return new Map(PAGE_TYPES[version]);
}

function pageTypeValue(version: PageLayoutVersion, type: string): number {
  const v = pageTypeValues(version).get(type);
  if (v === undefined) throw new InputError(`page type '${type}' does not exist in ${version}; expected one of ${[...pageTypeValues(version).keys()].join(', ')}`);
  return v;
}

/**
 * __SetPage<Type> on page->page_type (at the _mapcount offset): v5.3/6.1 clear the type's bit;
 * 6.18 store PGTY << 24 (the kernel VM_BUG_ONs unless page_type was UINT_MAX or already that type).
 */
export function encodePageType(version: PageLayoutVersion, type: string, pageType: number = PAGE_TYPE_NONE): number {
  const v = pageTypeValue(version, type);
  if (!pgty(version)) return (pageType & ~v) >>> 0;
  if (pageType >>> 24 === v) return pageType >>> 0;
  if (pageType >>> 0 !== PAGE_TYPE_NONE) throw new Error(`__SetPage${type}: page_type 0x${(pageType >>> 0).toString(16)} is not UINT_MAX`);
  return (v << 24) >>> 0;
}

/** __ClearPage<Type>: v5.3/6.1 set the bit again; 6.18 back to UINT_MAX. */
export function clearPageType(version: PageLayoutVersion, type: string, pageType: number): number {
  const v = pageTypeValue(version, type);
  return pgty(version) ? PAGE_TYPE_NONE : (pageType | v) >>> 0;
}

/** page_has_type: v5.3/6.1 (int)page_type < PAGE_MAPCOUNT_RESERVE (-128); 6.18 (int)page_type < (int)(0xff << 24). */
export function pageHasType(version: PageLayoutVersion, pageType: number): boolean {
  const s = pageType | 0;
  return pgty(version) ? s < 0xff << 24 : s < -128;
}

/** Page<Type> tests: the types page_type says the page has (v5.3/6.1 may in theory list several; 6.18 at most one). */
export function decodePageType(version: PageLayoutVersion, pageType: number): string[] {
  const u = pageType >>> 0;
  if (pgty(version)) return PAGE_TYPES[version].filter(([, v]) => u >>> 24 === v).map(([n]) => n);
  return PAGE_TYPES[version].filter(([, v]) => (u & (PAGE_TYPE_BASE | v)) >>> 0 === PAGE_TYPE_BASE).map(([n]) => n);
}

// ---------------------------------------------------------------------------------------------
// struct page

export interface StructPageField {
  readonly offset: number;
  readonly size: number;
}

export interface StructPageLayout {
  readonly size: number;
  readonly align: number;
  /** Named members (union alternatives share offsets), e.g. 'flags', 'lru', 'lru.next', 'mapping'. */
  readonly fields: ReadonlyMap<string, StructPageField>;
}

/**
 * struct page of mm_types.h for cfg: flags, the five-word union (page cache/anon view, the
 * tail-page compound_head, the ZONE_DEVICE view, page_pool's pp_magic), _mapcount/page_type,
 * _refcount, the memcg word, _last_cpupid when LAST_CPUPID is not in flags, KMSAN's two
 * pointers. Leaves out the slab/page-table/rcu views' inner members and WANT_PAGE_VIRTUAL
 * (no modelled arch defines it).
 */
export function structPageLayout(cfg: PageConfig): StructPageLayout {
  // Memoised per config object: readers (checkers, page_pgmap) call it per page.
  let l = structPageLayouts.get(cfg);
  if (!l) {
    l = computeStructPageLayout(cfg);
    structPageLayouts.set(cfg, l);
  }
  return l;
}

const structPageLayouts = new WeakMap<PageConfig, StructPageLayout>();

function computeStructPageLayout(cfg: PageConfig): StructPageLayout {
  const w = cfg.bitsPerLong / 8;
  const f = new Map<string, StructPageField>();
  const put = (name: string, offset: number, size: number): void => void f.set(name, { offset, size });
  put('flags', 0, w);
  put('lru', w, 2 * w);
  put('lru.next', w, w);
  put('lru.prev', 2 * w, w);
  if (cfg.version !== 'v5.3') {
    put('buddy_list', w, 2 * w);
    put('pcp_list', w, 2 * w);
    put('pp_magic', w, w);
  }
  put('compound_head', w, w);
  put(cfg.version === '6.18' ? '_unused_pgmap_compound_head' : 'pgmap', w, w);
  put('zone_device_data', 2 * w, w);
  put('mapping', 3 * w, w);
  put(cfg.version === '6.18' ? '__folio_index' : 'index', 4 * w, w);
  put('private', 5 * w, w);
  put('rcu_head', w, 2 * w);
  put('_mapcount', 6 * w, 4);
  put('page_type', 6 * w, 4);
  put('_refcount', 6 * w + 4, 4);
  let off = 6 * w + 8;
  if (cfg.memcg) {
    put(cfg.version === 'v5.3' ? 'mem_cgroup' : 'memcg_data', off, w);
    off += w;
  }
  const lastCpupidSeparate = cfg.numaBalancing && !pageFlagsLayout(cfg).lastCpupidInFlags;
  const addLast = (): void => {
    if (lastCpupidSeparate) {
      put('_last_cpupid', off, 4);
      off += 4;
    }
  };
  const addKmsan = (): void => {
    if (cfg.kmsan && cfg.version !== 'v5.3') {
      off = Math.ceil(off / w) * w;
      put('kmsan_shadow', off, w);
      put('kmsan_origin', off + w, w);
      off += 2 * w;
    }
  };
  if (cfg.version === '6.18') {
    addLast();
    addKmsan();
  } else {
    addKmsan();
    addLast();
  }
  const align = cfg.alignedStructPage ? 2 * w : w;
  return { size: Math.ceil(off / align) * align, align, fields: f };
}

function fieldOffset(layout: StructPageLayout, name: string): number {
  const x = layout.fields.get(name);
  if (!x) throw new Error(`struct page has no field ${name}`);
  return x.offset;
}

function writeWord(dv: DataView, at: number, value: bigint, cfg: PageConfig): void {
  if (cfg.bitsPerLong === 64) dv.setBigUint64(at, BigInt.asUintN(64, value), cfg.littleEndian);
  else dv.setUint32(at, Number(BigInt.asUintN(32, value)), cfg.littleEndian);
}

function readWord(dv: DataView, at: number, cfg: PageConfig): bigint {
  return cfg.bitsPerLong === 64 ? dv.getBigUint64(at, cfg.littleEndian) : BigInt(dv.getUint32(at, cfg.littleEndian));
}

/**
 * __init_single_page (v5.3/6.1 mm/page_alloc.c, 6.18 mm/mm_init.c) on the record at dv[off]:
 * mm_zero_struct_page, set_page_links, init_page_count (_refcount 1), _mapcount -1,
 * page_cpupid_reset_last (flags field or _last_cpupid = LAST_CPUPID_MASK), page_kasan_tag_reset,
 * INIT_LIST_HEAD(&page->lru) with lru.next = lru.prev = memmapBase + pfn * sizeof(struct page)
 * + offsetof(lru). `memmapBase` is the virtual address of pfn 0's struct page (vmemmap on
 * SPARSEMEM_VMEMMAP, mem_map - ARCH_PFN_OFFSET on FLATMEM). No WANT_PAGE_VIRTUAL arch is modelled.
 */
export function initSinglePageRecord(dv: DataView, off: number, pfn: number, zone: number, nid: number, cfg: PageConfig, memmapBase: bigint): void {
  const sp = structPageLayout(cfg);
  for (let i = 0; i < sp.size; i++) dv.setUint8(off + i, 0);
  writeWord(dv, off + fieldOffset(sp, 'flags'), initSinglePageFlagsWord(zone, nid, pfn, cfg), cfg);
  dv.setInt32(off + fieldOffset(sp, '_refcount'), 1, cfg.littleEndian);
  dv.setInt32(off + fieldOffset(sp, '_mapcount'), -1, cfg.littleEndian);
  const last = sp.fields.get('_last_cpupid');
  if (last) {
    const layout = pageFlagsLayout(cfg);
    dv.setInt32(off + last.offset, 2 ** layout.lastCpupidShift - 1, cfg.littleEndian);
  }
  const lruOff = fieldOffset(sp, 'lru');
  const self = memmapBase + BigInt(pfn) * BigInt(sp.size) + BigInt(lruOff);
  writeWord(dv, off + fieldOffset(sp, 'lru.next'), self, cfg);
  writeWord(dv, off + fieldOffset(sp, 'lru.prev'), self, cfg);
}

/** SetPageReserved / __SetPageReserved (all versions): set PG_reserved in the record's flags word. */
export function setPageReserved(dv: DataView, off: number, cfg: PageConfig): void {
  const bit = pageFlagBits(cfg).get('PG_reserved');
  if (bit === undefined) throw new Error('PG_reserved missing from enum pageflags');
  const at = off + fieldOffset(structPageLayout(cfg), 'flags');
  writeWord(dv, at, readWord(dv, at, cfg) | (1n << BigInt(bit)), cfg);
}

/** The flags word of a stored record (page->flags). */
export function readPageFlags(dv: DataView, off: number, cfg: PageConfig): bigint {
  return readWord(dv, off + fieldOffset(structPageLayout(cfg), 'flags'), cfg);
}
