// The kernel command-line options that change the boot memory layout: kernelcore=, movablecore=,
// movable_node, mem= (cmdline_parse_core, cmdline_parse_kernelcore in mm/mm_init.c; x86
// parse_memopt in arch/x86/kernel/e820.c).
import { kstrtobool, KSTRTOBOOL_ANY } from '../kernel/kstrtox.js';
import type { BootOptions, CoreSize } from '../kernel/machine_spec.js';
import { memparse } from './size.js';

export interface CmdlineError {
  readonly column: number;
  readonly message: string;
}

function parseCore(value: string): CoreSize | null {
  // cmdline_parse_core: an integer (simple_strtoull) followed by '%' is a percent of memory.
  const pct = /^(\d+)%$/.exec(value);
  if (pct && pct[1] !== undefined) {
    const percent = Number(pct[1]);
    return percent >= 0 && percent <= 100 ? { percent } : null;
  }
  const bytes = memparse(value);
  return bytes === null ? null : { bytes };
}

/** Parses the options mmsim models; other options are ignored as the kernel's early_param would. */
export function parseCmdline(cmdline: string): { boot: BootOptions; error: CmdlineError | null } {
  let kernelcore: BootOptions['kernelcore'];
  let movablecore: CoreSize | undefined;
  let movableNode = false;
  let memLimit: number | undefined;
  let memhpDefaultState: BootOptions['memhpDefaultState'];
  let onlinePolicy: BootOptions['onlinePolicy'];
  let autoMovableRatio: number | undefined;
  let autoMovableNumaAware: string | undefined;
  let memmapOnMemory: string | undefined;
  let error: CmdlineError | null = null;
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cmdline)) !== null) {
    const tok = m[0];
    if (tok === '--') break; // what follows goes to init
    const col = m.index + 1;
    const eq = tok.indexOf('=');
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const value = eq < 0 ? '' : tok.slice(eq + 1);
    if (key === 'movable_node' && eq < 0) movableNode = true;
    else if (key === 'kernelcore') {
      if (value === 'mirror') kernelcore = 'mirror';
      else {
        const c = parseCore(value);
        if (c) kernelcore = c;
        else error ??= { column: col, message: `kernelcore=${value}: expected a size (4G), a whole percent (20%) or "mirror"` };
      }
    } else if (key === 'movablecore') {
      const c = parseCore(value);
      if (c) movablecore = c;
      else error ??= { column: col, message: `movablecore=${value}: expected a size (4G) or a whole percent (20%)` };
    } else if (key === 'memhp_default_state') {
      if (value === 'online' || value === 'offline' || value === 'online_kernel' || value === 'online_movable') memhpDefaultState = value;
      else error ??= { column: col, message: `memhp_default_state=${value}: expected online, offline, online_kernel or online_movable` };
    } else if (key === 'memory_hotplug.online_policy') {
      if (value === 'contig-zones' || value === 'auto-movable') onlinePolicy = value;
      else error ??= { column: col, message: `memory_hotplug.online_policy=${value}: expected contig-zones or auto-movable` };
    } else if (key === 'memory_hotplug.auto_movable_ratio') {
      if (/^\d+$/.test(value) && Number(value) <= 0xffffffff) autoMovableRatio = Number(value);
      else error ??= { column: col, message: `memory_hotplug.auto_movable_ratio=${value}: expected a whole percent such as 301` };
    } else if (key === 'memory_hotplug.auto_movable_numa_aware') {
      // Kept as written: which letters count depends on the kernel (kstrtobool at hotplug time).
      if (kstrtobool(value, KSTRTOBOOL_ANY) !== null) autoMovableNumaAware = value;
      else error ??= { column: col, message: `memory_hotplug.auto_movable_numa_aware=${value}: expected Y, N, 1 or 0` };
    } else if (key === 'memory_hotplug.memmap_on_memory') {
      // Kept as written: "force" and the kstrtobool letters depend on the kernel.
      if (eq < 0 || value === 'force' || value === 'FORCE' || kstrtobool(value, KSTRTOBOOL_ANY) !== null) memmapOnMemory = value;
      else error ??= { column: col, message: `memory_hotplug.memmap_on_memory=${value}: expected Y, N or force` };
    } else if (key === 'mem') {
      if (value === 'nopentium') continue;
      const b = memparse(value);
      // parse_memopt (arch/x86/kernel/e820.c, 5.3 to 6.18): a size of 0 (what memparse makes of
      // "mem={invalid}") returns -EINVAL before e820__range_remove, so the option is ignored
      // rather than removing all memory; arm64's memory_limit of 0 is ignored as well
      // (memblock_mem_limit_remove_map returns at once for limit 0, mm/memblock.c).
      if (b === 0) continue;
      if (b !== null) memLimit = b;
      else error ??= { column: col, message: `mem=${value}: expected a size such as 64G` };
    }
  }
  const boot: BootOptions = {
    movableNode,
    ...(kernelcore !== undefined ? { kernelcore } : {}),
    ...(movablecore !== undefined ? { movablecore } : {}),
    ...(memLimit !== undefined ? { memLimit } : {}),
    ...(memhpDefaultState !== undefined ? { memhpDefaultState } : {}),
    ...(onlinePolicy !== undefined ? { onlinePolicy } : {}),
    ...(autoMovableRatio !== undefined ? { autoMovableRatio } : {}),
    ...(autoMovableNumaAware !== undefined ? { autoMovableNumaAware } : {}),
    ...(memmapOnMemory !== undefined ? { memmapOnMemory } : {}),
  };
  return { boot, error };
}
