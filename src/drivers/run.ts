// The run driver and the one way machines are built. loadMachine reads a machine (YAML file, boot
// log or this machine) and its kernel profile; bootMachine boots it ready for hotplug (memmap,
// memory blocks, boot-time namespace probes); runTask runs a kernel task to completion in program
// order with the debug checkers; runScenario and applyStep run `mmsim run SCENARIO`'s steps,
// printing the requested views after each. A failed expect throws ExpectFailed (exit 1, one line
// naming file:line:col of the step).
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Scheduler } from './scheduler.js';
import { mightSleepChecker } from '../kernel/debug.js';
import { hotplugCheckers } from '../kernel/debug.js';
import type { Task } from '../kernel/task.js';
import { InputError, oneLine } from '../errors.js';
import { expandBlocks, loadScenario, type BlockRange, type LoadedScenario, type RunView, type Scenario, type ScenarioStep } from '../formats/scenario.js';
import { physAddrLimit, physmemLimitName, rangeLimitError } from '../kernel/limits.js';
import { lsmem } from '../tools/lsmem.js';
import { chmem, type SysfsFiles } from '../tools/chmem.js';
import { ERRNO_NUMBERS, hotplugSysfsView, machineSysfsFiles, PATH_SYS_MEMORY } from '../tools/memory_sysfs.js';
import { printMemmap } from '../formats/memmap-print.js';
import { memmapView } from '../kernel/memmap_view.js';
import { printNodes } from '../formats/nodes-print.js';
import { blockLine, blockRange, blockSpan, physRange } from '../formats/blocks-print.js';
import { printBootZoneinfo, zoneinfoManagedPages } from '../formats/zoneinfo-print.js';
import { addMemory, offlineBlock, onlineBlock, removeMemory, validZones, virtioMemProbe } from '../kernel/memory_hotplug.js';
import { Machine } from '../kernel/machine.js';
import { memoryDevInit } from '../kernel/memory_block.js';
import { memmapBoot } from '../kernel/memmap_init.js';
import { ExtentMemmap } from '../memmap/extent.js';
import { DenseMemmap } from '../memmap/dense.js';
import { archFor } from '../arch/index.js';
import { parseDmesg } from '../formats/dmesg.js';
import { loadMachineYaml } from '../formats/machine-yaml.js';
import { qemuAddPlacer } from '../formats/qemu.js';
import { readLiveMachine } from '../formats/live.js';
import { freeAreaInit, type BootState } from '../kernel/mm_init.js';
import type { MachineSpec } from '../kernel/machine_spec.js';
import type { Bytes, Nid, PhysAddr } from '../units.js';
import type { ZoneName } from '../arch/arch.js';
import { profileFor, profileForOption, type KernelProfile } from '../profiles/profile.js';
import { pageWriterFor } from '../kernel/memmap_source.js';
import { bootJson } from '../formats/boot-print.js';
import { procIomem } from '../formats/iomem.js';
import { ndctl } from '../tools/ndctl.js';
import { daxctl } from '../tools/daxctl.js';
import { bootNamespaceProbes, nvdimmRegionAdd, nvdimmRegions } from '../kernel/nvdimm.js';
import { parseCmdline } from '../formats/cmdline.js';
import type { BootOptions } from '../kernel/machine_spec.js';

/** A scenario's expectation that the model did not meet (exit 1, one line naming the step). */
export class ExpectFailed extends Error {
  constructor(message: string) {
    super(oneLine(message));
  }
}

export interface BootSource {
  readonly machineFile?: string;
  readonly fromDmesg?: string;
  readonly fromLive?: boolean;
  readonly kernel?: string;
}

export interface LoadedMachine {
  readonly spec: MachineSpec;
  readonly profile: KernelProfile;
  /** Where the machine came from, for --explain and test logs. */
  readonly sources: readonly string[];
}

