// x86_64 with 4-level paging, SPARSEMEM_VMEMMAP, 4 KiB pages (arch/x86/include/asm/sparsemem.h,
// page_types.h, dma.h; zone_sizes_init in arch/x86/mm/init.c, v5.3 and 6.18 alike).
import type { Arch } from './arch.js';

export const MAX_DMA_PFN = 4096; // 16 MiB
export const MAX_DMA32_PFN = 1 << 20; // 4 GiB

export const x86_64: Arch = {
  name: 'x86_64',
  pageShift: 12,
  sectionSizeBits: 27,
  subsectionShift: 21,
  pageblockOrder: 9,
  structPageBytes: 64,
  maxOrderNrPages: 1024,
  zones: ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'],
  minMemoryBlockBytes: 128 * 1024 * 1024,
  // zone_sizes_init (arch/x86/mm/init.c): DMA below 16 MiB, DMA32 below 4 GiB, Normal up to
  // max_low_pfn (= max_pfn on x86_64); Movable and Device are not sized by the arch.
  maxZonePfns(maxLowPfn, _maxPfn) {
    return [Math.min(MAX_DMA_PFN, maxLowPfn), Math.min(MAX_DMA32_PFN, maxLowPfn), maxLowPfn, 0, 0];
  },
};
