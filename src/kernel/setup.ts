// Boot's memblock allocations on x86_64, in the order the kernel makes them (6.1): setup_arch
// (arch/x86/kernel/setup.c: early_reserve_memory, reserve_brk, the first 1 MiB, init_mem_mapping,
// initmem_init's NODE_DATA, reserve_crashkernel, paging_init's sparse_init, the ACPI/e820 tables),
// start_kernel (init/main.c: setup_command_line, setup_per_cpu_areas, the early hash tables,
// trap_init's cpu_entry_area tables) and mm_init's mem_init (swiotlb), each placed as memblock
// places it (kernel/memblock.ts: top-down, node-local where the caller names a node). Then
// memblock_free_all (mm/memblock.c) hands memory minus memblock.reserved to the zones, and
// mem_init_print_info (mm/page_alloc.c) prints the "Memory:" line; what the kernel frees after
// mem_init (initrd, initmem, the rodata gaps) ends in the zones' managed pages.
import type { Arch } from '../arch/arch.js';
import type { KernelProfile } from '../profiles/profile.js';
import { kernelBuildFor, type KernelBuild } from '../profiles/builds.js';
import { releaseCode, versionCode } from '../profiles/release.js';
import { Memblock, NUMA_NO_NODE, type PfnRegion } from './memblock.js';
import { NO_BOOT_MEMORY, type BootMemory, type KernelImage, type MachineSpec, type MemblockRegion } from './machine_spec.js';
import type { PglistData } from './mmzone.js';
import type { KernelLog } from './printk.js';
import type { Sparse } from './sparse.js';
import type { Bytes, Nid, Pfn, PhysAddr } from '../units.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const PMD_SIZE = 2 * MiB;
/** SMP_CACHE_BYTES (L1_CACHE_BYTES on x86_64). */
const SMP_CACHE_BYTES = 64;
/** __pa(MAX_DMA_ADDRESS): memmap, vmemmap tables and per-cpu chunks are allocated above it. */
const MAX_DMA_ADDRESS = 16 * MiB;
/** ISA_END_ADDRESS. */
const ISA_END = 1 * MiB;
const FOUR_GIB = 4 * GiB;

/** Boot's memblock model, as memblock_free_all and mem_init_print_info leave it. */
export interface BootMemblock {
  /** zone->managed_pages at the end of boot (deferred init done, initrd and initmem freed), by `${nid}/${zoneIdx}`. */
  readonly managed: ReadonlyMap<string, number>;
  /** totalram_pages when mem_init_print_info runs. */
  readonly totalramAtMemInit: number;
  /** nr_free_pages() then (only the pages below each node's first_deferred_pfn are in the buddy yet). */
  readonly freeAtMemInit: number;
  /** get_num_physpages(): present pages of the online nodes. */
  readonly physpages: number;
  /** What the model had to estimate (empty: every input known); the "Memory:" line is printed only without. */
  readonly estimated: readonly string[];
  /** memblock.reserved at memblock_free_all. */
  readonly reserved: readonly { readonly base: PhysAddr; readonly end: PhysAddr }[];
}

export interface MemblockBootInput {
  readonly arch: Arch;
  readonly profile: KernelProfile;
  readonly spec: MachineSpec;
  /** memblock.memory after mem=. */
  readonly memory: readonly MemblockRegion[];
  readonly regions: readonly PfnRegion[];
  readonly nodes: readonly PglistData[];
  readonly sparse: Sparse;
  readonly maxPfn: Pfn;
  readonly log: KernelLog;
}

/** What defer_init reads: part of what memblock at boot reads. */
export type DeferInput = Pick<MemblockBootInput, 'spec' | 'profile' | 'sparse' | 'nodes' | 'regions'>;

/**
 * defer_init (6.18 mm/mm_init.c; v5.3 mm/page_alloc.c): only the zone that ends at the node's
 * end is deferred; after more than PAGES_PER_SECTION pfns of it are initialised, the next
 * section-aligned pfn becomes first_deferred_pfn. v5.3 counts every valid pfn of the zone span
 * (memmap_init_zone walks it); 5.12+ count only memblock memory (memmap_init_range). 5.8-5.11
 * (5.8.1: memmap_init per memblock range, defer_init given the range's end) count only the range
 * that ends at the node's end, from its start.
 */
