// `mmsim verify --qemu SCENARIO`: the scenario on a real kernel under QEMU and on the model, step
// by step, and a per-step, per-field diff. The guest's machine comes from the scenario's machine
// (nodes, memory, CPUs, NVDIMMs, virtio-mem devices, command line); the model boots from the
// guest's own boot log with the profile of the guest's exact release, so the comparison is of
// behaviour, not of how the machine was described. Compared after every step: /proc/zoneinfo's
// spanned, present and start_pfn, managed (boot's share from boot's memblock model, kernel/setup.ts,
// where it applies to the guest's kernel, e.g. the Debian build verify --setup installs; else
// managed as the change since boot), the memory blocks, /proc/iomem's memory
// entries and namespace claims, /sys/devices/system/node's masks, ndctl / daxctl output (uuids
// masked) and chmem's exit code.
import { blockLine } from '../formats/blocks-print.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYaml } from '../formats/yaml-common.js';
import { InputError } from '../errors.js';
import { parseDmesg } from '../formats/dmesg.js';
import { loadMachineYaml } from '../formats/machine-yaml.js';
import { verifyHotplugSizing } from '../formats/qemu.js';
import { parseZoneinfo, zoneField } from '../formats/zoneinfo.js';
import { nodeStateLines, nodeStates } from '../formats/nodes-print.js';
import { printBootZoneinfo } from '../formats/zoneinfo-print.js';
import { procIomem } from '../formats/iomem.js';
import { formatKmemN, kmemNInput } from '../formats/kmem.js';
import type { ScenarioStep } from '../formats/scenario.js';
import { mhpGetDefaultOnlineType, validZones } from '../kernel/memory_hotplug.js';
import type { Machine } from '../kernel/machine.js';
import type { MachineSpec, NodeSpec } from '../kernel/machine_spec.js';
import { parseKconfig } from '../kernel/kconfig.js';
import { profileFor, type KernelFeatures } from '../profiles/profile.js';
import { bootMachine } from '../drivers/run.js';
import { applyStep, blockIdsIn, ExpectFailed, prepareScenario, probeScenarioDevices, readText, runToolStep } from '../drivers/run.js';
import { installedGuest, type GuestKernel, type KernelSeries } from './setup.js';
import { Vm } from './vm.js';
import { GuestSteps } from './guest_steps.js';
import { diffMemmap, formatMemmapDiff } from './memmap.js';
import { memmapView } from '../kernel/memmap_view.js';
import { readKernelMemmap } from './drgn_reader.js';
import { runChild } from './child.js';

const MiB = 2 ** 20;
const BLOCK_ROUND = 128 * MiB;

export interface VerifyOptions {
  /** Which kernel --setup fetched to run (default 6.1); not with vmlinuz. */
  readonly series?: KernelSeries;
  /** A kernel image instead of the one --setup fetched. */
  readonly vmlinuz?: string;
  /** An initramfs instead of the one --setup built. */
  readonly initrd?: string;
  /** A directory whose files are appended to the initramfs (a second cpio archive). */
  readonly initrdExtra?: string;
  readonly keep?: boolean;
  /** Per-step timeout, seconds. */
  readonly stepTimeoutS?: number;
  /** Override profile features of the model (to show that a wrong rule is caught). */
  readonly features?: Partial<KernelFeatures>;
  /** Dump the guest's memory and diff its memmap with the model's (at `print: memmap` steps and at the end). */
  readonly memmap?: boolean;
  /** The guest kernel's debug vmlinux (plain or .zst) for --memmap; default: the one --setup cached. */
  readonly vmlinux?: string;
  /** The guest kernel's .config; default: the one --setup cached. The model's struct page layout follows it. */
  readonly kconfig?: string;
}

/** What --memmap compared, for --json. */
export interface MemmapTotals {
  pfnsCompared: number;
  dumps: number;
}

/** One compared step: its label and the differences (empty when the kernel and mmsim agree). */
export interface StepDiff {
  readonly label: string;
  readonly diffs: string[];
}

