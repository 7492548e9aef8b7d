// A machine's memory blocks as /sys/devices/system/memory (drivers/base/memory.c attribute
// formats), written as a directory tree that real tools (lsmem --sysroot) read; and a sysfs
// view turned back into a machine file.
import { mkdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ArchName } from '../arch/arch.js';
import type { MemoryBlocks } from '../kernel/memory_block.js';
import type { SysfsMemory, SysfsMemoryBlock } from './sysfs-memory.js';

/** The files of each block as the kernel shows them; attributes the model leaves undetermined are absent. */
export function sysfsView(mb: MemoryBlocks): SysfsMemory {
  return {
    blockSizeBytes: mb.blockBytes.toString(16),
    autoOnlineBlocks: mb.autoOnlineBlocks,
    blocks: mb.blocks.map((b): SysfsMemoryBlock => {
      const validZones = b.validZonesText ?? b.validZones ?? undefined;
      return {
        index: b.id,
        state: b.state,
        physIndex: b.id.toString(16).padStart(8, '0'),
        online: b.state === 'online' ? '1' : '0',
        physDevice: String(b.physDevice),
        nodes: b.nodes,
        ...(b.removable !== null ? { removable: b.removable ? '1' : '0' } : {}),
        ...(validZones !== undefined ? { validZones } : {}),
      };
    }),
  };
}

/**
 * mkdir -p, one level at a time. Node's mkdirSync({ recursive: true }) retries a parent for as
 * long as mkdir says ENOENT, and procfs says ENOENT to every mkdir: `sysfs export M /proc/nope`
 * looped forever. Here the first mkdir that fails throws its error.
 */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      if (statSync(p).isDirectory()) break;
      throw Object.assign(new Error(`${p}: not a directory`), { code: 'ENOTDIR' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // Made meanwhile by someone else: fine if it is a directory now.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
    }
  }
}

/**
 * Write DIR/sys/devices/system/memory (block_size_bytes, auto_online_blocks, memoryN/...) and
 * the node links both ways (memoryN/nodeM -> ../../node/nodeM, node/nodeM/memoryN). DIR/sys must
 * not be this machine's own /sys (the tree there is replaced).
 */
export function writeSysfsTree(dir: string, view: SysfsMemory): void {
  let real: string | null = null;
  try {
    real = realpathSync(join(dir, 'sys'));
  } catch {
    // Not there yet.
  }
  if (real === '/sys') throw Object.assign(new Error(`${join(dir, 'sys')} is this machine's own /sys`), { code: 'EPERM' });
  const sys = join(dir, 'sys', 'devices', 'system');
  const mem = join(sys, 'memory');
  rmSync(mem, { recursive: true, force: true });
  rmSync(join(sys, 'node'), { recursive: true, force: true });
  makeDirs(mem);
  writeFileSync(join(mem, 'block_size_bytes'), `${view.blockSizeBytes}\n`);
  if (view.autoOnlineBlocks !== undefined) writeFileSync(join(mem, 'auto_online_blocks'), `${view.autoOnlineBlocks}\n`);
  for (const b of view.blocks) {
    const d = join(mem, `memory${b.index}`);
    mkdirSync(d);
    const put = (name: string, v: string | undefined): void => {
      if (v !== undefined) writeFileSync(join(d, name), `${v}\n`);
    };
    put('state', b.state);
    put('online', b.online);
    put('phys_index', b.physIndex);
    put('phys_device', b.physDevice);
    put('removable', b.removable);
    put('valid_zones', b.validZones);
    for (const nid of b.nodes) {
      const nd = join(sys, 'node', `node${nid}`);
      makeDirs(nd);
      symlinkSync(join('..', '..', 'node', `node${nid}`), join(d, `node${nid}`));
      symlinkSync(join('..', '..', 'memory', `memory${b.index}`), join(nd, `memory${b.index}`));
    }
  }
}

export interface ImportOptions {
  readonly source: string;
  readonly arch: ArchName;
  readonly kernel: string;
}

/**
 * A machine file from a sysfs view: each node's memory is the union of its blocks (sysfs has
 * block granularity only), and every block's observed attributes are kept so that an export
 * writes them back. s390x's storage increment is set so that the model's block size matches.
 */
export function machineYamlFromSysfs(view: SysfsMemory, opts: ImportOptions): string {
  const blockBytes = parseInt(view.blockSizeBytes, 16);
  const byNode = new Map<number, { start: number; end: number }[]>();
  for (const b of view.blocks) {
    const nid = b.nodes[b.nodes.length - 1] ?? 0;
    const list = byNode.get(nid) ?? [];
    const start = b.index * blockBytes;
    const last = list[list.length - 1];
    if (last && last.end === start) last.end += blockBytes;
    else list.push({ start, end: start + blockBytes });
    byNode.set(nid, list);
  }
  const hex = (v: number): string => `0x${v.toString(16)}`;
  const q = (v: string): string => JSON.stringify(v);
  const config: string[] = [];
  if (opts.arch === 's390x') config.push(`rzmBytes: ${hex(blockBytes)}`);
  const auto = view.autoOnlineBlocks?.trim();
  if (auto === 'online' || auto === 'offline' || auto === 'online_kernel' || auto === 'online_movable') config.push(`autoOnlineBlocks: ${auto}`);
  const lines: string[] = [
    `# ${view.blocks.length} memory blocks read from ${opts.source}: memory per node is the union of its`,
    '# blocks (sysfs has block granularity); memoryBlocks keeps what the running kernel reported.',
    `name: ${q(`imported from ${opts.source}`)}`,
    `kernel: ${q(opts.kernel)}`,
    `arch: ${opts.arch}`,
    ...(config.length ? [`config: { ${config.join(', ')} }`] : []),
    `memoryBlockBytes: ${hex(blockBytes)}`,
    'nodes:',
  ];
  for (const nid of [...byNode.keys()].sort((a, b) => a - b)) {
    lines.push(`  - nid: ${nid}`, '    memory:');
    for (const r of byNode.get(nid) ?? []) lines.push(`      - { start: ${hex(r.start)}, end: ${hex(r.end)} }`);
  }
  lines.push('memoryBlocks:');
  for (const b of view.blocks) {
    const parts = [`id: ${b.index}`, `state: ${b.state}`];
    if (b.removable !== undefined) parts.push(`removable: ${b.removable.trim() === '1'}`);
    if (b.validZones !== undefined) parts.push(`validZones: ${q(b.validZones)}`);
    if (b.physDevice !== undefined && /^\d+$/.test(b.physDevice)) parts.push(`physDevice: ${b.physDevice}`);
    parts.push(`nodes: [${b.nodes.join(', ')}]`);
    lines.push(`  - { ${parts.join(', ')} }`);
  }
  return lines.join('\n') + '\n';
}
