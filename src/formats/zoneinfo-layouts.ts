// /proc/zoneinfo as three kernel versions print it (v5.3, 6.1, 6.18), written down as data plus
// small formatters and a renderer that reproduces the kernel's output line for line.
//
// Facts were taken from these sources (names, order and printf formats only):
//   v5.3  : mm/vmstat.c, include/linux/mmzone.h of linux v5.3 (Makefile 5.3.0).
//   6.1   : mm/vmstat.c, include/linux/mmzone.h of Debian's linux-source-6.1 (6.1.192-2).
//   6.18  : mm/vmstat.c, include/linux/mmzone.h of linux 6.18.2, checked line by line against
//           /proc/zoneinfo of a 6.18.44 Firecracker guest (see CONFIG notes on ZONEINFO_6_18).
//
// File structure, the same in all three versions (zoneinfo_show -> walk_zones_in_node):
//   - Nodes: every online node, in node id order.
//   - Zones: every zone of the node, index 0 .. MAX_NR_ZONES-1, populated or not. Zone names on
//     x86_64: DMA, DMA32, Normal, Movable, Device (HighMem only on 32-bit with CONFIG_HIGHMEM;
//     Device only with CONFIG_ZONE_DEVICE). The zone header is "Node %d, zone %8s" (right-aligned
//     to 8 columns).
//   - "  per-node stats" plus one "      %-12s %lu" line per node_stat_item follows the header
//     only in the node's first populated zone: the lowest-index zone with present_pages != 0.
//     A node with no populated zone prints no per-node stats at all. Rule identical in v5.3,
//     6.1, 6.18 (is_zone_first_populated).
//   - Then "  pages free     %lu" and the zoneFields lines ("        %-8s %lu" layout), then
//     "        protection: (%ld, %ld, ...)" with MAX_NR_ZONES entries (5 on x86_64 with
//     ZONE_DMA + ZONE_DMA32 + ZONE_DEVICE).
//   - Early return: if the zone is not populated (present_pages == 0) the zone's block ends
//     right after the protection line.
//   - Otherwise: zone stats, then (CONFIG_NUMA) numa stats, both "      %-12s %lu"; then
//     "  pagesets"; then for every online cpu "    cpu: %i" and the pageset fields, each
//     cpu followed by "  vm stats threshold: %d" (CONFIG_SMP); then
//     "  node_unreclaimable:  %u" (0/1: kswapd_failures >= MAX_RECLAIM_RETRIES (16)) and
//     "  start_pfn:           %lu".
//   - Every zone block ends with a newline; there is no blank line between blocks.

export type ZoneinfoVersion = 'v5.3' | '6.1' | '6.18';

/** A name whose presence depends on a config symbol. */
export interface ConditionalItem {
  readonly name: string;
  /** Kconfig symbol (without CONFIG_) that compiles the item in. */
  readonly config: string;
  /** Which list of the layout it belongs to. */
  readonly list: 'nodeStats' | 'zoneStats' | 'numaStats';
  /** Whether the layout's list includes it (i.e. the layout's reference config has it). */
  readonly included: boolean;
  /** For items not included: the name it is printed right after when enabled. */
  readonly after?: string;
}

