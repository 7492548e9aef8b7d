// Kernel profiles: the boot-time memory-layout behaviour and printk formats that changed between
// kernel versions, keyed on the full release string (mainline version, stable sublevel, distro).
// Each feature records where it changed; tests check every row against real logs.
import { z } from 'zod';
import { InputError } from '../errors.js';
import { parseRelease, releaseCode, versionCode, type KernelRelease } from './release.js';

/** How pages of memmap in holes ("unavailable ranges") are reported at boot. */
export type UnavailableFormat =
  /** Nothing printed (before 4.15). */
  | 'none'
  /** 4.15-4.19.102 zero_resv_unavail: "Reserved but unavailable: N pages" (reserved, not memory). */
  | 'reserved-unavailable'
  /** 4.20-5.11 (4.19.103+) zero_resv_unavail: one line "Zeroed struct page in unavailable ranges: N pages". */
  | 'zeroed-total'
  /** 5.12-5.13.1 memmap_init_zone with a static hole_pfn: "  DMA zone: N pages in unavailable ranges". */
  | 'per-zone'
  /** 5.14+ (5.13.2+, 5.12.17+, 5.10.53+) memmap_init after all nodes: "On node N, zone X: N pages in unavailable ranges". */
  | 'per-node-zone';

/** How the initial zone->managed_pages (and so "Total pages") is estimated at boot. */
export type ManagedEstimate =
  /** present - calc_memmap_size() (not for HighMem) - dma_reserve (first zone only). */
  | 'memmap-and-dma-reserve'
  /** present_pages (the memmap estimate and dma_reserve are gone). */
  | 'present';

/** Where dma_reserve (memblock_find_dma_reserve on x86_64) comes from. */
export type DmaReserveRule =
  /** Reserved pages below 16 MiB depend on firmware and boot loader: an input, never guessed. */
  | 'input'
  /** The whole first 1 MiB is reserved ("x86/setup: Always reserve the first 1M of RAM"). */
  | 'first-1MiB';

/** probe_memory_block_size (arch/x86/mm/init_64.c) variants. */
export type MemoryBlockRule =
  /** >= 64 GiB of boot memory: 2 GiB, else 128 MiB. */
  | 'large-2g'
  /** >= 64 GiB: the largest of 2G..128M that divides the end of boot memory. */
  | 'align'
  /** As 'align', but bare metal (no X86_FEATURE_HYPERVISOR) takes 2 GiB at once. */
  | 'bare-metal-2g';

/** How a memoryless node is initialised and printed. */
export type MemorylessFormat =
  /** x86 init_memory_less_node, late in setup_arch: "Initmem setup node N [mem 0x0…0-0x0…0]". */
  | 'late-zero-range'
  /** free_area_init loops over every possible node: "Initmem setup node N as memoryless". */
  | 'as-memoryless';

