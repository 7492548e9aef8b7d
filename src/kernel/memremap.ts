// ZONE_DEVICE as tasks (mm/memremap.c, mm/sparse-vmemmap.c, mm/sparse.c, mm/memory_hotplug.c,
// mm/mm_init.c; v5.3, 6.1 and 6.18 per the profile): struct dev_pagemap and struct vmem_altmap
// with altmap_alloc_block_buf; memremap_pages / pagemap_range (conflict checks, arch_add_memory
// with sub-section maps and the memmap's PMDs from the altmap, move_pfn_range_to_zone into
// ZONE_DEVICE initialising only the altmap pfns and tainting shared sections, all under
// mem_hotplug_lock; memmap_init_zone_device after the lock is dropped with page->pgmap, the
// refcount per type and compound pages for vmemmap_shift); memunmap_pages (v5.3 reads the first,
// never initialised page for its node; the span shrinks in v5.3 only). Leaves out
// MEMORY_DEVICE_PRIVATE's add_pages without a direct map, percpu refs and the pgmap xarray's RCU.
import { pfnEnd, pfnFirst, type DevPagemap } from './dev_pagemap.js';
import { pageblocksIn, type Task } from './task.js';
import type { Zone } from './mmzone.js';
import { archAddMemory, EINVAL, movePfnRangeToZone, removePfnRangeFromZone, systemRamOverlaps, zoneForDevice } from './memory_hotplug.js';
import { type Machine } from './machine.js';
import { pageFlagsField, structPageLayout } from './page_layout.js';
import { pageConfigFor, vmemmapBaseFor } from './memmap_source.js';
import { compoundHead, prepCompoundHead, prepCompoundTail } from './compound.js';
import type { CompoundPattern } from '../memmap/store.js';
import type { Bytes, Pfn } from '../units.js';

export const ENOMEM = 12;
export const ENXIO = 6;
export const EEXIST = 17;

/** The words a ZONE_DEVICE struct page gets on top of __init_single_page: pgmap, zone_device_data, _refcount. */
function devicePageWords(m: Machine, p: DevPagemap, refcount: number): [number, number][] {
  const sp = structPageLayout(m.pageConfig);
  const off = (name: string): number => {
    const f = sp.fields.get(name);
    if (!f) throw new Error(`struct page has no ${name} in this layout`);
    return f.offset / 4;
  };
  const lru = (sp.fields.get('lru')?.offset ?? 8) / 4;
  const lo = Number(p.address & 0xffffffffn);
  const hi = Number(p.address >> 32n);
  return [
    [lru, lo],
    [lru + 1, hi],
    [lru + 2, 0],
    [lru + 3, 0],
    [off('_refcount'), refcount],
  ];
}

/**
 * page_pgmap (the folio's pgmap): the word after flags of the page, or of its head for a tail of
 * a compound devmap (compound_head shares that word). Null without a memmap.
 */
export function pagePgmap(m: Machine, pfn: Pfn): bigint | null {
  const rec = m.recordScratch;
  if (!m.store.readRecord(pfn, rec)) return null;
  const cfg = m.pageConfig;
  const lru = structPageLayout(cfg).fields.get('lru')?.offset ?? 8;
  const dv = new DataView(rec.buffer, rec.byteOffset);
  const base = vmemmapBaseFor(m.state);
  const own = base + BigInt(pfn) * BigInt(rec.length);
  const head = cfg.version === 'v5.3' ? own : compoundHead(dv, 0, own, cfg);
  if (head === own) return dv.getBigUint64(lru, true);
  const headPfn = Number((head - base) / BigInt(rec.length));
  if (!m.store.readRecord(headPfn, rec)) return null;
  return new DataView(rec.buffer, rec.byteOffset).getBigUint64(lru, true);
}

/**
 * memremap_pages (mm/memremap.c 6.1, 6.18.2; v5.3 devm_memremap_pages in mm/memremap.c 5.3.0;
 * v4.19 devm_memremap_pages in kernel/memremap.c 4.19.1) for a one-range pgmap on node nid: the
 * checks (no vmemmap_shift before 5.17, no COHERENT before 6.1, subsection alignment,
 * "Conflicting mapping in same section", REGION_DISJOINT), the pgmap stored for every pfn
 * (pgmap_array / the 4.19 radix tree) before any memmap exists, then pagemap_range; nr_range
 * counts the range only once pagemap_range has returned (6.1: `pgmap->nr_range++` after it), so
 * pgmap_pfn_valid (5.12+) answers false until the memmap is initialised. 0 or -errno; a failure
 * leaves nothing behind. Leaves out percpu refs, track_pfn_remap and the kasan shadow.
 */
