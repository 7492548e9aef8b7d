// Reading a machine back from a real boot log: the "Linux version" and "Command line" lines,
// "Hypervisor detected", SRAT CPU and memory affinity, the "Early memory node ranges" block
// (memblock.memory exactly as the kernel had it) and, for kernels that print it,
// "DMA zone: N pages reserved" (dma_reserve).
import { e820ApplyEdits, editRanges } from './iomem.js';
import type { ArchName } from '../arch/arch.js';
import { InputError } from '../errors.js';
import { DEFAULT_CONFIG, type BootMemory, type KernelImage, type MachineSpec, type MemblockRegion, type NodeSpec, type ReservedRange } from '../kernel/machine_spec.js';
import { cpusLimitError, digits, e820MaxEntries, maxNumnodes, nidLimitError, pmemOverlap, rangeLimitError, type LimitsInput } from '../kernel/limits.js';
import { parseCmdline } from './cmdline.js';
import { parseHexAddr } from './size.js';

export interface DmesgLine {
  /** 1-based line number in the file. */
  readonly lineNo: number;
  /** The text after the "[    0.000000] " timestamp (or the whole line if it has none). */
  readonly text: string;
  /** Column (1-based) where `text` starts in the raw line. */
  readonly textColumn: number;
}

export interface ParsedDmesg {
  readonly spec: MachineSpec;
  /** Release from "Linux version", or null if the log has none. */
  readonly release: string | null;
  /** The rest of the "Linux version" line (names Debian/Ubuntu stable versions). */
  readonly build: string;
  /** Line numbers that mmsim read as inputs (never counted as derived output). */
  readonly inputLines: ReadonlySet<number>;
  readonly lines: readonly DmesgLine[];
  /** What the machine's memory was read from. */
  readonly sources: readonly string[];
}

const TS = /^\[\s*\d+\.\d+\] ?/;

/** Split a log into lines without their timestamps. */
export function dmesgLines(text: string): DmesgLine[] {
  return text.split('\n').map((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const m = TS.exec(line);
    return { lineNo: i + 1, text: m ? line.slice(m[0].length) : line, textColumn: m ? m[0].length + 1 : 1 };
  });
}

