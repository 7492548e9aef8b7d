// The limits a machine's arch and config put on what firmware can hand the kernel:
// MAX_PHYSMEM_BITS (the physical address space SPARSEMEM and memory hotplug cover),
// MAX_NUMNODES (1 << CONFIG_NODES_SHIFT) and NR_CPUS. Every input is checked against them at the
// edge, before anything is sized by it, so that a range of 2^53 bytes or a node numbered 5000 is
// a one-line error and never a loop over pages, sections or node ids.
import type { ArchName } from '../arch/arch.js';
import { kconfigEnabled, kconfigInt } from './kconfig.js';
import type { KernelConfig, MachineSpec } from './machine_spec.js';

/** What the limits depend on: the arch and the config options that choose them. */
export interface LimitsInput {
  readonly arch: ArchName;
  readonly config: Pick<KernelConfig, 'pageBytes' | 'la57' | 'nodesShift' | 'kconfig'>;
}

/**
 * MAX_PHYSMEM_BITS:
 * - x86_64: `(pgtable_l5_enabled() ? 52 : 46)` (arch/x86/include/asm/sparsemem.h, 4.17 to 6.18;
 *   46 alone before 5-level paging): 52 only with 5-level paging in use (`config.la57`).
 * - i386: 36 with CONFIG_X86_PAE, else 32 (the same header); the model's i386 is PAE. With
 *   FLATMEM the bound is e820's MAX_ARCH_PFN, 1ULL << (36 - PAGE_SHIFT) under PAE (arch/x86/kernel/e820.c).
 * - arm64: CONFIG_ARM64_PA_BITS (arch/arm64/include/asm/sparsemem.h; PHYS_MASK_SHIFT in later
 *   trees, itself CONFIG_ARM64_PA_BITS). ARM64_PA_BITS_52 needs ARM64_64K_PAGES in 6.1 (6.9+ also
 *   allows it with 4K/16K pages and LPA2): without a .config, 52 for 64K pages and 48 otherwise,
 *   the most each page size allows in 6.1.
 * - s390x: CONFIG_MAX_PHYSMEM_BITS, "range 42 53", default 46 (arch/s390/Kconfig;
 *   arch/s390/include/asm/sparsemem.h).
 */
export function maxPhysmemBits(m: LimitsInput): number {
  const k = m.config.kconfig;
  switch (m.arch) {
    case 'x86_64':
      return m.config.la57 ? 52 : 46;
    case 'i386':
      return k && !kconfigEnabled(k, 'CONFIG_X86_PAE') ? 32 : 36;
    case 'arm64':
      return k?.has('CONFIG_ARM64_PA_BITS') ? kconfigInt(k, 'CONFIG_ARM64_PA_BITS', 48) : m.config.pageBytes === 65536 ? 52 : 48;
    case 's390x':
      return k ? kconfigInt(k, 'CONFIG_MAX_PHYSMEM_BITS', 46) : 46;
  }
}

/** 1 << MAX_PHYSMEM_BITS: the first physical address no memory can have. */
export function physAddrLimit(m: LimitsInput): number {
  return 2 ** maxPhysmemBits(m);
}

/** MAX_NUMNODES = 1 << CONFIG_NODES_SHIFT (include/linux/numa.h), from config.nodesShift. */
export function maxNumnodes(m: LimitsInput): number {
  return 2 ** m.config.nodesShift;
}

/**
 * E820_MAX_ENTRIES (arch/x86/include/asm/e820/types.h, 4.19 to 6.18): the zero page's 128 entries
 * plus 3 per possible node; struct e820_table holds no more, so no log prints more of one table.
 */
export function e820MaxEntries(m: LimitsInput): number {
  return 128 + 3 * maxNumnodes(m);
}

/**
 * NR_CPUS: CONFIG_NR_CPUS of the machine's .config (1 without one: include/linux/threads.h), else
 * the distro default the model's struct page layout assumes (kernel/page_layout.ts
 * defaultPageConfig): x86_64 8192 (MAXSMP), arm64 512 (6.18's Kconfig default; 256 before),
 * i386 8 (NR_CPUS_DEFAULT for SMP without X86_BIGSMP), s390x 64.
 */
