// The lab's worker threads: each API request's model work (api.ts labJob) runs in one of at most
// `workers` threads (worker.ts, from the built dist JS), so the server's request loop only routes,
// reads bodies and writes answers. Beyond the running jobs at most `queue` wait; past that the
// pool refuses (503). Every job has a time limit counted from its arrival: a queued job past it is
// dropped, a running one has its thread terminated (504). A client that goes away cancels its job
// the same way. Each thread's heap is capped, so a job that runs the memory out ends that thread
// (503), not the server.
import { Worker } from 'node:worker_threads';
import type { LabJob, LabReply } from './api.js';

export interface PoolLimits {
  /** Threads that run jobs at once. */
  readonly workers: number;
  /** Jobs that may wait for a thread; one more is refused with 503. */
  readonly queue: number;
  /** From a job's arrival to its answer, waiting included. */
  readonly timeLimitMs: number;
  /** Each thread's V8 old generation (resourceLimits.maxOldGenerationSizeMb). */
  readonly memoryMb: number;
}

/** A job the pool did not finish: the HTTP status and the one-line message for the client. */
export class JobRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'JobRefused';
  }
}

interface Pending {
  readonly job: LabJob;
  readonly resolve: (r: LabReply) => void;
  readonly reject: (e: JobRefused) => void;
  timer: NodeJS.Timeout | null;
  worker: Worker | null;
  done: boolean;
  unlisten: () => void;
}

export class LabPool {
  private readonly idle: Worker[] = [];
  private readonly queued: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  /** Threads being terminated: they still count against `workers` until they are gone. */
  private dying = 0;
  private closed = false;
  private readonly exits = new Set<Promise<number>>();

  constructor(
    private readonly file: string,
    readonly limits: PoolLimits,
  ) {}

  /** Jobs accepted since the start. */
  private accepted = 0;

  /** Jobs running and waiting now, threads alive (running, idle or being terminated), jobs accepted since the start. */
  get load(): { running: number; queued: number; threads: number; accepted: number } {
    return { running: this.running.size, queued: this.queued.length, threads: this.running.size + this.idle.length + this.dying, accepted: this.accepted };
  }

  /** Run a job in a thread; rejects with JobRefused when refused, timed out, cancelled through `signal`, or killed by its memory limit. */
  run(job: LabJob, signal?: AbortSignal): Promise<LabReply> {
    if (this.closed) return Promise.reject(new JobRefused(503, 'the lab is shutting down'));
    if (signal?.aborted) return Promise.reject(new JobRefused(499, 'the client went away'));
    if (this.running.size + this.dying >= this.limits.workers && this.queued.length >= this.limits.queue) {
      return Promise.reject(new JobRefused(503, `busy: ${this.limits.workers} requests running and ${this.limits.queue} waiting; try again shortly`));
    }
    this.accepted++;
    return new Promise<LabReply>((resolve, reject) => {
      const p: Pending = { job, resolve, reject, timer: null, worker: null, done: false, unlisten: () => {} };
      p.timer = setTimeout(() => this.fail(p, new JobRefused(504, `the request took longer than the lab's limit of ${this.limits.timeLimitMs / 1000} s and was stopped`)), this.limits.timeLimitMs);
      if (signal) {
        const onAbort = (): void => this.fail(p, new JobRefused(499, 'the client went away'));
        signal.addEventListener('abort', onAbort, { once: true });
        p.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.queued.push(p);
      this.pump();
    });
  }

  /** Refuse what waits, stop what runs and end every thread. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.queued, ...this.running.values()]) this.fail(p, new JobRefused(503, 'the lab is shutting down'));
    for (const w of this.idle.splice(0)) this.end(w);
    await Promise.all([...this.exits]);
  }

  private pump(): void {
    while (!this.closed && this.running.size + this.dying < this.limits.workers && this.queued.length > 0) {
      const p = this.queued.shift() as Pending;
      const w = this.idle.pop() ?? this.spawn();
      p.worker = w;
      this.running.set(w, p);
      w.postMessage(p.job);
    }
  }

  private spawn(): Worker {
    const w = new Worker(this.file, { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb }, stdout: false, stderr: false });
    w.unref();
    const exit = new Promise<number>((ok) => w.once('exit', ok));
    this.exits.add(exit);
    void exit.then(() => this.exits.delete(exit));
    w.on('message', (r: LabReply) => {
      const p = this.running.get(w);
      if (!p) return;
      this.settle(p);
      this.running.delete(w);
      if (this.closed) this.end(w);
      else this.idle.push(w);
      p.resolve(r);
      this.pump();
    });
    w.on('error', (e: Error & { code?: string }) => {
      const p = this.running.get(w);
      if (!p) return;
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') this.fail(p, new JobRefused(503, `the request ran out of the lab's memory limit (${this.limits.memoryMb} MiB) and was stopped`));
      else {
        // An exception that escaped labJob: an mmsim bug, logged by the server.
        this.settle(p);
        this.running.delete(w);
        this.end(w);
        p.resolve({ bug: e.stack ?? e.message });
      }
    });
    w.on('exit', (code) => {
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      const p = this.running.get(w);
      if (p) {
        this.settle(p);
        this.running.delete(w);
        p.resolve({ bug: `lab worker exited with code ${code} during a ${p.job.kind} job` });
        this.pump();
      }
    });
    return w;
  }

  /** Mark a job answered: no timer, no abort listener. */
  private settle(p: Pending): void {
    p.done = true;
    if (p.timer) clearTimeout(p.timer);
    p.unlisten();
  }

  /** Refuse or stop a job: out of the queue, or its thread terminated (and replaced on demand). */
  private fail(p: Pending, e: JobRefused): void {
    if (p.done) return;
    this.settle(p);
    const i = this.queued.indexOf(p);
    if (i >= 0) this.queued.splice(i, 1);
    if (p.worker && this.running.get(p.worker) === p) {
      this.running.delete(p.worker);
      this.end(p.worker);
    }
    p.reject(e);
    this.pump();
  }

  /** Terminate a thread; it holds its slot until it has exited. */
  private end(w: Worker): void {
    this.dying++;
    void w.terminate().finally(() => {
      this.dying--;
      this.pump();
    });
  }
}
