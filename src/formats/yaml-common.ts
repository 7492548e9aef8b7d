// What mmsim's YAML files share: addresses and sizes as numbers or strings ("0x100000000",
// "64G"), and the file:line:col of a path in a parsed document.
import { isNode, type Document, type LineCounter } from 'yaml';
import { z } from 'zod';
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
