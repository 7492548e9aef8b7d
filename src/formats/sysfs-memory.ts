// /sys/devices/system/memory as userspace sees it: the files lsmem and chmem read. A machine
// is exported to this view (and to a directory tree); a real tree or a dump is read into it.

/** One memoryN directory. Absent files are undefined (old kernels, s390 dumps). */
export interface SysfsMemoryBlock {
  /** N of memoryN: the block id (first section nr / sections per block). */
  readonly index: number;
  /** The directory's name as read ("memory5"; a dump may hold "memory05", which the kernel never names). */
  readonly name?: string;
  /** Contents of "state" without the newline: "online", "offline", "going-offline". */
  readonly state: string;
  /** "phys_index": the first section nr, "%08lx". */
  readonly physIndex?: string;
  /** "removable": "0" or "1". */
  readonly removable?: string;
  /** "valid_zones": e.g. "DMA32", "Normal Movable", "none". */
  readonly validZones?: string;
  /** "online": "0" or "1". */
  readonly online?: string;
  /** "phys_device". */
  readonly physDevice?: string;
  /** The nodeN links inside memoryN (normally exactly one). */
  readonly nodes: readonly number[];
}

/** One /sys/firmware/memory/memoryN directory (s390: memory that can be configured/deconfigured). */
export interface SysfsFirmwareMemoryBlock {
  /** N of memoryN. */
  readonly index: number;
  /** Contents of "config" without the newline: "0" or "1"; undefined if absent. */
  readonly config?: string;
  /** Contents of "memmap_on_memory" without the newline: "0" or "1"; undefined if absent. */
  readonly memmapOnMemory?: string;
}

export interface SysfsMemory {
  /** "block_size_bytes": hex without 0x, e.g. "8000000". */
  readonly blockSizeBytes: string;
  /** "auto_online_blocks": "online", "offline", "online_kernel", "online_movable"; undefined if absent. */
  readonly autoOnlineBlocks?: string;
  /** Every memoryN, in index order. */
  readonly blocks: readonly SysfsMemoryBlock[];
  /** /sys/firmware/memory/memoryN in index order, present only when /sys/firmware/memory/memory0 exists. */
  readonly firmwareBlocks?: readonly SysfsFirmwareMemoryBlock[];
  /** /sys/module/memory_hotplug/parameters/memmap_on_memory without the newline ("Y", "N", "force"); undefined if absent. */
  readonly memmapOnMemoryParameter?: string;
}