export function parseDmesg(file: string, text: string): ParsedDmesg {
  const lines = dmesgLines(text);
  const fail = (l: DmesgLine, col: number, msg: string): never => {
    throw new InputError(`${file}:${l.lineNo}:${l.textColumn + col}: ${msg}`);
  };
  const inputLines = new Set<number>();
  let release: string | null = null;
  let build = '';
  let cmdline = '';
  let cmdlineLine: DmesgLine | null = null;
  let hypervisor: string | null = null;
  let dmaReservePages: number | null = null;
  const memory: MemblockRegion[] = [];
  const sratMem: { start: number; end: number; nid: number; hotplug: boolean }[] = [];
  const pmem: { base: number; size: number; nid: number }[] = [];
  const cpus = new Map<number, number>();
  const e820: { start: number; end: number; type: string; lineNo: number }[] = [];
  const userE820: { start: number; end: number; type: string; lineNo: number }[] = [];
  // The line of each BIOS-e820 and user entry, for the E820_MAX_ENTRIES check.
  const e820At: DmesgLine[] = [];
  const e820EditsAt: DmesgLine[] = [];
  const userE820At: DmesgLine[] = [];
  const e820Edits: { start: number; end: number; kind: 'to-reserved' | 'remove'; lineNo: number }[] = [];
  let lastPfnLine = 0;
  let lowmemBytes: number | null = null;
  let fakeNode = false;
  let allowingCpus = 0;
  let inNodeRanges = false;
  // What the kernel's limits are checked on once the log has said which arch and paging it ran
  // with: node ids, CPU counts and ranges, each with where the log wrote it.
  const nidsAt: { l: DmesgLine; col: number; written: string }[] = [];
  const cpusAt: { l: DmesgLine; col: number; written: string; total: boolean }[] = [];
  const rangesAt: { l: DmesgLine; col: number; start: number; end: number; what: string }[] = [];
  const pmemLines: DmesgLine[] = [];
  let la57 = false;
  // What boot's memblock model reads (kernel/setup.ts): sizes and places the log states.
  const bootMem = {
    image: null as Omit<KernelImage, 'start' | 'end' | 'brk' | 'freedLater'> | null,
    freed: null as number | null,
    initrd: null as BootMemory['initrd'],
    crashkernel: null as BootMemory['crashkernel'],
    nodeDataBytes: null as number | null,
    percpu: null as BootMemory['percpu'],
    possibleCpus: null as number | null,
    swiotlb: null as BootMemory['swiotlb'],
    swiotlbAreas: null as number | null,
    logBufBytes: null as number | null,
    earlyHashBytes: [] as number[],
    acpiTables: [] as ReservedRange[],
  };
  const K = (x: string | undefined): number => Number(x ?? 0) * 1024;

  for (const l of lines) {
    const t = l.text;
    let m: RegExpExecArray | null;
    // setup_per_cpu_areas prints nr_cpu_ids, which the boot allocations are sized by: at most
    // nr_cpumask_bits, at most NR_CPUS, and within the arch's NR_CPUS (checked with the others below).
    const percpu = /^setup_percpu: NR_CPUS:(\d+) nr_cpumask_bits:(\d+) nr_cpu_ids:(\d+) /.exec(t);
    if (percpu) {
      const col = t.indexOf('nr_cpu_ids:') + 11;
      const [nrCpus, bits, ids] = [Number(percpu[1]), Number(percpu[2]), Number(percpu[3])];
      const [w1, w2, w3] = [digits(percpu[1] ?? ''), digits(percpu[2] ?? ''), digits(percpu[3] ?? '')];
      if (ids > bits || bits > nrCpus) fail(l, col, `expected nr_cpu_ids <= nr_cpumask_bits <= NR_CPUS (setup_per_cpu_areas), got NR_CPUS:${w1} nr_cpumask_bits:${w2} nr_cpu_ids:${w3}`);
      cpusAt.push({ l, col, written: percpu[3] ?? '', total: false });
    }
    if (readBootMemoryLine(t, bootMem, K)) continue;
    if ((m = /^Linux version (\S+)(.*)$/.exec(t)) && release === null) {
      release = m[1] ?? null;
      build = m[2] ?? '';
      inputLines.add(l.lineNo);
    } else if ((m = /^Command line: (.*)$/.exec(t)) && cmdlineLine === null) {
      cmdline = m[1] ?? '';
      cmdlineLine = l;
      inputLines.add(l.lineNo);
    } else if ((m = /^Hypervisor detected: (.+)$/.exec(t))) {
      hypervisor = (m[1] ?? '').trim();
      inputLines.add(l.lineNo);
    } else if (t === 'Early memory node ranges') {
      inNodeRanges = true;
      continue;
    } else if (inNodeRanges && /^  node +\d+: /.test(t)) {
      m = /^  node +(\d+): \[mem (\S+)-(\S+)\]$/.exec(t);
      if (!m) return fail(l, 0, 'expected "  node N: [mem 0xSTART-0xEND]" in the Early memory node ranges block');
      const start = parseHexAddr(m[2] ?? '');
      const last = parseHexAddr(m[3] ?? '');
      if (start === null || last === null || last < start) {
        return fail(l, t.indexOf('[mem') + 5, `expected a range 0xSTART-0xEND with START <= END, got "${m[2]}-${m[3]}"`);
      }
      nidsAt.push({ l, col: t.indexOf(m[1] ?? ''), written: m[1] ?? '' });
      rangesAt.push({ l, col: t.indexOf('[mem') + 5, start, end: last + 1, what: 'memory' });
      memory.push({ base: start, size: last + 1 - start, nid: Number(m[1]), hotpluggable: false, mirror: false });
      inputLines.add(l.lineNo);
      continue;
    } else if ((m = /^(?:ACPI: )?SRAT: Node (\d+) PXM \d+ \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\](.*)$/.exec(t))) {
      const start = parseHexAddr(m[2] ?? '');
      const last = parseHexAddr(m[3] ?? '');
      if (start === null || last === null) return fail(l, 0, 'expected an SRAT memory range');
      nidsAt.push({ l, col: t.indexOf('Node ') + 5, written: m[1] ?? '' });
      sratMem.push({ start, end: last + 1, nid: Number(m[1]), hotplug: /hotplug/.test(m[4] ?? '') });
      // A non-volatile affinity range is an NVDIMM's system physical address range (NFIT).
      if (/non-volatile/.test(m[4] ?? '')) {
        rangesAt.push({ l, col: t.indexOf('[mem') + 5, start, end: last + 1, what: 'pmem' });
        pmemLines.push(l);
        pmem.push({ base: start, size: last + 1 - start, nid: Number(m[1]) });
      }
      inputLines.add(l.lineNo);
    } else if ((m = /^SRAT: PXM \d+ -> (?:x2)?APIC 0x[0-9a-f]+ -> Node (\d+)$/.exec(t))) {
      const nid = Number(m[1]);
      nidsAt.push({ l, col: t.lastIndexOf('Node ') + 5, written: m[1] ?? '' });
      cpus.set(nid, (cpus.get(nid) ?? 0) + 1);
      cpusAt.push({ l, col: 0, written: '', total: true });
      inputLines.add(l.lineNo);
    } else if ((m = /^(BIOS-e820|user): \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+)$/.exec(t))) {
      const start = parseHexAddr(m[2] ?? '');
      const last = parseHexAddr(m[3] ?? '');
      if (start === null || last === null || last < start) return fail(l, 0, 'expected an e820 range [mem 0xSTART-0xEND]');
      (m[1] === 'user' ? userE820 : e820).push({ start, end: last + 1, type: (m[4] ?? '').trim(), lineNo: l.lineNo });
      (m[1] === 'user' ? userE820At : e820At).push(l);
      inputLines.add(l.lineNo);
    } else if ((m = /^e820: (update|remove) \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] usable(?: ==> (\w+))?$/.exec(t))) {
      const start = parseHexAddr(m[2] ?? '');
      const last = parseHexAddr(m[3] ?? '');
      if (start !== null && last !== null && (m[1] === 'remove' || (m[4] ?? 'usable') !== 'usable')) {
        e820Edits.push({ start, end: last + 1, kind: m[1] === 'remove' ? 'remove' : 'to-reserved', lineNo: l.lineNo });
        e820EditsAt.push(l);
      }
    } else if ((m = /^  low ram: 0 - ([0-9a-f]+)$/.exec(t))) {
      lowmemBytes = parseInt(m[1] ?? '0', 16);
      inputLines.add(l.lineNo);
    } else if ((m = /^(?:e820: )?last_pfn = 0x[0-9a-f]+ max_arch_pfn = (0x[0-9a-f]+)/.exec(t))) {
      lastPfnLine = l.lineNo;
      // e820__end_of_ram_pfn prints MAX_ARCH_PFN = MAXMEM >> PAGE_SHIFT = 1 << (MAX_PHYSMEM_BITS - 12)
      // on x86_64: 0x400000000 with 4-level paging, 0x10000000000 with 5-level.
      la57 = parseHexAddr(m[1] ?? '') === 2 ** 40;
    } else if (/^(?:NUMA: )?No NUMA configuration found$/.test(t)) {
      fakeNode = true;
    } else if ((m = /^(?:smpboot|CPU topo): Allowing (\d+) (?:present )?CPUs/.exec(t))) {
      allowingCpus = Number(m[1]);
      cpusAt.push({ l, col: t.indexOf('Allowing ') + 9, written: m[1] ?? '', total: false });
    } else if ((m = /^  (DMA|DMA32) zone: (\d+) pages reserved$/.exec(t))) {
      dmaReservePages = Number(m[2]);
      inputLines.add(l.lineNo);
    }
    inNodeRanges = false;
  }

  // The limits of the arch and paging the log shows (kernel/limits.ts), before anything is sized by them.
  const limits: LimitsInput = { arch: archOfRelease(release), config: { ...DEFAULT_CONFIG, la57 } };
  for (const n of nidsAt) {
    const e = nidLimitError(limits, Number(n.written), n.written);
    if (e) fail(n.l, n.col, e);
  }
  let sratCpus = 0;
  for (const c of cpusAt) {
    const count = c.total ? ++sratCpus : Number(c.written);
    const e = cpusLimitError(limits, count, c.total ? String(count) : c.written);
    if (e) fail(c.l, c.col, c.total ? `${e} (SRAT lists this many CPUs up to here)` : e);
  }
  for (const r of rangesAt) {
    const e = rangeLimitError(limits, r.start, r.end);
    if (e) fail(r.l, r.col, `${r.what} ${e}`);
  }
  const maxE820 = e820MaxEntries(limits);
  for (const [at, what] of [
    [e820At, 'BIOS-e820'],
    [userE820At, 'user'],
  ] as const) {
    const over = at[maxE820];
    if (over) fail(over, 0, `more ${what} entries than E820_MAX_ENTRIES = ${maxE820} (128 + 3 * MAX_NUMNODES ${maxNumnodes(limits)}): struct e820_table holds no more`);
  }
  // The edited table, split entries counted: __e820__range_add refuses a split past E820_MAX_ENTRIES ("too many entries; ignoring").
  const e820Final = e820.length
    ? e820ApplyEdits(userE820.length ? userE820 : e820, e820Edits, maxE820, (k) =>
        fail(
          e820EditsAt[k] ?? { lineNo: 1, text: '', textColumn: 1 },
          0,
          `this edit splits the e820 table past E820_MAX_ENTRIES = ${maxE820}; the kernel would have printed "too many entries; ignoring"`,
        ),
      )
    : null;
  let memLimitApplied = true;
  const sources: string[] = [];
  if (memory.length > 0) {
    sources.push('Early memory node ranges');
  } else {
    const table = userE820.length ? userE820 : e820;
    if (table.length === 0) {
      throw new InputError(`${file}: neither an "Early memory node ranges" block nor BIOS-e820 lines: mmsim reads memblock.memory from them; give a YAML machine instead`);
    }
    // Edits printed before the last "last_pfn =" line (trim_bios_range, MTRR trimming) reach
    // memblock; later ones (EFI tables, setup data) only mark memblock.reserved.
    const edits = e820Edits.filter((e) => e.lineNo < lastPfnLine);
    for (const e of table) {
      const err = E820_RAM_TYPES.includes(e.type) ? rangeLimitError(limits, e.start, e.end) : null;
      const l = lines[e.lineNo - 1];
      if (err && l) fail(l, l.text.indexOf('[mem') + 5, `e820 RAM ${err}`);
    }
    memory.push(...memblockFromE820(table, edits, sratMem, fakeNode || sratMem.length === 0));
    sources.push(`${userE820.length ? 'user-defined' : 'BIOS-e820'} map${sratMem.length ? ' and SRAT' : ''} (no node ranges in the log)`);
    // A user-defined map already has mem= applied; BIOS-e820 does not.
    memLimitApplied = userE820.length > 0;
  }
  const sorted = [...memory].sort((a, b) => a.base - b.base);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a && b && b.base < a.base + a.size) {
      throw new InputError(`${file}: node ranges overlap at 0x${b.base.toString(16)}: a memory range must not overlap another`);
    }
  }
  // An NFIT range is neither RAM nor another NVDIMM's.
  const overlap = pmemOverlap(
    memory.map((r) => ({ start: r.base, end: r.base + r.size })),
    pmem.map((p) => ({ start: p.base, end: p.base + p.size })),
  );
  const overlapLine = overlap ? pmemLines[overlap.pmemIndex] : undefined;
  if (overlap && overlapLine) fail(overlapLine, overlapLine.text.indexOf('[mem') + 5, overlap.message);
  // SRAT hot-pluggable ranges mark the memblock regions they cover (movable_node).
  const withHotplug = memory.map((r) => (sratMem.some((s) => s.hotplug && s.start <= r.base && r.base + r.size <= s.end) ? { ...r, hotpluggable: true } : r));
  const nids = new Set<number>([...memory.map((r) => r.nid), ...cpus.keys(), ...sratMem.map((s) => s.nid)]);
  if (fakeNode && cpus.size === 0 && allowingCpus) cpus.set(0, allowingCpus);
  const nodes: NodeSpec[] = [...nids].sort((a, b) => a - b).map((nid) => ({ nid, cpus: cpus.get(nid) ?? 0 }));

  const { boot, error } = parseCmdline(cmdline);
  if (error && cmdlineLine) fail(cmdlineLine, 'Command line: '.length + error.column - 1, error.message);

  const possibleEnd = sratMem.reduce((e, r) => Math.max(e, r.end), 0);
  const bootMemory: BootMemory = {
    image: bootMem.image ? { start: 16 * 2 ** 20, end: null, brk: null, ...bootMem.image, freedLater: bootMem.freed } : null,
    initrd: bootMem.initrd,
    crashkernel: bootMem.crashkernel,
    nodeDataBytes: bootMem.nodeDataBytes,
    percpu: bootMem.percpu,
    possibleCpus: bootMem.possibleCpus,
    swiotlb: bootMem.swiotlb,
    swiotlbAreas: bootMem.swiotlbAreas,
    logBufBytes: bootMem.logBufBytes,
    earlyHashBytes: bootMem.earlyHashBytes,
    cmdlineBytes: cmdlineLine ? cmdline.length : null,
    possibleEnd: possibleEnd || null,
  };
  const spec: MachineSpec = {
    name: file,
    arch: archOfRelease(release),
    bootMemory,
    hypervisor,
    memory: withHotplug,
    pmem,
    reserved: null,
    dmaReservePages,
    nodes,
    boot,
    config: { ...DEFAULT_CONFIG, la57, lowmemBytes, ...(boot.memhpDefaultState ? { autoOnlineBlocks: boot.memhpDefaultState } : {}) },
    memLimitApplied,
    ...(e820Final ? { e820: e820Final } : {}),
    ...(bootMem.acpiTables.length ? { acpiTables: bootMem.acpiTables } : {}),
  };
  return { spec, release, build, inputLines, lines, sources };
}

