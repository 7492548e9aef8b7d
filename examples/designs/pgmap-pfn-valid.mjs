// memory_failure's metadata check as a design file on 5.3: "[PATCH v4 5/5] mm: Fix
// memory_failure() handling of dax-namespace metadata" (Dan Williams, 2021-01-13, merged for
// 5.12), mm/memory-failure.c memory_failure_dev_pagemap:
//
//   +	/* device metadata space is not recoverable */
//   +	if (!pgmap_pfn_valid(pgmap, pfn)) {
//   +		rc = -ENXIO;
//   +		goto out;
//   +	}
//
// with mm/memremap.c
//
//   +bool pgmap_pfn_valid(struct dev_pagemap *pgmap, unsigned long pfn)
//   +{
//   +	for (i = 0; i < pgmap->nr_range; i++) {
//   +		...
//   +		if (pfn >= PHYS_PFN(range->start) && pfn <= PHYS_PFN(range->end))
//   +			return pfn >= pfn_first(pgmap, i);
//   +	}
//   +	return false;
//   +}
//
// memremap_pages raises nr_range only after pagemap_range (and so memmap_init_zone_device) has
// returned, so a pfn of a pgmap still being initialised is refused unread. Try it with
// `mmsim explore seed-2019 --design examples/designs/pgmap-pfn-valid.mjs --walker memory_failure --bound 1`.
export default {
  name: 'pgmap-pfn-valid',
  base: 'v5.3',
  summary: "v5.3 with 5.12's pgmap_pfn_valid check in memory_failure_dev_pagemap",
  steps: {
    *memory_failure(api, m, pfn) {
      const at = pfn * m.pageBytes;
      const pgmap = m.pgmaps.find((p) => p.live && at >= p.start && at <= p.end);
      // get_dev_pagemap found it; pgmap_pfn_valid: counted in nr_range and past the metadata.
      if (pgmap && (pgmap.nrRange === 0 || pfn < api.pfnFirst(pgmap))) return -6; // -ENXIO
      return yield* api.base(m, pfn);
    },
  },
};
