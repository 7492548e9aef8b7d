// The fields verify compares (verify --json lists them).

/** After every step: zoneinfo, memory blocks, iomem, node masks, tool output. */
export const VERIFY_FIELDS = [
  'zoneinfo start_pfn',
  'zoneinfo spanned',
  'zoneinfo present',
  'zoneinfo managed',
  'memory blocks (state, phys_index, node, valid_zones)',
  '/proc/iomem memory entries',
  '/proc/iomem namespace claims',
  '/sys/devices/system/node masks',
  'ndctl/daxctl output',
  'chmem exit code',
  'dmesg memory layout lines (boot)',
] as const;

/** With --memmap, at each dump: mem_sections, memory blocks, struct pages. */
export const MEMMAP_FIELDS = [
  'mem_section state (P M O E D)',
  'memory_block state, nid, zone, nr_vmemmap_pages',
  'struct page state (never written, poisoned, initialised)',
  'struct page node',
  'struct page zone',
  'struct page flags (detail ranges)',
  'struct page refcount (detail ranges)',
  'struct page mapcount/page_type (detail ranges)',
  'struct page compound_head/pgmap (detail ranges)',
  'struct page compound order (heads)',
] as const;

/** verify --qemu --json: {kernel, scenario, steps, fields, differences, memmap_pfns_compared}. */
export function verifyJson(scenario: string, steps: readonly { label: string; diffs: string[] }[], totals: { pfnsCompared: number; dumps: number }): Record<string, unknown> {
  const boot = steps[0]?.label ?? '';
  return {
    kernel: /^boot \((.*)\)$/.exec(boot)?.[1] ?? null,
    scenario,
    steps: steps.map((s) => ({ label: s.label, differences: s.diffs })),
    fields: [...VERIFY_FIELDS, ...(totals.dumps ? MEMMAP_FIELDS : [])],
    differences: steps.reduce((n, s) => n + s.diffs.length, 0),
    memmap_pfns_compared: totals.pfnsCompared,
  };
}
