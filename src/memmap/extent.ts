// The extent backend: runs of pfns that share what was last written to them (a fresh state, or
// __init_single_page with one zone and node) plus PG_reserved OR'ed on top. Runs span sections,
// so memory and time are O(runs) whatever the machine's size; a record is computed on read by
// the same PageWriter as the dense backend.
import type { FreshState, MemmapGeometry, MemmapStore, PageState } from './store.js';
import { staleRecord } from './store.js';

interface Run {
  start: number;
  end: number;
  kind: FreshState | 'initialized';
  zone: number;
  nid: number;
  /** Bits OR'ed into the low word of page->flags on top (PG_reserved, PG_vmemmap_self_hosted). */
  flagsOr: number;
  /** Whole words written on top ([word, value], setWordsRange), or null. */
  words: readonly (readonly [number, number])[] | null;
  /** page->page_type written on top (setPageTypeRange), or null. */
  pageType: number | null;
}

function sameWords(a: Run['words'], b: Run['words']): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as readonly [number, number];
    const y = b[i] as readonly [number, number];
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

/** r's content over [start, end): every run is made here or in the same field order, so all share one shape. */
function span(r: Run, start: number, end: number): Run {
  return { start, end, kind: r.kind, zone: r.zone, nid: r.nid, flagsOr: r.flagsOr, words: r.words, pageType: r.pageType };
}

function sameContent(a: Run, b: Run): boolean {
  return a.kind === b.kind && a.zone === b.zone && a.nid === b.nid && a.flagsOr === b.flagsOr && sameWords(a.words, b.words) && a.pageType === b.pageType;
}

export class ExtentMemmap implements MemmapStore {
  readonly kind = 'extent' as const;
  /** Sorted, disjoint runs covering exactly the pfns that have a memmap. */
  private runs: Run[] = [];

  constructor(readonly geometry: MemmapGeometry) {}

  /** Index of the first run ending after pfn. */
  private firstEndingAfter(pfn: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.runs[mid]?.end ?? 0) <= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Replace what [start, end) holds: `edit` maps each covered piece; `fill` adds pieces where
   * nothing is. Runs are never changed once in the list (a rewrite puts new ones in their place).
   */
  private rewrite(start: number, end: number, edit: ((r: Run) => Run) | null, fill: Run | null): void {
    if (end <= start) return;
    const i = this.firstEndingAfter(start);
    // Inside one run whose content the edit keeps: nothing changes.
    const only = this.runs[i];
    if (edit && only && only.start <= start && only.end >= end && sameContent(edit(only), only)) return;
    let j = i;
    const out: Run[] = [];
    let cursor = start;
    while (j < this.runs.length && (this.runs[j]?.start ?? end) < end) {
      const r = this.runs[j] as Run;
      if (fill && cursor < r.start) out.push(span(fill, cursor, r.start));
      if (r.start < start) out.push(span(r, r.start, start));
      if (edit) out.push(edit(span(r, Math.max(r.start, start), Math.min(r.end, end))));
      if (r.end > end) out.push(span(r, end, r.end));
      cursor = r.end;
      j++;
    }
    if (fill && cursor < end) out.push(span(fill, Math.max(cursor, start), end));
    // Merge with the neighbours on both sides.
    const lo = Math.max(0, i - 1);
    const hi = Math.min(this.runs.length, j + 1);
    const merged: Run[] = [];
    const add = (r: Run): void => {
      const last = merged[merged.length - 1];
      if (last && last.end === r.start && sameContent(last, r)) merged[merged.length - 1] = span(last, last.start, r.end);
      else merged.push(r);
    };
    for (let k = lo; k < i; k++) add(this.runs[k] as Run);
    out.forEach(add);
    for (let k = j; k < hi; k++) add(this.runs[k] as Run);
    if (merged.length === hi - lo) for (let k = 0; k < merged.length; k++) this.runs[lo + k] = merged[k] as Run;
    else this.runs.splice(lo, hi - lo, ...merged);
  }

  populateSection(sectionNr: number, fresh: FreshState): void {
    this.populateSections(sectionNr, sectionNr + 1, fresh);
  }

  populateSections(firstNr: number, endNr: number, fresh: FreshState): void {
    const pps = this.geometry.pagesPerSection;
    const run: Run = { start: 0, end: 0, kind: fresh, zone: 0, nid: 0, flagsOr: 0, words: null, pageType: null };
    this.rewrite(firstNr * pps, endNr * pps, (p) => span(run, p.start, p.end), run);
  }

  depopulateSection(sectionNr: number): void {
    const pps = this.geometry.pagesPerSection;
    const s = sectionNr * pps;
    const e = s + pps;
    const i = this.firstEndingAfter(s);
    const out: Run[] = [];
    let j = i;
    while (j < this.runs.length && (this.runs[j]?.start ?? e) < e) {
      const r = this.runs[j] as Run;
      if (r.start < s) out.push(span(r, r.start, s));
      if (r.end > e) out.push(span(r, e, r.end));
      j++;
    }
    this.runs.splice(i, j - i, ...out);
  }

  hasMemmap(sectionNr: number): boolean {
    return this.runAt(sectionNr * this.geometry.pagesPerSection) !== undefined;
  }

