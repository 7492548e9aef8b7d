// `mmsim verify --race SCENARIO --kernel IMAGE`: a built-in scenario's concurrent tasks as
// concurrent guest loops on a real kernel under QEMU, against mmsim explore's verdict for the same
// scenario, kernel release (read from the image) and kernel config.
//
// seed-2019 in the model: one node, namespace B (128 MiB, --map=dev) mapped, and namespace A
// (128 MiB right below B) memremapped (memremap_pages) while B is memunmapped. In the guest: two
// NUMA nodes of 1 GiB; three label-less NVDIMMs on node 1 — K (1 GiB, a guard namespace created
// first and kept: without a namespace below A and B, removing both lets the node-span scan reach
// the uninitialised memmap of the BIOS-reserved tail of low RAM, a different bug), A (6 GiB) and B
// (256 MiB, above A); each an fsdax namespace with --map=dev, as the model's. A's task is `echo
// pfnA > .../nd_pmem/bind` (nd_pmem_probe -> devm_memremap_pages), B's is `echo pfnB >
// .../nd_pmem/unbind` (devm_memremap_pages_release -> memunmap_pages); each loop unbinds then
// binds its own device, so every pairing of A's map with B's unmap comes round again and again.
// A and B are larger than the model's (QEMU's NVDIMMs must be whole sections; a 6 GiB A makes
// memmap_init_zone_device's window, the model's preemption point, long enough to hit by
// looping); both lie in one node's ZONE_DEVICE with B directly above A, which is all the model's
// traces depend on (docs/fidelity.md). seed-2019-map-mem creates the namespaces with --map=mem, as
// ../shared/kernels' own race runs did; --zone-steps --no-guard leaves K out (the guard's absence
// is a bug of its own on 5.3 with PGFLAGS: the model's zone steps show it).
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bzImageVersion } from '../formats/bzimage.js';
import { parseKernelReports, type KernelReport } from '../formats/oops.js';
import { InputError } from '../errors.js';
import { explore, invariantOf, type ExploreViolation } from '../drivers/explore.js';
import { makeWorldOf } from '../drivers/explore_jobs.js';
import { ExpectFailed, runScenario } from '../drivers/run.js';
import { BUILTIN_SCENARIOS, type DebugConfig } from '../designs/builtin_scenarios.js';
import { POISONED_READ_FAULTS } from '../kernel/debug.js';
import { WALKERS, type WalkerName } from '../kernel/walkers.js';
import { buildBuiltinInitrd } from './setup.js';
import { Vm } from './vm.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** The scenarios --race runs (those whose concurrent tasks are nd_pmem bind/unbind). */
export const RACE_SCENARIOS = ['seed-2019', 'seed-2019-map-mem'] as const;

/** How a race scenario's namespaces are mapped (ndctl create-namespace --map). */
export function raceMap(scenario: string): 'dev' | 'mem' {
  return scenario === 'seed-2019-map-mem' ? 'mem' : 'dev';
}

export interface RaceOptions {
  readonly scenario: string;
  readonly kernel: string;
  readonly config: DebugConfig;
  /** The loops' time bound, seconds of guest uptime. */
  readonly seconds: number;
  /** At most this many cycles per loop. */
  readonly cycles?: number;
  /** Run A's and B's steps one after the other in one loop (no race: the control). */
  readonly sequential?: boolean;
  /** Instead of loops: create K, A, B, destroy B, destroy A, the Device zones after each step. */
  readonly zoneSteps?: boolean;
  /** With zoneSteps: K is not created (only A and B); default true. */
  readonly guard?: boolean;
  readonly keep?: boolean;
  /** Added to the kernel command line (a reproducer patch's parameter: mmsim_delay_ms=2000). */
  readonly kernelArgs?: string;
  /** Pfn walkers run as one more loop over A's namespace, as `explore --walker` adds them (RACE_WALKERS). */
  readonly walkers?: readonly WalkerName[];
}

/**
 * The walkers the guest runs (--walker): kpageflags, as `dd` of /proc/kpageflags over A's pfns
 * (kpageflags_read). The others have no user-space trigger on ../shared's kernels: memory_failure
 * needs CONFIG_MEMORY_FAILURE; compaction, set_zone_contiguous and test_pages_in_a_zone run
 * inside the kernel over RAM zones or memory blocks, not over A's ZONE_DEVICE pfns.
 */
export const RACE_WALKERS: readonly WalkerName[] = ['kpageflags'];

/** A kernel report with the invariant mmsim explore names it by. */
export interface RealViolation {
  readonly invariant: string;
  readonly report: KernelReport;
}

/** The Device zones of /proc/zoneinfo after a step. */
export interface ZoneStep {
  readonly step: string;
  readonly rc: number | null;
  /** "Node N Device": spanned (present and managed are 0 for ZONE_DEVICE). */
  readonly spanned: Record<string, number>;
}

