// YAML that parsers trip on, as text: alias bombs and unresolved aliases, deep nesting (flow and
// block), very long single lines, collection keys, newlines and control characters in keys and
// strings, tags, merge keys and several documents; spliced into a valid file.
import fc from 'fast-check';
import { EXTREME_INTEGERS, EXTREME_WORDS, textMutations, unchanged, type TextInput, type TextSeed } from './mutate.js';

/** A YAML scalar for a number or address: hex, decimal, memparse suffixes, YAML's special floats, extremes. */
export const yamlNumber: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt(0n, 64n).map((v) => String(v)) },
  { weight: 4, arbitrary: fc.tuple(fc.bigInt(0n, 4096n), fc.constantFrom(12n, 21n, 27n, 30n)).map(([n, s]) => `0x${(n << s).toString(16)}`) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 4096 }), fc.constantFrom('K', 'M', 'G', 'T', 'P', 'E')).map(([n, u]) => `${n}${u}`) },
  { weight: 3, arbitrary: fc.constantFrom(...EXTREME_INTEGERS).chain((v) => fc.constantFrom(String(v), `0x${v.toString(16)}`, `"0x${v.toString(16)}"`)) },
  { weight: 1, arbitrary: fc.constantFrom(...EXTREME_WORDS, '.inf', '-.inf', '.nan', '~', 'null', 'true', '0o17', '0b101', '1_000', '"64G"', '"0x"', '"-1"', '[]', '{}', '"\\n"') },
);

/** `depth` levels of aliases, each referring `fan` times to the one before (billion laughs). */
export function aliasBomb(depth: number, fan: number): string {
  const lines = [`a0: &a0 [${new Array<string>(fan).fill('"lol"').join(', ')}]`];
  for (let i = 1; i < depth; i++) lines.push(`a${i}: &a${i} [${new Array<string>(fan).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

/** Hostile fragments and where they go (replacing a top-level key's value or prepended). */
export const hostileFragment: fc.Arbitrary<{ readonly text: string; readonly what: string }> = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })).map(([d, f]) => ({ text: aliasBomb(d, f), what: `alias bomb ${d}x${f}` })),
  fc.constantFrom({ text: 'x: *nope\n', what: 'unresolved alias' }, { text: 'x: &a [*a]\n', what: 'self alias' }),
  fc.constantFrom(10, 100, 1000, 3000, 10000).map((d) => ({ text: `x: ${'['.repeat(d)}${']'.repeat(d)}\n`, what: `flow nesting ${d}` })),
  fc.constantFrom(10, 100, 1000, 3000).map((d) => ({ text: `x: ${'{a: '.repeat(d)}1${'}'.repeat(d)}\n`, what: `flow map nesting ${d}` })),
  fc.constantFrom(10, 100, 500, 2000).map((d) => ({ text: `x:\n${Array.from({ length: d }, (_, i) => `${' '.repeat(i)}- `).join('\n')}1\n`, what: `block nesting ${d}` })),
  fc.constantFrom(1024, 8192, 65536).map((n) => ({ text: `x: [${new Array<string>(n / 8).fill('{a: 1}').join(', ')}]\n`, what: `one line of ${n} bytes` })),
  fc.constantFrom(8192, 1 << 20).map((n) => ({ text: `name: "${'x'.repeat(n)}"\n`, what: `a string of ${n}` })),
  fc.constantFrom(
    { text: '? [a, b]\n: 1\n', what: 'collection key' },
    { text: '{[1, 2]: 3}: 4\n', what: 'flow collection key' },
    { text: '? {a: 1}\n: 2\n', what: 'map key' },
    { text: '"bad\\nkey": 1\n', what: 'newline in a key' },
    { text: '"bad\\u001b[31mkey": 1\n', what: 'escape in a key' },
    { text: 'name: "a\\nb\\rc\\u0000"\n', what: 'control characters in a string' },
    { text: 'x: !!binary AAAA\n', what: 'binary tag' },
    { text: 'x: !!set {a, b}\n', what: 'set tag' },
    { text: 'x: !!omap [a: 1]\n', what: 'omap tag' },
    { text: 'x: !custom 1\n', what: 'unknown tag' },
    { text: 'x: !!float 1e308\n', what: 'float tag' },
    { text: 'x: !!timestamp 2001-12-14\n', what: 'timestamp' },
    { text: 'b: &b { nid: 0 }\nx: { <<: *b }\n', what: 'merge key' },
    { text: '---\nx: 1\n---\ny: 2\n', what: 'two documents' },
    { text: '%YAML 1.1\n---\n', what: 'YAML 1.1 directive' },
    { text: '%TAG ! tag:x,2000:\n---\n', what: 'TAG directive' },
    { text: 'x: 1\nx: 2\n', what: 'duplicate key' },
    { text: '__proto__: { polluted: 1 }\n', what: '__proto__ key' },
    { text: 'constructor: 1\n', what: 'constructor key' },
    { text: '\t x: 1\n', what: 'tab indentation' },
    { text: '\ufeffx: 1\n', what: 'BOM' },
  ),
);

/** A valid file with a hostile fragment: the fragment's key renamed to one the file has, or added. */
export function withHostile(seeds: readonly { name: string; text: string }[], keys: readonly string[]): fc.Arbitrary<TextInput> {
  return fc.record({ seed: fc.nat(seeds.length - 1), frag: hostileFragment, key: fc.option(fc.constantFrom(...keys)), front: fc.boolean() }).map(({ seed, frag, key, front }) => {
    const s = seeds[seed] ?? { name: '?', text: '' };
    let fragment = frag.text;
    let text: string;
    if (key !== null && /^x: /m.test(fragment)) {
      fragment = fragment.replace(/^x: /m, `${key}: `);
      // The key's own value is replaced: drop its line (and an indented block under it).
      const re = new RegExp(`^${key}:.*\\n(?:[ -].*\\n)*`, 'm');
      text = re.test(s.text) ? s.text.replace(re, fragment) : s.text + fragment;
    } else text = front ? fragment + s.text : s.text + fragment;
    return { text, origin: `${s.name}: ${frag.what}${key !== null ? ` as ${key}` : ''}` };
  });
}

/**
 * A YAML input file's arbitrary: a real file as it is (weight 1), mutated with YAML's tokens,
 * generated, or with a hostile fragment under one of `keys` — the weights given per entry.
 */
export function yamlFileInputs(
  seeds: readonly TextSeed[],
  generated: fc.Arbitrary<TextInput>,
  keys: readonly string[],
  weights: { readonly mutated: number; readonly generated: number; readonly hostile: number },
): fc.Arbitrary<TextInput> {
  return fc.oneof(
    { weight: 1, arbitrary: unchanged(seeds) },
    { weight: weights.mutated, arbitrary: textMutations(seeds, YAML_TOKENS) },
    { weight: weights.generated, arbitrary: generated },
    { weight: weights.hostile, arbitrary: withHostile(seeds, keys) },
  );
}

export const YAML_TOKENS: readonly string[] = [
  '&a ',
  '*a',
  '*nope',
  '<<: ',
  '!!binary ',
  '!!float ',
  '---\n',
  '...\n',
  '? ',
  '{',
  '[',
  ' #',
  '"\\u0000"',
  '"\\n"',
  ': ',
  '- ',
  '|\n',
  '>-\n',
  '~',
  '.nan',
  '0x20000000000000',
  '18446744073709551616',
  '1e308',
  '-1',
];