/** What the guest showed after a step. */
interface Report {
  readonly zoneinfo: string;
  readonly blocks: string[];
  readonly iomem: string[];
  /** /sys/devices/system/node's masks, "name: mask" (NODES_REPORT). */
  readonly nodes: string[];
  /** /proc/iomem's namespace claims ("namespaceX.Y"), which mmsim-report's grep leaves out. */
  readonly namespaces: string[];
}

/**
 * Read by the agent after mmsim-report (the installed guest's report predates them): the node
 * masks as nodes-print.ts names them, has_high_memory only where the kernel has it, and the
 * namespaces' iomem claims.
 */
const NODES_REPORT = [
  'echo "=== nodes"',
  'for f in possible online has_normal_memory has_high_memory has_memory has_cpu; do [ -e /sys/devices/system/node/$f ] && echo "$f: $(cat /sys/devices/system/node/$f)"; done',
  'echo "=== namespaces"',
  "grep -E ': namespace[0-9]+\\.[0-9]+$' /proc/iomem",
  'true',
].join('; ');

function section(text: string, name: string): string[] {
  const out: string[] = [];
  let on = false;
  for (const l of text.split('\n')) {
    if (l.startsWith('=== ')) {
      on = l === `=== ${name}`;
      continue;
    }
    if (on && l) out.push(l);
  }
  return out;
}

const maskUuid = (t: string): string => t.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');

/** The QEMU machine for a scenario's machine file: nodes with their memory rounded up to 128 MiB, NVDIMMs, virtio-mem devices. */
export function qemuArgs(spec: MachineSpec, steps: readonly ScenarioStep[], dir: string): string[] {
  const nodes = [...spec.nodes].sort((a, b) => a.nid - b.nid);
  const args: string[] = ['-machine', 'pc,nvdimm=on'];
  let cpu = 0;
  let total = 0;
  const numa: string[] = [];
  const cpus = nodes.reduce((s, n) => s + Math.max(n.cpus, 0), 0) || 1;
  for (const n of nodes) {
    const bytes = spec.memory.filter((r) => r.nid === n.nid).reduce((s, r) => s + r.size, 0);
    const size = Math.ceil(bytes / BLOCK_ROUND) * BLOCK_ROUND;
    const c = n.cpus > 0 ? `,cpus=${cpu}${n.cpus > 1 ? `-${cpu + n.cpus - 1}` : ''}` : '';
    cpu += Math.max(n.cpus, 0);
    if (size === 0) {
      // A memoryless node: QEMU's SRAT gives it its CPUs and no memory affinity (no memdev).
      if (n.cpus <= 0) throw new InputError(`verify: node ${n.nid} has neither memory nor CPUs, so QEMU's SRAT would not name it; give it CPUs or memory, or leave it out`);
      numa.push('-numa', `node,nodeid=${n.nid}${c}`);
      continue;
    }
    total += size;
    numa.push('-object', `memory-backend-ram,id=m${n.nid},size=${size / MiB}M`, '-numa', `node,nodeid=${n.nid},memdev=m${n.nid}${c}`);
  }
  const hot = steps.reduce((s, st) => s + ('add' in st ? st.add.size : 0), 0);
  const { slots, maxmem } = verifyHotplugSizing(total, hot);
  args.push('-smp', `${cpus},sockets=${cpus}`, '-m', `${total / MiB}M,slots=${slots},maxmem=${maxmem / MiB}M`, ...numa);
  spec.pmem.forEach((p, i) => {
    const label = p.labels ? 128 * 1024 : 0;
    const img = join(dir, `nvdimm${i}.img`);
    writeFileSync(img, '');
    truncateSync(img, p.size + label);
    args.push(
      '-object',
      `memory-backend-file,id=nv${i},share=on,mem-path=${img},size=${p.size + label}`,
      '-device',
      `nvdimm,id=nvdimm${i},memdev=nv${i},node=${p.nid}${label ? `,label-size=${label}` : ''}`,
    );
  });
  const vms = new Map<string, { node: number; start: number; size: number }>();
  for (const st of steps) {
    if (!('add' in st) || st.add.device !== 'virtio-mem' || vms.has(st.add.name)) continue;
    vms.set(st.add.name, { node: st.add.node, start: st.add.region?.start ?? st.add.start, size: st.add.region?.size ?? st.add.size });
  }
  for (const [name, v] of vms) {
    args.push(
      '-object',
      `memory-backend-ram,id=vmem-${name},size=${v.size / MiB}M`,
      '-device',
      `virtio-mem-pci,id=${name},memdev=vmem-${name},node=${v.node},requested-size=0,block-size=2M,memaddr=${v.start}`,
    );
  }
  return args;
}

