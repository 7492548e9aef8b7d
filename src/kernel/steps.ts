// Named steps of the model that a design may replace (mmsim designs --steps lists them;
// docs/designs.md says what each models). A step is a task fragment with a contract: the model
// calls the design's version where the kernel runs that code (Machine.step), or its own when the
// design leaves it. Each entry gives the step's TypeScript signature (the types are in
// kernel/machine.ts), the kernel function it models, the lock it is entered with and where it yields.
import type { Task } from './task.js';
import type { DesignSteps, Machine } from './machine.js';
import type { DevPagemap } from './dev_pagemap.js';
import type { Zone } from './mmzone.js';
import type { Pfn } from '../units.js';

/** What a replacement step is given besides its arguments: the model's own version and helpers. */
export interface StepApi<F> {
  /** The step as the design's base runs it. */
  readonly base: F;
  /** __init_single_page + set_pfnblock_flags_mask + cond_resched over [start, end), giving pages the pgmap. */
  readonly initDeviceRange: (m: Machine, zone: Zone, start: Pfn, end: Pfn, pgmap: DevPagemap, refcount: number) => Task<void>;
  /** pfn_first and pfn_end of a pgmap. */
  readonly pfnFirst: (p: DevPagemap) => Pfn;
  readonly pfnEnd: (p: DevPagemap) => Pfn;
}

export interface StepDoc {
  /** The replacement's parameters after `api` (types in kernel/machine.ts) and what it returns. */
  readonly signature: string;
  /** The kernel code it models, its locks on entry and exit, and its yields. */
  readonly doc: string;
}

