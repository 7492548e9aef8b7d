// Per-kernel steps of the memremap release and span-shrinking paths, each checked against the
// kernel source it follows (issue 16 item 1) and, for 4.19, against the real Linux 4.19.1 run in
// ../shared/kernels (README, "What was seen on them"). Expected values are worked here by hand
// from the code cited in each test.
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/drivers/scheduler.js';
import { hotplugCheckers, mightSleepChecker } from '../src/kernel/debug.js';
import type { Machine } from '../src/kernel/machine.js';
import type { Task, Yield } from '../src/kernel/task.js';
import { memremapPages, memunmapPages, pgmapAddress } from '../src/kernel/memremap.js';
import { memoryFailure } from '../src/kernel/walkers.js';
import { VmemAltmap, pfnFirst, type DevPagemap } from '../src/kernel/dev_pagemap.js';
import { profileForOption } from '../src/profiles/profile.js';
import { machineYaml, zone } from './helpers.js';

const G = 2 ** 30;
const M = 2 ** 20;

/** The ../shared/kernels boot.sh machine: two NUMA nodes of 1 GiB, the NVDIMMs on node 1 from 4 GiB. */
function sharedKernelsMachine(kernel: string, pmemBytes: number, poison = false): Machine {
  return machineYaml(
    kernel,
    `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x80000000 }], pmem: [{ start: 4G, size: ${pmemBytes} }] }\n`,
    { poison },
  );
}

function pgmap(m: Machine, start: number, size: number, altmap: VmemAltmap | null = null): DevPagemap {
  return { name: 'pmem', type: 'fsdax', start, end: start + size - 1, altmap, vmemmapShift: 0, address: pgmapAddress(m), nid: 1, initialisedTo: 0, live: true };
}

/** Runs a task alone under the debug checkers; its yields and the checkers' reports. */
function run(m: Machine, task: Task<number>): { rc: number; yields: Yield[]; violations: string[] } {
  const yields: Yield[] = [];
  const watched = (function* (): Task<number> {
    let r = task.next();
    while (!r.done) {
      yields.push(r.value);
      r = task.next(yield r.value);
    }
    return r.value;
  })();
  const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
  const id = s.spawn('op', watched);
  s.runInOrder();
  return { rc: s.result(id) as number, yields, violations: s.violations.map((v) => v.message) };
}