export function* memremapPages(m: Machine, p: DevPagemap): Task<number> {
  return yield* m.step('memremap_pages', memremapPagesKernel)(m, p);
}

/** memremap_pages as the kernel runs it (the step's own version). */
export function* memremapPagesKernel(m: Machine, p: DevPagemap): Task<number> {
  const page = m.pageBytes;
  const start = p.start / page;
  const end = (p.end + 1) / page;
  const sparse = m.state.sparse;
  if (p.vmemmapShift && !m.state.profile.features.compoundDevmaps) return -EINVAL; // no vmemmap_shift before 5.17
  if (p.type === 'coherent' && !m.state.profile.features.pgmapCoherent) return -EINVAL; // memremap_pages: invalid type
  if (start % sparse.pagesPerSubsection || end % sparse.pagesPerSubsection) return -EINVAL; // check_pfn_span: "Misaligned __add_pages"
  // "Conflicting mapping in same section": the first or last pfn already belongs to a pgmap.
  if (m.pgmaps.some((q) => q.live && ((start * page >= q.start && start * page <= q.end) || ((end - 1) * page >= q.start && (end - 1) * page <= q.end)))) {
    m.state.log.warn('Conflicting mapping in same section');
    return -ENOMEM;
  }
  // region_intersects(System RAM) must be REGION_DISJOINT. Before 5.3 (4.19.1) over the range
  // widened to whole sections: one that then meets RAM is REGION_MIXED ("attempted on mixed
  // region"). Leaves out 4.19's arch_add_memory over the widened range (the ranges that pass are
  // section-aligned in the built-in scenarios).
  const pps = sparse.pagesPerSection;
  if (m.state.profile.features.memremapSectionAligned && systemRamOverlaps(m, Math.floor(start / pps) * pps, Math.ceil(end / pps) * pps)) {
    m.warnOnce('kernel/memremap.c devm_memremap_pages', 'WARN_ONCE: devm_memremap_pages attempted on mixed region');
    return -ENXIO;
  }
  if (systemRamOverlaps(m, start, end)) return -ENXIO;
  p.nrRange = 0;
  m.pgmaps.push(p); // pgmap_array / xarray store of every pfn
  const zone = zoneForDevice(m, p.nid);
  const rc = yield* m.step('pagemap_range', pagemapRange)(m, p, zone);
  if (rc !== 0) return rc;
  p.nrRange = 1;
  return 0;
}

/**
 * pagemap_range (mm/memremap.c 6.1, 6.18.2; the body of devm_memremap_pages in 5.3.0 and 4.19.1)
 * with the pgmap stored: mem_hotplug_begin, arch_add_memory (sub-section maps; the memmap's PMDs
 * from the altmap), move_pfn_range_to_zone(ZONE_DEVICE), then memmap_init_zone_device, which
 * drops mem_hotplug_lock. On failure the sections are undone, the altmap's blocks returned and the
 * pgmap removed, and the lock dropped. Yields: down_write, those of its steps.
 */
export function* pagemapRange(m: Machine, p: DevPagemap, zone: Zone): Task<number> {
  const page = m.pageBytes;
  const start = p.start / page;
  const end = (p.end + 1) / page;
  yield { op: 'down_write', lock: m.memHotplugLock };
  const rc = yield* m.step('arch_add_memory', archAddMemory)(m, p.nid, start, end, { altmap: p.altmap, device: true, selfHosted: false });
  if (rc !== 0) {
    p.altmap?.freeBlocks(p.altmap.alloc);
    m.pgmaps.splice(m.pgmaps.indexOf(p), 1);
    yield { op: 'up_write', lock: m.memHotplugLock };
    return rc;
  }
  yield* m.step('move_pfn_range_to_zone', movePfnRangeToZone)(m, zone, start, end - start, p.altmap);
  const rule = m.state.profile.features.zoneDeviceRefcount;
  const zero = rule === 'all-but-generic-zero' ? p.type !== 'generic' : rule === 'private-coherent-zero' && (p.type === 'private' || p.type === 'coherent');
  const refcount = zero ? 0 : 1;
  yield* m.step('memmap_init_zone_device', memmapInitZoneDevice)(m, zone, p, refcount);
  // pr_info in v5.3 ("<dev> initialised, N pages in Tms") and 5.4-6.3 ("memmap_init_zone_device
  // initialised ..."), pr_debug from 6.4. The time is the run's, so the line is recorded as omitted.
  const n = end - pfnFirst(p, page);
  const kind = m.state.profile.features.zoneDeviceInitLine;
  if (kind !== 'debug' && kind !== 'none') {
    const line = kind === 'func' ? `memmap_init_zone_device initialised ${n} pages in Tms` : `${p.name} initialised, ${n} pages in Tms`;
    m.state.log.omit(line, 'the time memmap_init_zone_device took is not modelled (mmsim time prices it)');
  }
  return 0;
}

