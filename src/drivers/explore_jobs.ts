// One explore search across threads (mmsim explore --jobs N): this one and N - 1 workers. The
// DPOR search is the sequential one (explore.ts), cut at a depth: below each point the path first
// reaches at that depth, everything the sequential search does is a unit (UnitRequest), run on
// some thread from the same world; this thread runs the part above, takes each unit's result in
// as the sequential search would meet it (its counts, its violations, and the races it found with
// the steps above, which add backtrack points there), and so takes the same path through the same
// tree: the same interleavings, the same violations, the same shortest traces, tie-breaks
// included. What a unit does depends only on its prefix and its sleep set, so a unit is run
// ahead of its turn: a copy of the search above (Planner) runs on assuming the units still
// running add nothing more than they have reported, and names the units to come. This thread
// runs the first unit nobody runs yet; each worker is kept two units deep, fed between this
// thread's leaves (the answers polled from their ports, the races its own unit finds naming more
// units). A guess that was wrong costs time, never the result: a unit the search does not ask
// for is not used. Modes other than exhaustive DPOR (a preemption bound, random runs, --reduce
// sleep or none, a cap on interleavings, stopping at the first violation) run on this thread.
// A search that ends keeps its worker threads, idle, for the next search of the process (compare,
// a bench): a new thread compiles the model afresh, and on two cores that costs the
// first second of a search; the units still running ahead are cancelled at their next leaf.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { InputError, oneLine } from '../errors.js';
import { BUILTIN_SCENARIOS, type BuiltinScenario, type DebugConfig } from '../designs/builtin_scenarios.js';
import { isDesignFile, loadDesignFile, type Design } from '../designs/designs.js';
import type { WalkerName } from '../kernel/walkers.js';
import {
  advanceSearch,
  applyUnit,
  EMPTY_UNIT,
  explore,
  exploreUnit,
  finishSearch,
  firstDifferenceOfTwoRuns,
  forkSearch,
  startSearch,
  Worlds,
  type ExploreOptions,
  type ExploreResult,
  type MakeWorld,
  type Search,
  type UnitRequest,
  type Addition,
  type UnitResult,
} from './explore.js';
import { builtinWorld, scenarioWorld } from './scenario_world.js';
import { scavenge } from './scavenge.js';

/** What a worker thread needs to build the search's world: plain data (a design file is loaded again there). */
export interface ExploreWorldSpec {
  /** A built-in scenario, or a scenario file's path. */
  readonly scenario: string;
  /** A design name, kernel release, or design file path. */
  readonly design: string;
  readonly config: DebugConfig;
  readonly walkers: readonly WalkerName[];
}

/** The world builder of a spec (its design file loaded): a built-in scenario, or a scenario file's concurrent block. */
export async function worldOfSpec(spec: ExploreWorldSpec): Promise<MakeWorld> {
  const d = isDesignFile(spec.design) ? await loadDesignFile(spec.design) : null;
  return makeWorldOf(spec.scenario, d ?? spec.design, d ? [d] : [], spec.config, spec.walkers);
}

/** The world builder of a search: a built-in scenario, or a scenario file's concurrent block. */
export function makeWorldOf(scenario: string, design: Design | string, user: readonly Design[], config: DebugConfig, walkers: readonly WalkerName[]): MakeWorld {
  if ((BUILTIN_SCENARIOS as readonly string[]).includes(scenario)) {
    return (ctx) => builtinWorld({ scenario: scenario as BuiltinScenario, design, config, userDesigns: user, walkers }, ctx);
  }
  if (walkers.length) throw new InputError('--walker: walkers are added to the built-in scenarios only; a scenario file names its own operations');
  return (ctx) => scenarioWorld(scenario, design, config, user, ctx);
}

/**
 * A design file's steps must run alike on every replay of a schedule (a search takes each to):
 * two schedules, each run twice on the world with the design (firstDifferenceOfTwoRuns); an
 * InputError naming `label`, the schedule and the step where its runs part. One that throws is
 * left to the search to report.
 */