export interface KernelFeatures {
  readonly unavailable: UnavailableFormat;
  /** zeroed-total: the tail is counted to round_up(max_pfn, PAGES_PER_SECTION), not to max_pfn (e822969cab48). */
  readonly zeroTailToSection: boolean;
  /** reserved-unavailable: zero_resv_unavail runs before the per-node memmap init (e181ae0c5db9), not after it. */
  readonly zeroResvUnavailFirst: boolean;
  /** zeroed-total: the counted struct pages are initialised as zone 0, node 0, PG_reserved (init_unavailable_range), not zeroed. */
  readonly unavailableInitialised: boolean;
  /**
   * Before 5.12: memmap_init walks the memblock ranges of each zone (73a6e474cb37), not its whole
   * span, and defer_init sees each range's end (only the range ending at the node's end defers).
   */
  readonly memmapInitByRange: boolean;
  /** "On node N totalpages: N" at the default log level (KERN_DEBUG, not pr_debug). */
  readonly nodeTotalpagesLine: boolean;
  /** "  X zone: N pages used for memmap" / "pages reserved" / "N pages, LIFO batch:N". */
  readonly zoneDetailLines: boolean;
  /** "Built N zonelists in Node order, ..." (before the zonelist order option was removed). */
  readonly zonelistOrderInLine: boolean;
  /** zone_batchsize cap: 512 KiB before "double zone's batchsize", 1 MiB after. */
  readonly batchCapBytes: number;
  readonly managedEstimate: ManagedEstimate;
  readonly dmaReserve: DmaReserveRule;
  /**
   * x86 setup_cpu_local_masks: the cpumasks it allocates from memblock (CPUMASK_OFFSTACK builds):
   * cpu_initialized_mask, cpu_callin_mask, cpu_callout_mask and cpu_sibling_setup_mask (4), later
   * cpu_sibling_setup_mask alone (1).
   */
  readonly cpuLocalMasks: number;
  /**
   * mem_init_print_info runs in page_alloc_init_late, after deferred_init_memmap, so the "Memory:"
   * line's free count has early boot's allocations taken out ("mm/mm_init.c: print mem_init info
   * after defer_init is done"); before, mem_init printed it.
   */
  readonly memoryLineAfterDeferredInit: boolean;
  readonly memoryBlock: MemoryBlockRule;
  readonly memoryless: MemorylessFormat;
  /** "Initializing node N as memoryless" before "Initmem setup node N as memoryless". */
  readonly memorylessInitializingLine: boolean;
  /** kernelcore=mirror without mirrored memory is ignored with a warning. */
  readonly mirrorNeedsMirrorMemory: boolean;
  /** zone_movable_pfn at or beyond the node's end is reset to 0 (no ZONE_MOVABLE there). */
  readonly movableClearBeyondNodeEnd: boolean;
  /** valid_zones of online boot blocks: page_zone walk (test_pages_in_a_zone) or mem->zone. */
  readonly blockZone: 'page-zone-walk' | 'zone-intersects';
  /** removable always reads 1 ("indicate all memory blocks as removable"). */
  readonly removableAlwaysOne: boolean;
  /** deferred_init_memmap spreads a node's deferred pages over its CPUs (padata), not one kthread. */
  readonly deferredPadata: boolean;
  /** Offlining shrinks zone and node spans (remove_pfn_range_from_zone); before, removal did. */
  readonly shrinkAtOffline: boolean;
  /** remove_pfn_range_from_zone poisons the offlined memmap again (with CONFIG_DEBUG_VM). */
  readonly poisonAtOffline: boolean;
  /** Hot-plugged struct pages are initialised PageOffline rather than PG_reserved. */
  readonly hotplugPageOffline: boolean;
  /**
   * memmap_init_zone_device marks every pageblock from pfn_first on MIGRATE_MOVABLE
   * (pageblock_migratetype_init_range: "mm/mm_init: fix pageblock migratetype for ZONE_DEVICE
   * compound pages"); before, only the pageblocks whose first struct page it wrote.
   */
  readonly zoneDevicePageblockRange: boolean;
  /** memory_hotplug.online_policy / auto_movable_ratio / auto_movable_numa_aware exist. */
  readonly autoMovableOnlinePolicy: boolean;
  /** kstrtobool takes t/T and f/F. */
  readonly kstrtoboolTrueFalse: boolean;
  /** kstrtobool takes e/E (enable) and d/D (disable). */
  readonly kstrtoboolEnableDisable: boolean;
  /** Hotplug span updates take pgdat_resize_lock and the zone span seqlock (dropped in 5.14). */
  readonly hotplugSpanLocks: boolean;
  /**
   * memory_hotplug.memmap_on_memory: absent; only for an add of exactly one memory block; or
   * split per memory block of any add (create_altmaps_and_memory_blocks).
   */
  readonly memmapOnMemory: 'none' | 'single-block' | 'per-block';
  /**
   * The 6.6 rework: "force" mode (vmemmap pages rounded up to a pageblock), the altmap kept in
   * the memory block, and the vmemmap pages initialised under mem_hotplug_lock.
   */
  readonly memmapOnMemoryForce: boolean;
  /**
   * try_offline_node: v5.3 walks the node's span by section and reads pfn_to_nid of each present
   * section (the memmap); the fix checks node_spanned_pages and the memory blocks' nid instead.
   */
  readonly tryOfflineNode: 'section-walk' | 'spans-and-blocks';
  /** offline_pages refuses a range with memory holes (EINVAL); before, it offlined the RAM in it. */
  readonly offlineRefusesHoles: boolean;
  /**
   * memmap_init_zone_device's refcount of a device page: 1 for every type (v5.3), 0 for PRIVATE
   * and COHERENT (6.1), 0 for all but GENERIC (device-dax) (6.18).
   */
  readonly zoneDeviceRefcount: 'one' | 'private-coherent-zero' | 'all-but-generic-zero';
  /** memunmap_pages reads the node from pfn_first's struct page; v5.3 read the range's first (never initialised with an altmap). */
  readonly memunmapReadsPfnFirst: boolean;
  /** dev_pagemap.vmemmap_shift (compound devmaps; device-dax uses its align). */
  readonly compoundDevmaps: boolean;
  /**
   * SECTION_TAINT_ZONE_DEVICE and pfn_to_online_page as a function checking the subsection and,
   * in a tainted section, the pgmap (5.12+); before, any pfn of an online section was online.
   */
  readonly sectionTaintZoneDevice: boolean;
  /** memmap_init_zone_device's closing line: pr_info with the device name (v5.3), pr_info with __func__ (5.4), pr_debug (6.4). */
  readonly zoneDeviceInitLine: 'none' | 'dev-name' | 'func' | 'debug';
  /** fs/proc/page.c (kpageflags, kpagecount, kpagecgroup) reads a pfn's struct page only if pfn_to_online_page (5.4+; before: any pfn_valid pfn). */
  readonly procPageOnlineCheck: boolean;
  /** x86 add_pages raises max_pfn to a pgmap's end too (before 7170130e4c72, 6.15; after it only RAM does, so /proc/kpageflags ends below ZONE_DEVICE above RAM). */
  readonly addPagesRaisesMaxPfnForPgmap: boolean;
  /**
   * x86's kernel-mode page fault line (arch/x86/mm/fault.c show_fault_oops): "BUG: unable to
   * handle kernel paging request at ADDR" (4.19.1), "BUG: unable to handle page fault for
   * address: ADDR" (5.3.0).
   */
  readonly pageFaultLine: 'paging-request' | 'page-fault-for-address';
  /** MEMORY_DEVICE_COHERENT exists. */
  readonly pgmapCoherent: boolean;
  /**
   * memremap_pages initialises every device page under mem_hotplug_lock (in
   * move_pfn_range_to_zone): the 2019 patch under review, never merged. Only the `serialize`
   * design sets it.
   */
  readonly zoneDeviceInitUnderLock: boolean;
  /**
   * How a hot-add beyond the physical address space fails. 'mhp-range-allowed' (5.12+):
   * register_memory_resource asks mhp_range_allowed, [0, 1 << MAX_PHYSMEM_BITS) on x86: -E2BIG
   * and the pr_warn "Hotplug memory [%#llx-%#llx] exceeds maximum addressable range
   * [%#llx-%#llx]". 'iomem' (before): __request_region against iomem_resource fails, -EEXIST
   * with only a pr_debug; iomem_resource ends at the CPU's physical address width
   * (setup_arch), which the model takes to be MAX_PHYSMEM_BITS.
   */
  readonly hotplugRangeCheck: 'iomem' | 'mhp-range-allowed';
  /**
   * How memremap_pages initialises the device memmap: 'memmap-init-zone' (4.19: every page from
   * base + reserve under mem_hotplug_lock in move_pfn_range_to_zone, then a second pass for
   * page->pgmap after mem_hotplug_done) or 'memmap-init-zone-device' (4.20+, 966cf44f637e: only
   * the altmap's pfns under the lock, the data pages after it).
   */
  readonly zoneDeviceMemmap: 'memmap-init-zone' | 'memmap-init-zone-device';
  /** devm_memremap_pages_release / memunmap_pages reads page_to_nid of a struct page (5.0+; 4.19 reads none). */
  readonly memunmapReadsNode: boolean;
  /** find_smallest/biggest_section_pfn and the hole loops step a section at a time over valid sections (4.19) or a subsection at a time over pfn_valid pfns (5.3+). */
  readonly shrinkSearchGranule: 'section' | 'subsection';
  /** shrink_zone_span ends with the "only holes" loop over the zone's old span (before 5.5). */
  readonly shrinkHoleLoop: boolean;
  /** The node span after a shrink: shrink_pgdat_span's struct page search (before 5.4) or update_pgdat_span from the zones (5.4+). */
  readonly pgdatSpan: 'shrink-pgdat-span' | 'update-pgdat-span';
  /**
   * devm_memremap_pages works on whole sections (before 5.3's sub-section hotplug): the range is
   * widened to SECTION_SIZE and one that then meets System RAM is REGION_MIXED, -ENXIO.
   */
  readonly memremapSectionAligned: boolean;
  /** memory_failure_dev_pagemap returns -ENXIO for a pfn pgmap_pfn_valid refuses, before touching its struct page (5.12+). */
  readonly memoryFailurePgmapPfnValid: boolean;
}

