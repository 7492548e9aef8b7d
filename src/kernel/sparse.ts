// SPARSEMEM at boot: memory_present / memblocks_present (present sections and their node),
// sparse_init (every present section gets a full memmap and is early + online), and
// subsection_map_init (2 MiB subsection bits of memblock ranges). v5.3 and 6.18; leaves out
// allocation failure in sparse_init and the mem_section root arrays.
//
// Sections are kept as runs of consecutive section numbers with the same node and state, so a
// machine costs O(memory ranges) whatever its size; `sections` materialises the per-section
// view (struct mem_section) on demand for the printers.
import { pagesPerSection, pagesPerSubsection, pageblockNrPages, type Arch } from '../arch/arch.js';
import type { PfnRegion } from './memblock.js';
import type { Nid, Pfn } from '../units.js';

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
  /** SECTION_TAINT_ZONE_DEVICE (5.12+): ZONE_DEVICE shares the section with other memory. */
  deviceTainted: boolean;
}

/** Sections [startNr, endNr) sharing node and flags. */
export interface SectionRun {
  readonly startNr: number;
  endNr: number;
  readonly nid: Nid;
  present: boolean;
  hasMemMap: boolean;
  online: boolean;
  early: boolean;
}

let epochs = 0;
/** A value no earlier call returned: edits of the section map and of the memory blocks take one, so that equal values mean the same state. */
export function nextEpoch(): number {
  return ++epochs;
}

export class Sparse {
  /** Sorted, disjoint runs of present sections. */
  readonly runs: SectionRun[] = [];
  /** subsection_map of sections not wholly covered by memblock ranges (the rest are full). */
  private readonly partialMaps = new Map<number, bigint>();
  private view: Map<number, MemSection> | null = null;
  /** Changes with every edit of the sections (never to a value used before): a cache key for whole-state checkers. */
  epoch = nextEpoch();
  /** Sections with SECTION_TAINT_ZONE_DEVICE (sticky until the section goes). */
  readonly deviceTainted = new Set<number>();
  readonly pagesPerSection: number;
  readonly pagesPerSubsection: number;
  readonly pageblockNrPages: number;
  readonly fullSubsectionMap: bigint;
  /**
   * FLATMEM (CONFIG_SPARSEMEM off): one mem_map for [0, max_mapnr); no sections. Null with
   * SPARSEMEM.
   */
  flatMaxPfn: Pfn | null = null;

  constructor(readonly arch: Arch) {
    this.pagesPerSection = pagesPerSection(arch);
    this.pagesPerSubsection = pagesPerSubsection(arch);
    this.pageblockNrPages = pageblockNrPages(arch);
    this.fullSubsectionMap = (1n << BigInt(this.pagesPerSection / this.pagesPerSubsection)) - 1n;
  }

  private changed(): void {
    this.view = null;
    this.epoch = nextEpoch();
  }

  pfnToSectionNr(pfn: Pfn): number {
    return Math.floor(pfn / this.pagesPerSection);
  }

