// struct dev_pagemap and struct vmem_altmap (include/linux/memremap.h, mm/sparse-vmemmap.c's
// altmap allocator; 5.3-6.18), with pfn_first / pfn_end. One range per pgmap (nr_range 1).
import type { Nid, PhysAddr, Pfn } from '../units.js';

/** enum memory_type: v5.3 calls GENERIC "DEVDAX" and has no COHERENT. */
export type PgmapType = 'private' | 'coherent' | 'fsdax' | 'generic' | 'p2pdma';

/** struct vmem_altmap: memmap storage carved from the device itself. Pfns. */
export class VmemAltmap {
  /** Pfns consumed by vmemmap blocks. */
  alloc = 0;
  /** Pfns skipped to align blocks (counted against free). */
  align = 0;

  constructor(
    readonly basePfn: Pfn,
    readonly reserve: number,
    readonly free: number,
  ) {}

  /** vmem_altmap_offset: pfns from base_pfn where device pages (with a usable memmap) begin. */
  get offset(): number {
    return this.reserve + this.free;
  }

  /** vmem_altmap_next_pfn */
  get nextPfn(): Pfn {
    return this.basePfn + this.reserve + this.alloc + this.align;
  }

  /** vmem_altmap_nr_free */
  get nrFree(): number {
    const used = this.alloc + this.align;
    return this.free > used ? this.free - used : 0;
  }

  /**
   * altmap_alloc_block_buf (6.1; same rule in v5.3): nrPfns pfns aligned to the largest power of
   * two dividing nrPfns, the padding counted in align; the first pfn, or null when free runs out.
   */
  allocBlockBuf(nrPfns: number): Pfn | null {
    if (!Number.isInteger(nrPfns) || nrPfns <= 0) throw new Error(`altmap_alloc_block_buf: ${nrPfns} is not a whole number of pages`);
    const pfn = this.nextPfn;
    const unit = 2 ** Math.log2(nrPfns & -nrPfns);
    const pad = Math.ceil(pfn / unit) * unit - pfn;
    if (nrPfns + pad > this.nrFree) return null;
    this.alloc += nrPfns;
    this.align += pad;
    return pfn + pad;
  }

  /** vmem_altmap_free */
  freeBlocks(nrPfns: number): void {
    this.alloc -= nrPfns;
  }
}

/** struct dev_pagemap with one range (bytes [start, end], inclusive as the kernel keeps it). */
export interface DevPagemap {
  readonly name: string;
  readonly type: PgmapType;
  readonly start: PhysAddr;
  readonly end: PhysAddr;
  readonly altmap: VmemAltmap | null;
  /** Compound page order of the memmap (current kernels); 0 = base pages. */
  readonly vmemmapShift: number;
  /** The struct dev_pagemap's address, as page->pgmap holds it. */
  readonly address: bigint;
  nid: Nid;
  /** memmap_init_zone_device has initialised [pfnFirst, initialisedTo). */
  initialisedTo: Pfn;
  live: boolean;
  /**
   * pgmap->nr_range as pgmap_pfn_valid reads it: memremap_pages sets 0 and raises it to 1 only
   * after pagemap_range (memmap_init_zone_device included) returned; absent: never remapped.
   */
  nrRange?: number;
  /**
   * Where the kernel sets the range's pageblock migratetypes in one pass after the init loop
   * (pageblock_migratetype_init_range, zoneDevicePageblockRange): the pass has marked the
   * pageblocks of [its start, migratetypeTo) MIGRATE_MOVABLE. Absent before the pass and in
   * kernels that set them in the loop.
   */
  migratetypeTo?: Pfn;
}

/** pfn_first: the range start past the altmap's reserve and memmap storage. */
export function pfnFirst(p: DevPagemap, pageBytes: number): Pfn {
  return p.start / pageBytes + (p.altmap?.offset ?? 0);
}

/** pfn_end */
export function pfnEnd(p: DevPagemap, pageBytes: number): Pfn {
  return (p.end + 1) / pageBytes;
}
