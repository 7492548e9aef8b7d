// verify --memmap's diff: sections, blocks and struct page runs of the kernel against the model's,
// on views written by hand (the drgn side is exercised by the QEMU suite).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/drivers/run.js';
import { MEMMAP_VIEW_MAX_PFNS, devicePageblocks, memmapView, type MemmapView, type PageDetail, type PageRun } from '../src/kernel/memmap_view.js';
import { InputError } from '../src/errors.js';
import { machineYaml, root } from './helpers.js';
import { diffMemmap, diffPageblocks, formatMemmapDiff } from '../src/verify/memmap.js';
import { verifyJson } from '../src/verify/fields.js';
import { parseReaderOutput } from '../src/verify/drgn_reader.js';
import { READER_DOC } from '../fuzz/entries/memmap-reader.js';
import { printMemmap } from '../src/formats/memmap-print.js';

const ZONES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'];
const FLAGS = new Map([
  [6, 'PG_head'],
  [10, 'PG_reserved'],
]);
const RES: PageDetail = { flags: 1 << 10, refcount: 1, mapcount: -1, link: 'self', head: null, order: null };
const run = (start: number, end: number, state: PageRun['state'], nid: number | null = null, zone: number | null = null, detail: PageDetail | null = null): PageRun => ({
  start,
  end,
  state,
  nid,
  zone,
  detail,
});
const view = (runs: PageRun[], sections: [number, string][] = [[0, 'PMOE']]): MemmapView => ({
  sections: new Map(sections),
  blocks: [{ id: 0, state: 'online', nid: 0, zone: null, nrVmemmapPages: 0 }],
  runs,
  flagNames: FLAGS,
  zoneNames: ZONES,
});

