// x86_64 with 4-level paging, SPARSEMEM_VMEMMAP, 4 KiB pages (arch/x86/include/asm/sparsemem.h,
// page_types.h, dma.h; zone_sizes_init in arch/x86/mm/init.c, v5.3 and 6.18 alike).
import { limitsFor, type Arch, type ZoneName } from './arch.js';

export const MAX_DMA_PFN = 4096; // 16 MiB
export const MAX_DMA32_PFN = 1 << 20; // 4 GiB

export function x86_64Arch(zoneDevice: boolean): Arch {
  const zones: ZoneName[] = ['DMA', 'DMA32', 'Normal', 'Movable', ...(zoneDevice ? (['Device'] as const) : [])];
  return {
    name: 'x86_64',
    variant: 'x86_64',
    pageShift: 12,
    sectionSizeBits: 27,
    subsectionShift: 21,
    pageblockOrder: 9,
    structPageBytes: 64,
    maxOrderNrPages: 1024,
    zones,
    minMemoryBlockBytes: 128 * 1024 * 1024,
    sparsemem: true,
    is64bit: true,
    // zone_sizes_init: DMA below 16 MiB, DMA32 below 4 GiB, Normal up to max_low_pfn.
    maxZonePfns: (m) => limitsFor(zones, { DMA: Math.min(MAX_DMA_PFN, m.maxLowPfn), DMA32: Math.min(MAX_DMA32_PFN, m.maxLowPfn), Normal: m.maxLowPfn }),
  };
}

/** The usual distro x86_64 kernel (CONFIG_ZONE_DEVICE=y). */
export const x86_64: Arch = x86_64Arch(true);
