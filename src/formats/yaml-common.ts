// What mmsim's YAML files share: one parser that cannot be made to crash (nesting depth, alias
// expansion and cycles, collection keys and stack overflows are one-line errors with
// file:line:col), addresses and sizes as numbers or strings ("0x100000000", "64G"), and the
// file:line:col of a path in a parsed document.
import { isAlias, isCollection, isNode, LineCounter, Parser, parseDocument, visit, type Alias, type CST, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { memparse } from './size.js';

/** An address or size: a number, or a string memparse reads. */
export const addr = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : memparse(v);
  if (n === null || !Number.isSafeInteger(n) || n < 0) {
    ctx.addIssue({ code: 'custom', message: 'expected an address or size such as 0x100000000, 4096 or 64G' });
    return z.NEVER;
  }
  return n;
});

/** Line and column of the deepest node a path reaches (a missing key points at its parent). */
export function yamlPosition(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/**
 * Collections nested deeper than this are refused before the document is composed: the yaml
 * library composes and converts recursively, and a few thousand brackets on one line would
 * overflow the stack (or fail inside V8's own recursion, past any catch). mmsim's files nest
 * six levels at most (steps[].concurrent[].add.region.start).
 */
export const YAML_MAX_DEPTH = 64;

/**
 * The yaml library's maxAliasCount (its default): an alias may not make the document grow by
 * more than this many nodes, which stops "billion laughs" alias bombs.
 */
export const YAML_MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  readonly doc: Document;
  readonly lc: LineCounter;
  /** The document as plain data (JSON-like; aliases expanded). */
  readonly data: unknown;
}

/**
 * Entries (items of every collection) a document may hold, and keys one mapping may hold. The yaml
 * library composes at about 40 us an entry (idle; a 2-core machine at load 8 takes three times
 * that), and a mapping's keys in quadratic time (100 000 keys: minutes); mmsim's files hold a few
 * hundred entries, a sysfs import of 8000 memory blocks about 50 000, and no mapping more than a
 * few dozen keys.
 */
export const YAML_MAX_ENTRIES = 50_000;
export const YAML_MAX_KEYS = 1000;
/**
 * What the parser reads before any of the limits above can be counted: at most 4 MiB, and at most
 * 100 000 line breaks and commas together (each entry of a collection needs one or the other, save
 * a few dozen a line; the parser spends about 5 us a comma of a flow list, a comment line 10 us,
 * a quoted scalar 0.5 us a byte).
 */
export const YAML_MAX_BYTES = 4 << 20;
export const YAML_MAX_SEPARATORS = 100_000;

/** The deepest collection of a CST token stream, the entries of all and the largest collection, walked without recursion. */
function cstShape(tokens: readonly CST.Token[]): { depth: number; offset: number; entries: number; largest: Largest; largestMap: Largest } {
  let best = { depth: 0, offset: 0 };
  let entries = 0;
  let largest: Largest = { items: 0, offset: 0, map: false };
  let largestMap: Largest = largest;
  const stack: [CST.Token | null | undefined, number][] = tokens.map((t) => [t, 0]);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [t, d] = top;
    if (!t) continue;
    if (t.type === 'document') stack.push([t.value, d]);
    else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (d + 1 > best.depth) best = { depth: d + 1, offset: t.offset };
      if (d + 1 > YAML_MAX_DEPTH) return { ...best, entries, largest, largestMap };
      entries += t.items.length;
      const map = t.type === 'block-map' || (t.type === 'flow-collection' && t.start.source === '{');
      if (t.items.length > largest.items) largest = { items: t.items.length, offset: t.offset, map };
      if (map && t.items.length > largestMap.items) largestMap = { items: t.items.length, offset: t.offset, map };
      for (const it of t.items) stack.push([it.key, d + 1], [it.value, d + 1]);
    }
  }
  return { ...best, entries, largest, largestMap };
}

/** A collection of the CST: its items, where it starts, whether it is a mapping. */
interface Largest {
  readonly items: number;
  readonly offset: number;
  readonly map: boolean;
}

/** The 1-based line and column of an offset of text. */
function lineColOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    line++;
    start = nl + 1;
  }
  return { line, col: offset - start + 1 };
}

/** Where a text passes YAML_MAX_BYTES or YAML_MAX_SEPARATORS, and the refusal; null when within both. */
function oversize(text: string): { offset: number; msg: string } | null {
  if (text.length > YAML_MAX_BYTES) return { offset: YAML_MAX_BYTES, msg: `more than ${YAML_MAX_BYTES >> 20} MiB; mmsim's YAML files hold a few KiB` };
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 10 || c === 44) && ++n > YAML_MAX_SEPARATORS) return { offset: i, msg: `more than ${YAML_MAX_SEPARATORS} lines and commas; mmsim's YAML files hold a few hundred` };
  }
  return null;
}

/**
 * Parse one YAML document of `file` into plain data. Every way YAML can go wrong is an
 * InputError naming file:line:col: a syntax error, nesting deeper than YAML_MAX_DEPTH, an alias
 * with no anchor before it, an alias inside the node it names (a cycle), aliases expanding past
 * YAML_MAX_ALIAS_COUNT, a key that is a collection (or an alias of one), and a stack overflow
 * the limits above did not foresee.
 */
