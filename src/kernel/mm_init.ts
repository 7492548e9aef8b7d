// Boot-time zone and node layout: free_area_init (6.18 mm/mm_init.c; free_area_init_nodes in
// v5.3 mm/page_alloc.c) and what it prints, per kernel profile. Leaves out the memmap contents
// (issue 4), deferred init, and CONFIG_HIGHMEM architectures.
import { pageblockNrPages, pageBytes, type Arch, type ZoneName } from '../arch/arch.js';
import { MAX_DMA_PFN } from '../arch/x86_64.js';
import { InputError } from '../errors.js';
import type { KernelFeatures, KernelProfile } from '../profiles/profile.js';
import type { MachineSpec } from './machine_spec.js';
import { absentPagesInRange, applyMemLimit, dmaReserveFromReserved, pfnRangeForNid, pfnRegions, type PfnRegion } from './memblock.js';
import { probeMemoryBlockSize } from './memory.js';
import { hex018, KernelLog } from './printk.js';
import { MemmapLinks } from './memmap_links.js';
import { machineLimitError } from './limits.js';
import { sparseBoot, type Sparse } from './sparse.js';
import { bootImage, memblockBoot, memoryLine, type BootMemblock } from './setup.js';
import type { PglistData, Zone } from './mmzone.js';
import { rounddownPowOfTwo, roundUp, type Bytes, type Nid, type Pfn } from '../units.js';

export interface BootState {
  readonly arch: Arch;
  readonly profile: KernelProfile;
  readonly spec: MachineSpec;
  /** memblock.memory as pfn ranges, after mem=. */
  readonly regions: readonly PfnRegion[];
  /** max_pfn: RAM's end at boot; x86 add_pages raises it (memory_hotplug.ts archAddMemory). */
  maxPfn: Pfn;
  readonly zoneNames: readonly ZoneName[];
  readonly archZoneLowestPfn: readonly Pfn[];
  readonly archZoneHighestPfn: readonly Pfn[];
  /** zone_movable_pfn[nid] (0: no ZONE_MOVABLE on the node). */
  readonly zoneMovablePfn: ReadonlyMap<Nid, Pfn>;
  /** Index of the zone ZONE_MOVABLE takes its pages from (find_usable_zone_for_movable). */
  readonly movableZone: number;
  readonly nodes: readonly PglistData[];
  readonly sparse: Sparse;
  /** dma_reserve in pages; null where the inputs do not determine it. */
  readonly dmaReservePages: number | null;
  /** vm_total_pages as printed by build_all_zonelists; null where not derivable. */
  readonly totalPages: number | null;
  readonly memoryBlockBytes: Bytes;
  /** Zone links boot wrote into struct pages (for valid_zones on older kernels). */
  readonly memmapLinks: MemmapLinks;
  /** Boot's memblock allocations and memblock_free_all (kernel/setup.ts); null where not modelled or the image is unknown. */
  readonly memblock: BootMemblock | null;
  readonly log: KernelLog;
}

/** MIGRATE_TYPES with CONFIG_CMA and CONFIG_MEMORY_ISOLATION (v5.3 enum migratetype). */
const MIGRATE_TYPES = 6;

