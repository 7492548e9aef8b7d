// The two memmap backends agree on every byte and state for random operation sequences, with
// a record source of the same shape as the kernel's (the real struct page layout has its own
// tests); and the writer's 64-bit lru pointers are exact.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DenseMemmap } from '../src/memmap/dense.js';
import { ExtentMemmap } from '../src/memmap/extent.js';
import { makePageWriter } from '../src/memmap/page_writer.js';
import { STANDIN_SOURCE } from './helpers.js';
import { snapshotGraph } from '../src/drivers/snapshot.js';
import type { CompoundPattern, MemmapGeometry, MemmapStore } from '../src/memmap/store.js';

const SOURCE = STANDIN_SOURCE;

const PPS = 64; // small sections keep the property test fast
const geometry = (seed: number): MemmapGeometry => ({ pagesPerSection: PPS, writer: makePageWriter(SOURCE), seed });

const SECTIONS = 6;

type Op =
  | { op: 'populate'; nr: number; fresh: 'poisoned' | 'zeroed' | 'stale' }
  | { op: 'populateMany'; nr: number; n: number; fresh: 'poisoned' | 'zeroed' | 'stale' }
  | { op: 'depopulate'; nr: number }
  | { op: 'init'; start: number; len: number; zone: number; nid: number }
  | { op: 'initPages'; start: number; len: number; zone: number; nid: number; reserved: boolean; words: [number, number][] | null }
  | { op: 'initChunks'; start: number; len: number; chunk: number; zone: number; nid: number; reserved: boolean; words: [number, number][] | null }
  | { op: 'zero'; start: number; len: number }
  | { op: 'reserve'; start: number; len: number }
  | { op: 'pagetype'; start: number; len: number; value: number }
  | { op: 'poison'; start: number; len: number }
  | { op: 'flags'; start: number; len: number; mask: number }
  | { op: 'words'; start: number; len: number; words: [number, number][] }
  | { op: 'compound'; start: number; len: number; pattern: CompoundPattern };

/** A word of the 16 of a record (mostly flags, the lru/compound_head pair and page_type, which later writes meet) and a value for it. */
const wordArb = fc.tuple(fc.oneof(fc.constantFrom(0, 2, 3, 12), fc.nat(15)), fc.constantFrom(0, 1, 0x40, 0xdead0000, 0xffffffff));
/**
 * Compound patterns of the shapes memmap_init_compound gives (periods 2 to 2^9, words by position
 * up to the fourth, a link at compound_head's word 2 or elsewhere) and beyond (any origin, period 3).
 */