export function loadMachine(src: BootSource): LoadedMachine {
  const chosen = [src.machineFile !== undefined, src.fromDmesg !== undefined, src.fromLive === true].filter(Boolean).length;
  if (chosen !== 1) {
    throw new InputError('give exactly one machine: a YAML file, --from-dmesg FILE or --from-live');
  }
  if (src.fromDmesg !== undefined) {
    const parsed = parseDmesg(src.fromDmesg, readText(src.fromDmesg));
    let profile: KernelProfile;
    if (src.kernel !== undefined) profile = profileForOption(src.kernel);
    else if (parsed.release !== null) profile = profileFor(parsed.release, parsed.build);
    else {
      throw new InputError(`${src.fromDmesg}: the log has no "Linux version" line; name its kernel with --kernel RELEASE`);
    }
    return { spec: parsed.spec, profile, sources: [`dmesg log ${src.fromDmesg}: ${parsed.sources.join(', ')}`] };
  }
  if (src.fromLive) {
    const live = readLiveMachine();
    const profile = src.kernel !== undefined ? profileForOption(src.kernel) : profileFor(live.release, live.build);
    return { spec: live.spec, profile, sources: live.sources };
  }
  const file = src.machineFile ?? '';
  const { spec, kernel } = loadMachineYaml(file, readText(file));
  const release = src.kernel ?? kernel;
  if (release === null) {
    throw new InputError(`${file}: no kernel named; add "kernel: 6.18" to the file or pass --kernel RELEASE`);
  }
  return { spec, profile: profileForOption(release), sources: [`machine file ${file}`] };
}

export function boot(m: LoadedMachine): BootState {
  return freeAreaInit(archFor(m.spec, m.profile), m.profile, m.spec);
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of an existing file`);
  }
}

/** The most an input file read by readInputFile may hold: 64 MiB. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** What a path is, for an error that refuses it. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * An input file's text, read with a size limit: only a regular file (never /dev/zero, a pipe or
 * a directory), at most `maxBytes` bytes, each refusal one InputError line.
 */
export function readInputFile(path: string, maxBytes = MAX_INPUT_BYTES): string {
  const cannot = (e: unknown): InputError => new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of an existing file`);
  const tooBig = `${path}: more than ${maxBytes} bytes; an input file may hold at most ${maxBytes / (1024 * 1024)} MiB`;
  const notFile = (st: Stats): InputError => new InputError(`${path}: ${fileKind(st)}; give a regular file`);
  let st: Stats;
  try {
    // stat before open: opening a named pipe would wait for a writer.
    st = statSync(path);
  } catch (e) {
    throw cannot(e);
  }
  if (!st.isFile()) throw notFile(st);
  if (st.size > maxBytes) throw new InputError(tooBig);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw cannot(e);
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile()) throw notFile(now);
    // Read to the end, however the file changes meanwhile, but never past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1 << 20, maxBytes + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new InputError(tooBig);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw cannot(e);
  } finally {
    closeSync(fd);
  }
}

/** One line per memory block now (blockLine: the kernel's name and sysfs attributes). */
export function blocksView(m: Machine): string {
  return [...m.blocks.values()]
    .sort((a, b) => a.id - b.id)
    .map((b) => `${blockLine({ ...b, validZones: validZones(m, b) })}\n`)
    .join('');
}

/** The booted state's JSON (as `mmsim boot --print json`) plus the memory blocks now. */
export function hotplugJson(m: Machine): object {
  return {
    ...bootJson(m.state),
    blocks: [...m.blocks.values()]
      .sort((a, b) => a.id - b.id)
      .map((b) => ({
        id: b.id,
        state: b.state,
        nid: b.nid,
        startPfn: b.startPfn,
        nrPages: b.nrPages,
        validZones: validZones(m, b),
        hotAdded: m.hotAdded.has(b.id),
        ...(m.groupOfBlock(b.id) ? { memoryGroup: m.groupOfBlock(b.id)?.id, memoryGroupDynamic: m.groupOfBlock(b.id)?.dynamic } : {}),
        ...(m.vmemmapPages.has(b.id) ? { nrVmemmapPages: m.vmemmapPages.get(b.id) } : {}),
      })),
  };
}

/** Run a task to completion under the run driver; checker violations fail the run. */
export function runTask(m: Machine, where: string, task: Task<number>): number {
  const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
  const id = s.spawn('step', task);
  m.inOrder(() => s.runInOrder());
  if (s.violations.length) throw new ExpectFailed(`${where}: ${s.violations[0]?.message}`);
  return s.result(id) as number;
}

/**
 * Why a scenario's remove of [start, start + size) names memory nothing added (null: every
 * memory block of the range is there, boot memory included). The kernel's remove_memory would
 * only WARN and return 0 there (removeMemory), and a real machine has no device to unplug: a
 * scenario that does it is wrong. A range the kernel refuses anyway (not block aligned: -EINVAL)
 * is left to the step's errno. `alsoAdded` names blocks that operations beside this one add.
 */
