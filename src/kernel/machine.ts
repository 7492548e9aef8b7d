// The running machine the kernel tasks act on: the booted state (nodes, zones, sections, the
// memmap store), memory blocks, the hotplug locks, memory groups, hot-added resources,
// dev_pagemaps and NVDIMM regions, and the design's replaced steps.
import type { ZoneName } from '../arch/arch.js';
import type { MemmapStore } from '../memmap/store.js';
import type { Bytes, Nid, PhysAddr, Pfn } from '../units.js';
import { nextEpoch } from './sparse.js';
import type { DevPagemap, VmemAltmap } from './dev_pagemap.js';
import { Mutex, PercpuRwSem, SeqLock, SpinLock } from './locks.js';
import { pageConfigFor, pageWriterFor } from './memmap_source.js';
import type { MemoryGroup } from './memory.js';
import type { MemoryBlock, MemoryBlocks } from './memory_block.js';
import type { BootState } from './mm_init.js';
import type { PglistData, Zone } from './mmzone.js';
import type { NvdimmRegion } from './nd.js';
import { pageFlagsLayout } from './page_layout.js';
import type { Task } from './task.js';

/** A change of Machine.blocksEpoch and the block it touched. */
export interface BlockLogEntry {
  readonly epoch: number;
  readonly id: number;
}

/** Machine.blockLog keeps at least this many entries. */
const BLOCK_LOG_KEEP = 4096;

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

export interface AddParams {
  readonly group: MemoryGroup | null;
  /** MHP_MEMMAP_ON_MEMORY requested by the driver. */
  readonly memmapOnMemory: boolean;
  /** The iomem resource's name, and the device resource it sits under. */
  readonly resource: string;
  readonly parent: string | null;
}

/** What arch_add_memory and sparse_add_section are asked to map: RAM (memmap from node memory or self-hosted) or a pgmap's range. */
export interface ArchAddParams {
  /** The pgmap's altmap (device memory with --map=dev), whose free pfns hold the memmap. */
  readonly altmap: VmemAltmap | null;
  /** ZONE_DEVICE memory (memremap_pages): sections may be shared, sub-section maps, no memory blocks. */
  readonly device: boolean;
  /** RAM whose memmap lives on the block itself (memmap_on_memory). */
  readonly selfHosted: boolean;
}

