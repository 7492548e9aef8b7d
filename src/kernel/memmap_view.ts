// The memmap as the kernel's own memmap reader reports it (verify/drgn_reader.ts), made from the
// model: every present section's state letters (P, M, O, E, D), every memory block's state, node,
// zone and nr_vmemmap_pages, and run-length struct pages: never written (all zero), poisoned
// (all 0xff), stale (an earlier owner's bytes) or initialised with their node and zone; where the
// model defines a page's contents (ZONE_DEVICE, holes, reserved pages, offline and self-hosted
// memmap: "detail" ranges) also its page-flag bits, _refcount, _mapcount/page_type, the word
// after flags (NULL, the lru self-link of __init_single_page, a tail's head, or a pointer such as
// page->pgmap) and a head's compound order. Pages the buddy allocator owns (online RAM whose record
// has no flag bits) report node and zone only: their flags and counts belong to whoever allocated them.
import type { Machine } from './machine.js';
import { compoundOrder } from './compound.js';
import { nrPageflags, pageFlagBits, pageflagsEnum, recordFlagsFieldReader, structPageLayout } from './page_layout.js';
import { vmemmapBaseFor } from './memmap_source.js';
import { compoundNrPages } from './memremap.js';
import { pfnEnd, pfnFirst } from './dev_pagemap.js';
import type { Pfn } from '../units.js';
import { InputError } from '../errors.js';

/** The most struct pages the view reads (2^22: a 16 GiB machine with 4 KiB pages). */
export const MEMMAP_VIEW_MAX_PFNS = 2 ** 22;

/** What a struct page's 64 bytes were found to hold. */
export type PageRunState = 'zero' | 'poison' | 'init' | 'stale';

/** The word after page->flags, classified. */
export type PageLink = 'null' | 'self' | 'tail' | 'ptr' | 'unknown';

export interface PageDetail {
  /** The page-flag bits (flags & ((1 << __NR_PAGEFLAGS) - 1)). */
  readonly flags: number;
  readonly refcount: number;
  /** _mapcount (page_type shares the word). */
  readonly mapcount: number;
  readonly link: PageLink;
  /** A tail's head pfn. */
  readonly head: Pfn | null;
  /** A head's compound order. */
  readonly order: number | null;
}

/** Pfns [start, end) whose struct pages read the same. */
export interface PageRun {
  readonly start: Pfn;
  readonly end: Pfn;
  readonly state: PageRunState;
  readonly nid: number | null;
  readonly zone: number | null;
  readonly detail: PageDetail | null;
}

export interface MemmapBlock {
  readonly id: number;
  readonly state: string;
  readonly nid: number;
  /** memory_block->zone (null: NULL). */
  readonly zone: string | null;
  readonly nrVmemmapPages: number;
}

/** One side's memmap: sections with their state letters, memory blocks, struct page runs. */
/** Pageblocks [start, end) whose migratetype (the enum migratetype name) is the same. */
export interface PageblockRun {
  readonly start: Pfn;
  readonly end: Pfn;
  readonly migratetype: string;
}

export interface MemmapView {
  readonly sections: ReadonlyMap<number, string>;
  readonly blocks: readonly MemmapBlock[];
  readonly runs: readonly PageRun[];
  /** PG_ names by bit, to print flag words. */
  readonly flagNames: ReadonlyMap<number, string>;
  /** Zone names by index (the kernel's node_zones order). */
  readonly zoneNames: readonly string[];
  /**
   * Pageblock migratetypes: the kernel's of every section with a memmap; the model's only where it
   * defines them (ZONE_DEVICE ranges: devicePageblocks). Absent where not read.
   */
  readonly pageblocks?: readonly PageblockRun[];
}

/** Section state letters as drgn reads them: P(resent) M(em map) O(nline) E(arly) D(evice-tainted). */
function sectionLetters(s: { present: boolean; hasMemMap: boolean; online: boolean; early: boolean; deviceTainted?: boolean }, taint: boolean): string {
  return (s.present ? 'P' : '') + (s.hasMemMap ? 'M' : '') + (s.online ? 'O' : '') + (s.early ? 'E' : '') + (taint && s.deviceTainted ? 'D' : '');
}

function sameDetail(a: PageDetail | null, b: PageDetail | null): boolean {
  if (a === null || b === null) return a === b;
  return a.flags === b.flags && a.refcount === b.refcount && a.mapcount === b.mapcount && a.link === b.link && a.head === b.head && a.order === b.order;
}