export interface ZoneinfoLayout {
  readonly version: ZoneinfoVersion;
  /** Where the facts come from. */
  readonly source: string;
  /** node_stat_item names printed under "  per-node stats", in order, for a typical distro config. */
  readonly nodeStats: readonly string[];
  /** Lines between "  pages free" and "protection", in order, e.g. ['boost','min','low','high','promo','spanned','present','managed','cma']. */
  readonly zoneFields: readonly string[];
  /** zone_stat_item names printed after protection, in order (numa stats follow, see numaStats). */
  readonly zoneStats: readonly string[];
  /** numa_stat_item names printed after zoneStats (CONFIG_NUMA), same "      %-12s %lu" format. */
  readonly numaStats: readonly string[];
  /** Per-cpu pageset fields in order, e.g. ['count','high','batch'] or with high_min/high_max. */
  readonly pagesetFields: readonly string[];
  /** The exact printf of a pageset field line, e.g. "              count:    %i". */
  readonly pagesetLine: (field: string, value: number) => string;
  /** Whether "  vm stats threshold: %d" is printed per cpu (after each cpu's pageset) or once. */
  readonly thresholdPerCpu: boolean;
  /**
   * Items that exist only with some config symbol. `included: true` items are already in the
   * lists above; `included: false` ones would be inserted after `after` when their symbol is set.
   */
  readonly conditional: readonly ConditionalItem[];
  /**
   * Node stats whose printed value is divided by HPAGE_PMD_NR (512 on x86_64) when
   * CONFIG_TRANSPARENT_HUGEPAGE is set, i.e. printed in THP units rather than pages.
   * Empty for v5.3 (all values in pages, including the THP counters).
   */
  readonly thpUnitNodeStats: readonly string[];
  /** Stats whose value is in KiB rather than pages (nr_kernel_stack everywhere). */
  readonly kibStats: readonly string[];
  /** Renamed/split/moved names relative to the previous listed version (documentation). */
  readonly renames: readonly string[];
}

/** "      %-12s %lu": a per-node, zone or numa stat line. */
export function formatStatLine(name: string, value: number | bigint): string {
  return `      ${name.padEnd(12)} ${value}`;
}

/**
 * A zone field line: 'free' (or 'pages free') gives "  pages free     %lu"; any other field
 * ('boost','min','low','high','promo','spanned','present','managed','cma') gives
 * "        %-8s %lu", e.g. "        spanned  4095".
 */
export function formatZoneField(name: string, value: number | bigint): string {
  if (name === 'free' || name === 'pages free') return `  pages free     ${value}`;
  return `        ${name.padEnd(8)} ${value}`;
}

/** "Node %d, zone %8s" */
export function formatZoneHeader(node: number, zoneName: string): string {
  return `Node ${node}, zone ${zoneName.padStart(8)}`;
}

/** "        protection: (%ld, %ld, ...)": one entry per zone index (MAX_NR_ZONES). */
export function formatProtection(values: readonly (number | bigint)[]): string {
  return `        protection: (${values.join(', ')})`;
}

/** "    cpu: %i" */
export function formatPagesetCpu(cpu: number): string {
  return `    cpu: ${cpu}`;
}

/** "  vm stats threshold: %d" */
export function formatThreshold(threshold: number): string {
  return `  vm stats threshold: ${threshold}`;
}

/** "  node_unreclaimable:  %u" (the kernel prints 0 or 1). */
export function formatNodeUnreclaimable(v: boolean | number): string {
  return `  node_unreclaimable:  ${typeof v === 'boolean' ? (v ? 1 : 0) : v}`;
}

/** "  start_pfn:           %lu" */
export function formatStartPfn(pfn: number | bigint): string {
  return `  start_pfn:           ${pfn}`;
}

export const PER_NODE_STATS_LINE = '  per-node stats';
export const PAGESETS_LINE = '  pagesets';

/** Zone names in zone index order on x86_64 with ZONE_DMA, ZONE_DMA32 and ZONE_DEVICE (all three versions). */
export const X86_64_ZONE_NAMES: readonly string[] = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'];
/** MAX_NR_ZONES for that config = number of protection entries. */
export const X86_64_MAX_NR_ZONES = 5;

/** v5.3 and 6.1: "              count: %i", "              high:  %i", "              batch: %i". */
function pagesetLineShort(field: string, value: number): string {
  return `              ${(field + ':').padEnd(6)} ${value}`;
}

/** 6.18: "              count:    %i" ... "              high_max: %i" (colon-padded to 9). */
function pagesetLineLong(field: string, value: number): string {
  return `              ${(field + ':').padEnd(9)} ${value}`;
}

const NUMA_STATS: readonly string[] = ['numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other'];

const NUMA_CONDITIONAL: readonly ConditionalItem[] = NUMA_STATS.map((name) => ({
  name,
  config: 'NUMA',
  list: 'numaStats' as const,
  included: true,
}));