/** LIST_POISON2 (include/linux/poison.h, x86_64's POISON_POINTER_DELTA): what list_del leaves in lru.prev. */
const LIST_POISON2 = 0xdead000000000200n;

/**
 * memremap_pages after move_pfn_range_to_zone, entered with mem_hotplug_lock held for writing:
 * - 4.20+ (memmap_init_zone_device, mm/page_alloc.c 5.3.0 and 6.1, mm/mm_init.c 6.18.2):
 *   mem_hotplug_done, then every pfn of [pfn_first, pfn_end) gets __init_single_page, PG_reserved,
 *   page->pgmap, zone_device_data NULL, its refcount and, per pageblock, MIGRATE_MOVABLE through
 *   set_pfnblock_flags_mask, with cond_resched per pageblock.
 * - v4.19 (devm_memremap_pages, kernel/memremap.c 4.19.1): memmap_init_zone already initialised
 *   every page under the lock; after mem_hotplug_done a second pass over [pfn_first, pfn_end)
 *   does list_del(&page->lru) and page->pgmap = pgmap (the refcount stays __init_single_page's 1),
 *   cond_resched every 1024 pfns (pfn_next); it never sets a pageblock's migratetype.
 * - The serialize design ("[PATCH v3 01/11] mm/memremap: Get rid of memmap_init_zone_device()",
 *   2019): memmap_init_zone without its ZONE_DEVICE limit gives every page of the range, the
 *   altmap's reserve and memmap pfns included, page->pgmap before mem_hotplug_done; nothing is
 *   left to do after it.
 */
export function* memmapInitZoneDevice(m: Machine, zone: Zone, p: DevPagemap, refcount: number): Task<void> {
  const end = pfnEnd(p, m.pageBytes);
  const f = m.state.profile.features;
  if (f.zoneDeviceInitUnderLock) {
    yield* initDeviceRange(m, zone, p.start / m.pageBytes, end, { pgmap: p, refcount });
    yield { op: 'up_write', lock: m.memHotplugLock };
    return;
  }
  yield { op: 'up_write', lock: m.memHotplugLock };
  if (f.zoneDeviceMemmap === 'memmap-init-zone') {
    yield* setPgmapPass(m, zone, pfnFirst(p, m.pageBytes), end, p);
    return;
  }
  yield* initDeviceRange(m, zone, pfnFirst(p, m.pageBytes), end, { pgmap: p, refcount });
}

/** v4.19's second pass (for_each_device_pfn in devm_memremap_pages): list_del and page->pgmap, a chunk of pfns at a time, cond_resched at each 1024th pfn. */
function* setPgmapPass(m: Machine, zone: Zone, start: Pfn, end: Pfn, p: DevPagemap): Task<void> {
  const sp = structPageLayout(m.pageConfig);
  const lru = (sp.fields.get('lru')?.offset ?? 8) / 4;
  const lo = (x: bigint): number => Number(x & 0xffffffffn);
  const hi = (x: bigint): number => Number(x >> 32n);
  const words: [number, number][] = [
    [lru, lo(p.address)],
    [lru + 1, hi(p.address)],
    [lru + 2, lo(LIST_POISON2)],
    [lru + 3, hi(LIST_POISON2)],
  ];
  const chunk = m.initChunkPages ?? m.state.sparse.pageblockNrPages;
  p.initialisedTo = start;
  for (let pfn = start; pfn < end;) {
    const e = Math.min(end, (Math.floor(pfn / chunk) + 1) * chunk);
    m.store.setWordsRange(pfn, e, words);
    p.initialisedTo = e;
    yield { op: 'work', work: 'memmap-init-zone-device', nrPages: e - pfn, node: zone.nid };
    // pfn_next: cond_resched() when the pfn it steps from is a multiple of 1024.
    if (Math.ceil(pfn / 1024) * 1024 < e) yield { op: 'might_sleep', where: 'devm_memremap_pages (pfn_next cond_resched)' };
    pfn = e;
  }
}