export function checkDesignDeterministic(label: string, make: MakeWorld): void {
  let diff: string | null;
  try {
    diff = firstDifferenceOfTwoRuns(make);
  } catch {
    // A design that throws: the search (or the sweep's cell) reports that, as before.
    return;
  }
  if (diff === null) return;
  throw new InputError(
    `${label}: the design's steps ran differently on two runs of the same schedule (${oneLine(diff)}); a design must depend only on the machine it is given (no state kept between runs, no clock, no Math.random)`,
  );
}

/** The explore result with the number of threads that ran the search. */
export type JobsResult = ExploreResult & {
  readonly jobs: number;
  /**
   * A split search's units: taken in (used), run (run; a unit run ahead of its turn that the
   * search then did not ask for is run but not used), of those run on this thread (here),
   * answered before the search asked (ready), and the threads' time running units in
   * milliseconds (busy: against jobs x the wall time, how full they were kept); kept: the worker
   * threads taken warm from an earlier search of this process; waited: this thread's time with
   * nothing to run, waiting for a worker's answer (milliseconds).
   */
  readonly units?: { readonly used: number; readonly run: number; readonly here: number; readonly ready: number; readonly busy: number; readonly kept: number; readonly waited: number };
};

export interface JobsOptions extends ExploreOptions {
  /** Threads: this one and jobs - 1 workers (default 1: the search on this thread alone). */
  readonly jobs?: number;
  /** Cut the search into units at this depth (default: a tenth of the first schedule's length). */
  readonly splitDepth?: number;
  /** Stops the search: its workers are terminated and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * The workers start once the search has run this many milliseconds on this thread (default
   * 250), so a small search starts no thread; the unit running then goes on, the workers fed.
   * Threads kept idle from an earlier search of this process are taken at once.
   */
  readonly inlineMs?: number;
  /** The worker script (default: dist/drivers/explore_worker.js). */
  readonly workerFile?: string;
}

/** Whether --jobs can split this search: exhaustive DPOR, run to its end. */
export function splittable(o: ExploreOptions): boolean {
  return o.preemptionBound === undefined && !o.random && (o.reduce ?? 'dpor') === 'dpor' && o.maxInterleavings === undefined && !o.stopAtFirst;
}

/**
 * A built worker script: `name` beside the module `metaUrl` when that runs from dist, else under
 * the project's dist/`distDir` (the tests run src; `root` defaults to the one above src/).
 */
export function builtScript(metaUrl: string, name: string, distDir: string, root: string = fileURLToPath(new URL('../../', metaUrl))): string {
  const beside = fileURLToPath(new URL(`./${name}`, metaUrl));
  return existsSync(beside) ? beside : join(root, 'dist', distDir, name);
}

/** A worker's answer: a unit's result, or what went wrong (an input error, or an mmsim bug with its stack). */
export type WorkerReply =
  | { readonly key: string; readonly result: UnitResult; readonly ms: number }
  | { readonly key: string; readonly early: readonly Addition[] }
  | { readonly key: string; readonly cancelled: true }
  | { readonly key: string; readonly error: string; readonly input: boolean };

/** A unit's identity: its prefix, its sleep set (with the footprints) and the walker alone below it, if any. */
export function unitKey(u: UnitRequest): string {
  return JSON.stringify([u.prefix, u.sleep.map(([t, fp]) => [t, [...fp]]), u.alone ?? null]);
}

/** What a worker thread is started with: the search's world, and the port it answers on. */
export interface WorkerStart {
  readonly spec: ExploreWorldSpec;
  readonly answers: MessagePort;
  /** Set to 1 by the search: the unit running stops at its next leaf, answered as cancelled. */
  readonly cancel: Int32Array;
}

/** A unit sent to a worker thread. */
export interface WorkerJob {
  readonly key: string;
  readonly unit: UnitRequest;
  /** The search's world (a thread kept from an earlier search may have built another). */
  readonly spec?: ExploreWorldSpec;
}