const patternArb: fc.Arbitrary<CompoundPattern> = fc.record({
  period: fc.constantFrom(1, 2, 3, 4, 8, 512),
  origin: fc.nat(SECTIONS * PPS),
  words: fc.array(fc.array(wordArb, { maxLength: 4 }), { minLength: 1, maxLength: 4 }),
  link: fc.option(fc.record({ word: fc.constantFrom(2, 3, 14), base: fc.constantFrom(0xffffea0000000001n, 0xfffffffffffffff1n), stride: fc.constantFrom(64, 56) })),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('populate' as const), nr: fc.nat(SECTIONS - 1), fresh: fc.constantFrom('poisoned' as const, 'zeroed' as const, 'stale' as const) }),
  fc.record({
    op: fc.constant('populateMany' as const),
    nr: fc.nat(SECTIONS - 1),
    n: fc.integer({ min: 1, max: 3 }),
    fresh: fc.constantFrom('poisoned' as const, 'zeroed' as const, 'stale' as const),
  }),
  fc.record({ op: fc.constant('depopulate' as const), nr: fc.nat(SECTIONS - 1) }),
  fc.record({ op: fc.constant('init' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(3 * PPS), zone: fc.nat(4), nid: fc.nat(3) }),
  fc.record({
    op: fc.constant('initPages' as const),
    start: fc.nat(SECTIONS * PPS - 1),
    len: fc.nat(3 * PPS),
    zone: fc.nat(4),
    nid: fc.nat(3),
    reserved: fc.boolean(),
    words: fc.option(fc.array(wordArb, { maxLength: 4 })),
  }),
  // A range initialised chunk by chunk, as memmap_init_zone_device's loop goes (each chunk meets the one before).
  fc.record({
    op: fc.constant('initChunks' as const),
    start: fc.nat(SECTIONS * PPS - 1),
    len: fc.nat(3 * PPS),
    chunk: fc.integer({ min: 1, max: PPS }),
    zone: fc.nat(4),
    nid: fc.nat(3),
    reserved: fc.boolean(),
    words: fc.option(fc.array(wordArb, { maxLength: 4 })),
  }),
  fc.record({ op: fc.constant('zero' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(2 * PPS) }),
  fc.record({ op: fc.constant('reserve' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(2 * PPS) }),
  fc.record({ op: fc.constant('pagetype' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(2 * PPS), value: fc.constantFrom(0xf5ffffff, 0xfffffeff) }),
  fc.record({ op: fc.constant('poison' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(2 * PPS) }),
  fc.record({ op: fc.constant('flags' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(2 * PPS), mask: fc.constantFrom(0x40, 0x2000, 0x80000000) }),
  fc.record({ op: fc.constant('words' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(2 * PPS), words: fc.array(wordArb, { maxLength: 4 }) }),
  fc.record({ op: fc.constant('compound' as const), start: fc.nat(SECTIONS * PPS - 1), len: fc.nat(3 * PPS), pattern: patternArb }),
);

function apply(s: MemmapStore, o: Op): void {
  if (o.op === 'populate') s.populateSection(o.nr, o.fresh);
  else if (o.op === 'populateMany') s.populateSections(o.nr, Math.min(SECTIONS, o.nr + o.n), o.fresh);
  else if (o.op === 'depopulate') s.depopulateSection(o.nr);
  else if (o.op === 'init') s.initRange(o.start, o.start + o.len, o.zone, o.nid);
  else if (o.op === 'initPages') s.initPagesRange(o.start, o.start + o.len, o.zone, o.nid, o.reserved, o.words);
  else if (o.op === 'initChunks') for (let p = o.start; p < o.start + o.len; p += o.chunk) s.initPagesRange(p, Math.min(o.start + o.len, p + o.chunk), o.zone, o.nid, o.reserved, o.words);
  else if (o.op === 'zero') s.zeroRange(o.start, o.start + o.len);
  else if (o.op === 'reserve') s.setReservedRange(o.start, o.start + o.len);
  else if (o.op === 'poison') s.poisonRange(o.start, o.start + o.len);
  else if (o.op === 'flags') s.setFlagsRange(o.start, o.start + o.len, o.mask);
  else if (o.op === 'words') s.setWordsRange(o.start, o.start + o.len, o.words);
  else if (o.op === 'compound') s.setCompoundRange(o.start, o.start + o.len, o.pattern);
  else s.setPageTypeRange(o.start, o.start + o.len, o.value);
}

describe('dense and extent backends', () => {
  it('agree on every pfn after any operation sequence (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.boolean(), fc.array(opArb, { maxLength: 40 }), (seed, full, ops) => {
        const d = new DenseMemmap(geometry(seed));
        const e = new ExtentMemmap(geometry(seed));
        // Half the runs start with every section populated, so that later writes meet earlier ones.
        for (const o of full ? [{ op: 'populateMany' as const, nr: 0, n: SECTIONS, fresh: 'stale' as const }, ...ops] : ops) {
          apply(d, o);
          apply(e, o);
        }
        const a = new Uint8Array(64);
        const b = new Uint8Array(64);
        for (let pfn = 0; pfn < SECTIONS * PPS; pfn++) {
          expect(d.stateOf(pfn)).toBe(e.stateOf(pfn));
          expect(d.readRecord(pfn, a)).toBe(e.readRecord(pfn, b));
          expect(Buffer.from(a).toString('hex')).toBe(Buffer.from(b).toString('hex'));
        }
      }),
      { numRuns: 300, seed: 20261125 },
    );
  });

  it('initPagesRange leaves the extent runs the three writes it stands for would (fast-check)', () => {
    // The dense backend's initPagesRange is those three writes; the extent backend's is one rewrite.
    const three = (s: MemmapStore, o: Extract<Op, { op: 'initPages' }>): void => {
      s.initRange(o.start, o.start + o.len, o.zone, o.nid);
      if (o.reserved) s.setReservedRange(o.start, o.start + o.len);
      if (o.words) s.setWordsRange(o.start, o.start + o.len, o.words);
    };
    const initPagesArb = opArb.filter((o): o is Extract<Op, { op: 'initPages' }> => o.op === 'initPages');
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), initPagesArb, (ops, last) => {
        const a = new ExtentMemmap(geometry(1));
        const b = new ExtentMemmap(geometry(1));
        for (const o of [{ op: 'populateMany' as const, nr: 0, n: SECTIONS, fresh: 'stale' as const }, ...ops]) {
          apply(a, o);
          apply(b, o);
        }
        apply(a, last);
        three(b, last);
        expect(a.digest(0, SECTIONS * PPS)).toBe(b.digest(0, SECTIONS * PPS));
        expect(a.runCount()).toBe(b.runCount());
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });

  it('initialised chunk by chunk, the extent runs are those one write of the whole range leaves (fast-check)', () => {
    const chunksArb = opArb.filter((o): o is Extract<Op, { op: 'initChunks' }> => o.op === 'initChunks');
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), chunksArb, fc.boolean(), fc.boolean(), (ops, last, full, between) => {
        const a = new ExtentMemmap(geometry(1));
        const b = new ExtentMemmap(geometry(1));
        // Between: the pages on both sides already hold what the chunks write (the last chunk meets both neighbours).
        const end = last.start + last.len;
        const sides: Op[] = between
          ? [
              { ...last, op: 'initPages', start: Math.max(0, last.start - PPS / 2), len: last.start - Math.max(0, last.start - PPS / 2) },
              { ...last, op: 'initPages', start: end, len: Math.max(0, Math.min(SECTIONS * PPS, end + PPS / 2) - end) },
            ]
          : [];
        for (const o of [...(full ? [{ op: 'populateMany' as const, nr: 0, n: SECTIONS, fresh: 'poisoned' as const }] : []), ...ops, ...sides]) {
          apply(a, o);
          apply(b, o);
        }
        apply(a, last);
        apply(b, { ...last, op: 'initPages' });
        expect(a.digest(0, SECTIONS * PPS)).toBe(b.digest(0, SECTIONS * PPS));
        expect(a.runCount()).toBe(b.runCount());
      }),
      { numRuns: 500, seed: 20261207 },
    );
  });

  it("the extent backend's epoch: a new one at every write that changes the contents, never an earlier one; a snapshot puts back the contents and the epoch together (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.nat(30), (ops, cut) => {
        const e = new ExtentMemmap(geometry(3));
        const seen = new Map<number, string>(); // epoch -> the contents it stands for
        const check = (): void => {
          const digest = e.digest(0, SECTIONS * PPS);
          const was = seen.get(e.epoch);
          if (was !== undefined) expect(digest).toBe(was);
          seen.set(e.epoch, digest);
        };
        let restore: (() => void) | null = null;
        let atCut: [number, string] | null = null;
        for (const [i, o] of [{ op: 'populateMany' as const, nr: 0, n: SECTIONS, fresh: 'stale' as const }, ...ops].entries()) {
          if (i === cut) {
            restore = snapshotGraph(e);
            atCut = [e.epoch, e.digest(0, SECTIONS * PPS)];
          }
          const before = [e.epoch, e.digest(0, SECTIONS * PPS)] as const;
          apply(e, o);
          // Contents changed: a new epoch; an epoch kept: the same contents.
          if (e.digest(0, SECTIONS * PPS) !== before[1]) expect(e.epoch).toBeGreaterThan(before[0]);
          if (e.epoch === before[0]) expect(e.digest(0, SECTIONS * PPS)).toBe(before[1]);
          check();
        }
        if (restore && atCut) {
          restore();
          expect([e.epoch, e.digest(0, SECTIONS * PPS)]).toEqual(atCut);
        }
      }),
      { numRuns: 200, seed: 20261206 },
    );
  });

  it('keeps the extent backend O(runs): 1 TiB of sections populated and initialised is one run', () => {
    const e = new ExtentMemmap({ pagesPerSection: 32768, writer: makePageWriter(SOURCE), seed: 1 });
    e.populateSections(0, 8192, 'stale');
    expect(e.runCount()).toBe(1);
    e.initRange(100, 8192 * 32768, 2, 0);
    expect(e.runCount()).toBe(2);
    expect(e.stateOf(99)).toBe('stale');
    expect(e.stateOf(8192 * 32768 - 1)).toBe('initialized');
  });
});

