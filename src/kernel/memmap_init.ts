// Boot-time memmap initialisation replayed onto a store: sparse_init gives every present section
// a fresh memmap; the writes free_area_init recorded (memmap_init / memmap_init_zone ranges,
// init_unavailable_range holes, zero_resv_unavail zeroing) run in order, stopping at each
// node's first_deferred_pfn (defer_init); memmap_init_reserved_pages marks memblock.reserved;
// then deferred_init_memmap finishes the deferred pfns. 4.19+ (the one-section deferral);
// leaves out mirrored memory (overlap_memmap_init) and the buddy allocator's state.
import { InputError } from '../errors.js';
import { releaseCode, versionCode } from '../profiles/release.js';
import type { BootState } from './mm_init.js';
import { firstDeferredPfns } from './setup.js';

export { firstDeferredPfns };
import type { Nid, Pfn } from '../units.js';
import type { DeferredRange, FreshState, MemmapStore } from '../memmap/store.js';

export interface MemmapBoot {
  /** first_deferred_pfn per node (absent: nothing deferred on that node). */
  readonly firstDeferredPfn: ReadonlyMap<Nid, Pfn>;
  /** The memblock ranges deferred_init_memmap initialises, per node and zone. */
  readonly deferred: readonly DeferredRange[];
  /** The state a fresh memmap starts in. */
  readonly fresh: FreshState;
}

export interface MemmapBootOptions {
  /** CONFIG_DEBUG_VM with page_init_poison: fresh memmaps are all 0xff. */
  readonly poison: boolean;
  /** Run deferred_init_memmap (true) or stop before it, as at the end of free_area_init. */
  readonly runDeferred: boolean;
}

/** The state memblock-allocated memmap starts in for this profile and config. */
export function freshStateFor(state: BootState, poison: boolean): FreshState {
  if (poison) return 'poisoned';
  // Before 4.15 the sparse memmap came from memblock_virt_alloc (zeroed); since then it is
  // allocated raw (memblock_alloc_try_nid_raw) and holds whatever was in that memory.
  return state.profile.features.unavailable === 'none' ? 'zeroed' : 'stale';
}

export function memmapBoot(state: BootState, store: MemmapStore, opts: MemmapBootOptions): MemmapBoot {
  // 4.19.0-4.19.102 keep 4.18's "Reserved but unavailable" accounting (the 4.20 zeroing came with
  // 4.19.103) but size deferred init as 4.19 does: the version, not the format, decides.
  const unavailable = state.profile.features.unavailable;
  if ((unavailable === 'none' || unavailable === 'reserved-unavailable') && releaseCode(state.profile.release) < versionCode(4, 19)) {
    throw new InputError(`memmap initialisation of ${state.profile.release.release} is not modelled: deferred init before 4.19 sized its early part differently; give --kernel 4.19 or later`);
  }
  const fresh = freshStateFor(state, opts.poison);
  for (const r of state.sparse.runs) if (r.hasMemMap) store.populateSections(r.startNr, r.endNr, fresh);
  const firstDeferred = firstDeferredPfns(state);
  // Replay: 'init' writes stop at first_deferred_pfn of their node (memmap_init_range breaks).
  for (const w of state.memmapLinks.writes) {
    if (w.kind === 'zeroed') store.zeroRange(w.start, w.end);
    else if (w.kind === 'hole') {
      store.initPagesRange(w.start, w.end, w.zoneIdx, w.nid, true, null);
    } else {
      const fd = firstDeferred.get(w.nid);
      const end = fd !== undefined && w.end > fd ? Math.max(w.start, fd) : w.end;
      store.initRange(w.start, end, w.zoneIdx, w.nid);
    }
  }
  // Deferred ranges: memblock memory of the deferred zone from first_deferred_pfn on.
  const deferredMemory: DeferredRange[] = [];
  for (const [nid, fd] of firstDeferred) {
    const node = state.nodes.find((n) => n.nodeId === nid);
    const zone = node?.zones.find((z) => z.zoneStartPfn <= fd && fd < z.zoneStartPfn + z.spannedPages);
    if (!node || !zone) continue;
    const ze = zone.zoneStartPfn + zone.spannedPages;
    for (const r of state.regions) {
      if (r.nid !== nid) continue;
      const s = Math.max(r.start, fd);
      const e = Math.min(r.end, ze);
      if (s < e) deferredMemory.push({ nid, zone: zone.zoneIdx, start: s, end: e });
    }
  }
  // memmap_init_reserved_pages -> reserve_bootmem_region (v5.3, 6.1, 6.12 read): init_reserved_page
  // (CONFIG_DEFERRED_STRUCT_PAGE_INIT) initialises each reserved pfn deferred init has not reached
  // (pfn >= first_deferred_pfn of early_pfn_to_nid(pfn): its memblock.memory node, else
  // first_online_node) with the first zone of that node spanning it, MAX_NR_ZONES where none
  // does (ACPI tables in firmware-reserved memory); then every reserved pfn gets PG_reserved.
  const page = 2 ** state.arch.pageShift;
  const reservedPfns = [...(state.spec.reserved ?? []), ...(state.spec.acpiTables ?? [])].map((r) => ({ start: Math.floor(r.base / page), end: Math.ceil((r.base + r.size) / page) }));
  const regions = [...state.regions].sort((a, b) => a.start - b.start);
  const firstOnline = Math.min(...state.nodes.filter((n) => n.online).map((n) => n.nodeId));
  for (const r of reservedPfns) {
    // Only deferred nodes re-initialise anything: skip the cutting when none is.
    if (firstDeferred.size === 0) {
      store.setReservedRange(r.start, r.end);
      continue;
    }
    for (const piece of earlyNidPieces(regions, firstOnline, r.start, r.end)) {
      const fd = firstDeferred.get(piece.nid);
      if (fd === undefined) continue;
      for (const z of firstSpanningZones(state, piece.nid, Math.max(piece.start, fd), piece.end)) store.initRange(z.start, z.end, z.zoneIdx, piece.nid);
    }
    store.setReservedRange(r.start, r.end);
  }
  // deferred_init_memmap walks the free ranges (memory minus reserved) of the deferred zone.
  const deferred: DeferredRange[] = deferredMemory.flatMap((d) => subtract(d, reservedPfns));
  if (opts.runDeferred) runDeferredSerial(store, deferred);
  return { firstDeferredPfn: firstDeferred, deferred, fresh };
}

