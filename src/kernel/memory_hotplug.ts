// RAM hotplug as tasks (mm/memory_hotplug.c, drivers/base/memory.c; 6.1 unless noted): add_memory
// (__add_pages -> sparse_add_section, offline memory blocks, auto-online), online of a block
// (zone_for_pfn_range, move_pfn_range_to_zone growing zone and node spans under
// pgdat_resize_lock and the zone span seqlock, memmap_init_range MEMINIT_HOTPLUG, present and
// managed pages, online_mem_sections) and offline (offline_mem_sections, counts,
// remove_pfn_range_from_zone -> shrink_zone_span with find_smallest/biggest_section_pfn reading
// the memmap, update_pgdat_span). Leaves out remove_memory, memmap_on_memory, memory groups,
// online_policy=auto-movable, page migration (a block whose pages cannot move fails with EBUSY
// when the scenario says so) and the buddy allocator's view of onlined pages.
import type { Task } from '../drivers/task.js';
import type { ZoneName } from '../arch/arch.js';
import { Mutex, PercpuRwSem, SeqLock, SpinLock } from './locks.js';
import type { MemoryBlock, MemoryBlocks } from './memory_block.js';
import type { BootState, PglistData, Zone } from './mm_init.js';
import type { MemmapStore } from '../memmap/store.js';
import { encodePageType, pageFlagsField, pageFlagsLayout } from './page_layout.js';
import { kstrtobool, kstrtoboolLetters } from '../formats/cmdline.js';
import { pageConfigFor, pageLayoutVersionFor, pageWriterFor } from '../memmap/source.js';
import type { Nid, Pfn } from './types.js';

export type OnlineType = 'online' | 'online_kernel' | 'online_movable';

/** errno values the sysfs writes and hotplug calls return. */
export const EINVAL = 22;
export const EEXIST = 17;
export const EBUSY = 16;

/** A machine that memory can be hot-added to, onlined and offlined. */
export class HotplugMachine {
  readonly memHotplugLock = new PercpuRwSem('mem_hotplug_lock');
  readonly deviceHotplugLock = new Mutex('device_hotplug_lock');
  readonly pgdatResizeLock = new Map<Nid, SpinLock>();
  readonly zoneSpanSeqlock = new Map<string, SeqLock>();
  readonly blocks: Map<number, MemoryBlock>;
  /**
   * Blocks that hold unmovable kernel allocations when onlined to a kernel zone, so offlining
   * them fails with EBUSY (ZONE_MOVABLE only takes movable allocations, so there it succeeds).
   */
  readonly unmovableBlocks = new Set<number>();
  /** page_init_poisoning: CONFIG_DEBUG_VM without vm_debug=- (new and offlined memmap is 0xff). */
  pageInitPoisoning = false;
  /**
   * The static memory group (memory_group_register_static, as ACPI pc-dimms and dax/kmem use)
   * of each hot-added block: one group per add_memory call, named by its first block.
   */
  readonly groupOf = new Map<number, number>();
  /** Blocks that came by add_memory (all of a hot-added block is memory). */
  readonly hotAdded = new Set<number>();

  constructor(
    readonly state: BootState,
    readonly store: MemmapStore,
    readonly boot: MemoryBlocks,
  ) {
    this.blocks = new Map(boot.blocks.map((b) => [b.id, b]));
    for (const n of state.nodes) this.pgdatResizeLock.set(n.nodeId, new SpinLock(`node ${n.nodeId} pgdat_resize_lock`));
    this.pageFlagsLayout = pageFlagsLayout(pageConfigFor(state));
    this.recordScratch = new Uint8Array(pageWriterFor(state).recordBytes);
  }

  /** The page-flags bit layout of this kernel and config, for reading struct pages. */
  readonly pageFlagsLayout: ReturnType<typeof pageFlagsLayout>;
  /** One struct page record, reused by every read of the memmap. */
  readonly recordScratch: Uint8Array;

  get blockBytes(): number {
    return this.state.memoryBlockBytes;
  }

  get pagesPerBlock(): number {
    return this.blockBytes / 2 ** this.state.arch.pageShift;
  }

  node(nid: Nid): PglistData {
    const n = this.state.nodes.find((x) => x.nodeId === nid);
    if (!n) throw new Error(`no node ${nid}`);
    return n;
  }