describe('v4.19: its own memremap release path, against the real 4.19.1', () => {
  it('destroying the 256 MiB namespace above a 6 GiB one shrinks node 1 Device 1900544 -> 1835008, as 4.19.1 did (t=z, map=mem)', () => {
    // ../shared/kernels README: guard 1 GiB, A 6 GiB, B 256 MiB above A, map=mem (no altmap):
    // Device spanned 262144 -> 1835008 -> 1900544 -> 1835008 (B destroyed) -> 262144 (A destroyed).
    // 4.19.1 __remove_pages (mm/memory_hotplug.c) removes B a section at a time: for B's first
    // section __remove_zone changes nothing (neither end; the "only holes" loop finds the guard's
    // first section first); the section goes; for B's second section zone_end_pfn == end_pfn and
    // find_biggest_section_pfn steps back a section at a time from B's first section's last pfn —
    // no longer valid_section — to A's last pfn, a Device page of node 1: spanned = A's end - start.
    const m = sharedKernelsMachine('4.19', 7 * G + 256 * M);
    const guard = pgmap(m, 4 * G, G);
    const a = pgmap(m, 5 * G, 6 * G);
    const b = pgmap(m, 11 * G, 256 * M);
    const device = zone(m.state, 1, 'Device');
    const spans: number[] = [];
    for (const p of [guard, a, b]) {
      expect(run(m, memremapPages(m, p)).rc).toBe(0);
      spans.push(device.spannedPages);
    }
    const rb = run(m, memunmapPages(m, b));
    expect([rb.rc, rb.violations]).toEqual([0, []]);
    spans.push(device.spannedPages);
    expect(run(m, memunmapPages(m, a)).rc).toBe(0);
    spans.push(device.spannedPages);
    expect(spans).toEqual([262144, 1835008, 1900544, 1835008, 262144]);
    expect(device.zoneStartPfn).toBe((4 * G) / 4096);
  });

  it("4.19.1 devm_memremap_pages_release reads no struct page for the node; 5.3 reads the range's first (page_to_nid), 6.1 pfn_first's", () => {
    // kernel/memremap.c 4.19.1: put_page loop, then mem_hotplug_begin + arch_remove_memory, no
    // page_to_nid; mm/memremap.c 5.3.0: nid = page_to_nid(pfn_to_page(PHYS_PFN(res->start)));
    // 6.1 memunmap_pages: page_to_nid(first_page) of pfn_first (77e080e7680e).
    for (const [kernel, read] of [
      ['4.19', null],
      ['5.3', 0x100000],
      ['6.1', 0x100000 + 2 + 8702],
    ] as const) {
      const m = sharedKernelsMachine(kernel, 2 * G);
      const p = pgmap(m, 4 * G, 2 * G, new VmemAltmap(0x100000, 2, 8702));
      expect(run(m, memremapPages(m, p)).rc).toBe(0);
      const r = run(m, memunmapPages(m, p));
      const beforeLock = r.yields.slice(
        0,
        r.yields.findIndex((y) => y.op === 'down_write'),
      );
      expect(
        beforeLock.filter((y) => y.op === 'access').map((y) => (y.op === 'access' ? y.what : '')),
        kernel,
      ).toEqual(read === null ? [] : [`struct page ${read}`]);
    }
  });

  it('the pgmap pass after mem_hotplug_done never sets a pageblock migratetype (4.19.1 for_each_device_pfn: list_del + page->pgmap only)', () => {
    const m = sharedKernelsMachine('4.19', 2 * G);
    const p = pgmap(m, 4 * G, 128 * M, new VmemAltmap(0x100000, 2, 1022));
    const r = run(m, memremapPages(m, p));
    expect([r.rc, r.violations]).toEqual([0, []]);
    const unlock = r.yields.findIndex((y) => y.op === 'up_write');
    expect(unlock).toBeGreaterThan(0);
    // Under the lock memmap_init_zone sets every pageblock it starts from base + reserve: from
    // 0x100002 (0x100000, a pageblock start, is skipped) to 0x108000: 0x100200 ... 0x107e00, 63.
    expect(r.yields.slice(0, unlock).filter((y) => y.op === 'set_pfnblock_flags')).toHaveLength(63);
    expect(r.yields.slice(unlock).filter((y) => y.op === 'set_pfnblock_flags')).toHaveLength(0);
    // pfn_next's cond_resched at every 1024th pfn of [pfn_first, pfn_end) = [0x100400, 0x108000): 0x100400 ... 0x107c00, 31.
    expect(r.yields.slice(unlock).filter((y) => y.op === 'might_sleep')).toHaveLength(31);
  });
});

