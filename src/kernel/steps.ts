// Named steps of the model that a design may replace (mmsim designs lists them; docs/designs.md
// says what each models). A step is a task fragment with a contract; the model calls the
// design's version where the kernel runs that code, or its own when the design leaves it.
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

export const STEP_DOCS: Readonly<Record<keyof DesignSteps, string>> = {
  memmap_init_zone_device:
    'memremap_pages from the end of move_pfn_range_to_zone(ZONE_DEVICE): entered holding mem_hotplug_lock for writing, it must drop it (mem_hotplug_done) exactly once and give every pfn of [pfn_first, pfn_end) its pgmap (memmap_init_zone_device)',
  shrink_zone_span:
    'shrink_zone_span + update_pgdat_span after [start, end) left the zone: the search for the zone\'s new first or last pfn (find_smallest/biggest_section_pfn) and the node span; search is "online" (pfn_to_online_page, 5.5+) or "valid" (pfn_valid, v5.3)',
};

/** A design's replacements, each called with its StepApi first. */
export type StepOverrides = { readonly [K in keyof DesignSteps]?: (api: StepApi<DesignSteps[K]>, ...args: Parameters<DesignSteps[K]>) => ReturnType<DesignSteps[K]> };
