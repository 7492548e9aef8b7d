// Other pfn walkers that read the memmap while hotplug runs, as tasks a scenario can add beside
// its hotplug operations (mmsim explore --walker). Each reads one struct page per pageblock of
// its range (the kernel reads more of them; the memmap is initialised pageblock by pageblock,
// so the first page of each tells whether the pageblock was), through the yield the debug
// checkers judge. Leaves out what the walkers do with the pages (isolation, migration,
// the flag bits copied to user space, the dax lock and SIGBUS of memory_failure).
import type { Task } from './task.js';
import { pfnToOnlinePage } from './mm.js';
import { type Machine } from './machine.js';
import type { Zone } from './mmzone.js';
import type { Pfn } from '../units.js';
import { pfnFirst } from './dev_pagemap.js';

/**
 * One struct page read: the yield the poisoned-read checker and the footprint recorder see.
 * Blind: no walker here branches on the page it read (the kernel's compare its zone, after the
 * read; see the header).
 */
function* readPage(pfn: Pfn, fn?: string): Task<void> {
  yield { op: 'access', kind: 'read', what: `struct page ${pfn}`, blind: true, ...(fn ? { fn } : {}) };
}

/**
 * __pageblock_pfn_to_page (v5.3 and 6.1), as compaction's isolate_*_block scanners call it: each
 * pageblock of the zone's span (read once at the start, zone_end_pfn) through
 * pfn_to_online_page, then page_zone of its first page compared with the zone.
 */
export function compactionScanner(m: Machine, zone: Zone): Task<number> {
  return m.step('compaction', compactionScannerKernel)(m, zone);
}

/** The kernel's own compaction walker (the step's base). */
export function* compactionScannerKernel(m: Machine, zone: Zone): Task<number> {
  const pb = m.state.sparse.pageblockNrPages;
  const start = zone.zoneStartPfn;
  const end = start + zone.spannedPages;
  let found = 0;
  for (let pfn = Math.ceil(start / pb) * pb; pfn < end; pfn += pb) {
    if (!m.state.sparse.pfnValid(pfn) || !pfnToOnlinePage(m, pfn)) continue;
    yield* readPage(pfn);
    found++;
    yield { op: 'might_sleep', where: 'isolate_migratepages (cond_resched)' };
  }
  return found;
}

/**
 * kpageflags_read (fs/proc/page.c; 5.3.0 and 6.1 read): every pfn of [start, end) through
 * pfn_to_online_page (5.4+) or pfn_valid (v5.3, which reads the struct page of offline and
 * ZONE_DEVICE memory too); a pfn that fails the check gives 0 without reading its struct page.
 * The kernel may be preempted at every pfn (cond_resched); the model's steps end only at the
 * pages it reads, as the other walkers' do. That loses no read: the walker writes nothing, so
 * the other tasks run alike whatever it does, and a run where a check fails at one pageblock and
 * passes at the next (A's sparse_add_section between them) is matched by one where the whole
 * step runs after that change, reads the earlier pageblocks too, then every later page at the
 * same point as before (docs/designs.md, "Walkers"). Leaves out the copy to user space.
 */
export function kpageflagsReader(m: Machine, start: Pfn, end: Pfn): Task<number> {
  return m.step('kpageflags_read', kpageflagsReaderKernel)(m, start, end);
}

/** The kernel's own kpageflags_read walker (the step's base). */
export function* kpageflagsReaderKernel(m: Machine, start: Pfn, end: Pfn): Task<number> {
  const pb = m.state.sparse.pageblockNrPages;
  const online = m.state.profile.features.procPageOnlineCheck;
  // The file ends at max_pfn (5.3 kpageflags_read's count clamp; later get_max_dump_pfn rounds it
  // up to a section, left out): past it a read returns nothing.
  const stop = Math.min(end, m.state.maxPfn);
  let read = 0;
  for (let pfn = start; pfn < stop; pfn += pb) {
    if (!(online ? pfnToOnlinePage(m, pfn) : m.state.sparse.pfnValid(pfn))) continue;
    yield* readPage(pfn, 'stable_page_flags');
    read++;
  }
  return read;
}

