// The machine a kernel boots on, as the memory model sees it after firmware parsing: memblock
// memory regions with their nodes, what is reserved where known, CPUs per node, the command
// line options and kernel config that change the layout.
import type { ArchName } from '../arch/arch.js';
import type { Bytes, Nid, PhysAddr } from '../units.js';

/** A memblock.memory region (struct memblock_region): [base, base + size) on node `nid`. */
export interface MemblockRegion {
  readonly base: PhysAddr;
  readonly size: Bytes;
  readonly nid: Nid;
  /** MEMBLOCK_HOTPLUG: SRAT said hot-pluggable (used by movable_node). */
  readonly hotpluggable: boolean;
  /** MEMBLOCK_MIRROR: address-range mirrored (used by kernelcore=mirror). */
  readonly mirror: boolean;
}

/** An e820 table entry, bytes [start, end), typed as e820__print_table names it ("usable", "reserved", "ACPI data", ...). */
export interface E820Entry {
  readonly start: PhysAddr;
  readonly end: PhysAddr;
  readonly type: string;
}

/** An NVDIMM range (NFIT SPA range / e820 type 12) on a node. */
export interface PmemSpec {
  readonly base: PhysAddr;
  readonly size: Bytes;
  readonly nid: Nid;
  /** The DIMM has a label area; namespaces come from labels once initialised. */
  readonly labels?: boolean;
  /**
   * A namespace set up before this boot (its pfn/dax info block is on the media): the whole
   * range in this mode, probed at boot by nd_pmem / dax_pmem on a CPU of the node.
   */
  readonly namespace?: { readonly mode: 'raw' | 'fsdax' | 'devdax'; readonly map: 'dev' | 'mem'; readonly align?: Bytes };
}

/** A memblock.reserved range. */
export interface ReservedRange {
  readonly base: PhysAddr;
  readonly size: Bytes;
}

/**
 * The kernel image as setup_arch reserves it (arch/x86/kernel/setup.c early_reserve_memory and
 * reserve_brk, 6.1) and as mem_init_print_info measures it (bytes; physical addresses).
 */
export interface KernelImage {
  /** __pa_symbol(_text). */
  readonly start: PhysAddr;
  /** __pa_symbol(__end_of_kernel_reserve) (= __bss_stop on x86_64); null when only the section sizes are known. */
  readonly end: PhysAddr | null;
  /** _brk_end - _brk_start, reserved from the page after `end`; null when unknown. */
  readonly brk: Bytes | null;
  /** The "Memory:" line's sections: kernel code, rwdata, rodata, init, bss. */
  readonly code: Bytes;
  readonly rwdata: Bytes;
  readonly rodata: Bytes;
  readonly init: Bytes;
  readonly bss: Bytes;
  /** Bytes of the image given back after mem_init (initmem, the rodata gaps, ...); null when unknown. */
  readonly freedLater: Bytes | null;
}

/**
 * What boot's memblock allocations are sized by beyond the memory map: the image, the boot
 * loader's initrd, and what a boot log states (each null when not among the inputs).
 */
export interface BootMemory {
  readonly image: KernelImage | null;
  /** The initrd (RAMDISK line): base null when only its size is known. */
  readonly initrd: { readonly base: PhysAddr | null; readonly size: Bytes } | null;
  /** "Reserving N MB of memory at M MB for crashkernel". */
  readonly crashkernel: { readonly base: PhysAddr; readonly size: Bytes } | null;
  /** "NODE_DATA(n) allocated [mem a-b]": roundup(sizeof(pg_data_t), PAGE_SIZE). */
  readonly nodeDataBytes: Bytes | null;
  /** "percpu: Embedded N pages/cpu ... uU". */
  readonly percpu: { readonly unitPages: number; readonly unitBytes: Bytes } | null;
  /** "setup_percpu: ... nr_cpu_ids:N". */
  readonly possibleCpus: number | null;
  /** "software IO TLB: mapped [mem a-b]": the bounce buffer; 'none' when the log shows it was not set up. */
  readonly swiotlb: { readonly size: Bytes } | 'none' | null;
  /** "software IO TLB: area num N". */
  readonly swiotlbAreas: number | null;
  /** "log_buf_len: N bytes": setup_log_buf's new buffer. */
  readonly logBufBytes: Bytes | null;
  /** alloc_large_system_hash tables allocated from memblock ("..., linear)"), bytes each. */
  readonly earlyHashBytes: readonly Bytes[];
  /** strlen(boot_command_line), when the log shows it. */
  readonly cmdlineBytes: number | null;
  /** The end of SRAT's memory affinity ranges (hot-pluggable included): max_possible_pfn's source. */
  readonly possibleEnd: PhysAddr | null;
}

