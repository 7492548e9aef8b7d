// Reading this machine: its own boot log where readable (dmesg), otherwise the firmware memory
// map (/sys/firmware/memmap, else /proc/iomem) and the node of each memory block
// (/sys/devices/system/node). I/O lives here, at the edge; the model never reads files.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { memblockFromE820, parseDmesg } from './dmesg.js';
import { DEFAULT_CONFIG, type KernelConfig, type MachineSpec, type MemblockRegion } from '../kernel/machine_spec.js';

export interface LiveMachine {
  readonly spec: MachineSpec;
  readonly release: string;
  readonly build: string;
  readonly sources: string[];
}

export interface LiveRoots {
  /** Root of /proc and /sys (tests point it at a fixture tree). */
  readonly root: string;
  /** Whether to run dmesg(1). */
  readonly useDmesg: boolean;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** x86 trim_bios_range: page 0 becomes reserved and 640K-1M is removed before memblock sees e820. */
const TRIM_BIOS_RANGE = [
  { start: 0, end: 0x1000 },
  { start: 0xa0000, end: 0x100000 },
];

function firmwareRam(root: string, sources: string[]): { start: number; end: number }[] | null {
  const dir = join(root, 'sys/firmware/memmap');
  if (existsSync(dir)) {
    const ram: { start: number; end: number }[] = [];
    for (const e of readdirSync(dir)) {
      const type = read(join(dir, e, 'type'))?.trim();
      const s = read(join(dir, e, 'start'));
      const en = read(join(dir, e, 'end'));
      if (type === 'System RAM' && s && en) ram.push({ start: parseInt(s, 16), end: parseInt(en, 16) + 1 });
    }
    if (ram.length) {
      sources.push('/sys/firmware/memmap (e820 System RAM)');
      return ram;
    }
  }
  const iomem = read(join(root, 'proc/iomem'));
  if (iomem) {
    const ram: { start: number; end: number }[] = [];
    for (const line of iomem.split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) : System RAM$/.exec(line);
      if (m && m[1] && m[2]) ram.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16) + 1 });
    }
    if (ram.length && ram.some((r) => r.end > 1)) {
      sources.push('/proc/iomem (System RAM)');
      // iomem already excludes page 0 and the legacy hole; the same trims are harmless.
      return ram;
    }
  }
  return null;
}

/** The node of each memory block: /sys/devices/system/node/nodeN/memoryM links. */
function blockNodes(root: string): { blockBytes: number; nodeOfBlock: Map<number, number>; cpus: Map<number, number> } {
  const memDir = join(root, 'sys/devices/system/memory');
  const bs = read(join(memDir, 'block_size_bytes'));
  const blockBytes = bs ? parseInt(bs.trim(), 16) : 0;
  const nodeOfBlock = new Map<number, number>();
  const cpus = new Map<number, number>();
  const nodeDir = join(root, 'sys/devices/system/node');
  if (existsSync(nodeDir)) {
    for (const n of readdirSync(nodeDir)) {
      const m = /^node(\d+)$/.exec(n);
      if (!m) continue;
      const nid = Number(m[1]);
      for (const e of readdirSync(join(nodeDir, n))) {
        const b = /^memory(\d+)$/.exec(e);
        if (b) nodeOfBlock.set(Number(b[1]), nid);
      }
      const cpulist = read(join(nodeDir, n, 'cpulist'))?.trim() ?? '';
      let count = 0;
      for (const part of cpulist.split(',').filter(Boolean)) {
        const [a, b] = part.split('-').map(Number);
        count += b === undefined ? 1 : b - (a ?? 0) + 1;
      }
      cpus.set(nid, count);
    }
  }
  return { blockBytes, nodeOfBlock, cpus };
}

/** CONFIG_MHP_DEFAULT_ONLINE_TYPE as this kernel reports it, when readable. */
function liveAutoOnline(root: string): KernelConfig['autoOnlineBlocks'] | null {
  const v = read(join(root, 'sys/devices/system/memory/auto_online_blocks'))?.trim();
  return v === 'online' || v === 'offline' || v === 'online_kernel' || v === 'online_movable' ? v : null;
}