const LRU_NODE_STATS: readonly string[] = [
  'nr_inactive_anon',
  'nr_active_anon',
  'nr_inactive_file',
  'nr_active_file',
  'nr_unevictable',
  'nr_slab_reclaimable',
  'nr_slab_unreclaimable',
  'nr_isolated_anon',
  'nr_isolated_file',
  'workingset_nodes',
];

/**
 * v5.3. Reference config: x86_64 distro (NUMA, ZSMALLOC, ZONE_DMA/DMA32/DEVICE, SMP).
 * No node stat depends on config in this version. The procfs fixture
 * /work/shared/data/procfs/procfs-zoneinfo.txt has exactly this layout.
 */
export const ZONEINFO_V5_3: ZoneinfoLayout = {
  version: 'v5.3',
  source: 'linux v5.3 mm/vmstat.c zoneinfo_show_print + vmstat_text; include/linux/mmzone.h enums',
  nodeStats: [
    ...LRU_NODE_STATS,
    'workingset_refault',
    'workingset_activate',
    'workingset_restore',
    'workingset_nodereclaim',
    'nr_anon_pages',
    'nr_mapped',
    'nr_file_pages',
    'nr_dirty',
    'nr_writeback',
    'nr_writeback_temp',
    'nr_shmem',
    'nr_shmem_hugepages',
    'nr_shmem_pmdmapped',
    'nr_anon_transparent_hugepages',
    'nr_unstable',
    'nr_vmscan_write',
    'nr_vmscan_immediate_reclaim',
    'nr_dirtied',
    'nr_written',
    'nr_kernel_misc_reclaimable',
  ],
  // No boost, promo or cma lines in v5.3.
  zoneFields: ['min', 'low', 'high', 'spanned', 'present', 'managed'],
  zoneStats: [
    'nr_free_pages',
    'nr_zone_inactive_anon',
    'nr_zone_active_anon',
    'nr_zone_inactive_file',
    'nr_zone_active_file',
    'nr_zone_unevictable',
    'nr_zone_write_pending',
    'nr_mlock',
    'nr_page_table_pages',
    'nr_kernel_stack',
    'nr_bounce',
    'nr_zspages',
    'nr_free_cma',
  ],
  numaStats: NUMA_STATS,
  pagesetFields: ['count', 'high', 'batch'],
  pagesetLine: pagesetLineShort,
  thresholdPerCpu: true,
  conditional: [{ name: 'nr_zspages', config: 'ZSMALLOC', list: 'zoneStats', included: true }, ...NUMA_CONDITIONAL],
  thpUnitNodeStats: [],
  kibStats: ['nr_kernel_stack'],
  renames: ['nr_page_table_pages and nr_kernel_stack are zone stats (moved to per-node stats by 6.1)', 'workingset_refault/activate/restore are single counters (split into _anon/_file by 6.1)'],
};

/**
 * 6.1 (Debian 6.1.192 source). Reference config: Debian-like x86_64 (NUMA, NUMA_BALANCING, SWAP,
 * ZSMALLOC, ZONE_DMA/DMA32/DEVICE, SMP; no SHADOW_CALL_STACK, which is arm64-only).
 */