  zoneByName(nid: Nid, name: ZoneName): Zone {
    const z = this.node(nid).zones.find((x) => x.name === name);
    if (!z) throw new Error(`node ${nid} has no zone ${name}`);
    return z;
  }

  seqlockOf(zone: Zone): SeqLock {
    const key = `${zone.nid}/${zone.name}`;
    let l = this.zoneSpanSeqlock.get(key);
    if (!l) {
      l = new SeqLock(`node ${zone.nid} zone ${zone.name} span_seqlock`);
      this.zoneSpanSeqlock.set(key, l);
    }
    return l;
  }
}

function zoneEnd(z: Zone): Pfn {
  return z.zoneStartPfn + z.spannedPages;
}

/** zone_intersects: the zone's span meets [start, start + nr). */
export function zoneIntersects(z: Zone, start: Pfn, nr: number): boolean {
  return z.spannedPages > 0 && start < zoneEnd(z) && start + nr > z.zoneStartPfn;
}

/** default_kernel_zone_for_pfn: the first zone below Normal the range meets, else Normal. */
export function defaultKernelZoneForPfn(m: HotplugMachine, nid: Nid, start: Pfn, nr: number): Zone {
  const zones = m.node(nid).zones;
  const normal = zones.findIndex((z) => z.name === 'Normal');
  for (let i = 0; i < normal; i++) {
    const z = zones[i];
    if (z && zoneIntersects(z, start, nr)) return z;
  }
  return m.zoneByName(nid, 'Normal');
}

/** default_zone_for_pfn: the kernel or the movable zone the range meets, kernel when both or neither. */
export function defaultZoneForPfn(m: HotplugMachine, nid: Nid, start: Pfn, nr: number): Zone {
  const kernel = defaultKernelZoneForPfn(m, nid, start, nr);
  const movable = m.zoneByName(nid, 'Movable');
  const inKernel = zoneIntersects(kernel, start, nr);
  const inMovable = zoneIntersects(movable, start, nr);
  if (inKernel !== inMovable) return inKernel ? kernel : movable;
  return m.state.spec.boot.movableNode ? movable : kernel;
}

/** zone_for_pfn_range (online_policy "contig-zones"). */
export function zoneForPfnRange(m: HotplugMachine, type: OnlineType, nid: Nid, start: Pfn, nr: number): Zone {
  if (type === 'online_kernel') return defaultKernelZoneForPfn(m, nid, start, nr);
  if (type === 'online_movable') return m.zoneByName(nid, 'Movable');
  if (m.state.profile.features.autoMovableOnlinePolicy && m.state.spec.boot.onlinePolicy === 'auto-movable') {
    return autoMovableZoneForPfn(m, nid, start, nr);
  }
  return defaultZoneForPfn(m, nid, start, nr);
}

/** Online pages of a zone that sit in boot (early) sections: zone->present_early_pages. */
function presentEarlyPages(m: HotplugMachine, zone: Zone): number {
  let hot = 0;
  for (const id of m.hotAdded) {
    const b = m.blocks.get(id);
    if (b?.state === 'online' && b.nid === zone.nid && b.validZones === zone.name) hot += b.nrPages;
  }
  return zone.presentPages - hot;
}

/**
 * auto_movable_can_online_movable (6.1), for static groups only: could nrPages more go to
 * ZONE_MOVABLE and keep MOVABLE <= ratio% of early KERNEL memory (all nodes, or node `nid`)?
 * No dynamic memory groups (virtio-mem) and no CMA are modelled.
 */
function autoMovableCanOnlineMovable(m: HotplugMachine, nid: Nid | null, nrPages: number): boolean {
  let kernelEarly = 0;
  let movable = 0;
  for (const node of m.state.nodes) {
    if (nid !== null && node.nodeId !== nid) continue;
    for (const z of node.zones) {
      if (!z.presentPages) continue;
      if (z.name === 'Movable') movable += z.presentPages;
      else kernelEarly += presentEarlyPages(m, z);
    }
  }
  if (kernelEarly <= 0) return false;
  const ratio = m.state.spec.boot.autoMovableRatio ?? 301;
  return movable + nrPages <= Math.floor((ratio * kernelEarly) / 100);
}

