// RAM hotplug as tasks (mm/memory_hotplug.c, drivers/base/memory.c, drivers/acpi/acpi_memhotplug.c,
// drivers/virtio/virtio_mem.c; v5.3, 6.1 and 6.18 per the profile): add_memory_resource (__add_pages
// -> sparse_add_section, memmap from node memory or, with memory_hotplug.memmap_on_memory, from the
// added block through an altmap; offline memory blocks; memory groups; a node brought online by
// hotadd_init_pgdat; auto-online), online of a block (zone_for_pfn_range with the auto-movable
// policy, mhp_init_memmap_on_memory, move_pfn_range_to_zone growing zone and node spans under the
// profile's locks, memmap_init_range MEMINIT_HOTPLUG with set_pfnblock_flags_mask per pageblock,
// present and managed pages, online_mem_sections), offline (offline_mem_sections, counts,
// remove_pfn_range_from_zone -> shrink_zone_span with find_smallest/biggest_section_pfn reading
// the memmap, update_pgdat_span, mhp_deinit_memmap_on_memory) and remove_memory (its refusals,
// release of the iomem resource, try_offline_node). Leaves out page migration (a block whose
// pages cannot move fails with EBUSY when the scenario says so), the buddy allocator's view of
// onlined pages, CMA pages in the auto-movable stats, and memmap_on_memory's "inaccessible"
// memory (s390).
import type { HotplugResource } from './machine.js';
import { pfnToOnlinePage } from './mm.js';
import type { AddParams, ArchAddParams, Machine, HotplugDevice, VirtioMemDevice } from './machine.js';
export type { AddParams } from './machine.js';
import type { MemoryGroup } from './memory.js';
import { pageblocksIn, type Task, type Yield } from './task.js';
import type { SpinLock } from './locks.js';
import type { VmemAltmap } from './dev_pagemap.js';
import type { MemoryBlock } from './memory_block.js';
import type { KernelConfig } from './machine_spec.js';
import { forEachSectionPiece } from '../memmap/store.js';
import type { PglistData, Zone } from './mmzone.js';
import { clearPageType, encodePageType, PAGE_TYPE_NONE, recordFlagsField, structPageLayout } from './page_layout.js';
import { kstrtobool, kstrtoboolLetters } from './kstrtox.js';
import { pageConfigFor, pageLayoutVersionFor } from './memmap_source.js';
import type { Bytes, Nid, PhysAddr, Pfn } from '../units.js';
import { physAddrLimit } from './limits.js';
import { pageFlagBits } from './page_layout.js';
import { InputError } from '../errors.js';

export type OnlineType = 'online' | 'online_kernel' | 'online_movable';

/** errno values the sysfs writes and hotplug calls return. */
export const EINVAL = 22;
export const E2BIG = 7;
export const EEXIST = 17;
export const EBUSY = 16;
export const ENOMEM = 12;

/** walk_system_ram_range's count: pfns of [start, end) that are RAM (all of a hot-added block, the memblock ranges of boot memory). */
export function systemRamPages(m: Machine, start: Pfn, end: Pfn): number {
  const id = Math.floor(start / m.pagesPerBlock);
  if (m.hotAdded.has(id)) return end - start;
  let n = 0;
  for (const r of m.state.regions) n += Math.max(0, Math.min(r.end, end) - Math.max(r.start, start));
  return n;
}

/** region_intersects(System RAM): does [start, end) meet boot RAM or hot-added memory? */
export function systemRamOverlaps(m: Machine, start: Pfn, end: Pfn): boolean {
  if (m.state.regions.some((r) => r.start < end && r.end > start)) return true;
  for (let id = Math.floor(start / m.pagesPerBlock); id * m.pagesPerBlock < end; id++) if (m.hotAdded.has(id)) return true;
  return false;
}

/** &NODE_DATA(nid)->node_zones[ZONE_DEVICE] (CONFIG_ZONE_DEVICE). */
export function zoneForDevice(m: Machine, nid: Nid): Zone {
  const z = m.node(nid).zones.find((x) => x.name === 'Device');
  // The machine's config (or its arch: s390x has no ZONE_DEVICE) leaves it out: the user's input, not a model bug.
  if (!z) throw new InputError(`node ${nid} has no ZONE_DEVICE (CONFIG_ZONE_DEVICE off for this arch or config); an fsdax or devdax namespace needs it: use mode raw or sector`);
  return z;
}

function zoneEnd(z: Zone): Pfn {
  return z.zoneStartPfn + z.spannedPages;
}

/** zone_intersects: the zone's span meets [start, start + nr). */
export function zoneIntersects(z: Zone, start: Pfn, nr: number): boolean {
  return z.spannedPages > 0 && start < zoneEnd(z) && start + nr > z.zoneStartPfn;
}

/** default_kernel_zone_for_pfn: the first zone below Normal the range meets, else Normal. */
export function defaultKernelZoneForPfn(m: Machine, nid: Nid, start: Pfn, nr: number): Zone {
  const zones = m.node(nid).zones;
  const normal = zones.findIndex((z) => z.name === 'Normal');
  for (let i = 0; i < normal; i++) {
    const z = zones[i];
    if (z && zoneIntersects(z, start, nr)) return z;
  }
  return m.zoneByName(nid, 'Normal');
}

/** default_zone_for_pfn: the kernel or the movable zone the range meets, kernel when both or neither. */
export function defaultZoneForPfn(m: Machine, nid: Nid, start: Pfn, nr: number): Zone {
  const kernel = defaultKernelZoneForPfn(m, nid, start, nr);
  const movable = m.zoneByName(nid, 'Movable');
  const inKernel = zoneIntersects(kernel, start, nr);
  const inMovable = zoneIntersects(movable, start, nr);
  if (inKernel !== inMovable) return inKernel ? kernel : movable;
  return m.state.spec.boot.movableNode ? movable : kernel;
}

/** zone_for_pfn_range (online_policy "contig-zones"). */
export function zoneForPfnRange(m: Machine, type: OnlineType, nid: Nid, start: Pfn, nr: number): Zone {
  if (type === 'online_kernel') return defaultKernelZoneForPfn(m, nid, start, nr);
  if (type === 'online_movable') return m.zoneByName(nid, 'Movable');
  if (m.state.profile.features.autoMovableOnlinePolicy && m.state.spec.boot.onlinePolicy === 'auto-movable') {
    return autoMovableZoneForPfn(m, nid, m.groupOfBlock(Math.floor(start / m.pagesPerBlock)), start, nr);
  }
  return defaultZoneForPfn(m, nid, start, nr);
}

/** Online pages of a zone that sit in boot (early) sections: zone->present_early_pages. */
function presentEarlyPages(m: Machine, zone: Zone): number {
  let hot = 0;
  for (const id of m.hotAdded) {
    const b = m.blocks.get(id);
    if (b?.state === 'online' && b.nid === zone.nid && b.validZones === zone.name) hot += b.nrPages;
  }
  return zone.presentPages - hot;
}

/**
 * auto_movable_can_online_movable (6.1): could nrPages more go to ZONE_MOVABLE and keep MOVABLE
 * <= ratio% of early KERNEL memory (all nodes, or node `nid`)? Kernel memory other dynamic groups
 * need for their own MOVABLE memory is taken out; the group's own kernel memory counts.
 */
function autoMovableCanOnlineMovable(m: Machine, nid: Nid | null, group: MemoryGroup | null, nrPages: number): boolean {
  const ratio = m.state.spec.boot.autoMovableRatio ?? 301;
  let kernelEarly = 0;
  let movable = 0;
  for (const node of m.state.nodes) {
    if (!node.online || (nid !== null && node.nodeId !== nid)) continue;
    for (const z of node.zones) {
      if (!z.presentPages) continue;
      if (z.name === 'Movable') movable += z.presentPages;
      else kernelEarly += presentEarlyPages(m, z);
    }
  }
  // walk_dynamic_memory_groups + auto_movable_stats_account_group
  let reqKernelEarly = 0;
  let groupMovable = 0;
  for (const g of m.groups.values()) {
    if (!g.dynamic || g === group || (nid !== null && g.nid !== nid) || !ratio) continue;
    const p = m.groupPresent(g);
    const pages = Math.floor((p.movable * 100) / ratio) - p.kernel;
    if (pages > 0) reqKernelEarly += pages;
    groupMovable += p.movable;
  }
  if (kernelEarly <= reqKernelEarly) return false;
  kernelEarly -= reqKernelEarly;
  movable -= groupMovable;
  if (group?.dynamic) kernelEarly += m.groupPresent(group).kernel;
  movable += nrPages;
  return movable <= Math.floor((ratio * kernelEarly) / 100);
}