/**
 * Explore one search across `jobs` threads: this one and jobs - 1 workers (exhaustive DPOR), or
 * on this thread alone (other modes, or one job). The result is the sequential search's, byte
 * for byte: interleavings, violations and their traces.
 */
export async function exploreJobs(spec: ExploreWorldSpec, o: JobsOptions = {}, make?: MakeWorld): Promise<JobsResult> {
  const jobs = Math.max(1, Math.floor(o.jobs ?? 1));
  const m = make ?? (await worldOfSpec(spec));
  if (jobs === 1 || !splittable(o)) return { ...explore(m, o), jobs: 1 };
  o.signal?.throwIfAborted();
  const worlds = new Worlds(m);
  const split = o.splitDepth ?? defaultSplit(worlds);
  const st = startSearch(worlds, { split });
  const t0 = performance.now();
  const inlineMs = o.inlineMs ?? 250;
  // The planner's copy of the search replays in a world of its own: this thread's unit runs in the search's.
  const planner = new Planner(new Worlds(m));
  // The workers start once the search has run inlineMs on this thread (checked between its leaves).
  const pool = new UnitPool(o.workerFile ?? builtScript(import.meta.url, 'explore_worker.js', 'drivers'), spec, jobs - 1, o.signal);
  const startLate = (): void => {
    if (!pool.started && (pool.warm || performance.now() - t0 >= inlineMs)) pool.start();
  };
  let used = 0;
  let ready = 0;
  let waited = 0;
  try {
    for (;;) {
      const u = advanceSearch(st);
      if (!u) break;
      used++;
      startLate();
      const key = unitKey(u);
      if (pool.result(key)) ready++;
      for (;;) {
        const r = pool.result(key);
        if (r) {
          applyUnit(st, r);
          break;
        }
        pool.check();
        // The units the search will ask for from here, those nobody runs yet: the first is this
        // thread's, the next ones keep each worker's queue full while this thread is busy.
        const plan = pool.started ? planner.plan(st, u, pool, 1 + pool.room()) : [{ key, unit: u }];
        const mine = plan[0];
        if (!mine) {
          const w0 = performance.now();
          await pool.next();
          waited += performance.now() - w0;
          continue;
        }
        pool.claim(mine.key);
        for (const job of plan.slice(1)) pool.send(job);
        const since = performance.now();
        // While this thread runs its unit, the workers are kept fed: the races it finds name more
        // units, and answers are taken in (polled between leaves) to free their queues.
        const feed = (): void => {
          if (pool.room()) for (const job of planner.plan(st, u, pool, pool.room())) pool.send(job);
        };
        let polled = since;
        const early = (additions: readonly Addition[]): void => {
          pool.found(mine.key, additions);
          feed();
        };
        const leaf = (): void => {
          const now = performance.now();
          if (now - polled < POLL_MS) return;
          polled = now;
          startLate();
          if (pool.poll() || pool.room()) feed();
        };
        pool.done(mine.key, exploreUnit(worlds, mine.unit, early, leaf), performance.now() - since, true);
        // Let the workers' answers in (and an abort) before the next plan.
        if (pool.started) await new Promise((ok) => setImmediate(ok));
      }
    }
  } finally {
    await pool.close();
  }
  if (!pool.started) return { ...finishSearch(st), jobs: 1 };
  return { ...finishSearch(st), jobs, units: { used, run: pool.ran, here: pool.here, ready, busy: Math.round(pool.busy), kept: pool.kept, waited: Math.round(waited) } };
}

/**
 * The split depth: a tenth of the length of the first schedule (each task's lowest id first).
 * Deeper cuts make more, smaller units, each replaying its prefix on a worker and the search
 * above replaying more (seed-2019 v5.3: a 216-step first schedule; at depth 72, 234 units and
 * ~35 % more worker CPU than one thread; at 21, ~30 units).
 */
