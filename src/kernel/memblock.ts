// memblock at boot (mm/memblock.c, include/linux/memblock.h): the queries free_area_init uses (v5.3 and
// 6.18 agree) and the allocator boot's memblock_alloc* calls go through (6.1).
import type { Arch } from '../arch/arch.js';
import type { MemblockRegion, ReservedRange } from './machine_spec.js';
import type { Bytes, Nid, Pfn, PhysAddr } from '../units.js';

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

/** A byte range [base, end). */
export interface ByteRange {
  readonly base: PhysAddr;
  readonly end: PhysAddr;
}

/** NUMA_NO_NODE: memblock_alloc's "any node". */
export const NUMA_NO_NODE = -1;

/**
 * memblock.memory and memblock.reserved as boot allocates from them (mm/memblock.c, 6.1): the
 * top-down search of memblock_find_in_range_node (__memblock_find_range_top_down; bottom-up
 * while memblock_bottom_up()), memblock_alloc_range_nid's fallback to any node unless exact_nid,
 * memblock_alloc_internal's retry without the lower limit, memblock_reserve and
 * memblock_phys_free. Leaves out mirrored memory (MEMBLOCK_MIRROR) and the region arrays' own
 * doubling (memblock_double_array), which only boots with more than 128 regions reach.
 */
export class Memblock {
  /** memblock.reserved, sorted and merged. */
  private reserved: { base: number; end: number }[] = [];
  /** memblock.current_limit (memblock_set_current_limit); MEMBLOCK_ALLOC_ACCESSIBLE allocations stay below it. */
  currentLimit: PhysAddr = Number.MAX_SAFE_INTEGER;
  /** memblock_set_bottom_up (x86 setup_arch while movable_node, until numa_init resets it). */
  bottomUp = false;
  /** movable_node: allocations skip MEMBLOCK_HOTPLUG regions (memblock_is_hotpluggable in should_skip_region). */
  skipHotpluggable = false;

  constructor(
    readonly memory: readonly MemblockRegion[],
    readonly pageBytes: Bytes,
  ) {}

  /** memblock_reserve(base, size). */
  reserve(base: PhysAddr, size: Bytes): void {
    if (size <= 0) return;
    const out: { base: number; end: number }[] = [];
    let nb = base;
    let ne = base + size;
    for (const r of this.reserved) {
      if (r.end < nb || r.base > ne) out.push(r);
      else {
        nb = Math.min(nb, r.base);
        ne = Math.max(ne, r.end);
      }
    }
    out.push({ base: nb, end: ne });
    this.reserved = out.sort((a, b) => a.base - b.base);
  }

  /** memblock_phys_free(base, size): memblock_remove_range on memblock.reserved. */
  free(base: PhysAddr, size: Bytes): void {
    const end = base + size;
    this.reserved = this.reserved.flatMap((r) => {
      if (r.end <= base || r.base >= end) return [r];
      return [...(r.base < base ? [{ base: r.base, end: base }] : []), ...(r.end > end ? [{ base: end, end: r.end }] : [])];
    });
  }

  reservedRanges(): readonly ByteRange[] {
    return this.reserved;
  }

  /** for_each_free_mem_range(nid, MEMBLOCK_NONE): memory of nid (any: NUMA_NO_NODE) minus reserved, in address order. */
  freeRanges(nid: number = NUMA_NO_NODE): { base: number; end: number; nid: Nid }[] {
    const out: { base: number; end: number; nid: Nid }[] = [];
    const mem = [...this.memory].sort((a, b) => a.base - b.base);
    let ri = 0;
    for (const m of mem) {
      if (nid !== NUMA_NO_NODE && m.nid !== nid) continue;
      if (this.skipHotpluggable && m.hotpluggable) continue;
      let cursor = m.base;
      const end = m.base + m.size;
      while (ri > 0 && (this.reserved[ri - 1]?.end ?? 0) > m.base) ri--;
      for (let i = ri; i < this.reserved.length; i++) {
        const r = this.reserved[i];
        if (!r || r.base >= end) break;
        if (r.end <= cursor) continue;
        if (r.base > cursor) out.push({ base: cursor, end: r.base, nid: m.nid });
        cursor = Math.max(cursor, r.end);
      }
      if (cursor < end) out.push({ base: cursor, end, nid: m.nid });
    }
    return out;
  }

  /** memblock_find_in_range_node: the highest (lowest, bottom-up) aligned base of size bytes in [start, end) on nid; null if none. */
  findInRangeNode(size: Bytes, align: Bytes, start: PhysAddr, end: PhysAddr, nid: number): PhysAddr | null {
    // Start is at least PAGE_SIZE (MEMBLOCK_ALLOC_ACCESSIBLE is resolved by the callers).
    const lim = end;
    const lo = Math.max(start, this.pageBytes);
    const free = this.freeRanges(nid);
    if (this.bottomUp) {
      for (const f of free) {
        const s = Math.max(f.base, lo);
        const e = Math.min(f.end, lim);
        const cand = Math.ceil(s / align) * align;
        if (cand < e && e - cand >= size) return cand;
      }
      return null;
    }
    for (let i = free.length - 1; i >= 0; i--) {
      const f = free[i];
      if (!f) continue;
      const s = Math.min(Math.max(f.base, lo), lim);
      const e = Math.min(Math.max(f.end, lo), lim);
      if (e < size) continue;
      const cand = Math.floor((e - size) / align) * align;
      if (cand >= s) return cand;
    }
    return null;
  }

  /** memblock_alloc_range_nid: find and reserve; a node's allocation falls back to any node unless exact. */
  allocRangeNid(size: Bytes, align: Bytes, start: PhysAddr, end: PhysAddr, nid: number, exactNid: boolean): PhysAddr | null {
    let found = this.findInRangeNode(size, align, start, end, nid);
    if (found === null && nid !== NUMA_NO_NODE && !exactNid) found = this.findInRangeNode(size, align, start, end, NUMA_NO_NODE);
    if (found === null) return null;
    this.reserve(found, size);
    return found;
  }

  /** memblock_alloc_try_nid (memblock_alloc_internal): max 0 is MEMBLOCK_ALLOC_ACCESSIBLE; retried without the lower limit. */
  allocTryNid(size: Bytes, align: Bytes, min: PhysAddr, max: PhysAddr, nid: number, exactNid = false): PhysAddr | null {
    const hi = max === 0 || max > this.currentLimit ? this.currentLimit : max;
    const got = this.allocRangeNid(size, align, min, hi, nid, exactNid);
    if (got !== null || min === 0) return got;
    return this.allocRangeNid(size, align, 0, hi, nid, exactNid);
  }
}
