// Compound pages in the real record layout, values worked from prep_compound_page (v5.3) and
// prep_compound_tail / folio_set_order (6.18).
import { describe, expect, it } from 'vitest';
import { compoundHead, compoundOrder, prepCompoundHead, prepCompoundTail, TAIL_MAPPING } from '../src/kernel/compound.js';
import { DEFAULT_PAGE_CONFIG_X86_64, initSinglePageRecord } from '../src/kernel/page_layout.js';
import { Scheduler } from '../src/drivers/scheduler.js';
import { hotplugCheckers, mightSleepChecker } from '../src/kernel/debug.js';
import { memremapPages, memunmapPages, pagePgmap, pgmapAddress } from '../src/kernel/memremap.js';
import type { ExtentMemmap } from '../src/memmap/extent.js';
import type { Machine } from '../src/kernel/machine.js';
import type { DevPagemap } from '../src/kernel/dev_pagemap.js';
import type { Yield } from '../src/kernel/task.js';
import { devicePageblocks } from '../src/kernel/memmap_view.js';
import { machineYaml } from './helpers.js';

const BASE = 0xffffea0000000000n;

for (const version of ['v5.3', '6.18'] as const) {
  describe(`compound pages, ${version}`, () => {
    const cfg = DEFAULT_PAGE_CONFIG_X86_64(version);
    // An order-2 page at pfn 0x1000: four records.
    const buf = new ArrayBuffer(4 * 64);
    const dv = new DataView(buf);
    for (let i = 0; i < 4; i++) initSinglePageRecord(dv, i * 64, 0x1000 + i, 2, 0, cfg, BASE);
    const head = BASE + 0x1000n * 64n;
    prepCompoundHead(dv, 0, dv, 64, 2, cfg);
    for (let i = 1; i < 4; i++) prepCompoundTail(dv, i * 64, head, cfg);

    it('tails point at the head with bit 0 set and carry TAIL_MAPPING', () => {
      expect(dv.getBigUint64(64 + 8, true)).toBe(head + 1n);
      expect(dv.getBigUint64(3 * 64 + 24, true)).toBe(0xdead000000000400n);
      expect(TAIL_MAPPING).toBe(0xdead000000000400n);
      expect(compoundHead(dv, 2 * 64, head + 128n, cfg)).toBe(head);
      expect(compoundHead(dv, 0, head, cfg)).toBe(head);
    });
    it('the head has PG_head (bit 16 in v5.3, 6 in 6.18) and the order sits on the second page', () => {
      const pgHead = version === 'v5.3' ? 16n : 6n;
      expect((dv.getBigUint64(0, true) >> pgHead) & 1n).toBe(1n);
      expect(compoundOrder(dv, 64, cfg)).toBe(2);
      if (version === 'v5.3') {
        // compound_order is the byte after compound_dtor: offset 8 + 8 + 1 = 17, and v5.3
        // prep_compound_page zeroes the tails' _refcount.
        expect(dv.getUint8(64 + 17)).toBe(2);
        expect(dv.getInt32(64 + 52, true)).toBe(0);
      } else {
        // folio->_flags_1 is page[1].flags: its low byte is the order.
        expect(dv.getBigUint64(64, true) & 0xffn).toBe(2n);
      }
    });
  });
}

