// `mmsim chmem`: util-linux chmem over a sysfs tree or a model machine, parsed by chmem itself.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { bootMachineFile, readText, runDriverSysfs, runScenario } from '../../drivers/run.js';
import { chmem } from '../../tools/chmem.js';

export function chmemCommand(program: Command): void {
  program.command('chmem').description("util-linux 2.42's chmem over --sysroot DIR or a model machine: mmsim chmem [MACHINE|SCENARIO] [chmem options]").allowUnknownOption();
}

/**
 * `mmsim chmem [MACHINE.yaml | SCENARIO.yaml] [chmem options]`: util-linux chmem over a sysfs
 * tree (a live /sys, or --sysroot DIR), or over a model machine: a machine file booted, or a
 * scenario run to its end; each state write then runs the kernel's online/offline with its errno.
 */
export function chmemMain(args: readonly string[]): number {
  const first = args[0];
  if (first !== undefined && !first.startsWith('-') && /\.ya?ml$/.test(first)) {
    const rest = args.slice(1);
    if (rest.some((a) => a === '-s' || a.startsWith('--sysroot') || /^-[^-]*s/.test(a))) {
      throw new InputError('chmem: give either a machine or scenario file or --sysroot DIR, not both');
    }
    const m = /(^|\n)steps\s*:/.test(readText(first)) ? runScenario(first, [], undefined, () => undefined) : bootMachineFile(first, undefined);
    const r = chmem('/', rest, runDriverSysfs(m, first));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  }
  const r = chmem('/', args);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.exitCode;
}
