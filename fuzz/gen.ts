// Arbitraries shared by the structured generators: addresses (aligned, near the kernel's limits,
// beyond them), memory layouts of non-overlapping ranges, kernel releases and command lines; and
// the checks shared by the entry points that boot a machine.
import fc from 'fast-check';
import { parseZoneinfo, zoneField } from '../src/formats/zoneinfo.js';
import { printBootZoneinfo } from '../src/formats/zoneinfo-print.js';
import type { BootState } from '../src/kernel/mm_init.js';
import type { Machine } from '../src/kernel/machine.js';
import type { MachineSpec } from '../src/kernel/machine_spec.js';
import { EXTREME_INTEGERS } from './mutate.js';
import { OracleFailure } from './harness.js';

const B = (e: number): bigint => 2n ** BigInt(e);
const MiB = B(20);

/** `arb` with probability `p`, else null (fc.option's `freq` is the other way round: null with 1/freq). */
export function rarely<T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | null> {
  const w = Math.round(p * 100);
  return fc.oneof({ weight: 100 - w, arbitrary: fc.constant(null) }, { weight: w, arbitrary: arb });
}

/** An address or size: mostly aligned and moderate, sometimes at or past a limit. */
export const address: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.bigInt(0n, 4096n), fc.constantFrom(B(12), B(21), B(27), B(30))).map(([n, g]) => n * g) },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREME_INTEGERS) },
  { weight: 1, arbitrary: fc.bigInt(0n, B(64)) },
);

/** A count (CPUs, node ids, pages): mostly small, sometimes extreme. */
export const count: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt(0n, 8n) },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREME_INTEGERS, 63n, 64n, 1023n, 1024n, 8191n, 8192n, 1_000_000n) },
);

export interface Range {
  readonly nid: bigint;
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
}

/**
 * Ranges laid out one after another on nodes 0..3 (gaps and sizes in MiB, so mostly valid), with
 * now and then one range's end or start replaced by an extreme address.
 */
export const layout: fc.Arbitrary<Range[]> = fc
  .record({
    base: fc.constantFrom(0n, MiB, B(30), B(32)),
    parts: fc.array(fc.record({ nid: fc.oneof({ weight: 9, arbitrary: fc.bigInt(0n, 3n) }, { weight: 1, arbitrary: count }), gap: fc.bigInt(0n, 4096n), size: fc.bigInt(1n, 16384n) }), {
      minLength: 1,
      maxLength: 6,
    }),
    extreme: rarely(fc.record({ which: fc.nat(5), start: fc.boolean(), v: address }), 0.25),
    unit: fc.constantFrom(MiB, 2n * MiB, 128n * MiB),
  })
  .map(({ base, parts, extreme, unit }) => {
    let at = base;
    const out: Range[] = parts.map((p) => {
      const start = at + p.gap * unit;
      const end = start + p.size * unit;
      at = end;
      return { nid: p.nid, start, end };
    });
    if (extreme) {
      const i = extreme.which % out.length;
      const r = out[i] as Range;
      out[i] = extreme.start ? { ...r, start: extreme.v } : { ...r, end: extreme.v };
    }
    return out;
  });

/** Kernel releases as "Linux version" prints them, and a few that are not. */
export const release: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      '6.1.0-13-amd64',
      '6.18.0',
      '6.8.0-31-generic',
      '5.10.0-20-amd64',
      '5.19.0-0.deb11.2-amd64',
      '5.14.21-150400.22-default',
      '4.19.0-6-arm64',
      '5.3.0',
      '4.18.0-80.el8.x86_64',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('4.9.60-i586', '3.10.0', '99.99.99', '6', '6.1', 'x', '1e308', '6.1.0\u0000', '6.1.0-\u001b[31m', '-1.-1') },
);

/** A kernel option for the `kernel:` key of YAML files (short forms and full releases). */
export const kernelOption: fc.Arbitrary<string> = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('6.18', '6.1', '5.3', '4.19', '5.10', '6.8') }, { weight: 2, arbitrary: release });

