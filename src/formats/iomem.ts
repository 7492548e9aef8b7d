// /proc/iomem as far as the memory model knows it (kernel/resource.c r_show; x86
// e820__reserve_resources and e820__reserve_resources_late in arch/x86/kernel/e820.c; 5.3-6.18):
// the firmware map's entries after the kernel's early edits, persistent memory regions, and
// the namespaces' driver claims ("namespaceX.Y"), memory hot-added since boot ("System RAM", a
// virtio-mem device's region with its "System RAM (virtio_mem)" children merged). Leaves out what the model has no knowledge of:
// the kernel image (Kernel code/rodata/data/bss), PCI windows and BARs, ACPI devices, ROMs.
import type { Machine, HotplugResource } from '../kernel/machine.js';
import type { E820Entry } from '../kernel/machine_spec.js';
import { nvdimmRegions } from '../kernel/nvdimm.js';

/** e820_type_to_string: the iomem name of an e820 type as e820__print_table prints it. */
export function e820IomemName(type: string): string {
  if (type === 'usable' || type === 'reserved-kern') return 'System RAM';
  if (type === 'ACPI data') return 'ACPI Tables';
  if (type === 'ACPI NVS') return 'ACPI Non-volatile Storage';
  if (type === 'unusable') return 'Unusable memory';
  if (type === 'persistent (type 12)') return 'Persistent Memory (legacy)';
  if (type === 'persistent (type 7)') return 'Persistent Memory';
  if (type === 'soft reserved') return 'Soft Reserved';
  return 'Reserved';
}

/**
 * e820__range_update(start, size, RAM, RESERVED) / e820__range_remove(start, size, RAM) on a
 * table, then e820__update_table's sort and merge of adjacent entries of one type. Bytes [start, end).
 */
export function e820ApplyEdits(
  table: readonly E820Entry[],
  edits: readonly { start: number; end: number; kind: 'to-reserved' | 'remove' }[],
  maxEntries = Infinity,
  onOverflow: (edit: number) => never = () => {
    throw new Error('e820 table overflow');
  },
): E820Entry[] {
  const t = editRanges(
    [...table].sort((a, b) => a.start - b.start),
    edits,
    (r, e): E820Entry[] | null => {
      if (r.type !== 'usable' || r.end <= e.start || r.start >= e.end) return null;
      const pieces: E820Entry[] = [];
      if (r.start < e.start) pieces.push({ ...r, end: e.start });
      if (e.kind === 'to-reserved') pieces.push({ start: Math.max(r.start, e.start), end: Math.min(r.end, e.end), type: 'reserved' });
      if (r.end > e.end) pieces.push({ ...r, start: e.end });
      return pieces;
    },
    maxEntries,
    onOverflow,
  );
  t.sort((a, b) => a.start - b.start);
  const out: E820Entry[] = [];
  for (const r of t) {
    const last = out[out.length - 1];
    if (last && last.type === r.type && last.end === r.start) out[out.length - 1] = { ...last, end: r.end };
    else out.push(r);
  }
  return out;
}

/**
 * Ranges after edits applied in order, each replacing the ranges it touches by `split`'s pieces
 * (null: untouched). An edit that touches nothing copies nothing, so n edits over m ranges cost
 * O(n m) comparisons; past maxEntries ranges, onOverflow(index of the edit) decides.
 */
export function editRanges<T, E>(ranges: readonly T[], edits: readonly E[], split: (r: T, e: E) => T[] | null, maxEntries = Infinity, onOverflow?: (edit: number) => never): T[] {
  let t: T[] = [...ranges];
  for (const [k, e] of edits.entries()) {
    let first = -1;
    let firstPieces: T[] | null = null;
    for (let i = 0; i < t.length && first < 0; i++) {
      const p = split(t[i] as T, e);
      if (p) [first, firstPieces] = [i, p];
    }
    if (first < 0 || !firstPieces) continue;
    const next = t.slice(0, first);
    next.push(...firstPieces);
    for (let i = first + 1; i < t.length; i++) {
      const r = t[i] as T;
      const p = split(r, e);
      if (p) next.push(...p);
      else next.push(r);
    }
    if (next.length > maxEntries && onOverflow) onOverflow(k);
    t = next;
  }
  return t;
}

interface IomemNode {
  readonly start: number;
  /** Inclusive, as the kernel keeps resource ends. */
  readonly end: number;
  readonly name: string;
  readonly children: IomemNode[];
}

