// Design files: a user design (an ES module exporting a design object; generated objects, not
// arbitrary code) loaded as `mmsim explore --design FILE` loads it, explored in random mode over a
// built-in scenario and diffed against v5.3 (`mmsim designs --diff`). A design naming a feature
// mmsim does not have, or a feature value of the wrong type, must be refused. Step bodies come
// from a fixed menu: the kernel's own step, nothing, throws, bad yields, helpers misused.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { designsCommand, exploreCommand } from '../../src/cli/explore.js';
import { ExpectFailed } from '../../src/drivers/run.js';
import { BUILTIN_SCENARIOS, DEBUG_CONFIGS } from '../../src/designs/builtin_scenarios.js';
import { DESIGNS, loadDesignFile } from '../../src/designs/designs.js';
import { STEP_DOCS } from '../../src/kernel/steps.js';
import { profileForOption } from '../../src/profiles/profile.js';
import { defineEntry, OracleFailure } from '../harness.js';
import { rarely } from '../gen.js';

interface DesignInput {
  readonly module: string;
  readonly origin: string;
  /** Why loading must refuse it (an unknown feature, a value of the wrong type), or null. */
  readonly mustRefuse: string | null;
  readonly scenario: string;
  readonly config: string;
}

/** Step bodies: (api, ...args) as `mmsim designs` documents them. */
const STEP_BODIES: readonly string[] = [
  'function* (api, ...a) { yield* api.base(...a); }',
  'function* (api, ...a) { return yield* api.base(...a); }',
  'function* () {}',
  'function* () { throw new Error("the design\'s own bug"); }',
  'function* () { throw new Error("two\\nlines"); }',
  'function* () { throw "a string"; }',
  'function* () { throw null; }',
  'function* () { yield { op: "bogus" }; }',
  'function* () { yield 42; }',
  'function* () { yield null; }',
  'function* (api, m) { yield { op: "up_write", lock: m.memHotplugLock }; yield { op: "up_write", lock: m.memHotplugLock }; }',
  'function* (api, ...a) { yield* api.base(...a); yield* api.base(...a); }',
  'function* (api) { yield* api.initDeviceRange(null, null, 0, 1, null, 0); }',
  'function () { return 1; }',
  'function () { return null; }',
  '() => undefined',
  'async function* () {}',
];

interface FeatureInfo {
  readonly key: string;
  readonly type: string;
  readonly values: readonly unknown[];
}