export const NO_BOOT_MEMORY: BootMemory = {
  image: null,
  initrd: null,
  crashkernel: null,
  nodeDataBytes: null,
  percpu: null,
  possibleCpus: null,
  swiotlb: null,
  swiotlbAreas: null,
  logBufBytes: null,
  earlyHashBytes: [],
  cmdlineBytes: null,
  possibleEnd: null,
};

/**
 * A memory block's attributes as a running system reported them (e.g. imported from sysfs):
 * observations the boot model cannot derive (offline blocks, the old removable heuristic).
 */
export interface ObservedBlock {
  readonly id: number;
  readonly state?: 'online' | 'offline' | 'going-offline';
  readonly removable?: boolean;
  readonly validZones?: string;
  readonly physDevice?: number;
  readonly nodes?: readonly Nid[];
}

/** A size option such as kernelcore=4G or movablecore=10%. */
export type CoreSize = { readonly bytes: Bytes } | { readonly percent: number };

export interface BootOptions {
  /** kernelcore=: a size, a percent, or "mirror". */
  readonly kernelcore?: CoreSize | 'mirror';
  readonly movablecore?: CoreSize;
  readonly movableNode: boolean;
  /** mem=: on x86 every RAM byte at or above this address is dropped (e820__range_remove). */
  readonly memLimit?: Bytes;
  /** memhp_default_state=: overrides the config's default online type for hot-added memory. */
  readonly memhpDefaultState?: KernelConfig['autoOnlineBlocks'];
  /** memory_hotplug.online_policy= (5.15+): how "online" picks a zone. */
  readonly onlinePolicy?: 'contig-zones' | 'auto-movable';
  /** memory_hotplug.auto_movable_ratio= (percent of MOVABLE to early KERNEL memory; 301). */
  readonly autoMovableRatio?: number;
  /** memory_hotplug.auto_movable_numa_aware= as written (the ratio also per node; Y). */
  readonly autoMovableNumaAware?: string;
  /**
   * memory_hotplug.memmap_on_memory= as written (5.13+: a bool; 6.6+: also "force"); "" when
   * given without a value. Read per kernel at hotplug time.
   */
  readonly memmapOnMemory?: string;
}

export interface KernelConfig {
  /** CONFIG_NODES_SHIFT: MAX_NUMNODES = 1 << nodesShift. */
  readonly nodesShift: number;
  readonly deferredStructPageInit: boolean;
  /** CONFIG_ZONE_DEVICE: adds the Device zone (printed as "  Device   empty"). */
  readonly zoneDevice: boolean;
  /**
   * auto_online_blocks: CONFIG_MHP_DEFAULT_ONLINE_TYPE / memhp_default_state=
   * ("offline", "online", "online_kernel", "online_movable").
   */
  readonly autoOnlineBlocks: 'offline' | 'online' | 'online_kernel' | 'online_movable';
  /** arm64 page size (CONFIG_ARM64_4K/16K/64K_PAGES); ignored elsewhere. */
  readonly pageBytes: 4096 | 16384 | 65536;
  /**
   * x86_64 with 5-level paging in use (CONFIG_X86_5LEVEL, a CPU with LA57, no `no5lvl`):
   * MAX_PHYSMEM_BITS 52 instead of 46 (kernel/limits.ts); ignored elsewhere.
   */
  readonly la57: boolean;
  /**
   * i386: max_low_pfn in bytes, the end of lowmem (the "low ram: 0 - X" line; 896 MiB less the
   * vmalloc reserve by default). Null elsewhere or when unknown.
   */
  readonly lowmemBytes: Bytes | null;
  /** s390x: sclp.rzm, the storage increment size; the memory block is max(section, rzm). */
  readonly rzmBytes: Bytes | null;
  /** CONFIG_NUMA; null: the distro default of the arch (on for 64-bit, off for i386). */
  readonly numa: boolean | null;
  /**
   * A kernel .config (CONFIG_X -> value) that decides the struct page layout (NODES_SHIFT,
   * NR_CPUS, NUMA_BALANCING, KASAN, LRU_GEN, ...); null: the distro defaults of the arch.
   */
  readonly kconfig: ReadonlyMap<string, string> | null;
}

