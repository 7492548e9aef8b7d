// The dense backend: real struct page records in one SharedArrayBuffer per section (allocated
// when the section gains a memmap, never one giant buffer) plus one state byte per page, so
// worker threads can initialise chunks of the same memmap in parallel.
import type { PageWriter } from './page_writer.js';
import { simdInit, simdMemory } from './simd_init.js';
import type { FreshState, MemmapGeometry, MemmapStore, PageState } from './store.js';
import { checkPattern, compoundWordsAt, forEachSectionPiece, staleRecord, type CompoundPattern } from './store.js';

const STATE_CODE: Record<PageState, number> = { none: 0, poisoned: 1, zeroed: 2, stale: 3, initialized: 4 };
const CODE_STATE: readonly PageState[] = ['none', 'poisoned', 'zeroed', 'stale', 'initialized'];

/** One section's memmap: records and page states, shareable with worker threads. */
export interface DenseSection {
  /** The records; the buffer of `memory` where WebAssembly SIMD is available. */
  readonly records: SharedArrayBuffer;
  readonly states: SharedArrayBuffer;
  /** The shared wasm memory holding `records`, for the SIMD bulk init path. */
  readonly memory?: WebAssembly.Memory;
}

export class DenseMemmap implements MemmapStore {
  readonly kind = 'dense' as const;
  readonly sections = new Map<number, DenseSection>();

  constructor(readonly geometry: MemmapGeometry) {}

  /** Bytes one section's memmap takes in this backend. */
  static sectionBytes(g: { pagesPerSection: number; writer: { recordBytes: number } }): number {
    return g.pagesPerSection * (g.writer.recordBytes + 1);
  }

  populateSection(sectionNr: number, fresh: FreshState): void {
    const { pagesPerSection: pps, writer, seed } = this.geometry;
    const wasm = writer.recordBytes === 64 ? simdMemory(pps * writer.recordBytes) : null;
    // A shared wasm memory's buffer is a SharedArrayBuffer (the DOM typings say ArrayBuffer).
    const wasmBuffer: unknown = wasm?.buffer;
    const memory = wasmBuffer instanceof SharedArrayBuffer ? wasm : null;
    const records = wasmBuffer instanceof SharedArrayBuffer ? wasmBuffer : new SharedArrayBuffer(pps * writer.recordBytes);
    const states = new SharedArrayBuffer(pps);
    const u32 = new Uint32Array(records);
    if (fresh === 'poisoned') u32.fill(0xffffffff);
    else if (fresh === 'stale') {
      const base = sectionNr * pps;
      for (let i = 0; i < pps; i++) staleRecord(seed, base + i, u32, i * writer.recordWords, writer.recordWords);
    }
    new Uint8Array(states).fill(STATE_CODE[fresh]);
    this.sections.set(sectionNr, memory ? { records, states, memory } : { records, states });
  }

  populateSections(firstNr: number, endNr: number, fresh: FreshState): void {
    for (let nr = firstNr; nr < endNr; nr++) this.populateSection(nr, fresh);
  }

  depopulateSection(sectionNr: number): void {
    this.sections.delete(sectionNr);
  }

  hasMemmap(sectionNr: number): boolean {
    return this.sections.has(sectionNr);
  }

  initRange(start: number, end: number, zone: number, nid: number): void {
    const { pagesPerSection: pps, writer } = this.geometry;
    forEachSectionPiece(pps, start, end, (nr, s, e) => {
      const sec = this.sections.get(nr);
      if (sec) initDenseRange(sec, nr * pps, s, e, zone, nid, writer);
    });
  }

  initPagesRange(start: number, end: number, zone: number, nid: number, reserved: boolean, words: readonly (readonly [number, number])[] | null): void {
    this.initRange(start, end, zone, nid);
    if (reserved) this.setReservedRange(start, end);
    if (words) this.setWordsRange(start, end, words);
  }

  zeroRange(start: number, end: number): void {
    this.fillRange(start, end, 0, 'zeroed');
  }

  poisonRange(start: number, end: number): void {
    this.fillRange(start, end, 0xffffffff, 'poisoned');
  }

