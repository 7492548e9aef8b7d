// memblock queries used at boot (mm/memblock.c, include/linux/memblock.h; v5.3 and 6.18 agree).
import type { Arch } from '../arch/arch.js';
import type { MemblockRegion, ReservedRange } from './machine_spec.js';
import type { Bytes, Nid, Pfn } from '../units.js';

/** A memblock region as pfns, as for_each_mem_pfn_range gives it (PFN_UP(base), PFN_DOWN(end)). */
export interface PfnRegion {
  readonly start: Pfn;
  readonly end: Pfn;
  readonly nid: Nid;
  readonly hotpluggable: boolean;
  readonly mirror: boolean;
}

export function pfnRegions(arch: Arch, memory: readonly MemblockRegion[]): PfnRegion[] {
  const page = 2 ** arch.pageShift;
  const out: PfnRegion[] = [];
  for (const r of [...memory].sort((a, b) => a.base - b.base)) {
    const start = Math.ceil(r.base / page);
    const end = Math.floor((r.base + r.size) / page);
    if (end > start) out.push({ start, end, nid: r.nid, hotpluggable: r.hotpluggable, mirror: r.mirror });
  }
  return out;
}

/** x86 mem=: e820__range_remove(limit, ULLONG_MAX - limit, E820_TYPE_RAM) — drop RAM at or above limit. */
export function applyMemLimit(memory: readonly MemblockRegion[], limit: Bytes): MemblockRegion[] {
  const out: MemblockRegion[] = [];
  for (const r of memory) {
    if (r.base >= limit) continue;
    out.push(r.base + r.size > limit ? { ...r, size: limit - r.base } : r);
  }
  return out;
}

/** get_pfn_range_for_nid: [min start, max end) of the node's regions, or [0, 0). */
export function pfnRangeForNid(regions: readonly PfnRegion[], nid: Nid): { start: Pfn; end: Pfn } {
  let start = Infinity;
  let end = 0;
  for (const r of regions) {
    if (r.nid !== nid) continue;
    start = Math.min(start, r.start);
    end = Math.max(end, r.end);
  }
  return start === Infinity ? { start: 0, end: 0 } : { start, end };
}

/** __absent_pages_in_range(nid, start, end): pfns of [start, end) not covered by the node's regions. */
export function absentPagesInRange(regions: readonly PfnRegion[], nid: Nid | null, start: Pfn, end: Pfn): number {
  let absent = end - start;
  for (const r of regions) {
    if (nid !== null && r.nid !== nid) continue;
    const s = Math.min(Math.max(r.start, start), end);
    const e = Math.min(Math.max(r.end, start), end);
    absent -= e - s;
  }
  return absent;
}

/**
 * memblock_find_dma_reserve (arch/x86/mm/init.c, removed in 6.9 per the profile): pages of
 * memblock.memory below MAX_DMA_PFN minus the free (memory and not reserved) pages there.
 */
export function dmaReserveFromReserved(regions: readonly PfnRegion[], reserved: readonly ReservedRange[], arch: Arch, maxDmaPfn: Pfn): number {
  const page = 2 ** arch.pageShift;
  let nrPages = 0;
  for (const r of regions) nrPages += Math.max(0, Math.min(r.end, maxDmaPfn) - Math.min(r.start, maxDmaPfn));
  // free = memory minus reserved, computed on byte ranges then PFN_UP/PFN_DOWN per free range.
  const res = [...reserved].sort((a, b) => a.base - b.base);
  let free = 0;
  for (const r of regions) {
    let cursor = r.start * page;
    const end = r.end * page;
    const pieces: [number, number][] = [];
    for (const x of res) {
      const xs = x.base;
      const xe = x.base + x.size;
      if (xe <= cursor || xs >= end) continue;
      if (xs > cursor) pieces.push([cursor, xs]);
      cursor = Math.max(cursor, xe);
    }
    if (cursor < end) pieces.push([cursor, end]);
    for (const [s, e] of pieces) {
      const sp = Math.min(Math.ceil(s / page), maxDmaPfn);
      const ep = Math.min(Math.floor(e / page), maxDmaPfn);
      if (sp < ep) free += ep - sp;
    }
  }
  return nrPages - free;
}