// Issue 20: a devdax namespace of about a TiB with 2 MiB compound pages (vmemmap_shift 9, --map=mem
// on 6.18) costs O(ranges), not O(compound pages), and every struct page reads as before. Values
// worked from the kernel: memmap_init_zone_device / memmap_init_compound (mm/mm_init.c 6.18.2)
// give every page __init_zone_device_page (PG_reserved, page->pgmap at offset 8,
// zone_device_data NULL; the head's refcount 1 for MEMORY_DEVICE_GENERIC in 6.18), then
// __SetPageHead on the head (PG_head, bit 6), each tail prep_compound_tail (mm/internal.h 6.18:
// mapping = TAIL_MAPPING at offset 24, compound_head at offset 8 = head | 1, private at offset 40
// = 0) and set_page_count 0 (_refcount at offset 52), and prep_compound_head's folio_set_order
// (the first tail's flags, folio->_flags_1: low byte = the order, 9). compound_nr_pages writes 128
// struct pages per compound page without an altmap (64-byte struct pages), so the work is 128 per
// compound page and one pageblock (the head's) gets MIGRATE_MOVABLE.
describe('a TiB devdax namespace of 2 MiB compound pages (6.18, --map=mem)', () => {
  const START = 0x4cc0000000;
  const BIG = 0xff80000000; // the fuzzer's reproducer: 1022 GiB, 523264 compound pages, 8176 sections
  const SMALL = 0x40000000;
  const machine = (size: number, memmap: 'extent' | 'dense' = 'extent'): Machine =>
    machineYaml('6.18', `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x80000000 }], pmem: [{ start: 0x${START.toString(16)}, size: 0x${size.toString(16)} }] }\n`, { memmap });
  const pgmap = (m: Machine, size: number): DevPagemap => ({
    name: 'dax0.0',
    type: 'generic',
    start: START,
    end: START + size - 1,
    altmap: null,
    vmemmapShift: 9,
    address: pgmapAddress(m),
    nid: 0,
    initialisedTo: 0,
    live: true,
  });
  /** memremap_pages under the run driver with every hotplug checker, counting its memmap_init_zone_device yields. */
  function map(m: Machine, p: DevPagemap): { rc: number; violations: string[]; yields: number; work: number; pageblocks: number[] } {
    const counts = { yields: 0, work: 0, pageblocks: [] as number[] };
    const count = (_s: unknown, _t: number, y: Yield): null => {
      if (y.op === 'work' && y.work === 'memmap-init-zone-device') counts.work += y.nrPages;
      if (y.op === 'set_pfnblock_flags' && y.pfn >= START / 4096) for (let i = 0; i < (y.nr ?? 1); i++) counts.pageblocks.push(y.pfn + i * (y.stride ?? 1));
      const init = (y.op === 'work' && y.work === 'memmap-init-zone-device') || y.op === 'set_pfnblock_flags' || (y.op === 'might_sleep' && y.where.startsWith('memmap_init_zone_device'));
      if (init) counts.yields++;
      return null;
    };
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m), count]);
    const id = s.spawn('probe', memremapPages(m, p));
    s.runInOrder();
    return { rc: s.result(id) as number, violations: s.violations.map((v) => v.message), ...counts };
  }
  const word64 = (m: Machine, pfn: number, off: number): bigint => {
    const rec = new Uint8Array(64);
    expect(m.store.readRecord(pfn, rec)).toBe(true);
    return new DataView(rec.buffer).getBigUint64(off, true);
  };
  const hex = (m: Machine, pfn: number): string => {
    const rec = new Uint8Array(64);
    m.store.readRecord(pfn, rec);
    return Buffer.from(rec).toString('hex');
  };
  const VMEMMAP = 0xffffea0000000000n;
  const first = START / 4096;

  it('maps in O(sections) yields and O(1) extent runs, with the kernel work and pageblocks of 523264 compound pages', () => {
    const m = machine(BIG);
    const p = pgmap(m, BIG);
    const runsBefore = (m.store as ExtentMemmap).runCount();
    const r = map(m, p);
    expect([r.rc, r.violations]).toEqual([0, []]);
    const compoundPages = BIG / (2 * 2 ** 20);
    expect(compoundPages).toBe(1022 * 512);
    expect(r.work).toBe(compoundPages * 128);
    // Every head is 2 MiB aligned: each sets its pageblock, and no other pageblock is set.
    expect(r.pageblocks.length).toBe(compoundPages);
    expect(r.pageblocks[0]).toBe(first);
    expect(r.pageblocks.every((pfn, i) => pfn === first + 512 * i)).toBe(true);
    // One chunk per section (1022 GiB / 128 MiB = 8176): a set_pfnblock_flags, the work and a cond_resched each.
    expect(r.yields).toBe(3 * 8176);
    expect((m.store as ExtentMemmap).runCount() - runsBefore).toBeLessThanOrEqual(4);
    expect(p.initialisedTo).toBe((START + BIG) / 4096);
    // memunmap_pages (destroy-namespace) takes it all down again.
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
    const id = s.spawn('unmap', memunmapPages(m, p));
    s.runInOrder();
    expect([s.result(id), s.violations]).toEqual([0, []]);
    expect(m.store.stateOf(first)).toBe('none');
  }, 20_000);

  it('reads head, tails 1-3, a far tail and the last page of a far compound page as the kernel writes them, and as a 1 GiB namespace reads them', () => {
    const big = machine(BIG);
    const small = machine(SMALL);
    const pb = pgmap(big, BIG);
    const ps = pgmap(small, SMALL);
    expect(pb.address).toBe(ps.address);
    expect(map(big, pb).rc).toBe(0);
    expect(map(small, ps).rc).toBe(0);
    const lastHead = (START + BIG) / 4096 - 512;
    for (const [m, h] of [
      [small, first],
      [big, first],
      [big, first + 512 * 300001],
      [big, lastHead],
    ] as const) {
      const headAddr = VMEMMAP + BigInt(h) * 64n;
      // The head: PG_head, the pgmap, zone_device_data NULL, refcount 1; no compound_head bit.
      expect((word64(m, h, 0) >> 6n) & 1n).toBe(1n);
      expect(word64(m, h, 8)).toBe(pb.address);
      expect(word64(m, h, 16)).toBe(0n);
      expect(Number(word64(m, h, 48) >> 32n)).toBe(1);
      for (const i of [1, 2, 3, 300, 511]) {
        const t = h + i;
        expect(word64(m, t, 8), `tail ${i}`).toBe(headAddr + 1n);
        expect(word64(m, t, 24), `tail ${i}`).toBe(0xdead000000000400n);
        expect(word64(m, t, 40), `tail ${i}`).toBe(0n);
        expect(Number(word64(m, t, 48) >> 32n), `tail ${i}`).toBe(0);
        expect((word64(m, t, 0) >> 6n) & 1n, `tail ${i}`).toBe(0n);
        expect(pagePgmap(m, t)).toBe(pb.address);
      }
      expect(word64(m, h + 1, 0) & 0xffn).toBe(9n);
      // Bytes: the same as the small namespace's first compound page, compound_head aside.
      for (const i of [0, 1, 2, 3, 300, 511]) {
        const got = hex(m, h + i);
        const want = hex(small, first + i);
        const at = (s: string): string => (i === 0 ? s : s.slice(0, 16) + s.slice(32));
        expect(at(got), `page ${i} of the compound page at 0x${h.toString(16)}`).toBe(at(want));
      }
    }
    // The last page of the namespace is the last tail of the last compound page.
    expect(word64(big, (START + BIG) / 4096 - 1, 8)).toBe(VMEMMAP + BigInt(lastHead) * 64n + 1n);
  }, 20_000);

  it('writes the same bytes in the dense and the extent memmap (a 1 GiB namespace, every page)', () => {
    const d = machine(SMALL, 'dense');
    const e = machine(SMALL, 'extent');
    expect(map(d, pgmap(d, SMALL)).rc).toBe(0);
    expect(map(e, pgmap(e, SMALL)).rc).toBe(0);
    for (let pfn = first - 1; pfn <= (START + SMALL) / 4096; pfn++) expect(hex(e, pfn), `pfn 0x${pfn.toString(16)}`).toBe(hex(d, pfn));
  }, 20_000);
});

