// `mmsim schema`: the JSON Schema of machine files (or scenario files), for editors.
import type { Command } from 'commander';
import { machineJsonSchema } from '../../formats/machine-yaml.js';
import { scenarioJsonSchema } from '../../formats/scenario.js';

export function schemaCommand(program: Command, out: (s: string) => void): void {
  program
    .command('schema')
    .description('Print the JSON Schema of mmsim machine files (or scenario files with --scenario), for editors.')
    .option('--scenario', 'the scenario file schema')
    .action((opts: { scenario?: boolean }) => {
      out(JSON.stringify(opts.scenario ? scenarioJsonSchema() : machineJsonSchema(), null, 2) + '\n');
    });
}
