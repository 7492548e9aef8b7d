// arm64, i386 (PAE, HighMem) and s390x as data. Sources: arch/*/include/asm/sparsemem.h,
// page.h, the ARCH_FORCE_MAX_ORDER Kconfig defaults and each arch's zone_sizes_init, in 4.19
// and 6.18 as noted per field.
import { limitsFor, type Arch, type ZoneName } from './arch.js';

const GiB_PFN_4K = 1 << 18;

export type Arm64PageSize = 4096 | 16384 | 65536;

/**
 * arm64. 6.18: SECTION_SIZE_BITS 27 (29 with 64K pages), MAX_PAGE_ORDER 10/11/13 for 4K/16K/64K,
 * pageblock_order = min(HUGETLB_PAGE_ORDER, MAX_PAGE_ORDER) = PMD order 9/11/13; zones DMA (to
 * the 32-bit limit when RAM starts below 4 GiB, less if firmware says so), DMA32, Normal.
 * Before 5.5 ("era4"): SECTION_SIZE_BITS 30, MAX_ORDER 11 with 4K pages, no ZONE_DMA: DMA32
 * covers the first 4 GiB above the 4 GiB-aligned start of DRAM (max_zone_dma_phys).
 */
export function arm64Arch(pageBytesOpt: Arm64PageSize, era: 'era4' | 'current', zoneDevice: boolean): Arch {
  const pageShift = Math.log2(pageBytesOpt);
  const pmdShift = pageShift + (pageShift - 3); // one page of 8-byte entries maps PMD_SHIFT
  if (era === 'era4') {
    const zones: ZoneName[] = ['DMA32', 'Normal', 'Movable'];
    return {
      name: 'arm64',
      variant: `arm64 ${pageBytesOpt / 1024}K pages (4.x)`,
      pageShift,
      sectionSizeBits: 30,
      subsectionShift: 21,
      pageblockOrder: Math.min(pmdShift - pageShift, pageShift === 16 ? 13 : pageShift === 14 ? 11 : 10),
      structPageBytes: 64,
      maxOrderNrPages: 2 ** (pageShift === 16 ? 13 : pageShift === 14 ? 11 : 10),
      zones,
      minMemoryBlockBytes: 2 ** 30,
      sparsemem: true,
      is64bit: true,
      maxZonePfns: (m) => {
        const page = 2 ** pageShift;
        const startBytes = m.minPfn * page;
        const offset = Math.floor(startBytes / 2 ** 32) * 2 ** 32;
        const dma32End = Math.min(offset + 2 ** 32, m.maxPfn * page);
        return limitsFor(zones, { DMA32: Math.floor(dma32End / page), Normal: m.maxPfn });
      },
    };
  }
  const maxPageOrder = pageShift === 16 ? 13 : pageShift === 14 ? 11 : 10;
  const zones: ZoneName[] = ['DMA', 'DMA32', 'Normal', 'Movable', ...(zoneDevice ? (['Device'] as const) : [])];
  return {
    name: 'arm64',
    variant: `arm64 ${pageBytesOpt / 1024}K pages`,
    pageShift,
    sectionSizeBits: pageShift === 16 ? 29 : 27,
    subsectionShift: 21,
    pageblockOrder: Math.min(pmdShift - pageShift, maxPageOrder),
    structPageBytes: 64,
    maxOrderNrPages: 2 ** maxPageOrder,
    zones,
    minMemoryBlockBytes: 2 ** (pageShift === 16 ? 29 : 27),
    sparsemem: true,
    is64bit: true,
    // zone_sizes_init with no firmware DMA limit: both DMA and DMA32 end at
    // max_zone_phys(U32_MAX) = min(4 GiB, end of DRAM) when DRAM starts below 4 GiB (DMA32 is
    // then empty); above 4 GiB, ZONE_DMA takes all of memory.
    maxZonePfns: (m) => {
      const page = 2 ** pageShift;
      const start = m.minPfn * page;
      const end = m.maxPfn * page;
      const u32End = Math.min(2 ** 32, end);
      const dmaEnd = start < 2 ** 32 ? u32End : end;
      return limitsFor(zones, { DMA: Math.floor(dmaEnd / page), DMA32: Math.floor(u32End / page), Normal: m.maxPfn });
    },
  };
}

/**
 * i386 with PAE and HighMem, FLATMEM as distro 32-bit kernels build it: zones DMA (16 MiB),
 * Normal (to max_low_pfn), HighMem (to max_pfn); pageblock = 2 MiB huge page (PAE);
 * MAX_ORDER 11; struct page 40 bytes (32 + the memcg pointer, aligned to 8 for SLUB's
 * cmpxchg_double: HAVE_ALIGNED_STRUCT_PAGE). SECTION_SIZE_BITS 29 applies only to SPARSEMEM.
 */
export function i386Arch(): Arch {
  const zones: ZoneName[] = ['DMA', 'Normal', 'HighMem', 'Movable'];
  return {
    name: 'i386',
    variant: 'i386 PAE HighMem (FLATMEM)',
    pageShift: 12,
    sectionSizeBits: 29,
    subsectionShift: 21,
    pageblockOrder: 9,
    structPageBytes: 40,
    maxOrderNrPages: 1024,
    zones,
    minMemoryBlockBytes: 2 ** 29,
    sparsemem: false,
    is64bit: false,
    // zone_sizes_init (arch/x86/mm/init.c, 32-bit): DMA, Normal to max_low_pfn, HighMem to max_pfn.
    maxZonePfns: (m) => limitsFor(zones, { DMA: Math.min(4096, m.maxLowPfn), Normal: m.maxLowPfn, HighMem: m.maxPfn }),
  };
}

/**
 * s390x (6.18): SECTION_SIZE_BITS 27, pageblock = 1 MiB huge page (order 8), MAX_PAGE_ORDER 10;
 * zones DMA (below MAX_DMA_ADDRESS = 2 GiB) and Normal; no ZONE_DEVICE.
 */
export function s390xArch(): Arch {
  const zones: ZoneName[] = ['DMA', 'Normal', 'Movable'];
  return {
    name: 's390x',
    variant: 's390x',
    pageShift: 12,
    sectionSizeBits: 27,
    subsectionShift: 21,
    pageblockOrder: 8,
    structPageBytes: 64,
    maxOrderNrPages: 1024,
    zones,
    minMemoryBlockBytes: 2 ** 27,
    sparsemem: true,
    is64bit: true,
    maxZonePfns: (m) => limitsFor(zones, { DMA: Math.min(2 * GiB_PFN_4K, m.maxLowPfn), Normal: m.maxLowPfn }),
  };
}