export function readLiveMachine(opts: LiveRoots = { root: '/', useDmesg: true }): LiveMachine {
  const m = readLiveMachineSpec(opts);
  const auto = liveAutoOnline(opts.root);
  if (auto === null) return m;
  m.sources.push('/sys/devices/system/memory/auto_online_blocks');
  return { ...m, spec: { ...m.spec, config: { ...m.spec.config, autoOnlineBlocks: auto } } };
}

function readLiveMachineSpec(opts: LiveRoots): LiveMachine {
  const sources: string[] = [];
  const release = read(join(opts.root, 'proc/sys/kernel/osrelease'))?.trim() ?? '';
  const version = read(join(opts.root, 'proc/version'))?.trim() ?? '';
  const build = version.replace(/^Linux version \S+/, '');
  if (opts.useDmesg) {
    let log = '';
    try {
      log = execFileSync('dmesg', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
    } catch {
      sources.push('dmesg: not readable here');
    }
    if (log.includes('Early memory node ranges')) {
      try {
        const parsed = parseDmesg('dmesg', log);
        sources.push('dmesg (Early memory node ranges, SRAT, Hypervisor detected)');
        return { spec: { ...parsed.spec, name: 'live' }, release: parsed.release ?? release, build: parsed.build || build, sources };
      } catch (e) {
        sources.push(`dmesg: unusable (${(e as Error).message})`);
      }
    } else if (log) {
      sources.push('dmesg: boot lines rotated out of the ring buffer');
    }
  }
  const ram = firmwareRam(opts.root, sources);
  if (!ram) {
    throw new InputError('--from-live: neither dmesg, /sys/firmware/memmap nor /proc/iomem gives the memory map here; run as root or give a YAML machine');
  }
  const { blockBytes, nodeOfBlock, cpus } = blockNodes(opts.root);
  if (nodeOfBlock.size) sources.push('/sys/devices/system/node (node of each memory block)');
  // Nodes by memory block, as SRAT-like ranges for memblockFromE820.
  const byBlock: { start: number; end: number; nid: number; hotplug: boolean }[] = [];
  if (blockBytes) {
    for (const blk of [...nodeOfBlock.keys()].sort((a, b) => a - b)) {
      const nid = nodeOfBlock.get(blk) ?? 0;
      const last = byBlock[byBlock.length - 1];
      if (last && last.nid === nid && last.end === blk * blockBytes) last.end += blockBytes;
      else byBlock.push({ start: blk * blockBytes, end: (blk + 1) * blockBytes, nid, hotplug: false });
    }
  }
  const single = new Set(byBlock.map((b) => b.nid)).size <= 1;
  const memory: MemblockRegion[] = memblockFromE820(
    ram.map((r) => ({ ...r, type: 'usable' })),
    TRIM_BIOS_RANGE,
    byBlock,
    single,
  );
  const cpuinfo = read(join(opts.root, 'proc/cpuinfo')) ?? '';
  const hypervisor = /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo) ? 'unknown (cpuinfo hypervisor flag)' : null;
  sources.push(`/proc/cpuinfo (${hypervisor ? 'hypervisor flag' : 'bare metal'})`);
  const nids = new Set<number>([...memory.map((m) => m.nid), ...cpus.keys()]);
  const spec: MachineSpec = {
    name: 'live',
    arch: 'x86_64',
    hypervisor,
    memory,
    pmem: [],
    reserved: null,
    dmaReservePages: null,
    nodes: [...nids].sort((a, b) => a - b).map((nid) => ({ nid, cpus: cpus.get(nid) ?? 0 })),
    boot: { movableNode: false },
    config: DEFAULT_CONFIG,
    memLimitApplied: true,
  };
  return { spec, release, build, sources };
}
