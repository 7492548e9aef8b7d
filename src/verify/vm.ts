// A QEMU guest driven by `mmsim verify`: QMP (JSON lines over a Unix socket; replies and
// events) and the in-guest agent on the second serial port (one shell command per line, output
// until "@@DONE <rc>"). Every wait has a timeout; QEMU is killed when the VM is closed, when the
// process exits, and on error.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/** A line-oriented reader over a socket. */
class Lines {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait until `test` finds what it wants in the buffer (it returns the consumed length and a value), or time out. */
  async until<T>(what: string, timeoutMs: number, test: (buf: string) => { used: number; value: T } | null): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = test(this.buf);
      if (r) {
        this.buf = this.buf.slice(r.used);
        return r.value;
      }
      if (this.closed) throw new InputError(`verify: the guest closed the connection while waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new InputError(`verify: timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await this.wait(left);
    }
  }

  /** Everything received and not yet consumed (consumed now). */
  take(): string {
    const b = this.buf;
    this.buf = '';
    return b;
  }

  /** The unconsumed text, left in place. */
  peek(): string {
    return this.buf;
  }

  /** Wait for more data, the close, or ms. */
  async wait(ms: number): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((res) => {
      const t = setTimeout(res, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        res();
      });
    });
  }
}

async function connect(path: string, timeoutMs: number): Promise<Socket> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(path)) {
      try {
        return await new Promise<Socket>((res, rej) => {
          const s = createConnection(path);
          s.once('connect', () => res(s));
          s.once('error', rej);
        });
      } catch {
        // the socket file exists before QEMU listens on it
      }
    }
    if (Date.now() > end) throw new InputError(`verify: QEMU did not open ${path} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface QmpEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
}

export class Qmp {
  readonly events: QmpEvent[] = [];
  private id = 0;

  private constructor(private readonly lines: Lines) {}

  static async open(path: string): Promise<Qmp> {
    const q = new Qmp(new Lines(await connect(path, 30_000)));
    await q.read(30_000, 'the QMP greeting', (o) => 'QMP' in o);
    await q.cmd('qmp_capabilities');
    return q;
  }

  private async read(timeoutMs: number, what: string, want: (o: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return this.lines.until(what, timeoutMs, (buf) => {
      let at = 0;
      for (;;) {
        const nl = buf.indexOf('\n', at);
        if (nl < 0) return null;
        const line = buf.slice(at, nl).trim();
        at = nl + 1;
        if (!line) continue;
        const o = JSON.parse(line) as Record<string, unknown>;
        if ('event' in o) this.events.push(o as unknown as QmpEvent);
        if (want(o)) return { used: at, value: o };
      }
    });
  }

  /** Execute a command and return its result (an error reply is one clear error). */
  async cmd(name: string, args?: Record<string, unknown>, timeoutMs = 60_000): Promise<unknown> {
    const id = `m${++this.id}`;
    this.lines.sock.write(JSON.stringify({ execute: name, ...(args ? { arguments: args } : {}), id }) + '\n');
    const r = await this.read(timeoutMs, `the reply to ${name}`, (o) => o['id'] === id);
    if ('error' in r) throw new InputError(`verify: QMP ${name} failed: ${JSON.stringify((r['error'] as { desc?: string }).desc ?? r['error'])}`);
    return r['return'];
  }

  /** Wait for an event (already received ones count), consuming it. */
  async event(name: string, pred: (e: QmpEvent) => boolean, timeoutMs = 60_000): Promise<QmpEvent> {
    const take = (): QmpEvent | null => {
      const i = this.events.findIndex((e) => e.event === name && pred(e));
      return i < 0 ? null : (this.events.splice(i, 1)[0] ?? null);
    };
    const have = take();
    if (have) return have;
    await this.read(timeoutMs, `QMP event ${name}`, (o) => o['event'] === name && pred(o as unknown as QmpEvent));
    const e = take();
    if (!e) throw new InputError(`verify: QMP event ${name} vanished`);
    return e;
  }
}

export class Agent {
  private constructor(private readonly lines: Lines) {}

  /** Connect to the agent's port (the guest's lines reach nobody before this). */
  static async connect(path: string): Promise<Agent> {
    return new Agent(new Lines(await connect(path, 30_000)));
  }

  /** Wait for the agent's first line; `console` names the boot's last console line on a timeout. */
  async ready(bootTimeoutMs: number, console: () => string): Promise<void> {
    try {
      await this.lines.until('the guest agent to start (boot)', bootTimeoutMs, (b) => {
        const i = b.indexOf('@@AGENT-READY\n');
        return i < 0 ? null : { used: i + 14, value: true };
      });
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${e.message}; the console's last line: ${JSON.stringify(console())}`);
      throw e;
    }
  }

  /** Run one shell command in the guest: its output and exit code. */
  async run(cmd: string, timeoutMs = 120_000): Promise<{ out: string; rc: number }> {
    if (cmd.includes('\n')) throw new Error('agent commands are one line');
    this.lines.sock.write(cmd + '\n');
    return this.lines.until(`the guest command "${cmd}"`, timeoutMs, (b) => {
      const m = /\n@@DONE (\d+)\n/.exec(b);
      if (!m) return null;
      return { used: m.index + m[0].length, value: { out: b.slice(0, m.index), rc: Number(m[1]) } };
    });
  }

  /**
   * Run one shell command whose guest may die under it (a kernel BUG with panic=-1 and
   * -no-reboot ends QEMU): its output so far is passed to `progress` as it comes; the result is
   * the output with the exit code, or with `gone` when the connection closed first, or
   * `timedOut` after timeoutMs.
   */
  async runUntilGone(cmd: string, timeoutMs: number, progress: (text: string) => void): Promise<{ out: string; rc: number | null; gone: boolean; timedOut: boolean }> {
    if (cmd.includes('\n')) throw new Error('agent commands are one line');
    this.lines.sock.write(cmd + '\n');
    const end = Date.now() + timeoutMs;
    let out = '';
    let seen = 0;
    for (;;) {
      const b = this.lines.peek();
      const m = /\n@@DONE (\d+)\n/.exec(b);
      if (m) {
        this.lines.take();
        out = b.slice(0, m.index);
        if (out.length > seen) progress(out.slice(seen));
        return { out, rc: Number(m[1]), gone: false, timedOut: false };
      }
      // Hand on whole lines only: a cycle count cut in two would read as a smaller one.
      const nl = b.lastIndexOf('\n');
      if (nl + 1 > seen) {
        progress(b.slice(seen, nl + 1));
        seen = nl + 1;
      }
      if (this.lines.closed) {
        if (b.length > seen) progress(b.slice(seen));
        return { out: this.lines.take(), rc: null, gone: true, timedOut: false };
      }
      const left = end - Date.now();
      if (left <= 0) return { out: this.lines.take(), rc: null, gone: false, timedOut: true };
      await this.lines.wait(left);
    }
  }

  exit(): void {
    if (!this.lines.closed) this.lines.sock.write('@@EXIT\n');
  }
}

