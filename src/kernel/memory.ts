// Memory block size: probe_memory_block_size (arch/x86/mm/init_64.c). 'align' is v5.3;
// 'bare-metal-2g' is 6.18 without an advised size (CXL/ACPI memory_block_advise_max_size and the
// UV/set_memory_block_size_order override are left out); 'large-2g' is the 4.x rule.
import type { MemoryBlockRule } from '../profiles/profile.js';
import { GiB, MiB, type Bytes, type Nid } from '../units.js';

export const MIN_MEMORY_BLOCK_SIZE: Bytes = 128 * MiB;
export const MAX_BLOCK_SIZE: Bytes = 2 * GiB;
export const MEM_SIZE_FOR_LARGE_BLOCK: Bytes = 64 * GiB;

export function probeMemoryBlockSize(rule: MemoryBlockRule, bootMemEnd: Bytes, hypervisor: boolean): Bytes {
  if (bootMemEnd < MEM_SIZE_FOR_LARGE_BLOCK) return MIN_MEMORY_BLOCK_SIZE;
  if (rule === 'large-2g') return MAX_BLOCK_SIZE;
  if (rule === 'bare-metal-2g' && !hypervisor) return MAX_BLOCK_SIZE;
  let bz = MAX_BLOCK_SIZE;
  for (; bz > MIN_MEMORY_BLOCK_SIZE; bz /= 2) {
    if (bootMemEnd % bz === 0) break;
  }
  return bz;
}

/**
 * struct memory_group (5.15+): memory that is added and removed together. Static groups (ACPI
 * memory devices, dax/kmem) know their total size; dynamic ones (virtio-mem) the unit they add
 * and remove at once.
 */
export interface MemoryGroup {
  readonly id: number;
  readonly nid: Nid;
  readonly dynamic: boolean;
  /** Static: s.max_pages. Dynamic: d.unit_pages. */
  readonly pages: number;
}