export function neverAdded(m: Machine, start: PhysAddr, size: Bytes, alsoAdded: (id: number) => boolean = () => false): string | null {
  if (size <= 0 || start % m.blockBytes !== 0 || size % m.blockBytes !== 0) return null;
  const first = start / m.blockBytes;
  const end = first + size / m.blockBytes;
  // Count what is there rather than walk the range: a range may span millions of blocks.
  let there = 0;
  for (const id of m.blocks.keys()) if (id >= first && id < end) there++;
  if (there === end - first) return null;
  let id = first;
  while (id < end && (m.blocks.has(id) || alsoAdded(id))) id++;
  if (id === end) return null;
  const hex = (v: number): string => `0x${v.toString(16)}`;
  return `[${hex(start)}, ${hex(start + size)}) was never added (${blockRange([id], m.blockBytes)} is not there); remove what an add step or boot put there`;
}

/** What a machine is booted from: its spec and kernel profile (a loaded file or log, or built in code). */
export interface MachineSource {
  readonly spec: MachineSpec;
  readonly profile: KernelProfile;
}

export interface BootMachineOptions {
  /** CONFIG_DEBUG_VM's page_init_poison: fresh and offlined memmaps are all 0xff (default off). */
  readonly poison?: boolean;
  /** Boot options added to the machine's own (a scenario's cmdline). */
  readonly extraBoot?: Partial<BootOptions>;
  /** The design's replaced steps (default: the kernel's own). */
  readonly steps?: Machine['steps'];
  /** Run the probes of the namespaces the machine configures before boot (default on). */
  readonly probeNamespaces?: boolean;
  /** Replay boot's memmap initialisation (default on); off leaves boot memory without struct pages (no memmap store runs). */
  readonly memmapBoot?: boolean;
  /** struct page storage: run-length extents (default) or dense 64-byte records. */
  readonly memmap?: 'extent' | 'dense';
  /** Seed of the bytes stale struct pages hold (default 1). */
  readonly seed?: number;
  /** What error messages name the machine by (its file). */
  readonly where?: string;
}

/**
 * The one way a running machine is made, for every driver and test: free_area_init under the
 * profile, the memmap replayed through deferred init, the memory blocks, the design's steps, and
 * the probes of namespaces configured before boot (one per namespace on its node).
 */
export function bootMachine(src: MachineSource, opts: BootMachineOptions = {}): Machine {
  const extra = opts.extraBoot ?? {};
  const spec = { ...src.spec, boot: { ...src.spec.boot, ...extra, movableNode: src.spec.boot.movableNode || !!extra.movableNode } };
  const state = freeAreaInit(archFor(spec, src.profile), src.profile, spec);
  const poison = opts.poison ?? false;
  const writer = pageWriterFor(state);
  const geometry = { pagesPerSection: state.sparse.pagesPerSection, writer, seed: opts.seed ?? 1 };
  const store = opts.memmap === 'dense' ? new DenseMemmap(geometry) : new ExtentMemmap(geometry);
  if (opts.memmapBoot !== false) memmapBoot(state, store, { poison, runDeferred: true });
  const m = new Machine(state, store, memoryDevInit(state));
  m.pageInitPoisoning = poison;
  if (opts.steps) m.steps = opts.steps;
  if (opts.probeNamespaces === false) return m;
  const where = opts.where ?? 'machine';
  const probes = bootNamespaceProbes(m);
  if (probes.length) {
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
    const ids = probes.map((p) => s.spawn(p.name, p.task as Task<unknown>));
    m.inOrder(() => s.runInOrder());
    if (s.violations.length) throw new ExpectFailed(`${where}: boot: ${s.violations[0]?.message}`);
    ids.forEach((id, i) => {
      const rc = s.result(id) as number;
      if (rc !== 0) throw new InputError(`${where}: ${probes[i]?.name} failed with errno ${-rc}; check the namespace's size, map and align`);
    });
  }
  return m;
}

/** A machine file booted ready for hotplug (bootMachine over loadMachine). */
export function bootMachineFile(machineFile: string, kernel: string | undefined, opts: Omit<BootMachineOptions, 'where'> = {}): Machine {
  const loaded = loadMachine({ machineFile, ...(kernel !== undefined ? { kernel } : {}) });
  return bootMachine(loaded, { ...opts, where: machineFile });
}