function defaultSplit(worlds: Worlds): number {
  const st = startSearch(worlds, { split: Infinity, maxInterleavings: 1 });
  advanceSearch(st);
  return Math.max(1, Math.floor(st.run.trace.length / 10));
}

/** Units to look past at most, per unit wanted, before giving up on finding one nobody runs. */
const LOOKAHEAD = 64;

/**
 * The units the search will (probably) ask for next, in order: a copy of the search run on with
 * what each unit found where known, else what it has reported so far (a unit still running is
 * assumed to add nothing more). The copy is kept and run on further at each call. A race a unit
 * is found to add later, at a point the copy has not gone back to since, is added to the copy as
 * well: a backtrack point is read only when the search returns there, so the copy's units up to
 * then are the same. Otherwise the copy is made again from the search.
 */
class Planner {
  private fork: Search | null = null;
  /** The units the copy has taken in, in order, with the races taken in with each ("depth task"). */
  private taken: { readonly job: WorkerJob; readonly additions: Set<string> }[] = [];

  constructor(private readonly worlds: Worlds) {}

  /** The next `n` units nobody runs yet, the awaited one first if nobody does. */
  plan(st: Search, awaited: UnitRequest, pool: UnitPool, n: number): WorkerJob[] {
    const first = unitKey(awaited);
    const at = this.taken.findIndex((t) => t.job.key === first);
    if (at < 0 || !this.fork || !this.update(at, pool)) {
      this.fork = forkSearch(st, this.worlds);
      this.taken = [];
      this.take(this.fork, { key: first, unit: awaited }, pool);
    } else this.taken = this.taken.slice(at);
    const out = this.taken.filter((t) => !pool.known(t.job.key)).map((t) => t.job);
    for (let i = 0; i < LOOKAHEAD * n && out.length < n; i++) {
      const u = advanceSearch(this.fork);
      if (!u) break;
      const job = { key: unitKey(u), unit: u };
      if (!pool.known(job.key)) out.push(job);
      this.take(this.fork, job, pool);
    }
    return out.slice(0, n);
  }

  /** Add to the copy the races its units (from `at` on) were found to add since; false where the copy went back past one. */
  private update(at: number, pool: UnitPool): boolean {
    const fork = this.fork as Search;
    for (let j = at; j < this.taken.length; j++) {
      const t = this.taken[j] as (typeof this.taken)[number];
      for (const [d, task] of pool.assumed(t.job.key).additions) {
        const k = `${d} ${task}`;
        if (t.additions.has(k)) continue;
        // A copy that has run to its end named no unit past its last: this race may add some.
        if (fork.phase === 'done') return false;
        // Where a later unit's prefix leaves this one's at depth d or above, the copy chose again there without it.
        for (let l = j + 1; l < this.taken.length; l++)
          if (commonPrefix((this.taken[l - 1] as (typeof this.taken)[number]).job.unit.prefix, (this.taken[l] as (typeof this.taken)[number]).job.unit.prefix) <= d) return false;
        (fork.path[d] as Search['path'][number]).backtrack.add(task);
        t.additions.add(k);
      }
    }
    return true;
  }

