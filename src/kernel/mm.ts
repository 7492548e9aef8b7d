// Inspection helpers named as the kernel and drgn name them (drgn/helpers/linux/mm.py), over a
// booted machine and its memmap. page_zone / page_to_nid read page->flags as the kernel does:
// on a poisoned struct page that is a BUG with CONFIG_DEBUG_VM_PGFLAGS (VM_BUG_ON_PGFLAGS) and a
// silently wrong answer without it; on a stale page the answer is whatever the bytes say.
import type { BootState } from './mm_init.js';
import type { DevPagemap } from './dev_pagemap.js';
import { decodePageFlags, pageFlagsField, pageFlagsLayout } from './page_layout.js';
import type { Nid, Pfn } from '../units.js';
import { pageConfigFor, pageWriterFor, vmemmapBaseFor } from './memmap_source.js';
import type { MemmapStore, PageState } from '../memmap/store.js';

/** A struct page handle: the machine, its memmap, and the page's pfn. */
export interface Page {
  readonly pfn: Pfn;
  readonly address: bigint;
}

export interface Inspect {
  readonly state: BootState;
  readonly store: MemmapStore;
  /** CONFIG_DEBUG_VM_PGFLAGS: reading a poisoned page's flags is a BUG. */
  readonly debugVmPgflags: boolean;
}

/** The kernel's report when VM_BUG_ON_PGFLAGS fires (dump_page's reason, then the BUG line). */
export class PagePoisonedBug extends Error {
  constructor(readonly page: Page) {
    super(`page:${page.address.toString(16)} is uninitialized and poisoned; VM_BUG_ON_PGFLAGS(PagePoisoned(p))`);
    this.name = 'PagePoisonedBug';
  }
}

/** pfn_to_page: vmemmap + pfn (never consults mem_section). */
export function pfn_to_page(ctx: Inspect, pfn: Pfn): Page {
  return { pfn, address: vmemmapBaseFor(ctx.state) + BigInt(pfn) * BigInt(pageWriterFor(ctx.state).recordBytes) };
}

export function page_to_pfn(ctx: Inspect, page: Page): Pfn {
  const bytes = BigInt(pageWriterFor(ctx.state).recordBytes);
  return Number((page.address - vmemmapBaseFor(ctx.state)) / bytes);
}

/** page->flags as the memmap holds it (BigInt, exact). */
export function page_flags(ctx: Inspect, page: Page): bigint {
  const rec = new Uint8Array(pageWriterFor(ctx.state).recordBytes);
  if (!ctx.store.readRecord(page.pfn, rec)) {
    throw new Error(`BUG: unable to handle page fault for address: ${page.address.toString(16)} (pfn 0x${page.pfn.toString(16)} has no memmap)`);
  }
  return pageConfigFor(ctx.state).bitsPerLong === 64 ? new DataView(rec.buffer).getBigUint64(0, true) : BigInt(new DataView(rec.buffer).getUint32(0, true));
}

/** PagePoisoned: page->flags == PAGE_POISON_PATTERN (all ones). */
export function PagePoisoned(ctx: Inspect, page: Page): boolean {
  const bits = pageConfigFor(ctx.state).bitsPerLong;
  return page_flags(ctx, page) === (1n << BigInt(bits)) - 1n;
}

/** What the struct page holds (mmsim's own: initialised, poisoned, zeroed, stale, none). */
export function page_memmap_state(ctx: Inspect, page: Page): PageState {
  return ctx.store.stateOf(page.pfn);
}

function flagsChecked(ctx: Inspect, page: Page): bigint {
  if (ctx.debugVmPgflags && PagePoisoned(ctx, page)) throw new PagePoisonedBug(page);
  return page_flags(ctx, page);
}

/** page_zonenum: the zone field of page->flags. */
export function page_zonenum(ctx: Inspect, page: Page): number {
  return Number(pageFlagsField(flagsChecked(ctx, page), pageFlagsLayout(pageConfigFor(ctx.state)), 'zone'));
}

/** page_to_nid: the node field of page->flags. */
export function page_to_nid(ctx: Inspect, page: Page): Nid {
  return Number(pageFlagsField(flagsChecked(ctx, page), pageFlagsLayout(pageConfigFor(ctx.state)), 'node'));
}