/** find_zone_movable_pfns_for_nodes (6.18 and v5.3; the differences are profile features). */
function findZoneMovablePfnsForNodes(
  arch: Arch,
  f: KernelFeatures,
  spec: MachineSpec,
  regions: readonly PfnRegion[],
  lowest: readonly Pfn[],
  highest: readonly Pfn[],
  zoneNames: readonly ZoneName[],
  log: KernelLog,
): { zoneMovablePfn: Map<Nid, Pfn>; movableZone: number } {
  const zmp = new Map<Nid, Pfn>();
  const memNodes = [...new Set(regions.map((r) => r.nid))].sort((a, b) => a - b);
  const totalpages = regions.reduce((s, r) => s + (r.end - r.start), 0);
  // find_usable_zone_for_movable: highest non-Movable zone with a non-empty arch range.
  let movableZone = -1;
  for (let z = zoneNames.length - 1; z >= 0; z--) {
    if (zoneNames[z] === 'Movable') continue;
    if ((highest[z] ?? 0) > (lowest[z] ?? 0)) {
      movableZone = z;
      break;
    }
  }
  const get = (nid: Nid): Pfn => zmp.get(nid) ?? 0;
  const setMin = (nid: Nid, pfn: Pfn): void => {
    const cur = get(nid);
    zmp.set(nid, cur ? Math.min(cur, pfn) : pfn);
  };
  const out2 = (): void => {
    for (const nid of memNodes) {
      const aligned = roundUp(get(nid), arch.maxOrderNrPages);
      const { end } = pfnRangeForNid(regions, nid);
      zmp.set(nid, f.movableClearBeyondNodeEnd && aligned >= end ? 0 : aligned);
    }
  };

  const { boot } = spec;
  if (boot.movableNode) {
    for (const r of regions) if (r.hotpluggable) setMin(r.nid, r.start);
    out2();
    return { zoneMovablePfn: zmp, movableZone };
  }
  if (boot.kernelcore === 'mirror') {
    if (f.mirrorNeedsMirrorMemory && !regions.some((r) => r.mirror)) {
      log.warn('The system has no mirror memory, ignore kernelcore=mirror.');
      return { zoneMovablePfn: zmp, movableZone };
    }
    let below4g = false;
    for (const r of regions) {
      if (r.mirror) continue;
      if (r.start < 0x100000) {
        below4g = true;
        continue;
      }
      setMin(r.nid, r.start);
    }
    if (below4g) log.warn('This configuration results in unmirrored kernel memory.');
    out2();
    return { zoneMovablePfn: zmp, movableZone };
  }

  const page = pageBytes(arch);
  // cmdline_parse_core: bytes >> PAGE_SHIFT, or (totalpages * 100 * percent) / 10000.
  const pagesOf = (c: { bytes: number } | { percent: number }): number => ('bytes' in c ? Math.floor(c.bytes / page) : Math.floor((totalpages * 100 * c.percent) / 10000));
  let requiredKernelcore = boot.kernelcore ? pagesOf(boot.kernelcore) : 0;
  if (boot.movablecore) {
    let requiredMovablecore = pagesOf(boot.movablecore);
    requiredMovablecore = Math.min(totalpages, roundUp(requiredMovablecore, arch.maxOrderNrPages));
    requiredKernelcore = Math.max(requiredKernelcore, totalpages - requiredMovablecore);
  }
  if (!requiredKernelcore || requiredKernelcore >= totalpages) return { zoneMovablePfn: zmp, movableZone };

  const usableStartpfn = lowest[movableZone] ?? 0;
  let usableNodes = memNodes.length;
  for (;;) {
    let kernelcoreNode = Math.floor(requiredKernelcore / usableNodes);
    for (const nid of memNodes) {
      if (requiredKernelcore < kernelcoreNode) kernelcoreNode = Math.floor(requiredKernelcore / usableNodes);
      let kernelcoreRemaining = kernelcoreNode;
      for (const r of regions) {
        if (r.nid !== nid) continue;
        let startPfn = Math.max(r.start, get(nid));
        const endPfn = r.end;
        if (startPfn >= endPfn) continue;
        if (startPfn < usableStartpfn) {
          const kernelPages = Math.min(endPfn, usableStartpfn) - startPfn;
          kernelcoreRemaining -= Math.min(kernelPages, kernelcoreRemaining);
          requiredKernelcore -= Math.min(kernelPages, requiredKernelcore);
          if (endPfn <= usableStartpfn) {
            zmp.set(nid, endPfn);
            continue;
          }
          startPfn = usableStartpfn;
        }
        const sizePages = Math.min(endPfn - startPfn, kernelcoreRemaining);
        zmp.set(nid, startPfn + sizePages);
        requiredKernelcore -= Math.min(requiredKernelcore, sizePages);
        kernelcoreRemaining -= sizePages;
        if (!kernelcoreRemaining) break;
      }
    }
    usableNodes--;
    if (!(usableNodes && requiredKernelcore > usableNodes)) break;
  }
  out2();
  return { zoneMovablePfn: zmp, movableZone };
}

/** zone_spanned_pages_in_node + adjust_zone_range_for_zone_movable: [start, end) and spanned. */
function zoneSpannedPagesInNode(
  nid: Nid,
  zoneIdx: number,
  zoneNames: readonly ZoneName[],
  nodeStart: Pfn,
  nodeEnd: Pfn,
  lowest: readonly Pfn[],
  highest: readonly Pfn[],
  zoneMovablePfn: ReadonlyMap<Nid, Pfn>,
  movableZone: number,
  mirrored: boolean,
): { start: Pfn; end: Pfn; spanned: number } {
  const lo = lowest[zoneIdx] ?? 0;
  const hi = highest[zoneIdx] ?? 0;
  let start = Math.min(Math.max(nodeStart, lo), hi);
  let end = Math.min(Math.max(nodeEnd, lo), hi);
  const zmp = zoneMovablePfn.get(nid) ?? 0;
  if (zmp) {
    if (zoneNames[zoneIdx] === 'Movable') {
      start = zmp;
      end = Math.min(nodeEnd, highest[movableZone] ?? 0);
    } else if (!mirrored && start < zmp && end > zmp) {
      end = zmp;
    } else if (start >= zmp) {
      start = end;
    }
  }
  if (end < nodeStart || start > nodeEnd) return { start, end, spanned: 0 };
  end = Math.min(end, nodeEnd);
  start = Math.max(start, nodeStart);
  return { start, end, spanned: end - start };
}

/** zone_absent_pages_in_node, with the kernelcore=mirror accounting. */
function zoneAbsentPagesInNode(regions: readonly PfnRegion[], nid: Nid, zoneName: ZoneName, start: Pfn, end: Pfn, mirroredWithMovable: boolean): number {
  if (start === end) return 0;
  let absent = absentPagesInRange(regions, nid, start, end);
  if (mirroredWithMovable) {
    for (const r of regions) {
      const s = Math.min(Math.max(r.start, start), end);
      const e = Math.min(Math.max(r.end, start), end);
      if (zoneName === 'Movable' && r.mirror) absent += e - s;
      if (zoneName === 'Normal' && !r.mirror) absent += e - s;
    }
  }
  return absent;
}