describe('diffMemmap', () => {
  it('names each differing field over the pfn range where it differs, merging runs that differ alike', () => {
    const kernel = view([run(0x0, 0x10, 'init', 0, 1), run(0x10, 0x12, 'init', 0, 5, RES), run(0x12, 0x14, 'init', 0, 5, RES), run(0x14, 0x20, 'init', 1, 1, RES)]);
    const model = view([run(0x0, 0x10, 'init', 0, 1), run(0x10, 0x20, 'init', 1, 1, RES)]);
    const d = diffMemmap(kernel, model);
    expect(d.pfnsCompared).toBe(0x20);
    expect(formatMemmapDiff(d.differences)).toEqual(['memmap pfns 0x10-0x13 node: kernel 0, mmsim 1', 'memmap pfns 0x10-0x13 zone: kernel 5 (no zone), mmsim 1 (DMA32)']);
  });
  it('compares the detail fields only where the model defines them, and skips stale pages', () => {
    const kernel = view([run(0x0, 0x4, 'init', 0, 1, { ...RES, refcount: 0 }), run(0x4, 0x8, 'init', 0, 1, { ...RES, flags: 0 }), run(0x8, 0xa, 'zero'), run(0xa, 0xc, 'init', 0, 1)]);
    // 0x4-0x7: buddy pages in the model (no detail): their flags are not compared.
    const model = view([run(0x0, 0x4, 'init', 0, 1, RES), run(0x4, 0x8, 'init', 0, 1), run(0x8, 0xa, 'init', 0, 4, RES), run(0xa, 0xc, 'stale')]);
    const d = diffMemmap(kernel, model);
    expect(d.pfnsCompared).toBe(0xa);
    expect(formatMemmapDiff(d.differences)).toEqual([
      'memmap pfns 0x0-0x3 refcount: kernel 0, mmsim 1',
      'memmap pfns 0x8-0x9 state: kernel never written (all zero), mmsim initialised',
      'memmap pfns 0x8-0x9 node: kernel -, mmsim 0',
      'memmap pfns 0x8-0x9 zone: kernel -, mmsim 4 (Device)',
      'memmap pfns 0x8-0x9 flags: kernel -, mmsim PG_reserved',
      'memmap pfns 0x8-0x9 refcount: kernel -, mmsim 1',
      'memmap pfns 0x8-0x9 mapcount: kernel -, mmsim -1',
      'memmap pfns 0x8-0x9 compound_head/pgmap: kernel -, mmsim lru self-link',
    ]);
  });
  it('compares compound heads and tails: a tail whose head differs, a head whose order differs', () => {
    const head: PageDetail = { flags: (1 << 10) | (1 << 6), refcount: 1, mapcount: -1, link: 'ptr', head: null, order: 9 };
    const tail: PageDetail = { flags: 1 << 10, refcount: 0, mapcount: -1, link: 'tail', head: 0x200, order: null };
    const kernel = view([run(0x200, 0x201, 'init', 1, 4, head), run(0x201, 0x400, 'init', 1, 4, tail)]);
    const model = view([run(0x200, 0x201, 'init', 1, 4, { ...head, order: 0 }), run(0x201, 0x202, 'init', 1, 4, { ...tail, flags: (1 << 10) | 9 }), run(0x202, 0x400, 'init', 1, 4, tail)]);
    expect(formatMemmapDiff(diffMemmap(kernel, model).differences)).toEqual([
      'memmap pfns 0x200-0x200 compound order: kernel 9, mmsim 0',
      'memmap pfns 0x201-0x201 flags: kernel PG_reserved, mmsim bit0|bit3|PG_reserved',
    ]);
  });
  it('compares section states and memory blocks; pages only one side has are left to the section table', () => {
    const kernel = view([run(0x0, 0x8000, 'init', 0, 1)], [[0, 'PMOE']]);
    const model: MemmapView = { ...view([run(0x8000, 0x10000, 'init', 0, 1)], [[1, 'PMO']]), blocks: [{ id: 0, state: 'offline', nid: 0, zone: null, nrVmemmapPages: 0 }] };
    const d = diffMemmap(kernel, model);
    expect(d.pfnsCompared).toBe(0);
    expect(formatMemmapDiff(d.differences)).toEqual([
      'memmap section 0 state: kernel PMOE, mmsim (none)',
      'memmap section 1 state: kernel (none), mmsim PMO',
      'memmap memory0 state: kernel online, mmsim offline',
    ]);
  });
  it('prints the view a line per run, then sections and blocks', () => {
    expect(printMemmap(view([run(0x0, 0x2, 'init', 0, 1, RES), run(0x2, 0x3, 'zero')]))).toBe(
      'pfns 0x0-0x1: initialised, node 0, zone 1 (DMA32), flags PG_reserved, refcount 1, mapcount -1, compound_head/pgmap lru self-link\n' +
        'pfns 0x2-0x2: never written (all zero)\nsection 0: PMOE\nmemory0: online, node 0, zone NULL, nr_vmemmap_pages 0\n',
    );
  });
});

describe('memmapView on the model', () => {
  const yaml = (size: string): string => `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, size: ${size} }] }\n`;
  it('reads a 2 GiB machine: boot memory node 0, the first pfns below 1 MiB never in a present range', () => {
    const v = memmapView(machineYaml('6.1', yaml('2G'))).view;
    // Sections 0-16 (0x0-0x88000) have a memmap; memory starts at 0x100 (1 MiB).
    expect([...v.sections.keys()]).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect(v.runs.some((r) => r.start <= 0x100 && 0x100 < r.end && r.state === 'init' && r.nid === 0)).toBe(true);
  });
  it('refuses, in one line, a machine with more than 2^22 struct pages (16 GiB) rather than reading them one by one', () => {
    const m = machineYaml('6.1', yaml('17G'));
    expect(() => memmapView(m)).toThrow(InputError);
    expect(() => memmapView(m)).toThrow(/^the memmap view reads every struct page: this machine has \d+ with a memmap, more than 4194304 \(16 GiB of 4 KiB pages\); use a smaller machine$/);
    expect(MEMMAP_VIEW_MAX_PFNS).toBe(4194304);
  });
});

