// `mmsim sweep FILE` (every cell of a sweep file, one table) and `mmsim worker --queue URL` (takes a queued sweep's jobs).
import type { Command } from 'commander';

export function sweepCommand(program: Command, out: (s: string) => void): void {
  program
    .command('sweep')
    .description('Run every cell of a sweep file (scenarios x designs and kernels x configs x walker sets, one explore each) and print one table, in file order.')
    .argument('<file>', 'a sweep file (YAML), e.g. examples/sweeps/seed-2019.sweep.yaml')
    .option('--jobs <n>', 'worker threads on this machine (default: every core)')
    .option('--queue <url>', 'put each cell as a job on a BullMQ queue on this Redis (redis://HOST:PORT) for mmsim worker processes to take')
    .option('--wall-clock', "also print each cell's wall-clock seconds (then the table differs from run to run)")
    .option('--progress', 'a line on stderr as each job finishes')
    .option('--json', 'print the cells as JSON')
    .action(async (file: string, opts: { jobs?: string; queue?: string; wallClock?: boolean; progress?: boolean; json?: boolean }) => {
      const { sweepCommand: sweep } = await import('../sweep.js');
      await sweep(file, opts, out);
    });
}

export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description('Take the jobs of mmsim sweep --queue runs from a Redis server until Ctrl-C; start any number, on any machines with the same files.')
    .requiredOption('--queue <url>', 'the Redis server (redis://HOST:PORT)')
    .option('--jobs <n>', 'jobs at once, each in its own thread (default: every core)')
    .action(async (opts: { queue: string; jobs?: string }) => {
      const { workerCommand: worker } = await import('../sweep.js');
      await worker(opts, (s) => process.stderr.write(s));
    });
}