export interface RaceResult {
  readonly scenario: string;
  readonly kernel: string;
  readonly release: string;
  /** What --kernel-args added to the command line, where given. */
  readonly kernelArgs?: string;
  readonly config: DebugConfig;
  readonly mode: 'concurrent' | 'sequential' | 'zone-steps';
  /** The namespaces' --map (built-in scenarios). */
  readonly map?: 'dev' | 'mem';
  /** Whether K was created below A and B (built-in scenarios). */
  readonly guard?: boolean;
  /** A scenario file's loops: each operation of its concurrent block, what a cycle does, and its inverse. */
  readonly loops?: readonly { readonly name: string; readonly at: string; readonly op: string; readonly forward: string; readonly inverse: string }[];
  readonly bound: { readonly seconds: number; readonly cycles: number | null };
  /** The walker loops: each reads [start, end) (pfns, A's namespace) once a cycle; passes: those that ended; pfnsRead: the most one pass read (fewer where the file ends first). */
  readonly walkers?: readonly { readonly name: WalkerName; readonly start: number; readonly end: number; readonly passes: number; readonly pfnsRead: number }[];
  /** The guest's namespaces: role -> name, pfn device, size. */
  readonly namespaces: readonly { readonly role: string; readonly namespace: string; readonly pfn: string; readonly bytes: number }[];
  readonly real: {
    readonly violations: readonly RealViolation[];
    /** Seconds from the loops' start (printk time) to the first report. */
    readonly secondsToFirst: number | null;
    /** Cycles each loop finished before the first report (or in all). */
    readonly cyclesToFirst: Record<string, number> | null;
    readonly cycles: Record<string, number>;
    /** Seconds the loops ran (guest printk time). */
    readonly loopSeconds: number | null;
    readonly bootSeconds: number;
    readonly wallSeconds: number;
    readonly zoneSteps: readonly ZoneStep[];
    /** A scenario file's loops: actions that did not go as asked ("@@FAIL" lines, QMP errors). */
    readonly failures?: readonly string[];
  };
  /** --zone-steps: the model's Device zones after each step (run driver), and where they differ from the real kernel's. */
  readonly zones?: {
    readonly model: readonly Record<string, number>[];
    readonly diffs: readonly string[];
    /** The step where the model's run stopped on one of its checks, and the check's words (the steps from it not compared). */
    readonly stopped?: { readonly step: string; readonly message: string };
  };
  readonly model: {
    readonly design: string;
    /** Invariants the model breaks that this config's kernel reports (a VM_BUG_ON, a BUG:). */
    readonly reported: readonly string[];
    /** Invariants the model breaks that this config leaves silent (the model's own checks). */
    readonly silent: readonly string[];
    readonly interleavings: number;
    readonly exhaustive: boolean;
  };
  readonly agree: boolean;
  readonly why: string;
}

/** The invariant a real kernel report is an instance of, named as mmsim explore names it. */
export function realInvariant(r: KernelReport): string {
  // A fault at the address a poisoned struct page's all-ones fields lead to, in the function the
  // model's checker names for that read: the kernel's answer to reading the page.
  const fault = /^BUG: unable to handle (?:page fault for address: |kernel paging request at )([0-9a-f]+)$/.exec(r.headline.trim());
  if (fault && POISONED_READ_FAULTS.some((f) => f.address === fault[1] && f.fn === r.rip)) return 'poisoned struct page read';
  const e = r.expression ?? '';
  if (/bad_range\(/.test(e)) return 'bad_range';
  if (e) {
    const inv = invariantOf(e);
    if (inv !== (e.split(':')[0] ?? e)) return inv;
  }
  return `${r.kind}${r.where ? ` at ${r.where}` : ''}${e ? `: ${e}` : ''}`;
}

/**
 * Whether the kernel of this config prints the model's violation: CONFIG_DEBUG_VM's VM_BUG_ONs
 * and BUG:s do; a poisoned page read without DEBUG_VM_PGFLAGS, stale bytes and the model's own
 * span checks without DEBUG_VM print nothing (their messages say so).
 */
export function kernelReports(v: ExploreViolation, config: DebugConfig): boolean {
  if (config === 'no_debug_vm') return v.invariant === 'might_sleep' || v.invariant === 'deadlock';
  if (/no CONFIG_DEBUG_VM_PGFLAGS|CONFIG_DEBUG_VM off|nothing reported/.test(v.message)) return false;
  return /VM_BUG_ON|^BUG: |outside node \d+ zone|^deadlock/.test(v.message) || v.invariant === 'bad_range';
}

/** The model's verdict: explore's violations, split into what this config's kernel reports and what it leaves silent. */
export function modelVerdict(scenario: string, release: string, config: DebugConfig, sequential: boolean, walkers: readonly WalkerName[] = []): RaceResult['model'] {
  const design = release.replace(/\+$/, '');
  // One after the other is the interleavings without a preemption: each task runs to its end.
  const r = explore(makeWorldOf(scenario, design, [], config, walkers), sequential ? { preemptionBound: 0 } : {});
  const reported: string[] = [];
  const silent: string[] = [];
  // Without a preemption each task runs to its end before another starts: whatever that search
  // breaks, the one loop running the steps in turn can break (a walker's read after A's bind).
  for (const v of r.violations) {
    (kernelReports(v, config) ? reported : silent).push(v.invariant);
  }
  return { design, reported, silent, interleavings: r.interleavings, exhaustive: r.exhaustive };
}

/** Agreement: every invariant the real kernel broke is one the model breaks (and reports), and what the model predicts showed. */
export function judge(real: readonly string[], model: RaceResult['model'], bound: string): { agree: boolean; why: string } {
  // Explore names an invariant with the task that broke it when tasks differ ("poisoned struct page read (memunmap B)").
  const base = (i: string): string => i.replace(/ \([^)]*\)$/, '');
  const reported = model.reported.map(base);
  const silent = model.silent.map(base);
  const unpredicted = real.filter((i) => !reported.includes(i));
  if (unpredicted.length)
    return {
      agree: false,
      why: `the real kernel broke ${unpredicted.join(', ')}, which the model says ${silent.includes(unpredicted[0] ?? '') ? 'this config does not report' : 'cannot break'}`,
    };
  if (model.reported.length && !real.length) return { agree: false, why: `the model predicts ${model.reported.join(', ')}; the real kernel showed none in ${bound}` };
  if (real.length) return { agree: true, why: `the real kernel broke ${[...new Set(real)].join(', ')}, as the model predicts` };
  return { agree: true, why: `no BUG, WARN or Oops in ${bound}; the model predicts none this config reports (not a proof that none can happen)` };
}

