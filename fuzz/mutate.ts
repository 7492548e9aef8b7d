// Mutations of real text inputs as fast-check arbitraries: characters and byte-like edits, lines
// deleted, duplicated, swapped or spliced in from another file, numbers replaced by extremes
// (0, -1, 2^32, 2^53, 1e308, NaN, ...), huge repeats, control characters, line-ending changes.
import fc from 'fast-check';

/** A real input a mutation starts from. */
export interface TextSeed {
  readonly name: string;
  readonly text: string;
}

/** A text input and where it came from (the seed file and the edits made). */
export interface TextInput {
  readonly text: string;
  readonly origin: string;
}

/** Inputs are kept below this many characters (a repeat is cut to fit). */
export const MAX_TEXT = 4_000_000;

/** Characters parsers trip on: control characters, line and paragraph separators, a BOM, a lone surrogate, YAML's indicators. */
export const NASTY_CHARS: readonly string[] = [
  '\0',
  '\x01',
  '\x07',
  '\b',
  '\t',
  '\n',
  '\r',
  '\v',
  '\f',
  '\x1b',
  '\x7f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '"',
  "'",
  '`',
  '\\',
  ':',
  '-',
  '?',
  '[',
  ']',
  '{',
  '}',
  ',',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  ' ',
  '0',
  '9',
  'x',
  'f',
  'G',
  '.',
];

const B = (e: number): bigint => 2n ** BigInt(e);

/** Integer extremes, written in the number's own base where they replace one. */
export const EXTREME_INTEGERS: readonly bigint[] = [
  0n,
  1n,
  B(31) - 1n,
  B(31),
  B(32) - 1n,
  B(32),
  B(40),
  B(46),
  B(46) - 1n,
  B(51),
  B(52),
  B(52) - 4096n,
  B(53) - 1n,
  B(53),
  B(53) + 1n,
  B(63),
  B(64) - 1n,
  B(64),
  B(64) - 4096n,
  10n ** 20n,
  10n ** 30n,
];

/** Decimal spellings that are not plain integers. */
export const EXTREME_WORDS: readonly string[] = ['-1', '-0', '0.5', '1e3', '1e308', '1e+293', '1e-7', 'NaN', 'Infinity', '-Infinity', '0x', '0xg', '00', '1_000', '1,000', ''];

type Op =
  | { readonly k: 'set'; readonly pos: number; readonly s: string }
  | { readonly k: 'ins'; readonly pos: number; readonly s: string }
  | { readonly k: 'del'; readonly pos: number; readonly len: number }
  | { readonly k: 'delLine'; readonly line: number }
  | { readonly k: 'dupLine'; readonly line: number; readonly times: number }
  | { readonly k: 'swap'; readonly a: number; readonly b: number }
  | { readonly k: 'splice'; readonly line: number; readonly from: number; readonly fromLine: number }
  | { readonly k: 'num'; readonly which: number; readonly v: bigint | string }
  | { readonly k: 'scale'; readonly which: number; readonly shift: number; readonly delta: bigint }
  | { readonly k: 'repeatLine'; readonly line: number; readonly times: number }
  | { readonly k: 'repeatChunk'; readonly pos: number; readonly len: number; readonly times: number }
  | { readonly k: 'truncate'; readonly pos: number }
  | { readonly k: 'crlf' }
  | { readonly k: 'bom' }
  | { readonly k: 'tabs' }
  | { readonly k: 'trim' };

/** A uniformly drawn position (fast-check biases integers towards small ones; positions should spread over a file). */
const position = fc.noBias(fc.nat(1_000_000_000));

function opArbitrary(nSeeds: number, tokens: readonly string[]): fc.Arbitrary<Op> {
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_CHARS) },
    { weight: tokens.length ? 4 : 0, arbitrary: fc.constantFrom(...(tokens.length ? tokens : [''])) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) },
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ k: fc.constant('set' as const), pos: position, s: fc.constantFrom(...NASTY_CHARS) }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('ins' as const), pos: position, s: token }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('del' as const), pos: position, len: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('delLine' as const), line: position }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('dupLine' as const), line: position, times: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('swap' as const), a: position, b: position }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('splice' as const), line: position, from: fc.nat(Math.max(0, nSeeds - 1)), fromLine: position }) },
    {
      weight: 6,
      arbitrary: fc.record({
        k: fc.constant('num' as const),
        which: position,
        v: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...EXTREME_INTEGERS) }, { weight: 2, arbitrary: fc.constantFrom(...EXTREME_WORDS) }, { weight: 1, arbitrary: fc.bigInt(0n, B(70)) }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ k: fc.constant('scale' as const), which: position, shift: fc.integer({ min: 0, max: 40 }), delta: fc.constantFrom(0n, 1n, -1n, 4096n, -4096n) }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('repeatLine' as const), line: position, times: fc.oneof(fc.integer({ min: 2, max: 100 }), fc.integer({ min: 1000, max: 200_000 })) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('repeatChunk' as const),
        pos: position,
        len: fc.integer({ min: 1, max: 16 }),
        times: fc.oneof(fc.integer({ min: 2, max: 100 }), fc.integer({ min: 1000, max: 100_000 })),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('truncate' as const), pos: position }) },
    { weight: 1, arbitrary: fc.constantFrom<Op>({ k: 'crlf' }, { k: 'bom' }, { k: 'tabs' }, { k: 'trim' }) },
  );
}

const NUMBER = /0x[0-9a-fA-F]+|\d+/g;