/**
 * KernelFeatures as a schema, for feature values that come from outside the program (a user's
 * design file): every key with its type, nothing else. The type check below keeps the two equal.
 */
export const kernelFeaturesSchema = z.strictObject({
  unavailable: z.enum(['none', 'reserved-unavailable', 'zeroed-total', 'per-zone', 'per-node-zone']),
  zeroTailToSection: z.boolean(),
  zeroResvUnavailFirst: z.boolean(),
  unavailableInitialised: z.boolean(),
  memmapInitByRange: z.boolean(),
  nodeTotalpagesLine: z.boolean(),
  zoneDetailLines: z.boolean(),
  zonelistOrderInLine: z.boolean(),
  batchCapBytes: z.number().int().positive(),
  managedEstimate: z.enum(['memmap-and-dma-reserve', 'present']),
  dmaReserve: z.enum(['input', 'first-1MiB']),
  cpuLocalMasks: z.number().int().nonnegative(),
  memoryLineAfterDeferredInit: z.boolean(),
  memoryBlock: z.enum(['large-2g', 'align', 'bare-metal-2g']),
  memoryless: z.enum(['late-zero-range', 'as-memoryless']),
  memorylessInitializingLine: z.boolean(),
  mirrorNeedsMirrorMemory: z.boolean(),
  movableClearBeyondNodeEnd: z.boolean(),
  blockZone: z.enum(['page-zone-walk', 'zone-intersects']),
  removableAlwaysOne: z.boolean(),
  deferredPadata: z.boolean(),
  shrinkAtOffline: z.boolean(),
  poisonAtOffline: z.boolean(),
  hotplugPageOffline: z.boolean(),
  zoneDevicePageblockRange: z.boolean(),
  autoMovableOnlinePolicy: z.boolean(),
  kstrtoboolTrueFalse: z.boolean(),
  kstrtoboolEnableDisable: z.boolean(),
  hotplugSpanLocks: z.boolean(),
  memmapOnMemory: z.enum(['none', 'single-block', 'per-block']),
  memmapOnMemoryForce: z.boolean(),
  tryOfflineNode: z.enum(['section-walk', 'spans-and-blocks']),
  offlineRefusesHoles: z.boolean(),
  zoneDeviceRefcount: z.enum(['one', 'private-coherent-zero', 'all-but-generic-zero']),
  memunmapReadsPfnFirst: z.boolean(),
  compoundDevmaps: z.boolean(),
  sectionTaintZoneDevice: z.boolean(),
  zoneDeviceInitLine: z.enum(['none', 'dev-name', 'func', 'debug']),
  procPageOnlineCheck: z.boolean(),
  addPagesRaisesMaxPfnForPgmap: z.boolean(),
  pageFaultLine: z.enum(['paging-request', 'page-fault-for-address']),
  pgmapCoherent: z.boolean(),
  zoneDeviceInitUnderLock: z.boolean(),
  hotplugRangeCheck: z.enum(['iomem', 'mhp-range-allowed']),
  zoneDeviceMemmap: z.enum(['memmap-init-zone', 'memmap-init-zone-device']),
  memunmapReadsNode: z.boolean(),
  shrinkSearchGranule: z.enum(['section', 'subsection']),
  shrinkHoleLoop: z.boolean(),
  pgdatSpan: z.enum(['shrink-pgdat-span', 'update-pgdat-span']),
  memoryFailurePgmapPfnValid: z.boolean(),
  memremapSectionAligned: z.boolean(),
});

/** True when A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when kernelFeaturesSchema and KernelFeatures differ in a key or a type. */
export type KernelFeaturesSchemaMatches = Same<z.infer<typeof kernelFeaturesSchema>, KernelFeatures> extends true ? true : never;
export const kernelFeaturesSchemaMatches: KernelFeaturesSchemaMatches = true;

/** A point where mainline changed a feature: from `since` on, `features` apply. */
interface ChangePoint {
  readonly since: readonly [number, number];
  readonly features: Partial<KernelFeatures>;
  /** The trees read to place it: first version seen with it, last seen without. */
  readonly evidence: string;
}

/** A stable branch that took a change at a sublevel (first sublevel seen with it). */
interface StableBackport {
  readonly branch: readonly [number, number];
  readonly sinceSublevel: number;
  readonly features: Partial<KernelFeatures>;
  readonly evidence: string;
}

/** The oldest modelled behaviour (4.9-4.12). */
const BASE: KernelFeatures = {
  unavailable: 'none',
  zeroTailToSection: false,
  zeroResvUnavailFirst: false,
  unavailableInitialised: false,
  memmapInitByRange: false,
  nodeTotalpagesLine: true,
  zoneDetailLines: true,
  zonelistOrderInLine: true,
  batchCapBytes: 512 * 1024,
  managedEstimate: 'memmap-and-dma-reserve',
  dmaReserve: 'input',
  cpuLocalMasks: 4,
  memoryLineAfterDeferredInit: false,
  memoryBlock: 'large-2g',
  memoryless: 'late-zero-range',
  memorylessInitializingLine: false,
  mirrorNeedsMirrorMemory: false,
  movableClearBeyondNodeEnd: false,
  blockZone: 'page-zone-walk',
  removableAlwaysOne: false,
  deferredPadata: false,
  shrinkAtOffline: false,
  poisonAtOffline: false,
  hotplugPageOffline: false,
  zoneDevicePageblockRange: false,
  autoMovableOnlinePolicy: false,
  kstrtoboolTrueFalse: false,
  kstrtoboolEnableDisable: false,
  hotplugSpanLocks: true,
  memmapOnMemory: 'none',
  memmapOnMemoryForce: false,
  tryOfflineNode: 'section-walk',
  offlineRefusesHoles: false,
  zoneDeviceRefcount: 'one',
  memunmapReadsPfnFirst: false,
  compoundDevmaps: false,
  sectionTaintZoneDevice: false,
  zoneDeviceInitLine: 'none',
  procPageOnlineCheck: false,
  addPagesRaisesMaxPfnForPgmap: true,
  pageFaultLine: 'paging-request',
  pgmapCoherent: false,
  zoneDeviceInitUnderLock: false,
  hotplugRangeCheck: 'iomem',
  zoneDeviceMemmap: 'memmap-init-zone',
  memunmapReadsNode: false,
  shrinkSearchGranule: 'section',
  shrinkHoleLoop: true,
  pgdatSpan: 'shrink-pgdat-span',
  memoryFailurePgmapPfnValid: false,
  memremapSectionAligned: true,
};

