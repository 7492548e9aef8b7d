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
import type { Task } from './task.js';
import type { Zone } from './mmzone.js';
import { EINVAL, resizeSpans, shrinkZoneSpan, systemRamOverlaps, zoneForDevice } from './memory_hotplug.js';
import { type Machine } from './machine.js';
import { pageFlagsField, structPageLayout } from './page_layout.js';
import { pageConfigFor, vmemmapBaseFor } from './memmap_source.js';
import { compoundHead, prepCompoundHead, prepCompoundTail } from './compound.js';
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
 * memremap_pages (6.1 pagemap_range; v5.3 devm_memremap_pages) for a one-range pgmap on node nid.
 * 0 or -errno; a failure leaves nothing behind.
 */
export function* memremapPages(m: Machine, p: DevPagemap): Task<number> {
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
  // region_intersects(System RAM) must be REGION_DISJOINT.
  if (systemRamOverlaps(m, start, end)) return -ENXIO;
  m.pgmaps.push(p); // pgmap_array / xarray store of every pfn
  const zone = zoneForDevice(m, p.nid);
  yield { op: 'down_write', lock: m.memHotplugLock };
  // arch_add_memory -> __add_pages -> sparse_add_section: subsection maps and memmap; the memmap
  // of a whole section is one PMD, taken from the altmap when there is one (vmemmap_populate;
  // partial sections use base pages from node memory).
  const pps = sparse.pagesPerSection;
  const fresh = m.pageInitPoisoning ? 'poisoned' : 'stale';
  const vmemmapPerSection = (pps * m.recordScratch.length) / page;
  const added: { sec: number; s: Pfn; e: Pfn; fresh: boolean }[] = [];
  for (let sec = Math.floor(start / pps); sec * pps < end; sec++) {
    const s = Math.max(start, sec * pps);
    const e = Math.min(end, (sec + 1) * pps);
    yield { op: 'access', kind: 'write', what: `mem_section[${sec}]` };
    const run = sparse.runOf(sec);
    const partial = e - s !== pps;
    // fill_subsection_map: the subsections must be free (-EEXIST: "memory add fail").
    const clash = run?.present && (!partial || (sparse.subsectionMap(sec) & sparse.subsectionBits(sec, s, e)) !== 0n);
    const nomem = !run?.present && p.altmap !== null && !partial && p.altmap.allocBlockBuf(vmemmapPerSection) === null;
    if (clash || nomem) {
      // vmemmap_populate fails without fallback with an altmap; either way undo what was added.
      for (const a of added) {
        if (a.fresh) {
          sparse.removeSections(a.sec, a.sec + 1);
          m.store.depopulateSection(a.sec);
        } else sparse.editSubsections(a.sec, a.s, a.e, false, false);
      }
      p.altmap?.freeBlocks(p.altmap.alloc);
      m.pgmaps.splice(m.pgmaps.indexOf(p), 1);
      yield { op: 'up_write', lock: m.memHotplugLock };
      return clash ? -EEXIST : -ENOMEM;
    }
    if (!run?.present) {
      sparse.updateSections(
        sec,
        sec + 1,
        (r) => r,
        (a, b) => ({ startNr: a, endNr: b, nid: p.nid, present: true, hasMemMap: true, online: false, early: false }),
      );
      m.store.populateSections(sec, sec + 1, fresh);
      if (partial) sparse.editSubsections(sec, s, e, true, true);
      added.push({ sec, s, e, fresh: true });
    } else {
      // A section shared with other memory keeps its memmap; only the subsection bits change.
      sparse.editSubsections(sec, s, e, true, false);
      added.push({ sec, s, e, fresh: false });
    }
    yield { op: 'might_sleep', where: '__add_pages (cond_resched)' };
  }
  // move_pfn_range_to_zone(ZONE_DEVICE): the span grows (locks before 5.14); memmap_init_range
  // initialises only the altmap's memmap pfns [base + reserve, base + reserve + free).
  yield* resizeSpans(m, zone, start, end - start);
  // SECTION_TAINT_ZONE_DEVICE (5.12+) where the range starts or ends inside a section.
  if (m.state.profile.features.sectionTaintZoneDevice) {
    if (start % pps) sparse.deviceTainted.add(Math.floor(start / pps));
    if (end % pps) sparse.deviceTainted.add(Math.floor(end / pps));
  }
  if (p.altmap) {
    const a = p.altmap;
    // The serialize design (the 2019 patch) drops memmap_init_zone's ZONE_DEVICE limit, so the
    // reserve pfns are initialised too; the kernels never initialise them.
    const from = m.state.profile.features.zoneDeviceInitUnderLock ? a.basePfn : a.basePfn + a.reserve;
    yield* initDeviceRange(m, zone, from, a.basePfn + a.offset, null);
  }
  const rule = m.state.profile.features.zoneDeviceRefcount;
  const zero = rule === 'all-but-generic-zero' ? p.type !== 'generic' : rule === 'private-coherent-zero' && (p.type === 'private' || p.type === 'coherent');
  const refcount = zero ? 0 : 1;
  yield* (m.steps.memmap_init_zone_device ?? memmapInitZoneDevice)(m, zone, p, refcount);
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

/**
 * memremap_pages after move_pfn_range_to_zone (v5.3 and 6.1): mem_hotplug_done, then
 * memmap_init_zone_device gives every device pfn its pgmap outside mem_hotplug_lock — except in
 * the serialize design (the 2019 patch), where it all happens before the lock is dropped.
 */
export function* memmapInitZoneDevice(m: Machine, zone: Zone, p: DevPagemap, refcount: number): Task<void> {
  const end = pfnEnd(p, m.pageBytes);
  const underLock = m.state.profile.features.zoneDeviceInitUnderLock;
  if (underLock) yield* initDeviceRange(m, zone, pfnFirst(p, m.pageBytes), end, { pgmap: p, refcount });
  yield { op: 'up_write', lock: m.memHotplugLock };
  if (!underLock) yield* initDeviceRange(m, zone, pfnFirst(p, m.pageBytes), end, { pgmap: p, refcount });
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
  const pb = m.initChunkPages ?? m.state.sparse.pageblockNrPages;
  const words = dev ? devicePageWords(m, dev.pgmap, dev.refcount) : null;
  if (dev) dev.pgmap.initialisedTo = start;
  // Pageblock by pageblock, as the kernel's loop goes: the pages up to the next pageblock, the
  // migratetype of a pageblock its first page starts (set_pfnblock_flags_mask), cond_resched.
  for (let pfn = start; pfn < end;) {
    const e = Math.min(end, (Math.floor(pfn / pb) + 1) * pb);
    m.store.initRange(pfn, e, zone.zoneIdx, zone.nid);
    m.store.setReservedRange(pfn, e);
    if (words) m.store.setWordsRange(pfn, e, words);
    if (dev) dev.pgmap.initialisedTo = e;
    if (pfn % m.state.sparse.pageblockNrPages === 0) yield { op: 'set_pfnblock_flags', zone, pfn };
    yield { op: 'work', work: dev ? 'memmap-init-zone-device' : 'memmap-init', nrPages: e - pfn, node: zone.nid };
    if (pfn % m.state.sparse.pageblockNrPages === 0) yield { op: 'might_sleep', where: dev ? 'memmap_init_zone_device (cond_resched)' : 'memmap_init_range (cond_resched)' };
    pfn = e;
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
 * memmap_init_zone_device with vmemmap_shift: each compound page's head gets PG_head and the
 * compound order (prep_compound_head on its first tails), each tail compound_head = head | 1,
 * TAIL_MAPPING and refcount 0. The bytes of every struct page are written (an aliased tail reads
 * like any tail); the work and the pageblock flags count only the struct pages the kernel writes,
 * so with deduplication pageblocks past them keep no migratetype (the gap fixed after 6.18).
 */
function* initCompoundDeviceRange(m: Machine, zone: Zone, start: Pfn, end: Pfn, p: DevPagemap, refcount: number): Task<void> {
  const n = 2 ** p.vmemmapShift;
  const written = compoundNrPages(m, p);
  const pb = m.state.sparse.pageblockNrPages;
  const cfg = pageConfigFor(m.state);
  const rb = m.recordScratch.length;
  const base = vmemmapBaseFor(m.state);
  const headWords = devicePageWords(m, p, refcount);
  const tailWords = devicePageWords(m, p, 0);
  p.initialisedTo = start;
  for (let h = start; h < end; h += n) {
    const e = Math.min(end, h + n);
    m.store.initRange(h, e, zone.zoneIdx, zone.nid);
    m.store.setReservedRange(h, e);
    m.store.setWordsRange(h, h + 1, headWords);
    if (e > h + 1) m.store.setWordsRange(h + 1, e, tailWords);
    // The compound fields, worked on scratch records of the head, the first two tails and a tail.
    const recs = [h, h + 1, h + 2, h + 3]
      .filter((q) => q < e)
      .map((q) => {
        const r = new Uint8Array(rb);
        m.store.readRecord(q, r);
        return r;
      });
    const dv = recs.map((r) => new DataView(r.buffer));
    const before = recs.map((r) => Uint32Array.from(new Uint32Array(r.buffer)));
    const headAddr = base + BigInt(h) * BigInt(rb);
    for (let i = 1; i < dv.length; i++) prepCompoundTail(dv[i] as DataView, 0, headAddr, cfg);
    if (dv.length > 1) prepCompoundHead(dv[0] as DataView, 0, dv[1] as DataView, 0, p.vmemmapShift, cfg);
    recs.forEach((r, i) => {
      const after = new Uint32Array(r.buffer);
      const diff: [number, number][] = [];
      for (let w = 0; w < after.length; w++) if (after[w] !== before[i]?.[w]) diff.push([w, after[w] as number]);
      const from = h + i;
      const to = i === 3 ? e : from + 1;
      if (diff.length) m.store.setWordsRange(from, to, diff);
    });
    p.initialisedTo = e;
    for (let q = h; q < Math.min(e, h + written); q += pb) if (q % pb === 0) yield { op: 'set_pfnblock_flags', zone, pfn: q };
    yield { op: 'work', work: 'memmap-init-zone-device', nrPages: Math.min(written, e - h), node: zone.nid };
    yield { op: 'might_sleep', where: 'memmap_init_zone_device (cond_resched)' };
  }
}

/**
 * memunmap_pages (6.1; v5.3 devm_memremap_pages_release): the node is read from a struct page
 * (v5.3: the range's first page, never initialised with an altmap; the fix: pfn_first), then under
 * mem_hotplug_lock the memmap is poisoned again (5.5+) and the ZONE_DEVICE span shrinks only in
 * v5.3; sections and memmap go, the altmap's blocks return.
 */
export function* memunmapPages(m: Machine, p: DevPagemap): Task<number> {
  if (!p.live) return -EINVAL;
  const page = m.pageBytes;
  const start = p.start / page;
  const end = (p.end + 1) / page;
  const f = m.state.profile.features;
  const first = f.memunmapReadsPfnFirst ? pfnFirst(p, page) : start;
  yield { op: 'access', kind: 'read', what: `struct page ${first}` };
  const rec = m.recordScratch;
  m.store.readRecord(first, rec);
  const nid = Number(pageFlagsField(new DataView(rec.buffer, rec.byteOffset).getBigUint64(0, true), m.pageFlagsLayout, 'node'));
  void nid; // arch_remove_memory ignores it on x86 from 5.6; the read is what matters
  p.live = false;
  yield { op: 'down_write', lock: m.memHotplugLock };
  const zone = zoneForDevice(m, p.nid);
  if (f.shrinkAtOffline) {
    // remove_pfn_range_from_zone: poison, then return before shrinking (ZONE_DEVICE).
    if (m.pageInitPoisoning && f.poisonAtOffline) m.store.poisonRange(start, end);
  } else {
    // v5.3 arch_remove_memory -> __remove_pages -> __remove_zone: the v5.3 shrink of ZONE_DEVICE.
    yield* shrinkZoneSpan(m, zone, start, end, 'valid');
  }
  const sparse = m.state.sparse;
  const pps = sparse.pagesPerSection;
  const vmemmapPerSection = (pps * m.recordScratch.length) / page;
  for (let sec = Math.floor(start / pps); sec * pps < end; sec++) {
    const s = Math.max(start, sec * pps);
    const e = Math.min(end, (sec + 1) * pps);
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
