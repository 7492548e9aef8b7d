// The memmap view as text (`mmsim run --print memmap`, a scenario's `print: memmap`, and the
// field values `verify --memmap` names): one line per run of pfns whose struct pages read the same,
// then the mem_section states and the memory blocks.
import type { MemmapView, PageRun } from '../kernel/memmap_view.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Page-flag bits as PG_ names joined by '|' ("0" for none). */
export function pageFlagNames(bits: number, names: ReadonlyMap<number, string>): string {
  if (bits === 0) return '0';
  const out: string[] = [];
  for (let b = 0; 2 ** b <= bits; b++) if (Math.floor(bits / 2 ** b) % 2 === 1) out.push(names.get(b) ?? `bit${b}`);
  return out.join('|');
}

/** A run's fields by name, as printed ("detail" fields only where asked and known). */
export function pageRunFields(r: PageRun, v: MemmapView, withDetail: boolean): Map<string, string> {
  const f = new Map<string, string>();
  f.set('state', r.state === 'init' ? 'initialised' : r.state === 'zero' ? 'never written (all zero)' : r.state === 'poison' ? 'poisoned (all 0xff)' : 'stale');
  if (r.state !== 'init') return f;
  f.set('node', String(r.nid));
  f.set('zone', `${r.zone} (${v.zoneNames[r.zone ?? -1] ?? 'no zone'})`);
  if (withDetail && r.detail) {
    const d = r.detail;
    f.set('flags', pageFlagNames(d.flags, v.flagNames));
    f.set('refcount', String(d.refcount));
    f.set('mapcount', String(d.mapcount));
    if (d.link !== 'unknown')
      f.set('compound_head/pgmap', d.link === 'tail' ? `tail of pfn ${hex(d.head ?? 0)}` : d.link === 'self' ? 'lru self-link' : d.link === 'ptr' ? 'a pointer (pgmap)' : 'NULL');
    if (d.order !== null) f.set('compound order', String(d.order));
  }
  return f;
}

/** The whole view: page runs, then sections, then blocks. */
export function printMemmap(v: MemmapView): string {
  const lines: string[] = [];
  for (const r of v.runs) {
    const f = pageRunFields(r, v, true);
    const state = f.get('state');
    f.delete('state');
    lines.push(`pfns ${hex(r.start)}-${hex(r.end - 1)}: ${state}${[...f].map(([k, x]) => `, ${k} ${x}`).join('')}`);
  }
  for (const [nr, st] of v.sections) lines.push(`section ${nr}: ${st}`);
  for (const b of v.blocks) lines.push(`memory${b.id}: ${b.state}, node ${b.nid}, zone ${b.zone ?? 'NULL'}, nr_vmemmap_pages ${b.nrVmemmapPages}`);
  return lines.join('\n') + '\n';
}
