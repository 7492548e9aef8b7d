// The section runs (kernel/sparse.ts) stay what each section's own attributes say, merged where
// neighbours are alike, whatever sequence of hot-adds (sections filled where none was), edits and
// removals comes: updateSections' one-section fast path (a gap filled next to its neighbours)
// and its general path (the whole list rebuilt) leave the same runs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { x86_64Arch } from '../src/arch/x86_64.js';
import { Sparse, type SectionRun } from '../src/kernel/sparse.js';

const SECTIONS = 24;
type Attrs = Omit<SectionRun, 'startNr' | 'endNr'>;
type Op = { op: 'fill'; nr: number; n: number; nid: number; online: boolean } | { op: 'online'; nr: number; n: number; online: boolean } | { op: 'remove'; nr: number; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('fill' as const), nr: fc.nat(SECTIONS - 1), n: fc.integer({ min: 1, max: 4 }), nid: fc.nat(1), online: fc.boolean() }),
  fc.record({ op: fc.constant('online' as const), nr: fc.nat(SECTIONS - 1), n: fc.integer({ min: 1, max: 6 }), online: fc.boolean() }),
  fc.record({ op: fc.constant('remove' as const), nr: fc.nat(SECTIONS - 1), n: fc.integer({ min: 1, max: 3 }) }),
);

/** The runs a per-section model gives: each present section's attributes, alike neighbours merged. */
function expectedRuns(model: (Attrs | null)[]): SectionRun[] {
  const out: SectionRun[] = [];
  model.forEach((a, nr) => {
    if (!a) return;
    const last = out[out.length - 1];
    const alike = last !== undefined && (['nid', 'present', 'hasMemMap', 'online', 'early'] as const).every((k) => last[k] === a[k]);
    if (last && alike && last.endNr === nr) last.endNr = nr + 1;
    else out.push({ startNr: nr, endNr: nr + 1, ...a });
  });
  return out;
}

describe('section runs', () => {
  it('are each section as hot-add, onlining and removal left it, alike neighbours merged (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const sparse = new Sparse(x86_64Arch(true));
        const model: (Attrs | null)[] = Array.from({ length: SECTIONS }, () => null);
        for (const o of ops) {
          const end = Math.min(SECTIONS, o.nr + o.n);
          if (o.op === 'fill') {
            // sparse_add_section's way: sections without a run get one, present ones are kept.
            const attrs = { nid: o.nid, present: true, hasMemMap: true, online: o.online, early: false };
            sparse.updateSections(
              o.nr,
              end,
              (r) => r,
              (s, e) => ({ startNr: s, endNr: e, ...attrs }),
            );
            for (let nr = o.nr; nr < end; nr++) model[nr] ??= { ...attrs };
          } else if (o.op === 'online') {
            sparse.setSectionsOnline(o.nr, end, o.online);
            for (let nr = o.nr; nr < end; nr++) {
              const a = model[nr];
              if (a) model[nr] = { ...a, online: o.online };
            }
          } else {
            sparse.removeSections(o.nr, end);
            for (let nr = o.nr; nr < end; nr++) model[nr] = null;
          }
          expect(sparse.runs.map((r) => ({ ...r }))).toEqual(expectedRuns(model));
        }
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });
});
