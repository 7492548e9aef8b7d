// A child process run without blocking this one: verify runs several guests at once (the QEMU
// suite, two at a time), and a synchronous drgn, crash or zstd of tens of seconds would starve
// the others' sockets.
import { spawn } from 'node:child_process';

export interface ChildResult {
  /** The exit code, or null when a signal ended it (a timeout's SIGKILL among them). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The start failed (ENOENT: no such program). */
  readonly error?: NodeJS.ErrnoException;
}

/** Run `cmd args`, feeding `input`; killed after timeoutMs; output past maxBytes a stream is dropped. */
export function runChild(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number; maxBytes?: number } = {}): Promise<ChildResult> {
  const max = opts.maxBytes ?? 1 << 30;
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    p.stdout.on('data', (d: Buffer) => {
      if ((outBytes += d.length) <= max) out.push(d);
    });
    p.stderr.on('data', (d: Buffer) => {
      if ((errBytes += d.length) <= max) err.push(d);
    });
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    let error: NodeJS.ErrnoException | undefined;
    p.once('error', (e: NodeJS.ErrnoException) => (error = e));
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
    p.once('close', (status) => {
      if (timer) clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...(error ? { error } : {}) });
    });
  });
}