/**
 * Mainline change points, oldest first. Versions are bracketed by the kernel trees read (no
 * full git history was at hand); where the bracket spans releases the first release seen
 * with the change is used and the other is named as unverified.
 */
export const MAINLINE: readonly ChangePoint[] = [
  { since: [4, 14], features: { zonelistOrderInLine: false }, evidence: 'in 4.13.4, gone in 4.14.5' },
  { since: [4, 15], features: { unavailable: 'reserved-unavailable' }, evidence: 'absent 4.14.5; 4.15.0, 4.16.13, 4.17.0' },
  { since: [4, 17], features: { memoryBlock: 'align' }, evidence: '4.16.13 large-2g; 4.17.0 alignment search' },
  {
    since: [4, 18],
    features: { zeroResvUnavailFirst: true },
    evidence:
      'e181ae0c5db9 "zero unavailable pages before memmap init" (2018-07-14), bisected as merged after v4.18-rc4 (v4.18-rc4-160-gf353078f028f); 4.19.1 (chens37/linux-4.19.1) calls zero_resv_unavail before for_each_online_node(nid) free_area_init_node (4.18 tree not read)',
  },
  {
    since: [4, 19],
    features: { batchCapBytes: 1024 * 1024 },
    evidence: 'zone_batchsize: 4.17.0 512 KiB; 4.19.1 (chens37/linux-4.19.1 36e37757a, SUBLEVEL 1) "no more than a meg" (mainline 4.18 not read)',
  },
  {
    since: [4, 20],
    features: { unavailable: 'zeroed-total' },
    evidence:
      '907ec5fca3dc "zero remaining unavailable struct pages" + ec393a0f014e "return zero_resv_unavail optimization": 4.19.1 (chens37/linux-4.19.1 36e37757a, SUBLEVEL 1) "Reserved but unavailable" over for_each_resv_unavail_range; 4.20.0 (a4913994/linux-4.20 681419eb, SUBLEVEL 0) holes of memblock.memory to max_pfn; 5.0 with',
  },
  {
    since: [5, 6],
    features: { zeroTailToSection: true },
    evidence:
      'e822969cab48 "fix uninitialized memmaps on a partially populated last section" (2020-02-03, v5.6-rc1): 4.20.0, 5.3.0 (Awik84/linux-5.3) and 5.4.18 (wuyansky/Linux-5.4.18 8b387dbf4, SUBLEVEL 18) stop at max_pfn; 5.4.59 rounds up; 5.6-5.10 trees not read',
  },
  {
    since: [5, 6],
    features: { unavailableInitialised: true },
    evidence:
      '4b094b7851bf "initialize memmap of unavailable memory directly" (the series of e822969cab48): 4.19.108, 4.20.0 and 5.4.18 zero_pfn_range -> mm_zero_struct_page; 5.6.4 (shmily1012/linux-5.6.4 93830a5cf2aa) init_unavailable_range -> __init_single_page(page, pfn, 0, 0) + __SetPageReserved (5.5 and 5.4.19+ not read)',
  },
  {
    since: [5, 5],
    features: { shrinkAtOffline: true },
    evidence:
      'feee6b298916 (remove_pfn_range_from_zone), merged after v5.5-rc3 (KERNEL-NOTES §6.2); 5.4.6 (hxb-gt/linux-5.4.6 0d474ff04f72, SUBLEVEL 6) __remove_zone at removal; stable rows for 4.19.y and 5.4.y',
  },
  {
    since: [5, 5],
    features: { poisonAtOffline: true },
    evidence: 'd33695b16a9f, same series as feee6b298916; absent in 5.4.59, present in 5.6.4 (shmily1012/linux-5.6.4 93830a5cf2aa, SUBLEVEL 4), 5.7.14 and 5.8.1 (5.5 not read)',
  },
  { since: [5, 6], features: { removableAlwaysOne: true }, evidence: '53cdc1cb29e8, merged 2020-03-29 for 5.6' },
  {
    since: [5, 8],
    features: { memmapInitByRange: true },
    evidence:
      '73a6e474cb37 "memmap_init: iterate over memblock regions rather that check each PFN": 5.6.4 and 5.7.14 memmap_init -> memmap_init_zone over the zone span; 5.8.1 (semwett0301/linux-5.8.1 a673859d4b11, SUBLEVEL 1) and 5.9.1 for_each_mem_pfn_range clamped to the zone, defer_init(nid, pfn, end_pfn of the range)',
  },
  {
    since: [5, 8],
    features: { deferredPadata: true },
    evidence: 'deferred_init_memmap: 5.4.59, 5.6.4 and 5.7.14 (a5221985/linux-5.7.14 5d0b54d93391, SUBLEVEL 14) one kthread per node; 5.8.1 and 5.9.1 padata_do_multithreaded (5.5 not read)',
  },
  {
    since: [5, 9],
    features: { memoryBlock: 'bare-metal-2g' },
    evidence: 'probe_memory_block_size: 5.8.1 without; 5.9.1 (ach84/linux-5.9.1 1722444408da, SUBLEVEL 1) !boot_cpu_has(X86_FEATURE_HYPERVISOR) -> MAX_BLOCK_SIZE; 5.10.7 with',
  },
  { since: [5, 12], features: { unavailable: 'per-zone' }, evidence: '5.11.0 zeroed-total; 5.12.9 per-zone' },
  { since: [5, 13], features: { dmaReserve: 'first-1MiB' }, evidence: '5.12.9 without; 5.15.55 with; patch of 2021-06 for 5.13' },
  {
    since: [6, 11],
    features: { memoryLineAfterDeferredInit: true },
    evidence:
      '"mm/mm_init.c: print mem_init info after defer_init is done" in the mm tree of 2024-06 beside the zswap_never_enabled patches (6.11); Debian 6.1.0-57 prints the line before "deferred pages initialised", 6.12.118 after it',
  },
  {
    since: [6, 5],
    features: { cpuLocalMasks: 1 },
    evidence:
      'memblock=debug: Debian 6.1.0-57 allocates 4 + nr_node_ids cpumasks (alloc_bootmem_cpumask_var), 6.12.118 1 + nr_node_ids. setup_cpu_local_masks: 6.0.0 (sun363587351/linux-6.0 071a8bf088f3) and 6.3.8 (SToPire/linux-6.3.8 1ab8cd40ddb5) the four masks; 6.5.0 (sndrzt/linux-6.5 4f5cdb332210, SUBLEVEL 0) and 6.9.0 (ec-jt/linux-6.9.0 b12020242247) cpu_sibling_setup_mask only (the 6.5 x86 parallel CPU bring-up); 6.4 not read',
  },
  {
    since: [5, 14],
    features: { unavailable: 'per-node-zone', nodeTotalpagesLine: false, zoneDetailLines: false },
    evidence:
      '5.12.9 KERN_DEBUG + per-zone; 5.14-rc5 pr_debug + per-node-zone. The unavailable lines are 122e093c1734 (dated 2021-06-28, after v5.13; v5.14-rc1), so mainline 5.13 prints per-zone; the pr_debug lines (5.13 tree not read) are placed with them',
  },
  {
    since: [5, 18],
    features: { blockZone: 'zone-intersects' },
    evidence: '"determine and store zone for single-zone memory blocks", posted 2022-01 (5.18 unverified)',
  },
  {
    since: [5, 19],
    features: { memoryless: 'as-memoryless', memorylessInitializingLine: true, movableClearBeyondNodeEnd: true },
    evidence: '5.17 old; 5.19.0 new (5.18 unverified)',
  },
  { since: [6, 6], features: { mirrorNeedsMirrorMemory: true }, evidence: '6.5.0 without, 6.6.9 with' },
  { since: [6, 8], features: { memorylessInitializingLine: false }, evidence: '6.6.9 with, 6.8.0 without (6.7 unverified)' },
  { since: [5, 15], features: { autoMovableOnlinePolicy: true }, evidence: 'e83a437faa62 (online_policy=auto-movable), merged for 5.15; 6.1 source read' },
  { since: [5, 19], features: { kstrtoboolTrueFalse: true }, evidence: 'lib/kstrtox.c: 5.17 without t/f, 5.19 with (5.18 unverified)' },
  {
    since: [6, 12],
    features: { hotplugPageOffline: true },
    evidence: 'hot-added pages: 6.8.0 and 6.9.0 (ec-jt/linux-6.9.0 b12020242247) PG_reserved, no __SetPageOffline in the memmap init; 6.12.117 PageOffline (6.10-6.11 not read)',
  },
  {
    since: [5, 4],
    features: { tryOfflineNode: 'spans-and-blocks' },
    evidence:
      '2c91f8fc6c99 "fix try_offline_node()" in the "Linux 5.4-rc8" shortlog (2019-11-17, <CAHk-=wiyR4Np_n5O6=rbf1GVNdr_zUd1WAC_GJDnc_hUhHqwWg@mail.gmail.com>): 5.3.0 section walk; 5.4.6 (hxb-gt/linux-5.4.6 0d474ff04f72), 5.4.59 and 5.8.1 spans and blocks; stable rows for 5.3.y and 4.19.y',
  },
  {
    since: [5, 6],
    features: { offlineRefusesHoles: true },
    evidence:
      '__offline_pages "memory holes" (count_system_ram_pages_cb): absent 5.4.59; present 5.6.4 (shmily1012/linux-5.6.4 93830a5cf2aa, SUBLEVEL 4), 5.7.14, 5.8.1 (mainline 5.5 and 5.6.0 not read)',
  },
  {
    since: [5, 4],
    features: { procPageOnlineCheck: true },
    evidence:
      'fs/proc/page.c: 5.3.0 pfn_valid + pfn_to_page; 5.4.6 (hxb-gt/linux-5.4.6 0d474ff04f72) and 5.4.59 pfn_to_online_page ("don\'t access uninitialized memmaps in fs/proc/page.c"; mainline 5.4.0 not read)',
  },
  { since: [4, 20], features: { zoneDeviceInitLine: 'dev-name' }, evidence: '966cf44f637e (4.20) added memmap_init_zone_device and its pr_info; 4.19 has neither' },
  { since: [5, 4], features: { zoneDeviceInitLine: 'func' }, evidence: '5.3 "%s initialised, %lu pages" with dev_name; 5.4.6 (hxb-gt/linux-5.4.6) and 5.4.59 __func__ (mainline 5.4.0 not read)' },
  {
    since: [6, 4],
    features: { zoneDeviceInitLine: 'debug' },
    evidence: 'memmap_init_zone_device: 6.1 and 6.3.8 (SToPire/linux-6.3.8 1ab8cd40ddb5, SUBLEVEL 8) pr_info; 6.4 (mm_init.c), 6.5.0 and 6.9.0 pr_debug (6.2 not read)',
  },
  { since: [5, 12], features: { sectionTaintZoneDevice: true }, evidence: '5.11 pfn_to_online_page macro (online section only); 5.12.9 function with pfn_section_valid and online_device_section' },
  { since: [5, 17], features: { compoundDevmaps: true }, evidence: 'vmemmap_shift (compound devmaps for device-dax): absent 5.15 and 5.16.16, present 5.17' },
  {
    since: [5, 4],
    features: { memunmapReadsPfnFirst: true },
    evidence: '77e080e7680e: 5.3 page_to_nid(res.start); 5.4.6 (hxb-gt/linux-5.4.6 0d474ff04f72) and 5.4.59 pfn_first (mainline 5.4.0 not read)',
  },
  {
    since: [6, 0],
    features: { pgmapCoherent: true },
    evidence: 'enum memory_type: 5.19 without MEMORY_DEVICE_COHERENT; 6.0.0 (sun363587351/linux-6.0 071a8bf088f3, SUBLEVEL 0) and 6.1 with',
  },
  {
    since: [6, 1],
    features: { zoneDeviceRefcount: 'private-coherent-zero' },
    evidence: '__init_zone_device_page: 5.19 and 6.0.0 (sun363587351/linux-6.0 071a8bf088f3) refcount 1 for all; 6.1 set_page_count 0 for PRIVATE/COHERENT',
  },
  { since: [6, 15], features: { zoneDeviceRefcount: 'all-but-generic-zero' }, evidence: '6.14 PRIVATE/COHERENT only; 6.18.2 all but GENERIC (6.15-6.17 unverified)' },
  {
    since: [5, 13],
    features: { memmapOnMemory: 'single-block' },
    evidence: 'a08a2ae34613: absent 5.12.9, present 5.14 (5.13 unverified); 6.1 ACPI sets MHP_MEMMAP_ON_MEMORY only when the range is one block',
  },
  { since: [5, 14], features: { hotplugSpanLocks: false }, evidence: '27cacaad16c5 "drop unneeded locking": 5.12.9 locks, 5.14 none (posted 2021-06 for 5.14)' },
  { since: [6, 6], features: { memmapOnMemoryForce: true }, evidence: '6.5 bool parameter; 6.6.9 "force" mode, altmap in the memory block, mem_hotplug_begin in memory_block_online' },
  { since: [6, 8], features: { memmapOnMemory: 'per-block' }, evidence: '6.6.9 size == block only; 6.8.0 create_altmaps_and_memory_blocks' },
  {
    since: [5, 12],
    features: { hotplugRangeCheck: 'mhp-range-allowed' },
    evidence:
      'bca3feaa0764 "prevalidate the address range being added with platform", merged for 5.12: no mhp_range_allowed in 5.11.14 (fridayhub/linux-5.11.14 c04aa994c73d, SUBLEVEL 14); 6.0.0, 6.3.8 and 6.9.0 with; 6.1 register_memory_resource read',
  },
  {
    since: [4, 20],
    features: { zoneDeviceMemmap: 'memmap-init-zone-device' },
    evidence:
      '966cf44f637e (4.20) memmap_init_zone_device: kernel/memremap.c of 4.19.1 has memmap_init_zone under mem_hotplug_begin/done plus the pgmap pass; mm/memremap.c of 5.3.0 defers the data pages',
  },
  {
    since: [5, 0],
    features: { pageFaultLine: 'page-fault-for-address' },
    evidence:
      'show_fault_oops: 4.19.1 pr_alert "unable to handle kernel %s at %px" (read, and printed by ../shared/kernels\' 4.19.1 under verify --race --walker kpageflags); 5.3.0 "unable to handle page fault for address: %px" (read, and printed by 5.3); the x86/fault oops rework merged for 5.0 (5.0-5.2 trees not read)',
  },
  {
    since: [5, 0],
    features: { memunmapReadsNode: true },
    evidence: 'devm_memremap_pages_release: 4.19.1 reads no page_to_nid, 5.3.0 page_to_nid(pfn_to_page(res->start)); 5.0 per the 77e080e7680e report (5.0-5.2 trees not read)',
  },
  {
    since: [5, 3],
    features: { memremapSectionAligned: false },
    evidence: '4.19.1 kernel/memremap.c: align_start = res->start & ~(SECTION_SIZE - 1), REGION_MIXED -> -ENXIO; 5.3.0 mm/memremap.c: the range itself, REGION_DISJOINT required (sub-section hotplug)',
  },
  {
    since: [5, 3],
    features: { shrinkSearchGranule: 'subsection' },
    evidence: 'find_*_section_pfn: 4.19.1 PAGES_PER_SECTION + valid_section, 5.3.0 PAGES_PER_SUBSECTION + pfn_valid (the 5.3 sub-section hotplug series)',
  },
  {
    since: [5, 4],
    features: { pgdatSpan: 'update-pgdat-span' },
    evidence:
      '00d6c019b5bc "don\'t access uninitialized memmaps in shrink_pgdat_span()": 5.3.0 shrink_pgdat_span; 5.4.6 (hxb-gt/linux-5.4.6 0d474ff04f72) and 6.1 update_pgdat_span (mainline 5.4.0 not read)',
  },
  {
    since: [5, 5],
    features: { shrinkHoleLoop: false },
    evidence:
      'shrink_zone_span "only holes" loop: in 4.19.1, 4.19.108, 5.3.0, 5.4.6 and 5.4.18 (wuyansky/Linux-5.4.18), gone in 5.6.4 and 6.1; dropped in the 5.5 series with feee6b298916 (5.5 not read)',
  },
  {
    since: [5, 12],
    features: { memoryFailurePgmapPfnValid: true },
    evidence:
      '"mm: Fix memory_failure() handling of dax-namespace metadata" (pgmap_pfn_valid), v4 posted to akpm 2021-01-13 for the 5.12 merge window; 5.3.0 without, 6.1 and 6.18.2 with (5.11, 5.12 trees not read)',
  },
  { since: [6, 18], features: { kstrtoboolEnableDisable: true }, evidence: 'lib/kstrtox.c: 6.14 without e/d, 6.18.2 with (6.15-6.17 unverified)' },
  {
    since: [6, 10],
    features: { managedEstimate: 'present' },
    evidence: 'free_area_init_core: 6.8.0 and 6.9.0 (ec-jt/linux-6.9.0 b12020242247, SUBLEVEL 0) calc_memmap_size estimate; 6.12.117 present; series posted for 6.10 (6.10-6.11 not read)',
  },
  {
    since: [6, 15],
    features: { addPagesRaisesMaxPfnForPgmap: false },
    evidence:
      '7170130e4c72 "x86/mm/init: Handle the special case of device private pages in add_pages(), to not increase max_pfn ..." (tip x86/urgent 2025-04-01, after v6.14): add_pages calls update_end_of_memory_vars only without params->pgmap; read in the tip commit mail and in Debian 6.1.192 (linux-source-6.1)',
  },
];