describe('shrink_zone_span per kernel: the "only holes" loop and shrink_pgdat_span before 5.5 / 5.4', () => {
  /** Two adjacent 128 MiB pgmaps with the seed altmap (reserve 2, free 1022) on node 1; B removed while A stays. */
  function removeUpper(kernel: string): { reads: string[]; span: [number, number] } {
    const m = sharedKernelsMachine(kernel, 256 * M, true);
    const a = pgmap(m, 4 * G, 128 * M, new VmemAltmap(0x100000, 2, 1022));
    const b = pgmap(m, 4 * G + 128 * M, 128 * M, new VmemAltmap(0x108000, 2, 1022));
    expect(run(m, memremapPages(m, a)).rc).toBe(0);
    expect(run(m, memremapPages(m, b)).rc).toBe(0);
    const r = run(m, memunmapPages(m, b));
    const lock = r.yields.findIndex((y) => y.op === 'down_write');
    const reads = r.yields.slice(lock).flatMap((y) => (y.op === 'access' && y.kind === 'read' ? [y.what] : []));
    const d = zone(m.state, 1, 'Device');
    return { reads, span: [d.zoneStartPfn, d.spannedPages] };
  }

  it("v5.3: find_biggest_section_pfn finds A's last pfn, the hole loop reads A's first (an altmap reserve pfn, never initialised), shrink_pgdat_span reads A's last again", () => {
    // mm/memory_hotplug.c 5.3.0: zone_end_pfn == end_pfn -> find_biggest_section_pfn(1, zone,
    // 0x100000, 0x108000) reads 0x107fff (A's, a Device page of node 1): spanned = 0x8000. Then
    // the "only holes" loop from the old zone_start_pfn 0x100000: pfn_valid, page_zone of
    // 0x100000 (A's reserve pfn, poisoned: no zone) -> continue; 0x100200 (altmap memmap pfn,
    // initialised under the lock) is Device and outside [0x108000, 0x110000) -> return.
    // shrink_pgdat_span: node end 0x110000 == end -> find_biggest_section_pfn(1, NULL, 0x40000,
    // 0x108000) reads 0x107fff (nid 1) -> node spanned = 0x107fff - 0x40000 + 1; its hole loop
    // from 0x40000 reads that page (nid 1, outside B) and returns.
    const r = removeUpper('5.3');
    expect(r.reads).toEqual(['struct page 1081343', 'struct page 1048576', 'struct page 1049088', 'struct page 1081343', 'struct page 262144']);
    expect(r.span).toEqual([0x100000, 0x8000]);
  });

  it("v4.19: the same a section at a time; the hole loop reads each section's first pfn (A's reserve pfn 0x100000, then B's own, skipped as start_pfn)", () => {
    // mm/memory_hotplug.c 4.19.1: find_biggest_section_pfn from 0x107fff (A's last, Device):
    // spanned 0x8000. Hole loop over [0x100000, 0x110000) a section at a time: 0x100000 (never
    // initialised: memmap_init_zone starts at base_pfn + reserve) -> not Device; 0x108000 (B's
    // reserve pfn, poisoned) -> not Device; none left -> the zone is emptied. 4.19's hole loop
    // judges by the first pfn of a section, which an altmap's reserve never initialises.
    const r = removeUpper('4.19');
    expect(r.reads.slice(0, 3)).toEqual(['struct page 1081343', 'struct page 1048576', 'struct page 1081344']);
    expect(r.span).toEqual([0, 0]);
  });

  it('6.1: no hole loop and update_pgdat_span; ZONE_DEVICE is never shrunk, nothing is read', () => {
    const r = removeUpper('6.1');
    expect(r.reads).toEqual([]);
    expect(r.span).toEqual([0x100000, 0x10000]);
  });
});

describe('memory_failure on a device pfn: pgmap_pfn_valid from 5.12', () => {
  it('profiles: 5.11 without the check, 5.12, 6.1 and 6.18 with it', () => {
    expect(['5.3', '5.11', '5.12', '6.1', '6.18'].map((k) => profileForOption(k).features.memoryFailurePgmapPfnValid)).toEqual([false, false, true, true, true]);
  });

  it("mid-init (memmap_init_zone_device past its first pageblock), v5.3 reads the uninitialised struct page of A's last pfn; 6.1 returns -ENXIO unread (nr_range still 0)", () => {
    for (const [kernel, reads] of [
      ['5.3', true],
      ['6.1', false],
      ['6.18', false],
    ] as const) {
      const m = sharedKernelsMachine(kernel, 256 * M, true);
      const a = pgmap(m, 4 * G, 128 * M, new VmemAltmap(0x100000, 2, 1022));
      const init = memremapPages(m, a);
      // Drive memremap_pages alone until the data pages' init has begun.
      while (a.initialisedTo <= pfnFirst(a, 4096)) expect(init.next().done).toBe(false);
      const last = 0x107fff;
      expect(last).toBeGreaterThanOrEqual(a.initialisedTo); // not yet initialised
      const mf = memoryFailure(m, last);
      const seen: string[] = [];
      let r = mf.next();
      while (!r.done) {
        if (r.value.op === 'access') seen.push(r.value.what);
        r = mf.next();
      }
      expect(seen.includes(`struct page ${last}`), kernel).toBe(reads);
      expect(r.value, kernel).toBe(reads ? 0 : -6);
    }
  });
});