  /** The run holding section nr, by binary search. */
  runOf(nr: number): SectionRun | undefined {
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.runs[mid];
      if (!r) break;
      if (nr < r.startNr) hi = mid - 1;
      else if (nr >= r.endNr) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** memory_present(nid, start, end): sections touched by [start, end) become present; the first node to claim one keeps it. */
  memoryPresent(nid: Nid, start: Pfn, end: Pfn): void {
    this.changed();
    let first = this.pfnToSectionNr(start);
    const endNr = this.pfnToSectionNr(end - 1) + 1;
    // Ranges come in address order: only the last run can already hold the first section.
    const last = this.runs[this.runs.length - 1];
    if (last && last.endNr > first) first = last.endNr;
    if (first >= endNr) return;
    if (last && last.endNr === first && last.nid === nid && last.present && !last.hasMemMap) {
      last.endNr = endNr;
      return;
    }
    this.runs.push({ startNr: first, endNr, nid, present: true, hasMemMap: false, online: true, early: false });
  }

  /** sparse_init: every present section gets its full early memmap. */
  sparseInit(): void {
    this.changed();
    for (const r of this.runs) {
      if (!r.present) continue;
      r.hasMemMap = true;
      r.early = true;
    }
  }

  /** subsection_map_init(pfn, nr_pages): set the bits of every subsection [start, end) overlaps. */
  subsectionMapInit(start: Pfn, end: Pfn): void {
    this.changed();
    const pps = this.pagesPerSection;
    const bitsFor = (nr: number, s: Pfn, e: Pfn): bigint => {
      const base = nr * pps;
      const first = Math.floor((s - base) / this.pagesPerSubsection);
      const last = Math.floor((e - 1 - base) / this.pagesPerSubsection);
      return ((1n << BigInt(last - first + 1)) - 1n) << BigInt(first);
    };
    const firstNr = this.pfnToSectionNr(start);
    const lastNr = this.pfnToSectionNr(end - 1);
    // Only the end sections can be partly covered; the ones between are full.
    for (const nr of firstNr === lastNr ? [firstNr] : [firstNr, lastNr]) {
      if (!this.runOf(nr)) continue;
      const s = Math.max(start, nr * pps);
      const e = Math.min(end, (nr + 1) * pps);
      if (s === nr * pps && e === (nr + 1) * pps) {
        this.partialMaps.set(nr, this.fullSubsectionMap);
        continue;
      }
      this.partialMaps.set(nr, (this.partialMaps.get(nr) ?? 0n) | bitsFor(nr, s, e));
    }
    // Sections wholly inside the range are full: only those an earlier range left partial
    // need recording.
    for (const nr of this.partialMaps.keys()) {
      if (nr > firstNr && nr < lastNr) this.partialMaps.set(nr, this.fullSubsectionMap);
    }
  }

  /**
   * Apply `edit` to the runs covering sections [firstNr, endNr), splitting runs at the edges;
   * sections without a run get one from `fill` (null: left absent). Equal neighbours merge.
   */
  updateSections(firstNr: number, endNr: number, edit: (r: SectionRun) => SectionRun, fill: ((startNr: number, endNr: number) => SectionRun) | null): void {
    this.changed();
    if (fill && this.fillGap(firstNr, endNr, fill)) return;
    const out: SectionRun[] = [];
    let cursor = firstNr;
    for (const r of this.runs) {
      if (r.endNr <= firstNr || r.startNr >= endNr) {
        out.push(r);
        continue;
      }
      if (fill && cursor < r.startNr) out.push(fill(cursor, r.startNr));
      if (r.startNr < firstNr) out.push({ ...r, endNr: firstNr });
      out.push(edit({ ...r, startNr: Math.max(r.startNr, firstNr), endNr: Math.min(r.endNr, endNr) }));
      if (r.endNr > endNr) out.push({ ...r, startNr: endNr });
      cursor = Math.max(cursor, r.endNr);
    }
    if (fill && cursor < endNr) out.push(fill(Math.max(cursor, firstNr), endNr));
    out.sort((a, b) => a.startNr - b.startNr);
    const merged: SectionRun[] = [];
    for (const r of out) {
      const last = merged[merged.length - 1];
      if (last && last.endNr === r.startNr && sameSectionRun(last, r)) {
        last.endNr = r.endNr;
      } else merged.push({ ...r });
    }
    this.runs.splice(0, this.runs.length, ...merged);
  }

  /**
   * updateSections' answer where [firstNr, endNr) has no run yet and the runs are merged already
   * (no two neighbours alike), as the general path leaves them: the filled run put in, merged
   * with its neighbours, without rebuilding the list (a hot-add calls updateSections once per
   * section: 98304 times for the time driver's 12 TiB). False where that does not hold.
   */
  private fillGap(firstNr: number, endNr: number, fill: (startNr: number, endNr: number) => SectionRun): boolean {
    const runs = this.runs;
    let i = 0;
    while (i < runs.length && (runs[i] as SectionRun).endNr <= firstNr) i++;
    const next = runs[i];
    if (next && next.startNr < endNr) return false;
    for (let k = 1; k < runs.length; k++) if ((runs[k - 1] as SectionRun).endNr === (runs[k] as SectionRun).startNr && sameSectionRun(runs[k - 1] as SectionRun, runs[k] as SectionRun)) return false;
    const r = { ...fill(firstNr, endNr) };
    const prev = runs[i - 1];
    const joinPrev = prev !== undefined && prev.endNr === r.startNr && sameSectionRun(prev, r);
    const joinNext = next !== undefined && r.endNr === next.startNr && sameSectionRun(r, next);
    if (joinPrev && joinNext) runs.splice(i - 1, 2, { ...prev, endNr: next.endNr });
    else if (joinPrev) runs[i - 1] = { ...prev, endNr: r.endNr };
    else if (joinNext) runs[i] = { ...next, startNr: r.startNr };
    else runs.splice(i, 0, r);
    return true;
  }

  /** sparse_remove_section for whole sections: they stop being present and lose their memmap. */
  removeSections(firstNr: number, endNr: number): void {
    this.updateSections(firstNr, endNr, (r) => ({ ...r, present: false, hasMemMap: false, online: false }), null);
    const kept = this.runs.filter((r) => r.present);
    this.runs.splice(0, this.runs.length, ...kept);
    for (const nr of [...this.partialMaps.keys()]) if (nr >= firstNr && nr < endNr) this.partialMaps.delete(nr);
    for (const nr of [...this.deviceTainted]) if (nr >= firstNr && nr < endNr) this.deviceTainted.delete(nr);
  }

  /** online_mem_sections / offline_mem_sections for whole sections. */
  setSectionsOnline(firstNr: number, endNr: number, online: boolean): void {
    this.updateSections(firstNr, endNr, (r) => ({ ...r, online }), null);
  }

  /** The subsection bits of the pfns [start, end) within section nr. */
  subsectionBits(nr: number, start: Pfn, end: Pfn): bigint {
    const base = nr * this.pagesPerSection;
    const first = Math.floor((start - base) / this.pagesPerSubsection);
    const last = Math.floor((end - 1 - base) / this.pagesPerSubsection);
    return ((1n << BigInt(last - first + 1)) - 1n) << BigInt(first);
  }

  /** fill_subsection_map / clear_subsection_map: set or clear the bits of [start, end) in section nr; the map after. */
  editSubsections(nr: number, start: Pfn, end: Pfn, set: boolean, fresh: boolean): bigint {
    this.changed();
    const bits = this.subsectionBits(nr, start, end);
    const cur = fresh ? 0n : this.subsectionMap(nr);
    const next = set ? cur | bits : cur & ~bits;
    if (next === this.fullSubsectionMap) this.partialMaps.delete(nr);
    else this.partialMaps.set(nr, next);
    return next;
  }

  /** usage->subsection_map of a present section (0 for one without memmap). */
  subsectionMap(nr: number): bigint {
    const r = this.runOf(nr);
    if (!r) return 0n;
    return this.partialMaps.get(nr) ?? this.fullSubsectionMap;
  }

  /** pfn_valid (generic SPARSEMEM): section has a memmap and is early, or the subsection bit is set. */
  pfnValid(pfn: Pfn): boolean {
    if (this.flatMaxPfn !== null) return pfn >= 0 && pfn < this.flatMaxPfn;
    const nr = this.pfnToSectionNr(pfn);
    const r = this.runOf(nr);
    if (!r || !r.hasMemMap) return false;
    if (r.early) return true;
    return this.subsectionPresent(nr, Math.floor((pfn - nr * this.pagesPerSection) / this.pagesPerSubsection));
  }

  /** Whether bit idx of present section nr's subsection_map is set (a section without a partial map has them all). */
  subsectionPresent(nr: number, idx: number): boolean {
    const part = this.partialMaps.get(nr);
    return part === undefined || ((part >> BigInt(idx)) & 1n) === 1n;
  }

  /**
   * Count the pfns of [start, end) that init_unavailable_range / zero_pfn_range touch: those whose
   * pageblock's first pfn is valid (pfn_valid(ALIGN_DOWN(pfn, pageblock_nr_pages))). 6.18's
   * for_each_valid_pfn gives the same count at boot, where validity is per section.
   */
  countValidPageblockPfns(start: Pfn, end: Pfn): number {
    if (end <= start) return 0;
    if (this.flatMaxPfn !== null) return Math.max(0, Math.min(end, this.flatMaxPfn) - start);
    const pps = this.pagesPerSection;
    const pb = this.pageblockNrPages;
    let count = 0;
    for (const r of this.runs) {
      const rs = Math.max(start, r.startNr * pps);
      const re = Math.min(end, r.endNr * pps);
      if (rs >= re || !r.hasMemMap) continue;
      if (r.early) {
        count += re - rs; // every pfn of an early section is valid
        continue;
      }
      for (let pfn = rs; pfn < re;) {
        const blockStart = Math.floor(pfn / pb) * pb;
        const blockEnd = Math.min(blockStart + pb, re);
        if (this.pfnValid(blockStart)) count += blockEnd - pfn;
        pfn = blockEnd;
      }
    }
    return count;
  }

  /** The first valid pfn at or after pfn below end, or end. */
  nextValidPfn(pfn: Pfn, end: Pfn): Pfn {
    if (this.pfnValid(pfn)) return pfn;
    const nr = this.pfnToSectionNr(pfn);
    for (const r of this.runs) {
      if (r.endNr <= nr || !r.hasMemMap) continue;
      const s = Math.max(pfn, r.startNr * this.pagesPerSection);
      if (s < end && this.pfnValid(s)) return s;
    }
    return end;
  }

  /** Present sections in total (without materialising them). */
  presentSectionCount(): number {
    let n = 0;
    for (const r of this.runs) if (r.present) n += r.endNr - r.startNr;
    return n;
  }

  /** One section's state as a string (the explore driver's footprints and state hashing). */
  sectionDigest(nr: number): string {
    const r = this.runOf(nr);
    if (!r) return '-';
    return `${r.nid}${r.present ? 'p' : ''}${r.hasMemMap ? 'm' : ''}${r.online ? 'o' : ''}${r.early ? 'e' : ''}/${(this.partialMaps.get(nr) ?? this.fullSubsectionMap).toString(16)}/${this.deviceTainted.has(nr) ? 't' : ''}`;
  }

  /** The whole sparse state as one string (the explore driver's state hashing). */
  digest(): string {
    const runs = this.runs.map((r) => `${r.startNr}-${r.endNr}:${r.nid}${r.present ? 'p' : ''}${r.hasMemMap ? 'm' : ''}${r.online ? 'o' : ''}${r.early ? 'e' : ''}`).join(',');
    const maps = [...this.partialMaps]
      .sort((a, b) => a[0] - b[0])
      .map(([n, v]) => `${n}=${v.toString(16)}`)
      .join(',');
    return `${runs}|${maps}|${[...this.deviceTainted].sort((a, b) => a - b).join(',')}`;
  }

  /** struct mem_section per present section, materialised on first use. */
  get sections(): ReadonlyMap<number, MemSection> {
    if (this.view) return this.view;
    const v = new Map<number, MemSection>();
    for (const s of this.eachSection()) v.set(s.sectionNr, s);
    this.view = v;
    return v;
  }

  /** Each present section's struct mem_section in section order, made as it is read (nothing kept: a listing of 2^20 sections). */
  *eachSection(): Generator<MemSection> {
    for (const r of this.runs) {
      for (let nr = r.startNr; nr < r.endNr; nr++) {
        yield {
          sectionNr: nr,
          nid: r.nid,
          present: r.present,
          hasMemMap: r.hasMemMap,
          online: r.online,
          early: r.early,
          subsectionMap: this.partialMaps.get(nr) ?? this.fullSubsectionMap,
          deviceTainted: this.deviceTainted.has(nr),
        };
      }
    }
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

/** Two runs whose sections are alike (updateSections merges neighbours that are). */
function sameSectionRun(a: SectionRun, b: SectionRun): boolean {
  return a.nid === b.nid && a.present === b.present && a.hasMemMap === b.hasMemMap && a.online === b.online && a.early === b.early;
}
