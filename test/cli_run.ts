// `mmsim ARGV` for the CLI tests without a node start-up per command: a few long-lived runner
// processes (test/cli_runner.mjs) each run the built CLI's main() on one command line at a time and
// answer its exit code, stdout and stderr — what `node dist/cli/main.js ARGV` would give (the
// runner's cwd is the repository root and its environment this process's, COLUMNS=80 added).
// The bin itself (its shebang, process.exitCode, EPIPE) keeps real subprocess runs in
// cli.test.ts and readme.test.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { root } from './helpers.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Reply extends CliResult {
  readonly id: number;
}

interface Runner {
  readonly child: ChildProcess;
  busy: boolean;
}

const runners: Runner[] = [];
const waiting: (() => void)[] = [];
let nextId = 0;

function startRunner(): Runner {
  const child = fork(join(root, 'test', 'cli_runner.mjs'), [], { cwd: root, env: { ...process.env, COLUMNS: '80' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const r: Runner = { child, busy: false };
  // A runner must not keep the test process alive once its commands are done.
  child.unref();
  child.channel?.unref();
  return r;
}

/** At most `jobs` runners at once; a runner that died (a crashed command) is replaced. */
async function acquire(jobs: number): Promise<Runner> {
  for (;;) {
    for (let i = runners.length - 1; i >= 0; i--) if ((runners[i] as Runner).child.exitCode !== null || (runners[i] as Runner).child.signalCode !== null) runners.splice(i, 1);
    const free = runners.find((r) => !r.busy);
    if (free) return free;
    if (runners.length < jobs) {
      const r = startRunner();
      runners.push(r);
      return r;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
}

/** Runs `mmsim ...argv` in a runner (at most `jobs` commands at once across calls), in `cwd` if given (else the repository root). */
export async function cli(argv: readonly string[], opts: { readonly jobs?: number; readonly cwd?: string } = {}): Promise<CliResult> {
  const r = await acquire(opts.jobs ?? 1);
  r.busy = true;
  const id = nextId++;
  try {
    r.child.ref();
    r.child.channel?.ref();
    return await new Promise<CliResult>((resolve, reject) => {
      const onMessage = (m: Reply): void => {
        if (m.id !== id) return;
        done();
        resolve({ code: m.code, stdout: m.stdout, stderr: m.stderr });
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        reject(new Error(`mmsim ${argv.join(' ')}: the runner exited (${signal ?? code}) before answering`));
      };
      const done = (): void => {
        r.child.off('message', onMessage);
        r.child.off('exit', onExit);
      };
      r.child.on('message', onMessage);
      r.child.on('exit', onExit);
      r.child.send({ id, argv, cwd: opts.cwd ?? root });
    });
  } finally {
    r.child.unref();
    r.child.channel?.unref();
    r.busy = false;
    waiting.shift()?.();
  }
}

/** `mmsim ...args` in a runner, its result named as spawnSync names it: status, stdout, stderr. */
export async function mmsim(...args: string[]): Promise<{ readonly status: number; readonly stdout: string; readonly stderr: string }> {
  const r = await cli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}