export interface NodeSpec {
  readonly nid: Nid;
  /** CPUs on the node (0 if unknown or none); a node with CPUs and no memory is memoryless. */
  readonly cpus: number;
}

export interface MachineSpec {
  readonly name: string;
  readonly arch: ArchName;
  /** The hypervisor dmesg names ("KVM", "Xen HVM", ...), or null on bare metal. */
  readonly hypervisor: string | null;
  /** memblock.memory as the kernel has it after e820/SRAT parsing, before mem= is applied. */
  readonly memory: readonly MemblockRegion[];
  /**
   * Persistent memory ranges (e820 type 12 / NFIT), per node. Not memblock memory: the boot
   * layout ignores them; they become ZONE_DEVICE through memremap_pages.
   */
  readonly pmem: readonly PmemSpec[];
  /** The kernel's e820 table after its early edits (for /proc/iomem), when known. */
  readonly e820?: readonly E820Entry[];
  /** memblock.reserved at memblock_free_all time, when known. */
  readonly reserved: readonly ReservedRange[] | null;
  /**
   * The ACPI tables acpi_reserve_initial_tables put in memblock.reserved (5.13+; a log's "ACPI:
   * Reserving X table memory" lines), often in firmware-reserved memory outside memblock.memory.
   */
  readonly acpiTables?: readonly ReservedRange[];
  /** What boot's memblock allocations are sized by (kernel/setup.ts); absent: nothing known. */
  readonly bootMemory?: BootMemory;
  /**
   * dma_reserve in pages when it is known directly (a log's "DMA zone: N pages reserved" line);
   * null otherwise.
   */
  readonly dmaReservePages: number | null;
  /** Every possible node (SRAT), memoryless ones included. */
  readonly nodes: readonly NodeSpec[];
  readonly boot: BootOptions;
  readonly config: KernelConfig;
  /** True when `memory` already reflects mem= (it was read from a booted kernel's node ranges). */
  readonly memLimitApplied: boolean;
  /** Observed memory block attributes that override the derived ones (none when booting fresh). */
  readonly observedBlocks?: readonly ObservedBlock[];
  /** Observed block size in bytes; the model's own must agree (checked, never overridden). */
  readonly observedBlockBytes?: Bytes;
}

export const DEFAULT_CONFIG: KernelConfig = {
  nodesShift: 10,
  deferredStructPageInit: true,
  zoneDevice: true,
  autoOnlineBlocks: 'offline',
  pageBytes: 4096,
  la57: false,
  lowmemBytes: null,
  rzmBytes: null,
  numa: null,
  kconfig: null,
};

/** One node of a machine built in code: its CPUs and memblock.memory ranges, bytes [start, end). */
export interface NodeInCode {
  readonly nid: Nid;
  readonly cpus: number;
  readonly memory: readonly { readonly start: PhysAddr; readonly end: PhysAddr }[];
  /** Persistent memory ranges (label-less NVDIMM regions), bytes [start, end). */
  readonly pmem?: readonly { readonly start: PhysAddr; readonly end: PhysAddr }[];
}

/**
 * A machine built in code (the built-in scenarios, the time driver's presets): the given nodes
 * and memory, everything else as a machine file that names only its nodes gets it.
 */
export function machineSpec(nodes: readonly NodeInCode[], name = 'machine'): MachineSpec {
  return {
    name,
    arch: 'x86_64',
    hypervisor: null,
    memory: nodes.flatMap((n) => n.memory.map((r) => ({ base: r.start, size: r.end - r.start, nid: n.nid, hotpluggable: false, mirror: false }))),
    pmem: nodes.flatMap((n) => (n.pmem ?? []).map((r) => ({ base: r.start, size: r.end - r.start, nid: n.nid }))),
    reserved: null,
    dmaReservePages: null,
    nodes: nodes.map((n) => ({ nid: n.nid, cpus: n.cpus })),
    boot: { movableNode: false },
    config: DEFAULT_CONFIG,
    memLimitApplied: false,
  };
}