export function nrCpus(m: LimitsInput): number {
  const k = m.config.kconfig;
  if (k) return kconfigInt(k, 'CONFIG_NR_CPUS', 1);
  return { x86_64: 8192, arm64: 512, i386: 8, s390x: 64 }[m.arch];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A number as a log wrote it, shortened when it runs past 20 digits. */
export function digits(written: string): string {
  return written.length > 20 ? `${written.slice(0, 8)}...${written.slice(-4)} (${written.length} digits)` : written;
}

/** "MAX_PHYSMEM_BITS 46 of x86_64": how messages name the address-space limit. */
export function physmemLimitName(m: LimitsInput): string {
  const why = m.arch === 'x86_64' ? (m.config.la57 ? ' with 5-level paging' : ' with 4-level paging (52 with config.la57: true)') : '';
  return `MAX_PHYSMEM_BITS ${maxPhysmemBits(m)} of ${m.arch}${why}`;
}

/** Why an address range [start, end) cannot be physical memory of this machine, or null. */
export function rangeLimitError(m: LimitsInput, start: number, end: number): string | null {
  const limit = physAddrLimit(m);
  if (end <= limit) return null;
  return `[${hex(start)}, ${hex(end)}) ends beyond ${hex(limit)}, the end of the physical address space: ${physmemLimitName(m)}`;
}

/** Why node id nid (as `written`, when read from text) cannot exist on this machine, or null. */
export function nidLimitError(m: LimitsInput, nid: number, written = String(nid)): string | null {
  if (Number.isSafeInteger(nid) && nid >= 0 && nid < maxNumnodes(m)) return null;
  return `node ${digits(written)} is not below MAX_NUMNODES = ${maxNumnodes(m)} (config.nodesShift ${m.config.nodesShift}); raise nodesShift or renumber`;
}

/** Why `cpus` CPUs (as `written`, when read from text) cannot be possible on this machine, or null. */
export function cpusLimitError(m: LimitsInput, cpus: number, written = String(cpus)): string | null {
  if (Number.isSafeInteger(cpus) && cpus >= 0 && cpus <= nrCpus(m)) return null;
  return `${digits(written)} CPUs is more than NR_CPUS = ${nrCpus(m)} of ${m.arch}${m.config.kconfig ? ' (CONFIG_NR_CPUS of the .config)' : ''}`;
}

/**
 * The first way a machine breaks its limits (for machines built in code or read from a running
 * system; files are checked as they are read, with the line of each value): memory and pmem
 * inside the physical address space, node ids below MAX_NUMNODES, at most NR_CPUS CPUs, pmem
 * over neither RAM nor other pmem. Null when it keeps them. O(ranges log ranges).
 */
export function machineLimitError(spec: MachineSpec): string | null {
  for (const r of spec.memory) {
    const e = rangeLimitError(spec, r.base, r.base + r.size) ?? nidLimitError(spec, r.nid);
    if (e) return `memory ${e}`;
  }
  for (const p of spec.pmem) {
    const e = rangeLimitError(spec, p.base, p.base + p.size) ?? nidLimitError(spec, p.nid);
    if (e) return `pmem ${e}`;
  }
  let cpus = 0;
  for (const n of spec.nodes) {
    const e = nidLimitError(spec, n.nid);
    if (e) return e;
    cpus += n.cpus;
  }
  const e = cpusLimitError(spec, cpus);
  if (e) return e;
  return (
    pmemOverlap(
      spec.memory.map((r) => ({ start: r.base, end: r.base + r.size })),
      spec.pmem.map((p) => ({ start: p.base, end: p.base + p.size })),
    )?.message ?? null
  );
}

/**
 * The first pmem range (by address) that overlaps RAM or another pmem range ([start, end) each;
 * of two pmem ranges, the later-listed one) and why, or null. O(ranges log ranges).
 */
export function pmemOverlap(ram: readonly { start: number; end: number }[], pmem: readonly { start: number; end: number }[]): { pmemIndex: number; message: string } | null {
  const all = [...ram.map((r, i) => ({ ...r, kind: 'memory', i })), ...pmem.map((r, i) => ({ ...r, kind: 'pmem', i }))].sort((a, b) => a.start - b.start || a.end - b.end);
  let reach: (typeof all)[number] | undefined;
  for (const r of all) {
    if (reach && r.start < reach.end && (r.kind === 'pmem' || reach.kind === 'pmem')) {
      const [p, q] = r.kind === 'pmem' && (reach.kind !== 'pmem' || r.i > reach.i) ? [r, reach] : [reach, r];
      return { pmemIndex: p.i, message: `pmem [${hex(p.start)}, ${hex(p.end)}) overlaps ${q.kind} [${hex(q.start)}, ${hex(q.end)}); a persistent memory range is neither RAM nor another NVDIMM's` };
    }
    if (!reach || r.end > reach.end) reach = r;
  }
  return null;
}