/** Top-level tokens of the concrete syntax tree beyond which a text is not a YAML document mmsim could read. */
const YAML_MAX_TOKENS = 1000;

const oneLineMessage = (m: string): string => m.split('\n')[0] ?? 'malformed YAML';

/** The 1-based line with the most nesting marks (": ", "[", "{"), where a parser's recursion runs away. */
function crowdedLine(text: string): number {
  let best = 1;
  let most = -1;
  text.split('\n').forEach((line, i) => {
    const n = (line.match(/: |[[{]/g) ?? []).length;
    if (n > most) [best, most] = [i + 1, n];
  });
  return best;
}

export function parseYaml(file: string, text: string): ParsedYaml {
  const at = (lc: LineCounter, offset: number, msg: string): InputError => {
    const p = lc.linePos(offset);
    return new InputError(`${file}:${Math.max(1, p.line)}:${Math.max(1, p.col)}: ${msg}`);
  };
  // 0. Size, before the parser sees it.
  const over = oversize(text);
  if (over) {
    const p = lineColOf(text, over.offset);
    throw new InputError(`${file}:${p.line}:${p.col}: ${over.msg}`);
  }
  // 1. Depth and size, on the concrete syntax tree (the library's parser keeps its own stack).
  const cstLines = new LineCounter();
  let deep: ReturnType<typeof cstShape>;
  try {
    const tokens = [...new Parser(cstLines.addNewLine).parse(text)];
    // A file the parser breaks into thousands of stray tokens (mmsim's files give a dozen) is
    // refused at its first error token: composing it would take seconds for the same verdict.
    if (tokens.length > YAML_MAX_TOKENS) {
      const bad = tokens.find((t) => t.type === 'error');
      if (bad && 'offset' in bad) throw at(cstLines, bad.offset, `invalid YAML: ${oneLineMessage(bad.message)} (and ${tokens.length} stray tokens after it)`);
    }
    deep = cstShape(tokens);
  } catch (e) {
    // The parser recurses per level (a line of thousands of "key: key: …" overflows its stack).
    if (e instanceof RangeError) throw new InputError(`${file}:${crowdedLine(text)}:1: invalid YAML: nested too deeply to parse; mmsim's files need a few levels`);
    throw e;
  }
  if (deep.depth > YAML_MAX_DEPTH) {
    throw at(cstLines, deep.offset, `invalid YAML: collections nested more than ${YAML_MAX_DEPTH} deep; mmsim's files need a few levels`);
  }
  const big = deep.largest;
  const bigMap = deep.largestMap;
  if (bigMap.items > YAML_MAX_KEYS) throw at(cstLines, bigMap.offset, `a mapping of ${bigMap.items} keys, more than ${YAML_MAX_KEYS}; mmsim's mappings have a few dozen`);
  if (deep.entries > YAML_MAX_ENTRIES) {
    throw at(cstLines, big.offset, `${deep.entries} entries in all, more than ${YAML_MAX_ENTRIES} (this ${big.map ? 'mapping' : 'list'} has ${big.items}); mmsim's files hold a few hundred`);
  }
  // 2. The document. logLevel 'error': the library's warnings would reach stderr as Node's
  // two-line process warnings; what they warn about is refused below instead.
  const lc = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`${file}:1:1: invalid YAML: ${e.message}`);
    throw e;
  }
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? { line: 1, col: 1 };
    throw new InputError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${first.message.split('\n')[0] ?? 'malformed YAML'}`);
  }
  // 3. Aliases (each resolves to the last anchor of its name before it, as Alias.resolve
  // finds it) and keys, in one pass in document order.
  const anchors = new Map<string, Node>();
  const aliases: Alias[] = [];
  const offsetOf = (n: unknown): number => (isNode(n) && n.range ? n.range[0] : 0);
  visit(doc, {
    Node: (_key, node, path) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (!target) throw at(lc, offsetOf(node), `invalid YAML: alias *${node.source} has no anchor &${node.source} before it`);
        if (path.includes(target)) throw at(lc, offsetOf(node), `invalid YAML: alias *${node.source} is inside the node it names (a cycle)`);
        aliases.push(node);
        return;
      }
      if (node.anchor) anchors.set(node.anchor, node);
    },
    Pair: (_key, pair) => {
      const k = pair.key;
      const target = isAlias(k) ? anchors.get(k.source) : k;
      if (isCollection(target)) throw at(lc, offsetOf(k), 'invalid YAML: a key must be a plain name such as "start", not a collection');
    },
  });
  // 4. Plain data, aliases expanded under the alias-count limit; the alias being expanded is
  // tracked so that a refusal names its line.
  let current: Alias | null = null;
  for (const a of aliases) {
    const toJSON = a.toJSON.bind(a);
    a.toJSON = (...args: Parameters<Alias['toJSON']>): unknown => {
      current = a;
      return toJSON(...args);
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError || e instanceof RangeError)) throw e;
    const where = offsetOf(current);
    if (e instanceof ReferenceError && /Excessive alias count/.test(e.message)) {
      throw at(lc, where, `invalid YAML: aliases expand the document by more than ${YAML_MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out`);
    }
    throw at(lc, where, `invalid YAML: ${e.message}`);
  }
  return { doc, lc, data };
}