/** A run being built: pfns are appended one at a time, so its end moves until a page reads differently. */
type OpenRun = { -readonly [K in keyof PageRun]: PageRun[K] };

/** Append pfn's page to the runs: the last run grows where the page reads the same, else a new one starts. */
function pushPage(runs: OpenRun[], pfn: Pfn, state: PageRunState, nid: number | null, zone: number | null, detail: PageDetail | null): void {
  const last = runs[runs.length - 1];
  if (last && last.end === pfn && last.state === state && last.nid === nid && last.zone === zone && sameDetail(last.detail, detail)) last.end = pfn + 1;
  else runs.push({ start: pfn, end: pfn + 1, state, nid, zone, detail });
}

/**
 * The model's memmap as the kernel's reader reports it, and the pfn ranges where the model defines
 * a page's contents beyond its node and zone (the reader reports those field by field).
 */
export function memmapView(m: Machine): { view: MemmapView; detail: [Pfn, Pfn][] } {
  const cfg = m.pageConfig;
  const sp = structPageLayout(cfg);
  const bytes = sp.size;
  const off = (name: string): number => sp.fields.get(name)?.offset ?? -1;
  const oRef = off('_refcount');
  const oMap = off('_mapcount');
  const oLink = off('compound_head');
  const lruOff = BigInt(off('lru'));
  const nrFlags = nrPageflags(cfg);
  if (nrFlags > 32) throw new Error(`memmap view: ${nrFlags} page flags do not fit flags' low word`);
  const mask = 2 ** nrFlags - 1;
  const nodeOf = recordFlagsFieldReader(m.pageFlagsLayout, 'node');
  const zoneOf = recordFlagsFieldReader(m.pageFlagsLayout, 'zone');
  const base = vmemmapBaseFor(m.state);
  const pps = m.state.sparse.pagesPerSection;
  const pagesPerBlock = m.boot.blockBytes / 2 ** m.state.arch.pageShift;
  const deviceZone = m.state.zoneNames.indexOf('Device');
  const headBit = pageFlagBits(cfg).get('PG_head');
  const rec = new Uint8Array(bytes);
  const dv = new DataView(rec.buffer);
  const second = new Uint8Array(bytes);
  const dv2 = new DataView(second.buffer);
  const runs: OpenRun[] = [];
  const detail: [Pfn, Pfn][] = [];
  const taint = m.state.profile.features.sectionTaintZoneDevice;
  const sections = new Map<number, string>();
  const all = [...m.state.sparse.sections.values()].sort((a, b) => a.sectionNr - b.sectionNr);
  // One struct page at a time (~1 us each): bounded, so that a huge machine is refused, not ground through.
  const pfns = all.filter((s) => m.store.hasMemmap(s.sectionNr)).length * pps;
  if (pfns > MEMMAP_VIEW_MAX_PFNS) {
    throw new InputError(`the memmap view reads every struct page: this machine has ${pfns} with a memmap, more than ${MEMMAP_VIEW_MAX_PFNS} (16 GiB of 4 KiB pages); use a smaller machine`);
  }
  for (const s of all) {
    if (!s.present && !s.hasMemMap) continue;
    sections.set(s.sectionNr, sectionLetters(s, taint));
    if (!m.store.hasMemmap(s.sectionNr)) continue;
    for (let pfn = s.sectionNr * pps; pfn < (s.sectionNr + 1) * pps; pfn++) {
      const st = m.store.stateOf(pfn);
      if (st === 'none') continue;
      if (st !== 'initialized') {
        pushPage(runs, pfn, st === 'zeroed' ? 'zero' : st === 'poisoned' ? 'poison' : 'stale', null, null, null);
        if (st !== 'stale') addRange(detail, pfn);
        continue;
      }
      m.store.readRecord(pfn, rec);
      const nid = nodeOf(dv);
      const zone = zoneOf(dv);
      // The page-flag bits (__NR_PAGEFLAGS < 32) lie in flags' low word.
      const low = (dv.getUint32(0, true) & mask) >>> 0;
      const block = m.blocks.get(Math.floor(pfn / pagesPerBlock));
      const buddy = block?.state === 'online' && zone !== deviceZone && low === 0;
      let d: PageDetail | null = null;
      if (!buddy) {
        addRange(detail, pfn);
        const link = dv.getBigUint64(oLink, true);
        const self = base + BigInt(pfn) * BigInt(bytes) + lruOff;
        const isHead = headBit !== undefined && (low >> headBit) % 2 === 1;
        let order: number | null = null;
        if (isHead && m.store.readRecord(pfn + 1, second)) order = compoundOrder(dv2, 0, cfg);
        const refcount = dv.getInt32(oRef, true);
        // A page the buddy allocator has held (freed by __free_pages_core: no flags, _refcount 0)
        // keeps whatever free-list links the allocator left in lru when it went offline.
        const freed = zone !== deviceZone && low === 0 && refcount === 0;
        d = {
          flags: low,
          refcount,
          mapcount: dv.getInt32(oMap, true),
          link: freed ? 'unknown' : link === 0n ? 'null' : link & 1n ? 'tail' : link === self ? 'self' : 'ptr',
          head: link & 1n ? Number((link - 1n - base) / BigInt(bytes)) : null,
          order,
        };
      }
      pushPage(runs, pfn, 'init', nid, zone, d);
    }
  }
  const blocks = [...m.blocks.values()]
    .sort((a, b) => a.id - b.id)
    .map((b) => ({
      id: b.id,
      state: b.state,
      nid: b.nid,
      zone: b.state === 'online' ? (b.validZones === 'none' ? null : b.validZones) : null,
      nrVmemmapPages: m.vmemmapPages.get(b.id) ?? 0,
    }));
  const flagNames = new Map(
    pageflagsEnum(cfg)
      .filter((e) => !e.alias)
      .map((e) => [e.bit, e.name] as [number, string]),
  );
  return { view: { sections, blocks, runs, flagNames, zoneNames: m.state.zoneNames, pageblocks: devicePageblocks(m) }, detail };
}