describe('v5.3 with DEBUG_VM_PGFLAGS: the struct page reads the real 5.3 BUGs on (issue 17 item 2; ../shared/kernels README, map=mem)', () => {
  // The ../shared/kernels guest: node 1's RAM [1 GiB, 0x7ffdf000) — QEMU's firmware keeps
  // [0x7ffdf000, 2 GiB) e820-reserved — and K (1 GiB at 4 GiB), A (6 GiB at 5 GiB), B (256 MiB at
  // 11 GiB), fsdax --map=mem (no altmap: pgmap->altmap unset). Pfns: K 0x100000-0x140000, A
  // 0x140000-0x2c0000 (sections 40-87), B 0x2c0000-0x2d0000 (sections 88, 89).
  const K = 4 * G;
  const A = 5 * G;
  const B = 11 * G;
  function guest(kernel: string): Machine {
    return machineYaml(
      kernel,
      `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }], pmem: [{ start: 4G, size: 7424M }] }\n`,
      { poison: true },
    );
  }
  /** The page:%px dump_page prints for a pfn (vmemmap_base 0xffffea0000000000, 64-byte struct page). */
  const dumped = (pfn: number): string => `page:${(0xffffea0000000000n + BigInt(pfn) * 64n).toString(16)} is uninitialized and poisoned; page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))`;
  /** The function of the read of struct page pfn, as the task yielded it. */
  const readBy = (yields: Yield[], pfn: number): string | undefined => {
    const y = yields.find((x) => x.op === 'access' && x.kind === 'read' && x.what === `struct page ${pfn}`);
    return y?.op === 'access' ? y.fn : undefined;
  };

  it("B's unmap while A's memremap is past mem_hotplug_done but before its memmap_init_zone_device: find_biggest_section_pfn reads A's poisoned last struct page (0x2bffff)", () => {
    // mm/memremap.c 5.3.0 devm_memremap_pages: add_pages (sparse_add_section poisons A's new
    // memmap: mm/sparse.c:868 page_init_poison), move_pfn_range_to_zone -> memmap_init_zone,
    // which for ZONE_DEVICE without an altmap returns at once (mm/page_alloc.c:5855-5857), then
    // mem_hotplug_done (memremap.c:305), and only then memmap_init_zone_device (memremap.c:313),
    // pfn by pfn upwards: A's last struct page is the last one written.
    // B's devm_memremap_pages_release (memremap.c:102-133): page_to_nid of B's first page
    // (memremap.c:116; initialised: memmap_init_zone_device starts at res->start when there is no
    // altmap, page_alloc.c:5926-5929), mem_hotplug_begin, arch_remove_memory -> __remove_pages
    // (mm/memory_hotplug.c:539), a section at a time (__remove_section :514, __remove_zone :502).
    // Section 88: neither zone end, the "only holes" loop reads K's first page 0x100000 (Device,
    // outside B) and returns; shrink_pgdat_span's reads 0x40000 (nid 1) and returns; the section
    // goes. Section 89: zone_end_pfn == end_pfn, so find_biggest_section_pfn(1, zone, 0x100000,
    // 0x2c8000) (:350-371) steps down a subsection at a time from 0x2c7fff; section 88 is gone
    // (!pfn_valid) until 0x2bffff, A's last pfn: pfn_to_nid -> page_to_nid ->
    // PF_POISONED_CHECK (include/linux/mm.h:1088) on A's still-poisoned page: the BUG.
    const m = guest('5.3');
    for (const [start, size] of [
      [K, G],
      [B, 256 * M],
    ] as const)
      expect(run(m, memremapPages(m, pgmap(m, start, size))).rc).toBe(0);
    const a = pgmap(m, A, 6 * G);
    const mapA = memremapPages(m, a);
    // A alone up to mem_hotplug_done (its up_write), as the scheduler would run it.
    for (let y = mapA.next(); !(y.done || y.value.op === 'up_write'); y = mapA.next());
    expect(a.initialisedTo).toBe(0); // memmap_init_zone_device has not begun
    const r = run(m, memunmapPages(m, m.pgmaps[1] as DevPagemap));
    expect(r.violations[0]).toBe(dumped(0x2bffff));
    expect(readBy(r.yields, 0x2bffff)).toBe('find_biggest_section_pfn');
    // Before it, only good pages: B's first (page_to_nid), K's first (the hole loop), node 1's first RAM page.
    const reads = r.yields.flatMap((y) => (y.op === 'access' && y.kind === 'read' ? [Number(/\d+$/.exec(y.what)?.[0])] : []));
    expect(reads.slice(0, reads.indexOf(0x2bffff) + 1)).toEqual([0x2c0000, 0x100000, 0x40000, 0x2bffff]);
  });

  it("the same with --map=dev reads B's own first page first (an altmap reserve pfn, never initialised), before any lock: the BUG the real 5.3 gives on destroy with map=dev", () => {
    // memremap.c:116 page_to_nid(pfn_to_page(PHYS_PFN(res->start))): with an altmap res->start is
    // the reserve, which memmap_init_zone skips (page_alloc.c:5859-5860) and memmap_init_zone_device
    // starts past (:5926-5927).
    const m = guest('5.3');
    // 128 MiB with the seed altmap (reserve 2, free 1022: nd_pfn_init at 2 MiB alignment).
    const b = pgmap(m, B, 128 * M, new VmemAltmap(B / 4096, 2, 1022));
    expect(run(m, memremapPages(m, b)).rc).toBe(0);
    const r = run(m, memunmapPages(m, b));
    expect(r.violations[0]).toBe(dumped(0x2c0000));
    expect(readBy(r.yields, 0x2c0000)).toBe('page_to_nid');
  });

  it('A and B without the guard: destroying B then A lets shrink_pgdat_span reach pfn 0x7ffff, the never-initialised struct page of the e820-reserved tail of RAM; with K below A nothing poisoned is read', () => {
    // mm/page_alloc.c 5.3.0 zero_resv_unavail (:6905-6921) zeroes the holes of memblock.memory
    // only up to max_pfn (0x7ffdf), and memmap_init_zone only the zones' spans (to 0x7ffdf): the
    // struct pages of [0x7ffdf, 0x80000) keep the boot memmap's poison, in early section 15,
    // which pfn_valid takes whole (include/linux/mmzone.h:1351 early_section).
    // Destroy B (A live): node 1 ends where B does; find_biggest_section_pfn(1, NULL, 0x40000,
    // 0x2c8000) finds A's last page 0x2bffff: the node ends at 0x2c0000. Destroy A, section by
    // section from 40: for A's last, section 87, pgdat_end_pfn == end_pfn (0x2c0000), so
    // shrink_pgdat_span (:439-500) calls find_biggest_section_pfn(1, NULL, 0x40000, 0x2b8000):
    // from 0x2b7fff down by 0x200, sections 40-86 are gone and nothing is between 2 GiB and 4 GiB;
    // the first pfn_valid pfn is 0x7ffff (0x2b7fff - 0x238000), and pfn_to_nid reads its poisoned
    // page: the BUG (mm.h:1088) in __remove_pages. With K live the search stops at K's last page
    // 0x13ffff (nid 1).
    for (const guard of [false, true]) {
      const m = guest('5.3');
      if (guard) expect(run(m, memremapPages(m, pgmap(m, K, G))).rc).toBe(0);
      const a = pgmap(m, A, 6 * G);
      const b = pgmap(m, B, 256 * M);
      expect(run(m, memremapPages(m, a)).rc).toBe(0);
      expect(run(m, memremapPages(m, b)).rc).toBe(0);
      const rb = run(m, memunmapPages(m, b));
      expect(rb.violations, `guard ${guard}`).toEqual([]);
      const ra = run(m, memunmapPages(m, a));
      if (guard) {
        expect(ra.violations).toEqual([]);
        // Read twice: shrink_zone_span's find_biggest_section_pfn (the zone ends with A) and shrink_pgdat_span's.
        const fns = ra.yields.flatMap((y) => (y.op === 'access' && y.what === `struct page ${0x13ffff}` ? [y.fn] : []));
        expect(fns).toEqual(['find_biggest_section_pfn', 'shrink_pgdat_span']);
        expect(m.node(1).nodeStartPfn + m.node(1).nodeSpannedPages).toBe(0x140000);
      } else {
        expect(ra.violations[0]).toBe(dumped(0x7ffff));
        expect(readBy(ra.yields, 0x7ffff)).toBe('shrink_pgdat_span');
      }
    }
  });
});