/**
 * The nodes of the guest's log with their CPUs; where the log places no CPU on any node, the CPUs
 * per node of the machine QEMU was started with (its -numa node,cpus=). 6.1 logs SRAT's CPU
 * affinity ("SRAT: PXM 1 -> APIC 0x01 -> Node 1"); later kernels print it with pr_debug
 * (arch/x86/mm/srat.c, acpi_numa_processor_affinity_init), so a 6.12 log names no CPU's node.
 */
export function nodesWithCpus(fromLog: readonly NodeSpec[], fromMachine: readonly NodeSpec[]): NodeSpec[] {
  if (fromLog.some((n) => n.cpus > 0)) return [...fromLog];
  return fromLog.map((n) => ({ ...n, cpus: fromMachine.find((x) => x.nid === n.nid)?.cpus ?? 0 }));
}

/** The machine file's own command line, as written. */
export function machineCmdline(file: string): string {
  const { data } = parseYaml(file, readText(file));
  const cmdline = data !== null && typeof data === 'object' && 'cmdline' in data ? data.cmdline : undefined;
  return typeof cmdline === 'string' ? cmdline : '';
}

/** A kernel-zone-and-blocks comparison of the guest's report with the model. */
function compare(m: Machine, real: Report, bootManaged: Map<string, number>, modelBootManaged: Map<string, number>): string[] {
  const diffs: string[] = [];
  const r = parseZoneinfo(real.zoneinfo + '\n');
  const o = parseZoneinfo(printBootZoneinfo(m.state, m.bootZones));
  const ours = new Map(o.records.map((x) => [`${x.node}/${x.zone}`, x]));
  for (const rec of r.records) {
    const key = `${rec.node}/${rec.zone}`;
    const mine = ours.get(key);
    if (!mine) {
      diffs.push(`node ${rec.node} zone ${rec.zone}: in the kernel's zoneinfo, not in mmsim's`);
      continue;
    }
    for (const f of ['spanned', 'present', 'start_pfn']) {
      const a = zoneField(rec, f);
      const b = zoneField(mine, f);
      if (a !== b) diffs.push(`node ${rec.node} zone ${rec.zone} ${f}: kernel ${a ?? '-'}, mmsim ${b ?? '-'}`);
    }
    if (m.state.memblock !== null) {
      // Boot's memblock model applies (kernel/setup.ts): managed itself, boot's share included.
      const ka = zoneField(rec, 'managed') ?? 0;
      const kb = zoneField(mine, 'managed') ?? 0;
      if (ka !== kb) diffs.push(`node ${rec.node} zone ${rec.zone} managed: kernel ${ka}, mmsim ${kb}`);
    } else {
      const ka = (zoneField(rec, 'managed') ?? 0) - (bootManaged.get(key) ?? 0);
      const kb = (modelManaged(m).get(key) ?? 0) - (modelBootManaged.get(key) ?? 0);
      if (ka !== kb) diffs.push(`node ${rec.node} zone ${rec.zone} managed since boot: kernel ${ka >= 0 ? '+' : ''}${ka}, mmsim ${kb >= 0 ? '+' : ''}${kb}`);
    }
  }
  for (const x of o.records) if (!r.records.some((y) => y.node === x.node && y.zone === x.zone)) diffs.push(`node ${x.node} zone ${x.zone}: in mmsim's zoneinfo, not in the kernel's`);
  const mb = [...m.blocks.values()].sort((a, b) => a.id - b.id).map((b) => blockLine({ ...b, validZones: validZones(m, b) }));
  diffLines('memory blocks', real.blocks, mb, diffs);
  const iomemModel = procIomem(m).split('\n').filter(iomemMemoryLine);
  diffLines('/proc/iomem', real.iomem.filter(iomemMemoryLine), iomemModel, diffs);
  const nsModel = procIomem(m)
    .split('\n')
    .filter((l) => / : namespace\d+\.\d+$/.test(l));
  diffLines('/proc/iomem namespaces', real.namespaces, nsModel, diffs);
  diffLines('/sys/devices/system/node', real.nodes, nodeStateLines(nodeStates(m.state, m.bootZones)), diffs);
  return diffs;
}