/** A machine's sysfs memory tree served from the model, its writes run under the run driver. */
export function runDriverSysfs(m: Machine, where: string): SysfsFiles {
  return machineSysfsFiles(m, '/', (task) => runTask(m, where, task));
}

/** The views a run prints. */
export function showViews(m: Machine, label: string, which: readonly RunView[], out: (s: string) => void): void {
  const state = m.state;
  for (const v of which) {
    out(`##### ${label}: ${v}\n`);
    if (v === 'zoneinfo') out(printBootZoneinfo(state, m.bootZones));
    else if (v === 'blocks') out(blocksView(m));
    else if (v === 'lsmem') out(lsmem(hotplugSysfsView(m), []).stdout);
    else if (v === 'json') out(JSON.stringify(hotplugJson(m), null, 2) + '\n');
    else if (v === 'iomem') out(procIomem(m));
    else if (v === 'nodes') out(printNodes(state, m.bootZones));
    else if (v === 'memmap') out(printMemmap(memmapView(m).view));
    else out(state.log.lines().join('\n') + '\n');
  }
}

/** A scenario read and checked, with the machine file and the boot options its cmdline adds. */
export function prepareScenario(file: string): { scenario: Scenario; where: LoadedScenario['where']; machineFile: string; extraBoot: Partial<BootOptions> } {
  // An add without a start goes where QEMU would place it on this machine's guest (the machine is read only then).
  const { scenario, where } = loadScenario(file, readText(file), (raw) => {
    const mf = isAbsolute(raw.machine) ? raw.machine : join(dirname(file), raw.machine);
    return qemuAddPlacer(loadMachineYaml(mf, readText(mf)).spec, raw.steps);
  });
  const machineFile = isAbsolute(scenario.machine) ? scenario.machine : join(dirname(file), scenario.machine);
  // The scenario's cmdline adds options to the machine's (memmap_on_memory, online_policy, ...).
  const extra = parseCmdline(scenario.cmdline);
  if (extra.error) throw new InputError(`${where.key('cmdline')}: ${extra.error.message}`);
  const extraBoot = Object.fromEntries(Object.entries(extra.boot).filter(([k2, v]) => k2 !== 'movableNode' || v)) as Partial<BootOptions>;
  return { scenario, where, machineFile, extraBoot };
}

/** Run a scenario's steps; returns the machine as the last step left it. */
export function runScenario(file: string, views: readonly RunView[], kernel: string | undefined, out: (s: string) => void): Machine {
  const { scenario, where, machineFile, extraBoot } = prepareScenario(file);
  const m = bootMachineFile(machineFile, kernel ?? scenario.kernel, { poison: scenario.debug_vm, extraBoot });
  for (const id of scenario.unmovable) m.unmovableBlocks.add(id);
  probeScenarioDevices(m, scenario.steps);
  let held = 0;
  scenario.steps.forEach((st, i) => {
    if (applyStep(m, st, where(i), `step ${i + 1}`, views, out)) held++;
  });
  out(`${held} expect${held === 1 ? '' : 's'} held\n`);
  return m;
}

/** The virtio-mem devices a scenario plugs into exist from boot (probed with the machine, region from their first add). */
export function probeScenarioDevices(m: Machine, steps: readonly ScenarioStep[]): void {
  for (const st of steps) {
    if (!('add' in st) || st.add.device !== 'virtio-mem' || m.virtioMem.has(st.add.name)) continue;
    virtioMemProbe(m, st.add.name, st.add.node, st.add.region?.start ?? st.add.start, st.add.region?.size ?? st.add.size);
  }
}

/** A chmem, ndctl or daxctl step run on the machine: its output (stdout then stderr) and exit code, and the exit the step expects. */
export function runToolStep(m: Machine, st: ScenarioStep, at: string): { tool: string; args: string; output: string; exitCode: number; expectExit: number } {
  if ('chmem' in st) {
    const r = chmem('/', st.chmem.args.trim().split(/\s+/), runDriverSysfs(m, at));
    return { tool: 'chmem', args: st.chmem.args, output: r.stdout + r.stderr, exitCode: r.exitCode, expectExit: st.chmem.exit };
  }
  if ('ndctl' in st || 'daxctl' in st) {
    const [tool, spec] = 'ndctl' in st ? (['ndctl', st.ndctl] as const) : (['daxctl', st.daxctl] as const);
    const r = (tool === 'ndctl' ? ndctl : daxctl)(m, spec.args.trim().split(/\s+/), (task) => runTask(m, at, task));
    return { tool, args: spec.args, output: r.output, exitCode: r.exitCode, expectExit: spec.exit };
  }
  throw new Error(`runToolStep: ${Object.keys(st)[0]} is not a tool step`);
}