/** initDeviceRange for a design's step: the pages of [start, end) get the pgmap. */
export function initDevicePages(m: Machine, zone: Zone, start: Pfn, end: Pfn, pgmap: DevPagemap, refcount: number): Task<void> {
  return initDeviceRange(m, zone, start, end, { pgmap, refcount });
}

/**
 * __init_single_page (ZONE_DEVICE, PG_reserved) over [start, end) section by section with
 * set_pfnblock_flags_mask per pageblock; with a pgmap also page->pgmap, zone_device_data NULL
 * and the refcount (memmap_init_zone_device), progress kept for the checkers. A pgmap with
 * vmemmap_shift gets compound pages (memmap_init_compound).
 */
function* initDeviceRange(m: Machine, zone: Zone, start: Pfn, end: Pfn, dev: { pgmap: DevPagemap; refcount: number } | null): Task<void> {
  if (dev?.pgmap.vmemmapShift) {
    yield* initCompoundDeviceRange(m, zone, start, end, dev.pgmap, dev.refcount);
    return;
  }
  const pb = m.state.sparse.pageblockNrPages;
  const chunk = m.initChunkPages ?? pb;
  const words = dev ? devicePageWords(m, dev.pgmap, dev.refcount) : null;
  const pass = dev !== null && m.state.profile.features.zoneDevicePageblockRange;
  if (dev) dev.pgmap.initialisedTo = start;
  // Pageblock by pageblock, as the kernel's loop goes (or a chunk of them where nothing runs
  // between: Machine.inOrder): the pages up to the next boundary, the migratetype of each
  // pageblock a page of them starts (set_pfnblock_flags_mask, batched), cond_resched. With the
  // separate pass the loop sets no migratetype and takes cond_resched at section boundaries.
  for (let pfn = start; pfn < end;) {
    const e = Math.min(end, (Math.floor(pfn / chunk) + 1) * chunk);
    m.store.initPagesRange(pfn, e, zone.zoneIdx, zone.nid, true, words);
    if (dev) dev.pgmap.initialisedTo = e;
    const blocks = pass ? null : pageblocksIn(zone, pfn, e, pb);
    if (blocks) yield blocks;
    yield { op: 'work', work: dev ? 'memmap-init-zone-device' : 'memmap-init', nrPages: e - pfn, node: zone.nid };
    if (blocks || (pass && sectionAlignedIn(m, pfn, e, 1))) yield { op: 'might_sleep', where: dev ? 'memmap_init_zone_device (cond_resched)' : 'memmap_init_range (cond_resched)' };
    pfn = e;
  }
  if (pass && dev) yield* pageblockMigratetypeInitRange(m, zone, dev.pgmap, start, end);
}

/** Whether [start, end) holds a pfn aligned to PAGES_PER_SECTION among those start + k * step. */
function sectionAlignedIn(m: Machine, start: Pfn, end: Pfn, step: number): boolean {
  const pps = m.state.sparse.pagesPerSection;
  for (let q = Math.ceil(start / pps) * pps; q < end; q += pps) if ((q - start) % step === 0) return true;
  return false;
}

/**
 * pageblock_migratetype_init_range (mm/mm_init.c, "mm/mm_init: fix pageblock migratetype for
 * ZONE_DEVICE compound pages", and its 6.1/6.12 stable backports; profile feature
 * zoneDevicePageblockRange): after memmap_init_zone_device's loop, every pageblock from
 * pageblock_align(start) to end marked MIGRATE_MOVABLE, cond_resched at each section-aligned pfn;
 * here a section's pageblocks at a time (set_pfnblock_flags), progress in pgmap.migratetypeTo.
 */
