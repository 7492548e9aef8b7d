// `mmsim run`: a scenario, a machine and then hotplug steps as kernel tasks in program order.
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { runScenario } from '../../drivers/run.js';
import { RUN_VIEWS, type RunView } from '../../formats/scenario.js';
import { collect } from './common.js';

export function runCommand(program: Command, out: (s: string) => void): void {
  program
    .command('run')
    .description('Run a scenario: a machine, then hotplug steps as kernel tasks in program order.')
    .argument('<scenario>', 'a scenario YAML file (examples/*.scenario.yaml)')
    .option('--kernel <release>', "kernel profile (overrides the scenario's)")
    .addOption(new Option('--print <view>', `print a view after every step (repeatable): ${RUN_VIEWS.join(', ')}`).argParser(collect).default([] as string[]))
    .action((file: string, opts: { kernel?: string; print: string[] }) => {
      for (const v of opts.print) {
        if (!(RUN_VIEWS as readonly string[]).includes(v)) throw new InputError(`--print ${v}: expected one of ${RUN_VIEWS.join(', ')}`);
      }
      runScenario(file, opts.print as RunView[], opts.kernel, out);
    });
}
