// A machine's memory blocks as /sys/devices/system/memory (drivers/base/memory.c attribute
// formats), written as a directory tree that real tools (lsmem --sysroot) read; and a sysfs
// view turned back into a machine file.
import { mkdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ArchName } from '../arch/arch.js';
import { InputError } from '../errors.js';
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

/** A string as a YAML double-quoted scalar: everything but printable ASCII escaped, so no text read from a file can end the scalar or start YAML of its own. */
export function yamlQuote(v: string): string {
  let out = '"';
  for (const ch of v) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

/** A value read from a file, for an error message: quoted, control characters escaped. */
function shown(v: string): string {
  return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
}

/** The largest MAX_NUMNODES any kernel config gives: 1 << NODES_SHIFT, whose Kconfig range ends at 10. */
const MAX_NUMNODES_LIMIT = 1 << 10;
/** No architecture mmsim models addresses more (x86_64 with 5-level paging and arm64 with 52-bit PAs: MAX_PHYSMEM_BITS 52). */
const MAX_PHYS_ADDR = 2 ** 52;
/** The zone names valid_zones_show can print (zone->name), and "none". */
const ZONE_NAMES = new Set(['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device']);
/** online_type_to_str (drivers/base/memory.c): what auto_online_blocks shows. */
const ONLINE_TYPES = new Set(['offline', 'online', 'online_kernel', 'online_movable']);
/** state_show (drivers/base/memory.c, 6.1): MEM_ONLINE, MEM_OFFLINE, MEM_GOING_OFFLINE. */
const STATES = new Set(['online', 'offline', 'going-offline']);

/**
 * What a machine file may be made from: a view the kernel could have shown (drivers/base/memory.c
 * 6.1): block_size_bytes as %lx, each block once as memory%u with phys_index %08lx of its id,
 * state from state_show, removable 0 or 1, valid_zones of zone names or none, node links to
 * nodes below MAX_NUMNODES, auto_online_blocks from online_type_to_str. Else one InputError line
 * naming the file.
 */
function checkImport(view: SysfsMemory, source: string): number {
  const mem = join(source, 'sys', 'devices', 'system', 'memory');
  const bad = (path: string, what: string): InputError => new InputError(`${path}: ${what}`);
  const bs = view.blockSizeBytes;
  const blockBytes = /^[0-9a-f]{1,14}$/.test(bs) ? parseInt(bs, 16) : NaN;
  if (!(blockBytes > 0) || blockBytes % 2 ** 20 !== 0) {
    throw bad(join(mem, 'block_size_bytes'), `${shown(bs)}: expected the memory block size as block_size_bytes_show prints it (%lx: lowercase hex without 0x, a multiple of 1 MiB), e.g. 8000000`);
  }
  const auto = view.autoOnlineBlocks;
  if (auto !== undefined && !ONLINE_TYPES.has(auto)) throw bad(join(mem, 'auto_online_blocks'), `${shown(auto)}: expected one of ${[...ONLINE_TYPES].join(', ')}`);
  if (!view.blocks.length) throw bad(mem, 'no memoryN directories; the kernel shows a memory block for all the memory it has, expected at least one');
  const seen = new Map<number, string>();
  for (const b of view.blocks) {
    const name = b.name ?? `memory${b.index}`;
    const dir = join(mem, name);
    if (name !== `memory${b.index}`) throw bad(dir, `not a name the kernel gives a block (memory%u: memory${b.index})`);
    const other = seen.get(b.index);
    if (other !== undefined) throw bad(dir, `block ${b.index} again (also ${other}); the kernel shows each block once`);
    seen.set(b.index, name);
    if ((b.index + 1) * blockBytes > MAX_PHYS_ADDR) throw bad(dir, `block ${b.index} of 0x${blockBytes.toString(16)} bytes ends above 2^52, past every architecture's MAX_PHYSMEM_BITS`);
    const physIndex = b.index.toString(16).padStart(8, '0');
    if (b.physIndex !== undefined && b.physIndex !== physIndex) throw bad(join(dir, 'phys_index'), `${shown(b.physIndex)}: expected ${physIndex} (phys_index_show: the block id, %08lx)`);
    if (!STATES.has(b.state)) throw bad(join(dir, 'state'), `${shown(b.state)}: expected online, offline or going-offline (state_show)`);
    if (b.removable !== undefined && b.removable !== '0' && b.removable !== '1') throw bad(join(dir, 'removable'), `${shown(b.removable)}: expected 0 or 1`);
    if (b.validZones !== undefined && b.validZones !== 'none' && !(b.validZones !== '' && b.validZones.split(' ').every((z) => ZONE_NAMES.has(z)))) {
      throw bad(join(dir, 'valid_zones'), `${shown(b.validZones)}: expected none or zone names (${[...ZONE_NAMES].join(', ')}) separated by spaces`);
    }
    if (b.physDevice !== undefined && !/^\d{1,9}$/.test(b.physDevice)) throw bad(join(dir, 'phys_device'), `${shown(b.physDevice)}: expected a number (phys_device_show, %d)`);
    for (const nid of b.nodes) {
      if (!Number.isInteger(nid) || nid < 0 || nid >= MAX_NUMNODES_LIMIT) throw bad(dir, `a link to node${nid}: expected nodes 0 to ${MAX_NUMNODES_LIMIT - 1} (MAX_NUMNODES is at most 1 << 10)`);
    }
  }
  return blockBytes;
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
 * A view the kernel could not have shown is refused (checkImport); every string is quoted.
 */
export function machineYamlFromSysfs(view: SysfsMemory, opts: ImportOptions): string {
  const blockBytes = checkImport(view, opts.source);
  const byNode = new Map<number, { start: number; end: number }[]>();
  for (const b of [...view.blocks].sort((x, y) => x.index - y.index)) {
    const nid = b.nodes[b.nodes.length - 1] ?? 0;
    const list = byNode.get(nid) ?? [];
    const start = b.index * blockBytes;
    const last = list[list.length - 1];
    if (last && last.end === start) last.end += blockBytes;
    else list.push({ start, end: start + blockBytes });
    byNode.set(nid, list);
  }
  const hex = (v: number): string => `0x${v.toString(16)}`;
  const q = yamlQuote;
  const config: string[] = [];
  if (opts.arch === 's390x') config.push(`rzmBytes: ${hex(blockBytes)}`);
  if (view.autoOnlineBlocks !== undefined) config.push(`autoOnlineBlocks: ${q(view.autoOnlineBlocks)}`);
  const lines: string[] = [
    `# ${view.blocks.length} memory blocks read from ${q(opts.source)}: memory per node is the union of its`,
    '# blocks (sysfs has block granularity); memoryBlocks keeps what the running kernel reported.',
    `name: ${q(`imported from ${opts.source}`)}`,
    `kernel: ${q(opts.kernel)}`,
    `arch: ${q(opts.arch)}`,
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
    const parts = [`id: ${b.index}`, `state: ${q(b.state)}`];
    if (b.removable !== undefined) parts.push(`removable: ${b.removable === '1'}`);
    if (b.validZones !== undefined) parts.push(`validZones: ${q(b.validZones)}`);
    if (b.physDevice !== undefined) parts.push(`physDevice: ${Number(b.physDevice)}`);
    parts.push(`nodes: [${b.nodes.join(', ')}]`);
    lines.push(`  - { ${parts.join(', ')} }`);
  }
  return lines.join('\n') + '\n';
}