/** Every replaceable step, in the order the hotplug and memremap paths reach them. */
export const STEP_DOCS: Readonly<Record<keyof DesignSteps, StepDoc>> = {
  add_memory_resource: {
    signature: '(m, nid, start: PhysAddr, size: Bytes, params: AddParams) => Task<number>',
    doc: 'add_memory_resource (mm/memory_hotplug.c): entered with device_hotplug_lock held; checks the range, takes mem_hotplug_lock for writing around arch_add_memory and the memory block devices, then auto-onlines; 0 or -errno',
  },
  arch_add_memory: {
    signature: '(m, nid, start: Pfn, end: Pfn, params: ArchAddParams) => Task<number>',
    doc: 'arch_add_memory -> __add_pages: mem_hotplug_lock held for writing; sparse_add_section for each section piece of [start, end); device memory undoes what it added on failure; 0 or -errno',
  },
  sparse_add_section: {
    signature: '(m, nid, sec: number, start: Pfn, end: Pfn, params: ArchAddParams) => Task<number>',
    doc: "sparse_add_section (v4.19 sparse_add_one_section): mem_hotplug_lock held; the section and its memmap (stale, or poisoned with page_init_poison), or a shared section's subsection bits; yields the mem_section write, the memmap work (RAM) and __add_pages' cond_resched; 0, -EEXIST or -ENOMEM",
  },
  move_pfn_range_to_zone: {
    signature: '(m, zone: Zone, start: Pfn, nr: number, altmap: VmemAltmap | null) => Task<void>',
    doc: 'move_pfn_range_to_zone: mem_hotplug_lock held; resize_zone_range + resize_pgdat_range (pgdat_resize_lock and the span seqlock before 5.14), then memmap_init_range: all of RAM, for ZONE_DEVICE the altmap pfns (4.20+) or all from base + reserve (v4.19)',
  },
  memmap_init_range: {
    signature: '(m, zone: Zone, start: Pfn, end: Pfn) => Task<void>',
    doc: 'memmap_init_range (MEMINIT_HOTPLUG; v4.19-6.1 memmap_init_zone): mem_hotplug_lock held; per pageblock __init_single_page + PG_reserved, set_pfnblock_flags_mask (asserts zone_spans_pfn), the work, cond_resched',
  },
  online_pages: {
    signature: '(m, zone: Zone, start: Pfn, nr: number) => Task<void>',
    doc: 'online_pages: mem_hotplug_lock held for writing; move_pfn_range_to_zone, the pages to the buddy (managed), online_mem_sections, present counts (pgdat_resize_lock before 5.14)',
  },
  offline_pages: {
    signature: '(m, block: MemoryBlock, zone: Zone, start: Pfn, nr: number) => Task<number>',
    doc: 'offline_pages: mem_hotplug_lock held for writing; -EBUSY/-EINVAL refusals, offline_mem_sections, counts, then (5.5+) remove_pfn_range_from_zone; 0 or -errno',
  },
  remove_pfn_range_from_zone: {
    signature: "(m, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid') => Task<void>",
    doc: 'remove_pfn_range_from_zone (5.5+; v4.19/v5.3 __remove_zone, a section at a time from __remove_pages): mem_hotplug_lock held; poison (5.5+), return for ZONE_DEVICE (5.5+), then under pgdat_resize_lock (before 5.14) shrink_zone_span and update_pgdat_span (5.4+) or shrink_pgdat_span',
  },
  shrink_zone_span: {
    signature: "(m, zone: Zone, start: Pfn, end: Pfn, search: 'online' | 'valid') => Task<void>",
    doc: 'shrink_zone_span: pgdat_resize_lock held before 5.14, takes the span seqlock for writing; find_smallest/biggest_section_pfn read struct pages (online: pfn_to_online_page, 5.5+; valid: pfn_valid, v5.3 by subsection, v4.19 by section), then the "only holes" loop (before 5.5); yields each struct page read',
  },
  update_pgdat_span: {
    signature: '(m, node: PglistData) => Task<void>',
    doc: 'update_pgdat_span (5.4+): the node span from its zones, no struct page read; yields the node span write, which ends the span update the checkers wait for',
  },
  shrink_pgdat_span: {
    signature: '(m, node: PglistData, start: Pfn, end: Pfn) => Task<void>',
    doc: 'shrink_pgdat_span (before 5.4): pgdat_resize_lock held; find_*_section_pfn with no zone (pfn_to_nid of each struct page) and the "only holes" loop; yields each read and the node span write',
  },
  memremap_pages: {
    signature: '(m, pgmap: DevPagemap) => Task<number>',
    doc: 'memremap_pages (v4.19/v5.3 devm_memremap_pages): no lock on entry or exit; the checks, the pgmap stored for its pfns, pagemap_range, then nr_range raised; 0 or -errno',
  },
  pagemap_range: {
    signature: '(m, pgmap: DevPagemap, zone: Zone) => Task<number>',
    doc: 'pagemap_range: takes mem_hotplug_lock for writing; arch_add_memory, move_pfn_range_to_zone, memmap_init_zone_device (which drops the lock); on failure undoes and drops the lock itself; 0 or -errno',
  },
  memmap_init_zone_device: {
    signature: '(m, zone: Zone, pgmap: DevPagemap, refcount: number) => Task<void>',
    doc: 'memremap_pages from the end of move_pfn_range_to_zone(ZONE_DEVICE): entered holding mem_hotplug_lock for writing, it must drop it (mem_hotplug_done) exactly once and give every pfn of [pfn_first, pfn_end) its pgmap; cond_resched per pageblock (v4.19: per 1024 pfns)',
  },
  memunmap_pages: {
    signature: '(m, pgmap: DevPagemap) => Task<number>',
    doc: 'memunmap_pages (v4.19/v5.3 devm_memremap_pages_release): no lock on entry; page_to_nid read (5.0-5.3 of the first pfn, 5.4+ of pfn_first), mem_hotplug_lock for writing around the span shrink (before 5.5) and the section removal; 0 or -errno',
  },
  compaction: {
    signature: '(m, zone: Zone) => Task<number>',
    doc: "compaction's __pageblock_pfn_to_page over the zone span: no lock; reads each online pageblock's first struct page, cond_resched; returns the pages read",
  },
  kpageflags_read: {
    signature: '(m, start: Pfn, end: Pfn) => Task<number>',
    doc: 'kpageflags_read (fs/proc/page.c): no lock; pfn_to_online_page (5.4+) or pfn_valid (v5.3) per pageblock, then the struct page; returns the pages read',
  },
  memory_failure: {
    signature: '(m, pfn: Pfn) => Task<number>',
    doc: 'memory_failure on a device pfn: no lock; get_dev_pagemap, then pgmap_pfn_valid (5.12+) before memory_failure_dev_pagemap reads the struct page; 0 or -ENXIO',
  },
  set_zone_contiguous: {
    signature: '(m, zone: Zone) => Task<number>',
    doc: 'set_zone_contiguous: takes mem_hotplug_lock for writing; __pageblock_pfn_to_page over the zone span; returns the holes',
  },
  test_pages_in_a_zone: {
    signature: '(m, start: Pfn, end: Pfn) => Task<number>',
    doc: "test_pages_in_a_zone (v5.3): no lock; each pfn_valid pageblock's first struct page read; returns the pages read",
  },
};

/** A design's replacements, each called with its StepApi first. */
export type StepOverrides = { readonly [K in keyof DesignSteps]?: (api: StepApi<DesignSteps[K]>, ...args: Parameters<DesignSteps[K]>) => ReturnType<DesignSteps[K]> };