describe('where the order lives: 6.1 (page[1].compound_order) and 6.6+ (folio->_flags_1)', () => {
  // 6.1 include/linux/mm_types.h: the first tail's union holds compound_head (offset 8), then
  // compound_dtor and compound_order (bytes 16 and 17; struct folio's _folio_order at 64 + 17);
  // set_compound_order writes page[1].compound_order. 6.6 moved it to the low byte of
  // folio->_flags_1 (the first tail's flags word), where 6.12's folio_order reads it.
  const record = (orderInFlags1: boolean): DataView => {
    const cfg = { ...DEFAULT_PAGE_CONFIG_X86_64('6.1'), orderInFlags1 };
    const dv = new DataView(new ArrayBuffer(2 * 64));
    for (let i = 0; i < 2; i++) initSinglePageRecord(dv, i * 64, 0x2000 + i, 4, 1, cfg, BASE);
    prepCompoundHead(dv, 0, dv, 64, 9, cfg);
    expect(compoundOrder(dv, 64, cfg)).toBe(9);
    return dv;
  };
  it('6.1: byte 17 of the first tail, its flags untouched', () => {
    const dv = record(false);
    expect(dv.getUint8(64 + 17)).toBe(9);
    expect(dv.getUint8(64) & 0xff).toBe(0);
  });
  it('6.6 and later: the low byte of the first tail flags word', () => {
    const dv = record(true);
    expect(dv.getUint8(64)).toBe(9);
    expect(dv.getUint8(64 + 17)).toBe(0);
  });
});

