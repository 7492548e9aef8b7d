// A snapshot of an object graph that is restored in place: every object reachable from the root
// when the snapshot is taken gets back its own properties (accessors through their setters),
// array elements, Map and Set entries and typed-array bytes, and keeps its identity, so code
// that holds references into the graph (a world's checkers, a recorder's wrapped machine) sees
// the graph as it was. Objects made since are dropped with the references to them. Functions are
// shared, as are the objects `shared` names (constants such as a kernel profile) and frozen ones.
// The explore driver restores a booted world this way for each replay instead of booting again.

type Saved =
  | { readonly kind: 'object'; readonly o: Record<string, unknown>; readonly keys: readonly string[]; readonly values: readonly unknown[] }
  | {
      readonly kind: 'array';
      readonly o: unknown[];
      readonly values: readonly unknown[];
      readonly extra: readonly string[];
      readonly extraValues: readonly unknown[];
      /** Own keys then: elements (holes not counted) and names. */
      readonly own: number;
    }
  | { readonly kind: 'map'; readonly o: Map<unknown, unknown>; readonly entries: readonly (readonly [unknown, unknown])[] }
  | { readonly kind: 'set'; readonly o: Set<unknown>; readonly values: readonly unknown[] }
  | { readonly kind: 'bytes'; readonly o: Uint8Array; readonly bytes: Uint8Array };

/** Restores what snapshotGraph saw. */
export type Restore = () => void;

/**
 * Take a snapshot of everything reachable from `root` (the root included) and return the
 * function that restores it. Reading an accessor property runs its getter and restoring it runs
 * its setter: take and restore the snapshot while nothing records them.
 */
export function snapshotGraph(root: object, shared: (o: object) => boolean = () => false): Restore {
  const saved: Saved[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  const visit = (v: unknown): void => {
    if (v !== null && typeof v === 'object' && !seen.has(v)) stack.push(v);
  };
  while (stack.length) {
    const o = stack.pop() as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (shared(o) || Object.isFrozen(o)) continue;
    if (ArrayBuffer.isView(o)) {
      const bytes = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
      saved.push({ kind: 'bytes', o: bytes, bytes: bytes.slice() });
    } else if (o instanceof Map) {
      const entries = [...(o as Map<unknown, unknown>)];
      saved.push({ kind: 'map', o: o as Map<unknown, unknown>, entries });
      for (const [k, v] of entries) {
        visit(k);
        visit(v);
      }
    } else if (o instanceof Set) {
      const values = [...(o as Set<unknown>)];
      saved.push({ kind: 'set', o: o as Set<unknown>, values });
      values.forEach(visit);
    } else if (Array.isArray(o)) {
      const values = o.slice();
      const own = Object.keys(o);
      const extra = own.filter((k) => !/^\d+$/.test(k));
      const extraValues = extra.map((k) => (o as unknown as Record<string, unknown>)[k]);
      saved.push({ kind: 'array', o, values, extra, extraValues, own: own.length });
      values.forEach(visit);
      extraValues.forEach(visit);
    } else {
      const rec = o as Record<string, unknown>;
      const keys = Object.keys(rec);
      const values = keys.map((k) => rec[k]);
      saved.push({ kind: 'object', o: rec, keys, values });
      values.forEach(visit);
    }
  }
  return () => {
    for (const s of saved) restoreOne(s);
  };
}

function restoreOne(s: Saved): void {
  switch (s.kind) {
    case 'bytes':
      s.o.set(s.bytes);
      return;
    case 'map': {
      const { o, entries } = s;
      if (o.size === entries.length && sameEntries(o, entries)) return;
      o.clear();
      for (const [k, v] of entries) o.set(k, v);
      return;
    }
    case 'set': {
      const { o, values } = s;
      if (o.size === values.length && sameValues(o, values)) return;
      o.clear();
      for (const v of values) o.add(v);
      return;
    }
    case 'array': {
      const { o, values } = s;
      o.length = values.length;
      for (let i = 0; i < values.length; i++) if (o[i] !== values[i]) o[i] = values[i];
      const rec = o as unknown as Record<string, unknown>;
      for (let i = 0; i < s.extra.length; i++) {
        const k = s.extra[i] as string;
        if (rec[k] !== s.extraValues[i]) rec[k] = s.extraValues[i];
      }
      // Own keys other than those the array had (an added name, a hole filled): looked for only
      // then, counted first without making an array (for-in, as for an object).
      let n = 0;
      // eslint-disable-next-line @typescript-eslint/no-for-in-array -- counting keys, holes skipped as Object.keys skips them
      for (const _ in o) n++;
      if (n === s.own) return;
      for (const k of Object.keys(o)) if (!/^\d+$/.test(k) && !s.extra.includes(k)) delete rec[k];
      return;
    }
    case 'object': {
      const { o, keys, values } = s;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (o[k] !== values[i]) o[k] = values[i];
      }
      // Every saved key is back, so a property added since shows as one key too many. for-in
      // counts the own enumerable keys (Object.keys') and any enumerable inherited ones without
      // making an array: a count equal to the saved keys' leaves no room for an added one.
      let n = 0;
      for (const _ in o) n++;
      if (n === keys.length) return;
      for (const k of Object.keys(o)) if (!keys.includes(k)) delete o[k];
      return;
    }
  }
}

/** Whether a Map holds these entries, in this order (iterated without an entry array per entry). */
function sameEntries(o: Map<unknown, unknown>, entries: readonly (readonly [unknown, unknown])[]): boolean {
  let i = 0;
  let same = true;
  o.forEach((v, k) => {
    const e = entries[i++] as readonly [unknown, unknown];
    if (e[0] !== k || e[1] !== v) same = false;
  });
  return same;
}

function sameValues(o: Set<unknown>, values: readonly unknown[]): boolean {
  let i = 0;
  let same = true;
  o.forEach((v) => {
    if (values[i++] !== v) same = false;
  });
  return same;
}