/** /proc/iomem's memory entries: RAM, persistent memory, dax and kmem, virtio-mem device regions (not PCI BARs). */
function iomemMemoryLine(l: string): boolean {
  return /: (System RAM.*|Persistent Memory.*|dax\d+\.\d+|virtio\d+)$/.test(l);
}

function diffLines(what: string, real: readonly string[], model: readonly string[], diffs: string[]): void {
  const n = Math.max(real.length, model.length);
  for (let i = 0; i < n; i++) {
    if (real[i] !== model[i]) diffs.push(`${what} line ${i + 1}: kernel ${JSON.stringify(real[i] ?? '(none)')}, mmsim ${JSON.stringify(model[i] ?? '(none)')}`);
  }
}

/** The model's managed pages per zone (zoneinfo prints them only when memblock.reserved is known). */
function modelManaged(m: Machine): Map<string, number> {
  return new Map(m.state.nodes.flatMap((n) => n.zones.map((z) => [`${n.nodeId}/${z.name}`, z.managedPages ?? 0] as [string, number])));
}

function managedOf(zoneinfo: string): Map<string, number> {
  return new Map(parseZoneinfo(zoneinfo.endsWith('\n') ? zoneinfo : zoneinfo + '\n').records.map((x) => [`${x.node}/${x.zone}`, zoneField(x, 'managed') ?? 0]));
}