/** calc_memmap_size (v5.3): struct-page pages for spanned, or present if holes exceed 1/16. */
export function calcMemmapSize(arch: Arch, spanned: number, present: number): number {
  const pages = spanned > present + Math.floor(present / 16) && arch.sparsemem ? present : spanned;
  const page = pageBytes(arch);
  return Math.ceil((pages * arch.structPageBytes) / page);
}

/** zone_batchsize (v5.3 / 6.18 with the profile's cap). */
export function zoneBatchsize(arch: Arch, managed: number, capBytes: number): number {
  let batch = Math.floor(managed / 1024);
  const cap = capBytes / pageBytes(arch);
  if (batch > cap) batch = cap;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return rounddownPowOfTwo(batch + Math.floor(batch / 2)) - 1;
}

/** Lines for the unavailable-range accounting, per profile format (see profile.ts). */
class UnavailableRanges {
  /** per-zone format: memmap_init's static hole_pfn, shared by every zone and node. */
  private perZoneHolePfn = 0;

  constructor(
    private readonly state: { regions: readonly PfnRegion[]; sparse: Sparse; maxPfn: Pfn },
    private readonly log: KernelLog,
    private readonly links: MemmapLinks,
  ) {}

  /**
   * zero_resv_unavail / init_unavailable_mem (4.20-5.11, 4.19.103+): zero (5.6+: initialise) the valid struct pages of the holes of
   * memblock.memory from pfn 0 to max_pfn (5.6+, 5.4.19+, 4.19.103+: to max_pfn rounded up to a section).
   */
  zeroResvUnavail(tailToSection: boolean, initialise: boolean): void {
    const { regions, sparse, maxPfn } = this.state;
    // 5.6+ init_unavailable_range: __init_single_page(page, pfn, 0, 0) + __SetPageReserved.
    const kind = initialise ? 'hole' : 'zeroed';
    let next = 0;
    let pgcnt = 0;
    for (const r of regions) {
      if (next < r.start) {
        pgcnt += sparse.countValidPageblockPfns(next, r.start);
        this.links.write({ start: next, end: r.start, zoneIdx: 0, nid: 0, kind });
      }
      next = r.end;
    }
    const end = tailToSection ? roundUp(maxPfn, sparse.pagesPerSection) : maxPfn;
    pgcnt += sparse.countValidPageblockPfns(next, end);
    this.links.write({ start: next, end, zoneIdx: 0, nid: 0, kind });
    if (pgcnt) this.log.info(`Zeroed struct page in unavailable ranges: ${pgcnt} pages`);
  }

  /**
   * zero_resv_unavail (4.15-4.19.102): the struct pages of memblock.reserved that is not
   * memblock.memory (for_each_resv_unavail_range), where the pageblock's first pfn is valid.
   */
  reservedButUnavailable(reserved: readonly { base: number; size: number }[] | null, pageBytes: number): void {
    const { regions, sparse } = this.state;
    if (reserved === null) {
      this.log.omit('Reserved but unavailable: N pages', 'memblock.reserved is not among the inputs');
      return;
    }
    let pgcnt = 0;
    for (const x of reserved) {
      // Pieces of the reserved range outside every memory region.
      let cursor = Math.floor(x.base / pageBytes);
      const end = Math.ceil((x.base + x.size) / pageBytes);
      for (const r of regions) {
        if (r.end <= cursor || r.start >= end) continue;
        if (r.start > cursor) {
          pgcnt += sparse.countValidPageblockPfns(cursor, r.start);
          this.links.write({ start: cursor, end: r.start, zoneIdx: 0, nid: 0, kind: 'zeroed' });
        }
        cursor = Math.max(cursor, r.end);
      }
      if (cursor < end) {
        pgcnt += sparse.countValidPageblockPfns(cursor, end);
        this.links.write({ start: cursor, end, zoneIdx: 0, nid: 0, kind: 'zeroed' });
      }
    }
    if (pgcnt) this.log.info(`Reserved but unavailable: ${pgcnt} pages`);
  }

  /** memmap_init_zone (v5.11): holes of one zone, plus the tail to the section end. */
  memmapInitZone(zone: Zone): void {
    const { regions, sparse } = this.state;
    const zs = zone.zoneStartPfn;
    const ze = zs + zone.spannedPages;
    let pgcnt = 0;
    for (const r of regions) {
      if (r.nid !== zone.nid) continue;
      const s = Math.min(Math.max(r.start, zs), ze);
      const e = Math.min(Math.max(r.end, zs), ze);
      this.links.write({ start: s, end: e, zoneIdx: zone.zoneIdx, nid: zone.nid, kind: 'init' });
      if (this.perZoneHolePfn < s) {
        pgcnt += sparse.countValidPageblockPfns(this.perZoneHolePfn, s);
        this.links.write({ start: this.perZoneHolePfn, end: s, zoneIdx: zone.zoneIdx, nid: zone.nid, kind: 'hole' });
      }
      this.perZoneHolePfn = e;
    }
    const end = roundUp(ze, sparse.pagesPerSection);
    if (this.perZoneHolePfn < end) {
      pgcnt += sparse.countValidPageblockPfns(this.perZoneHolePfn, end);
      this.links.write({ start: this.perZoneHolePfn, end, zoneIdx: zone.zoneIdx, nid: zone.nid, kind: 'hole' });
    }
    if (pgcnt) this.log.info(`  ${zone.name} zone: ${pgcnt} pages in unavailable ranges`);
  }

