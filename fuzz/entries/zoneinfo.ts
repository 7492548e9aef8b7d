// /proc/zoneinfo: parseZoneinfo (the verify driver's reader of a real kernel's zoneinfo), then
// print → parse stable: the printed text parses back to the same records, printing is idempotent,
// and a real kernel's file prints back byte for byte. Inputs: mutations of the procfs captures in
// ../shared/data/procfs and of mmsim's own zoneinfo of the example machines, and generated records.
import { isDeepStrictEqual } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { boot, loadMachine } from '../../src/drivers/run.js';
import { parseZoneinfo, printZoneinfo, zoneField, ZoneinfoParseError } from '../../src/formats/zoneinfo.js';
import { printBootZoneinfo } from '../../src/formats/zoneinfo-print.js';
import { zoneinfoSeeds } from '../corpus.js';
import { count } from '../gen.js';
import { defineEntry, OracleFailure } from '../harness.js';
import { textMutations, type TextInput, type TextSeed } from '../mutate.js';

interface ZoneinfoInput extends TextInput {
  /** A real kernel's file, unchanged: it must print back byte for byte. */
  readonly exact: boolean;
}

const generated: fc.Arbitrary<ZoneinfoInput> = fc
  .array(
    fc.record({
      node: count,
      zone: fc.constantFrom('DMA', 'DMA32', 'Normal', 'Movable', 'Device', 'HighMem', ''),
      pad: fc.integer({ min: 0, max: 10 }),
      fields: fc.array(fc.tuple(fc.constantFrom('pages free', 'spanned', 'present', 'managed', 'start_pfn:', 'protection:', 'nr_free_pages', 'x'), count), { maxLength: 6 }),
    }),
    { maxLength: 5 },
  )
  .chain((recs) =>
    fc.boolean().map((nl) => {
      const out: string[] = [];
      for (const r of recs) {
        out.push(`Node ${r.node}, zone${' '.repeat(r.pad + 1)}${r.zone}`);
        for (const [k, v] of r.fields) out.push(`        ${k} ${v}`);
      }
      return { text: out.join('\n') + (nl ? '\n' : ''), origin: 'generated records', exact: false };
    }),
  );

/** mmsim's zoneinfo of the example machines under the three modelled layouts. */
function ownSeeds(root: string): TextSeed[] {
  const out: TextSeed[] = [];
  for (const kernel of ['5.3', '6.1', '6.18']) {
    for (const m of ['qemu-2node.yaml', '2node-movable.yaml']) {
      const state = boot(loadMachine({ machineFile: join(root, 'examples', m), kernel }));
      out.push({ name: `mmsim ${m} ${kernel}`, text: printBootZoneinfo(state) });
    }
  }
  return out;
}

export const zoneinfoEntry = defineEntry<ZoneinfoInput>({
  name: 'zoneinfo',
  summary: 'parseZoneinfo; print → parse → print stable; real files printed back byte for byte',
  accepts: [ZoneinfoParseError],
  async prepare(ctx) {
    const real = zoneinfoSeeds(ctx);
    const seeds = [...real, ...ownSeeds(ctx.root)];
    const exact = fc.constantFrom(...seeds).map((s) => ({ text: s.text, origin: `${s.name} as it is`, exact: true }));
    return Promise.resolve(
      fc.oneof(
        { weight: 1, arbitrary: exact },
        {
          weight: 10,
          arbitrary: textMutations(seeds, ['Node 0, zone   Normal\n', 'Node 99999999999999999999, zone X\n', '        spanned  1\n', '  pages free     0\n', 'Node ']).map((t) => ({
            ...t,
            exact: false,
          })),
        },
        { weight: 3, arbitrary: generated },
      ),
    );
  },
  async run(input) {
    const z = parseZoneinfo(input.text);
    for (const r of z.records) for (const f of ['spanned', 'present', 'managed', 'start_pfn:']) zoneField(r, f);
    const printed = printZoneinfo(z);
    let again;
    try {
      again = parseZoneinfo(printed);
    } catch (e) {
      throw new OracleFailure('zoneinfo print does not parse back', e instanceof Error ? e.message : String(e));
    }
    if (!isDeepStrictEqual(again, z)) throw new OracleFailure('zoneinfo parse → print → parse not stable', 'the records read back differ');
    if (printZoneinfo(again) !== printed) throw new OracleFailure('zoneinfo printing not idempotent', 'print(parse(print(x))) differs from print(x)');
    if (input.exact && printed !== input.text) throw new OracleFailure('a real zoneinfo not printed back byte for byte', input.origin);
    return Promise.resolve();
  },
  save(input, base) {
    const file = `${base}.zoneinfo`;
    writeFileSync(file, input.text);
    return { files: [file], command: `(no CLI command reads zoneinfo; node: parseZoneinfo(readFileSync('${file}', 'utf8')))` };
  },
  size: (input) => input.text.length,
  describe: (input) => input.origin,
});