// The stable fix "mm/mm_init: fix pageblock migratetype for ZONE_DEVICE compound pages" (in the
// 6.1.192 and 6.12.118 profiles; the mm-stable patch of 2026-04-28): __init_zone_device_page no
// longer sets migratetypes; the loop takes cond_resched at each section-aligned pfn it starts from,
// and pageblock_migratetype_init_range marks every pageblock from pageblock_align(start_pfn) to the
// end afterwards, cond_resched at each section-aligned one. Worked for 1 GiB at pfn 0x4cc0000
// (section-aligned: 0x4cc0000 = 0x998 * 0x8000): 512 compound pages of 2 MiB, 8 sections.
describe('pageblock migratetypes in one pass after the init loop (6.12.118)', () => {
  it('the loop sets none; the pass sets all 512 pageblocks a section at a time; the map shows only those the pass has reached', () => {
    const START = 0x4cc0000000;
    const SIZE = 0x40000000;
    const m = machineYaml('6.12.118', `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x80000000 }], pmem: [{ start: 0x${START.toString(16)}, size: 0x${SIZE.toString(16)} }] }\n`);
    expect(m.state.profile.features.zoneDevicePageblockRange).toBe(true);
    const p: DevPagemap = { name: 'dax0.0', type: 'generic', start: START, end: START + SIZE - 1, altmap: null, vmemmapShift: 9, address: pgmapAddress(m), nid: 0, initialisedTo: 0, live: true };
    const first = START / 4096;
    const end = (START + SIZE) / 4096;
    const seen: string[] = [];
    const log = (_s: unknown, _t: number, y: Yield): null => {
      if (y.op === 'set_pfnblock_flags' && y.pfn >= first) seen.push(`pb ${(y.pfn - first) / 512}+${y.nr ?? 1}`);
      else if (y.op === 'might_sleep') seen.push(y.where);
      else if (y.op === 'work' && y.work === 'memmap-init-zone-device') seen.push('work');
      return null;
    };
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m), log]);
    const id = s.spawn('probe', memremapPages(m, p));
    let halfway: ReturnType<typeof devicePageblocks> | null = null;
    while (!s.isDone(id)) {
      s.step(id);
      // At the pass's fourth cond_resched (section 3's): sections 0-2 and section 3's aligned pageblock marked.
      if (!halfway && seen.filter((x) => x.startsWith('pageblock_migratetype_init_range')).length === 4 && seen.at(-1)?.startsWith('pageblock_migratetype')) halfway = devicePageblocks(m);
    }
    expect(s.result(id)).toBe(0);
    const passStart = seen.findIndex((x) => x.startsWith('pb'));
    const loop = seen.slice(0, passStart);
    const pass = seen.slice(passStart);
    // The loop: one chunk per section, each its work and (every head of a section start) a cond_resched; no migratetype.
    expect(loop.filter((x) => x.startsWith('pb'))).toEqual([]);
    expect(loop.filter((x) => x === 'work').length).toBe(8);
    expect(loop.filter((x) => x === 'memmap_init_zone_device (cond_resched)').length).toBe(8);
    // The pass: per section, its aligned pageblock, cond_resched, then the other 63.
    const perSection = ['pb 0+1', 'pageblock_migratetype_init_range (cond_resched)', 'pb 1+63'];
    expect(pass).toEqual(Array.from({ length: 8 }, (_, k) => perSection.map((x) => x.replace(/^pb (\d+)/, (_m, i: string) => `pb ${k * 64 + Number(i)}`))).flat());
    const M = 'MIGRATE_MOVABLE';
    const U = 'MIGRATE_UNMOVABLE';
    expect(halfway).toEqual([
      { start: first, end: first + 3 * 0x8000 + 512, migratetype: M },
      { start: first + 3 * 0x8000 + 512, end, migratetype: U },
    ]);
    expect(devicePageblocks(m)).toEqual([{ start: first, end, migratetype: M }]);
  });
});