/** Boot options the model reads, with good and bad values. */
export const cmdline: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'mem=0',
        'mem=1G',
        'mem=4096M',
        'mem=18446744073709551615',
        'movablecore=10%',
        'movablecore=1G',
        'kernelcore=2G',
        'kernelcore=mirror',
        'kernelcore=lots',
        'movable_node',
        'numa=off',
        'numa=fake=4',
        'memhp_default_state=online',
        'memhp_default_state=online_movable',
        'memhp_default_state=bogus',
        'memory_hotplug.memmap_on_memory=1',
        'memory_hotplug.memmap_on_memory=force',
        'memory_hotplug.online_policy=auto-movable',
        'memmap=1G$4G',
        'memmap=64K@0',
        'page_init_poisoning=1',
        'quiet',
      ),
      fc.tuple(fc.constantFrom('mem=', 'movablecore=', 'kernelcore=', 'memmap='), fc.constantFrom(...EXTREME_INTEGERS)).map(([k, v]) => `${k}${v}`),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 4 },
  )
  .map((xs) => xs.join(' '));

/**
 * Limits no kernel exceeds, as lenient bounds (a machine within them may still be refused):
 * physical addresses below 2^52 (MAX_PHYSMEM_BITS: x86_64 46, or 52 with 5-level paging; arm64
 * at most 52) and 2^36 on i386 (PAE); node ids below 1024 (MAX_NUMNODES at NODES_SHIFT 10, the
 * largest Kconfig allows); at most 8192 CPUs (NR_CPUS with MAXSMP). A machine accepted beyond
 * them is a finding ("accepted nonsense").
 */
export const KERNEL_BOUNDS = { physBits: 52, physBitsI386: 36, maxNumNodes: 1024, nrCpus: 8192 } as const;

function physLimit(arch: string): number {
  return 2 ** (arch === 'i386' ? KERNEL_BOUNDS.physBitsI386 : KERNEL_BOUNDS.physBits);
}

export function checkKernelBounds(spec: MachineSpec): void {
  const limit = physLimit(spec.arch);
  for (const r of [...spec.memory, ...spec.pmem]) {
    if (!(r.base + r.size <= limit)) throw new OracleFailure(`accepted: memory beyond 2^${Math.log2(limit)}`, `[0x${r.base.toString(16)}, 0x${(r.base + r.size).toString(16)}) on ${spec.arch}`);
  }
  for (const r of [...spec.memory, ...spec.pmem]) {
    if (!(r.nid >= 0 && r.nid < KERNEL_BOUNDS.maxNumNodes)) throw new OracleFailure(`accepted: a node id of ${KERNEL_BOUNDS.maxNumNodes} or more`, `node ${r.nid}`);
  }
  for (const n of spec.nodes) if (!(n.nid >= 0 && n.nid < KERNEL_BOUNDS.maxNumNodes)) throw new OracleFailure(`accepted: a node id of ${KERNEL_BOUNDS.maxNumNodes} or more`, `node ${n.nid}`);
  const cpus = spec.nodes.reduce((s, n) => s + n.cpus, 0);
  if (!(cpus <= KERNEL_BOUNDS.nrCpus)) throw new OracleFailure(`accepted: more than ${KERNEL_BOUNDS.nrCpus} CPUs`, `${cpus} CPUs`);
}

/** A running machine's memory blocks (hot-added ones included) within the physical address bound. */
export function checkMachineBounds(m: Machine): void {
  const limit = physLimit(m.state.spec.arch);
  for (const b of m.blocks.values()) {
    const end = (b.startPfn + b.nrPages) * m.pageBytes;
    if (!(end <= limit)) throw new OracleFailure(`accepted: memory beyond 2^${Math.log2(limit)}`, `memory${b.id} ends at 0x${end.toString(16)}`);
  }
}

/**
 * mmsim's own zoneinfo printer against its parser: a booted machine's /proc/zoneinfo must parse
 * back, with each zone's spanned, present and start_pfn as the model has them.
 */
export function checkBootZoneinfo(state: BootState): void {
  const text = printBootZoneinfo(state);
  if (text === '') throw new OracleFailure('accepted: a machine with no memory online (an empty zoneinfo)', 'printBootZoneinfo printed nothing');
  let parsed;
  try {
    parsed = parseZoneinfo(text);
  } catch (e) {
    throw new OracleFailure('boot zoneinfo does not parse back', e instanceof Error ? e.message : String(e));
  }
  for (const node of state.nodes.filter((n) => n.online)) {
    for (const z of node.zones) {
      const r = parsed.records.find((x) => x.node === node.nodeId && x.zone === z.name);
      if (!r) throw new OracleFailure('boot zoneinfo does not parse back', `node ${node.nodeId} zone ${z.name}: no record`);
      const spanned = zoneField(r, 'spanned');
      if (spanned !== z.spannedPages)
        throw new OracleFailure('boot zoneinfo print/parse differs', `node ${node.nodeId} zone ${z.name}: spanned ${spanned} parsed back, ${z.spannedPages} in the model`);
    }
  }
}
