// `mmsim ndctl` and `mmsim daxctl`: the NVDIMM tools over a model machine, parsed by the tools themselves.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { bootMachineFile, readText, runScenario, runTask } from '../../drivers/run.js';
import { ndctl } from '../../tools/ndctl.js';
import { daxctl } from '../../tools/daxctl.js';

export function ndctlCommand(program: Command): void {
  program
    .command('ndctl')
    .description('ndctl (v81) over a model machine: mmsim ndctl MACHINE|SCENARIO list|create-namespace|destroy-namespace|disable-region|enable-region|init-labels [options]')
    .allowUnknownOption();
}

export function daxctlCommand(program: Command): void {
  program.command('daxctl').description('daxctl (v81) over a model machine: mmsim daxctl MACHINE|SCENARIO list|reconfigure-device|online-memory|offline-memory [options]').allowUnknownOption();
}

/**
 * `mmsim ndctl|daxctl MACHINE.yaml|SCENARIO.yaml ARGS`: the tool over a machine booted, or a
 * scenario run to its end, its kernel operations under the run driver.
 */
export function nvdimmToolMain(tool: 'ndctl' | 'daxctl', args: readonly string[]): number {
  const first = args[0];
  if (first === undefined || !/\.ya?ml$/.test(first))
    throw new InputError(`${tool}: give a machine or scenario file first, then the ${tool} command (e.g. mmsim ${tool} examples/nvdimm.scenario.yaml list -u)`);
  const m = /(^|\n)steps\s*:/.test(readText(first)) ? runScenario(first, [], undefined, () => undefined) : bootMachineFile(first, undefined);
  const r = (tool === 'ndctl' ? ndctl : daxctl)(m, args.slice(1), (task) => runTask(m, first, task));
  process.stdout.write(r.output);
  return r.exitCode;
}