  private take(f: Search, job: WorkerJob, pool: UnitPool): void {
    const r = pool.assumed(job.key);
    this.taken.push({ job, additions: new Set(r.additions.map(([d, t]) => `${d} ${t}`)) });
    applyUnit(f, r);
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Units a worker is given at most at a time: the one it runs and the next, so it never waits for this thread. */
const QUEUE = 2;
/** How often this thread, running a unit of its own, takes in the workers' answers (milliseconds). */
const POLL_MS = 2;

/** The worker threads of one search, and the units this thread runs: units sent, results kept by key. */
class UnitPool {
  private readonly workers: Worker[] = [];
  /** Per worker, the keys of the units sent to it and not yet answered, in order. */
  private readonly sent = new Map<Worker, string[]>();
  private readonly threads = new Map<Worker, Thread>();
  /** Takes this pool's listeners off its threads. */
  private readonly detach: (() => void)[] = [];
  private readonly results = new Map<string, UnitResult>();
  /** Races a running unit has found so far with the steps above it. */
  private readonly early = new Map<string, readonly Addition[]>();
  private readonly taken = new Set<string>();
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly onAbort: () => void;
  private closing = false;
  /** Units answered (here: run on this thread), and the threads' busy time in milliseconds. */
  ran = 0;
  here = 0;
  busy = 0;
  /** Threads taken warm from an earlier search. */
  kept = 0;
  private leaveGate: () => void = () => undefined;

  constructor(
    private readonly file: string,
    private readonly spec: ExploreWorldSpec,
    readonly size: number,
    private readonly signal?: AbortSignal,
  ) {
    this.onAbort = () => this.fail(signal?.reason instanceof Error ? signal.reason : new Error('explore: stopped'));
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Whether the worker threads were started. */
  get started(): boolean {
    return this.workers.length > 0;
  }

  /** Whether threads kept from an earlier search can start this pool now at no cost. */
  get warm(): boolean {
    return KEPT.filter((k) => k.file === this.file).length >= this.size;
  }

  /** Start the worker threads: those kept idle from an earlier search first (warm), new ones for the rest. */
  start(): void {
    if (this.started || this.closing) return;
    // This thread and the workers: as many busy JS threads as cores stop the GC's helpers.
    this.leaveGate = scavenge.enter(1 + this.size);
    for (let i = 0; i < this.size; i++) {
      const at = KEPT.findIndex((k) => k.file === this.file);
      const t = at >= 0 ? (KEPT.splice(at, 1)[0] as Thread) : newThread(this.file, this.spec);
      if (at >= 0) this.kept++;
      t.worker.ref();
      this.sent.set(t.worker, []);
      this.threads.set(t.worker, t);
      const onMessage = (r: WorkerReply): void => this.take(t.worker, r);
      const onError = (e: Error): void => this.fail(new Error(`explore worker: ${e.stack ?? e.message}`));
      const onExit = (code: number): void => {
        if ((this.sent.get(t.worker) ?? []).length || !this.closing) this.fail(new Error(`explore worker exited with code ${code}`));
      };
      t.answers.on('message', onMessage);
      t.worker.on('error', onError);
      t.worker.on('exit', onExit);
      this.detach.push(() => {
        t.answers.off('message', onMessage);
        t.worker.off('error', onError);
        t.worker.off('exit', onExit);
      });
      this.workers.push(t.worker);
    }
  }

  private take(w: Worker, r: WorkerReply): void {
    if ('early' in r) {
      this.found(r.key, r.early);
      return;
    }
    const queue = this.sent.get(w) ?? [];
    const at = queue.indexOf(r.key);
    if (at >= 0) queue.splice(at, 1);
    if ('result' in r) this.done(r.key, r.result, r.ms, false);
    else if ('cancelled' in r) this.poke();
    else this.fail(r.input ? new InputError(r.error) : new Error(`explore worker: ${r.error}`));
  }

  /** Take in the answers waiting (this thread busy, the event loop cannot): whether any unit was answered. */
  poll(): boolean {
    let answered = false;
    for (const [w, { answers: port }] of this.threads) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const r = m.message as WorkerReply;
        this.take(w, r);
        answered ||= !('early' in r);
      }
    }
    return answered;
  }

  /** The races a running unit has found so far with the steps above it. */
  found(key: string, additions: readonly Addition[]): void {
    this.early.set(key, [...additions]);
    this.poke();
  }

  result(key: string): UnitResult | undefined {
    return this.results.get(key);
  }

  /** What to assume of a unit: its result, else what it has reported so far (the races it found), else nothing. */
  assumed(key: string): UnitResult {
    const r = this.results.get(key);
    if (r) return r;
    const a = this.early.get(key);
    return a ? { ...EMPTY_UNIT, additions: a } : EMPTY_UNIT;
  }

  /** Whether some thread runs (or ran) the unit. */
  known(key: string): boolean {
    return this.taken.has(key);
  }

  /** Units the workers can take now without waiting for this thread. */
  room(): number {
    let n = 0;
    for (const q of this.sent.values()) n += Math.max(0, QUEUE - q.length);
    return n;
  }

  /** This thread runs the unit. */
  claim(key: string): void {
    this.taken.add(key);
  }

  /** Give the unit to the worker with the shortest queue, if one has room. */
  send(job: WorkerJob): void {
    let best: Worker | null = null;
    for (const [w, q] of this.sent) if (q.length < QUEUE && (!best || q.length < (this.sent.get(best) as string[]).length)) best = w;
    if (!best || this.failure) return;
    this.taken.add(job.key);
    (this.sent.get(best) as string[]).push(job.key);
    best.postMessage({ ...job, spec: this.spec } satisfies WorkerJob);
  }

  /** A unit's result, run `ms` milliseconds on some thread. */
  done(key: string, result: UnitResult, ms: number, here: boolean): void {
    this.results.set(key, result);
    this.ran++;
    if (here) this.here++;
    this.busy += ms;
    this.poke();
  }

  /** Throws what stopped the search (a worker's failure, an abort), if anything has. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Until some worker answers (or fails). */
  next(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((ok, no) => {
      this.wake = () => (this.failure ? no(this.failure) : ok());
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.poke();
  }

  /**
   * End the pool. After a search that ran to its end its threads are kept for the next search of
   * this process (idle, not holding it open): the units still running, run ahead of a turn that
   * never came, are cancelled at their next leaf and answered first. After a failure or an abort
   * they are terminated.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.leaveGate();
    this.signal?.removeEventListener('abort', this.onAbort);
    if (!this.failure) {
      for (const t of this.threads.values()) Atomics.store(t.cancel, 0, 1);
      while (!this.failure && [...this.sent.values()].some((q) => q.length)) await this.next().catch(() => undefined);
    }
    for (const d of this.detach) d();
    const threads = [...this.threads.values()];
    if (this.failure) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      for (const t of threads) t.answers.close();
      return;
    }
    for (const t of threads) keep(t);
  }
}

/** A worker thread with its answer port and its cancel flag (set: its unit stops at the next leaf). */
interface Thread {
  readonly worker: Worker;
  readonly answers: MessagePort;
  readonly cancel: Int32Array;
  readonly file: string;
}

/** Worker threads kept idle between the searches of this process, at most one per core. */
const KEPT: Thread[] = [];

function newThread(file: string, spec: ExploreWorldSpec): Thread {
  // Answers come on a channel of their own, which this thread can also read while it runs a unit.
  const { port1, port2 } = new MessageChannel();
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(file, { workerData: { spec, answers: port2, cancel } satisfies WorkerStart, transferList: [port2], stdout: false, stderr: false });
  const t = { worker, answers: port1, cancel, file };
  // A kept thread that exits is dropped.
  worker.once('exit', () => {
    const at = KEPT.indexOf(t);
    if (at >= 0) KEPT.splice(at, 1);
  });
  return t;
}

function keep(t: Thread): void {
  Atomics.store(t.cancel, 0, 0);
  if (KEPT.length >= availableParallelism()) {
    void t.worker.terminate();
    t.answers.close();
    return;
  }
  // An idle thread, or its port, must not keep the process alive.
  t.worker.unref();
  t.answers.unref();
  KEPT.push(t);
}

/**
 * The same split search on this thread: each unit run in turn, as a worker would, from its own
 * world. For tests: its result must be the sequential search's, for any split depth.
 */
export function exploreInUnits(make: MakeWorld, split: number): ExploreResult & { readonly units: number } {
  const st = startSearch(new Worlds(make), { split });
  const below = new Worlds(make);
  let units = 0;
  for (let u = advanceSearch(st); u; u = advanceSearch(st)) {
    units++;
    applyUnit(st, exploreUnit(below, u));
  }
  return { ...finishSearch(st), units };
}