  /** memmap_init (5.12+, 6.18): holes attributed to the zone above them, the tail to the last zone. */
  memmapInit(nodes: readonly PglistData[]): void {
    const { regions, sparse } = this.state;
    let holePfn = 0;
    let zoneIdx = 0;
    let lastNid = 0;
    const line = (nid: Nid, zone: ZoneName, n: number): void => {
      if (n) this.log.info(`On node ${nid}, zone ${zone}: ${n} pages in unavailable ranges`);
    };
    const byNid = new Map(nodes.map((n) => [n.nodeId, n]));
    let lastEnd = 0;
    for (const r of regions) {
      const node = byNid.get(r.nid);
      lastNid = r.nid;
      lastEnd = r.end;
      if (!node) continue;
      for (const zone of node.zones) {
        if (zone.presentPages === 0) continue;
        const zs = zone.zoneStartPfn;
        const ze = zs + zone.spannedPages;
        const s = Math.min(Math.max(r.start, zs), ze);
        const e = Math.min(Math.max(r.end, zs), ze);
        zoneIdx = zone.zoneIdx;
        if (s >= e) continue;
        this.links.write({ start: s, end: e, zoneIdx: zone.zoneIdx, nid: r.nid, kind: 'init' });
        if (holePfn < s) {
          line(r.nid, zone.name, sparse.countValidPageblockPfns(holePfn, s));
          this.links.write({ start: holePfn, end: s, zoneIdx: zone.zoneIdx, nid: r.nid, kind: 'hole' });
        }
        holePfn = e;
      }
    }
    const end = roundUp(lastEnd, sparse.pagesPerSection);
    const lastNode = byNid.get(lastNid);
    const zoneName = lastNode?.zones[zoneIdx]?.name;
    if (holePfn < end && zoneName) {
      line(lastNid, zoneName, sparse.countValidPageblockPfns(holePfn, end));
      this.links.write({ start: holePfn, end, zoneIdx, nid: lastNid, kind: 'hole' });
    }
  }
}

/** What free_area_init's per-node helpers share, set up once per boot and passed explicitly. */
interface FreeAreaInitContext {
  readonly arch: Arch;
  readonly f: KernelFeatures;
  readonly regions: readonly PfnRegion[];
  readonly zoneNames: readonly ZoneName[];
  readonly lowest: readonly Pfn[];
  readonly highest: readonly Pfn[];
  readonly zoneMovablePfn: ReadonlyMap<Nid, Pfn>;
  readonly movableZone: number;
  /** kernelcore=mirror. */
  readonly mirrored: boolean;
  readonly dmaReservePages: number | null;
  readonly links: MemmapLinks;
  readonly unavailable: UnavailableRanges;
  readonly log: KernelLog;
}

