// Reading a machine back from a real boot log: the "Linux version" and "Command line" lines,
// "Hypervisor detected", SRAT CPU and memory affinity, the "Early memory node ranges" block
// (memblock.memory exactly as the kernel had it) and, for kernels that print it,
// "DMA zone: N pages reserved" (dma_reserve).
import { InputError } from '../errors.js';
import { DEFAULT_CONFIG, type MachineSpec, type MemblockRegion, type NodeSpec } from '../kernel/machine.js';
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
  const cpus = new Map<number, number>();
  let fakeNode = false;
  let allowingCpus = 0;
  let inNodeRanges = false;

  for (const l of lines) {
    const t = l.text;
    let m: RegExpExecArray | null;
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
      memory.push({ base: start, size: last + 1 - start, nid: Number(m[1]), hotpluggable: false, mirror: false });
      inputLines.add(l.lineNo);
      continue;
    } else if ((m = /^(?:ACPI: )?SRAT: Node (\d+) PXM \d+ \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\](.*)$/.exec(t))) {
      const start = parseHexAddr(m[2] ?? '');
      const last = parseHexAddr(m[3] ?? '');
      if (start === null || last === null) return fail(l, 0, 'expected an SRAT memory range');
      sratMem.push({ start, end: last + 1, nid: Number(m[1]), hotplug: /hotplug/.test(m[4] ?? '') });
      inputLines.add(l.lineNo);
    } else if ((m = /^SRAT: PXM \d+ -> (?:x2)?APIC 0x[0-9a-f]+ -> Node (\d+)$/.exec(t))) {
      const nid = Number(m[1]);
      cpus.set(nid, (cpus.get(nid) ?? 0) + 1);
      inputLines.add(l.lineNo);
    } else if (/^(?:NUMA: )?No NUMA configuration found$/.test(t)) {
      fakeNode = true;
    } else if ((m = /^(?:smpboot|CPU topo): Allowing (\d+) (?:present )?CPUs/.exec(t))) {
      allowingCpus = Number(m[1]);
    } else if ((m = /^  (DMA|DMA32) zone: (\d+) pages reserved$/.exec(t))) {
      dmaReservePages = Number(m[2]);
      inputLines.add(l.lineNo);
    }
    inNodeRanges = false;
  }

  if (memory.length === 0) {
    throw new InputError(
      `${file}: no "Early memory node ranges" block with node lines: mmsim reads memblock.memory from it; give a YAML machine instead`,
    );
  }
  const sorted = [...memory].sort((a, b) => a.base - b.base);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a && b && b.base < a.base + a.size) {
      throw new InputError(`${file}: node ranges overlap at 0x${b.base.toString(16)}: a memory range must not overlap another`);
    }
  }
  // SRAT hot-pluggable ranges mark the memblock regions they cover (movable_node).
  const withHotplug = memory.map((r) =>
    sratMem.some((s) => s.hotplug && s.start <= r.base && r.base + r.size <= s.end) ? { ...r, hotpluggable: true } : r,
  );
  const nids = new Set<number>([...memory.map((r) => r.nid), ...cpus.keys(), ...sratMem.map((s) => s.nid)]);
  if (fakeNode && cpus.size === 0 && allowingCpus) cpus.set(0, allowingCpus);
  const nodes: NodeSpec[] = [...nids].sort((a, b) => a - b).map((nid) => ({ nid, cpus: cpus.get(nid) ?? 0 }));

  const { boot, error } = parseCmdline(cmdline);
  if (error && cmdlineLine) fail(cmdlineLine, 'Command line: '.length + error.column - 1, error.message);

  const spec: MachineSpec = {
    name: file,
    arch: 'x86_64',
    hypervisor,
    memory: withHotplug,
    pmem: [],
    reserved: null,
    dmaReservePages,
    nodes,
    boot,
    config: DEFAULT_CONFIG,
    memLimitApplied: true,
  };
  return { spec, release, build, inputLines, lines };
}
