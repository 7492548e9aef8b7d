// How `mmsim sweep` spreads its jobs: over node:worker_threads on this machine (a pool of threads,
// each running one job at a time from a worker file), or over a BullMQ queue on a Redis server
// that `mmsim worker` processes on any number of machines take jobs from. The jobs and what they
// return are plain JSON; what a job does is the worker file's (cli/sweep_worker.ts) business.
// Results come back in job order, whichever thread or machine ran each, so the table is the same.
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Worker as Thread } from 'node:worker_threads';
import type { ConnectionOptions } from 'bullmq';
import { InputError } from '../errors.js';
import { scavenge } from './scavenge.js';

/** The one queue every sweep puts its jobs on and every `mmsim worker` takes them from. */
export const SWEEP_QUEUE = 'mmsim-sweep';

/** A job's thread or process went away mid-job (not the job's own error, which it returns). */
export class JobLost extends Error {}

/** A pool of worker threads started from `file`; each takes one job at a time. */
export class ThreadPool<J, R> {
  private readonly idle: Thread[] = [];
  private readonly all = new Set<Thread>();
  private readonly waiting: { job: J; ok: (r: R) => void; fail: (e: Error) => void }[] = [];
  private readonly busy = new Map<Thread, { ok: (r: R) => void; fail: (e: Error) => void }>();
  private closed = false;
  private leaveGate: (() => void) | null = null;

  constructor(
    private readonly file: URL,
    private readonly size: number,
  ) {}

  run(job: J): Promise<R> {
    if (this.closed) return Promise.reject(new JobLost('the thread pool is closed'));
    return new Promise<R>((ok, fail) => {
      this.waiting.push({ job, ok, fail });
      this.pump();
    });
  }

  /** Stop every thread, running or idle; jobs not finished are lost (rejected). */
  async close(): Promise<void> {
    this.closed = true;
    this.leaveGate?.();
    for (const w of this.waiting.splice(0)) w.fail(new JobLost('the thread pool was closed'));
    for (const w of this.busy.values()) w.fail(new JobLost('the thread pool was closed'));
    this.busy.clear();
    const threads = [...this.all];
    this.all.clear();
    await Promise.all(threads.map((t) => t.terminate()));
  }

  private pump(): void {
    while (!this.closed && this.waiting.length && (this.idle.length || this.all.size < this.size)) {
      const w = this.waiting.shift() as (typeof this.waiting)[number];
      const t = this.idle.pop() ?? this.spawn();
      this.busy.set(t, w);
      t.postMessage(w.job);
    }
  }

  private spawn(): Thread {
    // Each thread runs a search: while they run, as many as cores stop the GC's helpers.
    this.leaveGate ??= scavenge.enter(this.size);
    const t = new Thread(this.file, { execArgv: [] });
    this.all.add(t);
    const lost = (why: string): void => {
      this.all.delete(t);
      const i = this.idle.indexOf(t);
      if (i >= 0) this.idle.splice(i, 1);
      const w = this.busy.get(t);
      this.busy.delete(t);
      w?.fail(new JobLost(why));
      this.pump();
    };
    t.on('message', (r: R) => {
      const w = this.busy.get(t);
      this.busy.delete(t);
      if (!this.closed) this.idle.push(t);
      w?.ok(r);
      this.pump();
    });
    t.on('error', (e) => lost(`a sweep thread failed: ${e.message}`));
    t.on('exit', (code) => {
      if (this.all.has(t)) lost(`a sweep thread exited with code ${code}`);
    });
    return t;
  }
}