/** auto_movable_numa_aware: the value given, as this kernel's kstrtobool reads it; a value it refuses leaves Y. */
function autoMovableNumaAware(m: Machine): boolean {
  const text = m.state.spec.boot.autoMovableNumaAware;
  return text === undefined ? true : (kstrtobool(text, kstrtoboolLetters(m.state.profile.features)) ?? true);
}

/** pfn_to_online_page + is_zone_movable_page. */
function onlineMovablePage(m: Machine, pfn: Pfn): boolean | null {
  if (!pfnToOnlinePage(m, pfn) || !m.state.sparse.pfnValid(pfn)) return null;
  if (!m.store.readRecord(pfn, m.recordScratch)) return null;
  return m.state.zoneNames[recordFlagsField(m.recordScratchView, m.pageFlagsLayout, 'zone')] === 'Movable';
}

/**
 * auto_movable_zone_for_pfn (6.1): MOVABLE when the memory still to come of the block's group
 * fits the ratio, unless some of the group (static) or of the unit (dynamic) is in a kernel zone.
 * As in the kernel, the fallback kernel zone is looked up with the pfn and size the search left.
 */
function autoMovableZoneForPfn(m: Machine, nid: Nid, group: MemoryGroup | null, startPfn: Pfn, nr: number): Zone {
  const ratio = m.state.spec.boot.autoMovableRatio ?? 301;
  let pfn = startPfn;
  let nrPages = nr;
  const kernel = (): Zone => defaultKernelZoneForPfn(m, nid, pfn, nrPages);
  if (!ratio) return kernel();
  let maxPages: number;
  let onlinePages = 0;
  if (group && !group.dynamic) {
    const p = m.groupPresent(group);
    maxPages = group.pages;
    onlinePages = p.movable;
    if (p.kernel) return kernel();
  } else if (!group || group.pages === nrPages) {
    maxPages = nrPages;
  } else {
    maxPages = group.pages;
    const pps = m.state.sparse.pagesPerSection;
    pfn = Math.floor(pfn / group.pages) * group.pages;
    const endPfn = pfn + group.pages;
    for (; pfn < endPfn; pfn += pps) {
      const movable = onlineMovablePage(m, pfn);
      if (movable === null) continue;
      if (!movable) return kernel();
      onlinePages += pps;
    }
  }
  nrPages = maxPages - onlinePages;
  if (!autoMovableCanOnlineMovable(m, null, group, nrPages)) return kernel();
  if (autoMovableNumaAware(m) && !autoMovableCanOnlineMovable(m, nid, group, nrPages)) return kernel();
  return m.zoneByName(nid, 'Movable');
}

/** valid_zones of a block: the current zone when online, else the default zone then the others allowed. */
export function validZones(m: Machine, b: MemoryBlock): string {
  if (b.state === 'online') return b.validZones ?? 'none';
  const def = zoneForPfnRange(m, 'online', b.nid, b.startPfn, b.nrPages);
  const names = [def.name];
  const kernel = zoneForPfnRange(m, 'online_kernel', b.nid, b.startPfn, b.nrPages);
  if (kernel !== def) names.push(kernel.name);
  const movable = zoneForPfnRange(m, 'online_movable', b.nid, b.startPfn, b.nrPages);
  if (movable !== def) names.push(movable.name);
  return names.join(' ');
}