function* pageblockMigratetypeInitRange(m: Machine, zone: Zone, p: DevPagemap, start: Pfn, end: Pfn): Task<void> {
  const pb = m.state.sparse.pageblockNrPages;
  const pps = m.state.sparse.pagesPerSection;
  const first = Math.ceil(start / pb) * pb;
  p.migratetypeTo = first;
  for (let q = first; q < end;) {
    // The section-aligned pageblock (if q is one) alone, then the rest of its section.
    const e = q % pps === 0 ? Math.min(end, q + pb) : Math.min(end, (Math.floor(q / pps) + 1) * pps);
    const blocks = pageblocksIn(zone, q, e, pb);
    if (blocks) yield blocks;
    p.migratetypeTo = e;
    if (q % pps === 0) yield { op: 'might_sleep', where: 'pageblock_migratetype_init_range (cond_resched)' };
    q = e;
  }
}

/**
 * compound_nr_pages (6.1; 6.18 vmemmap_can_optimize): struct pages memmap_init_compound writes
 * per compound page — all of them with an altmap, else 2 vmemmap pages' worth (128), the rest of
 * the memmap being the deduplicated alias of the second vmemmap page (same bytes as a tail).
 */
export function compoundNrPages(m: Machine, p: DevPagemap): number {
  const n = 2 ** p.vmemmapShift;
  const rec = m.recordScratch.length;
  const pow2 = (rec & (rec - 1)) === 0;
  return pow2 && !p.altmap ? Math.min(n, 2 * (m.pageBytes / rec)) : n;
}

/**
 * The compound page pattern of a pgmap with vmemmap_shift (memmap_init_compound, mm/mm_init.c
 * 6.18.2; mm/page_alloc.c 6.1): on top of __init_zone_device_page's record with the tails'
 * refcount 0 (every page of the range holds that first), the head gets its own refcount and
 * PG_head; each tail prep_compound_tail's TAIL_MAPPING, private 0 and compound_head = the head's
 * struct page address + 1; the first tail prep_compound_head's order. Worked once on scratch
 * records of the first compound page's head and first three tails (every later tail reads like
 * the third), so the pattern costs O(1) whatever the range.
 */
function compoundPattern(m: Machine, zone: Zone, p: DevPagemap, refcount: number, head: Pfn): CompoundPattern {
  const n = 2 ** p.vmemmapShift;
  const cfg = pageConfigFor(m.state);
  const writer = m.store.geometry.writer;
  const rb = writer.recordBytes;
  const base = vmemmapBaseFor(m.state);
  const tailWords = devicePageWords(m, p, 0);
  const headWords = devicePageWords(m, p, refcount);
  const linkOffset = structPageLayout(cfg).fields.get('compound_head')?.offset;
  if (linkOffset === undefined || linkOffset % 4 !== 0) throw new Error(`struct page of ${cfg.version} has no word-aligned compound_head`);
  const link = linkOffset / 4;
  /** A record as the range holds it before the compound fields: __init_single_page, PG_reserved, the device words. */
  const plain = (pfn: Pfn, words: readonly (readonly [number, number])[]): Uint32Array => {
    const u32 = new Uint32Array(writer.recordWords);
    writer.writeInit(u32, 0, pfn, zone.zoneIdx, zone.nid);
    u32[0] = ((u32[0] ?? 0) | writer.reservedMask) >>> 0;
    for (const [w, v] of words) u32[w] = v >>> 0;
    return u32;
  };
  const positions = Math.min(n, 4);
  const before = Array.from({ length: positions }, (_, i) => plain(head + i, tailWords));
  const after = Array.from({ length: positions }, (_, i) => plain(head + i, i === 0 ? headWords : tailWords));
  const dv = after.map((u) => new DataView(u.buffer));
  const headAddr = base + BigInt(head) * BigInt(rb);
  for (let i = 1; i < positions; i++) prepCompoundTail(dv[i] as DataView, 0, headAddr, cfg);
  prepCompoundHead(dv[0] as DataView, 0, dv[1] as DataView, 0, p.vmemmapShift, cfg);
  // Each position's words: what differs from the range's plain record, less a tail's compound_head (the link).
  const words = after.map((a, i) => {
    const diff: [number, number][] = [];
    for (let w = 0; w < a.length; w++) if (a[w] !== before[i]?.[w] && !(i > 0 && (w === link || w === link + 1))) diff.push([w, a[w] as number]);
    return diff;
  });
  return { period: n, origin: head, words, link: { word: link, base: base + 1n, stride: rb } };
}