describe('PageWriter', () => {
  it('writes the same 64 bytes as the canonical record, lru pointers exact beyond 2^53', () => {
    const w = makePageWriter(SOURCE);
    for (const pfn of [0, 1, 0x3ffffff, 0x4000000, 0x123456789, 2 ** 40 - 1]) {
      const fast = new Uint32Array(16);
      w.writeInit(fast, 0, pfn, 2, 1);
      const slow = new DataView(new ArrayBuffer(64));
      SOURCE.writeRecord(slow, 0, pfn, 2, 1);
      expect(Buffer.from(fast.buffer).toString('hex'), `pfn ${pfn}`).toBe(Buffer.from(slow.buffer).toString('hex'));
    }
  });
});

describe('deferred init on worker threads', () => {
  it('gives a memmap byte-identical to the single-thread path', async () => {
    const { runDeferredParallel } = await import('../src/memmap/parallel.js');
    const { runDeferredSerial } = await import('../src/kernel/memmap_init.js');
    const g = { pagesPerSection: 4096, writer: makePageWriter(SOURCE), seed: 7 };
    const a = new DenseMemmap(g);
    const b = new DenseMemmap(g);
    for (let nr = 0; nr < 12; nr++) {
      a.populateSection(nr, 'stale');
      b.populateSection(nr, 'stale');
    }
    const deferred = [
      { nid: 0, zone: 2, start: 4096 + 100, end: 6 * 4096 + 17 },
      { nid: 1, zone: 2, start: 7 * 4096, end: 12 * 4096 },
    ];
    runDeferredSerial(a, deferred);
    await runDeferredParallel(b, deferred, 3);
    for (let nr = 0; nr < 12; nr++) {
      const x = Buffer.from(a.sections.get(nr)?.records ?? new ArrayBuffer(0));
      const y = Buffer.from(b.sections.get(nr)?.records ?? new ArrayBuffer(0));
      expect(x.equals(y), `section ${nr}`).toBe(true);
      expect(Buffer.from(a.sections.get(nr)?.states ?? new ArrayBuffer(0)).equals(Buffer.from(b.sections.get(nr)?.states ?? new ArrayBuffer(0)))).toBe(true);
    }
    expect(b.stateOf(4096 + 99)).toBe('stale');
    expect(b.stateOf(4096 + 100)).toBe('initialized');
  });
});

