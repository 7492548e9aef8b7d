// `mmsim verify --qemu SCENARIO --memmap`: the kernel's own memmap, read from a memory dump of the
// guest with drgn (drgn_reader.ts), diffed pfn by pfn with the model's. Compared: every
// mem_section's state letters (P, M, O, E, D), every memory block's state, node, zone and
// nr_vmemmap_pages, and every struct page of every section that has a memmap: whether it was ever
// written (all-zero bytes), poisoned (all 0xff), its node and zone, and where the model defines the
// page's contents (ZONE_DEVICE, holes, reserved pages, offline and self-hosted memmap: "detail"
// ranges) also its page-flag bits, _refcount, _mapcount/page_type, the word after flags (NULL, the
// lru self-link of __init_single_page, a compound tail's head, or a pointer such as page->pgmap)
// and a head's compound order. Left out: pages the buddy allocator owns (online RAM whose model
// record has no flag bits: their flags and counts belong to whoever allocated them) and pages the
// model calls stale (an earlier owner's bytes); zones are compared through /proc/zoneinfo.
// Pageblock migratetypes are compared where the model defines them (ZONE_DEVICE ranges).
import type { MemmapView, PageblockRun } from '../kernel/memmap_view.js';
import type { Pfn } from '../units.js';
import { pageRunFields } from '../formats/memmap-print.js';

