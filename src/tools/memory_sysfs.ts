// /sys/devices/system/memory of a running model machine (drivers/base/memory.c, 6.1): the
// attributes read as the kernel shows them, and writes to memoryN/state and memoryN/online run the
// kernel's online/offline as tasks and fail with its errno. Leaves out probe, soft/hard_offline_page
// and the memmap_on_memory / online_policy module parameters.
import { kstrtobool, kstrtoboolLetters } from '../kernel/kstrtox.js';
import { sysfsView } from '../formats/sysfs-export.js';
import type { SysfsFiles } from './chmem.js';
import type { SysfsMemory, SysfsMemoryBlock } from '../formats/sysfs-memory.js';
import type { Task } from '../kernel/task.js';
import type { MemoryBlock } from '../kernel/memory_block.js';
import { EBUSY, EEXIST, EINVAL, offlineBlock, onlineBlock, type OnlineType, validZones } from '../kernel/memory_hotplug.js';
import { type Machine } from '../kernel/machine.js';

export const PATH_SYS_MEMORY = '/sys/devices/system/memory';

/** errno numbers the hotplug paths return, by name (for write(2) failures). */
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
  [EINVAL, 'EINVAL'],
  [EBUSY, 'EBUSY'],
  [EEXIST, 'EEXIST'],
]);

/** The errno numbers (x86-64 and asm-generic) of the names a sysfs write here can fail with. */
export const ERRNO_NUMBERS: Readonly<Record<string, number>> = { ENOENT: 2, EACCES: 13, EBUSY: 16, EEXIST: 17, EISDIR: 21, EINVAL: 22 };

/** The machine's memory blocks now, with their current state and valid_zones. */
export function hotplugSysfsView(m: Machine, only?: MemoryBlock): SysfsMemory {
  const blocks = (only ? [only] : [...m.blocks.values()].sort((a, b) => a.id - b.id)).map((b) => ({ ...b, validZones: null, validZonesText: validZones(m, b) }));
  return sysfsView({ ...m.boot, blocks });
}

/** One block's sysfs files, or undefined if there is no such block (computes only its valid_zones). */
function blockView(m: Machine, id: number): SysfsMemoryBlock | undefined {
  const b = m.blocks.get(id);
  return b ? hotplugSysfsView(m, b).blocks[0] : undefined;
}

/** A memory block's attribute files, as their show() functions print them. */
function blockFiles(b: SysfsMemoryBlock): Map<string, string> {
  const files = new Map<string, string>([
    ['phys_index', `${b.physIndex}\n`],
    ['state', `${b.state}\n`],
    ['online', `${b.online}\n`],
    ['phys_device', `${b.physDevice}\n`],
  ]);
  if (b.removable !== undefined) files.set('removable', `${b.removable}\n`);
  if (b.validZones !== undefined) files.set('valid_zones', `${b.validZones}\n`);
  return files;
}

/** mhp_online_type_from_str (6.1): the values memoryN/state takes, after sysfs_streq's newline strip. */
function onlineTypeFromStr(text: string): OnlineType | 'offline' | null {
  const v = text.endsWith('\n') ? text.slice(0, -1) : text;
  return v === 'offline' || v === 'online' || v === 'online_kernel' || v === 'online_movable' ? v : null;
}

/**
 * The machine's sysfs memory tree under `root` (chmem's sysroot), served from the model. `run`
 * runs a kernel task to completion (the caller's driver, with its checkers) and returns its value.
 */
export function machineSysfsFiles(m: Machine, root: string, run: (task: Task<number>) => number): SysfsFiles {
  const base = `${root.replace(/\/+$/, '')}${PATH_SYS_MEMORY}`;
  // Where a path points: the memory directory, a block directory, a file in either, or nothing.
  const locate = (path: string): { kind: 'dir' | 'block' | 'file'; text?: string; block?: number; attr?: string } | null => {
    const p = path.replace(/\/+$/, '');
    if (p === base) return { kind: 'dir' };
    if (!p.startsWith(`${base}/`)) return null;
    const parts = p.slice(base.length + 1).split('/');
    if (parts.length === 1) {
      if (parts[0] === 'block_size_bytes') return { kind: 'file', text: `${m.boot.blockBytes.toString(16)}\n` };
      if (parts[0] === 'auto_online_blocks') return { kind: 'file', text: `${m.boot.autoOnlineBlocks}\n` };
    }
    const id = /^memory(\d+)$/.exec(parts[0] ?? '')?.[1];
    const b = id !== undefined ? blockView(m, Number(id)) : undefined;
    if (!b) return null;
    if (parts.length === 1) return { kind: 'block', block: b.index };
    const text = parts.length === 2 ? blockFiles(b).get(parts[1] ?? '') : undefined;
    if (text !== undefined) return { kind: 'file', text, block: b.index, attr: parts[1] ?? '' };
    if (parts.length === 2 && b.nodes.some((n) => parts[1] === `node${n}`)) return { kind: 'dir' };
    return null;
  };
  const errnoOf = (rc: number): string => ERRNO_NAMES.get(-rc) ?? `E${-rc}`;
  return {
    read(path) {
      const at = locate(path);
      if (!at) return { errno: 'ENOENT' };
      if (at.kind !== 'file') return { errno: 'EISDIR' };
      return Buffer.from(at.text ?? '', 'latin1');
    },
    write(path, text) {
      const at = locate(path);
      if (!at) return 'ENOENT';
      if (at.kind !== 'file') return 'EISDIR';
      const id = at.block;
      if (id === undefined || (at.attr !== 'state' && at.attr !== 'online')) return 'EACCES';
      if (at.attr === 'state') {
        // state_store: device_online/device_offline answer 1 when already there, which is EINVAL.
        const type = onlineTypeFromStr(text);
        if (type === null) return 'EINVAL';
        const rc = run(type === 'offline' ? offlineBlock(m, id) : onlineBlock(m, id, type));
        return rc === 0 ? '' : errnoOf(rc);
      }
      // online_store (drivers/base/core.c): already in the asked state is success.
      const on = kstrtobool(text, kstrtoboolLetters(m.state.profile.features));
      if (on === null) return 'EINVAL';
      const b = m.blocks.get(id);
      if (!b || (b.state === 'online') === on) return '';
      const rc = run(on ? onlineBlock(m, id, 'online') : offlineBlock(m, id));
      return rc === 0 ? '' : errnoOf(rc);
    },
    exists(path) {
      return locate(path) !== null;
    },
    readdir(path) {
      const at = locate(path);
      if (!at || at.kind === 'file') return null;
      if (at.kind === 'dir' && path.replace(/\/+$/, '') === base) {
        return ['block_size_bytes', 'auto_online_blocks', ...[...m.blocks.keys()].sort((a, b) => a - b).map((i) => `memory${i}`)];
      }
      if (at.kind === 'block') {
        const b = at.block !== undefined ? blockView(m, at.block) : undefined;
        return b ? [...blockFiles(b).keys(), ...b.nodes.map((n) => `node${n}`)] : null;
      }
      return [];
    },
  };
}
