// `mmsim lsmem [--sysroot DIR] [options]`: util-linux lsmem over a sysfs tree (a live /sys or a dump).
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import {
  LSMEM_ERROR_EXIT, PATH_SYS_MEMORY, lsmem, parseLsmemArgs, resolveLsmemColumns,
  type LsmemEnv, type LsmemResult,
} from '../tools/lsmem.js';
import { readSysfsMemory } from '../formats/sysfs-memory-read.js';
import type { SysfsMemory } from '../formats/sysfs-memory.js';

/** An lsmem error result: one line on stderr. */
function error(message: string): LsmemResult {
  return { stdout: '', stderr: `lsmem: ${message}\n`, exitCode: LSMEM_ERROR_EXIT };
}

/**
 * Run lsmem with its command line `args` (-s/--sysroot DIR included). Models main()'s order:
 * option errors first, then "cannot open" for a missing sysfs directory, then column errors,
 * then the reading of sysfs, then the output. `env` supplies LSMEM_COLUMNS.
 */
export function runLsmem(args: readonly string[], env: LsmemEnv = process.env): LsmemResult {
  const opts = parseLsmemArgs(args);
  if ('exitCode' in opts) return opts;
  const root = opts.sysroot;
  if (!existsSync(root !== undefined ? `${root}${PATH_SYS_MEMORY}` : PATH_SYS_MEMORY)) {
    return error(`cannot open ${PATH_SYS_MEMORY}: No such file or directory`);
  }
  if (opts.wantTable) {
    const cols = resolveLsmemColumns(opts, env);
    if ('exitCode' in cols) return cols;
  }
  let view: SysfsMemory;
  try {
    view = readSysfsMemory(root ?? '/');
  } catch (e) {
    if (e instanceof InputError) return error(e.message);
    throw e;
  }
  return lsmem(view, args, env);
}
