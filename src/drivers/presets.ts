// The published machines mmsim time predicts, each with its source (../shared/PERF-NOTES.md
// sections) and at most one calibration constant fitted to one named published figure; the
// other published figures are predictions (docs/performance.md has the table).

const GiB = 2 ** 30;
const TiB = 2 ** 40;

/** Every parameter of the cost model, named, with where its value comes from. */
export interface CostModel {
  /** ns per struct page, one CPU, memmap in local DRAM (init; deferred init also frees to the buddy allocator). */
  readonly nsPerPageDram: number;
  /** ns per struct page, one CPU, memmap in persistent memory (an altmap, --map=dev). */
  readonly nsPerPagePmem: number;
  /** A CPU of another node writing the memmap: PERF-NOTES §1.2, 39 s remote vs 23 s local. */
  readonly remoteFactor: number;
  /** Memory traffic per struct page written: 64 bytes, twice with write-allocate (PERF-NOTES §7.2). */
  readonly bytesPerPage: number;
  /** Sustained write bandwidth of a node's DRAM and of its persistent memory, GB/s (= bytes/ns). */
  readonly dramGBs: number;
  readonly pmemGBs: number;
  /** Fixed cost per section added (sparse_add_section, vmemmap population bookkeeping), ns. */
  readonly perSectionNs: number;
  /** Handing a lock to the next waiter, ns. */
  readonly lockHandoffNs: number;
  /** Where each value came from. */
  readonly sources: Readonly<Record<string, string>>;
}

export type Workload =
  | {
      readonly kind: 'zone-device';
      readonly perNodeBytes: number;
      readonly map: 'dev' | 'mem';
      readonly alignBytes: number;
      readonly devdax: boolean;
      /**
       * The seed thread's "as soon as we drop the lock we might have memory unplug running"
       * (Hildenbrand, 29 Aug 2019, ../shared/seed-thread-2019.txt): a namespace of this size right
       * below each node's, mapped before the probes start and destroyed (memunmap_pages, on
       * another CPU of the node) while they run.
       */
      readonly unplugBytes?: number;
    }
  | { readonly kind: 'deferred'; readonly perNodeBytes: number; readonly threads: number };

export interface PublishedFigure {
  readonly label: string;
  /** The design and thread count it was measured under, and the value. */
  readonly design: string;
  readonly threads?: number;
  readonly alignBytes?: number;
  readonly ms: number;
  /** For a range ("about 80-110 ms"): its upper end; ms is then the lower end. */
  readonly msHigh?: number;
  readonly source: string;
}

export interface Preset {
  readonly name: string;
  readonly summary: string;
  readonly nodes: number;
  readonly cpusPerNode: number;
  /** DRAM per node (boot memory). */
  readonly dramBytesPerNode: number;
  readonly workload: Workload;
  readonly cost: CostModel;
  /** The one figure the calibration constant was fitted to. */
  readonly calibration: PublishedFigure & { readonly parameter: keyof CostModel };
  /** Published figures the model predicts (the calibration figure excluded). */
  readonly predictions: readonly PublishedFigure[];
}

const pages = (bytes: number): number => bytes / 4096;

/** The shared constants: struct page traffic, remote factor, fixed costs. */
const COMMON = {
  remoteFactor: 39 / 23,
  bytesPerPage: 128,
  perSectionNs: 2_000,
  lockHandoffNs: 5_000,
};
const COMMON_SOURCES = {
  remoteFactor: 'PERF-NOTES §1.2: NVDIMM init 39 s from a remote node, 23 s local ("Add NUMA aware async_schedule calls", 5.1)',
  bytesPerPage: 'PERF-NOTES §7.2: ordinary stores to lines not in cache read for ownership, so a 64-byte struct page moves 128 bytes',
  perSectionNs: 'assumed: sparse_add_section bookkeeping, a few microseconds per 128 MiB (negligible against the pages)',
  lockHandoffNs: 'assumed: a mutex or rwsem wake-up, a few microseconds',
};