export function firstDeferredPfns(state: DeferInput): Map<Nid, Pfn> {
  const out = new Map<Nid, Pfn>();
  if (!state.spec.config.deferredStructPageInit) return out;
  const pps = state.sparse.pagesPerSection;
  const f = state.profile.features;
  const perZone = f.unavailable === 'per-zone' || f.unavailable === 'per-node-zone';
  const walksSpan = !perZone && !f.memmapInitByRange;
  const lastRangeOnly = !perZone && f.memmapInitByRange;
  for (const node of state.nodes) {
    const nodeEnd = node.nodeStartPfn + node.nodeSpannedPages;
    const zone = node.zones.find((z) => z.spannedPages > 0 && z.zoneStartPfn + z.spannedPages === nodeEnd && z.name !== 'Device');
    if (!zone) continue;
    const zs = zone.zoneStartPfn;
    const ze = zs + zone.spannedPages;
    // The pfns defer_init sees, in order, as ranges.
    const ranges: [number, number][] = walksSpan
      ? [[zs, ze]]
      : state.regions
          .filter((r) => r.nid === node.nodeId)
          .map((r) => [Math.max(r.start, zs), Math.min(r.end, ze)] as [number, number])
          .filter(([s, e]) => s < e && (!lastRangeOnly || e === nodeEnd));
    let counted = 0;
    for (const [s, e] of ranges) {
      // The (PAGES_PER_SECTION + 1)th counted pfn and later: the first section-aligned one defers.
      for (let pfn = s; pfn < e;) {
        if (walksSpan && !state.sparse.pfnValid(pfn)) {
          pfn = state.sparse.nextValidPfn(pfn, e);
          continue;
        }
        const secEnd = Math.min(e, (Math.floor(pfn / pps) + 1) * pps);
        const n = secEnd - pfn;
        if (counted + n <= pps) {
          counted += n;
          pfn = secEnd;
          continue;
        }
        // Somewhere in [pfn, secEnd) the count passes pps: the next aligned pfn at or after it.
        const passAt = pfn + (pps - counted); // counted becomes pps + 1 at this pfn
        const aligned = Math.ceil(passAt / pps) * pps;
        if (aligned < e) {
          out.set(node.nodeId, aligned);
          break;
        }
        counted += e - pfn;
        pfn = e;
      }
      if (out.has(node.nodeId)) break;
    }
  }
  return out;
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The inputs, completed from the measured build where the machine or log does not give them. */
interface Inputs {
  readonly image: KernelImage & { readonly end: PhysAddr; readonly brk: Bytes };
  readonly bm: BootMemory;
  readonly build: KernelBuild | null;
  readonly estimated: string[];
}

/** The image and the rest, or null (with the reason) when not even the image's size is known. */
function inputsFor(spec: MachineSpec, profile: KernelProfile): Inputs | string {
  const build = kernelBuildFor(profile.release.release);
  const bm = spec.bootMemory;
  const given = bm?.image ?? null;
  const estimated: string[] = [];
  let image: KernelImage | null = given ?? (build ? { ...build.image } : null);
  if (given && build) {
    image = { ...given, end: given.end ?? build.image.end, brk: given.brk ?? build.image.brk, freedLater: given.freedLater ?? build.image.freedLater };
  }
  if (!image) return 'the kernel image is not among the inputs (a machine file\'s image:, a log\'s "Memory:" line, or a measured build gives it)';
  let end = image.end;
  if (end === null) {
    // vmlinux.lds.S (x86_64): text, then rodata from a 2 MiB boundary, data from the next; the
    // tables between _edata and __init_begin (bug table, ORC unwind, vvar) are not in the line.
    end = alignUp(image.start + alignUp(image.code, PMD_SIZE) + alignUp(image.rodata, PMD_SIZE) + image.rwdata + image.init + image.bss, 4096);
    estimated.push('the image extent (_text to __end_of_kernel_reserve) from its sections only');
  }
  let brk = image.brk;
  if (brk === null) {
    brk = (build?.pgtBufPages ?? 12) * 4096 + 5 * 4096;
    estimated.push('brk (the early page-table buffer and DMI)');
  }
  return { image: { ...image, end, brk }, bm: bm ?? NO_BOOT_MEMORY, build, estimated };
}

/** roundup_pow_of_two. */
function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * init_mem_mapping's direct-map page tables (arch/x86/mm/init.c, init_64.c, 6.1): the ISA range
 * first, then memory_map_top_down (bottom-up under movable_node) in growing steps, each range cut
 * by split_mem_range / adjust_range_page_size_mask into 4K, 2M and 1G pieces. A table comes from
 * the brk buffer (INIT_PGD_PAGE_COUNT pages) while the range does not overlap it, else from memblock
 * in [min_pfn_mapped, max_pfn_mapped) (alloc_low_pages). Returns the pages taken from memblock.
 */
class DirectMap {
  private readonly tables = new Set<string>();
  private readonly large2M = new Set<number>();
  private brkUsed = 0;
  private canUseBrk = true;
  minMapped = 0;
  maxMapped = 0;
  fromMemblock = 0;

  /** memblock.memory as e820__memblock_setup added it: before numa_init splits it by node, touching ranges are one region. */
  private readonly memory: { base: number; size: number }[] = [];

  constructor(
    private readonly mb: Memblock,
    memory: readonly MemblockRegion[],
    private readonly la57: boolean,
    private readonly brkPages: number,
    private readonly brkBase: PhysAddr,
  ) {
    for (const r of [...memory].sort((a, b) => a.base - b.base)) {
      const last = this.memory[this.memory.length - 1];
      if (last && last.base + last.size === r.base) last.size += r.size;
      else this.memory.push({ base: r.base, size: r.size });
    }
  }

  /** memblock_is_region_memory(base, size): [base, end) lies in one memory region. */
  private isMemory(base: number, end: number): boolean {
    return this.memory.some((r) => r.base <= base && end <= r.base + r.size);
  }

  private allocTable(): void {
    if (this.canUseBrk && this.brkUsed < this.brkPages) {
      this.brkUsed++;
      return;
    }
    if (this.minMapped < this.maxMapped && this.mb.allocRangeNid(4096, 4096, this.minMapped, this.maxMapped, NUMA_NO_NODE, false) !== null) {
      this.fromMemblock++;
      return;
    }
    this.brkUsed++; // extend_brk
  }

  private need(key: string): void {
    if (this.tables.has(key)) return;
    this.tables.add(key);
    this.allocTable();
  }

  /** GiB ranges [start, end) mapped by 1G pages (phys_pud_init), except those that already had a PMD table. */
  private readonly large1GRanges: [number, number][] = [];

  private isLarge1G(g: number): boolean {
    return !this.tables.has(`pmd:${g}`) && this.large1GRanges.some(([a, b]) => a <= g && g < b);
  }

  /** kernel_physical_mapping_init for one piece mapped with `size` pages. */
  private mapPiece(start: number, end: number, size: number): void {
    if (size === GiB) {
      // The P4D and PUD tables the range needs (one per 256 TiB and per 512 GiB), then 1G entries.
      for (let a = start; a < end; a = (Math.floor(a / 2 ** 39) + 1) * 2 ** 39) {
        if (this.la57) this.need(`p4d:${Math.floor(a / 2 ** 48)}`);
        this.need(`pud:${Math.floor(a / 2 ** 39)}`);
      }
      this.large1GRanges.push([Math.floor(start / GiB), Math.ceil(end / GiB)]);
      return;
    }
    for (let a = start; a < end;) {
      if (this.la57) this.need(`p4d:${Math.floor(a / 2 ** 48)}`);
      this.need(`pud:${Math.floor(a / 2 ** 39)}`);
      const g = Math.floor(a / GiB);
      const m2 = Math.floor(a / PMD_SIZE);
      const large = this.isLarge1G(g);
      if (!large) this.need(`pmd:${g}`);
      if (size === PMD_SIZE) {
        if (!this.tables.has(`pte:${m2}`)) this.large2M.add(m2);
      } else if (!large && !this.large2M.has(m2)) this.need(`pte:${m2}`);
      a = Math.min(end, (m2 + 1) * PMD_SIZE);
    }
  }

  /** init_memory_mapping(start, end): split_mem_range and adjust_range_page_size_mask (gbpages). */
  initMemoryMapping(start: number, end: number): void {
    const pieces: [number, number, number][] = [];
    let pfnAddr = start;
    const save = (s: number, e: number, size: number): void => {
      if (s < e) pieces.push([s, e, size]);
    };
    let e = Math.min(alignUp(pfnAddr, PMD_SIZE), end);
    if (pfnAddr < e) {
      save(pfnAddr, e, 4096);
      pfnAddr = e;
    }
    let s = alignUp(pfnAddr, PMD_SIZE);
    e = Math.min(alignUp(pfnAddr, GiB), Math.floor(end / PMD_SIZE) * PMD_SIZE);
    if (s < e) {
      save(s, e, PMD_SIZE);
      pfnAddr = e;
    }
    s = alignUp(pfnAddr, GiB);
    e = Math.floor(end / GiB) * GiB;
    if (s < e) {
      save(s, e, GiB);
      pfnAddr = e;
    }
    s = alignUp(pfnAddr, PMD_SIZE);
    e = Math.floor(end / PMD_SIZE) * PMD_SIZE;
    if (s < e) {
      save(s, e, PMD_SIZE);
      pfnAddr = e;
    }
    save(pfnAddr, end, 4096);
    for (const [ps, pe, size] of pieces) {
      let sz = size;
      if (sz === 4096 && this.isMemory(Math.floor(ps / PMD_SIZE) * PMD_SIZE, alignUp(pe, PMD_SIZE))) sz = PMD_SIZE;
      if (sz !== GiB && this.isMemory(Math.floor(ps / GiB) * GiB, alignUp(pe, GiB))) sz = GiB;
      this.mapPiece(ps, pe, sz);
    }
    this.maxMapped = Math.max(this.maxMapped, end);
  }

  /** init_range_memory_mapping: every memory piece of [rs, re), with can_use_brk_pgt decided per piece. */
  initRange(rs: number, re: number): number {
    let mapped = 0;
    const top = this.brkBase + this.brkPages * 4096;
    for (const r of this.memory) {
      const s = Math.max(alignUp(r.base, 4096), rs);
      const e = Math.min(Math.floor((r.base + r.size) / 4096) * 4096, re);
      if (s >= e) continue;
      this.canUseBrk = Math.max(s, this.brkBase + this.brkUsed * 4096) >= Math.min(e, top);
      this.initMemoryMapping(s, e);
      this.canUseBrk = true;
      mapped += e - s;
    }
    return mapped;
  }
}

/** init_mem_mapping (6.1): the ISA range, then top-down (bottom-up under movable_node) steps; memblock.current_limit becomes max_pfn. */
function initMemMapping(mb: Memblock, memory: readonly MemblockRegion[], maxAddr: number, la57: boolean, brkPages: number, brkBase: number, kernelEnd: number): void {
  const dm = new DirectMap(mb, memory, la57, brkPages, brkBase);
  dm.initMemoryMapping(0, ISA_END);
  const getNewStep = (step: number): number => step * 2 ** (21 - 12 - 1);
  const topDown = (mapStart: number, mapEnd: number): void => {
    const addr = mb.allocRangeNid(PMD_SIZE, PMD_SIZE, mapStart, mapEnd, NUMA_NO_NODE, false);
    const realEnd = addr === null ? mapEnd : addr + PMD_SIZE;
    if (addr !== null) mb.free(addr, PMD_SIZE);
    let step = PMD_SIZE;
    dm.maxMapped = 0;
    dm.minMapped = realEnd;
    let lastStart = realEnd;
    let mappedRam = 0;
    while (lastStart > mapStart) {
      let start: number;
      if (lastStart > step) start = Math.max(Math.floor((lastStart - 1) / step) * step, mapStart);
      else start = mapStart;
      mappedRam += dm.initRange(start, lastStart);
      lastStart = start;
      dm.minMapped = lastStart;
      if (mappedRam >= step) step = getNewStep(step);
    }
    if (realEnd < mapEnd) dm.initRange(realEnd, mapEnd);
  };
  const bottomUp = (mapStart: number, mapEnd: number): void => {
    let step = PMD_SIZE;
    let start = mapStart;
    dm.minMapped = start;
    let mappedRam = 0;
    while (start < mapEnd) {
      const next = mapEnd - start > step ? Math.min(alignUp(start + 1, step), mapEnd) : mapEnd;
      mappedRam += dm.initRange(start, next);
      start = next;
      if (mappedRam >= step) step = getNewStep(step);
    }
  };
  if (mb.bottomUp) {
    bottomUp(kernelEnd, maxAddr);
    bottomUp(ISA_END, kernelEnd);
  } else topDown(ISA_END, maxAddr);
  mb.currentLimit = maxAddr;
}

/**
 * e820__register_nosave_regions (arch/x86/kernel/e820.c): the regions register_nosave_region
 * allocates (a region extending the previous one allocates nothing).
 */
function nosaveRegions(e820: readonly { start: number; end: number; type: string }[], maxPfn: Pfn): number {
  let pfn = 0;
  let lastEnd = -1;
  let n = 0;
  const add = (s: number, e: number): void => {
    if (s >= e) return;
    if (lastEnd === s) {
      lastEnd = e;
      return;
    }
    n++;
    lastEnd = e;
  };
  for (const x of [...e820].sort((a, b) => a.start - b.start)) {
    const up = Math.ceil(x.start / 4096);
    if (pfn < up) add(pfn, up);
    pfn = Math.floor(x.end / 4096);
    if (x.type !== 'usable' && x.type !== 'reserved-kern' && x.type !== 'RAM') add(up, pfn);
    if (pfn >= maxPfn) break;
  }
  return n;
}

/** The boot allocations and memblock_free_all (x86_64, 6.1); null with a reason where the model does not apply or the image is unknown. */
export function memblockBoot(input: MemblockBootInput): BootMemblock | string {
  const { arch, profile, spec, memory, nodes, sparse, maxPfn } = input;
  if (arch.name !== 'x86_64') return `boot's memblock allocations are modelled for x86_64 only (this is ${arch.name})`;
  const inp = inputsFor(spec, profile);
  if (typeof inp === 'string') return inp;
  const { image, bm, build, estimated } = inp;
  const page = 2 ** arch.pageShift;
  const maxAddr = maxPfn * page;
  const la57 = spec.config.la57;
  const mb = new Memblock(memory, page);
  const movableNode = spec.boot.movableNode;
  mb.skipHotpluggable = movableNode;
  const version = releaseCode(profile.release);

  // early_reserve_memory: the image [_text, __end_of_kernel_reserve), the first 64 KiB, the initrd.
  mb.reserve(image.start, image.end - image.start);
  mb.reserve(0, 64 * KiB);
  let initrd: { base: number; size: number } | null = null;
  if (bm.initrd) {
    const size = alignUp(bm.initrd.size, page);
    let base = bm.initrd.base;
    if (base === null) {
      // Boot loaders load it high in low memory: the top of the RAM below 4 GiB.
      const low = [...memory].filter((r) => r.base < FOUR_GIB).sort((a, b) => b.base - a.base)[0];
      base = low ? Math.floor((Math.min(low.base + low.size, FOUR_GIB) - size) / page) * page : 0;
      estimated.push('where the boot loader put the initrd');
    }
    initrd = { base, size };
    mb.reserve(base, size);
  }
  // movable_node: memblock allocates bottom-up until numa_init has parsed SRAT.
  mb.bottomUp = movableNode;
  // reserve_brk: [__brk_base, _brk_end).
  const brkBase = alignUp(image.end, page);
  mb.reserve(brkBase, image.brk);
  // reserve_real_mode, then (5.13+, "x86/setup: Always reserve the first 1M of RAM") all of it.
  mb.allocRangeNid(7 * page, page, 0, ISA_END, NUMA_NO_NODE, false);
  if (profile.features.dmaReserve === 'first-1MiB') mb.reserve(0, ISA_END);
  else mb.reserve(0x9f000, ISA_END - 0x9f000);
  mb.currentLimit = ISA_END;
  initMemMapping(mb, memory, maxAddr, la57, build?.pgtBufPages ?? 12, brkBase, brkBase + image.brk);
  // setup_log_buf(1): the text, descriptors (24 bytes) and infos (88 bytes) of 2^5-byte records.
  const cpus = bm.possibleCpus ?? (spec.nodes.reduce((s, n) => s + n.cpus, 0) || 1);
  let logBuf = bm.logBufBytes;
  if (logBuf === null) {
    const shift = build?.logBufShift ?? 17;
    const extra = (cpus - 1) * 4096;
    logBuf = extra > 2 ** shift / 2 ? pow2(2 ** shift + extra) : 0;
  }
  if (logBuf > 0) for (const b of [logBuf, (logBuf / 32) * 24, (logBuf / 32) * 88]) mb.allocTryNid(b, 8, 0, 0, NUMA_NO_NODE);

  // initmem_init: numa_init resets the direction; NODE_DATA of every node with memory, on it.
  mb.bottomUp = false;
  let nodeData = bm.nodeDataBytes ?? build?.nodeDataBytes ?? null;
  if (nodeData === null) {
    // struct pglist_data: two zonelists of MAX_NUMNODES * MAX_NR_ZONES + 1 zonerefs (16 bytes), plus the zones.
    const maxNodes = 2 ** spec.config.nodesShift;
    nodeData = alignUp(2 * (maxNodes * 5 + 1) * 16 + 12 * KiB, page);
    estimated.push('sizeof(pg_data_t)');
  }
  const pgdatAt = new Map<Nid, number>();
  for (const n of nodes) {
    if (n.memoryless) continue;
    const at = mb.allocTryNid(nodeData, SMP_CACHE_BYTES, 0, 0, n.nodeId);
    if (at !== null) pgdatAt.set(n.nodeId, at);
  }
  // reserve_crashkernel (after SRAT so that it avoids hot-pluggable memory).
  if (bm.crashkernel) mb.reserve(bm.crashkernel.base, bm.crashkernel.size);

  // paging_init -> sparse_init: the mem_section root array, the roots (4 KiB, on the node of
  // their first section), then per node its usemaps near its pgdat, its memmap (one
  // PMD-aligned block per node from 16 MiB up, exact node) and the vmemmap page tables.
  const pps = sparse.pagesPerSection;
  const sectionBits = arch.pageShift + Math.log2(pps);
  const physBits = la57 ? 52 : 46;
  const sectionsPerRoot = page / 16;
  mb.allocTryNid((2 ** (physBits - sectionBits) / sectionsPerRoot) * 8, SMP_CACHE_BYTES, 0, 0, NUMA_NO_NODE);
  const roots = new Set<number>();
  for (const r of [...memory].sort((a, b) => a.base - b.base)) {
    const first = Math.floor(r.base / page / pps);
    const last = Math.floor((r.base + r.size - 1) / page / pps);
    for (let root = Math.floor(first / sectionsPerRoot); root <= Math.floor(last / sectionsPerRoot); root++) {
      if (roots.has(root)) continue;
      roots.add(root);
      mb.allocTryNid(sectionsPerRoot * 16, SMP_CACHE_BYTES, 0, 0, r.nid);
    }
  }
  const usemapPerSection = build?.usemapBytesPerSection ?? 8 + (version >= versionCode(6, 8) ? 16 : 0) + ((pps / 512) * 4) / 8;
  const sectionMap = alignUp(pps * arch.structPageBytes, PMD_SIZE);
  const vmemmapBase = la57 ? 0xffd4000000000000n : 0xffffea0000000000n;
  const vmTables = new Set<string>();
  // sparse_init_nid runs over consecutive present sections of one node (as section ranges).
  const runs: { nid: Nid; ranges: [number, number][]; count: number }[] = [];
  for (const run of sparse.runs) {
    if (!run.present) continue;
    const last = runs[runs.length - 1];
    if (last && last.nid === run.nid) {
      last.ranges.push([run.startNr, run.endNr]);
      last.count += run.endNr - run.startNr;
    } else runs.push({ nid: run.nid, ranges: [[run.startNr, run.endNr]], count: run.endNr - run.startNr });
  }
  const bytesPerSectionMap = BigInt(pps * arch.structPageBytes);
  const sectionsPerPmdTable = Math.max(1, Math.floor(GiB / (pps * arch.structPageBytes)));
  for (const { nid, ranges, count } of runs) {
    const pg = pgdatAt.get(nid) ?? 0;
    const goal = Math.floor(pg / (pps * page)) * pps * page;
    if (mb.allocTryNid(usemapPerSection * count, SMP_CACHE_BYTES, goal, goal + pps * page, nid) === null) {
      mb.allocTryNid(usemapPerSection * count, SMP_CACHE_BYTES, goal, 0, nid);
    }
    const buffer = mb.allocTryNid(sectionMap * count, sectionMap, MAX_DMA_ADDRESS, 0, nid, true);
    for (const [a, b] of ranges) {
      // vmemmap_populate: the page tables above the PMD entries, at most one new set per GiB of vmemmap.
      for (let sec = a; sec < b; sec = (Math.floor(sec / sectionsPerPmdTable) + 1) * sectionsPerPmdTable) {
        const va = vmemmapBase + BigInt(sec) * bytesPerSectionMap;
        const keys = [...(la57 ? [`p4d:${va >> 48n}`] : []), `pud:${va >> 39n}`, `pmd:${va >> 30n}`];
        for (const k of keys) {
          if (vmTables.has(k)) continue;
          vmTables.add(k);
          mb.allocTryNid(page, page, MAX_DMA_ADDRESS, 0, nid);
        }
      }
      // No room for the node's buffer: a PMD-sized block per section (vmemmap_alloc_block, any node).
      if (buffer === null) for (let sec = a; sec < b; sec++) mb.allocTryNid(sectionMap, sectionMap, MAX_DMA_ADDRESS, 0, nid);
    }
  }

  // acpi_boot_init's HPET resource, io_apic_init_mappings, e820__reserve_resources (a struct
  // resource per e820 entry), firmware_map_add_early (per firmware entry),
  // e820__register_nosave_regions; then init_cpu_to_node's memoryless nodes' NODE_DATA.
  const small = (size: number): void => void mb.allocTryNid(size, SMP_CACHE_BYTES, 0, 0, NUMA_NO_NODE);
  small(64 + 9);
  small(64 + 11);
  const e820 = spec.e820 ?? null;
  if (e820 === null) estimated.push('the e820 table');
  const entries = e820?.length ?? memory.length + 4;
  small(64 * entries);
  for (let i = 0; i < entries - 1; i++) small(104);
  if (e820) for (let i = nosaveRegions(e820, maxPfn); i > 0; i--) small(32);
  for (const n of nodes) if (n.memoryless && n.cpus > 0) mb.allocTryNid(nodeData, SMP_CACHE_BYTES, 0, 0, n.nodeId);

  // start_kernel: setup_command_line's saved_command_line and static_command_line.
  const cmdline = bm.cmdlineBytes;
  if (cmdline === null) estimated.push('the command line length');
  small((cmdline ?? 60) + 1);
  small((cmdline ?? 60) + 1);
  // setup_per_cpu_areas -> pcpu_embed_first_chunk: the alloc info and areas (freed again), a
  // chunk of units per node group (node-local, from 16 MiB), each unit's unused tail freed.
  const percpu = bm.percpu ?? (build ? { unitPages: build.percpuUnitPages, unitBytes: build.percpuUnitBytes } : null);
  if (!bm.percpu && !build) estimated.push('the per-cpu unit size');
  const unitPages = percpu?.unitPages ?? 61;
  const unitBytes = percpu?.unitBytes ?? PMD_SIZE;
  const groups = nodes.filter((n) => n.cpus > 0).map((n) => ({ nid: n.nodeId, units: n.cpus }));
  const grouped = groups.reduce((s, g) => s + g.units, 0);
  if (groups.length === 0) groups.push({ nid: nodes[0]?.nodeId ?? 0, units: cpus });
  else if (cpus > grouped && groups[0]) groups[0].units += cpus - grouped;
  const aiBytes = alignUp(48 + 16 * groups.length + 4 * cpus, page);
  const ai = mb.allocTryNid(aiBytes, page, 0, 0, NUMA_NO_NODE);
  const areasBytes = alignUp(groups.length * 8, page);
  const areas = mb.allocTryNid(areasBytes, SMP_CACHE_BYTES, 0, 0, NUMA_NO_NODE);
  for (const g of groups) {
    const base = mb.allocTryNid(g.units * unitBytes, Math.min(unitBytes, PMD_SIZE), MAX_DMA_ADDRESS, 0, g.nid);
    if (base === null) continue;
    for (let u = 0; u < g.units; u++) mb.free(base + u * unitBytes + unitPages * page, unitBytes - unitPages * page);
  }
  // pcpu_setup_first_chunk: group offsets and sizes, unit map and offsets, the slot lists; then the chunks.
  small(8 * groups.length);
  small(8 * groups.length);
  small(4 * cpus);
  small(8 * cpus);
  small(16 * (Math.max(Math.floor(Math.log2(unitBytes)) + 1 - 5 + 2, 1) + 4));
  for (const b of build?.percpuChunkAllocs ?? [144, 256, 264, 64, 144, 896, 904, 224]) small(b);
  if (ai !== null) mb.free(ai, aiBytes);
  if (areas !== null) mb.free(areas, areasBytes);
  // setup_cpu_local_masks and setup_node_to_cpumask_map: 4 (6.5+: 1) + nr_node_ids cpumasks.
  const nrNodeIds = Math.max(...nodes.map((n) => n.nodeId), 0) + 1;
  for (let i = 0; i < profile.features.cpuLocalMasks + nrNodeIds; i++) small(8 * Math.ceil(cpus / 64));
  // vfs_caches_init_early: hash tables from memblock where not distributed (one node).
  for (const b of bm.earlyHashBytes) mb.allocTryNid(b, SMP_CACHE_BYTES, 0, 0, NUMA_NO_NODE);
  // trap_init -> setup_cpu_entry_areas: set_pte_vaddr's PUD, PMD and PTE pages (spp_getpage).
  if (cpus > 8) estimated.push('the cpu_entry_area page tables of more than 8 CPUs');
  for (let i = 0; i < 2 + Math.ceil(cpus / 8); i++) mb.allocTryNid(page, page, 0, 0, NUMA_NO_NODE);

  // mm_init -> mem_init -> pci_iommu_alloc: swiotlb when memory can reach above 4 GiB
  // (pci_swiotlb_detect: max_possible_pfn > MAX_DMA32_PFN), its slots and areas.
  const possibleEnd = Math.max(maxAddr, bm.possibleEnd ?? 0, ...spec.pmem.map((p) => p.base + p.size));
  const swiotlb = bm.swiotlb === 'none' ? 0 : (bm.swiotlb?.size ?? (possibleEnd > FOUR_GIB ? 64 * MiB : 0));
  if (swiotlb > 0) {
    mb.allocTryNid(swiotlb, page, 0, FOUR_GIB - 1, NUMA_NO_NODE);
    mb.allocTryNid(alignUp((swiotlb / 2048) * 24, page), page, 0, 0, NUMA_NO_NODE);
    small(16 * (bm.swiotlbAreas ?? pow2(cpus)));
  }

  // memblock_free_all: every free range's whole pages go to their zone; only those below the
  // node's first_deferred_pfn are in the buddy when mem_init_print_info runs.
  const deferred = firstDeferredPfns({ spec, profile, sparse, nodes, regions: input.regions });
  const managed = new Map<string, number>();
  const zoneOf = (nid: Nid, pfn: Pfn): string | null => {
    const n = nodes.find((x) => x.nodeId === nid);
    const z = n?.zones.find((x) => x.spannedPages > 0 && x.name !== 'Device' && pfn >= x.zoneStartPfn && pfn < x.zoneStartPfn + x.spannedPages);
    return z ? `${nid}/${z.zoneIdx}` : null;
  };
  const addPages = (nid: Nid, s: Pfn, e: Pfn): void => {
    for (let p = s; p < e;) {
      const key = zoneOf(nid, p);
      const n = nodes.find((x) => x.nodeId === nid);
      const z = n?.zones.find((x) => key === `${nid}/${x.zoneIdx}`);
      const end = z ? Math.min(e, z.zoneStartPfn + z.spannedPages) : e;
      if (key) managed.set(key, (managed.get(key) ?? 0) + end - p);
      p = end;
    }
  };
  let totalram = 0;
  let free = 0;
  for (const f of mb.freeRanges()) {
    const s = Math.ceil(f.base / page);
    const e = Math.min(Math.floor(f.end / page), maxPfn);
    if (s >= e) continue;
    totalram += e - s;
    addPages(f.nid, s, e);
    const fd = deferred.get(f.nid) ?? Infinity;
    free += Math.max(0, Math.min(e, fd) - s);
  }
  const reserved = mb.reservedRanges().map((r) => ({ base: r.base, end: r.end }));
  // mem_init's preallocate_vmalloc_pages (5.8+): a P4D (5-level) or PUD page per PGD entry of
  // [VMALLOC_START, VMALLOC_END]: 12800 TiB / 256 TiB, or 32 TiB / 512 GiB.
  if (version >= versionCode(5, 8)) free -= la57 ? 50 : 64;
  const physpages = nodes.filter((n) => n.online).reduce((s, n) => s + n.nodePresentPages, 0);

  // After mem_init: free_initrd_mem (x86: [PAGE_ALIGN(start), PAGE_ALIGN(end))) and the image's
  // freed parts (free_initmem, mark_rodata_ro, alternative_instructions, mem_encrypt_free_decrypted_mem).
  const nidOf = (addr: number): Nid | null => memory.find((r) => r.base <= addr && addr < r.base + r.size)?.nid ?? null;
  if (initrd) {
    const nid = nidOf(initrd.base);
    if (nid !== null) addPages(nid, initrd.base / page, (initrd.base + initrd.size) / page);
  }
  let freedLater = image.freedLater;
  if (freedLater === null) {
    freedLater = alignUp(image.init, page);
    estimated.push('what the image frees after boot (initmem only counted)');
  }
  const imageNid = nidOf(image.start);
  if (imageNid !== null) {
    const key = zoneOf(imageNid, Math.floor(image.start / page));
    if (key) managed.set(key, (managed.get(key) ?? 0) + Math.floor(freedLater / page));
  }
  return { managed, totalramAtMemInit: totalram, freeAtMemInit: free, physpages, estimated, reserved };
}

/** mem_init_print_info (mm/page_alloc.c 6.1; the same format from 4.9): the "Memory:" line. */
export function memoryLine(b: BootMemblock, image: KernelImage, pageBytes: Bytes): string {
  const K = (pages: number): number => (pages * pageBytes) / 1024;
  const kb = (bytes: number): number => Math.floor(bytes / 1024);
  return (
    `Memory: ${K(b.freeAtMemInit)}K/${K(b.physpages)}K available (${kb(image.code)}K kernel code, ${kb(image.rwdata)}K rwdata, ` +
    `${kb(image.rodata)}K rodata, ${kb(image.init)}K init, ${kb(image.bss)}K bss, ${K(b.physpages - b.totalramAtMemInit)}K reserved, 0K cma-reserved)`
  );
}

/** The image the model used (the machine's or log's, else the measured build's). */
export function bootImage(spec: MachineSpec, profile: KernelProfile): KernelImage | null {
  return spec.bootMemory?.image ?? kernelBuildFor(profile.release.release)?.image ?? null;
}