/**
 * memory_failure(pfn) on a pfn that is not online RAM (mm/memory-failure.c; 5.3.0, 6.1, 6.18.2
 * read): get_dev_pagemap looks the pfn up in the pgmap xarray (the pgmap is stored there before
 * its memmap is initialised), then memory_failure_dev_pagemap. Before 5.12 it reads the struct
 * page (5.3: dax_lock_page reads page->mapping); from 5.12 ("mm: Fix memory_failure() handling of
 * dax-namespace metadata", posted 2021-01-13) it first asks pgmap_pfn_valid, which is false for
 * the altmap's pfns and for every pfn until memremap_pages has raised nr_range — after
 * memmap_init_zone_device returned — so 6.1 and 6.18 read no uninitialised struct page there.
 * Leaves out MF_COUNT_INCREASED's put_page and the pgmap's ->memory_failure op (5.19+).
 */
export function memoryFailure(m: Machine, pfn: Pfn): Task<number> {
  return m.step('memory_failure', memoryFailureKernel)(m, pfn);
}

/** The kernel's own memory_failure walker (the step's base). */
export function* memoryFailureKernel(m: Machine, pfn: Pfn): Task<number> {
  if (pfnToOnlinePage(m, pfn)) {
    yield* readPage(pfn);
    return 0;
  }
  if (!m.state.sparse.pfnValid(pfn)) return -6; // -ENXIO: no memmap here
  yield { op: 'access', kind: 'read', what: 'pgmap_array' };
  const byte = pfn * m.pageBytes;
  const pgmap = m.pgmaps.find((p) => p.live && byte >= p.start && byte <= p.end);
  if (!pgmap) return -6; // -ENXIO: not a device page either
  // pgmap_pfn_valid (5.12+): "device metadata space is not recoverable" — a pfn below pfn_first,
  // or one of a range memremap_pages has not yet counted in nr_range, is -ENXIO unread.
  if (m.state.profile.features.memoryFailurePgmapPfnValid && (!(pgmap.nrRange ?? 1) || pfn < pfnFirst(pgmap, m.pageBytes))) return -6;
  yield* readPage(pfn, 'dax_lock_page');
  return 0;
}

/**
 * set_zone_contiguous (v5.3 and 6.1) as online_pages and offline_pages call it, under
 * mem_hotplug_lock: __pageblock_pfn_to_page over the zone span; the zone is contiguous when every
 * pageblock's first page is online and in the zone.
 */
export function setZoneContiguous(m: Machine, zone: Zone): Task<number> {
  return m.step('set_zone_contiguous', setZoneContiguousKernel)(m, zone);
}

/** The kernel's own set_zone_contiguous walker (the step's base). */
export function* setZoneContiguousKernel(m: Machine, zone: Zone): Task<number> {
  yield { op: 'down_write', lock: m.memHotplugLock };
  const pb = m.state.sparse.pageblockNrPages;
  const start = zone.zoneStartPfn;
  const end = start + zone.spannedPages;
  let holes = 0;
  for (let pfn = Math.ceil(start / pb) * pb; pfn < end; pfn += pb) {
    if (!pfnToOnlinePage(m, pfn)) {
      holes++;
      continue;
    }
    yield* readPage(pfn);
    yield { op: 'might_sleep', where: 'set_zone_contiguous (cond_resched)' };
  }
  yield { op: 'up_write', lock: m.memHotplugLock };
  return holes;
}

/**
 * test_pages_in_a_zone (v5.3 mm/memory_hotplug.c:1240, used by valid_zones and offline_pages): the
 * pages of [start, end) in present sections are read (page_zone) — no pfn_to_online_page, so
 * offline memory is read too. Approximated: pfn_valid per pageblock where 5.3 asks
 * present_section_nr per section and reads one page per MAX_ORDER_NR_PAGES, and no return at a
 * zone mismatch.
 */
export function testPagesInAZone(m: Machine, start: Pfn, end: Pfn): Task<number> {
  return m.step('test_pages_in_a_zone', testPagesInAZoneKernel)(m, start, end);
}

/** The kernel's own test_pages_in_a_zone walker (the step's base). */
export function* testPagesInAZoneKernel(m: Machine, start: Pfn, end: Pfn): Task<number> {
  const pb = m.state.sparse.pageblockNrPages;
  let read = 0;
  for (let pfn = start; pfn < end; pfn += pb) {
    if (!m.state.sparse.pfnValid(pfn)) continue;
    yield* readPage(pfn);
    read++;
  }
  return read;
}

export const WALKERS = ['compaction', 'kpageflags', 'memory_failure', 'set_zone_contiguous', 'test_pages_in_a_zone'] as const;
export type WalkerName = (typeof WALKERS)[number];