export const ZONEINFO_6_1: ZoneinfoLayout = {
  version: '6.1',
  source: 'Debian linux-source-6.1 (6.1.192-2) mm/vmstat.c zoneinfo_show_print + vmstat_text; include/linux/mmzone.h enums',
  nodeStats: [
    ...LRU_NODE_STATS,
    'workingset_refault_anon',
    'workingset_refault_file',
    'workingset_activate_anon',
    'workingset_activate_file',
    'workingset_restore_anon',
    'workingset_restore_file',
    'workingset_nodereclaim',
    'nr_anon_pages',
    'nr_mapped',
    'nr_file_pages',
    'nr_dirty',
    'nr_writeback',
    'nr_writeback_temp',
    'nr_shmem',
    'nr_shmem_hugepages',
    'nr_shmem_pmdmapped',
    'nr_file_hugepages',
    'nr_file_pmdmapped',
    'nr_anon_transparent_hugepages',
    'nr_vmscan_write',
    'nr_vmscan_immediate_reclaim',
    'nr_dirtied',
    'nr_written',
    'nr_throttled_written',
    'nr_kernel_misc_reclaimable',
    'nr_foll_pin_acquired',
    'nr_foll_pin_released',
    'nr_kernel_stack',
    'nr_page_table_pages',
    'nr_sec_page_table_pages',
    'nr_swapcached',
    'pgpromote_success',
    'pgpromote_candidate',
  ],
  zoneFields: ['boost', 'min', 'low', 'high', 'spanned', 'present', 'managed', 'cma'],
  zoneStats: [
    'nr_free_pages',
    'nr_zone_inactive_anon',
    'nr_zone_active_anon',
    'nr_zone_inactive_file',
    'nr_zone_active_file',
    'nr_zone_unevictable',
    'nr_zone_write_pending',
    'nr_mlock',
    'nr_bounce',
    'nr_zspages',
    'nr_free_cma',
  ],
  numaStats: NUMA_STATS,
  pagesetFields: ['count', 'high', 'batch'],
  pagesetLine: pagesetLineShort,
  thresholdPerCpu: true,
  conditional: [
    { name: 'nr_shadow_call_stack', config: 'SHADOW_CALL_STACK', list: 'nodeStats', included: false, after: 'nr_kernel_stack' },
    { name: 'nr_swapcached', config: 'SWAP', list: 'nodeStats', included: true },
    { name: 'pgpromote_success', config: 'NUMA_BALANCING', list: 'nodeStats', included: true },
    { name: 'pgpromote_candidate', config: 'NUMA_BALANCING', list: 'nodeStats', included: true },
    { name: 'nr_zspages', config: 'ZSMALLOC', list: 'zoneStats', included: true },
    ...NUMA_CONDITIONAL,
  ],
  thpUnitNodeStats: ['nr_shmem_hugepages', 'nr_shmem_pmdmapped', 'nr_file_hugepages', 'nr_file_pmdmapped', 'nr_anon_transparent_hugepages'],
  kibStats: ['nr_kernel_stack'],
  renames: [
    'workingset_refault -> workingset_refault_anon + workingset_refault_file (same for activate, restore)',
    'nr_unstable removed',
    'nr_page_table_pages, nr_kernel_stack moved from zone stats to per-node stats (nr_kernel_stack now after nr_foll_pin_released, before nr_page_table_pages)',
    'new: nr_file_hugepages, nr_file_pmdmapped, nr_throttled_written, nr_foll_pin_acquired/released, nr_sec_page_table_pages, nr_swapcached, pgpromote_*',
    'zone fields: boost (before min) and cma (after managed) added',
  ],
};

/**
 * 6.18 (6.18.2 source). The lists match, name for name and in order, /proc/zoneinfo of a
 * 6.18.44 Firecracker guest whose config has NUMA, NUMA_BALANCING, SWAP, ZSMALLOC,
 * IOMMU_SUPPORT, HUGETLB_PAGE, TRANSPARENT_HUGEPAGE, MEMCG, MEMORY_HOTPLUG,
 * ZONE_DMA/DMA32/DEVICE, SMP, no CMA (does not change any name), no UNACCEPTED_MEMORY, no
 * SHADOW_CALL_STACK. Config-only difference from a typical distro (Debian/Ubuntu) x86_64 kernel:
 * those set UNACCEPTED_MEMORY (selected by INTEL_TDX_GUEST / AMD_MEM_ENCRYPT), which adds the
 * zone stat nr_unaccepted after nr_free_cma; it is listed in `conditional` with included: false.
 */
