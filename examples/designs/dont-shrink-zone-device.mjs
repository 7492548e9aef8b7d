// A user design for `mmsim explore --design FILE`: vanilla 5.3 with the maintainer's answer in
// the 2019 thread — "we will rather stop shrinking the ZONE_DEVICE" — as 5.5 merged it, and
// nothing else. The hunk (feee6b298916, "mm/memory_hotplug: shrink zones when offlining memory",
// v5.5, mm/memory_hotplug.c remove_pfn_range_from_zone):
//
//   +	/*
//   +	 * Zone shrinking code cannot properly deal with ZONE_DEVICE. So
//   +	 * we will not try to shrink the zones - which is okay as
//   +	 * set_zone_contiguous() cannot deal with ZONE_DEVICE either way.
//   +	 */
//   +	if (zone_idx(zone) == ZONE_DEVICE)
//   +		return;
//
// In 5.3 the same call pair (shrink_zone_span, shrink_pgdat_span) is __remove_zone, which the
// model runs as the step remove_pfn_range_from_zone. `mmsim designs --steps` lists every step a
// design may replace and what each must do; a replacement is a generator function given the
// model's own version (api.base) and helpers first.
//
// With this design `mmsim explore seed-2019` (README) exits 1 on purpose: memunmap_pages still
// reads B's never-initialised first page (77e080e7680e's fix is not in this design), a poisoned
// struct page read with no race needed.
export default {
  name: 'dont-shrink-zone-device',
  base: 'v5.3',
  summary: "v5.3, but __remove_zone (5.5: remove_pfn_range_from_zone) returns at once for ZONE_DEVICE (the fix's core, without the other 5.5 changes)",
  steps: {
    *remove_pfn_range_from_zone(api, m, zone, start, end, search) {
      if (zone.name === 'Device') return;
      yield* api.base(m, zone, start, end, search);
    },
  },
};