/** page_zone: NODE_DATA(page_to_nid)->node_zones[page_zonenum], as "node N zone NAME". */
export function page_zone(ctx: Inspect, page: Page): { nid: Nid; zone: string } {
  const nid = page_to_nid(ctx, page);
  const z = page_zonenum(ctx, page);
  return { nid, zone: ctx.state.zoneNames[z] ?? `zone ${z}` };
}

/** decode_page_flags: "PG_reserved|PG_..." of page->flags. */
export function decode_page_flags(ctx: Inspect, page: Page): string {
  return decodePageFlags(page_flags(ctx, page), pageConfigFor(ctx.state));
}

/** pfn_valid: a struct page exists (not that it is initialised). */
export function pfn_valid(ctx: Inspect, pfn: Pfn): boolean {
  return ctx.state.sparse.pfnValid(pfn);
}

/** pfn_present: the section's PRESENT bit. */
export function pfn_present(ctx: Inspect, pfn: Pfn): boolean {
  return present_section_nr(ctx, ctx.state.sparse.pfnToSectionNr(pfn));
}

/**
 * pfn_to_online_page (include/linux/memory_hotplug.h to 5.11, mm/memory_hotplug.c from 5.12; read
 * in 5.4.59, 5.12.9, 6.1, 6.18.2): the pfn's section is online; from 5.12 (the profile's
 * sectionTaintZoneDevice) also its subsection is valid and, in a section ZONE_DEVICE shares
 * (SECTION_TAINT_ZONE_DEVICE), no live pgmap covers it. Leaves out HAVE_ARCH_PFN_VALID (arm64's
 * memblock check) and 5.4-5.11's pfn_valid_within (HOLES_IN_ZONE configs).
 */
export function pfnToOnlinePage(ctx: { readonly state: BootState; readonly pgmaps?: readonly DevPagemap[] }, pfn: Pfn): boolean {
  const sp = ctx.state.sparse;
  const nr = sp.pfnToSectionNr(pfn);
  if (!sp.runOf(nr)?.online) return false;
  if (!ctx.state.profile.features.sectionTaintZoneDevice) return true;
  if (!sp.subsectionPresent(nr, Math.floor((pfn - nr * sp.pagesPerSection) / sp.pagesPerSubsection))) return false;
  if (!sp.deviceTainted.has(nr)) return true;
  const byte = pfn * 2 ** ctx.state.arch.pageShift;
  return !(ctx.pgmaps ?? []).some((p) => p.live && byte >= p.start && byte <= p.end);
}

/** pfn_to_online_page as drgn's helper returns it: the struct page, or null (see pfnToOnlinePage). */
export function pfn_to_online_page(ctx: Inspect, pfn: Pfn): Page | null {
  return pfnToOnlinePage(ctx, pfn) && pfn_valid(ctx, pfn) ? pfn_to_page(ctx, pfn) : null;
}

/** for_each_valid_pfn over [start, end). */
export function* for_each_valid_pfn(ctx: Inspect, start: Pfn, end: Pfn): Generator<Pfn> {
  let pfn = ctx.state.sparse.nextValidPfn(start, end);
  while (pfn < end) {
    yield pfn;
    pfn = ctx.state.sparse.nextValidPfn(pfn + 1, end);
  }
}

export function present_section_nr(ctx: Inspect, nr: number): boolean {
  return ctx.state.sparse.runOf(nr)?.present === true;
}

export function online_section_nr(ctx: Inspect, nr: number): boolean {
  return ctx.state.sparse.runOf(nr)?.online === true;
}

export function early_section_nr(ctx: Inspect, nr: number): boolean {
  return ctx.state.sparse.runOf(nr)?.early === true;
}

/** decode_section_flags: the SECTION_* bits of section_mem_map by name. */
export function decode_section_flags(ctx: Inspect, nr: number): string {
  const r = ctx.state.sparse.runOf(nr);
  if (!r) return '0';
  const names = [r.present ? 'SECTION_MARKED_PRESENT' : '', r.hasMemMap ? 'SECTION_HAS_MEM_MAP' : '', r.online ? 'SECTION_IS_ONLINE' : '', r.early ? 'SECTION_IS_EARLY' : ''].filter(Boolean);
  return names.length ? names.join('|') : '0';
}