/** Duyck's 4-node box: 3 TB pmem + 384 GB DRAM per node; calibrated on 24.17 s per node (v6 cover). */
function duyck(name: string, summary: string): Preset {
  const perNode = 3 * TiB;
  const calibrationMs = 24_170;
  // Optane write bandwidth: six interleaved DIMMs 13.9 GB/s per socket (PERF-NOTES §7.2).
  const pmemGBs = 13.9;
  return {
    name,
    summary,
    nodes: 4,
    cpusPerNode: 28,
    dramBytesPerNode: 384 * GiB,
    workload: { kind: 'zone-device', perNodeBytes: perNode, map: 'dev', alignBytes: 2 * 2 ** 20, devdax: false },
    cost: {
      ...COMMON,
      nsPerPageDram: 17.06,
      nsPerPagePmem: (calibrationMs * 1e6) / pages(perNode),
      dramGBs: 102.4,
      pmemGBs,
      sources: {
        ...COMMON_SOURCES,
        nsPerPagePmem: 'calibrated: 24.17 s per node for 3 TB of persistent memory, "[mm PATCH v6 0/7] Deferred page init improvements" (PERF-NOTES §1.3), 3 TiB = 805,306,368 pages',
        nsPerPageDram: 'not used by this workload (the DRAM rate of jordan-2020-skylake)',
        dramGBs: 'not used by this workload',
        pmemGBs: 'PERF-NOTES §7.2: six interleaved Optane DC DIMMs write at most 13.9 GB/s (Izraelevitz et al. 2019)',
      },
    },
    calibration: { label: 'pmem init per node, one node, outside the lock', design: 'v5.3', ms: calibrationMs, source: 'PERF-NOTES §1.3', parameter: 'nsPerPagePmem' },
    predictions: [],
  };
}

/**
 * A machine whose deferred init the model predicts: the one-thread time calibrates the DRAM
 * rate; the bandwidth ceiling is the node's DIMM channels' peak at 80 % (McCalpin's 75-85 %
 * sustained, PERF-NOTES §7.2).
 */
function dramMachine(d: {
  name: string;
  summary: string;
  nodes: number;
  cpusPerNode: number;
  nodeBytes: number;
  oneThreadMs: number;
  channels: { count: number; mts: number; what: string };
  calibrationSource: string;
  calibrationDesign?: string;
  predictions: PublishedFigure[];
}): Preset {
  const gbs = (d.channels.count * d.channels.mts * 8 * 0.8) / 1000;
  return {
    name: d.name,
    summary: d.summary,
    nodes: d.nodes,
    cpusPerNode: d.cpusPerNode,
    dramBytesPerNode: d.nodeBytes,
    workload: { kind: 'deferred', perNodeBytes: d.nodeBytes, threads: 1 },
    cost: {
      ...COMMON,
      nsPerPageDram: (d.oneThreadMs * 1e6) / pages(d.nodeBytes),
      nsPerPagePmem: 0,
      dramGBs: gbs,
      pmemGBs: 0,
      sources: {
        ...COMMON_SOURCES,
        nsPerPageDram: `calibrated: ${d.oneThreadMs} ms with 1 thread per node (${d.calibrationSource})`,
        dramGBs: `${d.channels.what} = ${((d.channels.count * d.channels.mts * 8) / 1000).toFixed(1)} GB/s peak, 80 % sustained (PERF-NOTES §7.2)`,
        nsPerPagePmem: 'not used',
        pmemGBs: 'not used',
      },
    },
    calibration: { label: 'deferred init per node, 1 thread', design: d.calibrationDesign ?? 'current', threads: 1, ms: d.oneThreadMs, source: d.calibrationSource, parameter: 'nsPerPageDram' },
    predictions: d.predictions,
  };
}