/** [start, end) cut by early_pfn_to_nid: the memblock.memory region's node (regions sorted by start), first_online_node outside memory. */
function earlyNidPieces(regions: readonly { start: Pfn; end: Pfn; nid: Nid }[], firstOnline: Nid, start: Pfn, end: Pfn): { start: Pfn; end: Pfn; nid: Nid }[] {
  const out: { start: Pfn; end: Pfn; nid: Nid }[] = [];
  // The first region that ends above start (binary search: regions do not overlap).
  let lo = 0;
  let hi = regions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((regions[mid]?.end ?? 0) <= start) lo = mid + 1;
    else hi = mid;
  }
  let pfn = start;
  for (let i = lo; i < regions.length && pfn < end; i++) {
    const r = regions[i] as { start: Pfn; end: Pfn; nid: Nid };
    if (r.start >= end) break;
    if (r.start > pfn) out.push({ start: pfn, end: r.start, nid: firstOnline });
    const e = Math.min(r.end, end);
    out.push({ start: Math.max(pfn, r.start), end: e, nid: r.nid });
    pfn = e;
  }
  if (pfn < end) out.push({ start: pfn, end, nid: firstOnline });
  return out;
}

/** [start, end) cut by the first zone (in index order) of node nid spanning each pfn; MAX_NR_ZONES where none does. */
function firstSpanningZones(state: BootState, nid: Nid, start: Pfn, end: Pfn): { start: Pfn; end: Pfn; zoneIdx: number }[] {
  if (start >= end) return [];
  const zones = state.nodes.find((n) => n.nodeId === nid)?.zones ?? [];
  const cuts = new Set<number>([start, end]);
  for (const z of zones) for (const p of [z.zoneStartPfn, z.zoneStartPfn + z.spannedPages]) if (p > start && p < end) cuts.add(p);
  const points = [...cuts].sort((a, b) => a - b);
  const out: { start: Pfn; end: Pfn; zoneIdx: number }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const s = points[i] as number;
    const z = zones.find((x) => x.spannedPages > 0 && x.zoneStartPfn <= s && s < x.zoneStartPfn + x.spannedPages);
    out.push({ start: s, end: points[i + 1] as number, zoneIdx: z ? z.zoneIdx : state.zoneNames.length });
  }
  return out;
}

/** deferred_init_memmap on one thread: __init_single_page over every deferred range. */
export function runDeferredSerial(store: MemmapStore, deferred: readonly DeferredRange[]): void {
  for (const d of deferred) store.initRange(d.start, d.end, d.zone, d.nid);
}

/** d minus the pfn ranges in `holes` (sorted or not). */
function subtract(d: DeferredRange, holes: readonly { start: Pfn; end: Pfn }[]): DeferredRange[] {
  let pieces: DeferredRange[] = [d];
  for (const h of holes) {
    pieces = pieces.flatMap((p) => (h.end <= p.start || h.start >= p.end ? [p] : [...(p.start < h.start ? [{ ...p, end: h.start }] : []), ...(p.end > h.end ? [{ ...p, start: h.end }] : [])]));
  }
  return pieces;
}
