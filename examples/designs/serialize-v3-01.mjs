// The 2019 patch under review as a design file: "[PATCH v3 01/11] mm/memremap: Get rid of
// memmap_init_zone_device()" (David Hildenbrand, Aug 2019; the thread is
// ../shared/seed-thread-2019.txt). Its mm/page_alloc.c hunks:
//
//   -	if (zone == ZONE_DEVICE) {
//   -		if (!altmap)
//   -			return;
//   -
//   -		if (start_pfn == altmap->base_pfn)
//   -			start_pfn += altmap->reserve;
//   -		end_pfn = altmap->base_pfn + vmem_altmap_offset(altmap);
//   -	}
//   ...
//   +	if (zone == ZONE_DEVICE) {
//   +		WARN_ON_ONCE(!pgmap);
//   +		page->pgmap = pgmap;
//   +		page->zone_device_data = NULL;
//   +	}
//
// memmap_init_zone (memmap_init_range) now runs over the whole range inside
// move_pfn_range_to_zone, under mem_hotplug_lock, and gives every page — the altmap's reserve
// and memmap pfns too, which is what the reviewer objected to — page->pgmap; memremap_pages no
// longer calls memmap_init_zone_device after mem_hotplug_done. The built-in design `serialize`
// is the same change as a feature (zoneDeviceInitUnderLock).
export default {
  name: 'serialize-v3-01',
  base: 'v5.3',
  summary: 'v5.3 with the v3 01/11 hunk: the whole device range, reserve and altmap pfns included, initialised with page->pgmap under mem_hotplug_lock',
  steps: {
    // move_pfn_range_to_zone without the ZONE_DEVICE limit's altmap-only init: the spans grow
    // here; the init of the whole range follows before mem_hotplug_done (below).
    *move_pfn_range_to_zone(api, m, zone, start, nr, altmap) {
      yield* api.base(m, zone, start, nr, zone.name === 'Device' ? null : altmap);
    },
    // memmap_init_zone over [start, end) with the pgmap, then mem_hotplug_done; nothing after it.
    *memmap_init_zone_device(api, m, zone, pgmap, refcount) {
      yield* api.initDeviceRange(m, zone, pgmap.start / m.pageBytes, api.pfnEnd(pgmap), pgmap, refcount);
      yield { op: 'up_write', lock: m.memHotplugLock };
    },
  },
};