/** free_area_init and the boot steps around it that print memory-layout lines. */
export function freeAreaInit(arch: Arch, profile: KernelProfile, spec: MachineSpec): BootState {
  // Files are checked as they are read; a machine built in code or read from a running system
  // meets the same limits here, before anything is sized by it.
  const limitError = machineLimitError(spec);
  if (limitError) throw new InputError(`${spec.name}: ${limitError}`);
  const f: KernelFeatures = profile.features;
  const log = new KernelLog();
  const memory = spec.boot.memLimit !== undefined && !spec.memLimitApplied ? applyMemLimit(spec.memory, spec.boot.memLimit) : spec.memory;
  const regions = pfnRegions(arch, memory);
  // memblock with no memory: x86's setup_arch has nothing to allocate the page tables, the
  // memmap or the kernel's own data from, and no kernel gets as far as free_area_init.
  if (regions.length === 0) {
    const cut =
      memory.length < spec.memory.length && spec.boot.memLimit !== undefined
        ? ` (mem= keeps only what lies below 0x${spec.boot.memLimit.toString(16)}, and the RAM starts at 0x${Math.min(...spec.memory.map((r) => r.base)).toString(16)})`
        : '';
    throw new InputError(`${spec.name}: no memory to boot on${cut}; expected at least one RAM range of a page or more`);
  }
  const maxPfn = regions.reduce((m, r) => Math.max(m, r.end), 0);
  const zoneNames = arch.zones;
  const minPfn = regions.length ? regions.reduce((m, r) => Math.min(m, r.start), Infinity) : 0;
  const maxZonePfn = zoneSizesInit(arch, spec, minPfn, maxPfn, log);
  const { lowest, highest } = archZonePossiblePfns(zoneNames, minPfn, maxZonePfn);
  const { zoneMovablePfn, movableZone } = findZoneMovablePfnsForNodes(arch, f, spec, regions, lowest, highest, zoneNames, log);
  printZoneRanges(arch, regions, zoneNames, lowest, highest, zoneMovablePfn, log);

  const sparse = sparseBoot(arch, regions, maxPfn);
  // Before 4.15 the boot memmap was allocated zeroed: unwritten struct pages read zone 0.
  const links = new MemmapLinks(sparse, f.unavailable === 'none' ? 0 : null);
  const unavailable = new UnavailableRanges({ regions, sparse, maxPfn }, log, links);
  const dmaReservePages = dmaReserveFor(arch, profile, spec, regions);
  const mirrored = spec.boot.kernelcore === 'mirror';
  const ctx: FreeAreaInitContext = {
    arch,
    f,
    regions,
    zoneNames,
    lowest,
    highest,
    zoneMovablePfn,
    movableZone,
    mirrored,
    dmaReservePages,
    links,
    unavailable,
    log,
  };

  const nodes = allocNodeData(spec, regions, zoneNames);
  const page = pageBytes(arch);
  if (f.unavailable === 'zeroed-total') unavailable.zeroResvUnavail(f.zeroTailToSection, f.unavailableInitialised);
  // 4.18+ (e181ae0c5db9): zero_resv_unavail before the per-node memmap init; 4.15-4.17 after it.
  if (f.unavailable === 'reserved-unavailable' && f.zeroResvUnavailFirst) unavailable.reservedButUnavailable(spec.reserved, page);
  for (const node of nodes) {
    if (!node.memoryless) freeAreaInitNode(ctx, node, true);
    else if (f.memoryless === 'as-memoryless') freeAreaInitNode(ctx, node, false);
  }
  if (f.unavailable === 'per-node-zone') unavailable.memmapInit(nodes);
  if (f.unavailable === 'reserved-unavailable' && !f.zeroResvUnavailFirst) unavailable.reservedButUnavailable(spec.reserved, page);
  // x86 init_cpu_to_node -> init_memory_less_node, later in setup_arch (older kernels).
  if (f.memoryless === 'late-zero-range') {
    for (const node of nodes) if (node.memoryless && node.online) freeAreaInitNode(ctx, node, false);
  }

  const totalPages = buildAllZonelists(arch, f, spec, zoneNames, nodes, log);
  const mb = memblockBoot({ arch, profile, spec, memory, regions, nodes, sparse, maxPfn, log });
  const memoryWhat = 'Memory: NK/NK available (NK kernel code, NK rwdata, NK rodata, NK init, NK bss, NK reserved, NK cma-reserved)';
  const image = bootImage(spec, profile);
  if (typeof mb === 'string') log.omit(memoryWhat, mb);
  else if (mb.estimated.length || !image) log.omit(memoryWhat, `estimated: ${mb.estimated.join('; ')}`);
  else if (f.memoryLineAfterDeferredInit)
    log.omit(memoryWhat, 'printed after deferred page init (page_alloc_init_late, 6.11+): its free count has what early boot allocated taken out, which the model does not keep');
  else log.info(memoryLine(mb, image, pageBytes(arch)));
  const memoryBlockBytes = memoryBlockSizeBytes(arch, f, spec, maxPfn * page);
  if (arch.name === 'x86_64') log.info(`x86/mm: Memory block size: ${memoryBlockBytes / (1024 * 1024)}MB`);

  return {
    arch,
    profile,
    spec,
    regions,
    maxPfn,
    zoneNames,
    archZoneLowestPfn: lowest,
    archZoneHighestPfn: highest,
    zoneMovablePfn,
    movableZone,
    nodes,
    sparse,
    dmaReservePages,
    totalPages,
    memoryBlockBytes,
    memmapLinks: links,
    memblock: typeof mb === 'string' ? null : mb,
    log,
  };
}

/** zone_sizes_init (6.18, v5.3; x86, others via arch.maxZonePfns): max_zone_pfns after i386's lines; leaves out setup_arch's other steps. */
function zoneSizesInit(arch: Arch, spec: MachineSpec, minPfn: Pfn, maxPfn: Pfn, log: KernelLog): Pfn[] {
  const maxLowPfn = maxLowPfnFor(arch, spec, maxPfn);
  const maxZonePfn = arch.maxZonePfns({ minPfn, maxPfn, maxLowPfn });
  if (arch.name === 'i386') i386MemoryLines(log, maxPfn, maxLowPfn);
  return maxZonePfn;
}

/** free_area_init's arch_zone_{lowest,highest}_possible_pfn loop (6.18, v5.3); leaves out descending max_zone_pfns (arc). */
function archZonePossiblePfns(zoneNames: readonly ZoneName[], minPfn: Pfn, maxZonePfn: readonly Pfn[]): { lowest: Pfn[]; highest: Pfn[] } {
  const lowest: Pfn[] = zoneNames.map(() => 0);
  const highest: Pfn[] = zoneNames.map(() => 0);
  let startPfn = minPfn;
  zoneNames.forEach((z, i) => {
    if (z === 'Movable') return;
    const endPfn = Math.max(maxZonePfn[i] ?? 0, startPfn);
    lowest[i] = startPfn;
    highest[i] = endPfn;
    startPfn = endPfn;
  });
  return { lowest, highest };
}