// The steps of the hotplug and memremap paths a design may replace, one type each (kernel/steps.ts
// says what each models, which lock it is entered with and where it yields).
export type AddMemoryResourceStep = (m: Machine, nid: Nid, start: PhysAddr, size: Bytes, params: AddParams) => Task<number>;
export type ArchAddMemoryStep = (m: Machine, nid: Nid, start: Pfn, end: Pfn, params: ArchAddParams) => Task<number>;
export type SparseAddSectionStep = (m: Machine, nid: Nid, sec: number, start: Pfn, end: Pfn, params: ArchAddParams) => Task<number>;
export type MovePfnRangeToZoneStep = (m: Machine, zone: Zone, start: Pfn, nr: number, altmap: VmemAltmap | null) => Task<void>;
export type MemmapInitRangeStep = (m: Machine, zone: Zone, start: Pfn, end: Pfn) => Task<void>;
export type OnlinePagesStep = (m: Machine, zone: Zone, start: Pfn, nr: number) => Task<void>;
export type OfflinePagesStep = (m: Machine, block: MemoryBlock, zone: Zone, start: Pfn, nr: number) => Task<number>;
export type RemovePfnRangeFromZoneStep = (m: Machine, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid') => Task<void>;
export type ShrinkZoneSpanStep = (m: Machine, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid') => Task<void>;
export type UpdatePgdatSpanStep = (m: Machine, node: PglistData) => Task<void>;
export type ShrinkPgdatSpanStep = (m: Machine, node: PglistData, start: Pfn, end: Pfn) => Task<void>;
export type MemremapPagesStep = (m: Machine, pgmap: DevPagemap) => Task<number>;
export type PagemapRangeStep = (m: Machine, pgmap: DevPagemap, zone: Zone) => Task<number>;
export type MemmapInitZoneDeviceStep = (m: Machine, zone: Zone, pgmap: DevPagemap, refcount: number) => Task<void>;
export type MemunmapPagesStep = (m: Machine, pgmap: DevPagemap) => Task<number>;
export type ZoneWalkerStep = (m: Machine, zone: Zone) => Task<number>;
export type RangeWalkerStep = (m: Machine, start: Pfn, end: Pfn) => Task<number>;
export type PfnWalkerStep = (m: Machine, pfn: Pfn) => Task<number>;

/** The steps a design may replace, by the kernel function each models. */
export interface DesignSteps {
  add_memory_resource: AddMemoryResourceStep;
  arch_add_memory: ArchAddMemoryStep;
  sparse_add_section: SparseAddSectionStep;
  move_pfn_range_to_zone: MovePfnRangeToZoneStep;
  memmap_init_range: MemmapInitRangeStep;
  online_pages: OnlinePagesStep;
  offline_pages: OfflinePagesStep;
  remove_pfn_range_from_zone: RemovePfnRangeFromZoneStep;
  shrink_zone_span: ShrinkZoneSpanStep;
  update_pgdat_span: UpdatePgdatSpanStep;
  shrink_pgdat_span: ShrinkPgdatSpanStep;
  memremap_pages: MemremapPagesStep;
  pagemap_range: PagemapRangeStep;
  memmap_init_zone_device: MemmapInitZoneDeviceStep;
  memunmap_pages: MemunmapPagesStep;
  compaction: ZoneWalkerStep;
  kpageflags_read: RangeWalkerStep;
  memory_failure: PfnWalkerStep;
  set_zone_contiguous: ZoneWalkerStep;
  test_pages_in_a_zone: RangeWalkerStep;
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
  /** Changes with every edit of `blocks` or `hotAdded` (blockChanged), never to an earlier value: a cache key for whole-state checkers. */
  blocksEpoch = nextEpoch();
  /**
   * The block each change of blocksEpoch touched, with the epoch it set, oldest first (the last
   * BLOCK_LOG_KEEP to 2 * BLOCK_LOG_KEEP of them; id -1: none, the machine as booted), so that a
   * checker that knew the blocks at one epoch catches up by the blocks touched since instead of
   * walking all of them (debug.ts zoneSpanChecker). Restored with the machine by explore's
   * snapshots; epochs are never reused, so an epoch found here is one this history went through.
   */
  readonly blockLog: BlockLogEntry[] = [Object.freeze({ epoch: this.blocksEpoch, id: -1 })];

  /** Memory block `id` was added, onlined, offlined or removed: a new blocksEpoch, logged with the block. */
  blockChanged(id: number): void {
    this.blocksEpoch = nextEpoch();
    this.blockLog.push(Object.freeze({ epoch: this.blocksEpoch, id }));
    if (this.blockLog.length > 2 * BLOCK_LOG_KEEP) this.blockLog.splice(0, BLOCK_LOG_KEEP);
  }
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

  /**
   * Run `fn` with the init loops a section at a time, unless a driver chose a chunk: for work
   * that runs in order, where no other task can see a state between two pageblocks (the run
   * driver, boot's namespace probes, explore's setup), so a TiB namespace costs O(sections).
   */
  inOrder<T>(fn: () => T): T {
    const before = this.initChunkPages;
    this.initChunkPages ??= this.state.sparse.pagesPerSection;
    try {
      return fn();
    } finally {
      this.initChunkPages = before;
    }
  }
  /** The design's replacements of named steps (kernel/steps.ts); empty: the kernel's own. */
  steps: Partial<DesignSteps> = {};

  /** The design's version of step k, or the kernel's own (own). */
  step<K extends keyof DesignSteps>(k: K, own: DesignSteps[K]): DesignSteps[K] {
    return this.steps[k] ?? own;
  }
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
    // Never below 0: a design's step may leave out its half of the pair.
    const n = (this.spanUpdates.get(nid) ?? 0) + delta;
    if (n > 0) this.spanUpdates.set(nid, n);
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
    this.blocks = new Map();
    for (const b of boot.blocks) this.blocks.set(b.id, b);
    for (const n of state.nodes) this.pgdatResizeLock.set(n.nodeId, new SpinLock(`node ${n.nodeId} pgdat_resize_lock`));
    this.pageConfig = pageConfigFor(state);
    this.pageFlagsLayout = pageFlagsLayout(this.pageConfig);
    this.recordScratch = new Uint8Array(pageWriterFor(state).recordBytes);
    this.recordScratchView = new DataView(this.recordScratch.buffer, this.recordScratch.byteOffset, this.recordScratch.byteLength);
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
  /** recordScratch as a DataView (made once: readers of the flags word run millions of times in the time driver). */
  readonly recordScratchView: DataView;
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