/** One difference: a pfn range (or a section or block) and a field where the kernel and mmsim differ. */
export interface MemmapDifference {
  readonly what: string;
  readonly field: string;
  readonly kernel: string;
  readonly mmsim: string;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The kernel's memmap against the model's: sections, blocks, then struct pages over every pfn
 * either side has a memmap for. Adjacent pfns with the same difference print as one range.
 */
export function diffMemmap(kernel: MemmapView, model: MemmapView): { differences: MemmapDifference[]; pfnsCompared: number } {
  const out: MemmapDifference[] = [];
  const nrs = [...new Set([...kernel.sections.keys(), ...model.sections.keys()])].sort((a, b) => a - b);
  for (const nr of nrs) {
    const k = kernel.sections.get(nr) ?? '(none)';
    const o = model.sections.get(nr) ?? '(none)';
    if (k !== o) out.push({ what: `section ${nr}`, field: 'state', kernel: k, mmsim: o });
  }
  const kb = new Map(kernel.blocks.map((b) => [b.id, b]));
  const ob = new Map(model.blocks.map((b) => [b.id, b]));
  for (const id of [...new Set([...kb.keys(), ...ob.keys()])].sort((a, b) => a - b)) {
    const k = kb.get(id);
    const o = ob.get(id);
    if (!k || !o) {
      out.push({ what: `memory${id}`, field: 'exists', kernel: k ? 'yes' : 'no', mmsim: o ? 'yes' : 'no' });
      continue;
    }
    for (const [f, a, b] of [
      ['state', k.state, o.state],
      ['nid', String(k.nid), String(o.nid)],
      ['zone', k.zone ?? 'NULL', o.zone ?? 'NULL'],
      ['nr_vmemmap_pages', String(k.nrVmemmapPages), String(o.nrVmemmapPages)],
    ] as const) {
      if (f === 'zone' && k.state !== 'online') continue; // an offline block's zone is NULL in the kernel, and the model keeps none
      if (a !== b) out.push({ what: `memory${id}`, field: f, kernel: a, mmsim: b });
    }
  }
  // Struct pages: walk both run lists together.
  let i = 0;
  let j = 0;
  let pos = 0;
  let pfnsCompared = 0;
  const pending = new Map<string, { start: Pfn; end: Pfn; kernel: string; mmsim: string }>();
  const flush = (keep: ReadonlySet<string>, at: Pfn): void => {
    for (const [field, p] of pending) {
      if (keep.has(field) && p.end === at) continue;
      out.push({ what: `pfns ${hex(p.start)}-${hex(p.end - 1)}`, field, kernel: p.kernel, mmsim: p.mmsim });
      pending.delete(field);
    }
  };
  const kr = kernel.runs;
  const mr = model.runs;
  for (;;) {
    while (i < kr.length && (kr[i]?.end ?? 0) <= pos) i++;
    while (j < mr.length && (mr[j]?.end ?? 0) <= pos) j++;
    const a = kr[i];
    const b = mr[j];
    if (!a && !b) break;
    const aIn = a !== undefined && a.start <= pos;
    const bIn = b !== undefined && b.start <= pos;
    if (!aIn && !bIn) {
      pos = Math.min(a?.start ?? Infinity, b?.start ?? Infinity);
      continue;
    }
    const e = Math.min(aIn ? a.end : (a?.start ?? Infinity), bIn ? b.end : (b?.start ?? Infinity));
    const seen = new Set<string>();
    // Where only one side has struct pages, the section table names the difference once.
    if (aIn && bIn && b.state !== 'stale') {
      pfnsCompared += e - pos;
      const withDetail = b.detail !== null || b.state !== 'init';
      const fa = pageRunFields(a, kernel, withDetail);
      const fb = pageRunFields(b, model, withDetail);
      for (const field of new Set([...fa.keys(), ...fb.keys()])) {
        // The model does not know the word after flags of a page the buddy allocator held.
        if (field === 'compound_head/pgmap' && b.detail?.link === 'unknown') continue;
        const x = fa.get(field) ?? '-';
        const y = fb.get(field) ?? '-';
        if (x === y) continue;
        seen.add(field);
        const p = pending.get(field);
        if (p && p.end === pos && p.kernel === x && p.mmsim === y) p.end = e;
        else {
          if (p) out.push({ what: `pfns ${hex(p.start)}-${hex(p.end - 1)}`, field, kernel: p.kernel, mmsim: p.mmsim });
          pending.set(field, { start: pos, end: e, kernel: x, mmsim: y });
        }
      }
    }
    flush(seen, e);
    pos = e;
  }
  flush(new Set(), Infinity);
  out.push(...diffPageblocks(kernel.pageblocks ?? [], model.pageblocks ?? []));
  return { differences: out, pfnsCompared };
}

/**
 * Pageblock migratetypes over the model's runs (it defines them for ZONE_DEVICE ranges only);
 * a stretch where they differ alike prints once. A pageblock the kernel did not report is '(none)'.
 */
export function diffPageblocks(kernel: readonly PageblockRun[], model: readonly PageblockRun[]): MemmapDifference[] {
  const out: MemmapDifference[] = [];
  let k = 0;
  let cur: { start: Pfn; end: Pfn; kernel: string; mmsim: string } | null = null;
  const close = (): void => {
    if (cur) out.push({ what: `pageblocks ${hex(cur.start)}-${hex(cur.end - 1)}`, field: 'migratetype', kernel: cur.kernel, mmsim: cur.mmsim });
    cur = null;
  };
  for (const r of model) {
    for (let pos = r.start; pos < r.end;) {
      while (k < kernel.length && (kernel[k]?.end ?? 0) <= pos) k++;
      const kr = kernel[k];
      const inK = kr !== undefined && kr.start <= pos;
      const e = Math.min(r.end, inK ? kr.end : (kr?.start ?? Infinity));
      const km = inK ? kr.migratetype : '(none)';
      if (km === r.migratetype) close();
      else if (cur !== null && cur.end === pos && cur.kernel === km && cur.mmsim === r.migratetype) cur.end = e;
      else {
        close();
        cur = { start: pos, end: e, kernel: km, mmsim: r.migratetype };
      }
      pos = e;
    }
  }
  close();
  return out;
}

/** The differences as lines ("  what field: kernel X, mmsim Y"). */
export function formatMemmapDiff(diffs: readonly MemmapDifference[]): string[] {
  return diffs.map((d) => `memmap ${d.what} ${d.field}: kernel ${d.kernel}, mmsim ${d.mmsim}`);
}
