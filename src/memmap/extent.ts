// The extent backend: runs of pfns that share what was last written to them (a fresh state, or
// __init_single_page with one zone and node) plus PG_reserved OR'ed on top. Runs span sections,
// so memory and time are O(runs) whatever the machine's size; a record is computed on read by
// the same PageWriter as the dense backend. Compound pages are a periodic overlay on a run (words
// by position in the compound page, compound_head computed from the pfn), so a TiB of them is one
// run too.
import type { CompoundPattern, FreshState, MemmapGeometry, MemmapStore, PageState } from './store.js';
import { checkPattern, linkValue, staleRecord } from './store.js';

type Words = readonly (readonly [number, number])[];

/** A CompoundPattern as a run holds it: words by position, what is left of it after later writes. */
interface Overlay {
  readonly period: number;
  /** The pattern's origin mod period: pfn - phase is a multiple of period at a head. */
  readonly phase: number;
  /** Sorted words by position (the last entry for every later position). */
  readonly words: readonly Words[];
  readonly link: CompoundPattern['link'];
  /** The link's words still written by the pattern (later writes took the others): bit 0 the low word, bit 1 the high. */
  readonly linkMask: number;
}

const NO_OVERLAYS: readonly Overlay[] = [];

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
  /** Compound pages written on top of the words (setCompoundRange), oldest first. */
  compound: readonly Overlay[];
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
  return { start, end, kind: r.kind, zone: r.zone, nid: r.nid, flagsOr: r.flagsOr, words: r.words, pageType: r.pageType, compound: r.compound };
}

function sameOverlay(a: Overlay, b: Overlay): boolean {
  if (a === b) return true;
  const la = a.link;
  const lb = b.link;
  const sameLink = la === lb || (la !== null && lb !== null && la.word === lb.word && la.base === lb.base && la.stride === lb.stride);
  return a.period === b.period && a.phase === b.phase && a.linkMask === b.linkMask && sameLink && a.words.length === b.words.length && a.words.every((w, i) => sameWords(w, b.words[i] ?? null));
}

function sameOverlays(a: readonly Overlay[], b: readonly Overlay[]): boolean {
  return a === b || (a.length === b.length && a.every((o, i) => sameOverlay(o, b[i] as Overlay)));
}

function sameContent(a: Run, b: Run): boolean {
  return a.kind === b.kind && a.zone === b.zone && a.nid === b.nid && a.flagsOr === b.flagsOr && sameWords(a.words, b.words) && a.pageType === b.pageType && sameOverlays(a.compound, b.compound);
}

/** The overlays with the words in `taken` left to a later write (dropped; an overlay left with nothing goes). */
function withoutWords(overlays: readonly Overlay[], taken: ReadonlySet<number>): readonly Overlay[] {
  if (overlays.length === 0) return overlays;
  const out: Overlay[] = [];
  for (const o of overlays) {
    const words = o.words.map((ws) => ws.filter(([w]) => !taken.has(w)));
    const lw = o.link?.word ?? -1;
    const linkMask = o.linkMask & (taken.has(lw) ? ~1 : 3) & (taken.has(lw + 1) ? ~2 : 3);
    if (linkMask === 0 && words.every((ws) => ws.length === 0)) continue;
    out.push({ ...o, words, linkMask });
  }
  return out.length ? out : NO_OVERLAYS;
}

/** Words with `mask` OR'ed into any write of word 0 (page->flags): a later __SetPage* lands on top of them. */
function orIntoFlags(words: Words, mask: number): Words {
  return words.some(([w]) => w === 0) ? words.map(([w, v]) => [w, w === 0 ? (v | mask) >>> 0 : v] as const) : words;
}

function describeOverlay(o: Overlay): string {
  const link = o.link ? `${o.link.word}+${o.link.base.toString(16)}*${o.link.stride}&${o.linkMask}` : '';
  return `${o.period}@${o.phase}[${o.words.map((ws) => ws.map(([w, v]) => `${w}=${v}`).join('.')).join('|')}]${link}`;
}

/** The last epoch an extent store took (MemmapStore.epoch): epochs are never reused in a process. */
let lastEpoch = 0;