  initRange(start: number, end: number, zone: number, nid: number): void {
    this.rewrite(start, end, (r) => ({ start: r.start, end: r.end, kind: 'initialized', zone, nid, flagsOr: 0, words: null, pageType: null }), null);
  }

  zeroRange(start: number, end: number): void {
    this.rewrite(start, end, (r) => ({ start: r.start, end: r.end, kind: 'zeroed', zone: 0, nid: 0, flagsOr: 0, words: null, pageType: null }), null);
  }

  poisonRange(start: number, end: number): void {
    this.rewrite(start, end, (r) => ({ start: r.start, end: r.end, kind: 'poisoned', zone: 0, nid: 0, flagsOr: 0, words: null, pageType: null }), null);
  }

  setReservedRange(start: number, end: number): void {
    this.setFlagsRange(start, end, this.geometry.writer.reservedMask);
  }

  setWordsRange(start: number, end: number, words: readonly (readonly [number, number])[]): void {
    const merge = (old: Run['words']): Run['words'] => {
      const merged = new Map(old ?? []);
      for (const [w, v] of words) merged.set(w, v >>> 0);
      return [...merged].sort((x, y) => x[0] - y[0]);
    };
    // Pieces that had no words all get the same (unchanging) list: the words as given where they
    // come in order, each once (ZONE_DEVICE's pgmap, zone_device_data and refcount do).
    const inOrder = words.every(([w], k) => k === 0 || w > (words[k - 1] as readonly [number, number])[0]);
    const alone = inOrder ? words.map(([w, v]) => [w, v >>> 0] as const) : merge(null);
    this.rewrite(start, end, (r) => Object.assign(span(r, r.start, r.end), { words: r.words ? merge(r.words) : alone }), null);
  }

  setFlagsRange(start: number, end: number, mask: number): void {
    this.rewrite(start, end, (r) => Object.assign(span(r, r.start, r.end), { flagsOr: (r.flagsOr | mask) >>> 0 }), null);
  }

  setPageTypeRange(start: number, end: number, value: number): void {
    this.rewrite(start, end, (r) => Object.assign(span(r, r.start, r.end), { pageType: value >>> 0 }), null);
  }

  private runAt(pfn: number): Run | undefined {
    const r = this.runs[this.firstEndingAfter(pfn)];
    return r && r.start <= pfn ? r : undefined;
  }

  stateOf(pfn: number): PageState {
    return this.runAt(pfn)?.kind ?? 'none';
  }

  readRecord(pfn: number, out: Uint8Array): boolean {
    const r = this.runAt(pfn);
    if (!r) return false;
    const { writer, seed } = this.geometry;
    const u32 = new Uint32Array(out.buffer, out.byteOffset, writer.recordWords);
    if (r.kind === 'initialized') writer.writeInit(u32, 0, pfn, r.zone, r.nid);
    else if (r.kind === 'poisoned') u32.fill(0xffffffff);
    else if (r.kind === 'zeroed') u32.fill(0);
    else staleRecord(seed, pfn, u32, 0, writer.recordWords);
    if (r.flagsOr) u32[0] = ((u32[0] ?? 0) | r.flagsOr) >>> 0;
    if (r.pageType !== null) u32[writer.pageTypeWord] = r.pageType;
    if (r.words) for (const [w, v] of r.words) u32[w] = v;
    return true;
  }

  /** What [start, end) holds as one string, adjacent equal runs merged (the explore driver's state hashing). */
  digest(start: number, end: number): string {
    const parts: string[] = [];
    let last: Run | null = null;
    let lastEnd = -1;
    for (let i = this.firstEndingAfter(start); i < this.runs.length; i++) {
      const r = this.runs[i] as Run;
      if (r.start >= end) break;
      const s = Math.max(r.start, start);
      const e = Math.min(r.end, end);
      if (last && lastEnd === s && sameContent(last, r)) {
        parts[parts.length - 1] = parts[parts.length - 1]?.replace(/^(\d+)-\d+/, `$1-${e}`) ?? '';
      } else {
        parts.push(`${s}-${e}:${r.kind}/${r.zone}/${r.nid}/${r.flagsOr}/${r.pageType ?? ''}/${r.words?.map(([w, v]) => `${w}=${v}`).join('.') ?? ''}`);
      }
      last = r;
      lastEnd = e;
    }
    return parts.join(',');
  }

  /** What [start, end) holds, run by run: fresh state or initialised, and PG_reserved on top. */
  runsIn(start: number, end: number): { start: number; end: number; kind: FreshState | 'initialized'; reserved: boolean; zone: number; nid: number }[] {
    const out: { start: number; end: number; kind: FreshState | 'initialized'; reserved: boolean; zone: number; nid: number }[] = [];
    for (let i = this.firstEndingAfter(start); i < this.runs.length; i++) {
      const r = this.runs[i] as Run;
      if (r.start >= end) break;
      out.push({ start: Math.max(r.start, start), end: Math.min(r.end, end), kind: r.kind, reserved: r.flagsOr !== 0, zone: r.zone, nid: r.nid });
    }
    return out;
  }

  /** Runs in the store, for tests and the benchmark. */
  runCount(): number {
    return this.runs.length;
  }
}