/** insert_resource into a sorted tree: a resource inside another becomes its child. */
function insert(into: IomemNode[], r: IomemNode): void {
  const parent = into.find((p) => p.start <= r.start && r.end <= p.end);
  if (parent) {
    insert(parent.children, r);
    return;
  }
  // A resource that overlaps a sibling without nesting is refused (insert_resource fails).
  if (into.some((p) => !(r.end < p.start || r.start > p.end))) return;
  into.push(r);
  into.sort((a, b) => a.start - b.start);
}

/** MHP_MERGE_RESOURCE: adjacent hot-added siblings with one name become one resource. */
function mergeAdjacent(rs: readonly HotplugResource[]): HotplugResource[] {
  const out: HotplugResource[] = [];
  for (const r of [...rs].sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last && last.name === r.name && last.parent === r.parent && r.parent !== null && last.end + 1 === r.start) out[out.length - 1] = { ...last, end: r.end };
    else out.push({ ...r });
  }
  return out;
}

/**
 * The iomem claims of the namespaces' drivers (6.1), named after the namespace: pmem_attach_disk
 * (drivers/nvdimm/pmem.c) claims a raw or fsdax namespace whole (devm_request_mem_region of
 * nsio->res); __dax_pmem_probe (drivers/dax/pmem.c) claims only its metadata, from the start to
 * the pfn info block's dataoff, and dev_dax_probe the data as "daxX.Y" (Machine.resourcesDax).
 * Bytes [start, end].
 */
export function namespaceClaims(m: Machine): { start: number; end: number; name: string }[] {
  const out: { start: number; end: number; name: string }[] = [];
  for (const r of nvdimmRegions(m)) {
    for (const ns of r.namespaces) {
      if (!ns.enabled || ns.size === 0) continue;
      if (ns.mode === 'raw' || (ns.mode === 'fsdax' && ns.pgmap)) out.push({ start: ns.start, end: ns.start + ns.size - 1, name: ns.dev });
      else if (ns.mode === 'devdax' && ns.dax && ns.dataOffset > 0) out.push({ start: ns.start, end: ns.start + ns.dataOffset - 1, name: ns.dev });
    }
  }
  return out;
}

/** The /proc/iomem text of the machine now (r_show: two spaces per depth, at least 8 hex digits). */
export function procIomem(m: Machine): string {
  const spec = m.state.spec;
  const roots: IomemNode[] = [];
  if (spec.e820 && spec.e820.length) {
    const limit = spec.memLimitApplied ? undefined : spec.boot.memLimit;
    for (const e of spec.e820) {
      let end = e.end;
      if (limit !== undefined && e.type === 'usable') end = Math.min(end, limit);
      if (end > e.start) insert(roots, { start: e.start, end: end - 1, name: e820IomemName(e.type), children: [] });
    }
  } else {
    // No firmware map: the memblock ranges stand in for the e820 RAM entries.
    const ranges = [...spec.memory].sort((a, b) => a.base - b.base);
    let cur: { start: number; end: number } | null = null;
    for (const r of ranges) {
      if (cur && cur.end === r.base) cur.end = r.base + r.size;
      else {
        if (cur) insert(roots, { start: cur.start, end: cur.end - 1, name: 'System RAM', children: [] });
        cur = { start: r.base, end: r.base + r.size };
      }
    }
    if (cur) insert(roots, { start: cur.start, end: cur.end - 1, name: 'System RAM', children: [] });
  }
  for (const r of nvdimmRegions(m)) insert(roots, { start: r.start, end: r.start + r.size - 1, name: 'Persistent Memory', children: [] });
  for (const c of namespaceClaims(m)) insert(roots, { ...c, children: [] });
  for (const [name, r] of m.resourcesDax) insert(roots, { start: r.start, end: r.end, name, children: [] });
  for (const d of m.virtioMem.values()) insert(roots, { start: d.regionStart, end: d.regionStart + d.regionBytes - 1, name: d.name, children: [] });
  for (const r of mergeAdjacent(m.resources)) insert(roots, { start: r.start, end: r.end, name: r.name, children: [] });
  const lines: string[] = [];
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const walk = (ns: readonly IomemNode[], depth: number): void => {
    for (const n of ns) {
      lines.push(`${' '.repeat(depth * 2)}${hex(n.start)}-${hex(n.end)} : ${n.name}\n`);
      walk(n.children, depth + 1);
    }
  };
  walk(roots, 0);
  return lines.join('');
}