function lines(text: string): string[] {
  return text.split('\n');
}

function show(s: string): string {
  const j = JSON.stringify(s.length > 24 ? `${s.slice(0, 24)}…` : s);
  return j;
}

/** Apply one edit; returns the new text and a few words saying what was done. */
function apply(text: string, op: Op, seeds: readonly TextSeed[]): [string, string] {
  const at = (p: number, n: number): number => (n <= 0 ? 0 : p % n);
  switch (op.k) {
    case 'set': {
      const p = at(op.pos, text.length);
      return [text.slice(0, p) + op.s + text.slice(p + 1), `char ${p} = ${show(op.s)}`];
    }
    case 'ins': {
      const p = at(op.pos, text.length + 1);
      return [text.slice(0, p) + op.s + text.slice(p), `insert ${show(op.s)} at ${p}`];
    }
    case 'del': {
      const p = at(op.pos, text.length);
      return [text.slice(0, p) + text.slice(p + op.len), `delete ${op.len} at ${p}`];
    }
    case 'delLine': {
      const ls = lines(text);
      const i = at(op.line, ls.length);
      ls.splice(i, 1);
      return [ls.join('\n'), `delete line ${i + 1}`];
    }
    case 'dupLine': {
      const ls = lines(text);
      const i = at(op.line, ls.length);
      ls.splice(i, 0, ...new Array<string>(op.times).fill(ls[i] ?? ''));
      return [ls.join('\n'), `line ${i + 1} x${op.times + 1}`];
    }
    case 'swap': {
      const ls = lines(text);
      const a = at(op.a, ls.length);
      const b = at(op.b, ls.length);
      const t = ls[a] ?? '';
      ls[a] = ls[b] ?? '';
      ls[b] = t;
      return [ls.join('\n'), `swap lines ${a + 1} and ${b + 1}`];
    }
    case 'splice': {
      const ls = lines(text);
      const other = seeds[at(op.from, seeds.length)];
      const ols = lines(other?.text ?? '');
      const j = at(op.fromLine, ols.length);
      const i = at(op.line, ls.length + 1);
      ls.splice(i, 0, ols[j] ?? '');
      return [ls.join('\n'), `line ${j + 1} of ${other?.name ?? '?'} inserted at ${i + 1}`];
    }
    case 'num':
    case 'scale': {
      const ms = [...text.matchAll(NUMBER)];
      const m = ms[at(op.which, ms.length)];
      if (!m || m.index === undefined) return [text, 'no number'];
      const tok = m[0];
      const hex = tok.startsWith('0x');
      let rep: string;
      if (op.k === 'num') {
        rep = typeof op.v === 'string' ? op.v : hex ? `0x${op.v.toString(16)}` : op.v.toString();
      } else {
        const v = (BigInt(tok) << BigInt(op.shift)) + op.delta;
        rep = hex ? (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`) : v.toString();
      }
      return [text.slice(0, m.index) + rep + text.slice(m.index + tok.length), `number ${tok} -> ${show(rep)}`];
    }
    case 'repeatLine': {
      const ls = lines(text);
      const i = at(op.line, ls.length);
      const line = ls[i] ?? '';
      const times = Math.max(1, Math.min(op.times, Math.floor(MAX_TEXT / (line.length + 1))));
      const out = [...ls.slice(0, i), ...new Array<string>(times).fill(line), ...ls.slice(i)];
      return [out.join('\n'), `line ${i + 1} repeated ${times} times`];
    }
    case 'repeatChunk': {
      const p = at(op.pos, text.length);
      const chunk = text.slice(p, p + op.len);
      const times = Math.max(1, Math.min(op.times, Math.floor(MAX_TEXT / Math.max(1, chunk.length))));
      return [text.slice(0, p) + chunk.repeat(times) + text.slice(p), `${show(chunk)} at ${p} repeated ${times} times`];
    }
    case 'truncate': {
      const p = at(op.pos, text.length);
      return [text.slice(0, p), `cut at ${p}`];
    }
    case 'crlf':
      return [text.replace(/\n/g, '\r\n'), 'CRLF line ends'];
    case 'bom':
      return [`\ufeff${text}`, 'BOM'];
    case 'tabs':
      return [text.replace(/ {2}/g, '\t'), 'two spaces -> tab'];
    case 'trim':
      return [text.trimEnd(), 'no trailing newline'];
  }
}

/** Mutations of the seeds: one seed, then one to `maxOps` edits. */
export function textMutations(seeds: readonly TextSeed[], tokens: readonly string[] = [], maxOps = 4): fc.Arbitrary<TextInput> {
  if (seeds.length === 0) throw new Error('textMutations: no seeds');
  return fc.record({ seed: fc.nat(seeds.length - 1), ops: fc.array(opArbitrary(seeds.length, tokens), { minLength: 1, maxLength: maxOps }) }).map(({ seed, ops }) => {
    const s = seeds[seed] as TextSeed;
    let text = s.text;
    const done: string[] = [];
    for (const op of ops) {
      const [next, what] = apply(text, op, seeds);
      if (next.length > MAX_TEXT) continue;
      text = next;
      done.push(what);
    }
    return { text, origin: `${s.name}: ${done.join('; ')}` };
  });
}

/** The seeds unchanged (real inputs must pass as they are). */
export function unchanged(seeds: readonly TextSeed[]): fc.Arbitrary<TextInput> {
  return fc.constantFrom(...seeds).map((s) => ({ text: s.text, origin: `${s.name} as it is` }));
}