describe('verify --json', () => {
  it('gives kernel, scenario, steps, fields, differences and memmap_pfns_compared; the memmap fields only when a dump was read', () => {
    const steps = [
      { label: 'boot (6.1.0-57-cloud-amd64)', diffs: [] },
      { label: 'step 2 (s.yaml:4:5): memmap (786432 pfns)', diffs: ['memmap pfns 0x10-0x13 node: kernel 0, mmsim 1'] },
    ];
    const j = verifyJson('s.yaml', steps, { pfnsCompared: 786432, dumps: 1 });
    expect(Object.keys(j)).toEqual(['kernel', 'scenario', 'steps', 'fields', 'differences', 'memmap_pfns_compared']);
    expect(j['kernel']).toBe('6.1.0-57-cloud-amd64');
    expect(j['differences']).toBe(1);
    expect(j['memmap_pfns_compared']).toBe(786432);
    expect(j['fields']).toContain('struct page node');
    expect(verifyJson('s.yaml', steps.slice(0, 1), { pfnsCompared: 0, dumps: 0 })['fields']).not.toContain('struct page node');
  });
});

describe("the drgn reader's document (parseReaderOutput)", () => {
  // The shape the Python reader prints (src/verify/drgn_reader.ts, its last print), written by hand (the fuzz entry's seed).
  const doc = READER_DOC;
  it('reads sections, blocks, runs and flag names into the view diffMemmap takes', () => {
    const k = parseReaderOutput(JSON.stringify(doc));
    expect(k.release).toBe('6.1.0-57-cloud-amd64');
    expect(k.view.runs).toEqual([
      run(0, 1, 'zero'),
      run(1, 159, 'init', 0, 0),
      run(159, 160, 'init', 0, 0, { flags: 4096, refcount: 1, mapcount: -1, link: 'self', head: null, order: null }),
      run(0x100000, 0x100001, 'init', 1, 4, { flags: 5120, refcount: 1, mapcount: -1, link: 'ptr', head: null, order: 9 }),
      run(0x100001, 0x100002, 'init', 1, 4, { flags: 4096, refcount: 0, mapcount: -1, link: 'tail', head: 0x100000, order: null }),
      run(0x100002, 0x108000, 'poison'),
    ]);
    expect([...k.view.flagNames]).toEqual([
      [10, 'PG_head'],
      [12, 'PG_reserved'],
    ]);
    expect(k.view.zoneNames).toEqual(['DMA', 'Device']);
    expect(k.view.blocks).toEqual([{ id: 0, state: 'online', nid: 0, zone: 'DMA', nrVmemmapPages: 0 }]);
    expect([...k.view.sections]).toEqual([
      [0, 'PMOE'],
      [32, 'PMD'],
    ]);
    expect(k.seconds).toEqual({ load: 1.5, scan: 0.25 });
    expect(k.view.pageblocks).toEqual([
      { start: 0x100000, end: 0x100200, migratetype: 'MIGRATE_UNMOVABLE' },
      { start: 0x100200, end: 0x108000, migratetype: 'MIGRATE_MOVABLE' },
    ]);
  });
  it('refuses a malformed document in one line naming the first bad field, never a stack trace', () => {
    const bad = (patch: object): string => JSON.stringify({ ...doc, ...patch });
    expect(() => parseReaderOutput('Traceback (most recent call last):', 'KeyError')).toThrow(new InputError('verify --memmap: the memmap reader printed no JSON (KeyError)'));
    expect(() => parseReaderOutput(bad({ runs: [[0, 1, 'maybe']] }))).toThrow(/^verify --memmap: the memmap reader printed an unexpected document: runs\.0: /);
    expect(() => parseReaderOutput(bad({ runs: [[0, 1, 'init', 0, 0, 1, 1, -1, 'sideways', null, null]] }))).toThrow(/: runs\.0: /);
    expect(() => parseReaderOutput(bad({ sections: [[0, 'PX']] }))).toThrow(/: sections\.0\.1: /);
    expect(() => parseReaderOutput(bad({ zones: [{ nid: 0, zone: 'DMA' }] }))).toThrow(/: zones\.0\.start_pfn: /);
    expect(() => parseReaderOutput(bad({ release: 6 }))).toThrow(/: release: /);
    expect(() => parseReaderOutput(bad({ pageblocks: [[0, 512]] }))).toThrow(/: pageblocks\.0: /);
    expect(() => parseReaderOutput('[]')).toThrow(/unexpected document: top level: /);
    for (const s of ['{}', 'null', '1', JSON.stringify({ ...doc, layout: null })]) {
      let msg = '';
      try {
        parseReaderOutput(s);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        msg = (e as Error).message;
      }
      expect(msg).toMatch(/^verify --memmap: [^\n]+$/);
    }
  });
});

