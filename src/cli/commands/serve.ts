// `mmsim serve`: the lab in a browser on 127.0.0.1.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';

export function serveCommand(program: Command, out: (s: string) => void): void {
  program
    .command('serve')
    .description('The lab in a browser on 127.0.0.1: the physical map, scenario playback, explore counterexamples and timelines.')
    .argument('[file]', 'open this first: a built-in scenario (seed-2019, ...), an example scenario by name, or a scenario file (.yaml) or design file (.mjs) on disk')
    .option('--port <n>', 'the port (0: any free one)', '5719')
    .action(async (file: string | undefined, opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port ${opts.port}: expected a port number such as 5719`);
      const { serveLab } = await import('../../lab/server.js');
      const { fileURLToPath } = await import('node:url');
      const { existsSync, statSync } = await import('node:fs');
      // This file runs as dist/cli/commands/serve.js: the lab's build is dist/lab-app, the project root the folder above dist.
      const here = fileURLToPath(new URL('.', import.meta.url));
      // A file on disk: a design (.js/.mjs) offered in the design list on seed-2019, or a scenario played from its path;
      // else a built-in scenario or an example's name, as before.
      const onDisk = file !== undefined && existsSync(file) && statSync(file).isFile();
      const design = onDisk && /\.m?js$/.test(file) ? file : undefined;
      const scenario = onDisk && design === undefined ? file : undefined;
      if (file !== undefined && !onDisk && /\.m?js$/.test(file)) throw new InputError(`${file}: no such design file`);
      const lab = await serveLab(`${here}../../lab-app`, `${here}../../..`, port, onDisk ? null : (file ?? null), {
        ...(scenario === undefined ? {} : { scenarioFile: scenario }),
        ...(design === undefined ? {} : { designFile: design }),
      });
      out(`mmsim lab: ${lab.url} (Ctrl-C stops it)\n`);
      // Ctrl-C or a kill: stop the worker threads and remove any posted scenario's directory first.
      const stop = (code: number) => () => void lab.close().finally(() => process.exit(code));
      process.once('SIGINT', stop(130));
      process.once('SIGTERM', stop(143));
      await new Promise<void>(() => {});
    });
}
