// Reads <root>/sys/devices/system/memory into a SysfsMemory view the way lsmem does: memoryN
// entries (name "memory" + digits) in version order, each one's files read as ul_path_read_string()
// reads them (one trailing newline dropped), and the nodeN links in readdir order. Also the two
// optional sources lsmem 2.42 consults under the same root: /sys/firmware/memory (s390 memory
// configuration) and /sys/module/memory_hotplug/parameters/memmap_on_memory.
//
// A missing or unreadable file is undefined, except "state", which is "" then: lsmem treats a
// missing, unreadable or empty state the same (state "?", counted as offline). An existing but
// unreadable valid_zones is "" (lsmem sees the zones attribute, but no zones).
import { closeSync, existsSync, openSync, opendirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { SysfsFirmwareMemoryBlock, SysfsMemory, SysfsMemoryBlock } from './sysfs-memory.js';

/** lsmem reads sysfs attributes into a BUFSIZ buffer. */
const BUFSIZ = 8192;

/** Models ul_path_read_buffer(): at most bufsz-1 bytes, one trailing newline dropped; undefined on error. */
function readBuffer(path: string, bufsz: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(bufsz - 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r <= 0) break;
      n += r;
      if (n >= buf.length) break;
    }
    let text = buf.subarray(0, n).toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    return text;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Models ul_path_read_string(). */
function readString(path: string): string | undefined {
  return readBuffer(path, BUFSIZ);
}

/** Models memory_block_filter() and scandir(..., versionsort): memoryN names in numeric order. */
function memoryEntries(dir: string, what: string): { name: string; index: number }[] {
  let names: string[];
  try {
    names = readdirOrder(dir);
  } catch (e) {
    throw new InputError(`${dir}: cannot read the directory (${errCode(e)}); expected ${what}`);
  }
  return names
    .filter((n) => /^memory\d+$/.test(n))
    .map((name) => ({ name, index: Number(name.slice(6)) }))
    .sort((a, b) => a.index - b.index || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A directory's entries in readdir(3) order (without "." and ".."). */
function readdirOrder(dir: string): string[] {
  const d = opendirSync(dir);
  const names: string[] = [];
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) names.push(e.name);
  } finally {
    d.closeSync();
  }
  return names;
}

/** The errno name of a Node fs error, for messages. */
function errCode(e: unknown): string {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : 'error';
}

/** Models memory_block_get_node()'s scan: every "node" + digits entry that strtol() takes, as an int. */
function nodeLinks(dir: string, name: string): number[] {
  let entries: string[];
  try {
    entries = readdirOrder(dir);
  } catch (e) {
    throw new InputError(`${dir}: cannot open (${errCode(e)}); expected the ${name} directory with its nodeN links`);
  }
  const nodes: number[] = [];
  for (const n of entries) {
    if (!/^node\d+$/.test(n)) continue;
    const v = BigInt(n.slice(4));
    if (v > (1n << 63n) - 1n) continue;
    nodes.push(Number(BigInt.asIntN(32, v)));
  }
  return nodes;
}

/** Models memory_block_read_attrs()'s reads of one /sys/devices/system/memory/memoryN. */
function readBlock(memDir: string, name: string, index: number): SysfsMemoryBlock {
  const dir = join(memDir, name);
  const nodes = nodeLinks(dir, name);
  const file = (f: string): string | undefined => readString(join(dir, f));
  const zonesPath = join(dir, 'valid_zones');
  const validZones = existsSync(zonesPath) ? (readString(zonesPath) ?? '') : undefined;
  const physIndex = file('phys_index');
  const removable = file('removable');
  const online = file('online');
  const physDevice = file('phys_device');
  return {
    index,
    name,
    state: file('state') ?? '',
    ...(physIndex !== undefined ? { physIndex } : {}),
    ...(removable !== undefined ? { removable } : {}),
    ...(validZones !== undefined ? { validZones } : {}),
    ...(online !== undefined ? { online } : {}),
    ...(physDevice !== undefined ? { physDevice } : {}),
    nodes,
  };
}

/** Models read_memconfig(): /sys/firmware/memory/memoryN, when memory0 exists there. */
function readFirmware(base: string): SysfsFirmwareMemoryBlock[] | undefined {
  const dir = join(base, 'sys', 'firmware', 'memory');
  if (!existsSync(join(dir, 'memory0'))) return undefined;
  return memoryEntries(dir, 'the /sys/firmware/memory/memoryN directories').map(({ name, index }) => {
    const config = readString(join(dir, name, 'config'));
    const memmapOnMemory = readString(join(dir, name, 'memmap_on_memory'));
    return {
      index,
      ...(config !== undefined ? { config } : {}),
      ...(memmapOnMemory !== undefined ? { memmapOnMemory } : {}),
    };
  });
}

/**
 * Read <root>/sys/devices/system/memory (plus the firmware and memory_hotplug files lsmem reads).
 * Throws InputError when the memory directory or its block_size_bytes is missing or unreadable,
 * or a memoryN entry cannot be opened as a directory.
 */
export function readSysfsMemory(root: string): SysfsMemory {
  const base = root === '' ? '/' : root;
  const memDir = join(base, 'sys', 'devices', 'system', 'memory');
  let isDir = false;
  try {
    isDir = statSync(memDir).isDirectory();
  } catch (e) {
    throw new InputError(`${memDir}: cannot open (${errCode(e)}); expected the sysfs memory directory`);
  }
  if (!isDir) throw new InputError(`${memDir}: not a directory; expected the sysfs memory directory`);

  const bsPath = join(memDir, 'block_size_bytes');
  if (!existsSync(bsPath)) {
    throw new InputError(`${bsPath}: missing; expected the memory block size in hex (the system does not support memory blocks)`);
  }
  const blockSizeBytes = readBuffer(bsPath, 128);
  if (blockSizeBytes === undefined) throw new InputError(`${bsPath}: cannot read; expected the memory block size in hex`);
  const autoOnlineBlocks = readString(join(memDir, 'auto_online_blocks'));

  const blocks = memoryEntries(memDir, 'the memoryN directories').map(({ name, index }) => readBlock(memDir, name, index));
  const firmwareBlocks = readFirmware(base);
  const memmapOnMemoryParameter = readBuffer(join(base, 'sys', 'module', 'memory_hotplug', 'parameters', 'memmap_on_memory'), 8);
  return {
    blockSizeBytes,
    ...(autoOnlineBlocks !== undefined ? { autoOnlineBlocks } : {}),
    blocks,
    ...(firmwareBlocks !== undefined ? { firmwareBlocks } : {}),
    ...(memmapOnMemoryParameter !== undefined ? { memmapOnMemoryParameter } : {}),
  };
}
