// The lab's JSON API (src/lab/api.ts), called in-process as the server calls it for each route:
// /api/config, /api/trace?scenario&design, /api/timeline?preset&designs, /api/example?name and
// POST /api/scenario?name (the body written to a fresh temporary directory, as the server does).
// The result must serialise, and an error it carries must be one line. Requests that are valid
// but long by nature (exhaustive traces of seed-2019 and seed-2019-subsection, 10-25 s; timelines
// of seed-2019, duyck-2018 and martins-2022-devdax, 4-12 s a design, on the loaded 2-core machine)
// are left out here: bounding them is the server's per-request limit (issue 20, part B).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExpectFailed } from '../../src/drivers/run.js';
import { DESIGNS } from '../../src/designs/designs.js';
import { PRESETS } from '../../src/drivers/presets.js';
import { labExamples, labScenario, labTimeline, labTrace } from '../../src/lab/api.js';
import { uploadName } from '../../src/lab/server.js';
import { scenarioSeeds } from '../corpus.js';
import { defineEntry, OracleFailure } from '../harness.js';
import { textMutations, type TextSeed } from '../mutate.js';
import { withHostile, YAML_TOKENS } from '../yaml-gen.js';

type LabInput =
  | { readonly call: 'config' }
  | { readonly call: 'trace'; readonly scenario: string; readonly design: string }
  | { readonly call: 'timeline'; readonly preset: string; readonly designs: string }
  | { readonly call: 'example'; readonly name: string }
  | { readonly call: 'scenario'; readonly name: string; readonly body: string; readonly origin: string };

/** Bodies for POST /api/scenario: example scenarios as they are, mutated, hostile, with their relative machine path, hand-written. */
export function scenarioBody(seeds: readonly TextSeed[]): fc.Arbitrary<{ text: string; origin: string }> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...seeds).map((s) => ({ text: s.text, origin: `${s.name} as it is` })) },
    { weight: 6, arbitrary: textMutations(seeds, YAML_TOKENS) },
    { weight: 2, arbitrary: withHostile(seeds, ['steps', 'machine']) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...seeds)
        .map((s) => ({ text: s.text.replace(/^machine: .*$/m, 'machine: qemu-2node.yaml'), origin: `${s.name} with its machine path relative, as the example has it` })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('machine: /etc/passwd\nsteps: [{ print: zoneinfo }]\n', 'machine: /\nsteps: [{ print: zoneinfo }]\n', '', '\0').map((text) => ({ text, origin: 'hand-written' })),
    },
  );
}

export const HEAVY_PRESETS = ['seed-2019', 'duyck-2018', 'martins-2022-devdax'];
export const JUNK = ['', 'bogus', '..', '../../etc/passwd', '%00', 'a\nb', '\u001b[31m', 'x'.repeat(10_000), 'constructor', '__proto__', 'seed-2019 ', 'V5.3'];

function describeInput(x: LabInput): string {
  const q = (s: string): string => encodeURIComponent(s.length > 40 ? `${s.slice(0, 40)}…` : s);
  if (x.call === 'config') return 'GET /api/config';
  if (x.call === 'trace') return `GET /api/trace?scenario=${q(x.scenario)}&design=${q(x.design)}`;
  if (x.call === 'timeline') return `GET /api/timeline?preset=${q(x.preset)}&designs=${q(x.designs)}`;
  if (x.call === 'example') return `GET /api/example?name=${q(x.name)}`;
  return `POST /api/scenario?name=${q(x.name)} (${x.origin})`;
}