/** Stable branches that took a mainline change later; sublevels are the first seen with it. */
export const STABLE: readonly StableBackport[] = [
  {
    branch: [4, 19],
    sinceSublevel: 103,
    features: { unavailable: 'zeroed-total', zeroTailToSection: true },
    evidence:
      'the "Linux 4.19.103" announcement (2020-02-11, <20200211230810.GA2257541@kroah.com>) lists 907ec5fca3dc, ec393a0f014e and e822969cab48 (which "failed to apply" alone on 2020-02-09); 4.19.90 (EVAcacia/linux-4.19.90_not_move a6392eaef, SUBLEVEL 90) "Reserved but unavailable"; 4.19.108 (liweihao-cn/linux-4.19.108 1617a0ff4686, SUBLEVEL 108) zeroes to round_up(max_pfn, PAGES_PER_SECTION); a Debian 4.19.132 log does too (issue 19)',
  },
  { branch: [4, 19], sinceSublevel: 304, features: { movableClearBeyondNodeEnd: true }, evidence: '4.19.304' },
  {
    branch: [5, 4],
    sinceSublevel: 19,
    features: { zeroTailToSection: true },
    evidence:
      'e822969cab48 in the "Linux 5.4.19" announcement (2020-02-11, <20200211230836.GA2260401@kroah.com>); 5.4.18 (wuyansky/Linux-5.4.18 8b387dbf4, SUBLEVEL 18) stops at max_pfn; 5.4.59 rounds up',
  },
  {
    branch: [5, 10],
    sinceSublevel: 24,
    features: { unavailable: 'per-zone' },
    evidence: '0740a50b9baa (v5.12-rc1) as 8824791aea53 in the linux-stable-rc linux-5.10.y push ending "Linux 5.10.24-rc1" (2021-03); 5.10.13 without, 5.10.35 with',
  },
  {
    branch: [5, 10],
    sinceSublevel: 53,
    features: { unavailable: 'per-node-zone' },
    evidence:
      '122e093c1734 (v5.14-rc1): the "Linux 5.10.53" announcement (2021-07-25, <162721897310487@kroah.com>) lists it (Mike Rapoport\'s 5.10 backport), "Linux 5.10.51" does not; 5.10.44 per-zone, 5.10.89 per-node-zone',
  },
  { branch: [5, 10], sinceSublevel: 198, features: { movableClearBeyondNodeEnd: true }, evidence: '5.10.89 without, 5.10.198 with' },
  {
    branch: [5, 11],
    sinceSublevel: 7,
    features: { unavailable: 'per-zone' },
    evidence: '0740a50b9baa as 043ea8237f77 in the linux-stable-rc linux-5.11.y push ending "Linux 5.11.7-rc1" ([PATCH 5.11 305/306], 2021-03-15); 5.11.0 without; Fedora 5.11.22 log (dmesg 02) with',
  },
  {
    branch: [5, 12],
    sinceSublevel: 17,
    features: { unavailable: 'per-node-zone' },
    evidence:
      '122e093c1734 "mm/page_alloc: fix memory map initialization for descending nodes" (v5.14-rc1) as 1f966448701a in the linux-stable-rc linux-5.12.y push of 2021-07-11 (362de415aea8..daf37e156fa3, 5.12.17-rc1)',
  },
  {
    branch: [5, 13],
    sinceSublevel: 2,
    features: { unavailable: 'per-node-zone' },
    evidence:
      '122e093c1734 (v5.14-rc1, dated 2021-06-28, after v5.13) as dc1db8ca8a6a in the linux-stable-rc linux-5.13.y push of 2021-07-12 (e75ae70be576..949241ad55a9, ending "Linux 5.13.2-rc1"); a 5.13.13 log prints "On node N, zone Z" (issue 19)',
  },
  {
    branch: [4, 19],
    sinceSublevel: 90,
    features: { pgdatSpan: 'update-pgdat-span', procPageOnlineCheck: true },
    evidence:
      '00d6c019b5bc and "don\'t access uninitialized memmaps in fs/proc/page.c" backported: 4.19.90 (EVAcacia/linux-4.19.90_not_move a6392eaef) __remove_zone calls update_pgdat_span, fs/proc/page.c pfn_to_online_page; 4.19.1 neither; 4.19.2-89 not read, so 90 is the first sublevel seen with them',
  },
  {
    branch: [4, 19],
    sinceSublevel: 100,
    features: { tryOfflineNode: 'spans-and-blocks', shrinkAtOffline: true, memunmapReadsPfnFirst: true, memunmapReadsNode: true },
    evidence:
      'the "Linux 4.19.100" announcement (2020-01-30, <20200130083105.GA646231@kroah.com>) lists David Hildenbrand\'s 4.19 backports of 2c91f8fc6c99 and feee6b298916, 77e080e7680e and "add nid parameter to arch_remove_memory"; 4.19.90 without; 4.19.108 (liweihao-cn/linux-4.19.108 1617a0ff4686) remove_pfn_range_from_zone at offline, check_no_memblock_for_node_cb, page_to_nid(pfn_first)',
  },
  {
    branch: [5, 3],
    sinceSublevel: 12,
    features: { tryOfflineNode: 'spans-and-blocks' },
    evidence: '2c91f8fc6c99 in the "Linux 5.3.12" announcement (2019-11-21, <20191121134156.GA548418@kroah.com>); 5.3.0 section walk',
  },
  {
    branch: [5, 4],
    sinceSublevel: 9,
    features: { shrinkAtOffline: true },
    evidence:
      'feee6b298916 in the "Linux 5.4.9" announcement (2020-01-09, <20200109202632.GA7864@kroah.com>); 5.4.6 __remove_zone at removal; 5.4.18 (wuyansky/Linux-5.4.18) remove_pfn_range_from_zone, still with the "only holes" loop and no poisoning',
  },
  { branch: [5, 15], sinceSublevel: 55, features: { movableClearBeyondNodeEnd: true }, evidence: '5.15.55' },
  {
    branch: [6, 1],
    sinceSublevel: 192,
    features: { zoneDevicePageblockRange: true },
    evidence: "Debian linux-source-6.1 6.1.192-3's mm/mm_init.c has pageblock_migratetype_init_range in memmap_init_zone_device, and the 6.1.192 guest's dump agrees (issue 18); earlier 6.1.y unread",
  },
  {
    branch: [6, 12],
    sinceSublevel: 118,
    features: { zoneDevicePageblockRange: true },
    evidence: "the 6.12.118 guest's dump: every pageblock of a 1 GiB devdax --map=mem MOVABLE past the heads (issue 18); source and earlier 6.12.y unread",
  },
  // 7170130e4c72 (add_pages leaves max_pfn alone for a pgmap), where Debian's changelogs place it.
  ...(
    [
      [[6, 1], 141, "the ChangeLog-6.1.141 block of Debian's changelog (linux-libc-dev 6.1.187); Debian 6.1.192 add_pages (linux-source-6.1) tests params->pgmap"],
      [[6, 12], 31, "the ChangeLog-6.12.31 block of Debian's changelog (linux-image-6.12.118+deb12-cloud-amd64-unsigned); [PATCH 6.12 625/626] of 2025-05-27"],
    ] as const
  ).map(([branch, sinceSublevel, where]): StableBackport => ({ branch, sinceSublevel, features: { addPagesRaisesMaxPfnForPgmap: false }, evidence: `7170130e4c72 in ${where}` })),
];

