// struct zone and struct pglist_data (include/linux/mmzone.h): the fields the model keeps of each,
// as free_area_init sets them and hotplug changes them. Leaves out the free lists, watermarks,
// per-cpu pagesets and LRU state.
import type { ZoneName } from '../arch/arch.js';
import type { Nid, Pfn } from '../units.js';

export interface Zone {
  readonly zoneIdx: number;
  readonly name: ZoneName;
  readonly nid: Nid;
  zoneStartPfn: Pfn;
  spannedPages: number;
  presentPages: number;
  /** zone->managed_pages as set in free_area_init_core; null where dma_reserve is unknown. */
  managedPages: number | null;
  /** calc_memmap_size() estimate, for profiles that subtract it. */
  memmapPages: number;
}

export interface PglistData {
  readonly nodeId: Nid;
  nodeStartPfn: Pfn;
  nodeSpannedPages: number;
  nodePresentPages: number;
  readonly zones: Zone[];
  readonly cpus: number;
  /** Has no memblock memory. */
  readonly memoryless: boolean;
  /**
   * Online: has memory, or is a memoryless node with CPUs (init_cpu_to_node onlines it); later
   * hot-add brings a node online and try_offline_node takes it offline.
   */
  online: boolean;
}