export const PRESETS: readonly Preset[] = [
  {
    ...duyck('duyck-2018', '4 nodes x (3 TB pmem + 384 GB DRAM), Duyck 2018 (PERF-NOTES §1.1, §1.3)'),
    predictions: [
      {
        label: 'v4.19 (before 4.20): per node, one node at a time',
        design: 'v4.19',
        ms: 30_000,
        msHigh: 40_000,
        source: 'PERF-NOTES §1.1 v5 cover: "30 to 40 seconds per node and going through each node one at a time"',
      },
      { label: 'v4.19 total minus all nodes in parallel', design: 'v4.19-minus-v5.3', ms: 120_000, source: 'PERF-NOTES §1.1 v5 cover: "we reduce page init time by about 2 minutes"' },
    ],
  },
  {
    ...duyck('seed-2019', "the seed thread's 4-node system (duyck-2018's machine) under the 2019 designs, a 128 MiB namespace below each node's destroyed while they probe (PERF-NOTES §0)"),
    workload: { kind: 'zone-device', perNodeBytes: 3 * TiB, map: 'dev', alignBytes: 2 * 2 ** 20, devdax: false, unplugBytes: 128 * 2 ** 20 },
    predictions: [
      { label: 'v5.3, 4 nodes in parallel', design: 'v5.3', ms: 0, msHigh: 30_000, source: 'PERF-NOTES §0: "a system where I had brought the init time under about 30 seconds"' },
      {
        label: 'serialize / v5.3',
        design: 'serialize-over-v5.3',
        ms: 3.5,
        msHigh: 4.5,
        source: 'PERF-NOTES §0: "25-30s for each node, and on a 4 node system we are looking at 2 minutes or so"; "4x or 8x"',
      },
    ],
  },
  dramMachine({
    name: 'jordan-2020-skylake',
    summary: 'Xeon Platinum 8167M, 2 nodes x 26 cores x 2 threads, 384 GB per node: padata deferred init (PERF-NOTES §3)',
    nodes: 2,
    cpusPerNode: 52,
    nodeBytes: 384 * GiB,
    oneThreadMs: 1717.7,
    channels: { count: 6, mts: 2666, what: 'Xeon Platinum 8167M: 6 DDR4-2666 channels per socket' },
    calibrationSource: 'Jordan, "[PATCH v3 6/8] mm: parallelize deferred_init_memmap()", PERF-NOTES §3',
    predictions: [
      { label: 'deferred init, 13 threads', design: 'current', threads: 13, ms: 157.0, source: 'PERF-NOTES §3' },
      { label: 'deferred init, 52 threads (all CPUs of the node)', design: 'current', threads: 52, ms: 138.0, source: 'PERF-NOTES §3' },
    ],
  }),
  dramMachine({
    name: 'jordan-2020-haswell',
    summary: 'Xeon E5-2699 v3, 2 nodes x 18 cores x 2 threads, 128 GB per node: padata deferred init (PERF-NOTES §3)',
    nodes: 2,
    cpusPerNode: 36,
    nodeBytes: 128 * GiB,
    oneThreadMs: 627.0,
    channels: { count: 4, mts: 2133, what: 'Xeon E5-2699 v3: 4 DDR4-2133 channels per socket' },
    calibrationSource: 'PERF-NOTES §3',
    predictions: [
      { label: 'deferred init, 27 threads', design: 'current', threads: 27, ms: 97.3, source: 'PERF-NOTES §3' },
      { label: 'deferred init, 36 threads (all CPUs of the node)', design: 'current', threads: 36, ms: 90.0, source: 'PERF-NOTES §3' },
    ],
  }),
  dramMachine({
    name: 'tatashin-2017',
    summary: '8 nodes x 128 GB, one deferred-init thread per node (Tatashin 2017, PERF-NOTES §2)',
    nodes: 8,
    cpusPerNode: 18,
    nodeBytes: 32471632 * 4096,
    oneThreadMs: 901,
    channels: { count: 4, mts: 2133, what: 'Xeon E7-8895 v3 class (assumed): 4 DDR4-2133 channels' },
    calibrationSource: '"node 1 initialised, 32471632 pages in 901ms", PERF-NOTES §2',
    calibrationDesign: 'v4.19',
    predictions: [],
  }),
  {
    name: 'martins-2022-devdax',
    summary: 'a 128 GiB device-dax namespace, --map=mem, 2 MiB and 1 GiB alignment (Martins 2022, PERF-NOTES §4)',
    nodes: 1,
    cpusPerNode: 16,
    dramBytesPerNode: 64 * GiB,
    workload: { kind: 'zone-device', perNodeBytes: 128 * GiB, map: 'mem', alignBytes: 2 * 2 ** 20, devdax: true },
    cost: {
      ...COMMON,
      nsPerPageDram: (313 * 1e6) / pages(128 * GiB),
      nsPerPagePmem: 0,
      dramGBs: 8 * 3.2 * 8 * 0.8,
      pmemGBs: 0,
      sources: {
        ...COMMON_SOURCES,
        nsPerPageDram: 'calibrated: 313 ms, the middle of "~268-358 ms" before compound pages for 128G at 2M (PERF-NOTES §4), on a kernel without vmemmap_shift',
        dramGBs: 'assumed: 8 DDR4-3200 channels, 80 % sustained (PERF-NOTES §7.2)',
        nsPerPagePmem: 'not used',
        pmemGBs: 'not used',
      },
    },
    calibration: { label: 'namespace bootstrap before compound pages, 2 MiB', design: '5.15', alignBytes: 2 * 2 ** 20, ms: 268, msHigh: 358, source: 'PERF-NOTES §4', parameter: 'nsPerPageDram' },
    predictions: [
      { label: 'with compound pages, 2 MiB', design: 'current', alignBytes: 2 * 2 ** 20, ms: 80, msHigh: 110, source: 'PERF-NOTES §4: "~80-110/<1ms on 128G NVDIMMs with 2M and 1G"' },
      { label: 'with compound pages, 1 GiB', design: 'current', alignBytes: 2 ** 30, ms: 0, msHigh: 1, source: 'PERF-NOTES §4' },
    ],
  },
];

export function presetByName(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}