export interface KernelProfile {
  readonly release: KernelRelease;
  /** A short label of the profile row that applied, for --explain. */
  readonly basis: string;
  readonly features: KernelFeatures;
  /** Where a feature came from a distro backport rather than the mainline version. */
  readonly notes: readonly string[];
}

const v = versionCode;

/** Mainline behaviour of major.minor. */
function mainlineFeatures(major: number, minor: number): KernelFeatures {
  let f = BASE;
  for (const c of MAINLINE) if (v(major, minor) >= v(c.since[0], c.since[1])) f = { ...f, ...c.features };
  return f;
}

interface Backport {
  /** Which kernels: distro and release pattern, upstream range. */
  readonly distro: KernelRelease['distro'];
  readonly matches: (r: KernelRelease) => boolean;
  readonly features: Partial<KernelFeatures>;
  readonly note: string;
}

/**
 * Distribution kernels that carry a behaviour before the mainline or stable version that
 * introduced it. Each row cites the real log that shows it.
 */
export const BACKPORTS: readonly Backport[] = [
  {
    distro: 'suse',
    matches: (r) => r.major === 4 && r.minor === 12,
    features: { batchCapBytes: 1024 * 1024 },
    note: 'SUSE 4.12 carries "mm, page_alloc: double zone\'s batchsize" (LIFO batch:63; dmesg 07)',
  },
  {
    distro: 'rhel',
    matches: (r) => r.major === 4 && r.minor === 18,
    features: { unavailable: 'zeroed-total' },
    note: 'RHEL 8 4.18 carries the 4.20 zero_resv_unavail of 907ec5fca3dc ("Zeroed struct page in unavailable ranges"; dmesg 13)',
  },
  {
    distro: 'ubuntu',
    matches: (r) => r.major === 5 && r.minor === 8,
    features: { unavailable: 'per-zone' },
    note: 'Ubuntu 5.8 carries the 5.12 per-zone unavailable-range init ("DMA zone: N pages in unavailable ranges"; dmesg 25)',
  },
];

