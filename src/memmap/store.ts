// struct page storage behind one interface. A section gains a memmap in an uninitialised state
// (poisoned, zeroed or stale); boot and hotplug then initialise ranges, zero ranges and set
// PG_reserved. Two backends: dense (real records in SharedArrayBuffers, one per section) and
// extent (runs of pfns sharing a template; O(ranges)). Every read gives the same bytes from both.
import type { Nid, Pfn } from '../units.js';
import type { PageWriter } from './page_writer.js';

/** What a struct page holds: never written since its memmap was allocated, or initialised. */
export type PageState = 'none' | 'poisoned' | 'zeroed' | 'stale' | 'initialized';

/** The uninitialised states a fresh memmap can be in (page_init_poison, zeroed, raw). */
export type FreshState = 'poisoned' | 'zeroed' | 'stale';

export interface MemmapGeometry {
  readonly pagesPerSection: number;
  readonly writer: PageWriter;
  /** Drives the bytes of stale struct pages (what an earlier owner left). */
  readonly seed: number;
}

export interface MemmapStore {
  readonly kind: 'dense' | 'extent';
  readonly geometry: MemmapGeometry;
  /** The section gets a memmap whose struct pages are all `fresh` (sparse_init, section_activate). */
  populateSection(sectionNr: number, fresh: FreshState): void;
  /** populateSection for every section of [firstNr, endNr). */
  populateSections(firstNr: number, endNr: number, fresh: FreshState): void;
  /** The section's memmap is freed (depopulate_section_memmap / free_map_bootmem). */
  depopulateSection(sectionNr: number): void;
  hasMemmap(sectionNr: number): boolean;
  /** __init_single_page for every pfn of [start, end) that has a memmap. */
  initRange(start: number, end: number, zone: number, nid: number): void;
  /**
   * initRange, then setReservedRange where `reserved`, then setWordsRange of `words` where not
   * null, as one write (__init_zone_device_page, and memmap_init_range's reserved pages).
   */
  initPagesRange(start: number, end: number, zone: number, nid: number, reserved: boolean, words: readonly (readonly [number, number])[] | null): void;
  /** mm_zero_struct_page over [start, end). */
  zeroRange(start: number, end: number): void;
  /** page_init_poison over [start, end): every byte 0xff again (CONFIG_DEBUG_VM). */
  poisonRange(start: number, end: number): void;
  /** __SetPageReserved over [start, end), on whatever the pages hold. */
  setReservedRange(start: number, end: number): void;
  /** Clear flag bits (a mask of the low 32 bits of page->flags) over [start, end) (__ClearPageReserved). */
  clearFlagsRange(start: number, end: number, mask: number): void;
  /** Set flag bits (a mask of the low 32 bits of page->flags, PG_ numbers < 32) over [start, end). */
  setFlagsRange(start: number, end: number, mask: number): void;
  /**
   * Set whole 32-bit words of the record over [start, end): [word index, value] pairs (e.g.
   * page->pgmap, zone_device_data and _refcount of ZONE_DEVICE pages). Later writes win.
   */
  setWordsRange(start: number, end: number, words: readonly (readonly [number, number])[]): void;
  /** page->page_type := value over [start, end) (e.g. __SetPageOffline on fresh pages). */
  setPageTypeRange(start: number, end: number, value: number): void;
  /**
   * Compound pages over [start, end) (memmap_init_compound): each page gets the words of its
   * position in its compound page written on top, then a tail its compound_head (the pattern's
   * link). O(runs) in the extent backend however many compound pages the range holds.
   */
  setCompoundRange(start: number, end: number, pattern: CompoundPattern): void;
  stateOf(pfn: number): PageState;
  /** What [start, end) holds as one string (state hashing); absent where the backend cannot say cheaply. */
  digest?(start: number, end: number): string;
  /**
   * Changes with every write, never back to an earlier value except where the store's state is
   * put back with it (explore's snapshots): the same epoch, the same contents. Absent where the
   * backend does not keep one.
   */
  readonly epoch?: number;
  /** The record's bytes (recordBytes long); false if the pfn has no memmap. */
  readRecord(pfn: number, out: Uint8Array): boolean;
}

