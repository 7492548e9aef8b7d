// The real struct page layout through both backends: random machines booted into a dense and
// an extent memmap agree on every pfn (fast-check), and the bytes of an initialised page are
// those worked out by hand in test/page_layout.test.ts's terms.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memmapBoot } from '../src/kernel/memmap_init.js';
import { DenseMemmap } from '../src/memmap/dense.js';
import { ExtentMemmap } from '../src/memmap/extent.js';
import { pageWriterFor } from '../src/kernel/memmap_source.js';
import { bootYaml } from './helpers.js';

const MiB = 2 ** 20;

/** A machine of 1-3 nodes with 1-3 ranges each, in MiB units, ascending and disjoint. */
const machineArb = fc
  .record({
    kernel: fc.constantFrom('5.3', '5.14', '6.1', '6.18'),
    gaps: fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 400 })), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
    reserved: fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 64 })), { maxLength: 3 }),
    deferred: fc.boolean(),
    poison: fc.boolean(),
  })
  .map((m) => {
    let cursor = 1; // MiB
    const nodes = m.gaps.map((ranges, nid) => {
      const mem = ranges.map(([gap, len]) => {
        const start = cursor + gap;
        cursor = start + len;
        return `{ start: ${start * MiB}, end: ${cursor * MiB} }`;
      });
      return `  - { nid: ${nid}, cpus: 1, memory: [${mem.join(', ')}] }`;
    });
    const reserved = m.reserved.map(([s, l]) => `  - { start: ${s * MiB}, size: ${l * MiB} }`);
    const yaml = ['dmaReservePages: 0', `config: { deferredStructPageInit: ${m.deferred} }`, ...(reserved.length ? ['reserved:', ...reserved] : ['reserved: []']), 'nodes:', ...nodes].join('\n');
    return { kernel: m.kernel, yaml, poison: m.poison };
  });

describe('real struct pages through both backends', () => {
  it('dense and extent boots agree on every pfn of every present section (fast-check)', () => {
    fc.assert(
      fc.property(machineArb, fc.integer(), (m, seed) => {
        const state = bootYaml(m.kernel, m.yaml);
        const g = { pagesPerSection: state.sparse.pagesPerSection, writer: pageWriterFor(state), seed };
        const d = new DenseMemmap(g);
        const e = new ExtentMemmap(g);
        memmapBoot(state, d, { poison: m.poison, runDeferred: true });
        memmapBoot(state, e, { poison: m.poison, runDeferred: true });
        const a = new Uint8Array(g.writer.recordBytes);
        const b = new Uint8Array(g.writer.recordBytes);
        for (const sec of state.sparse.sections.values()) {
          const base = sec.sectionNr * state.sparse.pagesPerSection;
          for (let pfn = base; pfn < base + state.sparse.pagesPerSection; pfn++) {
            d.readRecord(pfn, a);
            e.readRecord(pfn, b);
            if (Buffer.compare(a, b) !== 0 || d.stateOf(pfn) !== e.stateOf(pfn)) {
              throw new Error(`pfn 0x${pfn.toString(16)} differs: ${Buffer.from(a).toString('hex')} vs ${Buffer.from(b).toString('hex')}`);
            }
          }
        }
      }),
      { numRuns: 25, seed: 4242 },
    );
  });

  it('an initialised Normal page on node 1 (6.18 defaults) has flags 0x0057ffffc0000000, refcount 1, mapcount -1', () => {
    // zone 2 << 51 | node 1 << 54 | last_cpupid (21 ones) << 30 = 0x10000000000000 +
    // 0x40000000000000 + 0x7ffffc0000000; PG_reserved (bit 13) clear for memory pages.
    const state = bootYaml('6.18', 'nodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }, { nid: 1, memory: [{ start: 4G, end: 6G }] }]\n');
    const w = pageWriterFor(state);
    const e = new ExtentMemmap({ pagesPerSection: state.sparse.pagesPerSection, writer: w, seed: 1 });
    memmapBoot(state, e, { poison: false, runDeferred: true });
    const rec = new Uint8Array(64);
    e.readRecord(0x140000, rec);
    const dv = new DataView(rec.buffer);
    expect(dv.getBigUint64(0, true).toString(16)).toBe('57ffffc0000000');
    expect(dv.getBigUint64(8, true).toString(16)).toBe((0xffffea0000000000n + 0x140000n * 64n + 8n).toString(16));
    expect(dv.getInt32(48, true)).toBe(-1);
    expect(dv.getInt32(52, true)).toBe(1);
  });
});

describe('machine config options reach the struct page layout', () => {
  it('config.nodesShift: 6 moves the node field to bit 58 (6.18 x86_64: 64 - 6)', () => {
    const state = bootYaml('6.18', 'config: { nodesShift: 6 }\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }, { nid: 1, memory: [{ start: 4G, end: 6G }] }]\n');
    const e = new ExtentMemmap({ pagesPerSection: state.sparse.pagesPerSection, writer: pageWriterFor(state), seed: 1 });
    memmapBoot(state, e, { poison: false, runDeferred: true });
    const rec = new Uint8Array(64);
    e.readRecord(0x140000, rec);
    // node 1 << 58 | zone 2 << 55 | last_cpupid (21 ones) << 34.
    expect(new DataView(rec.buffer).getBigUint64(0, true)).toBe((1n << 58n) | (2n << 55n) | (((1n << 21n) - 1n) << 34n));
  });
});
