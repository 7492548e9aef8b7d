// Replay files: the JSON `mmsim explore --json` writes, read back by `mmsim explore --replay FILE
// [--invariant NAME]` (replayCommand). Seeds are made at start-up by explore itself (random and
// exhaustive searches of the built-in scenarios, a scenario file and a design file); inputs are
// structural edits (a value anywhere replaced by null, a string, an extreme number, a huge or
// deeply nested array; keys dropped or added), text mutations, and whole files that are not objects.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { exploreCommand, replayCommand } from '../../src/cli/explore.js';
import { ExpectFailed } from '../../src/drivers/run.js';
import { defineEntry, type FuzzContext } from '../harness.js';
import { textMutations, type TextSeed } from '../mutate.js';
import { rarely } from '../gen.js';

interface ReplayInput {
  readonly text: string;
  readonly invariant: string | undefined;
  readonly origin: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** explore --json outputs with violations, made now (each search takes well under a second). */
async function seeds(ctx: FuzzContext): Promise<TextSeed[]> {
  const ex = (f: string): string => join(ctx.root, 'examples', f);
  const searches: { scenario: string; design: string; runs?: string }[] = [
    { scenario: 'seed-2019-hotplug', design: 'v5.3' },
    { scenario: 'seed-2019', design: 'v5.3', runs: '30' },
    { scenario: 'seed-2019-subsection', design: 'v5.3', runs: '30' },
    { scenario: 'seed-2019', design: ex('designs/dont-shrink-zone-device.mjs'), runs: '30' },
    { scenario: ex('concurrent-online-remove.scenario.yaml'), design: 'v5.3', runs: '30' },
  ];
  const out: TextSeed[] = [];
  for (const s of searches) {
    let text = '';
    try {
      await exploreCommand(s.scenario, { design: s.design, reduce: 'dpor', config: 'debug_vm', json: true, ...(s.runs ? { runs: s.runs, seed: '1' } : {}) }, (x) => (text += x));
    } catch (e) {
      if (!(e instanceof ExpectFailed)) throw e;
    }
    if (/"verdict": "violation"/.test(text)) out.push({ name: `explore ${s.scenario.replace(/.*\//, '')} --design ${s.design.replace(/.*\//, '')}`, text });
  }
  return out;
}

const REPLACEMENTS: readonly Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 32,
  2 ** 53,
  1e308,
  '',
  'x',
  'seed-2019',
  'seed-2019-hotplug',
  'v5.3',
  'current',
  'bogus',
  'examples/',
  'examples/designs/nope.mjs',
  'nope.scenario.yaml',
  'debug_vm_pgflags',
  'two\nlines',
  '\u001b[31m',
  [],
  {},
  ['v5.3'],
  [0, 1, 2, 3, 0, 1, 2, 3],
  [-1],
  [1e308],
  [99],
  ['0'],
];

/** Every path into a JSON value. */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (at.length >= 12) return out;
  if (Array.isArray(v)) v.slice(0, 40).forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(v: Json, path: readonly (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const [head, ...rest] = path;
  if (Array.isArray(v)) {
    const c = [...v];
    if (value === undefined && rest.length === 0) c.splice(head as number, 1);
    else c[head as number] = setAt(c[head as number] ?? null, rest, value);
    return c;
  }
  if (v !== null && typeof v === 'object') {
    const c: { [k: string]: Json } = { ...v };
    if (value === undefined && rest.length === 0) delete c[head as string];
    else c[head as string] = setAt(c[head as string] ?? null, rest, value);
    return c;
  }
  return v;
}

type Edit =
  | { readonly which: number; readonly k: 'set'; readonly v: Json }
  | { readonly which: number; readonly k: 'drop' }
  | { readonly which: number; readonly k: 'huge'; readonly n: number }
  | { readonly which: number; readonly k: 'deep'; readonly n: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ which: fc.noBias(fc.nat(100_000)), k: fc.constant('set' as const), v: fc.constantFrom(...REPLACEMENTS) }) },
  { weight: 2, arbitrary: fc.record({ which: fc.noBias(fc.nat(100_000)), k: fc.constant('drop' as const) }) },
  { weight: 1, arbitrary: fc.record({ which: fc.noBias(fc.nat(100_000)), k: fc.constant('huge' as const), n: fc.constantFrom(1000, 100_000, 1_000_000) }) },
  { weight: 1, arbitrary: fc.record({ which: fc.noBias(fc.nat(100_000)), k: fc.constant('deep' as const), n: fc.constantFrom(100, 10_000) }) },
);

