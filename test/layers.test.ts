// The import rule of docs/architecture.md, read from the code: every import (value or type, static
// or dynamic) between src/ folders goes downward in the layer order the document draws, and no
// file imports itself back through a cycle. The order is parsed from the document's layer table
// so that the picture and the rule cannot drift apart.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const src = join(root, 'src');

/** The layers, top first, from the fenced block under "## Layers" in docs/architecture.md. */
function layerOrder(): string[][] {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const section = doc.split('## Layers')[1] ?? '';
  const block = section.split('```')[1] ?? '';
  const layers: string[][] = [];
  for (const line of block.split('\n')) {
    const m = /^ ?([a-z_]+\/(?:\s*,\s*[a-z_.]+\/?)*)\s/.exec(line);
    if (!m?.[1]) continue;
    layers.push(m[1].split(',').map((s) => s.trim().replace(/\/$/, '')));
  }
  return layers;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

/** Every relative module a file names: import/export ... from, import(), import type. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1] as string);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** The folder a src file belongs to ('.' for src/errors.ts and src/units.ts, the base every layer may use). */
function folderOf(file: string): string {
  const rel = relative(src, file);
  return rel.includes('/') ? (rel.split('/')[0] as string) : '.';
}

describe('the import rule of docs/architecture.md', () => {
  const layers = layerOrder();
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  const files = sourceFiles(src);

  it('the document lists every src/ folder once', () => {
    const folders = [...new Set(files.map(folderOf))].filter((f) => f !== '.').sort();
    expect([...rank.keys()].sort()).toEqual(folders);
    expect(layers.length).toBeGreaterThan(5);
  });

  it('imports go only downward (or within a folder, or to src/errors.ts and src/units.ts)', () => {
    const upward: string[] = [];
    for (const f of files) {
      const from = folderOf(f);
      for (const target of importsOf(f)) {
        if (!target.startsWith(src)) continue;
        const to = folderOf(target);
        if (to === '.' || to === from) continue;
        if (from === '.') {
          upward.push(`${relative(root, f)} -> ${relative(root, target)} (the base imports nothing)`);
          continue;
        }
        const a = rank.get(from);
        const b = rank.get(to);
        if (a === undefined || b === undefined || b <= a) upward.push(`${relative(root, f)} -> ${relative(root, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no import cycle between files (type imports included)', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(src))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => relative(src, x)).join(' -> '));
        else if (!state.has(t) && graph.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the document names every src/ file (the map stays true when files move)', () => {
    const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
    const unnamed = files.map((f) => relative(src, f)).filter((rel) => !doc.includes(rel.split('/').pop() as string));
    expect(unnamed).toEqual([]);
  });

  it('catches an upward import (the rule can fail)', () => {
    // kernel/ importing drivers/ would be upward in any order the document could draw.
    expect(rank.get('kernel')).toBeGreaterThan(rank.get('drivers') ?? Infinity);
    expect(rank.get('memmap')).toBeGreaterThan(rank.get('kernel') ?? Infinity);
  });
});