/** free_area_init's Zone ranges / Movable zone start / Early memory node ranges prints (6.18, v5.3); leaves out subsection_map_init. */
function printZoneRanges(
  arch: Arch,
  regions: readonly PfnRegion[],
  zoneNames: readonly ZoneName[],
  lowest: readonly Pfn[],
  highest: readonly Pfn[],
  zoneMovablePfn: ReadonlyMap<Nid, Pfn>,
  log: KernelLog,
): void {
  const page = pageBytes(arch);
  log.info('Zone ranges:');
  zoneNames.forEach((z, i) => {
    if (z === 'Movable') return;
    const lo = lowest[i] ?? 0;
    const hi = highest[i] ?? 0;
    log.info(lo === hi ? `  ${z.padEnd(8)} empty` : `  ${z.padEnd(8)} [mem ${hex018(lo * page)}-${hex018(hi * page - 1)}]`);
  });
  log.info('Movable zone start for each node');
  for (const nid of [...zoneMovablePfn.keys()].sort((a, b) => a - b)) {
    const pfn = zoneMovablePfn.get(nid) ?? 0;
    if (pfn) log.info(`  Node ${nid}: ${hex018(pfn * page)}`);
  }
  log.info('Early memory node ranges');
  for (const r of regions) {
    log.info(`  node ${String(r.nid).padStart(3)}: [mem ${hex018(r.start * page)}-${hex018(r.end * page - 1)}]`);
  }
}

/** The pg_data_t of every possible node (for_each_node; 6.18 alloc_offline_node_data), online per init_cpu_to_node; leaves out distances. */
function allocNodeData(spec: MachineSpec, regions: readonly PfnRegion[], zoneNames: readonly ZoneName[]): PglistData[] {
  const nids = [...new Set([...spec.nodes.map((n) => n.nid), ...regions.map((r) => r.nid)])].sort((a, b) => a - b);
  const cpusOf = (nid: Nid): number => spec.nodes.find((n) => n.nid === nid)?.cpus ?? 0;
  return nids.map((nid) => {
    const memoryless = !regions.some((r) => r.nid === nid);
    return {
      nodeId: nid,
      nodeStartPfn: 0,
      nodeSpannedPages: 0,
      nodePresentPages: 0,
      zones: zoneNames.map((name, zoneIdx) => ({
        zoneIdx,
        name,
        nid,
        zoneStartPfn: 0,
        spannedPages: 0,
        presentPages: 0,
        managedPages: 0,
        memmapPages: 0,
      })),
      cpus: cpusOf(nid),
      memoryless,
      online: !memoryless || cpusOf(nid) > 0,
    };
  });
}

/** free_area_init_node (6.18, v5.3; old x86 init_memory_less_node): Initmem setup line, then the zones; leaves out pgdat_init_internals. */
function freeAreaInitNode(ctx: FreeAreaInitContext, node: PglistData, withMemory: boolean): void {
  const { f, log } = ctx;
  const page = pageBytes(ctx.arch);
  const { start, end } = pfnRangeForNid(ctx.regions, node.nodeId);
  node.nodeStartPfn = start;
  if (withMemory) {
    log.info(`Initmem setup node ${node.nodeId} [mem ${hex018(start * page)}-${hex018(end ? end * page - 1 : 0)}]`);
  } else if (f.memoryless === 'as-memoryless') {
    if (f.memorylessInitializingLine) log.info(`Initializing node ${node.nodeId} as memoryless`);
    log.info(`Initmem setup node ${node.nodeId} as memoryless`);
  } else {
    log.info(`Initmem setup node ${node.nodeId} [mem ${hex018(0)}-${hex018(0)}]`);
  }
  calculateNodeTotalpages(ctx, node, withMemory ? { start, end } : null);
  freeAreaInitCore(ctx, node);
}

/** calculate_node_totalpages (6.18, v5.3): zone and node spanned/present pages (range null: memoryless); leaves out present_early_pages. */
function calculateNodeTotalpages(ctx: FreeAreaInitContext, node: PglistData, range: { start: Pfn; end: Pfn } | null): void {
  const { zoneMovablePfn, mirrored } = ctx;
  let spannedTotal = 0;
  let presentTotal = 0;
  if (range !== null) {
    for (const zone of node.zones) {
      const z = zoneSpannedPagesInNode(node.nodeId, zone.zoneIdx, ctx.zoneNames, range.start, range.end, ctx.lowest, ctx.highest, zoneMovablePfn, ctx.movableZone, mirrored);
      const mirroredWithMovable = mirrored && (zoneMovablePfn.get(node.nodeId) ?? 0) > 0;
      const absent = zoneAbsentPagesInNode(ctx.regions, node.nodeId, zone.name, z.start, z.end, mirroredWithMovable);
      zone.zoneStartPfn = z.spanned ? z.start : 0;
      zone.spannedPages = z.spanned;
      zone.presentPages = z.spanned - absent;
      spannedTotal += z.spanned;
      presentTotal += zone.presentPages;
    }
  }
  node.nodeSpannedPages = spannedTotal;
  node.nodePresentPages = presentTotal;
  if (ctx.f.nodeTotalpagesLine) ctx.log.debug(`On node ${node.nodeId} totalpages: ${presentTotal}`);
}

