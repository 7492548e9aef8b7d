// mmsim command line. Every user-facing error is one line on stderr and exit code 2.
import { Command, CommanderError } from 'commander';
import { InputError, oneLine } from '../errors.js';
import { ExpectFailed } from '../drivers/run.js';
import { setProfileWarnings } from '../profiles/profile.js';
import { bootCommand } from './commands/boot.js';
import { sysfsCommand } from './commands/sysfs.js';
import { chmemCommand, chmemMain } from './commands/chmem.js';
import { designsCommand } from './commands/designs.js';
import { exploreCommand } from './commands/explore.js';
import { serveCommand } from './commands/serve.js';
import { timeCommand } from './commands/time.js';
import { compareCommand } from './commands/compare.js';
import { sweepCommand, workerCommand } from './commands/sweep.js';
import { verifyCommand } from './commands/verify.js';
import { daxctlCommand, ndctlCommand, nvdimmToolMain } from './commands/ndctl.js';
import { lsmemCommand, lsmemMain } from './commands/lsmem.js';
import { kmemCommand } from './commands/kmem.js';
import { pageCommand } from './commands/page.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { demoCommand } from './commands/demo.js';
import { machineCommand } from './commands/machine.js';

/** The commander program; the order of the commands is the order `mmsim --help` lists them. */
export function buildProgram(out: (s: string) => void): Command {
  const program = new Command();
  program
    .name('mmsim')
    .description("An executable model of Linux's physical memory model: nodes, zones, sections, memmap, hotplug.")
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) });

  bootCommand(program, out);
  sysfsCommand(program, out);
  chmemCommand(program);
  designsCommand(program, out);
  exploreCommand(program, out);
  serveCommand(program, out);
  timeCommand(program, out);
  compareCommand(program, out);
  sweepCommand(program, out);
  workerCommand(program);
  verifyCommand(program, out);
  ndctlCommand(program);
  daxctlCommand(program);
  lsmemCommand(program);
  kmemCommand(program, out);
  pageCommand(program, out);
  runCommand(program, out);
  machineCommand(program, out);
  schemaCommand(program, out);
  demoCommand(program, out);

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram((s) => process.stdout.write(s));
  // A release mmsim has no profile for: one line on stderr, once per release, naming the profile used.
  setProfileWarnings((line) => process.stderr.write(`${line}\n`));
  try {
    if (argv[2] === 'lsmem') return lsmemMain(argv.slice(3));
    if (argv[2] === 'chmem') return chmemMain(argv.slice(3));
    if ((argv[2] === 'ndctl' || argv[2] === 'daxctl') && argv[3] !== '--help' && argv[3] !== '-h') return nvdimmToolMain(argv[2], argv.slice(3));
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its one-line message (or help/version, which exit 0).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InputError) {
      process.stderr.write(`mmsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ExpectFailed) {
      process.stderr.write(`mmsim: ${e.message}\n`);
      return 1;
    }
    const err = e as Error;
    process.stderr.write(`mmsim: internal error: ${oneLine(String(err?.message))} (please report it with the command that produced it)\n`);
    return 1;
  }
}