/** auto_movable_numa_aware: the value given, as this kernel's kstrtobool reads it; a value it refuses leaves Y. */
function autoMovableNumaAware(m: HotplugMachine): boolean {
  const text = m.state.spec.boot.autoMovableNumaAware;
  return text === undefined ? true : (kstrtobool(text, kstrtoboolLetters(m.state.profile.features)) ?? true);
}

/**
 * auto_movable_zone_for_pfn (6.1) for a block of a static group: MOVABLE if the rest of the group
 * could all go MOVABLE within the ratio, unless part of the group is already in a kernel zone.
 */
function autoMovableZoneForPfn(m: HotplugMachine, nid: Nid, start: Pfn, nr: number): Zone {
  const ratio = m.state.spec.boot.autoMovableRatio ?? 301;
  const kernel = (): Zone => defaultKernelZoneForPfn(m, nid, start, nr);
  if (!ratio) return kernel();
  const group = m.groupOf.get(start / m.pagesPerBlock);
  let maxPages = nr;
  let onlinePages = 0;
  if (group !== undefined) {
    maxPages = 0;
    for (const [id, g] of m.groupOf) {
      if (g !== group) continue;
      const b = m.blocks.get(id);
      if (!b) continue;
      maxPages += b.nrPages;
      if (b.state !== 'online') continue;
      if (b.validZones !== 'Movable') return kernel();
      onlinePages += b.nrPages;
    }
  }
  const want = maxPages - onlinePages;
  if (!autoMovableCanOnlineMovable(m, null, want)) return kernel();
  if (autoMovableNumaAware(m) && !autoMovableCanOnlineMovable(m, nid, want)) return kernel();
  return m.zoneByName(nid, 'Movable');
}

/** valid_zones of a block: the current zone when online, else the default zone then the others allowed. */
export function validZones(m: HotplugMachine, b: MemoryBlock): string {
  if (b.state === 'online') return b.validZones ?? 'none';
  const def = zoneForPfnRange(m, 'online', b.nid, b.startPfn, b.nrPages);
  const names = [def.name];
  const kernel = zoneForPfnRange(m, 'online_kernel', b.nid, b.startPfn, b.nrPages);
  if (kernel !== def) names.push(kernel.name);
  const movable = zoneForPfnRange(m, 'online_movable', b.nid, b.startPfn, b.nrPages);
  if (movable !== def) names.push(movable.name);
  return names.join(' ');
}

/** add_memory(nid, start, size): sections, memmap and offline blocks; returns 0 or -errno. */
export function* addMemory(m: HotplugMachine, nid: Nid, startBytes: number, sizeBytes: number): Task<number> {
  const page = 2 ** m.state.arch.pageShift;
  if (startBytes % m.blockBytes !== 0 || sizeBytes % m.blockBytes !== 0 || sizeBytes === 0) return -EINVAL;
  const start = startBytes / page;
  const nr = sizeBytes / page;
  const pps = m.state.sparse.pagesPerSection;
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  yield { op: 'down_write', lock: m.memHotplugLock };
  for (let nr0 = start / pps; nr0 < (start + nr) / pps; nr0++) {
    if (m.state.sparse.runOf(nr0)?.present) {
      yield { op: 'up_write', lock: m.memHotplugLock };
      yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
      return -EEXIST;
    }
  }
  // __add_pages -> sparse_add_section per section: usage + subsection map, memmap, PRESENT.
  // vmemmap_populate takes pages from the buddy without zeroing them: stale struct pages, which
  // sparse_add_section then poisons (page_init_poison) when CONFIG_DEBUG_VM poisoning is on.
  const fresh = m.pageInitPoisoning ? 'poisoned' : 'stale';
  for (let sec = start / pps; sec < (start + nr) / pps; sec++) {
    yield { op: 'access', kind: 'write', what: `mem_section[${sec}]` };
    m.state.sparse.updateSections(sec, sec + 1, (r) => r, (s, e) => ({ startNr: s, endNr: e, nid, present: true, hasMemMap: true, online: false, early: false }));
    m.store.populateSections(sec, sec + 1, fresh);
    yield { op: 'might_sleep', where: '__add_pages (cond_resched)' };
  }
  // create_memory_block_devices: offline blocks on nid.
  for (let id = start / m.pagesPerBlock; id < (start + nr) / m.pagesPerBlock; id++) {
    m.hotAdded.add(id);
    m.groupOf.set(id, start / m.pagesPerBlock);
    m.blocks.set(id, {
      id,
      startSectionNr: (id * m.pagesPerBlock) / pps,
      startPfn: id * m.pagesPerBlock,
      nrPages: m.pagesPerBlock,
      state: 'offline',
      nid,
      nodes: [nid],
      validZones: null,
      removable: m.state.profile.features.removableAlwaysOne ? true : null,
      physDevice: 0,
    });
  }
  yield { op: 'up_write', lock: m.memHotplugLock };
  // Auto-online per auto_online_blocks, block by block, still under device_hotplug_lock.
  const auto = m.state.spec.boot.memhpDefaultState ?? m.state.spec.config.autoOnlineBlocks;
  if (auto !== 'offline') {
    for (let id = start / m.pagesPerBlock; id < (start + nr) / m.pagesPerBlock; id++) {
      const rc = yield* onlineBlockLocked(m, id, auto);
      if (rc !== 0) break;
    }
  }
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return 0;
}