/** Run every job on `threads` threads of `file`; the results in job order (`lost` answers for a thread that died). */
export async function runInThreads<J, R>(file: URL, jobs: readonly J[], threads: number, lost: (e: Error) => R, signal?: AbortSignal, done?: () => void): Promise<R[]> {
  const pool = new ThreadPool<J, R>(file, Math.max(1, Math.min(threads, jobs.length)));
  const stop = (): void => void pool.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    return await Promise.all(
      jobs.map((j) =>
        pool.run(j).then(
          (r) => (done?.(), r),
          (e: Error) => lost(e),
        ),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', stop);
    await pool.close();
  }
}

/** A Redis server named by redis://HOST:PORT[/DB]. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly url: string;
}

export function parseRedisUrl(url: string): RedisAddress {
  const bad = new InputError(`--queue ${url}: expected redis://HOST:PORT (a Redis server), e.g. redis://127.0.0.1:6379`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad;
  }
  if (u.protocol !== 'redis:' || !u.hostname || u.username || u.password || u.search || u.hash) throw bad;
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw bad;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port, db, url };
}

/** Ask the server for PONG (2 s at most), so that an unreachable Redis is one line, not ioredis retrying forever. */
export function checkRedis(a: RedisAddress, timeoutMs = 2000): Promise<void> {
  return new Promise((ok, fail) => {
    const s = connect({ host: a.host, port: a.port });
    let got = '';
    const done = (e: string | null): void => {
      clearTimeout(timer);
      s.destroy();
      if (e === null) ok();
      else fail(new InputError(`--queue ${a.url}: cannot reach Redis (${e}); start redis-server there or give the right HOST:PORT`));
    };
    const timer = setTimeout(() => done(`no answer in ${timeoutMs / 1000} s`), timeoutMs);
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done(got.startsWith('+PONG') ? null : `it answered ${JSON.stringify(got.split('\r\n')[0]?.slice(0, 60))}`);
    });
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

function connection(a: RedisAddress): ConnectionOptions {
  return { host: a.host, port: a.port, db: a.db, maxRetriesPerRequest: null };
}

/** How a queue job is kept: retried when its worker dies (stalls) or fails, gone from Redis once finished. */
const JOB_OPTS = { attempts: 3, removeOnComplete: true, removeOnFail: true } as const;

/**
 * Put every job on the queue and wait for each one's result (in job order). A job whose attempts
 * all failed answers through `failed`. On `signal` the jobs not yet taken are removed; those
 * running finish on their workers and are removed as they finish.
 */
export async function runOnQueue<J, R>(a: RedisAddress, jobs: readonly J[], failed: (message: string) => R, signal?: AbortSignal, done?: () => void): Promise<R[]> {
  const { Queue, QueueEvents } = await import('bullmq'); // loaded only for a queue run
  const queue = new Queue(SWEEP_QUEUE, { connection: connection(a) });
  let events: InstanceType<typeof QueueEvents> | null = null;
  const sweep = randomUUID();
  const ids = jobs.map((_, i) => `${sweep}-${i}`);
  const results = new Map<string, R>();
  try {
    // Every event the stream still holds (it is capped), not only those after the reader starts:
    // a job finished before then (and removed) is still seen. Other sweeps' jobs are ignored.
    events = new QueueEvents(SWEEP_QUEUE, { connection: connection(a), lastEventId: '0-0' });
    const ev = events;
    await ev.waitUntilReady();
    const all = new Promise<void>((resolve, reject) => {
      const mine = new Set(ids);
      const settle = (id: string, r: R): void => {
        if (!mine.has(id) || results.has(id)) return;
        results.set(id, r);
        done?.();
        if (results.size === ids.length) resolve();
      };
      ev.on('completed', ({ jobId, returnvalue }) => settle(jobId, returnvalue as unknown as R));
      ev.on('failed', ({ jobId, failedReason }) => {
        if (!mine.has(jobId)) return;
        // A failed attempt with attempts left goes back to wait: only the last counts.
        void queue.getJobState(jobId).then((state) => {
          if (!['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(state)) settle(jobId, failed(failedReason));
        }, reject);
      });
      if (signal?.aborted) reject(signal.reason as Error);
      else signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
    if (!signal?.aborted) await queue.addBulk(jobs.map((data, i) => ({ name: 'cell', data, opts: { ...JOB_OPTS, jobId: ids[i] as string } })));
    try {
      await all;
    } catch (e) {
      // Interrupted: take back what no worker has started (a running job cannot be removed; it is removed when it ends).
      await Promise.all(ids.filter((id) => !results.has(id)).map((id) => queue.remove(id).catch(() => 0)));
      throw e;
    }
    return ids.map((id) => results.get(id) as R);
  } finally {
    await events?.close();
    await queue.close();
  }
}

/**
 * Take jobs from the queue until `signal`: up to `concurrency` at once, each run by `handle`
 * (which must not block this thread's event loop, or the job's lock lapses and another worker
 * takes it too). Stopped, the jobs it was running are left to the queue, which retries them.
 */
export async function serveQueue<J, R>(a: RedisAddress, handle: (job: J) => Promise<R>, concurrency: number, signal: AbortSignal, ready?: () => void): Promise<void> {
  const { Worker: QueueWorker } = await import('bullmq');
  const worker = new QueueWorker<J, R>(SWEEP_QUEUE, (job) => handle(job.data), {
    connection: connection(a),
    concurrency,
    // A worker that dies holds its job until the lock lapses; another worker's stall check then
    // puts the job back (within about lockDuration + stalledInterval).
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('error', () => {}); // a dropped connection: ioredis reconnects; the jobs are the queue's
  const run = worker.run();
  await worker.waitUntilReady();
  ready?.();
  if (!signal.aborted) await new Promise<void>((ok) => signal.addEventListener('abort', () => ok(), { once: true }));
  await worker.close(true);
  await run.catch(() => undefined);
}