/**
 * Compound pages laid over a range: heads at origin + k * period; what a page gets depends on its
 * position in its compound page (pfn - head) and, for a tail, on its head's pfn.
 */
export interface CompoundPattern {
  /** Pages per compound page (2^order). */
  readonly period: number;
  /** One head pfn (any: the heads are every period pages from it). */
  readonly origin: number;
  /**
   * Whole words ([word, value], as setWordsRange) by position: words[i] for position i, the last
   * entry for every later position (the head, the first tails prep_compound_head writes, then
   * any tail). At least one entry.
   */
  readonly words: readonly (readonly (readonly [number, number])[])[];
  /**
   * A tail's compound_head: the 64-bit little-endian value base + headPfn * stride (mod 2^64) in
   * words [word, word + 1] (the head's struct page address + 1). Word 0 (page->flags) is refused.
   */
  readonly link: { readonly word: number; readonly base: bigint; readonly stride: number } | null;
}

/** A pattern the backends can hold: a whole period, position words, a link off page->flags (setFlagsRange ORs into word 0). */
export function checkPattern(p: CompoundPattern): void {
  if (!(Number.isSafeInteger(p.period) && p.period >= 1)) throw new Error(`compound pattern: period ${p.period} is not a whole number of pages`);
  if (p.words.length === 0) throw new Error('compound pattern: no position words');
  if (p.link && p.link.word < 1) throw new Error('compound pattern: the link overlaps page->flags');
}

/** The words the pattern writes at pfn (position words, then the link of a tail), in order. */
export function compoundWordsAt(p: CompoundPattern, pfn: number, out: Uint32Array, wordOff: number): void {
  const pos = (((pfn - p.origin) % p.period) + p.period) % p.period;
  const words = p.words[Math.min(pos, p.words.length - 1)] ?? [];
  for (const [w, v] of words) out[wordOff + w] = v >>> 0;
  if (p.link && pos > 0) {
    const v = linkValue(p.link, pfn - pos);
    out[wordOff + p.link.word] = Number(v & 0xffffffffn);
    out[wordOff + p.link.word + 1] = Number(v >> 32n);
  }
}

/** The link's value for the compound page headed at headPfn. */
export function linkValue(link: NonNullable<CompoundPattern['link']>, headPfn: number): bigint {
  return (link.base + BigInt(headPfn) * BigInt(link.stride)) & 0xffffffffffffffffn;
}

/** The bytes an earlier owner left in pfn's struct page: a deterministic function of (seed, pfn). */
export function staleRecord(seed: number, pfn: number, out: Uint32Array, wordOff: number, words: number): void {
  // xorshift32 seeded from (seed, pfn) with splitmix-style mixing of both halves of pfn.
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((pfn >>> 0) ^ 0xc2b2ae35, 0x27d4eb2f)) >>> 0;
  x = (x ^ Math.imul(Math.floor(pfn / 0x100000000) + 0x165667b1, 0x9e3779b1)) >>> 0;
  if (x === 0) x = 0x6d2b79f5;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[wordOff + i] = x;
  }
}

/** Apply `fn` to each section-bounded piece of [start, end). */
export function forEachSectionPiece(pagesPerSection: number, start: number, end: number, fn: (nr: number, s: number, e: number) => void): void {
  let pfn = start;
  while (pfn < end) {
    const nr = Math.floor(pfn / pagesPerSection);
    const secEnd = Math.min(end, (nr + 1) * pagesPerSection);
    fn(nr, pfn, secEnd);
    pfn = secEnd;
  }
}

/** Pfns [start, end) of one node and zone that deferred init writes (deferred_init_memmap's unit). */
export interface DeferredRange {
  readonly nid: Nid;
  readonly zone: number;
  readonly start: Pfn;
  readonly end: Pfn;
}