/** A sysfs write of `type` to memoryN/state: online_pages under the hotplug locks; 0 or -errno. */
export function* onlineBlock(m: HotplugMachine, id: number, type: OnlineType): Task<number> {
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  const rc = yield* onlineBlockLocked(m, id, type);
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return rc;
}

function* onlineBlockLocked(m: HotplugMachine, id: number, type: OnlineType): Task<number> {
  const b = m.blocks.get(id);
  if (!b) return -EINVAL;
  if (b.state === 'online') return -EINVAL; // device_online returns 1: "already online"
  yield { op: 'down_write', lock: m.memHotplugLock };
  const zone = zoneForPfnRange(m, type, b.nid, b.startPfn, b.nrPages);
  // move_pfn_range_to_zone: spans grow under pgdat_resize_lock and the zone span seqlock.
  const resize = m.pgdatResizeLock.get(b.nid) as SpinLock;
  const seq = m.seqlockOf(zone);
  yield { op: 'spin_lock_irqsave', lock: resize };
  yield { op: 'write_seqlock', lock: seq };
  const oldEnd = zoneEnd(zone);
  if (zone.spannedPages === 0 || b.startPfn < zone.zoneStartPfn) zone.zoneStartPfn = b.startPfn;
  zone.spannedPages = Math.max(b.startPfn + b.nrPages, oldEnd) - zone.zoneStartPfn;
  yield { op: 'access', kind: 'write', what: `zone ${zone.name} span` };
  const node = m.node(b.nid);
  const nodeEnd = node.nodeStartPfn + node.nodeSpannedPages;
  if (node.nodeSpannedPages === 0 || b.startPfn < node.nodeStartPfn) node.nodeStartPfn = b.startPfn;
  node.nodeSpannedPages = Math.max(b.startPfn + b.nrPages, nodeEnd) - node.nodeStartPfn;
  yield { op: 'write_sequnlock', lock: seq };
  yield { op: 'spin_unlock_irqrestore', lock: resize };
  // memmap_init_range(MEMINIT_HOTPLUG): PG_reserved on every page, PageOffline from 6.12.
  const pps = m.state.sparse.pagesPerSection;
  const offlineType = m.state.profile.features.hotplugPageOffline ? encodePageType(pageLayoutVersionFor(m.state), 'offline') : null;
  for (let pfn = b.startPfn; pfn < b.startPfn + b.nrPages; pfn += pps) {
    m.store.initRange(pfn, pfn + pps, zone.zoneIdx, b.nid);
    if (offlineType === null) m.store.setReservedRange(pfn, pfn + pps);
    else m.store.setPageTypeRange(pfn, pfn + pps, offlineType);
    yield { op: 'work', work: 'memmap-init', nrPages: pps, node: b.nid };
    yield { op: 'might_sleep', where: 'memmap_init_range (cond_resched)' };
  }
  // online_pages_range + adjust_present_page_count + online_mem_sections.
  zone.presentPages += b.nrPages;
  node.nodePresentPages += b.nrPages;
  if (zone.managedPages !== null) zone.managedPages += b.nrPages;
  m.state.sparse.setSectionsOnline(b.startSectionNr, b.startSectionNr + b.nrPages / pps, true);
  b.state = 'online';
  b.validZones = zone.name;
  yield { op: 'up_write', lock: m.memHotplugLock };
  return 0;
}

