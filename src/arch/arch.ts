// Per-architecture constants of the memory model (page, section, subsection, pageblock,
// memory-block sizes and the zone list). Values are the kernel's defaults for each arch.
import type { Pfn } from '../kernel/types.js';

/** Zone names as the kernel prints them (zone_names[]). */
export type ZoneName = 'DMA' | 'DMA32' | 'Normal' | 'HighMem' | 'Movable' | 'Device';

export interface Arch {
  readonly name: 'x86_64';
  readonly pageShift: number;
  readonly sectionSizeBits: number;
  readonly subsectionShift: number;
  readonly pageblockOrder: number;
  readonly structPageBytes: number;
  /** MAX_ORDER_NR_PAGES (1 << (MAX_ORDER - 1) in v5.3, 1 << MAX_PAGE_ORDER now): 1024 on x86_64. */
  readonly maxOrderNrPages: number;
  /** Zones in index order for a kernel with ZONE_DEVICE (CONFIG_ZONE_DEVICE=y). */
  readonly zones: readonly ZoneName[];
  /** Bytes in the smallest memory block (one section). */
  readonly minMemoryBlockBytes: number;
  /**
   * zone_sizes_init: the arch's max_zone_pfn[] for each zone of `zones`
   * (0 for Movable and Device, which the arch does not size).
   */
  maxZonePfns(maxLowPfn: Pfn, maxPfn: Pfn): Pfn[];
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