/**
 * The block ids a step names, once each lies inside the machine's physical address space (ids
 * below 2^MAX_PHYSMEM_BITS / memory_block_size_bytes()): checked on the ranges, so that a range
 * of 10^8 blocks is refused before it is expanded.
 */
export function blockIdsIn(m: Machine, ranges: readonly BlockRange[], at: string): number[] {
  const end = Math.max(1, Math.floor(physAddrLimit(m.state.spec) / m.blockBytes));
  for (const r of ranges) {
    if (r.last >= end) {
      throw new InputError(
        `${at}: memory${r.last} lies beyond the physical address space: block ids are below ${end} with ${m.blockBytes / 2 ** 20} MiB memory blocks and ${physmemLimitName(m.state.spec)}`,
      );
    }
  }
  return expandBlocks(ranges);
}

/**
 * A remove names memory that was added, or an NVDIMM a range firmware can describe: neither can
 * lie beyond MAX_PHYSMEM_BITS (a hot-add beyond it is the kernel's to refuse: -E2BIG).
 */
export function checkStepRange(m: Machine, st: ScenarioStep, at: string): void {
  if ('add' in st && st.add.device === 'virtio-mem') {
    // virtio-mem came in 5.8 (drivers/virtio/virtio_mem.c); before it the device has no driver.
    const r = m.state.profile.release;
    if (r.major * 1000 + r.minor < 5008) throw new InputError(`${at}: virtio-mem has a driver from Linux 5.8 (drivers/virtio/virtio_mem.c); this machine boots ${r.release}: use a dimm`);
  }
  // virtio_mem_init_hotplug (6.18.2) warns that "Some device memory is not addressable/pluggable"
  // and plugs only what is; mmsim refuses such a device instead of plugging part of it.
  const [what, start, size] =
    'remove' in st
      ? ['remove', st.remove.start, st.remove.size]
      : 'add' in st && st.add.device === 'nvdimm'
        ? ['an NVDIMM at', st.add.start, st.add.size]
        : 'add' in st && st.add.device === 'virtio-mem'
          ? ['a virtio-mem add of', st.add.start, st.add.size]
          : [null, 0, 0];
  if (what === null) return;
  const e = rangeLimitError(m.state.spec, start, start + size);
  if (e) throw new InputError(`${at}: ${what} ${e}`);
}

/** errno names for step headers (include/uapi/asm-generic/errno-base.h). */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  21: 'EISDIR',
  22: 'EINVAL',
  28: 'ENOSPC',
  34: 'ERANGE',
};

/** A kernel call's result as a step header says it: "ok" or "refused: -EBUSY". */
export function resultText(rc: number): string {
  return rc === 0 ? 'ok' : `refused: -${ERRNO_NAMES[-rc] ?? `errno ${-rc}`}`;
}

/** What a step does, for its header: the operation with the blocks it names. */
export function stepOperation(m: Machine, st: ScenarioStep): string {
  const bb = m.blockBytes;
  if ('add' in st) {
    const a = st.add;
    if (a.device === 'nvdimm') return `add nvdimm node ${a.node} (${physRange(a.start, a.start + a.size)})`;
    return `add ${a.device === 'dimm' ? 'pc-dimm' : `virtio-mem ${a.name}`} node ${a.node} ${blockSpan(a.start, a.size, bb)}`;
  }
  if ('remove' in st) return `remove ${blockSpan(st.remove.start, st.remove.size, bb)}`;
  if ('online' in st) return `${st.online.type} ${blockRangesText(st.online.blocks, bb)}`;
  if ('offline' in st) return `offline ${blockRangesText(st.offline.blocks, bb)}`;
  if ('write' in st) return `write "${st.write.value}" to ${st.write.path}`;
  if ('chmem' in st) return `chmem ${st.chmem.args}`;
  if ('ndctl' in st) return `ndctl ${st.ndctl.args}`;
  if ('daxctl' in st) return `daxctl ${st.daxctl.args}`;
  if ('expect' in st) {
    const e = st.expect;
    const fields = (['spanned', 'present', 'managed', 'start_pfn'] as const).filter((k) => e[k] !== undefined).map((k) => `${k} ${e[k]}`);
    const what = [e.online !== undefined ? (e.online ? 'online' : 'offline') : '', ...fields].filter(Boolean).join(', ');
    return `expect node ${e.node}${e.zone !== undefined ? ` zone ${e.zone}` : ''}: ${what || 'present'}`;
  }
  if ('concurrent' in st) return 'concurrent, run in order';
  return `print ${st.print}`;
}

