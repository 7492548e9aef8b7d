// Per-architecture constants of the memory model (page, section, subsection, pageblock,
// memory-block sizes, struct page size, MAX_ORDER, the zone list and zone_sizes_init), and the
// arch-specific parts of boot that print. Values are the kernel's for each arch and version.
import type { Pfn } from '../units.js';

/** Zone names as the kernel prints them (zone_names[]). */
export type ZoneName = 'DMA' | 'DMA32' | 'Normal' | 'HighMem' | 'Movable' | 'Device';

export type ArchName = 'x86_64' | 'arm64' | 'i386' | 's390x';

/** What zone_sizes_init needs to know about the machine. */
export interface ZoneSizesInput {
  /** Lowest memblock pfn (memblock_start_of_DRAM). */
  readonly minPfn: Pfn;
  /** Highest memblock pfn + 1 (max_pfn, memblock_end_of_DRAM). */
  readonly maxPfn: Pfn;
  /** max_low_pfn: the end of directly mapped memory (= maxPfn on 64-bit). */
  readonly maxLowPfn: Pfn;
}

export interface Arch {
  readonly name: ArchName;
  /** A short description with the options that chose this variant, e.g. "arm64 16K pages". */
  readonly variant: string;
  readonly pageShift: number;
  readonly sectionSizeBits: number;
  /** SUBSECTION_SHIFT: 21 (2 MiB) everywhere. */
  readonly subsectionShift: number;
  readonly pageblockOrder: number;
  readonly structPageBytes: number;
  /** MAX_ORDER_NR_PAGES (1 << (MAX_ORDER - 1) before 6.4, 1 << MAX_PAGE_ORDER after). */
  readonly maxOrderNrPages: number;
  /** Zones in index order for this configuration (Device only with CONFIG_ZONE_DEVICE). */
  readonly zones: readonly ZoneName[];
  /** MIN_MEMORY_BLOCK_SIZE = one section. */
  readonly minMemoryBlockBytes: number;
  /** CONFIG_SPARSEMEM (false: FLATMEM, one mem_map, no sections or memory blocks). */
  readonly sparsemem: boolean;
  readonly is64bit: boolean;
  /** zone_sizes_init: max_zone_pfn[] for each zone of `zones` (0 for Movable and Device). */
  maxZonePfns(m: ZoneSizesInput): Pfn[];
}

export function pagesPerSection(arch: Arch): number {
  return 2 ** (arch.sectionSizeBits - arch.pageShift);
}

export function pagesPerSubsection(arch: Arch): number {
  return 2 ** (arch.subsectionShift - arch.pageShift);
}

export function pageblockNrPages(arch: Arch): number {
  return 2 ** arch.pageblockOrder;
}

export function pageBytes(arch: Arch): number {
  return 2 ** arch.pageShift;
}

/** Place each zone's limit at its index in `zones` (absent zones are dropped). */
export function limitsFor(zones: readonly ZoneName[], limits: Partial<Record<ZoneName, Pfn>>): Pfn[] {
  return zones.map((z) => limits[z] ?? 0);
}