/** free_area_init_core (6.18; v5.3 calc_memmap_size and dma_reserve lines): initial managed_pages; leaves out free lists, usemaps. */
function freeAreaInitCore(ctx: FreeAreaInitContext, node: PglistData): void {
  const { arch, f, log, dmaReservePages } = ctx;
  for (const zone of node.zones) {
    let freesize: number | null = zone.presentPages;
    zone.memmapPages = calcMemmapSize(arch, zone.spannedPages, zone.presentPages);
    if (zone.name === 'HighMem') zone.memmapPages = 0;
    if (f.managedEstimate === 'memmap-and-dma-reserve') {
      // HighMem's memmap lives in lowmem: it is not charged to the zone.
      const memmap = zone.name === 'HighMem' ? 0 : zone.memmapPages;
      if (zone.name === 'HighMem') {
        // nothing to subtract
      } else if (freesize >= memmap) {
        freesize -= memmap;
        if (memmap && f.zoneDetailLines) log.debug(`  ${zone.name} zone: ${memmap} pages used for memmap`);
      } else if (f.zoneDetailLines) {
        log.warn(`  ${zone.name} zone: ${memmap} pages exceeds freesize ${freesize}`);
      }
      if (zone.zoneIdx === 0) {
        const fs = freesize;
        if (dmaReservePages === null) {
          // Whether and how much is reserved below 16 MiB depends on firmware and boot loader.
          if (fs > 0 && f.zoneDetailLines) {
            log.omit(`  ${zone.name} zone: N pages reserved`, 'dma_reserve (memblock.reserved below 16 MiB) is not among the inputs');
          }
          freesize = null;
        } else if (fs > dmaReservePages) {
          freesize = fs - dmaReservePages;
          if (f.zoneDetailLines) log.debug(`  ${zone.name} zone: ${dmaReservePages} pages reserved`);
        }
      }
    }
    zone.managedPages = freesize;
    zonePcpInit(ctx, zone);
    memmapInit(ctx, zone);
  }
}

/** zone_pcp_init (v5.3; 6.18 with the profile's batch cap): the LIFO batch debug line; leaves out the pagesets themselves. */
function zonePcpInit(ctx: FreeAreaInitContext, zone: Zone): void {
  const { arch, f, log } = ctx;
  if (!zone.presentPages || !f.zoneDetailLines) return;
  let batch: number | null;
  if (zone.managedPages !== null) {
    batch = zoneBatchsize(arch, zone.managedPages, f.batchCapBytes);
  } else {
    // Unknown dma_reserve: the batch is still determined if every possible reserve gives the same.
    const upper = Math.max(0, zone.presentPages - zone.memmapPages);
    const hiBatch = zoneBatchsize(arch, upper, f.batchCapBytes);
    batch = hiBatch === zoneBatchsize(arch, 0, f.batchCapBytes) ? hiBatch : null;
  }
  if (batch === null) {
    log.omit(`  ${zone.name} zone: ${zone.presentPages} pages, LIFO batch:N`, 'the batch depends on dma_reserve, which is unknown');
  } else {
    log.debug(`  ${zone.name} zone: ${zone.presentPages} pages, LIFO batch:${batch}`);
  }
}

/** memmap_init per zone from free_area_init_core (<= 5.11; 5.12+: UnavailableRanges.memmapInit): zone links; leaves out page contents. */
function memmapInit(ctx: FreeAreaInitContext, zone: Zone): void {
  if (!zone.spannedPages) return;
  if (ctx.f.unavailable === 'per-zone') ctx.unavailable.memmapInitZone(zone);
  else if (ctx.f.unavailable !== 'per-node-zone') {
    const { zoneStartPfn: start, spannedPages, zoneIdx, nid } = zone;
    if (ctx.f.memmapInitByRange) {
      // 5.8-5.11 memmap_init: memmap_init_zone over each memblock range clamped to the zone; the
      // holes keep what init_unavailable_mem wrote.
      for (const r of ctx.regions) {
        if (r.nid !== nid) continue;
        const s = Math.max(r.start, start);
        const e = Math.min(r.end, start + spannedPages);
        if (s < e) ctx.links.write({ start: s, end: e, zoneIdx, nid, kind: 'init' });
      }
    } else {
      // memmap_init_zone (<= 5.7) walks the whole span: holes inside it get this zone too.
      ctx.links.write({ start, end: start + spannedPages, zoneIdx, nid, kind: 'init' });
    }
  }
}

