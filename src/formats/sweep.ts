// A sweep file (`mmsim sweep FILE`): scenarios x designs (and kernel releases) x kernel configs x
// walker sets, with the search options every cell shares. Read through yaml-common.ts parseYaml
// and checked by a schema; every value keeps the file:line:col it came from, so that the command
// can name an unknown scenario, design or kernel by its place before anything runs.
import { isMap, isScalar } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { WALKERS } from '../kernel/walkers.js';
import { parseYaml, yamlPosition } from './yaml-common.js';

/** A name; YAML reads an unquoted 6.1 as a number, so numbers are taken as the text written. */
const name = z.union([z.string().min(1), z.number()]);
const names = z.array(name).min(1);
const whole = z.number().int().min(0);

const schema = z.strictObject({
  /** Built-in scenarios (seed-2019, ...) or scenario files with a concurrent block (relative to the sweep file). */
  scenarios: names,
  /** Designs: built-in names or design files (relative to the sweep file). */
  designs: names.optional(),
  /** Kernel releases, each run as the kernel's own code (a design that changes nothing). */
  kernels: names.optional(),
  /** Kernel configs (default: debug_vm). */
  configs: names.optional(),
  /** Walker sets added to the built-in scenarios: each a walker, a list of walkers, or [] for none (default: none). */
  walkers: z
    .array(z.union([z.string(), z.array(z.string())]))
    .min(1)
    .optional(),
  /** The search every cell runs (as mmsim explore's --bound, --runs, --seed, --reduce). */
  bound: whole.optional(),
  runs: whole.optional(),
  seed: whole.optional(),
  reduce: z.enum(['dpor', 'sleep', 'none']).optional(),
  /** Also time each design on this published machine (mmsim time --preset). */
  time: z.string().min(1).optional(),
});

/** A value and the file:line:col it was written at. */
export interface Placed<T> {
  readonly value: T;
  readonly at: string;
}

export interface SweepFile {
  readonly scenarios: readonly Placed<string>[];
  readonly designs: readonly Placed<string>[];
  readonly kernels: readonly Placed<string>[];
  /** Absent: the default (debug_vm). */
  readonly configs: readonly Placed<string>[] | null;
  /** Each set of walkers; absent: one set, no walkers. */
  readonly walkers: readonly Placed<readonly string[]>[] | null;
  readonly search: { readonly bound?: number; readonly runs?: number; readonly seed?: number; readonly reduce?: 'dpor' | 'sleep' | 'none' };
  readonly time: Placed<string> | null;
  /** file:line:col of a top-level key (or of the document, when it is missing). */
  readonly key: (k: string) => string;
}

/** Parse and check a sweep file's text; `file` names it in errors. */
export function parseSweep(file: string, text: string): SweepFile {
  const { doc, lc, data } = parseYaml(file, text);
  const at = (path: readonly (string | number)[]): string => {
    const p = yamlPosition(doc, lc, path);
    return `${file}:${p.line}:${p.col}`;
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(`${at([])}: expected a sweep: a mapping with scenarios, designs or kernels, and optionally configs, walkers, bound, runs, seed, reduce, time`);
  }
  const r = schema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = (issue?.path ?? []).filter((k): k is string | number => typeof k !== 'symbol');
    const expected = 'expected a sweep: scenarios, designs, kernels, configs, walkers, bound, runs, seed, reduce, time';
    if (issue?.code === 'unrecognized_keys') {
      // At the key itself (the map's pair), not the map.
      const key = issue.keys[0] as string;
      const pair = isMap(doc.contents) ? doc.contents.items.find((it) => isScalar(it.key) && it.key.value === key) : undefined;
      const offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
      const p = offset !== undefined ? lc.linePos(offset) : yamlPosition(doc, lc, path);
      throw new InputError(`${file}:${p.line}:${p.col}: unknown key ${key}; ${expected}`);
    }
    const inner = path.length ? ` (at ${path.join('.')})` : '';
    throw new InputError(`${at(path)}: ${issue?.message ?? 'invalid'}${inner}; ${expected}`);
  }
  const s = r.data;
  if (!s.designs && !s.kernels) throw new InputError(`${at([])}: expected designs or kernels (or both): what each scenario runs under`);
  // The text as written: 6.10 stays "6.10", not the number 6.1.
  const text_ = (path: (string | number)[], v: string | number): string => {
    if (typeof v === 'string') return v;
    const node = doc.getIn(path, true);
    return isScalar(node) && typeof node.source === 'string' ? node.source : String(v);
  };
  const walker = (w: string, path: (string | number)[]): string => {
    if ((WALKERS as readonly string[]).includes(w)) return w;
    throw new InputError(`${at(path)}: unknown walker ${w}; expected one of ${WALKERS.join(', ')} (a list of them for a set, [] for none)`);
  };
  const list = (k: 'scenarios' | 'designs' | 'kernels' | 'configs'): Placed<string>[] => (s[k] ?? []).map((v, i) => ({ value: text_([k, i], v), at: at([k, i]) }));
  return {
    scenarios: list('scenarios'),
    designs: list('designs'),
    kernels: list('kernels'),
    configs: s.configs ? list('configs') : null,
    walkers: s.walkers ? s.walkers.map((w, i) => ({ value: typeof w === 'string' ? [walker(w, ['walkers', i])] : w.map((x, j) => walker(x, ['walkers', i, j])), at: at(['walkers', i]) })) : null,
    search: {
      ...(s.bound !== undefined ? { bound: s.bound } : {}),
      ...(s.runs !== undefined ? { runs: s.runs } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      ...(s.reduce !== undefined ? { reduce: s.reduce } : {}),
    },
    time: s.time !== undefined ? { value: s.time, at: at(['time']) } : null,
    key: (k) => at([k]),
  };
}
