// The running machine the kernel tasks act on: the booted state (nodes, zones, sections, the
// memmap store), memory blocks, the hotplug locks, memory groups, hot-added resources,
// dev_pagemaps and NVDIMM regions, and the design's replaced steps.
import type { ZoneName } from '../arch/arch.js';
import type { MemmapStore } from '../memmap/store.js';
import type { Bytes, Nid, PhysAddr, Pfn } from '../units.js';
import type { DevPagemap } from './dev_pagemap.js';
import { Mutex, PercpuRwSem, SeqLock, SpinLock } from './locks.js';
import { pageConfigFor, pageWriterFor } from './memmap_source.js';
import type { MemoryGroup } from './memory.js';
import type { MemoryBlock, MemoryBlocks } from './memory_block.js';
import type { BootState } from './mm_init.js';
import type { PglistData, Zone } from './mmzone.js';
import type { NvdimmRegion } from './nd.js';
import { pageFlagsLayout } from './page_layout.js';
import type { Task } from './task.js';

/** What hot-adds a range: an ACPI memory device (a pc-dimm) or a virtio-mem device. */
export type HotplugDevice =
  | { readonly kind: 'dimm' }
  /** A virtio-mem device `name` whose memory region (its "virtioN" resource) is [regionStart, + regionBytes). */
  | { readonly kind: 'virtio-mem'; readonly name: string; readonly regionStart?: PhysAddr; readonly regionBytes?: Bytes };

/** A hot-added iomem resource ("System RAM", "System RAM (virtio_mem)"), bytes [start, end]. */
/** A zone's span and counts at the end of boot. */
export interface ZoneAtBoot {
  readonly zoneStartPfn: Pfn;
  readonly spannedPages: number;
  readonly presentPages: number;
  /** free_area_init_core's managed_pages (the model's estimate; null where dma_reserve is unknown). */
  readonly managedPages: number | null;
}

export interface HotplugResource {
  start: PhysAddr;
  end: PhysAddr;
  readonly name: string;
  /** The device resource it sits under (a virtio-mem device's region), if any. */
  readonly parent: string | null;
}

/** A virtio-mem device: its dynamic memory group and its region (the "virtioN" resource). */
export interface VirtioMemDevice {
  readonly name: string;
  readonly group: MemoryGroup;
  readonly regionStart: PhysAddr;
  readonly regionBytes: Bytes;
}