/**
 * The lines boot's memblock model reads: the "Memory:" line's sections (mem_init_print_info), what
 * the kernel frees of its image afterwards, RAMDISK, crashkernel, NODE_DATA, percpu, swiotlb,
 * log_buf_len and the early (memblock, "linear") hash tables. True when the line was one of them.
 */
function readBootMemoryLine(
  t: string,
  b: {
    image: Omit<KernelImage, 'start' | 'end' | 'brk' | 'freedLater'> | null;
    freed: number | null;
    initrd: BootMemory['initrd'];
    crashkernel: BootMemory['crashkernel'];
    nodeDataBytes: number | null;
    percpu: BootMemory['percpu'];
    possibleCpus: number | null;
    swiotlb: BootMemory['swiotlb'];
    swiotlbAreas: number | null;
    logBufBytes: number | null;
    earlyHashBytes: number[];
    acpiTables: ReservedRange[];
  },
  K: (x: string | undefined) => number,
): boolean {
  let m: RegExpExecArray | null;
  const range = (a: string | undefined, z: string | undefined): { start: number; end: number } | null => {
    const s = parseHexAddr(a ?? '');
    const e = parseHexAddr(z ?? '');
    return s === null || e === null || e < s ? null : { start: s, end: e + 1 };
  };
  if ((m = /^Memory: \d+K\/\d+K available \((\d+)K kernel code, (\d+)K rwdata, (\d+)K rodata, (\d+)K init, (\d+)K bss, /.exec(t))) {
    b.image = { code: K(m[1]), rwdata: K(m[2]), rodata: K(m[3]), init: K(m[4]), bss: K(m[5]) };
  } else if ((m = /^Freeing (?:unused kernel image \((?:initmem|text\/rodata gap|rodata\/data gap)\)|SMP alternatives|unused decrypted) memory: (\d+)K$/.exec(t))) {
    b.freed = (b.freed ?? 0) + K(m[1]);
  } else if ((m = /^RAMDISK: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]$/.exec(t))) {
    const r = range(m[1], m[2]);
    if (r) b.initrd = { base: r.start, size: r.end - r.start };
  } else if ((m = /^ACPI: Reserving \S+ table memory at \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]$/.exec(t))) {
    // acpi_reserve_initial_tables (drivers/acpi/tables.c, 5.13+): each table goes into memblock.reserved.
    const r = range(m[1], m[2]);
    if (r) b.acpiTables.push({ base: r.start, size: r.end - r.start });
  } else if ((m = /^(?:crashkernel: )?Reserving (\d+)MB of (?:low )?memory at (\d+)MB for crashkernel/.exec(t))) {
    b.crashkernel = { base: Number(m[2]) * 2 ** 20, size: Number(m[1]) * 2 ** 20 };
  } else if ((m = /^NODE_DATA\(\d+\) allocated \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]$/.exec(t))) {
    const r = range(m[1], m[2]);
    if (r) b.nodeDataBytes = r.end - r.start;
  } else if ((m = /^percpu: Embedded (\d+) pages\/cpu .* u(\d+)$/.exec(t))) {
    b.percpu = { unitPages: Number(m[1]), unitBytes: Number(m[2]) };
  } else if ((m = /^setup_percpu: NR_CPUS:\d+ nr_cpumask_bits:\d+ nr_cpu_ids:(\d+) /.exec(t))) {
    b.possibleCpus = Number(m[1]);
  } else if ((m = /^software IO TLB: mapped \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]/.exec(t))) {
    // swiotlb_print_info prints mem->end, which is exclusive.
    const r = range(m[1], m[2]);
    if (r) b.swiotlb = { size: r.end - 1 - r.start };
  } else if ((m = /^software IO TLB: area num (\d+)\.$/.exec(t))) {
    b.swiotlbAreas = Number(m[1]);
  } else if ((m = /^log_buf_len: (\d+) bytes$/.exec(t))) {
    b.logBufBytes = Number(m[1]);
  } else if ((m = /^(?:Dentry cache|Inode-cache) hash table entries: \d+ \(order: \d+, (\d+) bytes, linear\)$/.exec(t))) {
    b.earlyHashBytes.push(Number(m[1]));
  } else return false;
  return true;
}