export class ExtentMemmap implements MemmapStore {
  readonly kind = 'extent' as const;
  /** Sorted, disjoint runs covering exactly the pfns that have a memmap. */
  private runs: Run[] = [];
  /** A new value at every rewrite (MemmapStore.epoch). */
  epoch = ++lastEpoch;

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
  private rewrite(start: number, end: number, edit: ((r: Run) => Run) | Run | null, fill: Run | null): void {
    if (end <= start) return;
    const i = this.firstEndingAfter(start);
    const only = this.runs[i];
    if (edit && only && only.start <= start && only.end >= end) {
      const e = typeof edit === 'function' ? edit(only) : edit;
      // Inside one run whose content the edit keeps: nothing changes.
      if (sameContent(e, only)) return;
      // A range written from the start of a run, the run before ending there with the content
      // written (a memmap initialised chunk by chunk): that run grows, this one shrinks or goes
      // (and merges with the next where that one matches) — what the general way below leaves.
      const left = this.runs[i - 1];
      if (only.start === start && left && left.end === start && sameContent(left, e)) {
        this.epoch = ++lastEpoch;
        const next = this.runs[i + 1];
        if (only.end > end) {
          this.runs[i - 1] = span(left, left.start, end);
          this.runs[i] = span(only, end, only.end);
        } else if (next && next.start === end && sameContent(next, left)) this.runs.splice(i - 1, 3, span(left, left.start, next.end));
        else this.runs.splice(i - 1, 2, span(left, left.start, end));
        return;
      }
    }
    this.epoch = ++lastEpoch;
    let j = i;
    const out: Run[] = [];
    let cursor = start;
    while (j < this.runs.length && (this.runs[j]?.start ?? end) < end) {
      const r = this.runs[j] as Run;
      if (fill && cursor < r.start) out.push(span(fill, cursor, r.start));
      if (r.start < start) out.push(span(r, r.start, start));
      if (edit) out.push(typeof edit === 'function' ? edit(span(r, Math.max(r.start, start), Math.min(r.end, end))) : span(edit, Math.max(r.start, start), Math.min(r.end, end)));
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
    const run: Run = { start: 0, end: 0, kind: fresh, zone: 0, nid: 0, flagsOr: 0, words: null, pageType: null, compound: NO_OVERLAYS };
    this.rewrite(firstNr * pps, endNr * pps, (p) => ({ ...run, start: p.start, end: p.end }), run);
  }

  depopulateSection(sectionNr: number): void {
    const pps = this.geometry.pagesPerSection;
    const s = sectionNr * pps;
    const e = s + pps;
    const i = this.firstEndingAfter(s);
    this.epoch = ++lastEpoch;
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
    this.rewrite(start, end, (r) => ({ ...r, kind: 'initialized', zone, nid, flagsOr: 0, words: null, pageType: null, compound: NO_OVERLAYS }), null);
  }

  initPagesRange(start: number, end: number, zone: number, nid: number, reserved: boolean, words: readonly (readonly [number, number])[] | null): void {
    // What initRange, setReservedRange and setWordsRange leave, in one rewrite: a fresh record,
    // PG_reserved OR'ed on, the words (last write of each word wins, sorted) on top.
    const flagsOr = reserved ? this.geometry.writer.reservedMask >>> 0 : 0;
    const ws = this.sortedWords(words);
    // The content every piece gets (bounds aside), the last one kept: a range is written a chunk at a time.
    let t = this.lastInit;
    if (!t || t.zone !== zone || t.nid !== nid || t.flagsOr !== flagsOr || t.words !== ws) {
      t = { start: 0, end: 0, kind: 'initialized', zone, nid, flagsOr, words: ws, pageType: null, compound: NO_OVERLAYS };
      this.lastInit = t;
    }
    this.rewrite(start, end, t, null);
  }

  private lastInit: Run | null = null;

  /** The words as a run holds them (last write of each word wins, sorted), the last answer kept: a range is written a chunk at a time with the same words. */
  private sortedWords(words: Words | null): Words | null {
    if (!words) return null;
    // The same words again, often in a new array per chunk: the last answer.
    const last = this.lastWordsIn;
    let same = last !== null && last.length === words.length;
    for (let i = 0; same && i < words.length; i++) {
      const a = words[i] as readonly [number, number];
      const b = (last as Words)[i] as readonly [number, number];
      same = a[0] === b[0] && a[1] === b[1];
    }
    if (!same) {
      this.lastWordsIn = words.map(([w, v]) => [w, v] as const);
      this.lastWordsOut = [...new Map(words.map(([w, v]) => [w, v >>> 0] as const))].sort((x, y) => x[0] - y[0]);
    }
    return this.lastWordsOut;
  }

  private lastWordsIn: Words | null = null;
  private lastWordsOut: Words = [];

  zeroRange(start: number, end: number): void {
    this.rewrite(start, end, (r) => ({ ...r, kind: 'zeroed', zone: 0, nid: 0, flagsOr: 0, words: null, pageType: null, compound: NO_OVERLAYS }), null);
  }

  poisonRange(start: number, end: number): void {
    this.rewrite(start, end, (r) => ({ ...r, kind: 'poisoned', zone: 0, nid: 0, flagsOr: 0, words: null, pageType: null, compound: NO_OVERLAYS }), null);
  }

  setReservedRange(start: number, end: number): void {
    this.setFlagsRange(start, end, this.geometry.writer.reservedMask);
  }

  setWordsRange(start: number, end: number, words: readonly (readonly [number, number])[]): void {
    this.rewrite(
      start,
      end,
      (r) => {
        const merged = new Map(r.words ?? []);
        for (const [w, v] of words) merged.set(w, v >>> 0);
        return { ...r, words: [...merged].sort((x, y) => x[0] - y[0]), compound: r.compound.length ? withoutWords(r.compound, new Set(words.map(([w]) => w))) : r.compound };
      },
      null,
    );
  }

  setFlagsRange(start: number, end: number, mask: number): void {
    // Words and overlays are applied after flagsOr: a write of word 0 among them takes the bits too.
    this.rewrite(
      start,
      end,
      (r) => ({
        ...r,
        flagsOr: (r.flagsOr | mask) >>> 0,
        words: r.words && orIntoFlags(r.words, mask),
        compound: r.compound.length ? r.compound.map((o) => ({ ...o, words: o.words.map((ws) => orIntoFlags(ws, mask)) })) : r.compound,
      }),
      null,
    );
  }

  clearFlagsRange(start: number, end: number, mask: number): void {
    // Bits from flagsOr and from written flags words (word 0) alike; what initRange wrote (the
    // node and zone links, in the template) is above bit 31 on 64-bit layouts and never touched.
    const clear = (ws: readonly (readonly [number, number])[]): [number, number][] => ws.map(([w, v]) => [w, w === 0 ? (v & ~mask) >>> 0 : v]);
    this.rewrite(
      start,
      end,
      (r) => ({
        ...r,
        flagsOr: (r.flagsOr & ~mask) >>> 0,
        words: r.words && clear(r.words),
        compound: r.compound.length ? r.compound.map((o) => ({ ...o, words: o.words.map(clear) })) : r.compound,
      }),
      null,
    );
  }

  setPageTypeRange(start: number, end: number, value: number): void {
    const w = this.geometry.writer.pageTypeWord;
    const taken = new Set([w]);
    // page_type is applied before the words and overlays: an earlier write of its word there gives way.
    this.rewrite(
      start,
      end,
      (r) => ({
        ...r,
        pageType: value >>> 0,
        words: r.words?.some(([x]) => x === w) ? r.words.filter(([x]) => x !== w) : r.words,
        compound: r.compound.length ? withoutWords(r.compound, taken) : r.compound,
      }),
      null,
    );
  }

  setCompoundRange(start: number, end: number, pattern: CompoundPattern): void {
    checkPattern(pattern);
    const o: Overlay = {
      period: pattern.period,
      phase: ((pattern.origin % pattern.period) + pattern.period) % pattern.period,
      words: pattern.words.map((ws) => {
        const m = new Map<number, number>();
        for (const [w, v] of ws) m.set(w, v >>> 0);
        return [...m].sort((x, y) => x[0] - y[0]);
      }),
      link: pattern.link,
      linkMask: pattern.link ? 3 : 0,
    };
    this.rewrite(start, end, (r) => ({ ...r, compound: [...r.compound, o] }), null);
  }

  private lastOut: Uint8Array | null = null;
  private lastOutWords: Uint32Array = new Uint32Array(0);

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
    // The caller's buffer is nearly always the same (Machine.recordScratch): its view is kept.
    if (this.lastOut !== out) {
      this.lastOut = out;
      this.lastOutWords = new Uint32Array(out.buffer, out.byteOffset, writer.recordWords);
    }
    const u32 = this.lastOutWords;
    if (r.kind === 'initialized') writer.writeInit(u32, 0, pfn, r.zone, r.nid);
    else if (r.kind === 'poisoned') u32.fill(0xffffffff);
    else if (r.kind === 'zeroed') u32.fill(0);
    else staleRecord(seed, pfn, u32, 0, writer.recordWords);
    if (r.flagsOr) u32[0] = ((u32[0] ?? 0) | r.flagsOr) >>> 0;
    if (r.pageType !== null) u32[writer.pageTypeWord] = r.pageType;
    if (r.words) for (const [w, v] of r.words) u32[w] = v;
    for (const o of r.compound) {
      const pos = (((pfn - o.phase) % o.period) + o.period) % o.period;
      for (const [w, v] of o.words[Math.min(pos, o.words.length - 1)] ?? []) u32[w] = v;
      if (o.link && pos > 0 && o.linkMask) {
        const v = linkValue(o.link, pfn - pos);
        if (o.linkMask & 1) u32[o.link.word] = Number(v & 0xffffffffn);
        if (o.linkMask & 2) u32[o.link.word + 1] = Number(v >> 32n);
      }
    }
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
        parts.push(
          `${s}-${e}:${r.kind}/${r.zone}/${r.nid}/${r.flagsOr}/${r.pageType ?? ''}/${r.words?.map(([w, v]) => `${w}=${v}`).join('.') ?? ''}${r.compound.length ? r.compound.map((o) => `/${describeOverlay(o)}`).join('') : ''}`,
        );
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