/** page_to_nid + page_zone of the struct page at pfn (as its flags say): is it (nid, zone)? */
function pageLinksTo(m: HotplugMachine, pfn: Pfn, nid: Nid, zone: Zone): boolean {
  const rec = m.recordScratch;
  if (!m.store.readRecord(pfn, rec)) return false;
  const flags = new DataView(rec.buffer, rec.byteOffset).getBigUint64(0, true);
  const layout = m.pageFlagsLayout;
  return Number(pageFlagsField(flags, layout, 'node')) === nid && Number(pageFlagsField(flags, layout, 'zone')) === zone.zoneIdx;
}

/** pfn_to_online_page + pfn_to_nid + page_zone, as find_*_section_pfn read them. */
function onlinePageIn(m: HotplugMachine, pfn: Pfn, nid: Nid, zone: Zone): boolean {
  const run = m.state.sparse.runOf(m.state.sparse.pfnToSectionNr(pfn));
  return !!run?.online && m.state.sparse.pfnValid(pfn) && pageLinksTo(m, pfn, nid, zone);
}

/** A sysfs write of "offline": offline_pages; 0 or -errno (state unchanged on failure). */
export function* offlineBlock(m: HotplugMachine, id: number): Task<number> {
  const b = m.blocks.get(id);
  if (!b || b.state !== 'online') return -EINVAL;
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  yield { op: 'down_write', lock: m.memHotplugLock };
  const zoneName = b.validZones;
  if (zoneName === null || zoneName === 'none') {
    yield { op: 'up_write', lock: m.memHotplugLock };
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return -EINVAL; // "multizone range"
  }
  if (m.unmovableBlocks.has(id) && zoneName !== 'Movable') {
    yield { op: 'up_write', lock: m.memHotplugLock };
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return -EBUSY; // "unmovable page": migration cannot empty the block
  }
  const zone = m.zoneByName(b.nid, zoneName);
  const node = m.node(b.nid);
  const pps = m.state.sparse.pagesPerSection;
  const start = b.startPfn;
  const end = b.startPfn + b.nrPages;
  // __offline_isolated_pages -> offline_mem_sections, then the counts.
  m.state.sparse.setSectionsOnline(b.startSectionNr, b.startSectionNr + b.nrPages / pps, false);
  if (zone.managedPages !== null) zone.managedPages -= b.nrPages;
  zone.presentPages -= b.nrPages;
  node.nodePresentPages -= b.nrPages;
  b.state = 'offline';
  b.validZones = null;
  if (m.pageInitPoisoning && m.state.profile.features.poisonAtOffline) {
    // remove_pfn_range_from_zone: the struct pages are uninitialised again, section by section.
    for (let sec = b.startSectionNr; sec < b.startSectionNr + b.nrPages / pps; sec++) {
      yield { op: 'access', kind: 'write', what: `memmap of section ${sec}` };
      m.store.poisonRange(sec * pps, (sec + 1) * pps);
    }
  }
  if (!m.state.profile.features.shrinkAtOffline) {
    // Before 5.5 the spans only shrank when the memory was removed (__remove_zone).
    yield { op: 'up_write', lock: m.memHotplugLock };
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return 0;
  }
  yield* shrinkSpans(m, zone, start, end, 'online');
  yield { op: 'up_write', lock: m.memHotplugLock };
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return 0;
}

/**
 * shrink_zone_span + update_pgdat_span under pgdat_resize_lock and the zone span seqlock, after
 * [start, end) left the zone. The search for the new first or last pfn of the zone reads
 * struct pages: from 5.5 only of online sections (pfn_to_online_page); v5.3 took any pfn_valid
 * one, so offline-but-present memory still counted.
 */