/** build_all_zonelists's boot lines (6.18, v5.3; zonelist order before 4.14): Total pages, Policy zone; leaves out the zonelists. */
function buildAllZonelists(arch: Arch, f: KernelFeatures, spec: MachineSpec, zoneNames: readonly ZoneName[], nodes: readonly PglistData[], log: KernelLog): number | null {
  // vm_total_pages = sum of managed pages over the zonelist (watermarks are still 0), zones up
  // to ZONE_MOVABLE.
  const onlineNodes = nodes.filter((n) => n.online).length;
  const movableIdx = zoneNames.indexOf('Movable');
  let totalPages: number | null = 0;
  let policyZone = 0;
  for (const node of nodes) {
    for (const zone of node.zones) {
      if (zone.zoneIdx > movableIdx) continue;
      if (zone.managedPages === null) totalPages = null;
      else if (totalPages !== null) totalPages += zone.managedPages;
      const managed = zone.managedPages ?? zone.presentPages;
      if (managed > 0 && zone.zoneIdx > policyZone && zone.zoneIdx !== movableIdx) policyZone = zone.zoneIdx;
    }
  }
  // default_zonelist_order (before 4.14): Node order on 64-bit NUMA; Zone order on 32-bit, and
  // always without CONFIG_NUMA (set_zonelist_order).
  const numa = spec.config.numa ?? arch.is64bit;
  const order = f.zonelistOrderInLine ? (arch.is64bit && numa ? ' in Node order' : ' in Zone order') : '';
  if (totalPages === null) {
    log.omit(`Built ${onlineNodes} zonelists${order}, mobility grouping on.  Total pages: N`, 'Total pages needs dma_reserve, which is unknown');
  } else {
    const mobility = totalPages < pageblockNrPages(arch) * MIGRATE_TYPES ? 'off' : 'on';
    log.info(`Built ${onlineNodes} zonelists${order}, mobility grouping ${mobility}.  Total pages: ${totalPages}`);
  }
  if (numa) log.info(`Policy zone: ${zoneNames[policyZone] ?? 'DMA'}`);
  return totalPages;
}

/** memory_block_size_bytes: x86_64's probe, s390's max(section, rzm), else one section. */
function memoryBlockSizeBytes(arch: Arch, f: KernelFeatures, spec: MachineSpec, bootMemEnd: Bytes): Bytes {
  if (arch.name === 'x86_64') return probeMemoryBlockSize(f.memoryBlock, bootMemEnd, spec.hypervisor !== null);
  if (arch.name === 's390x') return Math.max(arch.minMemoryBlockBytes, spec.config.rzmBytes ?? 0);
  return arch.minMemoryBlockBytes;
}

/** max_low_pfn: max_pfn on 64-bit; on i386 the end of lowmem, which the machine must give. */
function maxLowPfnFor(arch: Arch, spec: MachineSpec, maxPfn: Pfn): Pfn {
  if (arch.is64bit) return maxPfn;
  if (spec.config.lowmemBytes === null) {
    throw new InputError('i386: the end of lowmem (max_low_pfn) depends on the vmalloc reserve and fixmap size; give config.lowmemBytes (the "low ram: 0 - X" value)');
  }
  return Math.min(maxPfn, Math.floor(spec.config.lowmemBytes / pageBytes(arch)));
}

/** initmem_init and setup_bootmem_allocator on 32-bit x86 (4.9): the HighMem/LowMem split lines. */
function i386MemoryLines(log: KernelLog, maxPfn: Pfn, maxLowPfn: Pfn): void {
  const highstart = maxPfn > maxLowPfn ? maxLowPfn : maxPfn;
  const mb = (pages: number): number => Math.floor(pages / 256);
  log.info(`${mb(maxPfn - highstart)}MB HIGHMEM available.`);
  log.info(`${mb(maxLowPfn)}MB LOWMEM available.`);
  log.info(`  mapped low ram: 0 - ${(maxLowPfn * 4096).toString(16).padStart(8, '0')}`);
  log.info(`  low ram: 0 - ${(maxLowPfn * 4096).toString(16).padStart(8, '0')}`);
}

/** dma_reserve per the profile: given, computed from memblock.reserved, or the first-1MiB rule. */
function dmaReserveFor(arch: Arch, profile: KernelProfile, spec: MachineSpec, regions: readonly PfnRegion[]): number | null {
  if (profile.features.managedEstimate === 'present') return 0;
  // memblock_find_dma_reserve is x86_64 only; elsewhere dma_reserve stays 0.
  if (arch.name !== 'x86_64') return 0;
  if (spec.dmaReservePages !== null) return spec.dmaReservePages;
  const firstMiB = profile.features.dmaReserve === 'first-1MiB';
  if (spec.reserved !== null) {
    const reserved = firstMiB ? [...spec.reserved, { base: 0, size: 1 << 20 }] : spec.reserved;
    return dmaReserveFromReserved(regions, reserved, arch, MAX_DMA_PFN);
  }
  // With the whole first MiB reserved and the kernel image at 16 MiB (CONFIG_PHYSICAL_START),
  // nothing else below 16 MiB is reserved when free_area_init runs.
  if (firstMiB) return dmaReserveFromReserved(regions, [{ base: 0, size: 1 << 20 }], arch, MAX_DMA_PFN);
  return null;
}