export const labEntry = defineEntry<LabInput>({
  name: 'lab',
  summary: 'the lab API handlers (src/lab/api.ts) in-process: config, trace, timeline, example, posted scenarios',
  accepts: [ExpectFailed],
  async prepare(ctx) {
    const seeds = scenarioSeeds(ctx);
    const designs = DESIGNS.map((d) => d.name);
    const light = PRESETS.map((p) => p.name).filter((p) => !HEAVY_PRESETS.includes(p));
    const junk = fc.oneof(fc.constantFrom(...JUNK), fc.string({ maxLength: 8 }));
    const examples = labExamples(ctx.root);
    const body = scenarioBody(seeds);
    return Promise.resolve(
      fc.oneof(
        { weight: 1, arbitrary: fc.constant({ call: 'config' as const }) },
        {
          weight: 4,
          arbitrary: fc.oneof(
            fc.record({ call: fc.constant('trace' as const), scenario: fc.constant('seed-2019-hotplug'), design: fc.oneof(fc.constantFrom(...designs), junk) }),
            fc.record({ call: fc.constant('trace' as const), scenario: fc.oneof(fc.constantFrom('seed-2019', 'seed-2019-subsection', 'seed-2019-hotplug'), junk), design: junk }),
          ),
        },
        {
          weight: 3,
          arbitrary: fc.oneof(
            fc.record({
              call: fc.constant('timeline' as const),
              preset: fc.constantFrom(...light),
              designs: fc.array(fc.oneof(fc.constantFrom(...designs), junk), { minLength: 1, maxLength: 3 }).map((d) => d.join(',')),
            }),
            fc.record({ call: fc.constant('timeline' as const), preset: fc.oneof(fc.constantFrom(...HEAVY_PRESETS), junk), designs: junk.map((j) => `${j === 'v5.3' ? 'x' : j},v5.3`) }),
          ),
        },
        { weight: 2, arbitrary: fc.record({ call: fc.constant('example' as const), name: fc.oneof(fc.constantFrom(...examples), junk) }) },
        {
          weight: 6,
          arbitrary: fc
            .record({ call: fc.constant('scenario' as const), name: fc.oneof(fc.constant('scenario.yaml'), junk), b: body })
            .map(({ call, name, b }) => ({ call, name, body: b.text, origin: b.origin })),
        },
      ),
    );
  },
  async run(input, ctx) {
    let result: unknown;
    if (input.call === 'config') result = { examples: labExamples(ctx.root) };
    else if (input.call === 'trace') result = labTrace(input.scenario, input.design);
    else if (input.call === 'timeline') result = labTimeline(input.preset, input.designs.split(','));
    else if (input.call === 'example') result = labExamples(ctx.root).includes(input.name) ? labScenario(join(ctx.root, 'examples', input.name)) : null;
    else {
      // As the server does: the body written beside nothing, under a fresh temporary directory, named by its uploadName.
      const name = uploadName(input.name);
      const dir = mkdtempSync(join(ctx.tmp, 'lab-'));
      try {
        const file = join(dir, name);
        writeFileSync(file, input.body);
        result = labScenario(file);
      } catch (e) {
        if (e instanceof Error && /^E[A-Z]+:/.test(e.message)) throw new OracleFailure(`a posted scenario's name breaks the upload: ${e.message.split(':')[0]}`, e.message);
        throw e;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const error = result !== null && typeof result === 'object' && 'error' in result ? result.error : null;
    if (typeof error === 'string' && /[\n\r]/.test(error)) throw new OracleFailure('an error answered on more than one line', error);
    JSON.stringify(result);
    return Promise.resolve();
  },
  save(input, base) {
    const file = `${base}.txt`;
    if (input.call === 'scenario') {
      writeFileSync(`${base}.scenario.yaml`, input.body);
      writeFileSync(file, `${describeInput(input)}\nbody: ${base}.scenario.yaml\n`);
      return {
        files: [file, `${base}.scenario.yaml`],
        command: `mmsim serve, then: curl -X POST --data-binary @${base}.scenario.yaml 'http://127.0.0.1:PORT/api/scenario?name=${encodeURIComponent(input.name)}'`,
      };
    }
    writeFileSync(file, `${describeInput(input)}\n`);
    return { files: [file], command: `mmsim serve, then: curl 'http://127.0.0.1:PORT${describeInput(input).replace(/^GET /, '')}'` };
  },
  size: (input) => JSON.stringify(input).length,
  describe: describeInput,
});