function* shrinkSpans(m: HotplugMachine, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid'): Task<void> {
  const node = m.node(zone.nid);
  const nid = zone.nid;
  const found = (p: Pfn): boolean => (search === 'online' ? onlinePageIn(m, p, nid, zone) : validPageIn(m, p, nid, zone));
  const resize = m.pgdatResizeLock.get(nid) as SpinLock;
  const seq = m.seqlockOf(zone);
  yield { op: 'spin_lock_irqsave', lock: resize };
  yield { op: 'write_seqlock', lock: seq };
  const sub = m.state.sparse.pagesPerSubsection;
  if (zone.zoneStartPfn === start) {
    let pfn = 0;
    for (let p = end; p < zoneEnd(zone); p += sub) {
      yield { op: 'access', kind: 'read', what: `struct page ${p}` };
      if (found(p)) {
        pfn = p;
        break;
      }
    }
    if (pfn) {
      zone.spannedPages = zoneEnd(zone) - pfn;
      zone.zoneStartPfn = pfn;
    } else {
      zone.zoneStartPfn = 0;
      zone.spannedPages = 0;
    }
  } else if (zoneEnd(zone) === end) {
    let pfn = 0;
    for (let p = start - 1; p >= zone.zoneStartPfn; p -= sub) {
      yield { op: 'access', kind: 'read', what: `struct page ${p}` };
      if (found(p)) {
        pfn = p;
        break;
      }
    }
    if (pfn) zone.spannedPages = pfn - zone.zoneStartPfn + 1;
    else {
      zone.zoneStartPfn = 0;
      zone.spannedPages = 0;
    }
  }
  // update_pgdat_span
  let ns = 0;
  let ne = 0;
  for (const z of node.zones) {
    if (!z.spannedPages) continue;
    if (!ne) {
      ns = z.zoneStartPfn;
      ne = zoneEnd(z);
      continue;
    }
    ne = Math.max(ne, zoneEnd(z));
    ns = Math.min(ns, z.zoneStartPfn);
  }
  node.nodeStartPfn = ns;
  node.nodeSpannedPages = ne - ns;
  yield { op: 'write_sequnlock', lock: seq };
  yield { op: 'spin_unlock_irqrestore', lock: resize };
}

/** v5.3's find_*_section_pfn test: pfn_valid, then the struct page's node and zone. */
function validPageIn(m: HotplugMachine, pfn: Pfn, nid: Nid, zone: Zone): boolean {
  return m.state.sparse.pfnValid(pfn) && pageLinksTo(m, pfn, nid, zone);
}

/**
 * remove_memory(start, size): every block must be offline (-EBUSY otherwise, nothing changed);
 * before 5.5 the zone spans shrink here (__remove_zone, with the pfn_valid search); then the
 * blocks go and sparse_remove_section frees the sections and their memmap.
 */
export function* removeMemory(m: HotplugMachine, startBytes: number, sizeBytes: number): Task<number> {
  const page = 2 ** m.state.arch.pageShift;
  if (startBytes % m.blockBytes !== 0 || sizeBytes % m.blockBytes !== 0 || sizeBytes === 0) return -EINVAL;
  const start = startBytes / page;
  const nr = sizeBytes / page;
  const ids: number[] = [];
  for (let id = start / m.pagesPerBlock; id < (start + nr) / m.pagesPerBlock; id++) ids.push(id);
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  // check_memblock_offlined_cb: "Memory block N is not offline"
  if (ids.some((id) => m.blocks.get(id)?.state === 'online')) {
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return -EBUSY;
  }
  yield { op: 'down_write', lock: m.memHotplugLock };
  const pps = m.state.sparse.pagesPerSection;
  if (!m.state.profile.features.shrinkAtOffline) {
    // v5.3 arch_remove_memory (x86): page_zone(pfn_to_page(start)) picks the zone to shrink; it
    // reads the first struct page, which is still poisoned if the memory was never onlined.
    yield { op: 'access', kind: 'read', what: `struct page ${start}` };
    // __remove_pages -> __remove_zone: shrink each zone the removed range still links to.
    for (const node of m.state.nodes) {
      for (const zone of node.zones) {
        if (zone.spannedPages && start < zoneEnd(zone) && start + nr > zone.zoneStartPfn) {
          yield* shrinkSpans(m, zone, Math.max(start, zone.zoneStartPfn), Math.min(start + nr, zoneEnd(zone)), 'valid');
        }
      }
    }
  }
  for (const id of ids) {
    m.blocks.delete(id);
    m.hotAdded.delete(id);
    m.groupOf.delete(id);
  }
  for (let sec = start / pps; sec < (start + nr) / pps; sec++) {
    yield { op: 'access', kind: 'write', what: `mem_section[${sec}]` };
    m.state.sparse.removeSections(sec, sec + 1);
    m.store.depopulateSection(sec);
  }
  yield { op: 'up_write', lock: m.memHotplugLock };
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return 0;
}