/** Run a scenario on the real kernel and on the model; the per-step differences. */
export async function verifyScenario(file: string, opts: VerifyOptions, log: (s: string) => void, totals?: MemmapTotals): Promise<StepDiff[]> {
  {
    const { scenario, where } = prepareScenario(file);
    const conc = scenario.steps.findIndex((st) => 'concurrent' in st);
    if (conc >= 0)
      throw new InputError(
        `${where(conc)}: verify runs one step at a time on the real kernel; a concurrent block is for mmsim explore and mmsim verify --race FILE — or write its operations as separate steps`,
      );
  }
  if (opts.series !== undefined && opts.vmlinuz !== undefined) throw new InputError(`verify: give --kernel ${opts.series} or a kernel image, not both`);
  const installed = installedGuest(undefined, opts.series);
  if (opts.series !== undefined && !installed) throw new InputError(`verify: kernel ${opts.series} is not set up; run \`mmsim verify --setup\` first`);
  const vmlinuz = opts.vmlinuz ?? installed?.vmlinuz;
  const initrd = opts.initrd ?? installed?.initrd;
  if (!vmlinuz || !initrd) throw new InputError('verify: no guest kernel set up; run `mmsim verify --setup` first (or give --kernel BZIMAGE and --initrd FILE)');
  for (const f of [vmlinuz, initrd]) if (!existsSync(f)) throw new InputError(`verify: ${f} does not exist; give an existing kernel image and initramfs`);
  const { scenario, where, machineFile } = prepareScenario(file);
  const { spec } = loadMachineYaml(machineFile, readText(machineFile));
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-verify-'));
  // A kernel image of one's own has no debug vmlinux or config of set-up's.
  let guest: GuestKernel = opts.vmlinuz === undefined && installed ? { ...installed, initrd } : { release: '', vmlinuz, initrd, vmlinux: null, config: null };
  if (opts.initrdExtra !== undefined) {
    if (!existsSync(opts.initrdExtra)) throw new InputError(`verify: --initrd-extra ${opts.initrdExtra} does not exist; give a directory`);
    // The kernel unpacks concatenated cpio archives in order: the extra files land on top.
    const extra = execFileSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1'], { cwd: opts.initrdExtra, maxBuffer: 1 << 30 });
    const merged = join(dir, 'initrd.cpio.gz');
    writeFileSync(merged, Buffer.concat([readFileSync(initrd), extra]));
    guest = { ...guest, initrd: merged };
  }
  const stepMs = (opts.stepTimeoutS ?? 120) * 1000;
  const append = [machineCmdline(machineFile), scenario.cmdline].filter(Boolean).join(' ');
  const vmlinuxSrc = opts.vmlinux ?? guest.vmlinux;
  const kconfigFile = opts.kconfig ?? guest.config;
  if (opts.memmap) {
    if (!vmlinuxSrc || !kconfigFile) throw new InputError('verify --memmap: no debug vmlinux and config for the guest kernel; run `mmsim verify --setup` (or give --vmlinux FILE and --kconfig FILE)');
    for (const f of [vmlinuxSrc, kconfigFile]) if (!existsSync(f)) throw new InputError(`verify --memmap: ${f} does not exist; run \`mmsim verify --setup\` again`);
  }
  const kconfig = kconfigFile ? parseKconfig(readFileSync(kconfigFile, 'utf8'), kconfigFile) : null;
  let vm: Vm;
  try {
    vm = await Vm.start(dir, qemuArgs(spec, scenario.steps, dir), guest, append, 180_000);
  } catch (e) {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const out: StepDiff[] = [];
  try {
    const sh = async (cmd: string): Promise<{ out: string; rc: number }> => vm.agent.run(cmd, stepMs);
    const report = async (): Promise<Report> => {
      const t = (await sh('mmsim-report')).out;
      const x = (await sh(NODES_REPORT)).out;
      return {
        zoneinfo: section(t, 'zoneinfo').join('\n'),
        blocks: section(t, 'blocks'),
        iomem: section(t, 'iomem'),
        nodes: section(x, 'nodes').map((l) => l.trimEnd()),
        namespaces: section(x, 'namespaces'),
      };
    };
    // The model machine: the guest's own boot log, its release's profile, the NVDIMMs' label areas.
    const dmesg = (await sh('dmesg')).out;
    writeFileSync(join(dir, 'dmesg.txt'), dmesg);
    const parsed = parseDmesg(join(dir, 'dmesg.txt'), dmesg);
    const real = profileFor(parsed.release ?? guest.release, parsed.build);
    const profile = opts.features ? { ...real, features: { ...real.features, ...opts.features } } : real;
    // The build's own config where set-up fetched it: the struct page layout, and auto_online_blocks'
    // default (Debian's 6.12 onlines hot-added memory by itself; memhp_default_state= still wins).
    const config = kconfig ? { ...parsed.spec.config, kconfig, autoOnlineBlocks: parsed.spec.boot.memhpDefaultState ?? mhpGetDefaultOnlineType(kconfig) } : parsed.spec.config;
    const mspec: MachineSpec = {
      ...parsed.spec,
      config,
      nodes: nodesWithCpus(parsed.spec.nodes, spec.nodes),
      pmem: parsed.spec.pmem.map((p, i) => ({ ...p, ...(spec.pmem[i]?.labels ? { labels: true } : {}) })),
    };
    // Namespaces come from the scenario's steps, as in the guest: none is probed at boot.
    const m = bootMachine({ spec: mspec, profile }, { probeNamespaces: false, where: 'the guest boot log', ...(opts.memmap ? { memmap: 'dense' as const } : {}) });
    const dumpBytes = guestBytes(spec, scenario.steps);
    let vmlinux: string | null = null;
    const memmapCheck = async (label: string): Promise<void> => {
      if (!opts.memmap || !vmlinuxSrc || !kconfigFile) return;
      if (vmlinux === null) vmlinux = await unpackVmlinux(vmlinuxSrc, dir);
      const core = join(dir, 'core.elf');
      checkFreeSpace(dir, dumpBytes, 'the memory dump');
      await vm.qmp.cmd('stop');
      try {
        await vm.qmp.cmd('dump-guest-memory', { paging: false, protocol: `file:${core}`, format: 'elf' }, 600_000);
      } finally {
        await vm.qmp.cmd('cont');
      }
      try {
        const { view, detail } = memmapView(m);
        const k = await readKernelMemmap(core, vmlinux, kconfigFile, detail, dir);
        const d = diffMemmap(k.view, view);
        if (totals) {
          totals.pfnsCompared += d.pfnsCompared;
          totals.dumps++;
        }
        const diffs = formatMemmapDiff(d.differences);
        // crash's kmem -n on the same dump, on 6.1 (Debian's crash 8.0.2 cannot read 6.12's memory blocks).
        if (/^6\.1\./.test(profile.release.release) && haveCrash()) {
          const blocks = { ...m.boot, blocks: [...m.blocks.values()].sort((a, b) => a.id - b.id) };
          diffLines('crash kmem -n', await crashKmemN(core, vmlinux), withoutTrailingBlankLines(formatKmemN(kmemNInput(m.state, blocks)).split('\n')), diffs);
        }
        out.push({ label: `${label}: memmap (${d.pfnsCompared} pfns)`, diffs });
        log(`${label}: memmap ${d.differences.length ? `${d.differences.length} difference(s)` : 'same'} over ${d.pfnsCompared} pfns\n`);
      } finally {
        rmSync(core, { force: true });
      }
    };
    for (const id of scenario.unmovable) m.unmovableBlocks.add(id);
    probeScenarioDevices(m, scenario.steps);
    const first = await report();
    const realBoot = managedOf(first.zoneinfo);
    const modelBoot = modelManaged(m);
    // The boot log: every memory-layout line mmsim prints must be in the kernel's log, in order.
    const realLines = dmesg.split('\n').map((l) => l.replace(/^\[\s*\d+\.\d+\]\s?/, '').trimEnd());
    const bootDiffs = compare(m, first, realBoot, modelBoot);
    let at = 0;
    for (const line of m.state.log.lines()) {
      const i = realLines.indexOf(line, at);
      if (i < 0) bootDiffs.push(`dmesg: mmsim prints ${JSON.stringify(line)}, the kernel's log has no such line${realLines.includes(line) ? ' at that place' : ''}`);
      else at = i + 1;
    }
    out.push({ label: `boot (${profile.release.release})`, diffs: bootDiffs });
    const guestSteps = new GuestSteps({
      vm,
      sh,
      dir,
      stepMs,
      blockBytes: () => m.blockBytes,
      nextRegion: () => (m.nvdimm ?? []).length + (m.nvdimm ? 0 : spec.pmem.length),
      blockIds: (ranges, at) => blockIdsIn(m, ranges, at),
      steps: scenario.steps,
    });
    for (const [i, st] of scenario.steps.entries()) {
      const at = where(i);
      const label = `step ${i + 1} (${at})`;
      if ('print' in st && st.print === 'memmap') {
        await memmapCheck(label);
        continue;
      }
      // The real kernel.
      const real = await guestSteps.run(st, at);
      if (!real) continue; // expect and other print steps are the model's business
      const notes = [...real.notes];
      if ('ndctl' in st || 'daxctl' in st) {
        const [tool, args] = 'ndctl' in st ? ['ndctl', st.ndctl.args] : ['daxctl', st.daxctl.args];
        const model = runToolStep(m, st, at).output;
        const text = real.out ?? '';
        if (maskUuid(text).trimEnd() !== maskUuid(model).trimEnd()) {
          diffLines(`${tool} ${args}`, maskUuid(text).trimEnd().split('\n'), maskUuid(model).trimEnd().split('\n'), notes);
        }
        out.push({ label, diffs: [...notes, ...compare(m, await report(), realBoot, modelBoot)] });
        continue;
      } else if ('chmem' in st) {
        const code = runToolStep(m, st, at).exitCode;
        const diffs = compare(m, await report(), realBoot, modelBoot);
        if (code !== real.rc) diffs.unshift(`chmem ${st.chmem.args}: exit code kernel ${real.rc}, mmsim ${code}`);
        out.push({ label, diffs });
        log(`${label}: ${diffs.length ? `${diffs.length} difference(s)` : 'same'}\n`);
        continue;
      }
      // The model.
      try {
        applyStep(m, st, at, label, [], () => undefined);
      } catch (e) {
        if (!(e instanceof ExpectFailed)) throw e;
        notes.push(`mmsim: ${e.message}`);
      }
      const diffs = compare(m, await report(), realBoot, modelBoot);
      out.push({ label, diffs: diffs.length ? [...notes, ...diffs] : [] });
      log(`${label}: ${diffs.length ? `${diffs.length} difference(s)` : 'same'}\n`);
    }
    const last = scenario.steps[scenario.steps.length - 1];
    if (!(last && 'print' in last && last.print === 'memmap')) await memmapCheck('end');
  } finally {
    await vm.close().catch(() => undefined);
    if (opts.keep) log(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function haveCrash(): boolean {
  return spawnSync('sh', ['-c', 'command -v crash'], { encoding: 'utf8' }).status === 0;
}

/**
 * crash's `kmem -n` of a dump, from its first table on, with the kernel virtual addresses of
 * pg_data_t, struct zone, struct mem_section and struct memory_block (direct-map addresses, which
 * the model does not place) as the dashes mmsim kmem -n prints.
 */
async function crashKmemN(core: string, vmlinux: string): Promise<string[]> {
  const r = await runChild('crash', ['-s', vmlinux, core], { input: 'kmem -n\nquit\n', maxBytes: 1 << 28, timeoutMs: 300_000 });
  const lines = (r.stdout ?? '').split('\n');
  const from = lines.findIndex((l) => l.startsWith('NODE '));
  if (from < 0) throw new InputError(`verify --memmap: crash printed no kmem -n table for ${core} (${(r.stderr || r.stdout || '').trim().split('\n').slice(-1)[0] ?? ''})`);
  return withoutTrailingBlankLines(lines.slice(from).map((l) => l.replace(/ffff88[0-9a-f]{10}/g, '-'.repeat(16))));
}

function withoutTrailingBlankLines(lines: string[]): string[] {
  const out = [...lines];
  while (out.length && out[out.length - 1]?.trim() === '') out.pop();
  return out;
}

/** Bytes of guest memory a dump holds at most: boot RAM, NVDIMMs (with label areas) and everything the steps add. */
function guestBytes(spec: MachineSpec, steps: readonly ScenarioStep[]): number {
  const ram = spec.memory.reduce((t, r) => t + Math.ceil(r.size / BLOCK_ROUND) * BLOCK_ROUND, 0);
  const pmem = spec.pmem.reduce((t, p) => t + p.size + (p.labels ? 128 * 1024 : 0), 0);
  const added = steps.reduce((t, st) => t + ('add' in st ? st.add.size + 128 * 1024 : 0), 0);
  return ram + pmem + added;
}

/** Refuse to write `bytes` where the file system has less free (with 256 MiB to spare). */
function checkFreeSpace(dir: string, bytes: number, what: string): void {
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  if (free < bytes + 256 * MiB) {
    throw new InputError(`verify --memmap: ${what} needs ${Math.ceil(bytes / MiB)} MiB and ${dir} has ${Math.floor(free / MiB)} MiB free; free some space or set TMPDIR to a larger file system`);
  }
}

/** The debug vmlinux drgn reads: the cached .zst unpacked into dir (a plain file is used as it is). */
async function unpackVmlinux(src: string, dir: string): Promise<string> {
  if (!src.endsWith('.zst')) return src;
  const out = join(dir, 'vmlinux');
  checkFreeSpace(dir, 700 * MiB, 'the unpacked vmlinux');
  const r = await runChild('zstd', ['-qdf', src, '-o', out]);
  if (r.status !== 0) {
    const why = r.error?.code ?? (r.stderr.trim().split('\n').slice(-1)[0] || `exit ${r.status}`);
    throw new InputError(`verify --memmap: cannot unpack ${src} with zstd (${why}); install zstd or run \`mmsim verify --setup\` again`);
  }
  return out;
}

/** The diff as text; empty differences print "same". */
export function formatDiff(steps: readonly StepDiff[]): string {
  return steps.map((s) => (s.diffs.length ? `${s.label}:\n${s.diffs.map((d) => `  ${d}\n`).join('')}` : `${s.label}: same\n`)).join('');
}