/** The last non-empty line of a file (the guest console), or '' (none yet). */
function lastLine(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
// Interrupted: kill the guests, then die of the signal as usual.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const p of live) p.kill('SIGKILL');
    process.kill(process.pid, sig);
  });
}

export class Vm {
  private constructor(
    readonly proc: ChildProcess,
    readonly qmp: Qmp,
    readonly agent: Agent,
  ) {}

  /** Start QEMU with `args` (the machine and devices) in dir, and wait for the guest agent. */
  static async start(dir: string, args: readonly string[], kernel: { vmlinuz: string; initrd: string }, append: string, bootTimeoutMs: number): Promise<Vm> {
    const qmpPath = join(dir, 'qmp.sock');
    const agentPath = join(dir, 'agent.sock');
    const argv = [
      // Held (-S) until both sockets are connected and `cont` is sent: QEMU drops what the guest
      // writes to a socket nobody is connected to, and this process may be late (a synchronous
      // child beside it), so the agent's first line would be lost.
      '-S',
      '-accel',
      'tcg',
      // la57=off: -cpu max under TCG offers 5-level paging, which moves the vmemmap away from where
      // a memory dump's reader (drgn) looks for it; 4-level paging is also what the model assumes.
      '-cpu',
      'max,la57=off',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      ...args,
      // The guest's VMCOREINFO note (through qemu_fw_cfg) goes into memory dumps taken over QMP.
      '-device',
      'vmcoreinfo',
      '-chardev',
      `file,id=con,path=${join(dir, 'console.log')}`,
      '-serial',
      'chardev:con',
      '-chardev',
      `socket,id=ag,path=${agentPath},server=on,wait=off`,
      '-serial',
      'chardev:ag',
      '-qmp',
      `unix:${qmpPath},server=on,wait=off`,
      '-kernel',
      kernel.vmlinuz,
      '-initrd',
      kernel.initrd,
      '-append',
      `console=ttyS0 panic=-1 nokaslr ${append}`.trim(),
    ];
    const proc = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(proc);
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<never>((_, rej) => {
      proc.once('exit', (code) => rej(new InputError(`verify: QEMU exited (${code}) before the guest was ready: ${stderr.trim().split('\n')[0] ?? ''}`)));
      // No qemu-system-x86_64 on PATH: one line, not an unhandled 'error' event.
      proc.once('error', (e: NodeJS.ErrnoException) => rej(new InputError(`verify: cannot start qemu-system-x86_64 (${e.code ?? e.message}); run mmsim verify --setup`)));
    });
    exited.catch(() => undefined);
    try {
      const qmp = await Promise.race([Qmp.open(qmpPath), exited]);
      const agent = await Promise.race([Agent.connect(agentPath), exited]);
      await Promise.race([qmp.cmd('cont'), exited]);
      await Promise.race([agent.ready(bootTimeoutMs, () => lastLine(join(dir, 'console.log'))), exited]);
      return new Vm(proc, qmp, agent);
    } catch (e) {
      proc.kill('SIGKILL');
      live.delete(proc);
      throw e;
    }
  }

  /** Whether QEMU has exited (a guest that panicked with -no-reboot). */
  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  async close(): Promise<void> {
    if (this.exited) {
      live.delete(this.proc);
      return;
    }
    this.agent.exit();
    const done = new Promise<void>((res) => this.proc.once('exit', () => res()));
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
    live.delete(this.proc);
  }
}