export const ZONEINFO_6_18: ZoneinfoLayout = {
  version: '6.18',
  source: 'linux 6.18.2 mm/vmstat.c zoneinfo_show_print + vmstat_text; include/linux/mmzone.h enums; checked against a 6.18.44 /proc/zoneinfo',
  nodeStats: [
    ...LRU_NODE_STATS,
    'workingset_refault_anon',
    'workingset_refault_file',
    'workingset_activate_anon',
    'workingset_activate_file',
    'workingset_restore_anon',
    'workingset_restore_file',
    'workingset_nodereclaim',
    'nr_anon_pages',
    'nr_mapped',
    'nr_file_pages',
    'nr_dirty',
    'nr_writeback',
    'nr_shmem',
    'nr_shmem_hugepages',
    'nr_shmem_pmdmapped',
    'nr_file_hugepages',
    'nr_file_pmdmapped',
    'nr_anon_transparent_hugepages',
    'nr_vmscan_write',
    'nr_vmscan_immediate_reclaim',
    'nr_dirtied',
    'nr_written',
    'nr_throttled_written',
    'nr_kernel_misc_reclaimable',
    'nr_foll_pin_acquired',
    'nr_foll_pin_released',
    'nr_kernel_stack',
    'nr_page_table_pages',
    'nr_sec_page_table_pages',
    'nr_iommu_pages',
    'nr_swapcached',
    'pgpromote_success',
    'pgpromote_candidate',
    'pgpromote_candidate_nrl',
    'pgdemote_kswapd',
    'pgdemote_direct',
    'pgdemote_khugepaged',
    'pgdemote_proactive',
    'nr_hugetlb',
    'nr_balloon_pages',
    'nr_kernel_file_pages',
  ],
  zoneFields: ['boost', 'min', 'low', 'high', 'promo', 'spanned', 'present', 'managed', 'cma'],
  zoneStats: [
    'nr_free_pages',
    'nr_free_pages_blocks',
    'nr_zone_inactive_anon',
    'nr_zone_active_anon',
    'nr_zone_inactive_file',
    'nr_zone_active_file',
    'nr_zone_unevictable',
    'nr_zone_write_pending',
    'nr_mlock',
    'nr_zspages',
    'nr_free_cma',
  ],
  numaStats: NUMA_STATS,
  pagesetFields: ['count', 'high', 'batch', 'high_min', 'high_max'],
  pagesetLine: pagesetLineLong,
  thresholdPerCpu: true,
  conditional: [
    { name: 'nr_shadow_call_stack', config: 'SHADOW_CALL_STACK', list: 'nodeStats', included: false, after: 'nr_kernel_stack' },
    { name: 'nr_iommu_pages', config: 'IOMMU_SUPPORT', list: 'nodeStats', included: true },
    { name: 'nr_swapcached', config: 'SWAP', list: 'nodeStats', included: true },
    { name: 'pgpromote_success', config: 'NUMA_BALANCING', list: 'nodeStats', included: true },
    { name: 'pgpromote_candidate', config: 'NUMA_BALANCING', list: 'nodeStats', included: true },
    { name: 'pgpromote_candidate_nrl', config: 'NUMA_BALANCING', list: 'nodeStats', included: true },
    { name: 'nr_hugetlb', config: 'HUGETLB_PAGE', list: 'nodeStats', included: true },
    { name: 'nr_zspages', config: 'ZSMALLOC', list: 'zoneStats', included: true },
    { name: 'nr_unaccepted', config: 'UNACCEPTED_MEMORY', list: 'zoneStats', included: false, after: 'nr_free_cma' },
    ...NUMA_CONDITIONAL,
  ],
  thpUnitNodeStats: ['nr_shmem_hugepages', 'nr_shmem_pmdmapped', 'nr_file_hugepages', 'nr_file_pmdmapped', 'nr_anon_transparent_hugepages'],
  kibStats: ['nr_kernel_stack'],
  renames: [
    'nr_writeback_temp removed from per-node stats',
    'nr_bounce removed from zone stats; nr_free_pages_blocks added after nr_free_pages',
    'new per-node stats: nr_iommu_pages, pgpromote_candidate_nrl, pgdemote_kswapd/direct/khugepaged/proactive, nr_hugetlb, nr_balloon_pages, nr_kernel_file_pages',
    'zone fields: promo added between high and spanned',
    'pagesets: high_min and high_max added; field labels padded to 9 columns ("count:    ")',
  ],
};

export const ZONEINFO_LAYOUTS: Record<ZoneinfoVersion, ZoneinfoLayout> = {
  'v5.3': ZONEINFO_V5_3,
  '6.1': ZONEINFO_6_1,
  '6.18': ZONEINFO_6_18,
};