export function checkImage(kernel: string): { release: string } {
  if (!existsSync(kernel)) throw new InputError(`verify --race: kernel image ${kernel} does not exist; give a bzImage (e.g. ../shared/kernels/v5.3/bzImage-nopgflags)`);
  return bzImageVersion(kernel, readFileSync(kernel));
}

export function haveQemu(): boolean {
  return spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
}

/** The NVDIMMs' sizes: K (the guard), A and B, in QEMU's device order (and so address order). */
export const RACE_NVDIMMS: Readonly<Record<'K' | 'A' | 'B', number>> = { K: GiB, A: 6 * GiB, B: 256 * MiB };

/** The guest machine's QEMU arguments: 2 nodes of 1 GiB (a CPU each), K, A and B as NVDIMMs on node 1 backed by `image(role)`. */
export function raceMachineArgs(image: (role: string) => string): string[] {
  const args = [
    '-machine',
    'pc,nvdimm=on',
    '-smp',
    '2,sockets=2',
    '-m',
    '2G,slots=4,maxmem=16G',
    '-object',
    'memory-backend-ram,id=m0,size=1G',
    '-numa',
    'node,nodeid=0,memdev=m0,cpus=0',
    '-object',
    'memory-backend-ram,id=m1,size=1G',
    '-numa',
    'node,nodeid=1,memdev=m1,cpus=1',
  ];
  for (const [i, [role, size]] of Object.entries(RACE_NVDIMMS).entries())
    args.push('-object', `memory-backend-file,id=nv${i},share=on,mem-path=${image(role)},size=${size}`, '-device', `nvdimm,id=nvdimm${i},memdev=nv${i},node=1`);
  return args;
}

/** The guest machine (raceMachineArgs) with fresh NVDIMM image files in dir. */
function raceQemuArgs(dir: string): { args: string[]; sizes: Readonly<Record<'K' | 'A' | 'B', number>> } {
  for (const [role, size] of Object.entries(RACE_NVDIMMS)) {
    // A fresh image every boot: an info block left by an earlier run changes what the next does.
    const img = join(dir, `nv${role}.img`);
    writeFileSync(img, '');
    truncateSync(img, size);
  }
  return { args: raceMachineArgs((role) => join(dir, `nv${role}.img`)), sizes: RACE_NVDIMMS };
}

const UP = 'cut -d. -f1 /proc/uptime';

/**
 * One loop's shell text: until the bound, unbind then bind each device; a line per finished cycle.
 * The pfn devices, seconds and cycles may be shell words ("$PA", "$S"): the reproducer's guest
 * script (verify/reproducer.ts) runs the same loops.
 */
export function loopText(name: string, pfns: readonly string[], seconds: number | string, cycles: number | string | null): string {
  return loopOf(name, bindSteps(name, pfns), seconds, cycles);
}

/** Unbind then bind each pfn device, a failed bind named on the console. */
function bindSteps(name: string, pfns: readonly string[]): string {
  const D = '/sys/bus/nd/drivers/nd_pmem';
  return pfns.map((p) => `echo ${p} > ${D}/unbind; echo ${p} > ${D}/bind || echo "@@FAIL ${name} bind ${p}"`).join('; ');
}

/**
 * A walker loop's shell text: each cycle reads the pfns [start, end) of /proc/kpageflags (8 bytes
 * a pfn, 512 a 4 KiB block: start and end must be multiples of 512), as `explore --walker
 * kpageflags` walks A's namespace.
 */
export function kpageflagsLoopText(name: string, start: number, end: number, seconds: number, cycles: number | null): string {
  if (start % 512 || end % 512 || end <= start) throw new Error(`kpageflags loop: [0x${start.toString(16)}, 0x${end.toString(16)}) is not whole 4 KiB blocks of /proc/kpageflags`);
  return loopOf(name, kpageflagsRead(name, start, end), seconds, cycles);
}