/** The kernel features and the values the built-in profiles give them. */
function featureInfo(): FeatureInfo[] {
  const profiles = ['4.19', '5.3', '6.1', '6.18'].map((k) => profileForOption(k).features as unknown as Record<string, unknown>);
  const first = profiles[0] ?? {};
  return Object.keys(first).map((key) => {
    const values = [...new Map(profiles.map((p) => [JSON.stringify(p[key]), p[key]])).values()];
    return { key, type: typeOf(first[key]), values };
  });
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const WRONG_VALUES: readonly unknown[] = ['bogus', '', 1, -1, 1e308, true, false, null, [], {}, { x: 1 }];

function designArbitrary(): fc.Arbitrary<DesignInput> {
  const features = featureInfo();
  const names = DESIGNS.map((d) => d.name);
  const featureEntry: fc.Arbitrary<{ key: string; value: unknown; bad: string | null }> = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...features).chain((f) => fc.constantFrom(...f.values).map((value) => ({ key: f.key, value, bad: null }))) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...features), fc.constantFrom(...WRONG_VALUES))
        .map(([f, value]) => ({ key: f.key, value, bad: typeOf(value) !== f.type ? `feature ${f.key} given a ${typeOf(value)} (a ${f.type} expected)` : null })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('bogusFeature', 'shrinkAtOffLine', '__proto__', 'constructor', 'toString', ''), fc.constantFrom(...WRONG_VALUES, true))
        .map(([key, value]) => ({ key, value, bad: `unknown feature ${JSON.stringify(key)}` })),
    },
  );
  return fc
    .record({
      name: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('fz-design', 'my.design+1') }, { weight: 2, arbitrary: fc.constantFrom('', 'a b', 'x\ny', '../x', 'v5.3', 'current', 42, null) }),
      base: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...names, '6.1', '5.3', '4.19', '6.18') },
        { weight: 2, arbitrary: fc.constantFrom('bogus', '', 'fz-design', '99.1', '1e308', 5.3, null, ['v5.3']) },
      ),
      summary: fc.option(fc.constantFrom('a design', 'two\nlines', 7), { freq: 3 }),
      features: fc.option(fc.array(featureEntry, { maxLength: 4 }), { freq: 3 }),
      featuresAs: rarely(fc.constantFrom('"all"', '42', 'null', '[1, 2]'), 0.08),
      steps: fc.option(
        fc.array(
          fc.tuple(
            fc.constantFrom(...Object.keys(STEP_DOCS), 'bogus_step'),
            fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...STEP_BODIES) }, { weight: 1, arbitrary: fc.constantFrom('42', '"x"', 'null', '{}') }),
          ),
          {
            maxLength: 2,
          },
        ),
        { freq: 3 },
      ),
      stepsAs: rarely(fc.constantFrom('"x"', '42', '[function* () {}]'), 0.08),
      noDefault: rarely(fc.constantFrom('export const design = {}', 'export default 42', 'export default null', 'export default "v5.3"'), 0.05),
      scenario: fc.constantFrom(...BUILTIN_SCENARIOS),
      config: fc.constantFrom(...DEBUG_CONFIGS),
    })
    .map((g) => {
      const f = g.features ?? [];
      // Own keys even for "__proto__" (as JSON.parse in the module makes them); a later entry of
      // a key replaces an earlier one, its verdict too.
      const obj: Record<string, unknown> = {};
      const last = new Map<string, string | null>();
      for (const e of f) {
        Object.defineProperty(obj, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
        last.set(e.key, e.bad);
      }
      const bad = [...last.values()].find((b) => b !== null) ?? null;
      const lines = ['export default {', `  name: ${JSON.stringify(g.name)},`, `  base: ${JSON.stringify(g.base)},`];
      if (g.summary !== null) lines.push(`  summary: ${JSON.stringify(g.summary)},`);
      if (g.featuresAs !== null) lines.push(`  features: ${g.featuresAs},`);
      else if (g.features !== null) lines.push(`  features: JSON.parse(${JSON.stringify(JSON.stringify(obj))}),`);
      if (g.stepsAs !== null) lines.push(`  steps: ${g.stepsAs},`);
      else if (g.steps !== null) lines.push('  steps: {', ...g.steps.map(([k, body]) => `    ${JSON.stringify(k)}: ${body},`), '  },');
      lines.push('};');
      const module = g.noDefault ?? lines.join('\n');
      const mustRefuse = g.noDefault === null && g.featuresAs === null ? bad : null;
      return { module: module + '\n', origin: `design on ${String(g.base)}${mustRefuse ? ` (${mustRefuse})` : ''}`, mustRefuse, scenario: g.scenario, config: g.config };
    });
}

let counter = 0;

export const designEntry = defineEntry<DesignInput>({
  name: 'design',
  summary: 'mmsim explore SCENARIO --design FILE --runs 2 and mmsim designs --diff FILE v5.3, FILE a generated design module',
  accepts: [ExpectFailed],
  async prepare() {
    return Promise.resolve(designArbitrary());
  },
  async run(input, ctx) {
    const file = join(ctx.tmp, `d${process.pid}-${counter++}.mjs`);
    writeFileSync(file, input.module);
    try {
      await loadDesignFile(file);
      if (input.mustRefuse)
        throw new OracleFailure(`a design file accepted with ${input.mustRefuse.startsWith('unknown') ? 'an unknown feature' : 'a feature value of the wrong type'}`, input.mustRefuse);
      await designsCommand([file, 'v5.3'], () => {});
      await exploreCommand(input.scenario, { design: file, runs: '2', seed: '1', reduce: 'dpor', config: input.config, json: true }, () => {});
    } finally {
      rmSync(file, { force: true });
    }
  },
  save(input, base) {
    const file = `${base}.mjs`;
    writeFileSync(file, input.module);
    return { files: [file], command: `mmsim designs --diff ${file} v5.3; mmsim explore ${input.scenario} --design ${file} --runs 2 --config ${input.config} --json` };
  },
  size: (input) => input.module.length,
  describe: (input) => input.origin,
});