/** %#lx / %#llx: 0x-prefixed hex, "0" for zero. */
function hexAlt(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** memmap_on_memory as this kernel reads memory_hotplug.memmap_on_memory= (off when absent or refused). */
export function memmapOnMemoryMode(m: Machine): 'off' | 'on' | 'force' {
  const f = m.state.profile.features;
  const text = m.state.spec.boot.memmapOnMemory;
  if (f.memmapOnMemory === 'none' || text === undefined) return 'off';
  // Before 6.6 a bool parameter: no value means Y. The 6.6 ops need a value.
  if (text === '') return f.memmapOnMemoryForce ? 'off' : 'on';
  if (f.memmapOnMemoryForce && (text === 'force' || text === 'FORCE')) return 'force';
  return kstrtobool(text, kstrtoboolLetters(f)) ? 'on' : 'off';
}

/** memory_block_memmap_on_memory_pages (6.6+; before, the PMD-aligned memmap of the block): vmemmap pages per block. */
export function memmapOnMemoryPages(m: Machine): number {
  const pages = Math.ceil((m.pagesPerBlock * m.recordScratch.length) / m.pageBytes);
  if (memmapOnMemoryMode(m) !== 'force') return pages;
  const pb = m.state.sparse.pageblockNrPages;
  return Math.ceil(pages / pb) * pb;
}

/**
 * mhp_supports_memmap_on_memory for a range of one memory block: enabled, the arch has
 * ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE (x86_64, arm64), the block's memmap fills whole PMDs (the
 * generic arch_supports_memmap_on_memory) and leaves whole pageblocks for the buddy.
 */
export function mhpSupportsMemmapOnMemory(m: Machine): boolean {
  if (memmapOnMemoryMode(m) === 'off') return false;
  const arch = m.state.arch;
  if (arch.name !== 'x86_64' && arch.name !== 'arm64') return false;
  const memmapBytes = m.pagesPerBlock * m.recordScratch.length;
  const pmdBytes = 2 ** (2 * arch.pageShift - 3);
  const pb = m.state.sparse.pageblockNrPages;
  if (!m.state.profile.features.memmapOnMemoryForce) {
    // 5.13-6.5: vmemmap_size PMD aligned, the remaining size pageblock aligned.
    return memmapBytes % pmdBytes === 0 && (m.blockBytes - memmapBytes) % (pb * m.pageBytes) === 0;
  }
  const pages = memmapOnMemoryPages(m);
  return memmapBytes % m.pageBytes === 0 && pages % pb === 0 && pages !== m.pagesPerBlock && memmapBytes % pmdBytes === 0;
}

/**
 * add_memory_resource with device_hotplug_lock held by the caller: the range check, the resource,
 * __try_online_node, the sections and memmap (from the block itself when memmap_on_memory
 * applies), the memory block devices, and auto-online. 0 or -errno; nothing changes on failure.
 */
export function* addMemoryResource(m: Machine, nid: Nid, startBytes: PhysAddr, sizeBytes: Bytes, p: AddParams): Task<number> {
  // register_memory_resource, before add_memory_resource's alignment check: the range must lie
  // in the physical address space (checked before anything is sized by it).
  const maxPhys = physAddrLimit(m.state.spec) - 1;
  const end = startBytes + sizeBytes;
  if (m.state.profile.features.hotplugRangeCheck === 'iomem') {
    if (end - 1 > maxPhys) return -EEXIST;
  } else if (!(startBytes < end && end - 1 <= maxPhys)) {
    // mhp_range_allowed(start, size, true): mhp_get_pluggable_range is [0, max_phys] where the
    // arch maps all of it (x86's default arch_get_mappable_range); vsprintf's %#llx writes 0 as 0x0.
    const hex = (n: number): string => `0x${n.toString(16)}`;
    m.state.log.warn(`Hotplug memory [${hex(startBytes)}-${hex(end)}] exceeds maximum addressable range [0x0-${hex(maxPhys)}]`);
    return -E2BIG;
  }
  if (!sizeBytes || startBytes % m.blockBytes !== 0 || sizeBytes % m.blockBytes !== 0) {
    m.state.log.info(`Block size [${hexAlt(m.blockBytes)}] unaligned hotplug range: start ${hexAlt(startBytes)}, size ${hexAlt(sizeBytes)}`);
    return -EINVAL;
  }
  const start = startBytes / m.pageBytes;
  const nr = sizeBytes / m.pageBytes;
  const pps = m.state.sparse.pagesPerSection;
  // register_memory_resource: a range that is already memory is busy.
  for (let sec = start / pps; sec < (start + nr) / pps; sec++) if (m.state.sparse.runOf(sec)?.present) return -EEXIST;
  m.resources.push({ start: startBytes, end: startBytes + sizeBytes - 1, name: p.resource, parent: p.parent });
  yield { op: 'down_write', lock: m.memHotplugLock };
  const node = m.node(nid);
  const newNode = !node.online;
  if (newNode) yield* hotaddInitPgdat(m, node);
  // Self-hosted memmap: one altmap per block, for an add of one block (5.13-6.7) or any (6.8+).
  const perBlock = m.state.profile.features.memmapOnMemory === 'per-block' || sizeBytes === m.blockBytes;
  const nrVmemmap = p.memmapOnMemory && perBlock && mhpSupportsMemmapOnMemory(m) ? memmapOnMemoryPages(m) : 0;
  // arch_add_memory -> __add_pages -> sparse_add_section per section.
  yield* m.step('arch_add_memory', archAddMemory)(m, nid, start, start + nr, { altmap: null, device: false, selfHosted: nrVmemmap > 0 });
  // create_memory_block_devices: offline blocks on nid.
  for (let id = start / m.pagesPerBlock; id < (start + nr) / m.pagesPerBlock; id++) {
    m.hotAdded.add(id);
    m.blockChanged(id);
    if (p.group) m.groupOf.set(id, p.group.id);
    if (nrVmemmap) m.vmemmapPages.set(id, nrVmemmap);
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
  if (newNode) node.online = true; // node_set_online + register_one_node
  yield { op: 'up_write', lock: m.memHotplugLock };
  // Auto-online per auto_online_blocks, block by block, still under device_hotplug_lock.
  const auto = m.state.spec.boot.memhpDefaultState ?? m.state.spec.config.autoOnlineBlocks;
  if (auto !== 'offline') {
    for (let id = start / m.pagesPerBlock; id < (start + nr) / m.pagesPerBlock; id++) {
      const rc = yield* onlineBlockLocked(m, id, auto);
      if (rc !== 0) break;
    }
  }
  return 0;
}

/**
 * mhp_get_default_online_type (mm/memory_hotplug.c, 6.14+ and the stable 6.12 and 6.6 trees it was
 * backported to, "mm/memory_hotplug: add CONFIG_MHP_DEFAULT_ONLINE_TYPE"): the build's default for
 * auto_online_blocks from the CONFIG_MHP_DEFAULT_ONLINE_TYPE choice, tested in order OFFLINE,
 * ONLINE_AUTO (MMOP_ONLINE, shown as "online"), ONLINE_KERNEL, ONLINE_MOVABLE, else MMOP_OFFLINE;
 * before it (6.1), CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE: MMOP_ONLINE when set, else MMOP_OFFLINE.
 * memhp_default_state= on the command line still wins (setup_memhp_default_state).
 */
export function mhpGetDefaultOnlineType(kconfig: ReadonlyMap<string, string>): KernelConfig['autoOnlineBlocks'] {
  const on = (name: string): boolean => kconfig.get(`CONFIG_${name}`) === 'y';
  if (on('MHP_DEFAULT_ONLINE_TYPE_OFFLINE')) return 'offline';
  if (on('MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO')) return 'online';
  if (on('MHP_DEFAULT_ONLINE_TYPE_ONLINE_KERNEL')) return 'online_kernel';
  if (on('MHP_DEFAULT_ONLINE_TYPE_ONLINE_MOVABLE')) return 'online_movable';
  return on('MEMORY_HOTPLUG_DEFAULT_ONLINE') ? 'online' : 'offline';
}

/**
 * arch_add_memory -> __add_pages (x86 init_64.c, mm/memory_hotplug.c; v4.19.1, 5.3, 6.1, 6.18.2
 * read): sparse_add_section for each section piece of [start, end), with mem_hotplug_lock held for
 * writing; __add_pages' cond_resched between sections is in sparse_add_section's last yield. RAM
 * cannot fail here (register_memory_resource checked the range); device memory undoes the
 * sections it added when one fails (0 or -errno). Leaves out the direct map and kasan shadow.
 */
export function* archAddMemory(m: Machine, nid: Nid, start: Pfn, end: Pfn, params: ArchAddParams): Task<number> {
  const sparse = m.state.sparse;
  const pps = sparse.pagesPerSection;
  const first = Math.floor(start / pps);
  // Whether each section added so far was new (the rollback's answer: remove it, or clear its subsections).
  const fresh: boolean[] = [];
  for (let sec = first; sec * pps < end; sec++) {
    const s = Math.max(start, sec * pps);
    const e = Math.min(end, (sec + 1) * pps);
    const isNew = !sparse.runOf(sec)?.present;
    const rc = yield* m.step('sparse_add_section', sparseAddSection)(m, nid, sec, s, e, params);
    if (rc !== 0) {
      updateEndOfMemoryVars(m, end, params);
      fresh.forEach((wasNew, i) => {
        const a = first + i;
        if (wasNew) {
          sparse.removeSections(a, a + 1);
          m.store.depopulateSection(a);
        } else sparse.editSubsections(a, Math.max(start, a * pps), Math.min(end, (a + 1) * pps), false, false);
      });
      return rc;
    }
    fresh.push(isNew);
  }
  updateEndOfMemoryVars(m, end, params);
  return 0;
}

/**
 * update_end_of_memory_vars as x86_64 add_pages calls it after __add_pages, failed or not
 * (arch/x86/mm/init_64.c; 4.19.1, 5.3.0 read): max_pfn (read, written only to raise it) to the
 * range's end; for a pgmap too until 7170130e4c72 (6.15, 6.1.141, 6.12.31). Leaves out
 * max_low_pfn and high_memory. i386's and the other arches' arch_add_memory leave max_pfn alone.
 */
function updateEndOfMemoryVars(m: Machine, end: Pfn, params: ArchAddParams): void {
  if (m.state.arch.name !== 'x86_64' || (params.device && !m.state.profile.features.addPagesRaisesMaxPfnForPgmap)) return;
  if (end > m.state.maxPfn) m.state.maxPfn = end;
}

/**
 * sparse_add_section (mm/sparse.c 5.3-6.18.2; v4.19.1 sparse_add_one_section) for [start, end)
 * of section sec: the section (usage, subsection map) and its memmap (vmemmap_populate: from node
 * memory, or from the altmap, one PMD per whole section), PRESENT; the new memmap is stale or,
 * with page_init_poison, poisoned. A section shared with other memory keeps its memmap and only
 * its subsection bits change; a subsection already in use is -EEXIST ("memory add fail"), an
 * altmap out of free pfns -ENOMEM. Yields: the mem_section write, the memmap work (RAM), the
 * caller's cond_resched.
 */
export function* sparseAddSection(m: Machine, nid: Nid, sec: number, start: Pfn, end: Pfn, params: ArchAddParams): Task<number> {
  const sparse = m.state.sparse;
  const pps = sparse.pagesPerSection;
  const fresh = m.pageInitPoisoning ? 'poisoned' : 'stale';
  yield { op: 'access', kind: 'write', what: `mem_section[${sec}]` };
  if (!params.device) {
    sparse.updateSections(
      sec,
      sec + 1,
      (r) => r,
      (s, e) => ({ startNr: s, endNr: e, nid, present: true, hasMemMap: true, online: false, early: false }),
    );
    m.store.populateSections(sec, sec + 1, fresh);
    yield { op: 'work', work: params.selfHosted ? 'vmemmap-populate-altmap' : 'vmemmap-populate', nrPages: pps, node: nid };
    yield { op: 'might_sleep', where: '__add_pages (cond_resched)' };
    return 0;
  }
  const run = sparse.runOf(sec);
  const partial = end - start !== pps;
  const vmemmapPerSection = (pps * m.recordScratch.length) / m.pageBytes;
  // fill_subsection_map: the subsections must be free (-EEXIST: "memory add fail").
  const clash = run?.present && (!partial || (sparse.subsectionMap(sec) & sparse.subsectionBits(sec, start, end)) !== 0n);
  // vmemmap_populate fails without fallback with an altmap.
  const nomem = !run?.present && params.altmap !== null && !partial && params.altmap.allocBlockBuf(vmemmapPerSection) === null;
  if (clash) return -EEXIST;
  if (nomem) return -ENOMEM;
  if (!run?.present) {
    sparse.updateSections(
      sec,
      sec + 1,
      (r) => r,
      (a, b) => ({ startNr: a, endNr: b, nid, present: true, hasMemMap: true, online: false, early: false }),
    );
    m.store.populateSections(sec, sec + 1, fresh);
    if (partial) sparse.editSubsections(sec, start, end, true, true);
  } else {
    // A section shared with other memory keeps its memmap; only the subsection bits change.
    sparse.editSubsections(sec, start, end, true, false);
  }
  yield { op: 'might_sleep', where: '__add_pages (cond_resched)' };
  return 0;
}

/**
 * __try_online_node for a node offline until now: hotadd_init_pgdat (6.1; v5.3 hotadd_new_pgdat)
 * resets the pgdat: no zones in use, node_start_pfn 0, every zone's managed pages 0.
 */
function* hotaddInitPgdat(m: Machine, node: PglistData): Task<void> {
  yield { op: 'access', kind: 'write', what: `NODE_DATA(${node.nodeId})` };
  node.nodeStartPfn = 0;
  for (const z of node.zones) if (z.managedPages !== null) z.managedPages = 0;
}

/**
 * A hot-add by a device, as its driver does it: an ACPI memory device adds its range in one
 * add_memory with a static memory group and MHP_MEMMAP_ON_MEMORY (5.13+); virtio-mem adds one
 * memory block per add_memory_driver_managed into its dynamic group, never with memmap_on_memory.
 */
export function* addMemory(m: Machine, nid: Nid, startBytes: PhysAddr, sizeBytes: Bytes, device: HotplugDevice = { kind: 'dimm' }): Task<number> {
  if (device.kind === 'dimm') {
    yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
    // acpi_memory_enable_device: memory_group_register_static with the device's size.
    const group = m.registerGroup(nid, false, Math.ceil(sizeBytes / m.pageBytes));
    const memmapOnMemory = m.state.profile.features.memmapOnMemory !== 'none';
    const rc = yield* m.step('add_memory_resource', addMemoryResource)(m, nid, startBytes, sizeBytes, { group, memmapOnMemory, resource: 'System RAM', parent: null });
    if (rc !== 0) m.groups.delete(group.id);
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return rc;
  }
  const dev = m.virtioMem.get(device.name) ?? virtioMemProbe(m, device.name, nid, device.regionStart ?? startBytes, device.regionBytes ?? sizeBytes);
  if (startBytes < dev.regionStart || startBytes + sizeBytes > dev.regionStart + dev.regionBytes) return -EINVAL; // outside the device
  for (let b = startBytes; b < startBytes + sizeBytes; b += m.blockBytes) {
    yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
    // MHP_NID_IS_MGID: the node is the group's.
    const rc = yield* m.step('add_memory_resource', addMemoryResource)(m, dev.group.nid, b, Math.min(m.blockBytes, startBytes + sizeBytes - b), {
      group: dev.group,
      memmapOnMemory: false,
      resource: 'System RAM (virtio_mem)',
      parent: dev.name,
    });
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    if (rc !== 0) return rc;
  }
  return 0;
}

/**
 * virtio_mem_probe / virtio_mem_init: the device's region becomes its "virtioN" resource and a
 * dynamic memory group (unit one memory block, SBM) is registered; nothing is plugged yet.
 */
export function virtioMemProbe(m: Machine, name: string, nid: Nid, regionStart: PhysAddr, regionBytes: Bytes): VirtioMemDevice {
  const dev = { name, group: m.registerGroup(nid, true, m.pagesPerBlock), regionStart, regionBytes };
  m.virtioMem.set(name, dev);
  return dev;
}

/** A sysfs write of `type` to memoryN/state: online_pages under the hotplug locks; 0 or -errno. */
export function* onlineBlock(m: Machine, id: number, type: OnlineType): Task<number> {
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  const rc = yield* onlineBlockLocked(m, id, type);
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return rc;
}

/**
 * memory_block_online (5.13+; v5.3 online_pages): the zone is chosen, the vmemmap pages of a
 * memmap_on_memory block are initialised into it (outside mem_hotplug_lock before 6.6), then the
 * rest is onlined; the vmemmap pages count as present but are never managed.
 */
function* onlineBlockLocked(m: Machine, id: number, type: OnlineType): Task<number> {
  const b = m.blocks.get(id);
  if (!b) return -EINVAL;
  if (b.state === 'online') return -EINVAL; // device_online returns 1: "already online"
  const f = m.state.profile.features;
  let zone: Zone;
  if (f.memmapOnMemory === 'none') {
    yield { op: 'down_write', lock: m.memHotplugLock };
    zone = zoneForPfnRange(m, type, b.nid, b.startPfn, b.nrPages);
    takesKernelAllocations(m, zone, b);
    yield* m.step('online_pages', onlinePages)(m, zone, b.startPfn, b.nrPages);
    yield { op: 'up_write', lock: m.memHotplugLock };
  } else {
    zone = zoneForPfnRange(m, type, b.nid, b.startPfn, b.nrPages);
    takesKernelAllocations(m, zone, b);
    const nrVmemmap = m.vmemmapPages.get(id) ?? 0;
    const whole = f.memmapOnMemoryForce; // 6.6+: mem_hotplug_begin in memory_block_online
    if (whole) yield { op: 'down_write', lock: m.memHotplugLock };
    if (nrVmemmap) yield* mhpInitMemmapOnMemory(m, zone, b.startPfn, nrVmemmap);
    if (!whole) yield { op: 'down_write', lock: m.memHotplugLock };
    yield* m.step('online_pages', onlinePages)(m, zone, b.startPfn + nrVmemmap, b.nrPages - nrVmemmap);
    if (!whole) yield { op: 'up_write', lock: m.memHotplugLock };
    if (nrVmemmap) yield* adjustPresentPageCount(m, zone, nrVmemmap);
    if (whole) yield { op: 'up_write', lock: m.memHotplugLock };
  }
  b.state = 'online';
  b.validZones = zone.name;
  m.blockChanged(b.id);
  return 0;
}

/**
 * Not a kernel function: where the kernel's own unmovable allocations go. GFP_KERNEL allocations
 * (slab, page tables, kernel stacks of tasks on the node's CPUs) take the local node's highest
 * kernel zone first (build_zonelists' order), and pages onlined by online_pages_range go to the
 * free lists' tail (FPI_TO_TAIL, 5.10+; before, to the head), so the block that first
 * brings free RAM into a CPU node's empty ZONE_NORMAL soon holds unmovable pages: its offline then
 * fails with EBUSY (real runs: memory32 of examples/dimm-zones on 6.1, of test/qemu/dimm-remove,
 * examples/dimm and examples/memmap-on-memory auto-onlined on 6.12). Applied to every profile;
 * real runs exist for 6.1 and 6.12 only, so before 5.10 it is a prediction. Left out: nodes without CPUs
 * (only node-bound allocations reach them) and blocks onlined into a zone that already has RAM,
 * where the allocations may or may not spill over.
 */
function takesKernelAllocations(m: Machine, zone: Zone, b: MemoryBlock): void {
  if (zone.name !== 'Normal' || m.node(zone.nid).cpus === 0) return;
  const free = zone.managedPages ?? zone.presentPages;
  if (free === 0) m.unmovableBlocks.add(b.id);
}

/**
 * resize_zone_range + resize_pgdat_range (move_pfn_range_to_zone's first half): the spans only
 * grow, under pgdat_resize_lock and the zone span seqlock before 5.14.
 */
export function* resizeSpans(m: Machine, zone: Zone, start: Pfn, nr: number): Task<void> {
  const locks = m.state.profile.features.hotplugSpanLocks;
  const resize = m.pgdatResizeLock.get(zone.nid) as SpinLock;
  const seq = m.seqlockOf(zone);
  if (locks) {
    yield { op: 'spin_lock_irqsave', lock: resize };
    yield { op: 'write_seqlock', lock: seq };
  }
  const oldEnd = zoneEnd(zone);
  m.spanUpdate(zone.nid, 1);
  if (zone.spannedPages === 0 || start < zone.zoneStartPfn) zone.zoneStartPfn = start;
  zone.spannedPages = Math.max(start + nr, oldEnd) - zone.zoneStartPfn;
  yield { op: 'access', kind: 'write', what: `zone ${zone.name} span` };
  if (locks) yield { op: 'write_sequnlock', lock: seq };
  const node = m.node(zone.nid);
  const nodeEnd = node.nodeStartPfn + node.nodeSpannedPages;
  if (node.nodeSpannedPages === 0 || start < node.nodeStartPfn) node.nodeStartPfn = start;
  node.nodeSpannedPages = Math.max(start + nr, nodeEnd) - node.nodeStartPfn;
  m.spanUpdate(zone.nid, -1);
  yield { op: 'access', kind: 'write', what: `node ${zone.nid} span` };
  if (locks) yield { op: 'spin_unlock_irqrestore', lock: resize };
}

/**
 * move_pfn_range_to_zone (mm/memory_hotplug.c; v4.19.1, 5.3, 6.1, 6.18.2 read), with
 * mem_hotplug_lock held: zone and node spans grow (resize_zone_range + resize_pgdat_range, under
 * pgdat_resize_lock and the zone span seqlock before 5.14), then memmap_init_range
 * (MEMINIT_HOTPLUG; v4.19 memmap_init_zone). For ZONE_DEVICE (4.20+) only the altmap's memmap
 * pfns [base + reserve, base + reserve + free) are initialised here, and SECTION_TAINT_ZONE_DEVICE
 * (5.12+) marks sections the range shares; v4.19 initialises the whole range from base + reserve.
 * Leaves out init_currently_empty_zone and clear/set_zone_contiguous.
 */
export function* movePfnRangeToZone(m: Machine, zone: Zone, start: Pfn, nr: number, altmap: VmemAltmap | null): Task<void> {
  yield* resizeSpans(m, zone, start, nr);
  const f = m.state.profile.features;
  if (zone.name !== 'Device') {
    yield* m.step('memmap_init_range', memmapInitRange)(m, zone, start, start + nr);
    return;
  }
  const sparse = m.state.sparse;
  const pps = sparse.pagesPerSection;
  const end = start + nr;
  if (f.sectionTaintZoneDevice) {
    if (start % pps) sparse.deviceTainted.add(Math.floor(start / pps));
    if (end % pps) sparse.deviceTainted.add(Math.floor(end / pps));
  }
  // The serialize design: memmap_init_zone_device's place runs the whole range's init, pgmap
  // included, before mem_hotplug_done (kernel/memremap.ts memmapInitZoneDevice).
  if (f.zoneDeviceInitUnderLock) return;
  // memmap_init_zone's ZONE_DEVICE limit: "if (start_pfn == altmap->base_pfn) start_pfn += altmap->reserve".
  const from = altmap ? altmap.basePfn + altmap.reserve : start;
  if (f.zoneDeviceMemmap === 'memmap-init-zone') yield* m.step('memmap_init_range', memmapInitRange)(m, zone, from, end);
  else if (altmap) yield* m.step('memmap_init_range', memmapInitRange)(m, zone, from, altmap.basePfn + altmap.offset);
}

/**
 * memmap_init_range (MEMINIT_HOTPLUG; mm/page_alloc.c 5.3 and 6.1 memmap_init_zone / mm_init.c
 * 6.18.2 memmap_init_range; v4.19.1 memmap_init_zone) over [start, end), pageblock by pageblock:
 * __init_single_page, PG_reserved (PageOffline for hot-added RAM from 6.12), each pageblock's
 * migratetype through set_pfnblock_flags_mask (which asserts zone_spans_pfn), cond_resched.
 * Yields per pageblock: set_pfnblock_flags, the work, might_sleep. Leaves out the
 * overlap_memmap_init and deferred-init checks, which never apply to hotplug.
 */
export function* memmapInitRange(m: Machine, zone: Zone, start: Pfn, end: Pfn): Task<void> {
  const pb = m.state.sparse.pageblockNrPages;
  const device = zone.name === 'Device';
  const chunk = m.initChunkPages ?? pb;
  const offlineType = !device && m.state.profile.features.hotplugPageOffline ? encodePageType(pageLayoutVersionFor(m.state), 'offline') : null;
  for (let pfn = start; pfn < end;) {
    const e = Math.min(end, (Math.floor(pfn / chunk) + 1) * chunk);
    m.store.initPagesRange(pfn, e, zone.zoneIdx, zone.nid, offlineType === null, null);
    if (offlineType !== null) m.store.setPageTypeRange(pfn, e, offlineType);
    const blocks = pageblocksIn(zone, pfn, e, pb);
    if (blocks) yield blocks;
    yield { op: 'work', work: 'memmap-init', nrPages: e - pfn, node: zone.nid };
    if (blocks) yield { op: 'might_sleep', where: 'memmap_init_range (cond_resched)' };
    pfn = e;
  }
}

/** adjust_present_page_count (5.3: under pgdat_resize_lock): zone and node present pages. */
function* adjustPresentPageCount(m: Machine, zone: Zone, nrPages: number): Task<void> {
  const node = m.node(zone.nid);
  const locks = m.state.profile.features.hotplugSpanLocks;
  const resize = m.pgdatResizeLock.get(zone.nid) as SpinLock;
  if (locks) yield { op: 'spin_lock_irqsave', lock: resize };
  zone.presentPages += nrPages;
  node.nodePresentPages += nrPages;
  yield { op: 'access', kind: 'write', what: `zone ${zone.name} present_pages` };
  if (locks) yield { op: 'spin_unlock_irqrestore', lock: resize };
}

/**
 * online_pages (mm/memory_hotplug.c; 5.3, 6.1, 6.18.2 read) with mem_hotplug_lock held:
 * move_pfn_range_to_zone, then online_pages_range (generic_online_page frees the RAM pages:
 * managed), online_mem_sections and the present counts. Leaves out the notifier chain, the
 * buddy's view of the freed pages, zone_pcp_update and the kswapd/kcompactd start.
 */
export function* onlinePages(m: Machine, zone: Zone, start: Pfn, nr: number): Task<void> {
  yield* m.step('move_pfn_range_to_zone', movePfnRangeToZone)(m, zone, start, nr, null);
  // online_pages_range: generic_online_page frees the RAM pages (managed), online_mem_sections.
  freePagesCoreHotplug(m, start, start + nr);
  const ram = systemRamPages(m, start, start + nr);
  if (zone.managedPages !== null) zone.managedPages += ram;
  const sparse = m.state.sparse;
  sparse.setSectionsOnline(sparse.pfnToSectionNr(start), sparse.pfnToSectionNr(start + nr - 1) + 1, true);
  yield* adjustPresentPageCount(m, zone, ram);
}

/**
 * __free_pages_core (mm/page_alloc.c; v5.3, 6.1 and 6.12 read) on pages generic_online_page hands
 * to the buddy: PG_reserved cleared (6.11+ with MEMINIT_HOTPLUG: PageOffline cleared instead),
 * _refcount 0. Leaves out what the buddy then writes (PageBuddy and the free-list links of each
 * free block's head, page->private = order), which depends on the allocations that follow.
 */
function freePagesCoreHotplug(m: Machine, start: Pfn, end: Pfn): void {
  const cfg = pageConfigFor(m.state);
  if (m.state.profile.features.hotplugPageOffline) m.store.setPageTypeRange(start, end, PAGE_TYPE_NONE);
  else m.store.clearFlagsRange(start, end, (1 << (pageFlagBits(cfg).get('PG_reserved') ?? 0)) >>> 0);
  const ref = structPageLayout(cfg).fields.get('_refcount');
  if (ref) m.store.setWordsRange(start, end, [[ref.offset / 4, 0]]);
}

/**
 * mhp_init_memmap_on_memory: the vmemmap pages join the zone (present, never managed), marked
 * PG_vmemmap_self_hosted (6.12+: no longer PageOffline); sections they fill go online.
 */
function* mhpInitMemmapOnMemory(m: Machine, zone: Zone, start: Pfn, nr: number): Task<void> {
  yield* m.step('move_pfn_range_to_zone', movePfnRangeToZone)(m, zone, start, nr, null);
  const version = pageLayoutVersionFor(m.state);
  if (m.state.profile.features.hotplugPageOffline) m.store.setPageTypeRange(start, start + nr, clearPageType(version, 'offline', encodePageType(version, 'offline')));
  const bits = pageFlagBits(pageConfigFor(m.state));
  const bit = bits.get('PG_vmemmap_self_hosted') ?? bits.get('PG_owner_priv_1');
  if (bit === undefined) throw new Error('page flags: no PG_owner_priv_1 for PG_vmemmap_self_hosted');
  m.store.setFlagsRange(start, start + nr, (1 << bit) >>> 0);
  const pps = m.state.sparse.pagesPerSection;
  if (nr >= pps) m.state.sparse.setSectionsOnline(start / pps, Math.floor((start + nr) / pps), true);
}

/** page_to_nid + page_zone of the struct page at pfn (as its flags say): is it (nid, zone)? */
function pageLinksTo(m: Machine, pfn: Pfn, nid: Nid, zone: Zone): boolean {
  if (!m.store.readRecord(pfn, m.recordScratch)) return false;
  const view = m.recordScratchView;
  const layout = m.pageFlagsLayout;
  return recordFlagsField(view, layout, 'node') === nid && recordFlagsField(view, layout, 'zone') === zone.zoneIdx;
}

/**
 * A sysfs write of "offline": memory_block_offline (5.13+; v5.3 offline_pages). The vmemmap pages
 * of a memmap_on_memory block leave present first and the zone last. 0 or -errno (state unchanged
 * on failure).
 */
export function* offlineBlock(m: Machine, id: number): Task<number> {
  const b = m.blocks.get(id);
  if (!b || b.state !== 'online') return -EINVAL;
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  const rc = yield* offlineBlockLocked(m, b);
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return rc;
}

function* offlineBlockLocked(m: Machine, b: MemoryBlock): Task<number> {
  const zoneName = b.validZones;
  if (zoneName === null || zoneName === 'none') return -EINVAL; // mem->zone NULL: "multizone range"
  const zone = m.zoneByName(b.nid, zoneName);
  const f = m.state.profile.features;
  const nrVmemmap = m.vmemmapPages.get(b.id) ?? 0;
  const whole = f.memmapOnMemory !== 'none' && f.memmapOnMemoryForce; // 6.6+: one mem_hotplug_begin
  if (whole) yield { op: 'down_write', lock: m.memHotplugLock };
  if (nrVmemmap) yield* adjustPresentPageCount(m, zone, -nrVmemmap);
  if (!whole) yield { op: 'down_write', lock: m.memHotplugLock };
  const rc = yield* m.step('offline_pages', offlinePages)(m, b, zone, b.startPfn + nrVmemmap, b.nrPages - nrVmemmap);
  if (!whole) yield { op: 'up_write', lock: m.memHotplugLock };
  if (rc !== 0) {
    if (nrVmemmap) yield* adjustPresentPageCount(m, zone, nrVmemmap);
  } else {
    if (nrVmemmap) yield* mhpDeinitMemmapOnMemory(m, zone, b.startPfn, nrVmemmap);
    b.state = 'offline';
    b.validZones = null;
    m.blockChanged(b.id);
  }
  if (whole) yield { op: 'up_write', lock: m.memHotplugLock };
  return rc;
}

/**
 * offline_pages (mm/memory_hotplug.c; 5.3, 6.1, 6.18.2 read) with mem_hotplug_lock held: EBUSY
 * when migration cannot empty the block (the scenario says which blocks hold unmovable pages);
 * else offline_mem_sections, the counts, and remove_pfn_range_from_zone (5.5+: poison, shrink).
 * Leaves out isolation, migration, dissolve_free_huge_pages and the notifier chain.
 */
export function* offlinePages(m: Machine, b: MemoryBlock, zone: Zone, start: Pfn, nr: number): Task<number> {
  const ram = systemRamPages(m, start, start + nr);
  if (ram !== nr && m.state.profile.features.offlineRefusesHoles) return -EINVAL; // "memory holes"
  if (m.unmovableBlocks.has(b.id) && zone.name !== 'Movable') return -EBUSY; // "unmovable page"
  if (!m.hotAdded.has(b.id) && holdsReservedPages(m, zone, start, start + nr, ram)) return -EBUSY; // PageReserved: not movable
  const sparse = m.state.sparse;
  sparse.setSectionsOnline(sparse.pfnToSectionNr(start), sparse.pfnToSectionNr(start + nr - 1) + 1, false);
  if (zone.managedPages !== null) zone.managedPages -= ram;
  yield* adjustPresentPageCount(m, zone, -ram);
  if (m.state.profile.features.shrinkAtOffline) yield* m.step('remove_pfn_range_from_zone', removePfnRangeFromZone)(m, zone, start, start + nr, 'online');
  return 0;
}

/**
 * Boot memory still holding memblock allocations (PG_reserved pages: kernel image, memmap, page
 * tables) cannot be isolated, so offlining it fails with EBUSY. Where memblock.reserved is known
 * (a machine file's `reserved:`), a range holds such pages if it meets one. Otherwise the zone's
 * present - managed pages (at boot) must stay on its online boot memory: the offline that would
 * leave less boot memory online than that fails.
 */
function holdsReservedPages(m: Machine, zone: Zone, start: Pfn, end: Pfn, ram: number): boolean {
  const reserved = m.state.spec.reserved;
  const page = m.pageBytes;
  if (reserved !== null) return reserved.some((r) => r.base / page < end && (r.base + r.size) / page > start);
  const held = m.bootReservedPages.get(zone);
  if (held === undefined || held === 0) return false;
  let onlineBoot = 0;
  for (const b of m.blocks.values()) {
    if (m.hotAdded.has(b.id) || b.state !== 'online' || b.nid !== zone.nid || b.validZones !== zone.name) continue;
    if (!m.state.sparse.runOf(b.startSectionNr)?.online) continue;
    onlineBoot += systemRamPages(m, b.startPfn, b.startPfn + b.nrPages);
  }
  return onlineBoot - ram < held;
}

/**
 * remove_pfn_range_from_zone (mm/memory_hotplug.c 5.5+, read in 6.1 and 6.18.2) and, for v4.19
 * and v5.3, __remove_zone (the same pair of calls, read in 4.19.1 and 5.3.0), after [start, end)
 * left the zone: the offlined memmap is poisoned again (5.5+, search "online"), ZONE_DEVICE
 * returns before any shrinking (5.5+: "Zone shrinking code cannot properly deal with
 * ZONE_DEVICE"), then under pgdat_resize_lock (before 5.14) shrink_zone_span and the node's span
 * (update_pgdat_span 5.4+, shrink_pgdat_span before). Leaves out clear_zone_contiguous.
 */
export function* removePfnRangeFromZone(m: Machine, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid'): Task<void> {
  const f = m.state.profile.features;
  if (search === 'online' && m.pageInitPoisoning && f.poisonAtOffline) {
    forEachSectionPiece(m.state.sparse.pagesPerSection, start, end, (sec, s, e) => m.store.poisonRange(s, e));
    yield { op: 'access', kind: 'write', what: `memmap [${start}, ${end})` };
  }
  if (f.shrinkAtOffline && zone.name === 'Device') return;
  const locks = f.hotplugSpanLocks;
  const resize = m.pgdatResizeLock.get(zone.nid) as SpinLock;
  if (locks) yield { op: 'spin_lock_irqsave', lock: resize };
  yield* m.step('shrink_zone_span', shrinkZoneSpan)(m, zone, start, end, search);
  const node = m.node(zone.nid);
  if (f.pgdatSpan === 'shrink-pgdat-span') yield* m.step('shrink_pgdat_span', shrinkPgdatSpan)(m, node, start, end);
  else yield* m.step('update_pgdat_span', updatePgdatSpan)(m, node);
  if (locks) yield { op: 'spin_unlock_irqrestore', lock: resize };
}

/** mhp_deinit_memmap_on_memory: sections the vmemmap pages fill go offline; the pages leave the zone (page_zone of the first). */
function* mhpDeinitMemmapOnMemory(m: Machine, zone: Zone, start: Pfn, nr: number): Task<void> {
  const pps = m.state.sparse.pagesPerSection;
  if (nr >= pps) m.state.sparse.setSectionsOnline(start / pps, Math.floor((start + nr) / pps), false);
  yield { op: 'access', kind: 'read', what: `struct page ${start}`, fn: 'mhp_deinit_memmap_on_memory' };
  if (m.state.profile.features.shrinkAtOffline) yield* m.step('remove_pfn_range_from_zone', removePfnRangeFromZone)(m, zone, start, start + nr, 'online');
}

/** pfn_to_nid of a struct page (its flags' node field; poison reads as no node of the machine). */
function pageNid(m: Machine, pfn: Pfn): number {
  if (!m.store.readRecord(pfn, m.recordScratch)) return -1;
  return recordFlagsField(m.recordScratchView, m.pageFlagsLayout, 'node');
}

/**
 * Whether find_smallest/biggest_section_pfn and the hole loops may read pfn's struct page: from
 * 5.5 only an online section's (pfn_to_online_page, search "online"); v5.3 any pfn_valid pfn;
 * v4.19 any valid_section (its loops go a section at a time).
 */
function searchable(m: Machine, p: Pfn, search: 'online' | 'valid'): boolean {
  const sparse = m.state.sparse;
  if (search === 'online') return pfnToOnlinePage(m, p) && sparse.pfnValid(p);
  if (m.state.profile.features.shrinkSearchGranule === 'section') return sparse.runOf(sparse.pfnToSectionNr(p))?.hasMemMap === true;
  return sparse.pfnValid(p);
}

/**
 * shrink_zone_span (mm/memory_hotplug.c) after [start, end) left the zone, the zone span seqlock
 * held for writing before 5.14. When the range was the zone's first (last) part,
 * find_smallest_section_pfn (find_biggest_section_pfn) reads struct pages upwards (downwards) for
 * the first one of this node and zone: a section at a time on valid sections in v4.19 (4.19.1),
 * a subsection at a time on pfn_valid pfns in v5.3 (5.3.0), on online pfns only from 5.5
 * (pfn_to_online_page; 6.1 and 6.18.2). Before 5.5 a last loop ("only holes", 4.19.1 and 5.3.0)
 * walks the zone from its old start reading page_zone of each valid section's (v4.19) or
 * subsection's (v5.3) first pfn, and empties the zone only when no page of it is left outside the
 * range (v4.19 skips only pfn == start_pfn: it shrinks one section per call); 5.5+ empties it
 * when the search finds nothing. Yields: the seqlock, each struct page read.
 */
export function* shrinkZoneSpan(m: Machine, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid'): Task<void> {
  const nid = zone.nid;
  const f = m.state.profile.features;
  const seq = m.seqlockOf(zone);
  const locks = f.hotplugSpanLocks;
  if (locks) yield { op: 'write_seqlock', lock: seq };
  const step = f.shrinkSearchGranule === 'section' ? m.state.sparse.pagesPerSection : m.state.sparse.pagesPerSubsection;
  const zoneStart = zone.zoneStartPfn;
  const zEnd = zoneEnd(zone);
  const empty = (): void => {
    zone.zoneStartPfn = 0;
    zone.spannedPages = 0;
  };
  if (zoneStart === start) {
    let pfn = 0;
    for (let p = end; p < zEnd; p += step) {
      if (!searchable(m, p, search)) continue;
      yield { op: 'access', kind: 'read', what: `struct page ${p}`, fn: 'find_smallest_section_pfn' };
      if (pageLinksTo(m, p, nid, zone)) {
        pfn = p;
        break;
      }
    }
    m.spanUpdate(nid, 1);
    if (pfn) {
      zone.spannedPages = zEnd - pfn;
      zone.zoneStartPfn = pfn;
    } else if (!f.shrinkHoleLoop) empty();
  } else if (zEnd === end) {
    let pfn = 0;
    for (let p = start - 1; p >= zoneStart; p -= step) {
      if (!searchable(m, p, search)) continue;
      yield { op: 'access', kind: 'read', what: `struct page ${p}`, fn: 'find_biggest_section_pfn' };
      if (pageLinksTo(m, p, nid, zone)) {
        pfn = p;
        break;
      }
    }
    m.spanUpdate(nid, 1);
    if (pfn) zone.spannedPages = pfn - zoneStart + 1;
    else if (!f.shrinkHoleLoop) empty();
  } else m.spanUpdate(nid, 1);
  if (f.shrinkHoleLoop) {
    let left = false;
    for (let p = zoneStart; p < zEnd; p += step) {
      if (!searchable(m, p, search)) continue;
      yield { op: 'access', kind: 'read', what: `struct page ${p}`, fn: 'shrink_zone_span (only holes)' };
      if (!pageLinksTo(m, p, nid, zone)) continue;
      if (f.shrinkSearchGranule === 'section' ? p === start : p >= start && p < end) continue;
      left = true;
      break;
    }
    if (!left) empty();
  }
  if (locks) yield { op: 'write_sequnlock', lock: seq };
}

/** The node's span write that ends a span update: the checkers read it. */
function* nodeSpanWritten(m: Machine, nid: Nid): Task<void> {
  m.spanUpdate(nid, -1);
  yield { op: 'access', kind: 'write', what: `node ${nid} span` };
}

/**
 * update_pgdat_span (mm/memory_hotplug.c 5.4+, 00d6c019b5bc; read in 6.1 and 6.18.2): the node
 * spans from its first zone's start to its last zone's end, from the zones' spans alone (no
 * struct page is read). Yields the node span write.
 */
export function* updatePgdatSpan(m: Machine, node: PglistData): Task<void> {
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
  yield* nodeSpanWritten(m, node.nodeId);
}

/**
 * shrink_pgdat_span (mm/memory_hotplug.c before 5.4; read in 4.19.1 and 5.3.0) after [start, end)
 * left the node: as shrink_zone_span with no zone, pfn_to_nid of each struct page searched
 * (find_smallest/biggest_section_pfn with zone NULL), then the "only holes" loop over the node's
 * old span (skipping pfn == start in v4.19, the range in v5.3). Yields each struct page read and
 * the node span write.
 */
export function* shrinkPgdatSpan(m: Machine, node: PglistData, start: Pfn, end: Pfn): Task<void> {
  const nid = node.nodeId;
  const f = m.state.profile.features;
  const section = f.shrinkSearchGranule === 'section';
  const step = section ? m.state.sparse.pagesPerSection : m.state.sparse.pagesPerSubsection;
  const ns = node.nodeStartPfn;
  const ne = ns + node.nodeSpannedPages;
  // Each loop: a searchable pfn's struct page is read (a yield), then its node compared (written
  // out in each loop rather than as a generator per pfn: the holes loop reads millions of pfns in
  // the time driver's 3 TiB namespaces).
  const read = (p: Pfn): Yield => ({ op: 'access', kind: 'read', what: `struct page ${p}`, fn: 'shrink_pgdat_span' });
  if (ns === start) {
    for (let p = end; p < ne; p += step) {
      if (!searchable(m, p, 'valid')) continue;
      yield read(p);
      if (pageNid(m, p) !== nid) continue;
      node.nodeStartPfn = p;
      node.nodeSpannedPages = ne - p;
      break;
    }
  } else if (ne === end) {
    for (let p = start - 1; p >= ns; p -= step) {
      if (!searchable(m, p, 'valid')) continue;
      yield read(p);
      if (pageNid(m, p) !== nid) continue;
      node.nodeSpannedPages = p - ns + 1;
      break;
    }
  }
  let left = false;
  for (let p = ns; p < ne; p += step) {
    if (!searchable(m, p, 'valid')) continue;
    yield read(p);
    if (pageNid(m, p) !== nid) continue;
    if (section ? p === start : p >= start && p < end) continue;
    left = true;
    break;
  }
  if (!left) {
    node.nodeStartPfn = 0;
    node.nodeSpannedPages = 0;
  }
  yield* nodeSpanWritten(m, nid);
}

/**
 * remove_memory(start, size) (try_remove_memory): every block must be offline (-EBUSY otherwise,
 * nothing changed); a memmap_on_memory range only in the granularity it was added (5.13-6.7,
 * -EINVAL); before 5.5 the zone spans shrink here (__remove_zone, with the pfn_valid search);
 * then the blocks go, sparse_remove_section frees the sections and their memmap, the resource
 * is released and try_offline_node may take the node offline.
 *
 * A range nothing added (6.1): walk_memory_blocks finds no block, so nothing refuses it;
 * remove_memory_block_devices WARN_ON_ONCE(!mem) for each missing block and __remove_section
 * WARN_ON_ONCE(!valid_section(ms)) for each section without a memmap, each skipped;
 * release_mem_region_adjustable finds no resource; nid stays NUMA_NO_NODE (no try_offline_node);
 * the return is 0. Callers (ACPI, dax/kmem, virtio-mem) only remove what they added.
 */
export function* removeMemory(m: Machine, startBytes: PhysAddr, sizeBytes: Bytes): Task<number> {
  if (startBytes % m.blockBytes !== 0 || sizeBytes % m.blockBytes !== 0 || sizeBytes === 0) return -EINVAL;
  const start = startBytes / m.pageBytes;
  const nr = sizeBytes / m.pageBytes;
  const ids: number[] = [];
  for (let id = start / m.pagesPerBlock; id < (start + nr) / m.pagesPerBlock; id++) ids.push(id);
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  // check_memblock_offlined_cb: "Memory block N is not offline"; the last block's nid is kept.
  if (ids.some((id) => m.blocks.get(id)?.state === 'online')) {
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return -EBUSY;
  }
  let nid: Nid | null = null;
  for (const id of ids) nid = m.blocks.get(id)?.nid ?? nid;
  const f = m.state.profile.features;
  if (f.memmapOnMemory === 'single-block' && memmapOnMemoryMode(m) !== 'off' && ids.some((id) => m.vmemmapPages.has(id)) && sizeBytes !== m.blockBytes) {
    m.state.log.warn(`Refuse to remove ${hexAlt(startBytes)} - ${hexAlt(startBytes + sizeBytes)},wrong granularity`);
    yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
    return -EINVAL;
  }
  // remove_memory_block_devices, then mem_hotplug_begin and arch_remove_memory.
  const groups = new Set<number>();
  for (const id of ids) {
    if (!m.blocks.has(id)) m.warnOnce('drivers/base/memory.c remove_memory_block_devices', `WARN_ON_ONCE(!mem): no memory block ${id} to remove`);
    const g = m.groupOf.get(id);
    if (g !== undefined) groups.add(g);
    m.blocks.delete(id);
    m.hotAdded.delete(id);
    m.blockChanged(id);
    m.groupOf.delete(id);
    m.vmemmapPages.delete(id);
  }
  yield { op: 'down_write', lock: m.memHotplugLock };
  const pps = m.state.sparse.pagesPerSection;
  if (!f.shrinkAtOffline) {
    // v5.3 arch_remove_memory (x86): page_zone(pfn_to_page(start)) picks the zone to shrink; it
    // reads the first struct page, which is still poisoned if the memory was never onlined.
    yield { op: 'access', kind: 'read', what: `struct page ${start}`, fn: 'arch_remove_memory' };
  }
  for (let sec = start / pps; sec < (start + nr) / pps; sec++) {
    if (!f.shrinkAtOffline) {
      // __remove_pages -> __remove_section -> __remove_zone, a section at a time: shrink each zone
      // the section still links to, then the section goes (v4.19.1 and 5.3.0 read).
      const s = sec * pps;
      const e = s + pps;
      for (const node of m.state.nodes) {
        for (const zone of node.zones) {
          if (zone.spannedPages && s < zoneEnd(zone) && e > zone.zoneStartPfn) {
            yield* m.step('remove_pfn_range_from_zone', removePfnRangeFromZone)(m, zone, Math.max(s, zone.zoneStartPfn), Math.min(e, zoneEnd(zone)), 'valid');
          }
        }
      }
    }
    yield { op: 'access', kind: 'write', what: `mem_section[${sec}]` };
    if (!m.state.sparse.runOf(sec)?.hasMemMap) {
      m.warnOnce('mm/memory_hotplug.c __remove_section', `WARN_ON_ONCE(!valid_section(ms)): section ${sec} has no memmap`);
      continue;
    }
    m.state.sparse.removeSections(sec, sec + 1);
    m.store.depopulateSection(sec);
  }
  releaseMemRegionAdjustable(m, startBytes, startBytes + sizeBytes - 1);
  if (nid !== null) yield* tryOfflineNode(m, nid);
  yield { op: 'up_write', lock: m.memHotplugLock };
  // The ACPI memory device goes with its last range: memory_group_unregister.
  for (const g of groups) {
    if (!m.groups.get(g)?.dynamic && ![...m.groupOf.values()].includes(g)) m.groups.delete(g);
  }
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  return 0;
}

/** release_mem_region_adjustable: cut [start, end] out of the hot-added resources (splitting one if needed). */
function releaseMemRegionAdjustable(m: Machine, start: PhysAddr, end: PhysAddr): void {
  const out: HotplugResource[] = [];
  for (const r of m.resources) {
    if (r.end < start || r.start > end) out.push(r);
    else {
      if (r.start < start) out.push({ ...r, end: start - 1 });
      if (r.end > end) out.push({ ...r, start: end + 1 });
    }
  }
  m.resources.splice(0, m.resources.length, ...out);
}

/**
 * try_offline_node: a node with no memory left and no CPUs goes offline. v5.3 walks the node's
 * span by section and reads pfn_to_nid of each present one (the struct page: poisoned if never
 * onlined); the fix asks node_spanned_pages and the memory blocks' nid.
 */
function* tryOfflineNode(m: Machine, nid: Nid): Task<void> {
  const node = m.node(nid);
  if (m.state.profile.features.tryOfflineNode === 'section-walk') {
    const pps = m.state.sparse.pagesPerSection;
    const end = node.nodeStartPfn + node.nodeSpannedPages;
    for (let pfn = node.nodeStartPfn; pfn < end; pfn += pps) {
      if (!m.state.sparse.runOf(m.state.sparse.pfnToSectionNr(pfn))?.present) continue;
      yield { op: 'access', kind: 'read', what: `struct page ${pfn}`, fn: 'try_offline_node' };
      if (!m.store.readRecord(pfn, m.recordScratch)) continue;
      if (recordFlagsField(m.recordScratchView, m.pageFlagsLayout, 'node') !== nid) continue;
      return;
    }
  } else {
    if (node.nodeSpannedPages) return;
    for (const b of m.blocks.values()) if (b.nid === nid) return;
  }
  if (node.cpus > 0) return; // check_cpu_on_node
  node.online = false; // node_set_offline + unregister_one_node
  yield { op: 'access', kind: 'write', what: `node_states[N_ONLINE] ${nid}` };
}