/** One pass of a kpageflags walker, and the bytes it read ("@@READ name bytes": 8 a pfn; fewer where the file ends first). */
function kpageflagsRead(name: string, start: number, end: number): string {
  return `b=$(dd if=/proc/kpageflags bs=4096 skip=${start / 512} count=${(end - start) / 512} 2>/dev/null | wc -c); echo "@@READ ${name} $b"`;
}

function loopOf(name: string, body: string, seconds: number | string, cycles: number | string | null): string {
  const more = cycles === null ? '' : ` && [ $n -lt ${cycles} ]`;
  return `( n=0; end=$(( $(${UP}) + ${seconds} )); while [ $(${UP}) -lt $end ]${more}; do ${body}; n=$((n+1)); echo "@@CYCLE ${name} $n"; done; echo "@@LOOP ${name} $n" )`;
}

/**
 * The console after a run: its reports named as explore names invariants, and the times the
 * result gives (printk time from the `start` marker to the first report and to the loops' end;
 * the boot and the whole run in wall seconds since t0).
 */
export function readRaceConsole(
  text: string,
  start: string | null,
  t0: number,
  bootSeconds: number,
): { violations: RealViolation[]; times: Pick<RaceResult['real'], 'secondsToFirst' | 'loopSeconds' | 'bootSeconds' | 'wallSeconds'> } {
  const reports = parseKernelReports(text);
  const t = start === null ? null : printkTimeOf(text, start);
  const first = reports[0]?.time ?? null;
  const done = printkTimeOf(text, 'mmsim-race: loops done');
  return {
    violations: reports.map((report) => ({ invariant: realInvariant(report), report })),
    times: {
      secondsToFirst: first !== null && t !== null ? Math.round((first - t) * 1000) / 1000 : null,
      loopSeconds: t !== null ? Math.round(((done ?? first ?? t) - t) * 1000) / 1000 : null,
      bootSeconds: Math.round(bootSeconds * 10) / 10,
      wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
    },
  };
}

/** Printk time of a console line containing `marker`. */
function printkTimeOf(console: string, marker: string): number | null {
  for (const l of console.split('\n')) if (l.includes(marker)) return Number(/^\[\s*(\d+\.\d+)\]/.exec(l)?.[1] ?? NaN) || null;
  return null;
}

/** The Device zones' spanned pages from zoneinfo's lines ("Node 1, zone Device" then "spanned N"). */
function deviceSpans(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  let zone: string | null = null;
  for (const l of text.split('\n')) {
    const z = /^Node (\d+), zone\s+(\w+)/.exec(l);
    if (z) zone = z[2] === 'Device' ? `Node ${z[1]} Device` : null;
    const s = /^\s+spanned\s+(\d+)/.exec(l);
    if (zone && s) out[zone] = Number(s[1]);
  }
  return out;
}

/**
 * The guest as a machine file and the zone steps as a scenario file, for the run driver (the same
 * text as examples/race/race-guest.yaml and zone-steps.scenario.yaml, which are --map=dev with the
 * guard): the NVDIMMs where QEMU places them (from 4 GiB, in device order), namespaces named by
 * the model's region order.
 */
export const RACE_GUEST_YAML = `kernel: "5.3"
nodes:
  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x40000000 }] }
  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }], pmem: [{ start: 4G, size: 1G }, { start: 5G, size: 6G }, { start: 11G, size: 256M }] }
`;
export const ZONE_STEPS_YAML = `machine: race-guest.yaml
steps:
  - ndctl: { args: "create-namespace -f -e namespace0.0 --mode=fsdax --map=dev" }
  - ndctl: { args: "create-namespace -f -e namespace1.0 --mode=fsdax --map=dev" }
  - ndctl: { args: "create-namespace -f -e namespace2.0 --mode=fsdax --map=dev" }
  - ndctl: { args: "destroy-namespace -f namespace2.0" }
  - ndctl: { args: "destroy-namespace -f namespace1.0" }
`;
/** The zone steps' labels, in order (the model's scenario steps and the guest's). */
export const ZONE_STEP_LABELS = ['create K', 'create A', 'create B', 'destroy B', 'destroy A'] as const;

/** The zone steps of a --map and guard: their labels and the scenario file's text (debug_vm: page_init_poison on). */
export function zoneStepsScenario(map: 'dev' | 'mem', guard: boolean, debugVm = false): { labels: string[]; yaml: string } {
  const steps: [string, string][] = [
    ['create K', `create-namespace -f -e namespace0.0 --mode=fsdax --map=${map}`],
    ['create A', `create-namespace -f -e namespace1.0 --mode=fsdax --map=${map}`],
    ['create B', `create-namespace -f -e namespace2.0 --mode=fsdax --map=${map}`],
    ['destroy B', 'destroy-namespace -f namespace2.0'],
    ['destroy A', 'destroy-namespace -f namespace1.0'],
  ];
  const used = guard ? steps : steps.slice(1);
  const yaml = `machine: race-guest.yaml\n${debugVm ? 'debug_vm: true\n' : ''}steps:\n${used.map(([, a]) => `  - ndctl: { args: "${a}" }\n`).join('')}`;
  return { labels: used.map(([l]) => l), yaml };
}

