// verify --memmap's reader document: the JSON the Python drgn reader prints (a real kernel's
// zones, sections, blocks, struct page runs and pageblocks), parsed by parseReaderOutput. Any
// text must give a view or one line naming the first bad field; a parsed view's runs and
// pageblocks are the document's, in order. Inputs: mutations of a hand-written document of the
// reader's shape and generated documents with wrong types, missing keys and odd runs.
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { InputError } from '../../src/errors.js';
import { parseReaderOutput } from '../../src/verify/drgn_reader.js';
import { defineEntry, OracleFailure } from '../harness.js';
import { textMutations, type TextInput } from '../mutate.js';

/** A document of the reader's shape, written by hand (also test/verify_memmap.test.ts's sample). */
export const READER_DOC = {
  release: '6.1.0-57-cloud-amd64',
  struct_page_bytes: 64,
  vmemmap_base: '0xffffea0000000000',
  layout: {
    nodes_pgoff: 54,
    nodes_shift: 6,
    zones_pgoff: 51,
    zones_shift: 3,
    nr_pageflags: 23,
    flag_names: { '10': 'PG_head', '12': 'PG_reserved' },
    offsets: { refcount: 52, mapcount: 48, link: 8 },
  },
  zones: [
    { nid: 0, zone: 'DMA', start_pfn: 1, spanned: 4095, present: 3998, managed: 3840 },
    { nid: 1, zone: 'Device', start_pfn: 0, spanned: 0, present: 0, managed: 0 },
  ],
  sections: [
    [0, 'PMOE'],
    [32, 'PMD'],
  ],
  blocks: [{ id: 0, start_section: 0, state: 'online', nid: 0, zone: 'DMA', nr_vmemmap_pages: 0 }],
  runs: [
    [0, 1, 'zero'],
    [1, 159, 'init', 0, 0],
    [159, 160, 'init', 0, 0, 4096, 1, -1, 'self', null, null],
    [1048576, 1048577, 'init', 1, 4, 5120, 1, -1, 'ptr', null, 9],
    [1048577, 1048578, 'init', 1, 4, 4096, 0, -1, 'tail', 1048576, null],
    [1048578, 1081344, 'poison'],
  ],
  pageblocks: [
    [1048576, 1049088, 'MIGRATE_UNMOVABLE'],
    [1049088, 1081344, 'MIGRATE_MOVABLE'],
  ],
  seconds: { load: 1.5, scan: 0.25 },
};
const SEED_DOC = JSON.stringify(READER_DOC);

const value = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -2, max: 2 ** 53 }),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(0).map(() => []),
  fc.constant(0).map(() => ({})),
);
const generated: fc.Arbitrary<TextInput> = fc
  .record({
    drop: fc.subarray(['release', 'layout', 'zones', 'sections', 'blocks', 'runs', 'pageblocks', 'seconds']),
    set: fc.array(fc.tuple(fc.constantFrom('release', 'layout', 'zones', 'sections', 'blocks', 'runs', 'pageblocks', 'seconds'), value), { maxLength: 2 }),
    run: fc.array(value, { maxLength: 12 }),
  })
  .map(({ drop, set, run }) => {
    const doc = JSON.parse(SEED_DOC) as Record<string, unknown>;
    for (const k of drop) delete doc[k];
    for (const [k, v] of set) doc[k] = v;
    if (Array.isArray(doc['runs'])) (doc['runs'] as unknown[]).push(run);
    return { text: JSON.stringify(doc), origin: `generated: drop ${drop.join(',') || '-'}, set ${set.map(([k]) => k).join(',') || '-'}, a run of ${run.length}` };
  });

export const memmapReaderEntry = defineEntry<TextInput>({
  name: 'memmap-reader',
  summary: "parseReaderOutput (verify --memmap's drgn document): a view or one line; the view keeps the document's runs and pageblocks",
  accepts: [InputError],
  prepare() {
    return Promise.resolve(
      fc.oneof(
        { weight: 1, arbitrary: fc.constant({ text: SEED_DOC, origin: 'the reader document as written' }) },
        { weight: 6, arbitrary: textMutations([{ name: 'reader document', text: SEED_DOC }], ['null', '-1', '"init"', '"tail"', '[0, 1, "zero"]', '{}', '1e309', '"PMX"']) },
        { weight: 4, arbitrary: generated },
      ),
    );
  },
  run(input) {
    const k = parseReaderOutput(input.text);
    const doc = JSON.parse(input.text) as { runs: unknown[][]; pageblocks: unknown[][] };
    if (k.view.runs.length !== doc.runs.length) throw new OracleFailure('reader runs lost or added', `${doc.runs.length} in the document, ${k.view.runs.length} in the view`);
    k.view.runs.forEach((r, i) => {
      const d = doc.runs[i] ?? [];
      if (r.start !== d[0] || r.end !== d[1] || r.state !== d[2]) throw new OracleFailure('a reader run changed', `run ${i}`);
    });
    if ((k.view.pageblocks ?? []).length !== doc.pageblocks.length) throw new OracleFailure('reader pageblocks lost or added', `${doc.pageblocks.length} in the document`);
    return Promise.resolve();
  },
  save(input, base) {
    const file = `${base}.json`;
    writeFileSync(file, input.text);
    return { files: [file], command: `(no CLI command reads it alone; node: parseReaderOutput(readFileSync('${file}', 'utf8')))` };
  },
  size: (input) => input.text.length,
  describe: (input) => input.origin,
});