export type MemmapInitZoneDeviceStep = (m: Machine, zone: Zone, pgmap: DevPagemap, refcount: number) => Task<void>;
export type ShrinkZoneSpanStep = (m: Machine, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid') => Task<void>;

/** The steps a design may replace. */
export interface DesignSteps {
  memmap_init_zone_device: MemmapInitZoneDeviceStep;
  shrink_zone_span: ShrinkZoneSpanStep;
}

/** A machine that memory can be hot-added to, onlined and offlined. */
export class Machine {
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
  /** Registered memory groups by id (memory_group_register: the lowest free id). */
  readonly groups = new Map<number, MemoryGroup>();
  /** The memory group of each hot-added block that has one. */
  readonly groupOf = new Map<number, number>();
  /** Blocks that came by add_memory (all of a hot-added block is memory). */
  readonly hotAdded = new Set<number>();
  /** nr_vmemmap_pages (altmap->free) of blocks whose memmap lives on themselves (memmap_on_memory). */
  readonly vmemmapPages = new Map<number, number>();
  /** Hot-added iomem resources, in the order they were requested. */
  readonly resources: HotplugResource[] = [];
  /** virtio-mem devices by name. */
  readonly virtioMem = new Map<string, VirtioMemDevice>();
  /**
   * Pages per iteration of the memmap init loops, when a driver wants coarser steps than the
   * kernel's pageblock (the time driver on terabytes: a section at a time; the same pages are
   * written, the pageblock assertions and cond_resched points are taken once per chunk). Null:
   * the kernel's pageblock.
   */
  initChunkPages: number | null = null;
  /** The design's replacements of named steps (kernel/steps.ts); empty: the kernel's own. */
  steps: Partial<DesignSteps> = {};
  /** Live dev_pagemaps (memremap_pages), in the order they were mapped. */
  readonly pgmaps: DevPagemap[] = [];
  /** Counter behind each pgmap's address. */
  pgmapSerial = 0;
  /** Namespace uuids handed out so far (the next comes from this count). */
  uuidSerial = 0;
  /** NVDIMM regions and their namespaces (nvdimmRegions builds them from the machine's pmem). */
  nvdimm: NvdimmRegion[] | null = null;
  /** The iomem resources of device-dax instances ("daxX.Y"), bytes [start, end]. */
  readonly resourcesDax = new Map<string, { start: PhysAddr; end: PhysAddr }>();
  /**
   * mmsim's own bookkeeping, no kernel field: per node, the tasks between their update of a zone's
   * span and of the node's (resize_zone_range .. resize_pgdat_range, shrink_zone_span ..
   * update_pgdat_span). Checkers judge a zone against its node's span only when none is: 6.1 runs
   * the vmemmap pages' move_pfn_range_to_zone under no lock a checker could see (memmap_on_memory).
   */
  readonly spanUpdates = new Map<Nid, number>();

  /** A task starts (+1) or ends (-1) updating a zone's and its node's spans. */
  spanUpdate(nid: Nid, delta: 1 | -1): void {
    const n = (this.spanUpdates.get(nid) ?? 0) + delta;
    if (n) this.spanUpdates.set(nid, n);
    else this.spanUpdates.delete(nid);
  }

  /** The WARN_ON_ONCE sites that have fired (each warns once per boot). */
  readonly warnedOnce = new Set<string>();

  /** WARN_ON_ONCE(cond) at `site` when cond holds: the splat, once (its CPU, PID, line and trace are not modelled). */
  warnOnce(site: string, why: string): void {
    if (this.warnedOnce.has(site)) return;
    this.warnedOnce.add(site);
    this.state.log.omit(`WARNING: CPU: N PID: N at ${site}`, `${why}; the splat's CPU, PID, line and call trace depend on the running system`);
  }

  constructor(
    readonly state: BootState,
    readonly store: MemmapStore,
    readonly boot: MemoryBlocks,
  ) {
    this.blocks = new Map(boot.blocks.map((b) => [b.id, b]));
    for (const n of state.nodes) this.pgdatResizeLock.set(n.nodeId, new SpinLock(`node ${n.nodeId} pgdat_resize_lock`));
    this.pageConfig = pageConfigFor(state);
    this.pageFlagsLayout = pageFlagsLayout(this.pageConfig);
    this.recordScratch = new Uint8Array(pageWriterFor(state).recordBytes);
    for (const n of state.nodes) for (const z of n.zones) if (z.managedPages !== null) this.bootReservedPages.set(z, z.presentPages - z.managedPages);
    for (const n of state.nodes)
      for (const z of n.zones) this.bootZones.set(z, { zoneStartPfn: z.zoneStartPfn, spannedPages: z.spannedPages, presentPages: z.presentPages, managedPages: z.managedPages });
  }

  /** The struct page configuration of this kernel (one object, so layouts memoised on it are shared). */
  readonly pageConfig: ReturnType<typeof pageConfigFor>;
  /** The page-flags bit layout of this kernel and config, for reading struct pages. */
  readonly pageFlagsLayout: ReturnType<typeof pageFlagsLayout>;
  /** One struct page record, reused by every read of the memmap. */
  readonly recordScratch: Uint8Array;
  /** present - managed of each zone at boot: pages memblock kept (PG_reserved), never freed to the buddy. */
  readonly bootReservedPages = new Map<Zone, number>();
  /** Each zone's span and counts as boot left them (printers tell boot's share of managed from hotplug's by them). */
  readonly bootZones = new Map<Zone, ZoneAtBoot>();

  get pageBytes(): number {
    return 2 ** this.state.arch.pageShift;
  }

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

  /** memory_group_register: the lowest free id. */
  registerGroup(nid: Nid, dynamic: boolean, pages: number): MemoryGroup {
    let id = 0;
    while (this.groups.has(id)) id++;
    const g = { id, nid, dynamic, pages };
    this.groups.set(id, g);
    return g;
  }

  groupOfBlock(id: number): MemoryGroup | null {
    const g = this.groupOf.get(id);
    return g === undefined ? null : (this.groups.get(g) ?? null);
  }

  /** present_kernel_pages and present_movable_pages of a group (adjust_present_page_count's counters). */
  groupPresent(g: MemoryGroup): { kernel: number; movable: number } {
    let kernel = 0;
    let movable = 0;
    for (const [id, gid] of this.groupOf) {
      if (gid !== g.id) continue;
      const b = this.blocks.get(id);
      if (b?.state !== 'online') continue;
      if (b.validZones === 'Movable') movable += b.nrPages;
      else kernel += b.nrPages;
    }
    return { kernel, movable };
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