/** The model's Device zones after each zone step: the scenario through the run driver (`mmsim run --print zoneinfo`). */
export function modelZoneSteps(release: string, dir: string, map: 'dev' | 'mem' = 'dev', guard = true): { spans: Record<string, number>[]; stopped?: { step: string; message: string } } {
  writeFileSync(join(dir, 'race-guest.yaml'), RACE_GUEST_YAML);
  const { labels, yaml } = zoneStepsScenario(map, guard);
  writeFileSync(join(dir, 'zone-steps.scenario.yaml'), yaml);
  let text = '';
  let stopped: { step: string; message: string } | undefined;
  try {
    runScenario(join(dir, 'zone-steps.scenario.yaml'), ['zoneinfo'], release, (t) => (text += t));
  } catch (e) {
    // A step that breaks one of the run driver's checks stops the run (5.3 without the guard:
    // the node's span search passes the e820-reserved tail, reads it as no node and ends node 1
    // at 0x7fe00, inside its DMA32 zone): the spans before it are compared, not the rest.
    if (!(e instanceof ExpectFailed)) throw e;
    const m = /:(\d+):\d+: (.*)$/s.exec(e.message);
    if (!m) throw e;
    stopped = { step: labels[Number(m[1]) - 3] ?? 'a zone step', message: m[2] as string };
  }
  const spans = text
    .split(/^##### step \d+: zoneinfo$/m)
    .slice(1)
    .map((chunk) => deviceSpans(chunk.split(/^##### /m)[0] ?? ''));
  return { spans, ...(stopped ? { stopped } : {}) };
}

/**
 * The model's verdict on the zone steps themselves (no race: each step runs to its end, in order):
 * the run driver with page_init_poison, whose checkers stop at the first poisoned struct page
 * read (PF_POISONED_CHECK) or other broken invariant. A poisoned read is reported under
 * debug_vm_pgflags only (without PGFLAGS the kernel reads the all-ones flags and goes on); the
 * invariant is named with the step ("poisoned struct page read (destroy A)").
 */
export function modelZoneStepsVerdict(release: string, config: DebugConfig, dir: string, map: 'dev' | 'mem', guard: boolean): RaceResult['model'] {
  const design = release.replace(/\+$/, '');
  const none = { design, reported: [], silent: [], interleavings: 1, exhaustive: true };
  if (config === 'no_debug_vm') return none;
  const { labels, yaml } = zoneStepsScenario(map, guard, true);
  writeFileSync(join(dir, 'race-guest.yaml'), RACE_GUEST_YAML);
  const file = join(dir, 'zone-steps-debug.scenario.yaml');
  writeFileSync(file, yaml);
  try {
    runScenario(file, [], design, () => undefined);
    return none;
  } catch (e) {
    if (!(e instanceof ExpectFailed)) throw e;
    // "FILE:LINE:COL: message": the steps start on line 4 (machine, debug_vm, steps).
    const m = /:(\d+):\d+: (.*)$/s.exec(e.message);
    if (!m) throw e;
    const label = labels[Number(m[1]) - 4] ?? 'a zone step';
    const message = m[2] as string;
    const inv = `${invariantOf(message)} (${label})`;
    const reported = config === 'debug_vm_pgflags' || !message.includes('PagePoisoned');
    return { ...none, reported: reported ? [inv] : [], silent: reported ? [] : [inv] };
  }
}

/** Run the scenario on the real kernel and the model; the result (its verdict in agree/why). */
export async function verifyRace(o: RaceOptions, log: (s: string) => void): Promise<RaceResult> {
  if (!(RACE_SCENARIOS as readonly string[]).includes(o.scenario)) {
    const builtin = (BUILTIN_SCENARIOS as readonly string[]).includes(o.scenario);
    throw new InputError(
      `verify --race ${o.scenario}: ${builtin ? 'its concurrent tasks are not nd_pmem bind/unbind; --race runs' : 'expected a scenario file (FILE.scenario.yaml) or a built-in scenario:'} ${RACE_SCENARIOS.join(', ')}`,
    );
  }
  const walkers = o.walkers ?? [];
  for (const w of walkers)
    if (!RACE_WALKERS.includes(w))
      throw new InputError(
        `verify --race --walker ${w}: the guest runs ${RACE_WALKERS.join(', ')} only (${(WALKERS as readonly string[]).includes(w) ? `${w} has no user-space trigger on these kernels` : `${w} is not a walker`})`,
      );
  if (walkers.length && o.zoneSteps) throw new InputError('verify --race: --walker goes with the loops, not --zone-steps');
  if (new Set(walkers).size < walkers.length) throw new InputError(`verify --race: --walker ${walkers.find((w, i) => walkers.indexOf(w) !== i)} given twice (the guest runs one loop per walker)`);
  const guard = o.guard !== false;
  if (!guard && !o.zoneSteps) throw new InputError('verify --race: --no-guard goes with --zone-steps (the loops keep K below A and B)');
  if (!Number.isFinite(o.seconds) || o.seconds <= 0) throw new InputError(`verify --race: --seconds ${o.seconds}: expected a positive number of seconds such as 30`);
  const { release } = checkImage(o.kernel);
  if (!haveQemu()) throw new InputError('verify --race: no qemu-system-x86_64 on PATH; install qemu-system-x86 (or run mmsim verify --setup as root)');
  const mode = o.zoneSteps ? 'zone-steps' : o.sequential ? 'sequential' : 'concurrent';
  const map = raceMap(o.scenario);
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-race-'));
  // The model first: an unknown release or config stops here, before QEMU. The zone steps are
  // judged by running them (in order); the loops by exploring the scenario's interleavings.
  let model: RaceResult['model'];
  try {
    model = mode === 'zone-steps' ? modelZoneStepsVerdict(release, o.config, dir, map, guard) : modelVerdict(o.scenario, release, o.config, mode !== 'concurrent', walkers);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const t0 = performance.now();
  let vm: Vm | null = null;
  try {
    const initrd = join(dir, 'initrd.cpio.gz');
    buildBuiltinInitrd(initrd);
    const { args, sizes } = raceQemuArgs(dir);
    log(`booting ${release} (${o.kernel}${o.kernelArgs ? `, ${o.kernelArgs}` : ''}) under QEMU (TCG)\n`);
    vm = await Vm.start(dir, args, { vmlinuz: o.kernel, initrd }, `oops=panic ${o.kernelArgs ?? ''}`.trim(), 180_000);
    const v = vm;
    const bootSeconds = (performance.now() - t0) / 1000;
    const sh = async (cmd: string, ms = 300_000): Promise<{ out: string; rc: number }> => v.agent.run(cmd, ms);
    // Namespaces by size (label-less NVDIMMs: one raw namespace each, its size the DIMM's).
    const byName = (await sh('for d in /sys/bus/nd/devices/namespace*.*; do echo "$(basename $d) $(cat $d/size)"; done')).out;
    const nsOf = (bytes: number): string => {
      const m = byName.split('\n').find((l) => l.trim().endsWith(` ${bytes}`));
      if (!m) throw new InputError(`verify --race: the guest has no ${bytes}-byte namespace (it has: ${byName.trim().replace(/\n/g, ', ')})`);
      return m.trim().split(' ')[0] as string;
    };
    const roles = (guard ? (['K', 'A', 'B'] as const) : (['A', 'B'] as const)).map((role) => ({ role, namespace: nsOf(sizes[role]), bytes: sizes[role] }));
    const zoneSteps: ZoneStep[] = [];
    const zi = async (step: string, rc: number | null): Promise<void> => {
      if (v.exited) return;
      zoneSteps.push({ step, rc, spanned: deviceSpans((await sh('cat /proc/zoneinfo')).out) });
    };
    const console = (): string => (existsSync(join(dir, 'console.log')) ? readFileSync(join(dir, 'console.log'), 'utf8') : '');
    const cycles: Record<string, number> = {};
    const walkerRanges: { name: WalkerName; start: number; end: number; passes: number; pfnsRead: number }[] = [];
    let cyclesToFirst: Record<string, number> | null = null;
    let start: string | null = null;
    let gone = false;
    await zi('boot', null);
    const pfns: Record<string, string> = {};
    for (const r of roles) {
      const c = await sh(`ndctl create-namespace -f -e ${r.namespace} --mode=fsdax --map=${map} >/dev/null`);
      if (c.rc !== 0) throw new InputError(`verify --race: ndctl create-namespace -e ${r.namespace} (${r.role}) failed in the guest (exit ${c.rc}): ${c.out.trim().split('\n').pop() ?? ''}`);
      await zi(`create ${r.role} (${r.namespace}, ${r.bytes / MiB} MiB)`, c.rc);
    }
    const pfnList = (await sh('for d in /sys/bus/nd/drivers/nd_pmem/pfn*; do echo "$(basename $d) $(cat $d/namespace)"; done')).out;
    for (const r of roles)
      pfns[r.role] =
        pfnList
          .split('\n')
          .find((l) => l.trim().endsWith(` ${r.namespace}`))
          ?.split(' ')[0] ?? '';
    const namespaces = roles.map((r) => ({ ...r, pfn: pfns[r.role] ?? '' }));
    if (mode === 'zone-steps') {
      for (const role of ['B', 'A'] as const) {
        const ns = roles.find((r) => r.role === role)?.namespace ?? '';
        start ??= `mmsim-race: destroy ${role}`;
        const c = await v.agent.runUntilGone(`echo "mmsim-race: destroy ${role}" > /dev/kmsg; ndctl destroy-namespace -f ${ns} >/dev/null 2>&1`, 300_000, () => undefined);
        if (c.gone) {
          gone = true;
          break;
        }
        await zi(`destroy ${role} (${ns})`, c.rc);
      }
    } else {
      const bound = o.cycles ?? null;
      start = 'mmsim-race: loops start';
      // The walkers read A's namespace, all of it (the model's walker: A's range).
      if (walkers.length) {
        const a = roles.find((r) => r.role === 'A')?.namespace ?? '';
        const res = (await sh(`cat /sys/bus/nd/devices/${a}/resource`)).out.trim();
        const first = Number(res) / 4096;
        if (!Number.isInteger(first) || first <= 0) throw new InputError(`verify --race: cannot read ${a}'s start in the guest (resource: ${res || 'nothing'})`);
        for (const name of walkers) walkerRanges.push({ name, start: first, end: first + sizes.A / 4096, passes: 0, pfnsRead: 0 });
      }
      const walk = walkerRanges.map((w) => kpageflagsRead(w.name, w.start, w.end));
      const loops =
        mode === 'sequential'
          ? loopOf('AB', [bindSteps('AB', [pfns['A'] ?? '', pfns['B'] ?? '']), ...walk].join('; '), o.seconds, bound)
          : [
              loopText('A', [pfns['A'] ?? ''], o.seconds, bound),
              loopText('B', [pfns['B'] ?? ''], o.seconds, bound),
              ...walkerRanges.map((w) => kpageflagsLoopText(w.name, w.start, w.end, o.seconds, bound)),
              'wait',
            ].join(' & ');
      log(`loops (${mode}) for ${o.seconds} s${bound === null ? '' : ` or ${bound} cycles`}\n`);
      const c = await v.agent.runUntilGone(`echo "${start}" > /dev/kmsg; ${loops}; echo "mmsim-race: loops done" > /dev/kmsg`, (o.seconds + 120) * 1000, (text) => {
        for (const m of text.matchAll(/@@CYCLE (\w+) (\d+)/g)) cycles[m[1] as string] = Number(m[2]);
        for (const m of text.matchAll(/@@READ (\w+) (\d+)/g)) {
          const w = walkerRanges.find((x) => x.name === m[1]);
          if (!w) continue;
          w.passes++;
          w.pfnsRead = Math.max(w.pfnsRead, Math.floor(Number(m[2]) / 8));
        }
      });
      if (c.gone) {
        gone = true;
        cyclesToFirst = { ...cycles };
      }
      if (c.timedOut) throw new InputError(`verify --race: the guest loops did not end within ${o.seconds + 120} s of their ${o.seconds} s bound`);
    }
    // A panicking guest ends QEMU (-no-reboot): the agent's socket closes as it exits; wait (5 s
    // at most) for the exit, by when QEMU has written the whole console file.
    if (gone) for (let i = 0; i < 50 && !v.exited; i++) await new Promise((r) => setTimeout(r, 100));
    const text = console();
    if (o.keep) log(`kept ${dir}\n`);
    const { violations, times } = readRaceConsole(text, start, t0, bootSeconds);
    const boundText =
      mode === 'zone-steps'
        ? 'the create/destroy steps'
        : `${Object.values(cycles).reduce((s, n) => s + n, 0)} cycles (${o.seconds} s bound${o.cycles !== undefined ? `, ${o.cycles} cycles a loop` : ''})`;
    const verdict = judge(
      violations.map((x) => x.invariant),
      model,
      boundText,
    );
    let zones: RaceResult['zones'];
    if (mode === 'zone-steps') {
      const { spans: mz, stopped } = modelZoneSteps(release.replace(/\+$/, ''), dir, map, guard);
      const diffs: string[] = [];
      zoneStepsScenario(map, guard).labels.forEach((label, i) => {
        const real = zoneSteps.find((z) => z.step.startsWith(label));
        if (!real) return; // the guest died before this step
        if (i >= mz.length && stopped) return; // the model stopped before this step's end
        const mine = mz[i] ?? {};
        for (const k of new Set([...Object.keys(real.spanned), ...Object.keys(mine)]))
          if (real.spanned[k] !== mine[k]) diffs.push(`${label}: ${k} spanned: kernel ${real.spanned[k] ?? '-'}, mmsim ${mine[k] ?? '-'}`);
      });
      zones = { model: mz, diffs, ...(stopped ? { stopped } : {}) };
    }
    const agree = verdict.agree && !zones?.diffs.length;
    const notCompared = zones?.stopped ? `; the model's run stopped at ${zones.stopped.step} (${zones.stopped.message}): its spans from there not compared` : '';
    // A walker whose passes all ended with nothing read (and no Oops cut the first short) tested
    // nothing: /proc/kpageflags ends at max_pfn (4.19.1, 5.3.0; 6.1's get_max_dump_pfn rounds it up
    // to a section), below A where add_pages does not raise it for a pgmap (7170130e4c72: 6.15,
    // 6.1.141, 6.12.31; the model's walker stops there too). Counted by pass, so the one loop of
    // --sequential is judged too.
    const idle = walkerRanges.filter((w) => w.pfnsRead === 0 && w.passes > 0);
    const walkerNote = idle.map((w) => `; the ${w.name} walker read none of A's pfns in ${w.passes} passes (/proc/kpageflags ends below them): it tested nothing`).join('');
    const why = (zones?.diffs.length ? `${verdict.agree ? '' : `${verdict.why}; `}the Device zones differ: ${zones.diffs.join('; ')}` : verdict.why) + notCompared + walkerNote;
    return {
      scenario: o.scenario,
      kernel: o.kernel,
      release,
      ...(o.kernelArgs ? { kernelArgs: o.kernelArgs } : {}),
      config: o.config,
      mode,
      map,
      guard,
      bound: { seconds: o.seconds, cycles: o.cycles ?? null },
      ...(walkerRanges.length ? { walkers: walkerRanges } : {}),
      namespaces,
      real: {
        violations,
        ...times,
        cyclesToFirst: violations.length ? cyclesToFirst : null,
        cycles,
        zoneSteps,
      },
      ...(zones ? { zones } : {}),
      model,
      agree,
      why,
    };
  } finally {
    if (vm) await vm.close();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((s, n) => s + n, 0);
const perLoop = (r: Record<string, number>): string =>
  Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/** The result as text. */
export function formatRace(r: RaceResult): string {
  const lines: string[] = [];
  lines.push(`race ${r.scenario} on Linux ${r.release} (${r.kernel}${r.kernelArgs ? `, ${r.kernelArgs}` : ''}), config ${r.config}, ${r.mode}`);
  if (r.loops) {
    lines.push(`  guest: the scenario's machine; the steps before its concurrent block run once, in order; then one loop per operation:`);
    for (const l of r.loops) lines.push(`  ${l.name} (${l.at}): ${l.forward}; inverse: ${l.inverse}`);
  } else
    lines.push(
      `  guest: 2 nodes of 1 GiB; NVDIMMs on node 1, fsdax --map=${r.map}${r.guard ? '' : ', no guard K'}: ${r.namespaces.map((n) => `${n.role} ${n.namespace} ${n.pfn} ${n.bytes / MiB} MiB`).join('; ')}`,
    );
  for (const w of r.walkers ?? [])
    lines.push(
      `  walker ${w.name}: reads /proc/kpageflags for pfns [0x${w.start.toString(16)}, 0x${w.end.toString(16)}) (A's namespace) each cycle; ${w.passes} passes ended, at most ${w.pfnsRead} pfns read in one`,
    );
  if (r.mode !== 'zone-steps') lines.push(`  bound: ${r.bound.seconds} s${r.bound.cycles !== null ? `, ${r.bound.cycles} cycles a loop` : ''}`);
  lines.push(
    `real kernel: boot ${r.real.bootSeconds} s, wall ${r.real.wallSeconds} s${r.mode !== 'zone-steps' ? `, ${sum(r.real.cycles)} cycles run (${perLoop(r.real.cycles) || 'none finished'})` : ''}`,
  );
  for (const f of r.real.failures ?? []) lines.push(`  did not go as asked: ${f}`);
  if (!r.real.violations.length) lines.push('  no BUG, WARN or Oops');
  for (const [i, v] of r.real.violations.entries()) {
    lines.push(`  ${v.report.headline}  => ${v.invariant}`);
    if (v.report.expression) lines.push(`    ${v.report.expression}`);
    if (v.report.rip) lines.push(`    RIP ${v.report.rip}`);
    if (v.report.calls.length) lines.push(`    call trace: ${v.report.calls.join(' < ')}`);
    if (i === 0 && r.real.secondsToFirst !== null)
      lines.push(`    first after ${r.real.secondsToFirst} s${r.real.cyclesToFirst ? `, ${sum(r.real.cyclesToFirst)} cycles finished (${perLoop(r.real.cyclesToFirst) || 'none'})` : ''}`);
  }
  for (const z of r.real.zoneSteps)
    lines.push(
      `  ${z.step}: ${
        Object.entries(z.spanned)
          .map(([k, n]) => `${k} spanned ${n}`)
          .join(', ') || 'no Device zone'
      }`,
    );
  if (r.zones)
    r.zones.model.forEach((z, i) =>
      lines.push(
        `  model after ${zoneStepsScenario(r.map ?? 'dev', r.guard !== false).labels[i] ?? i}: ${
          Object.entries(z)
            .map(([k, n]) => `${k} spanned ${n}`)
            .join(', ') || 'no Device zone'
        }`,
      ),
    );
  if (r.zones?.stopped) lines.push(`  model stopped at ${r.zones.stopped.step}: ${r.zones.stopped.message}`);
  lines.push(
    r.mode === 'zone-steps'
      ? `model: the same steps in order under mmsim run --kernel ${r.model.design}, page_init_poison on (examples/race/zone-steps.scenario.yaml${r.map !== 'dev' || !r.guard ? ` with --map=${r.map}${r.guard ? '' : ', no K'}` : ''})`
      : `model: mmsim explore ${r.scenario} --design ${r.model.design} --config ${r.config}${(r.walkers ?? []).map((w) => ` --walker ${w.name}`).join('')}${r.mode !== 'concurrent' ? ' --bound 0' : ''} (${r.model.interleavings} interleavings${r.model.exhaustive ? ', exhaustive' : ''}${r.mode !== 'concurrent' ? ': one task at a time' : ''})`,
  );
  lines.push(`  reported by this config's kernel: ${r.model.reported.join(', ') || 'none'}`);
  if (r.model.silent.length) lines.push(`  broken but not reported under ${r.config}: ${r.model.silent.join(', ')}`);
  lines.push(`${r.agree ? 'agree' : 'DISAGREE'}: ${r.why}`);
  return lines.join('\n') + '\n';
}
