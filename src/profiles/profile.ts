// Kernel profiles: the boot-time memory-layout behaviour and printk formats that changed between
// kernel versions, keyed on the full release string (mainline version, stable sublevel, distro).
// Each feature records where it changed; tests check every row against real logs.
import { InputError } from '../errors.js';
import { parseRelease, releaseCode, versionCode, type KernelRelease } from './release.js';

/** How pages of memmap in holes ("unavailable ranges") are reported at boot. */
export type UnavailableFormat =
  /** Nothing printed (before zero_resv_unavail). */
  | 'none'
  /** zero_resv_unavail: one line "Zeroed struct page in unavailable ranges: N pages" (v4.19..v5.10). */
  | 'zeroed-total'
  /** memmap_init per zone with a static hole_pfn: "  DMA zone: N pages in unavailable ranges" (v5.11). */
  | 'per-zone'
  /** memmap_init after all nodes: "On node N, zone X: N pages in unavailable ranges" (v5.12+). */
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

export interface FormatFeatures {
  readonly unavailable: UnavailableFormat;
  /** "On node N totalpages: N" at the default log level. */
  readonly nodeTotalpagesLine: boolean;
  /** "  X zone: N pages used for memmap" / "pages reserved" / "N pages, LIFO batch:N". */
  readonly zoneDetailLines: boolean;
  /** "Built N zonelists in Node order, ..." (before the zonelist order option was removed). */
  readonly zonelistOrderInLine: boolean;
  /** zone_batchsize cap: 512 KiB before "double zone's batchsize", 1 MiB after. */
  readonly batchCapBytes: number;
  readonly managedEstimate: ManagedEstimate;
  readonly dmaReserve: DmaReserveRule;
  readonly memoryBlock: MemoryBlockRule;
  readonly memoryless: MemorylessFormat;
  /** Lowest pfn for the zone ranges: min over memblock (v5.3) or memblock_start_of_DRAM (same value). */
}

export interface KernelProfile {
  readonly release: KernelRelease;
  /** A short label of the profile row that applied, for --explain. */
  readonly basis: string;
  readonly features: FormatFeatures;
  /** Where a feature came from a distro backport rather than the mainline version. */
  readonly notes: readonly string[];
}

const v = versionCode;

/** Mainline behaviour by version. */
function mainlineFeatures(code: number): FormatFeatures {
  return {
    unavailable:
      code >= v(5, 12) ? 'per-node-zone' : code >= v(5, 11) ? 'per-zone' : code >= v(4, 19) ? 'zeroed-total' : 'none',
    nodeTotalpagesLine: code < v(5, 14),
    zoneDetailLines: code < v(5, 14),
    zonelistOrderInLine: code < v(4, 14),
    batchCapBytes: code >= v(4, 19) ? 1024 * 1024 : 512 * 1024,
    managedEstimate: code >= v(6, 9) ? 'present' : 'memmap-and-dma-reserve',
    dmaReserve: code >= v(5, 13) ? 'first-1MiB' : 'input',
    memoryBlock: code >= v(5, 9) ? 'bare-metal-2g' : code >= v(4, 19) ? 'align' : 'large-2g',
    memoryless: code >= v(6, 9) ? 'as-memoryless' : 'late-zero-range',
  };
}

interface Backport {
  /** Which kernels: distro and release pattern, upstream range. */
  readonly distro: KernelRelease['distro'];
  readonly matches: (r: KernelRelease) => boolean;
  readonly features: Partial<FormatFeatures>;
  readonly note: string;
}

/**
 * Distribution kernels that carry a behaviour before (or after) the mainline version that
 * introduced it. Each row cites the real log that shows it.
 */
const BACKPORTS: readonly Backport[] = [
  {
    distro: 'suse',
    matches: (r) => r.major === 4 && r.minor === 12,
    features: { batchCapBytes: 1024 * 1024, memoryBlock: 'align' },
    note: 'SUSE 4.12 carries "mm, page_alloc: double zone\'s batchsize" (LIFO batch:63; dmesg 07)',
  },
  {
    distro: 'rhel',
    matches: (r) => r.major === 4 && r.minor === 18,
    features: { unavailable: 'zeroed-total' },
    note: 'RHEL 8 4.18 carries zero_resv_unavail ("Zeroed struct page in unavailable ranges"; dmesg 13)',
  },
  {
    distro: 'ubuntu',
    matches: (r) => r.major === 5 && r.minor === 8,
    features: { unavailable: 'per-zone' },
    note: 'Ubuntu 5.8 carries the v5.11 per-zone unavailable-range init ("DMA zone: N pages in unavailable ranges"; dmesg 25)',
  },
  {
    distro: 'debian',
    matches: (r) => r.major === 5 && r.minor === 10 && r.sublevelKnown && r.sublevel >= 162,
    features: { unavailable: 'per-node-zone' },
    note: 'Debian 5.10.162 prints the 5.12 "On node N, zone X: N pages in unavailable ranges" lines (dmesg 05)',
  },
];

/** The profile for a full release string, with the build string of the "Linux version" line if known. */
export function profileFor(releaseString: string, build = ''): KernelProfile {
  const release = parseRelease(releaseString, build);
  const code = releaseCode(release);
  if (code < v(4, 9)) {
    throw new InputError(`kernel ${release.release}: mmsim models kernels from 4.9 on; give --kernel 4.9 or later`);
  }
  let features = mainlineFeatures(code);
  const notes: string[] = [];
  for (const b of BACKPORTS) {
    if (b.distro === release.distro && b.matches(release)) {
      features = { ...features, ...b.features };
      notes.push(b.note);
    }
  }
  return {
    release,
    basis: `mainline ${release.major}.${release.minor}${release.sublevelKnown ? `.${release.sublevel}` : ''}${notes.length ? ` + ${release.distro} backports` : ''}`,
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