  /** Every word of the records of [start, end) that have a memmap set to `word`, in `state`. */
  private fillRange(start: number, end: number, word: number, state: 'zeroed' | 'poisoned'): void {
    const { pagesPerSection: pps, writer } = this.geometry;
    forEachSectionPiece(pps, start, end, (nr, s, e) => {
      const sec = this.sections.get(nr);
      if (!sec) return;
      const base = nr * pps;
      new Uint32Array(sec.records).fill(word, (s - base) * writer.recordWords, (e - base) * writer.recordWords);
      new Uint8Array(sec.states).fill(STATE_CODE[state], s - base, e - base);
    });
  }

  /** Call `f` with the words and the first word's index of every record of [start, end) that has a memmap. */
  private forEachRecord(start: number, end: number, f: (u32: Uint32Array, at: number, pfn: number) => void): void {
    const { pagesPerSection: pps, writer } = this.geometry;
    forEachSectionPiece(pps, start, end, (nr, s, e) => {
      const sec = this.sections.get(nr);
      if (!sec) return;
      const u32 = new Uint32Array(sec.records);
      const base = nr * pps;
      for (let pfn = s; pfn < e; pfn++) f(u32, (pfn - base) * writer.recordWords, pfn);
    });
  }

  /** Rewrite one word of every record of [start, end) that has a memmap. */
  private updateWord(start: number, end: number, word: number, f: (old: number) => number): void {
    this.forEachRecord(start, end, (u32, at) => {
      u32[at + word] = f(u32[at + word] ?? 0) >>> 0;
    });
  }

  setReservedRange(start: number, end: number): void {
    this.setFlagsRange(start, end, this.geometry.writer.reservedMask);
  }

  setWordsRange(start: number, end: number, words: readonly (readonly [number, number])[]): void {
    for (const [word, value] of words) this.updateWord(start, end, word, () => value);
  }

  setFlagsRange(start: number, end: number, mask: number): void {
    this.updateWord(start, end, 0, (old) => old | mask);
  }

  clearFlagsRange(start: number, end: number, mask: number): void {
    this.updateWord(start, end, 0, (old) => old & ~mask);
  }

  setPageTypeRange(start: number, end: number, value: number): void {
    this.updateWord(start, end, this.geometry.writer.pageTypeWord, () => value);
  }

  setCompoundRange(start: number, end: number, pattern: CompoundPattern): void {
    checkPattern(pattern);
    this.forEachRecord(start, end, (u32, at, pfn) => compoundWordsAt(pattern, pfn, u32, at));
  }

  stateOf(pfn: number): PageState {
    const pps = this.geometry.pagesPerSection;
    const sec = this.sections.get(Math.floor(pfn / pps));
    if (!sec) return 'none';
    return CODE_STATE[new Uint8Array(sec.states)[pfn % pps] ?? 0] ?? 'none';
  }

  readRecord(pfn: number, out: Uint8Array): boolean {
    const { pagesPerSection: pps, writer } = this.geometry;
    const sec = this.sections.get(Math.floor(pfn / pps));
    if (!sec) return false;
    const off = (pfn % pps) * writer.recordBytes;
    out.set(new Uint8Array(sec.records, off, writer.recordBytes));
    return true;
  }
}

/** __init_single_page over [s, e) of one dense section: used by the main thread and the workers. */
export function initDenseRange(sec: DenseSection, sectionBase: number, s: number, e: number, zone: number, nid: number, writer: Pick<PageWriter, 'recordWords' | 'writeInitRange' | 'simdArgs'>): void {
  const args = sec.memory ? writer.simdArgs(s, zone, nid) : null;
  const simd = sec.memory && args ? simdInit(sec.memory) : null;
  if (simd && args) simd((s - sectionBase) * 64, e - s, ...args);
  else writer.writeInitRange(new Uint32Array(sec.records), (s - sectionBase) * writer.recordWords, s, e - s, zone, nid);
  new Uint8Array(sec.states).fill(STATE_CODE.initialized, s - sectionBase, e - sectionBase);
}