describe('the SIMD bulk path', () => {
  it('writes the same bytes as the TypeScript writer, for every alignment of range start and length', async () => {
    const { simdModule } = await import('../src/memmap/simd_init.js');
    if (!simdModule()) {
      console.log('skipped: no WebAssembly SIMD here; the TypeScript writer is used');
      return;
    }
    const w = makePageWriter(SOURCE);
    for (const [start, len] of [
      [0, 1],
      [5, 3],
      [4095, 1],
      [100, 3996],
      [0, 4096],
    ] as const) {
      const d = new DenseMemmap({ pagesPerSection: 4096, writer: w, seed: 9 });
      d.populateSection(3, 'stale');
      expect(d.sections.get(3)?.memory).toBeDefined();
      const base = 3 * 4096;
      d.initRange(base + start, base + start + len, 2, 1);
      const u32 = new Uint32Array(16);
      const rec = new Uint8Array(64);
      for (const pfn of [base + start, base + start + len - 1]) {
        w.writeInit(u32, 0, pfn, 2, 1);
        d.readRecord(pfn, rec);
        expect(Buffer.from(rec).toString('hex'), `pfn ${pfn}`).toBe(Buffer.from(u32.buffer).toString('hex'));
      }
      if (start > 0) expect(d.stateOf(base + start - 1)).toBe('stale');
    }
  });
});

describe('deferred init threads per kernel', () => {
  it('one kthread per node before padata (5.8), the node CPUs after', async () => {
    const { deferredThreadsFor } = await import('../src/memmap/parallel.js');
    const { profileFor } = await import('../src/profiles/profile.js');
    expect(deferredThreadsFor(profileFor('5.4').features.deferredPadata, 16)).toBe(1);
    expect(deferredThreadsFor(profileFor('5.8').features.deferredPadata, 16)).toBe(16);
    expect(deferredThreadsFor(profileFor('6.18').features.deferredPadata, 0)).toBe(1);
  });
});