/**
 * The set_pfnblock_flags_mask pfns of k whole compound pages of n pages from head h0 (or, k = 1, of
 * one whose first w struct pages are written): __init_zone_device_page sets a pageblock's
 * migratetype at each pageblock-aligned pfn it writes, taken here at the heads that are aligned and
 * every pageblock after them within the pages written (n and pb powers of two). As progressions.
 */
function compoundPageblocks(h0: Pfn, k: number, n: number, w: number, pb: number): { pfn: Pfn; nr: number; stride: number }[] {
  if (k <= 0 || w <= 0) return [];
  if (n < pb) {
    // Only a head can be aligned (w <= n < pb): every pb pfns once one is, none unless h0 is a multiple of n.
    if (h0 % n !== 0) return [];
    const first = Math.ceil(h0 / pb) * pb;
    const last = h0 + (k - 1) * n;
    return first > last ? [] : [{ pfn: first, nr: Math.floor((last - first) / pb) + 1, stride: pb }];
  }
  if (h0 % pb !== 0) return [];
  const c = Math.ceil(Math.min(w, n) / pb);
  if (k === 1 || c * pb === n) return [{ pfn: h0, nr: k * c, stride: pb }];
  return Array.from({ length: c }, (_, j) => ({ pfn: h0 + j * pb, nr: k, stride: n }));
}

/**
 * memmap_init_zone_device with vmemmap_shift: each compound page's head gets PG_head and the
 * compound order (prep_compound_head on its first tail), each tail compound_head = head | 1,
 * TAIL_MAPPING and refcount 0. The bytes of every struct page are written (an aliased tail reads
 * like any tail); the work and the pageblock flags count only the struct pages the kernel writes,
 * so with deduplication pageblocks past them keep the pageblock bits' 0, MIGRATE_UNMOVABLE (the gap
 * fixed after 6.18). The kernel's loop takes cond_resched at each pageblock it writes
 * (__init_zone_device_page); here the range goes a chunk of whole compound pages at a time (about a
 * section, or m.initChunkPages), each chunk one pattern write to the memmap (O(runs) in the extent
 * store) and its yields: the chunk's pageblocks in one set_pfnblock_flags each progression, its
 * work, one might_sleep. So a TiB namespace is O(sections), the pages of the work and the pfns of
 * set_pfnblock_flags_mask are the kernel's, and a compound page of its head alone (a range that ends
 * one page into one) stays a plain page, as before.
 */
function* initCompoundDeviceRange(m: Machine, zone: Zone, start: Pfn, end: Pfn, p: DevPagemap, refcount: number): Task<void> {
  const n = 2 ** p.vmemmapShift;
  const written = compoundNrPages(m, p);
  const pb = m.state.sparse.pageblockNrPages;
  const chunk = m.initChunkPages ?? m.state.sparse.pagesPerSection;
  const pattern = compoundPattern(m, zone, p, refcount, start);
  const pass = m.state.profile.features.zoneDevicePageblockRange;
  const headWords = devicePageWords(m, p, refcount);
  const tailWords = devicePageWords(m, p, 0);
  p.initialisedTo = start;
  for (let a = start; a < end;) {
    // Up to the next chunk boundary, rounded up to a whole compound page (at least one).
    const b = Math.min(end, start + Math.ceil(((Math.floor(a / chunk) + 1) * chunk - start) / n) * n);
    m.store.initPagesRange(a, b, zone.zoneIdx, zone.nid, true, tailWords);
    const single = (b - start) % n === 1;
    if (b - (single ? 1 : 0) > a) m.store.setCompoundRange(a, b - (single ? 1 : 0), pattern);
    if (single) m.store.setWordsRange(b - 1, b, headWords);
    p.initialisedTo = b;
    const k = Math.floor((b - a) / n);
    const rest = b - a - k * n;
    const blocks = pass ? [] : [...compoundPageblocks(a, k, n, written, pb), ...compoundPageblocks(a + k * n, rest ? 1 : 0, n, Math.min(written, rest), pb)];
    for (const q of blocks) yield q.nr === 1 ? { op: 'set_pfnblock_flags', zone, pfn: q.pfn } : { op: 'set_pfnblock_flags', zone, pfn: q.pfn, nr: q.nr, stride: q.stride };
    yield { op: 'work', work: 'memmap-init-zone-device', nrPages: k * Math.min(written, n) + Math.min(written, rest), node: zone.nid };
    // cond_resched: at each pageblock the loop writes, or with the separate pass at each section-aligned head.
    if (!pass || sectionAlignedIn(m, a, b, n)) yield { op: 'might_sleep', where: 'memmap_init_zone_device (cond_resched)' };
    a = b;
  }
  if (pass) yield* pageblockMigratetypeInitRange(m, zone, p, start, end);
}