/** The newest mainline release the profile tables and zoneinfo layouts know (6.18.2's sources). */
export const NEWEST_PROFILE: readonly [number, number] = [6, 18];

/** The last minor of each finished mainline series: 4.20 was followed by 5.0, 5.19 by 6.0. */
const SERIES_END: Readonly<Record<number, number>> = { 4: 20, 5: 19 };

/**
 * The mainline major.minor whose profile a release gets when mmsim has none for its own: a
 * version after the newest it knows (6.19, 7.0) or one mainline never had (4.21, 5.20). Its
 * features are those of the nearest older release, which is named ("6.18"); null when the release
 * is a mainline version mmsim models (4.9 to 6.18).
 */
export function nearestProfile(major: number, minor: number): string | null {
  const end = SERIES_END[major];
  if (end !== undefined && minor > end) return `${major}.${end}`;
  if (v(major, minor) > v(NEWEST_PROFILE[0], NEWEST_PROFILE[1])) return NEWEST_PROFILE.join('.');
  return null;
}

/** Where the one-line "no profile" warnings go (the CLI: stderr); none by default. */
let warnSink: ((line: string) => void) | null = null;
const warned = new Set<string>();

/** Send each release's "no profile for kernel X; using the nearest, Y" line, once, to `sink` (null: nowhere). */
export function setProfileWarnings(sink: ((line: string) => void) | null): void {
  warnSink = sink;
  warned.clear();
}