describe('pageblock migratetypes', () => {
  it('diffPageblocks compares over the model runs only, merging a stretch that differs alike; a pageblock the kernel lacks is (none)', () => {
    const k = [
      { start: 0, end: 1024, migratetype: 'MIGRATE_MOVABLE' },
      { start: 1024, end: 4096, migratetype: 'MIGRATE_UNMOVABLE' },
    ];
    const m = [
      { start: 512, end: 2048, migratetype: 'MIGRATE_MOVABLE' },
      { start: 2048, end: 3072, migratetype: 'MIGRATE_UNMOVABLE' },
      { start: 4096, end: 4608, migratetype: 'MIGRATE_UNMOVABLE' },
    ];
    expect(diffPageblocks(k, m)).toEqual([
      { what: 'pageblocks 0x400-0x7ff', field: 'migratetype', kernel: 'MIGRATE_UNMOVABLE', mmsim: 'MIGRATE_MOVABLE' },
      { what: 'pageblocks 0x1000-0x11ff', field: 'migratetype', kernel: '(none)', mmsim: 'MIGRATE_UNMOVABLE' },
    ]);
    expect(diffPageblocks(k, [])).toEqual([]);
  });

  it("devicePageblocks: devdax at 1 GiB with --map=mem writes 128 struct pages per compound page (compound_nr_pages with vmemmap deduplication, 6.1), so only each head's pageblock is MOVABLE (every one from 6.1.192); --map=dev writes them all, from the altmap's memmap pfns past the reserve", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-pb-'));
    const at = (map: string, kernel = '6.1'): ReturnType<typeof devicePageblocks> => {
      const f = join(dir, `${map}.scenario.yaml`);
      writeFileSync(f, `machine: ${join(root, 'test/qemu/m-2node-nvdimm2g.yaml')}\nsteps:\n  - ndctl: { args: "create-namespace -f -e namespace0.0 --mode=devdax --map=${map} --align=1G" }\n`);
      const m = runScenario(f, [], kernel, () => undefined);
      // The 2 GiB NVDIMM at 4 GiB (pfn 0x100000): one dev_pagemap over all of it (range.end inclusive), two 1 GiB compound pages.
      expect(m.pgmaps.map((p) => [p.start / 4096, (p.end + 1) / 4096])).toEqual([[0x100000, 0x180000]]);
      return devicePageblocks(m);
    };
    const M = 'MIGRATE_MOVABLE';
    const U = 'MIGRATE_UNMOVABLE';
    // Heads at 0x100000 and 0x140000; pfns head..head+127 written; every other pageblock keeps the zeroed usage.
    expect(at('mem')).toEqual([
      { start: 0x100000, end: 0x100200, migratetype: M },
      { start: 0x100200, end: 0x140000, migratetype: U },
      { start: 0x140000, end: 0x140200, migratetype: M },
      { start: 0x140200, end: 0x180000, migratetype: U },
    ]);
    // The altmap reserve (2 pfns: the info block) holds pfn 0x100000 back, so the first pageblock is never
    // set (memmap_init_range starts at base + reserve, not pageblock aligned); every later one is.
    // 6.1.192 (Debian's linux-source 6.1.192-3, mm/mm_init.c): pageblock_migratetype_init_range marks
    // every pageblock from pfn_first (rounded up) to the end MOVABLE after the loop, deduplicated or not.
    expect(at('mem', '6.1.192')).toEqual([{ start: 0x100000, end: 0x180000, migratetype: M }]);
    expect(at('dev')).toEqual([
      { start: 0x100000, end: 0x100200, migratetype: U },
      { start: 0x100200, end: 0x180000, migratetype: M },
    ]);
  });
});