function structural(seedList: readonly TextSeed[]): fc.Arbitrary<{ text: string; origin: string }> {
  return fc.tuple(fc.nat(seedList.length - 1), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([si, edits]) => {
    const s = seedList[si] as TextSeed;
    let v = JSON.parse(s.text) as Json;
    const done: string[] = [];
    for (const e of edits) {
      const ps = paths(v);
      const p = ps[e.which % ps.length] ?? [];
      const name = p.join('.') || '(the file)';
      if (e.k === 'set') v = setAt(v, p, e.v);
      else if (e.k === 'drop') v = setAt(v, p, undefined);
      else if (e.k === 'huge') v = setAt(v, p, new Array<number>(e.n).fill(0));
      else {
        let deep: Json = [];
        for (let i = 0; i < e.n; i++) deep = [deep];
        v = setAt(v, p, deep);
      }
      done.push(e.k === 'set' ? `${name} = ${JSON.stringify(e.v)}` : e.k === 'drop' ? `${name} removed` : `${name} = ${e.k} ${e.n}`);
    }
    let text: string;
    try {
      text = JSON.stringify(v, null, 2);
    } catch {
      text = 'null'; // nesting too deep for JSON.stringify itself
    }
    return { text, origin: `${s.name}: ${done.join('; ')}` };
  });
}

const WHOLE: readonly string[] = [
  'null',
  '[]',
  '"x"',
  '{}',
  '',
  '0',
  'true',
  '{"violations": null}',
  '{"scenario": "seed-2019", "design": "v5.3", "violations": [{}]}',
  `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  '{"a":1}{"b":2}',
  '\ufeff{}',
];

let counter = 0;

export const replayEntry = defineEntry<ReplayInput>({
  name: 'replay',
  summary: 'mmsim explore --replay FILE [--invariant NAME], FILE an edited explore --json output',
  accepts: [ExpectFailed],
  async prepare(ctx) {
    const s = await seeds(ctx);
    const invariants = [...new Set(s.flatMap((x) => [...x.text.matchAll(/"invariant": ("[^"]*")/g)].map((m) => JSON.parse(m[1] ?? '""') as string)))];
    const invariant = rarely(fc.constantFrom(...invariants, 'bogus', ''), 0.25).map((x) => x ?? undefined);
    const parts: { weight: number; arbitrary: fc.Arbitrary<{ text: string; origin: string }> }[] = [
      { weight: 1, arbitrary: fc.constantFrom(...WHOLE).map((text) => ({ text, origin: 'not explore output' })) },
    ];
    if (s.length) {
      parts.push({ weight: 1, arbitrary: fc.constantFrom(...s).map((x) => ({ text: x.text, origin: `${x.name} as it is` })) });
      parts.push({ weight: 8, arbitrary: structural(s) });
      parts.push({ weight: 3, arbitrary: textMutations(s) });
    }
    return fc.tuple(fc.oneof(...parts), invariant).map(([t, inv]) => ({ ...t, invariant: inv }));
  },
  async run(input, ctx) {
    const file = join(ctx.tmp, `r${process.pid}-${counter++}.json`);
    writeFileSync(file, input.text);
    try {
      await replayCommand(file, input.invariant, () => {});
    } finally {
      rmSync(file, { force: true });
    }
  },
  save(input, base) {
    const file = `${base}.json`;
    writeFileSync(file, input.text);
    return { files: [file], command: `mmsim explore --replay ${file}${input.invariant !== undefined ? ` --invariant ${JSON.stringify(input.invariant)}` : ''}` };
  },
  size: (input) => input.text.length,
  describe: (input) => `${input.origin}${input.invariant !== undefined ? ` (--invariant ${JSON.stringify(input.invariant)})` : ''}`,
});