/** Block ranges as written in a step, named and placed without expanding them (a range may be huge). */
function blockRangesText(ranges: readonly BlockRange[], blockBytes: number): string {
  return ranges.map((r) => blockSpan(r.first * blockBytes, (r.last - r.first + 1) * blockBytes, blockBytes)).join(', ');
}

/**
 * One scenario step on the machine under the run driver: its header ("##### step 2:
 * online_kernel memory32-35 (0x100000000-0x11fffffff) — ok", naming the operation, as the value
 * written to memoryN/state for onlines, and its result), then the views. A result the step does not expect prints the header, then throws
 * ExpectFailed. Returns whether the step was an expect that held.
 */
/**
 * A zone's fields as an `expect` step compares them: spanned, present and start_pfn (0 for an
 * empty zone, as /proc/zoneinfo leaves start_pfn out), and managed as /proc/zoneinfo prints it
 * (zone_managed_pages: boot's memblock_free_all share plus what hotplug onlined since; null where
 * boot's share is unknown). Not the model's free_area_init estimate (present less the memmap and
 * dma_reserve), which the kernel replaces at memblock_free_all.
 */
export function zoneExpectFields(m: Machine, nid: Nid, zoneName: ZoneName): { spanned: number; present: number; managed: number | null; start_pfn: number } {
  const z = m.zoneByName(nid, zoneName);
  return { spanned: z.spannedPages, present: z.presentPages, managed: zoneinfoManagedPages(m.state, z, m.bootZones), start_pfn: z.spannedPages ? z.zoneStartPfn : 0 };
}