/**
 * memunmap_pages (mm/memremap.c 6.1, 6.18.2; devm_memremap_pages_release in mm/memremap.c 5.3.0
 * and kernel/memremap.c 4.19.1): the node is read from a struct page (5.0-5.3: page_to_nid of
 * the range's first page, never initialised with an altmap; 5.4+ pfn_first's, 77e080e7680e; 4.19
 * reads none), then under mem_hotplug_lock the memmap is poisoned again (5.5+) and, before 5.5,
 * __remove_pages shrinks the ZONE_DEVICE span a section at a time, each section removed before
 * the next is shrunk (__remove_section -> __remove_zone, then sparse_remove_section); sections and
 * memmap go, the altmap's blocks return. Leaves out the put_page loop over the data pages,
 * arch_remove_memory's page_zone read of pfn_first (v4.19, v5.3), untrack_pfn and the kasan shadow.
 */
export function* memunmapPages(m: Machine, p: DevPagemap): Task<number> {
  return yield* m.step('memunmap_pages', memunmapPagesKernel)(m, p);
}

/** memunmap_pages as the kernel runs it (the step's own version). */
export function* memunmapPagesKernel(m: Machine, p: DevPagemap): Task<number> {
  if (!p.live) return -EINVAL;
  const page = m.pageBytes;
  const start = p.start / page;
  const end = (p.end + 1) / page;
  const f = m.state.profile.features;
  if (f.memunmapReadsNode) {
    const first = f.memunmapReadsPfnFirst ? pfnFirst(p, page) : start;
    yield { op: 'access', kind: 'read', what: `struct page ${first}`, fn: 'page_to_nid' };
    const rec = m.recordScratch;
    m.store.readRecord(first, rec);
    const nid = Number(pageFlagsField(new DataView(rec.buffer, rec.byteOffset).getBigUint64(0, true), m.pageFlagsLayout, 'node'));
    void nid; // arch_remove_memory ignores it on x86 from 5.6; the read is what matters
  }
  p.live = false;
  yield { op: 'down_write', lock: m.memHotplugLock };
  const zone = zoneForDevice(m, p.nid);
  // remove_pfn_range_from_zone (5.5+): poison, then return before shrinking (ZONE_DEVICE).
  if (f.shrinkAtOffline && m.pageInitPoisoning && f.poisonAtOffline) m.store.poisonRange(start, end);
  const sparse = m.state.sparse;
  const pps = sparse.pagesPerSection;
  const vmemmapPerSection = (pps * m.recordScratch.length) / page;
  for (let sec = Math.floor(start / pps); sec * pps < end; sec++) {
    const s = Math.max(start, sec * pps);
    const e = Math.min(end, (sec + 1) * pps);
    // Before 5.5: __remove_section -> __remove_zone shrinks the span by this section first.
    if (!f.shrinkAtOffline) yield* m.step('remove_pfn_range_from_zone', removePfnRangeFromZone)(m, zone, s, e, 'valid');
    yield { op: 'access', kind: 'write', what: `mem_section[${sec}]` };
    // section_deactivate: the subsections go; the section with its memmap when none is left.
    const whole = s === sec * pps && e === (sec + 1) * pps;
    const left = whole ? 0n : sparse.editSubsections(sec, s, e, false, false);
    if (left === 0n && !sparse.runOf(sec)?.early) {
      sparse.removeSections(sec, sec + 1);
      m.store.depopulateSection(sec);
      if (p.altmap && whole) p.altmap.freeBlocks(vmemmapPerSection);
    }
  }
  yield { op: 'up_write', lock: m.memHotplugLock };
  m.pgmaps.splice(m.pgmaps.indexOf(p), 1);
  if (p.altmap?.alloc) m.state.log.warn('failed to free all reserved pages');
  return 0;
}

/** A new pgmap's struct address: a slab-like kernel address per pgmap, distinct and stable. */
export function pgmapAddress(m: Machine): bigint {
  return 0xffff888100000000n + BigInt(m.pgmapSerial++) * 0x200n;
}

/** The size of a range in pfns. */
export function rangePages(bytes: Bytes, pageBytes: number): number {
  return bytes / pageBytes;
}
