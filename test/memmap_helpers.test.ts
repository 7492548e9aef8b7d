// drgn-named helpers over a booted memmap, and the three uninitialised states kept apart:
// page_zone on a poisoned page is a BUG with CONFIG_DEBUG_VM_PGFLAGS and a wrong answer without;
// on a stale page it reads whatever an earlier owner left.
import { describe, expect, it } from 'vitest';
import { memmapBoot } from '../src/kernel/memmap_init.js';
import { ExtentMemmap } from '../src/memmap/extent.js';
import {
  decode_page_flags,
  decode_section_flags,
  for_each_valid_pfn,
  page_to_nid,
  page_to_pfn,
  page_zone,
  PagePoisoned,
  PagePoisonedBug,
  pfn_present,
  pfn_to_online_page,
  pfn_to_page,
  pfn_valid,
  type Inspect,
} from '../src/kernel/mm.js';
import { pageWriterFor } from '../src/kernel/memmap_source.js';
import { bootYaml } from './helpers.js';

function boot(kernel: string, yaml: string, poison: boolean, runDeferred: boolean, debugVmPgflags: boolean): Inspect {
  const state = bootYaml(kernel, yaml);
  const store = new ExtentMemmap({ pagesPerSection: state.sparse.pagesPerSection, writer: pageWriterFor(state), seed: 3 });
  memmapBoot(state, store, { poison, runDeferred });
  return { state, store, debugVmPgflags };
}

const M = `nodes:
  - { nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }
  - { nid: 1, memory: [{ start: 4G, end: 6G }] }
`;

describe('drgn-named helpers', () => {
  const ctx = boot('6.18', M, false, true, false);
  it('pfn_to_page / page_to_pfn use the vmemmap base', () => {
    const p = pfn_to_page(ctx, 0x140000);
    expect(p.address).toBe(0xffffea0000000000n + 0x140000n * 64n);
    expect(page_to_pfn(ctx, p)).toBe(0x140000);
  });
  it('page_zone and page_to_nid read page->flags', () => {
    expect(page_zone(ctx, pfn_to_page(ctx, 0x140000))).toEqual({ nid: 1, zone: 'Normal' });
    expect(page_zone(ctx, pfn_to_page(ctx, 0x2000))).toEqual({ nid: 0, zone: 'DMA32' });
    expect(decode_page_flags(ctx, pfn_to_page(ctx, 0))).toBe('PG_reserved');
    expect(decode_page_flags(ctx, pfn_to_page(ctx, 0x2000))).toBe('0');
  });
  it('section and pfn predicates', () => {
    expect(pfn_valid(ctx, 0)).toBe(true); // an early section: holes have struct pages too
    expect(pfn_valid(ctx, 0x200000)).toBe(false);
    expect(pfn_present(ctx, 0x10)).toBe(true);
    expect(pfn_to_online_page(ctx, 0x10)?.pfn).toBe(0x10);
    expect(decode_section_flags(ctx, 0)).toBe('SECTION_MARKED_PRESENT|SECTION_HAS_MEM_MAP|SECTION_IS_ONLINE|SECTION_IS_EARLY');
    expect([...for_each_valid_pfn(ctx, 0x17fffe, 0x200002)]).toEqual([0x17fffe, 0x17ffff]);
  });
});

describe('uninitialised struct pages', () => {
  // Deferred pfns before deferred_init_memmap: node 1's Normal zone from 0x148000 on.
  it('poisoned + DEBUG_VM_PGFLAGS: page_zone is a BUG', () => {
    const ctx = boot('6.18', M, true, false, true);
    const p = pfn_to_page(ctx, 0x150000);
    expect(PagePoisoned(ctx, p)).toBe(true);
    expect(() => page_zone(ctx, p)).toThrow(PagePoisonedBug);
    expect(() => page_to_nid(ctx, p)).toThrow(/VM_BUG_ON_PGFLAGS\(PagePoisoned\(p\)\)/);
  });
  it('poisoned without DEBUG_VM_PGFLAGS: all-ones fields, a node and zone that do not exist', () => {
    const ctx = boot('6.18', M, true, false, false);
    const p = pfn_to_page(ctx, 0x150000);
    // node field 10 bits of ones = 1023, zone field 3 bits of ones = 7.
    expect(page_to_nid(ctx, p)).toBe(1023);
    expect(page_zone(ctx, p).zone).toBe('zone 7');
  });
  it('stale: no BUG, the answer depends on the seed; after deferred init it is right', () => {
    const stale = boot('6.18', M, false, false, true);
    expect(PagePoisoned(stale, pfn_to_page(stale, 0x150000))).toBe(false);
    expect(() => page_zone(stale, pfn_to_page(stale, 0x150000))).not.toThrow();
    const done = boot('6.18', M, false, true, true);
    expect(page_zone(done, pfn_to_page(done, 0x150000))).toEqual({ nid: 1, zone: 'Normal' });
  });
});