/** The e820 types whose ranges become memblock.memory (E820_TYPE_RAM and E820_TYPE_RESERVED_KERN, as e820__print_type names them). */
const E820_RAM_TYPES: readonly string[] = ['usable', 'reserved-kern', 'RAM'];

/**
 * memblock.memory from an e820 table when a log has no node ranges: the usable (RAM) entries
 * with the early edits applied (e820__range_update/remove), trimmed to whole pages
 * (memblock_trim_memory), and split between nodes by SRAT memory affinity (numa_add_memblk,
 * memblock_set_node). Without SRAT every range is node 0 (numa_init's dummy node).
 */
export function memblockFromE820(
  table: readonly { start: number; end: number; type: string }[],
  edits: readonly { start: number; end: number }[],
  srat: readonly { start: number; end: number; nid: number; hotplug: boolean }[],
  singleNode: boolean,
): MemblockRegion[] {
  let ram: { start: number; end: number }[] = table
    .filter((e) => E820_RAM_TYPES.includes(e.type))
    .map((e) => ({ start: e.start, end: e.end }))
    .sort((a, b) => a.start - b.start);
  ram = editRanges(ram, edits, (r, e) =>
    r.end <= e.start || r.start >= e.end ? null : [...(r.start < e.start ? [{ start: r.start, end: e.start }] : []), ...(r.end > e.end ? [{ start: e.end, end: r.end }] : [])],
  );
  const page = 4096;
  const out: MemblockRegion[] = [];
  const push = (start: number, end: number, nid: number, hotpluggable: boolean): void => {
    if (end <= start) return;
    const last = out[out.length - 1];
    if (last && last.nid === nid && last.base + last.size === start && last.hotpluggable === hotpluggable) {
      out[out.length - 1] = { ...last, size: end - last.base };
    } else {
      out.push({ base: start, size: end - start, nid, hotpluggable, mirror: false });
    }
  };
  for (const r of ram) {
    const start = Math.ceil(r.start / page) * page;
    const end = Math.floor(r.end / page) * page;
    if (end <= start) continue;
    if (singleNode || srat.length === 0) {
      push(start, end, 0, false);
      continue;
    }
    for (const s of [...srat].sort((a, b) => a.start - b.start)) {
      push(Math.max(start, s.start), Math.min(end, s.end), s.nid, s.hotplug);
    }
  }
  return out;
}

/** The architecture a release string names (x86_64 unless it says otherwise). */
export function archOfRelease(release: string | null): ArchName {
  if (release === null) return 'x86_64';
  if (/aarch64|arm64/.test(release)) return 'arm64';
  if (/i[3-6]86|-686|-pae\b/.test(release)) return 'i386';
  if (/s390/.test(release)) return 's390x';
  return 'x86_64';
}