export function applyStep(m: Machine, st: ScenarioStep, at: string, label: string, views: readonly RunView[], out: (s: string) => void): boolean {
  const state = m.state;
  const show = (l: string, which: readonly RunView[]): void => showViews(m, l, which, out);
  const header = (result: string): void => out(`##### ${label}: ${stepOperation(m, st)} — ${result}\n`);
  /** The header, then ExpectFailed if the kernel's rc is not the errno the step wants. */
  const check = (rc: number, want: number, what: string): void => {
    if (-rc === want) return;
    header(`${resultText(rc)} (expected ${resultText(-want)})`);
    throw new ExpectFailed(`${at}: ${what}: expected ${want ? `errno ${want}` : 'success'}, got ${rc ? `errno ${-rc}` : 'success'}`);
  };
  checkStepRange(m, st, at);
  if ('add' in st) {
    const node = state.nodes.find((n) => n.nodeId === st.add.node);
    if (!node) throw new InputError(`${at}: node ${st.add.node} is not in the machine (nodes ${state.nodes.map((n) => n.nodeId).join(', ')}); add memory to one of them`);
    if (st.add.device === 'nvdimm') {
      // ACPI NFIT hotplug: a new region and its raw namespace; no memory is added to the system.
      if (
        m.pgmaps.some((p) => p.start < st.add.start + st.add.size && p.end >= st.add.start) ||
        nvdimmRegions(m).some((r) => r.start < st.add.start + st.add.size && r.start + r.size > st.add.start)
      ) {
        throw new InputError(`${at}: an NVDIMM at 0x${st.add.start.toString(16)} overlaps one already there; give a free range`);
      }
      nvdimmRegionAdd(m, st.add.node, st.add.start, st.add.size, st.add.labels ?? false);
      header('ok');
      show(label, views);
      return false;
    }
    const region = st.add.region ? { regionStart: st.add.region.start, regionBytes: st.add.region.size } : {};
    const device = st.add.device === 'dimm' ? ({ kind: 'dimm' } as const) : ({ kind: 'virtio-mem', name: st.add.name, ...region } as const);
    const rc = runTask(m, at, addMemory(m, st.add.node, st.add.start, st.add.size, device));
    check(rc, st.add.errno ?? 0, 'add_memory');
    header(resultText(rc));
  } else if ('remove' in st) {
    const never = neverAdded(m, st.remove.start, st.remove.size);
    if (never) throw new InputError(`${at}: remove: ${never}`);
    const rc = runTask(m, at, removeMemory(m, st.remove.start, st.remove.size));
    check(rc, st.remove.errno ?? 0, 'remove_memory');
    header(resultText(rc));
  } else if ('online' in st || 'offline' in st) {
    const ids = blockIdsIn(m, 'online' in st ? st.online.blocks : st.offline.blocks, at);
    const want = ('online' in st ? st.online.errno : st.offline.errno) ?? 0;
    // Each block is its own sysfs write, as a shell loop over memoryN/state does: a refused block
    // leaves the others to be tried; the step fails at the first block whose result it did not want.
    let first: { rc: number; id: number } | null = null;
    for (const id of ids) {
      const rc = 'online' in st ? runTask(m, at, onlineBlock(m, id, st.online.type)) : runTask(m, at, offlineBlock(m, id));
      if (-rc !== want && first === null) first = { rc, id };
    }
    if (first) check(first.rc, want, `memory${first.id}`);
    header(resultText(-want));
  } else if ('write' in st) {
    const files = runDriverSysfs(m, at);
    const errno = files.write(`${PATH_SYS_MEMORY}/${st.write.path}`, st.write.value);
    const got = errno === '' ? 0 : (ERRNO_NUMBERS[errno] ?? -1);
    const want = st.write.errno ?? 0;
    if (got !== want) {
      header(`${errno ? `refused: -${errno}` : 'ok'} (expected ${resultText(-want)})`);
      throw new ExpectFailed(`${at}: write ${st.write.path}: expected ${want ? `errno ${want}` : 'success'}, got ${errno || 'success'}`);
    }
    header(errno ? `refused: -${errno}` : 'ok');
  } else if ('chmem' in st || 'ndctl' in st || 'daxctl' in st) {
    const r = runToolStep(m, st, at);
    header(`exit ${r.exitCode}${r.exitCode !== r.expectExit ? ` (expected exit ${r.expectExit})` : ''}`);
    out(r.output);
    if (r.exitCode !== r.expectExit) throw new ExpectFailed(`${at}: ${r.tool} ${r.args}: expected exit ${r.expectExit}, got ${r.exitCode}`);
  } else if ('expect' in st) {
    const e = st.expect;
    const node = state.nodes.find((n) => n.nodeId === e.node);
    if (!node) throw new InputError(`${at}: node ${e.node} is not in the machine (nodes ${state.nodes.map((n) => n.nodeId).join(', ')}); expect one of them`);
    const failed = (msg: string): never => {
      header('failed');
      throw new ExpectFailed(`${at}: ${msg}`);
    };
    if (e.online !== undefined && node.online !== e.online) failed(`node ${e.node}: expected ${e.online ? 'online' : 'offline'}, got ${node.online ? 'online' : 'offline'}`);
    if (e.zone === undefined) {
      if (e.spanned !== undefined || e.present !== undefined || e.managed !== undefined || e.start_pfn !== undefined)
        throw new InputError(`${at}: spanned, present, managed and start_pfn need a zone; add zone: Normal (or another)`);
    } else {
      const got = zoneExpectFields(m, e.node, e.zone);
      if (e.managed !== undefined && got.managed === null)
        throw new InputError(
          `${at}: node ${e.node} zone ${e.zone} managed is not modelled for this machine (boot's managed pages need the kernel image: a measured build named by kernel:, image:, or reserved: ranges); leave managed out`,
        );
      for (const key of ['spanned', 'present', 'managed', 'start_pfn'] as const) {
        const want = e[key];
        if (want !== undefined && got[key] !== want) failed(`node ${e.node} zone ${e.zone} ${key}: expected ${want}, got ${got[key]}`);
      }
    }
    header('held');
    show(label, views);
    return true;
  } else if ('concurrent' in st) {
    // The run driver runs concurrent operations one after the other, in the order given.
    header(`${st.concurrent.length} operations below`);
    st.concurrent.forEach((sub, j) => applyStep(m, sub, at, `${label}.${j + 1}`, [], out));
  } else {
    show(label, [st.print]);
    return false;
  }
  show(label, views);
  return false;
}