/** The profile for a full release string, with the build string of the "Linux version" line if known. */
export function profileFor(releaseString: string, build = ''): KernelProfile {
  const release = parseRelease(releaseString, build);
  if (releaseCode(release) < v(4, 9)) {
    throw new InputError(`kernel ${release.release}: mmsim models kernels from 4.9 on; give --kernel 4.9 or later`);
  }
  const nearest = nearestProfile(release.major, release.minor);
  if (nearest !== null && !warned.has(release.release)) {
    warned.add(release.release);
    warnSink?.(`mmsim: no profile for kernel ${release.release}; using the nearest, ${nearest}`);
  }
  let features = mainlineFeatures(release.major, release.minor);
  const notes: string[] = [];
  // Rows applied (a note that a stable row was not applied is no backport).
  let applied = 0;
  for (const b of STABLE) {
    if (release.major !== b.branch[0] || release.minor !== b.branch[1]) continue;
    if (release.sublevelKnown && release.sublevel >= b.sinceSublevel) {
      features = { ...features, ...b.features };
      applied++;
      notes.push(`stable ${b.branch.join('.')}.${b.sinceSublevel}+: ${Object.keys(b.features).join(', ')} (${b.evidence})`);
    } else if (!release.sublevelKnown) {
      notes.push(`stable sublevel unknown: ${b.branch.join('.')}.${b.sinceSublevel}+ changes not applied (give the build string or a full version)`);
    }
  }
  for (const b of BACKPORTS) {
    if (b.distro === release.distro && b.matches(release)) {
      features = { ...features, ...b.features };
      applied++;
      notes.push(b.note);
    }
  }
  return {
    release,
    basis: `${nearest !== null ? `mainline ${nearest}, the nearest to ${release.major}.${release.minor}` : `mainline ${release.major}.${release.minor}${release.sublevelKnown ? `.${release.sublevel}` : ''}`}${applied ? ` + ${release.distro === 'vanilla' ? 'stable' : release.distro} backports` : ''}`,
    features,
    notes,
  };
}

/** Short forms accepted by --kernel: "6.1", "v5.3", "6.18" are mainline releases. */
export function profileForOption(opt: string): KernelProfile {
  const s = opt.trim().replace(/^v/, '');
  if (!/^\d+\.\d+/.test(s)) {
    throw new InputError(`--kernel ${opt}: expected a release such as 6.1, 5.3 or 5.19.0-0.deb11.2-amd64`);
  }
  return profileFor(s);
}
