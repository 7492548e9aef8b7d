// The extent backend: per section, runs of pfns that share what was last written to them
// (a fresh state, or __init_single_page with one zone and node) plus flag bits OR'ed on top.
// Memory is O(runs); a record is computed on read by the same PageWriter as the dense backend.
import type { FreshState, MemmapGeometry, MemmapStore, PageState } from './store.js';
import { forEachSectionPiece, staleRecord } from './store.js';

interface Run {
  start: number;
  end: number;
  kind: FreshState | 'initialized';
  zone: number;
  nid: number;
  /** PG_reserved set on top (setReservedRange). */
  reserved: boolean;
}

function sameContent(a: Run, b: Run): boolean {
  return a.kind === b.kind && a.zone === b.zone && a.nid === b.nid && a.reserved === b.reserved;
}

export class ExtentMemmap implements MemmapStore {
  readonly kind = 'extent' as const;
  private readonly sections = new Map<number, Run[]>();

  constructor(readonly geometry: MemmapGeometry) {}

  populateSection(sectionNr: number, fresh: FreshState): void {
    const pps = this.geometry.pagesPerSection;
    this.sections.set(sectionNr, [{ start: sectionNr * pps, end: (sectionNr + 1) * pps, kind: fresh, zone: 0, nid: 0, reserved: false }]);
  }

  depopulateSection(sectionNr: number): void {
    this.sections.delete(sectionNr);
  }

  hasMemmap(sectionNr: number): boolean {
    return this.sections.has(sectionNr);
  }

  /** Rewrite [s, e) of one section's runs with `edit`, then merge equal neighbours. */
  private apply(start: number, end: number, edit: (r: Run) => Run): void {
    forEachSectionPiece(this.geometry.pagesPerSection, start, end, (nr, s, e) => {
      const runs = this.sections.get(nr);
      if (!runs) return;
      const out: Run[] = [];
      for (const r of runs) {
        if (r.end <= s || r.start >= e) {
          out.push(r);
          continue;
        }
        if (r.start < s) out.push({ ...r, end: s });
        out.push(edit({ ...r, start: Math.max(r.start, s), end: Math.min(r.end, e) }));
        if (r.end > e) out.push({ ...r, start: e });
      }
      const merged: Run[] = [];
      for (const r of out) {
        const last = merged[merged.length - 1];
        if (last && last.end === r.start && sameContent(last, r)) last.end = r.end;
        else merged.push(r);
      }
      this.sections.set(nr, merged);
    });
  }

  initRange(start: number, end: number, zone: number, nid: number): void {
    this.apply(start, end, (r) => ({ ...r, kind: 'initialized', zone, nid, reserved: false }));
  }

  zeroRange(start: number, end: number): void {
    this.apply(start, end, (r) => ({ ...r, kind: 'zeroed', zone: 0, nid: 0, reserved: false }));
  }

  setReservedRange(start: number, end: number): void {
    this.apply(start, end, (r) => ({ ...r, reserved: true }));
  }

  private runAt(pfn: number): Run | undefined {
    const runs = this.sections.get(Math.floor(pfn / this.geometry.pagesPerSection));
    if (!runs) return undefined;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = runs[mid];
      if (!r) break;
      if (pfn < r.start) hi = mid - 1;
      else if (pfn >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
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
    if (r.reserved) u32[writer.reservedWord] = ((u32[writer.reservedWord] ?? 0) | writer.reservedMask) >>> 0;
    return true;
  }

  /** Runs per section, for tests and the benchmark. */
  runCount(): number {
    let n = 0;
    for (const runs of this.sections.values()) n += runs.length;
    return n;
  }
}