/** A layout's list with chosen `included: false` conditional items switched on (e.g. ['UNACCEPTED_MEMORY']). */
export function withConfig(layout: ZoneinfoLayout, enable: readonly string[]): ZoneinfoLayout {
  const lists = {
    nodeStats: [...layout.nodeStats],
    zoneStats: [...layout.zoneStats],
    numaStats: [...layout.numaStats],
  };
  for (const c of layout.conditional) {
    if (c.included || !enable.includes(c.config) || c.after === undefined) continue;
    const list = lists[c.list];
    if (list.includes(c.name)) continue;
    const at = list.indexOf(c.after);
    list.splice(at < 0 ? list.length : at + 1, 0, c.name);
  }
  return { ...layout, ...lists };
}

// ---------------------------------------------------------------------------------------------
// Renderer: the whole file from values, following the kernel's control flow.

export interface ZoneinfoPageset {
  readonly cpu: number;
  /** Values for layout.pagesetFields, by name (missing ones print 0). */
  readonly values: Readonly<Record<string, number>>;
  /** Per-cpu stat_threshold; omit to model !CONFIG_SMP (no threshold line). */
  readonly threshold?: number;
}

export interface ZoneinfoZone {
  /** Zone name as the kernel spells it: 'DMA', 'DMA32', 'Normal', 'Movable', 'Device'. */
  readonly name: string;
  /** 'free' plus layout.zoneFields by name (missing ones print 0). 'present' decides populated_zone(). */
  readonly fields: Readonly<Record<string, number | bigint>>;
  /** lowmem_reserve, one entry per zone index (MAX_NR_ZONES). */
  readonly protection: readonly (number | bigint)[];
  /** zone stats and numa stats by name (missing ones print 0). */
  readonly stats?: Readonly<Record<string, number | bigint>>;
  readonly pagesets?: readonly ZoneinfoPageset[];
  readonly nodeUnreclaimable?: boolean;
  readonly startPfn?: number | bigint;
}

export interface ZoneinfoNode {
  readonly id: number;
  /** node stat values by name, as printed (THP-unit items already divided). */
  readonly nodeStats?: Readonly<Record<string, number | bigint>>;
  /** All zones of the node in zone index order, populated or not. */
  readonly zones: readonly ZoneinfoZone[];
}

function isPopulated(z: ZoneinfoZone): boolean {
  const p = z.fields['present'];
  return p !== undefined && p !== 0 && p !== 0n;
}

/** Render /proc/zoneinfo for online nodes (in the given order) with a layout. */
export function renderZoneinfo(layout: ZoneinfoLayout, nodes: readonly ZoneinfoNode[]): string {
  const out: string[] = [];
  for (const node of nodes) {
    const first = node.zones.findIndex(isPopulated);
    node.zones.forEach((z, idx) => {
      out.push(formatZoneHeader(node.id, z.name));
      if (idx === first) {
        out.push(PER_NODE_STATS_LINE);
        for (const n of layout.nodeStats) out.push(formatStatLine(n, node.nodeStats?.[n] ?? 0));
      }
      out.push(formatZoneField('free', z.fields['free'] ?? 0));
      for (const f of layout.zoneFields) out.push(formatZoneField(f, z.fields[f] ?? 0));
      out.push(formatProtection(z.protection));
      if (!isPopulated(z)) return;
      for (const s of layout.zoneStats) out.push(formatStatLine(s, z.stats?.[s] ?? 0));
      for (const s of layout.numaStats) out.push(formatStatLine(s, z.stats?.[s] ?? 0));
      out.push(PAGESETS_LINE);
      for (const p of z.pagesets ?? []) {
        out.push(formatPagesetCpu(p.cpu));
        for (const f of layout.pagesetFields) out.push(layout.pagesetLine(f, p.values[f] ?? 0));
        if (p.threshold !== undefined) out.push(formatThreshold(p.threshold));
      }
      out.push(formatNodeUnreclaimable(z.nodeUnreclaimable ?? false));
      out.push(formatStartPfn(z.startPfn ?? 0));
    });
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}
