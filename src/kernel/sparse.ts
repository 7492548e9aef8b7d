// SPARSEMEM at boot: memory_present / memblocks_present (present sections and their node),
// sparse_init (every present section gets a full memmap and is early + online), and
// subsection_map_init (2 MiB subsection bits of memblock ranges). v5.3 and 6.18; leaves out
// allocation failure in sparse_init and the mem_section root arrays.
import { pagesPerSection, pagesPerSubsection, pageblockNrPages, type Arch } from '../arch/arch.js';
import type { PfnRegion } from './memblock.js';
import type { Nid, Pfn } from './types.js';

export interface MemSection {
  readonly sectionNr: number;
  readonly nid: Nid;
  /** SECTION_MARKED_PRESENT | SECTION_HAS_MEM_MAP | SECTION_IS_ONLINE | SECTION_IS_EARLY at boot. */
  present: boolean;
  hasMemMap: boolean;
  online: boolean;
  early: boolean;
  /** usage->subsection_map: bit i covers pfns [i*512, (i+1)*512) of the section. */
  subsectionMap: bigint;
}

export class Sparse {
  readonly sections = new Map<number, MemSection>();
  readonly pagesPerSection: number;
  readonly pagesPerSubsection: number;
  readonly pageblockNrPages: number;

  /**
   * FLATMEM (CONFIG_SPARSEMEM off): one mem_map for [0, max_mapnr); no sections. Null with
   * SPARSEMEM.
   */
  flatMaxPfn: Pfn | null = null;

  constructor(readonly arch: Arch) {
    this.pagesPerSection = pagesPerSection(arch);
    this.pagesPerSubsection = pagesPerSubsection(arch);
    this.pageblockNrPages = pageblockNrPages(arch);
  }

  pfnToSectionNr(pfn: Pfn): number {
    return Math.floor(pfn / this.pagesPerSection);
  }

  /** memory_present(nid, start, end): mark every section touched by [start, end) present and online. */
  memoryPresent(nid: Nid, start: Pfn, end: Pfn): void {
    const first = this.pfnToSectionNr(start);
    const last = this.pfnToSectionNr(end - 1);
    for (let nr = first; nr <= last; nr++) {
      if (this.sections.has(nr)) continue; // the first node to claim a section keeps it
      this.sections.set(nr, {
        sectionNr: nr,
        nid,
        present: true,
        hasMemMap: false,
        online: true,
        early: false,
        subsectionMap: 0n,
      });
    }
  }

  /** sparse_init: every present section gets its full early memmap. */
  sparseInit(): void {
    for (const s of this.sections.values()) {
      if (!s.present) continue;
      s.hasMemMap = true;
      s.early = true;
    }
  }

  /** subsection_map_init(pfn, nr_pages): set the bits of every subsection [start, end) overlaps. */
  subsectionMapInit(start: Pfn, end: Pfn): void {
    let pfn = start;
    while (pfn < end) {
      const nr = this.pfnToSectionNr(pfn);
      const secEnd = Math.min(end, (nr + 1) * this.pagesPerSection);
      const s = this.sections.get(nr);
      if (s) {
        const base = nr * this.pagesPerSection;
        const first = Math.floor((pfn - base) / this.pagesPerSubsection);
        const last = Math.floor((secEnd - 1 - base) / this.pagesPerSubsection);
        for (let i = first; i <= last; i++) s.subsectionMap |= 1n << BigInt(i);
      }
      pfn = secEnd;
    }
  }

  /** pfn_valid (generic SPARSEMEM): section has a memmap and is early, or the subsection bit is set. */
  pfnValid(pfn: Pfn): boolean {
    if (this.flatMaxPfn !== null) return pfn >= 0 && pfn < this.flatMaxPfn;
    const s = this.sections.get(this.pfnToSectionNr(pfn));
    if (!s || !s.hasMemMap) return false;
    if (s.early) return true;
    const idx = Math.floor((pfn - s.sectionNr * this.pagesPerSection) / this.pagesPerSubsection);
    return ((s.subsectionMap >> BigInt(idx)) & 1n) === 1n;
  }

  /**
   * Count the pfns of [start, end) that init_unavailable_range / zero_pfn_range touch: those whose
   * pageblock's first pfn is valid (pfn_valid(ALIGN_DOWN(pfn, pageblock_nr_pages))). 6.18's
   * for_each_valid_pfn gives the same count at boot, where validity is per section.
   */
  countValidPageblockPfns(start: Pfn, end: Pfn): number {
    if (end <= start) return 0;
    if (this.flatMaxPfn !== null) return Math.max(0, Math.min(end, this.flatMaxPfn) - start);
    const pb = this.pageblockNrPages;
    const first = this.pfnToSectionNr(start);
    const last = this.pfnToSectionNr(end - 1);
    // Walk only the sections that exist: a hole can span terabytes of absent sections.
    const nrs = [...this.sections.keys()].filter((nr) => nr >= first && nr <= last).sort((a, b) => a - b);
    let count = 0;
    for (const nr of nrs) {
      let pfn = Math.max(start, nr * this.pagesPerSection);
      const secEnd = Math.min(end, (nr + 1) * this.pagesPerSection);
      while (pfn < secEnd) {
        const blockStart = Math.floor(pfn / pb) * pb;
        const blockEnd = Math.min(blockStart + pb, secEnd);
        if (this.pfnValid(blockStart)) count += blockEnd - pfn;
        pfn = blockEnd;
      }
    }
    return count;
  }
}

/**
 * memblocks_present + sparse_init + the subsection_map_init loop of free_area_init; with
 * FLATMEM, a mem_map covering [0, max_pfn) (max_mapnr = highend_pfn on HighMem i386).
 */
export function sparseBoot(arch: Arch, regions: readonly PfnRegion[], maxPfn: Pfn): Sparse {
  const sparse = new Sparse(arch);
  if (!arch.sparsemem) {
    sparse.flatMaxPfn = maxPfn;
    return sparse;
  }
  for (const r of regions) sparse.memoryPresent(r.nid, r.start, r.end);
  sparse.sparseInit();
  for (const r of regions) sparse.subsectionMapInit(r.start, r.end);
  return sparse;
}
