// The explore driver's index of the path's steps by the resources they touched: for a new step,
// the latest earlier step of each task it is dependent with (footprint.ts's dependent), found
// from its own resources instead of by walking the path back. A path is a stack: steps are
// indexed in depth order and dropped from the deepest up when the search backtracks.
import type { Access, Footprint } from './footprint.js';

/** Per task, the depths of its steps that wrote (w) and that touched (a) a resource, ascending. */
interface Stacks {
  readonly w: number[][];
  readonly a: number[][];
}

/** A footprint's resources as the index files them: name, access, and each prefix of the name that ends at a colon. */
type Filed = readonly (readonly [name: string, access: Access, prefixes: readonly string[], wildcard: boolean])[];

const FILED = Symbol('filed resources');
type WithFiled = Footprint & { [FILED]?: Filed };

/** Each resource name's colon-ended prefixes and whether it is a wildcard, made once per name (names recur in every run). */
const NAMES = new Map<string, readonly [prefixes: readonly string[], wildcard: boolean]>();

function nameParts(k: string): readonly [prefixes: readonly string[], wildcard: boolean] {
  let parts = NAMES.get(k);
  if (parts === undefined) {
    if (NAMES.size > 65536) NAMES.clear();
    const prefixes: string[] = [];
    for (let i = k.indexOf(':'); i >= 0; i = k.indexOf(':', i + 1)) prefixes.push(k.slice(0, i + 1));
    // `family:*`: its family is the name without the star (its last prefix above).
    const wildcard = k.length >= 2 && k.charCodeAt(k.length - 1) === 42 && k.charCodeAt(k.length - 2) === 58;
    parts = [prefixes, wildcard];
    NAMES.set(k, parts);
  }
  return parts;
}

function filed(fp: Footprint): Filed {
  let f = (fp as WithFiled)[FILED];
  if (f === undefined) {
    const out: (readonly [string, Access, readonly string[], boolean])[] = [];
    for (const [k, x] of fp) {
      const [prefixes, wildcard] = nameParts(k);
      out.push([k, x, prefixes, wildcard]);
    }
    f = out;
    (fp as WithFiled)[FILED] = f;
  }
  return f;
}

export class AccessIndex {
  /** Steps by resource name. */
  private readonly byName = new Map<string, Stacks>();
  /** Steps by each colon-ended prefix of the names they touched (what `prefix*` clashes with). */
  private readonly byPrefix = new Map<string, Stacks>();
  /** Steps that touched `prefix*`, by the prefix. */
  private readonly byWildcard = new Map<string, Stacks>();
  /** Steps of EVERYTHING (`*`): dependent with every step. */
  private readonly everything: Stacks;
  /** What each depth pushed, to pop when the path is cut there. */
  private readonly pushed: number[][][] = [];
  /** Depths below this are indexed. */
  private top = 0;

  constructor(private readonly nTasks: number) {
    this.everything = this.stacks();
  }

  private stacks(): Stacks {
    const w: number[][] = [];
    const a: number[][] = [];
    for (let t = 0; t < this.nTasks; t++) {
      w.push([]);
      a.push([]);
    }
    return { w, a };
  }

  private at(map: Map<string, Stacks>, key: string): Stacks {
    let s = map.get(key);
    if (!s) map.set(key, (s = this.stacks()));
    return s;
  }

  /** A copy for a copied path (the steps it has indexed, re-indexed from it). */
  copy(path: readonly { readonly task: number; readonly fp: Footprint }[]): AccessIndex {
    const c = new AccessIndex(this.nTasks);
    for (let i = 0, n = Math.min(this.top, path.length); i < n; i++) {
      const q = path[i];
      if (q && q.task >= 0) c.add(i, q.task, q.fp);
    }
    return c;
  }

  /** Forget the steps at depth d and below (the path is cut to d steps). */
  cut(d: number): void {
    for (let i = this.top - 1; i >= d; i--) {
      const p = this.pushed[i];
      if (p) for (const arr of p) arr.pop();
      this.pushed[i] = [];
    }
    if (d < this.top) this.top = d;
  }

  /** Index the step at depth d (the path's deepest: everything at d and below is cut first). */
  add(d: number, task: number, fp: Footprint): void {
    this.cut(d);
    const p: number[][] = [];
    for (const [k, x, prefixes, wildcard] of filed(fp)) {
      if (k === '*') {
        push(p, this.everything, 'w', task, d);
        continue;
      }
      push(p, this.at(this.byName, k), x, task, d);
      for (const pre of prefixes) push(p, this.at(this.byPrefix, pre), x, task, d);
      if (wildcard) push(p, this.at(this.byWildcard, k.slice(0, -1)), x, task, d);
    }
    this.pushed[d] = p;
    this.top = d + 1;
  }

  /**
   * For each task, the depth of its latest indexed step dependent with a step of footprint fp
   * (-1: none), as footprint.ts's dependent decides; null where fp is EVERYTHING (every step is).
   */
  latestDependent(fp: Footprint): number[] | null {
    const last = new Array<number>(this.nTasks).fill(-1);
    for (const [k, x, prefixes, wildcard] of filed(fp)) {
      if (k === '*') return null;
      // Earlier names of its family (a wildcard), or the same name; and earlier wildcards of a
      // family it is in (`zone:*` covers `zone:0/Device:*` too).
      if (wildcard) take(last, this.byPrefix.get(k.slice(0, -1)), x);
      else take(last, this.byName.get(k), x);
      for (const pre of prefixes) take(last, this.byWildcard.get(pre), x);
    }
    take(last, this.everything, 'w');
    return last;
  }
}

// add's and latestDependent's steps, functions of their own: closures there would allocate what
// they capture at every call (once a step).

/** Index depth d of `task` under s (as a write too when x is 'w'), remembering each stack pushed in p. */
function push(p: number[][], s: Stacks, x: Access, task: number, d: number): void {
  const a = s.a[task] as number[];
  a.push(d);
  p.push(a);
  if (x === 'w') {
    const w = s.w[task] as number[];
    w.push(d);
    p.push(w);
  }
}

/** Raise each task's entry of `last` to its latest step under s that an access x is dependent with. */
function take(last: number[], s: Stacks | undefined, x: Access): void {
  if (!s) return;
  const by = x === 'w' ? s.a : s.w;
  for (let u = 0; u < last.length; u++) {
    const arr = by[u] as number[];
    const n = arr.length;
    if (n && (arr[n - 1] as number) > (last[u] as number)) last[u] = arr[n - 1] as number;
  }
}