function addRange(ranges: [Pfn, Pfn][], pfn: Pfn): void {
  const last = ranges[ranges.length - 1];
  if (last && last[1] === pfn) last[1] = pfn + 1;
  else ranges.push([pfn, pfn + 1]);
}

/**
 * The migratetype of each pageblock that starts inside a dev_pagemap's range, as the model's
 * ZONE_DEVICE init leaves it: MIGRATE_MOVABLE where an init path wrote the struct page at the
 * pageblock's first pfn (memmap_init_range over the altmap's memmap pfns, past its reserve, and
 * memmap_init_zone_device's __init_zone_device_page from pfn_first: 6.1 mm/page_alloc.c, 6.12 and
 * 6.18.2 mm/mm_init.c, both with MIGRATE_MOVABLE), else the zeroed usage's MIGRATE_UNMOVABLE: the
 * altmap's reserve and, with vmemmap deduplication, a compound page's pfns past compound_nr_pages
 * (the stable fix zoneDevicePageblockRange, read in Debian 6.1.192, moves the marking to one pass
 * after the loop over every pageblock from pfn_first rounded up: as far as pgmap.migratetypeTo). v4.19 and the serialize design initialise the whole range
 * from its start (the reserve included under serialize). Boot and hot-added RAM are left out:
 * allocations change their pageblocks.
 */
export function devicePageblocks(m: Machine): PageblockRun[] {
  const pb = m.state.sparse.pageblockNrPages;
  const f = m.state.profile.features;
  const out: PageblockRun[] = [];
  for (const p of [...m.pgmaps].sort((a, b) => a.start - b.start)) {
    const start = p.start / m.pageBytes;
    const end = pfnEnd(p, m.pageBytes);
    const first = pfnFirst(p, m.pageBytes);
    const n = 2 ** p.vmemmapShift;
    const written = p.vmemmapShift ? compoundNrPages(m, p) : n;
    const movable = (q: Pfn): boolean => {
      if (f.zoneDeviceInitUnderLock) return true;
      const from = start + (p.altmap?.reserve ?? 0);
      if (q < from) return false;
      if (f.zoneDeviceMemmap === 'memmap-init-zone' || q < first) return true; // the altmap's memmap pfns (or v4.19's memmap_init_zone)
      // The separate pass (pageblock_migratetype_init_range) marks every pageblock it has reached.
      if (f.zoneDevicePageblockRange) return q < (p.migratetypeTo ?? first);
      if (q >= p.initialisedTo) return false;
      return (q - first) % n < written;
    };
    for (let q = Math.ceil(start / pb) * pb; q < end; q += pb) {
      const mt = movable(q) ? 'MIGRATE_MOVABLE' : 'MIGRATE_UNMOVABLE';
      const last = out[out.length - 1];
      if (last && last.end === q && last.migratetype === mt) out[out.length - 1] = { ...last, end: q + pb };
      else out.push({ start: q, end: q + pb, migratetype: mt });
    }
  }
  return out;
}
