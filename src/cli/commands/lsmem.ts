// `mmsim lsmem [MACHINE | --sysroot DIR] [options]`: util-linux lsmem over a sysfs tree (a live /sys or a dump) or a machine.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { LSMEM_ERROR_EXIT, PATH_SYS_MEMORY, lsmem, parseLsmemArgs, resolveLsmemColumns, type LsmemEnv, type LsmemResult } from '../../tools/lsmem.js';
import { readSysfsMemory } from '../../formats/sysfs-memory-read.js';
import type { SysfsMemory } from '../../formats/sysfs-memory.js';
import { boot, loadMachine } from '../../drivers/run.js';
import { sysfsView } from '../../formats/sysfs-export.js';
import { memoryDevInit } from '../../kernel/memory_block.js';
import { machineSource } from './common.js';

export function lsmemCommand(program: Command): void {
  program.command('lsmem').description("util-linux 2.42's lsmem over --sysroot DIR (default /) or over a machine: mmsim lsmem [MACHINE] [lsmem options]").allowUnknownOption();
}

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

/**
 * `mmsim lsmem [MACHINE | --from-dmesg F | --from-live] [--kernel R] [lsmem options]`: util-linux
 * lsmem over a sysfs tree (--sysroot DIR, default /) or over a machine booted by mmsim. Its options
 * are lsmem's own, so it is parsed here rather than by commander.
 */
export function lsmemMain(args: readonly string[]): number {
  const rest: string[] = [];
  let machineFile: string | undefined;
  let fromDmesg: string | undefined;
  let kernel: string | undefined;
  let fromLive = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new InputError(`lsmem: ${a} needs a value`);
      return v;
    };
    if (a === '--from-dmesg') fromDmesg = next();
    else if (a.startsWith('--from-dmesg=')) fromDmesg = a.slice('--from-dmesg='.length);
    else if (a === '--from-live') fromLive = true;
    else if (a === '--kernel') kernel = next();
    else if (a.startsWith('--kernel=')) kernel = a.slice('--kernel='.length);
    else if (!a.startsWith('-') && machineFile === undefined && (i === 0 || !/^(-o|--output|--split|-s|--sysroot|--summary)$/.test(args[i - 1] ?? ''))) {
      machineFile = a;
    } else rest.push(a);
  }
  let result;
  if (machineFile !== undefined || fromDmesg !== undefined || fromLive) {
    const loaded = loadMachine(machineSource(machineFile, { ...(fromDmesg !== undefined ? { fromDmesg } : {}), fromLive, ...(kernel !== undefined ? { kernel } : {}) }));
    result = lsmem(sysfsView(memoryDevInit(boot(loaded))), rest, process.env);
  } else {
    result = runLsmem(rest);
  }
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.exitCode;
}
