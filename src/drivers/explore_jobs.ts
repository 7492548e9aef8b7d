// One explore search across worker threads (mmsim explore --jobs N). The DPOR search is the
// sequential one (explore.ts), cut at a depth: below each point the path first reaches at that
// depth, everything the sequential search does is a unit (UnitRequest), run on a worker thread
// from the same world; this thread runs the part above, takes each unit's result in as the
// sequential search would meet it (its counts, its violations, and the races it found with the
// steps above, which add backtrack points there), and so takes the same path through the same
// tree: the same interleavings, the same violations, the same shortest traces, tie-breaks
// included. What a unit does depends only on its prefix and its sleep set, so a unit is run
// ahead of its turn: a copy of the search above runs on assuming the units still running add
// nothing (or found what they found, where known) and names the units to come; those run on idle
// workers and their results wait, by prefix and sleep set, until the search asks for them. A
// guess that was wrong costs time, never the result: a unit the search does not ask for is
// not used. Modes other than exhaustive DPOR (a preemption bound, random runs, --reduce sleep or
// none, a cap on interleavings, stopping at the first violation) run on this thread.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { BUILTIN_SCENARIOS, type BuiltinScenario, type DebugConfig } from '../designs/builtin_scenarios.js';
import { isDesignFile, loadDesignFile, type Design } from '../designs/designs.js';
import type { WalkerName } from '../kernel/walkers.js';
import type { TaskId } from '../kernel/locks.js';
import {
  advanceSearch,
  applyUnit,
  EMPTY_UNIT,
  explore,
  exploreUnit,
  exploreUnitUntil,
  finishSearch,
  forkSearch,
  startSearch,
  Worlds,
  type ExploreOptions,
  type ExploreResult,
  type MakeWorld,
  type Search,
  type UnitRequest,
  type UnitResult,
} from './explore.js';
import { builtinWorld, scenarioWorld } from './scenario_world.js';

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

/** The explore result with the number of threads that ran the search. */
export type JobsResult = ExploreResult & {
  readonly jobs: number;
  /**
   * A split search's units: taken in (used), run on workers (run; a unit run ahead of its turn
   * that the search then did not ask for is run but not used), answered before the search asked
   * (ready), and the workers' busy time in milliseconds (busy: against jobs x the wall time, how
   * full they were kept).
   */
  readonly units?: { readonly used: number; readonly run: number; readonly ready: number; readonly busy: number };
};

export interface JobsOptions extends ExploreOptions {
  /** Worker threads (default 1: on 2 cores two threads measured 0.9-1.1x one, docs/performance.md); 1 runs the search on this thread. */
  readonly jobs?: number;
  /** Cut the search into units at this depth (default: a tenth of the first schedule's length). */
  readonly splitDepth?: number;
  /** Stops the search: its workers are terminated and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Units run on this thread until this many milliseconds have passed (default 250), so a small
   * search is not kept waiting for threads to start; the workers start after that.
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
  | { readonly key: string; readonly result: UnitResult }
  | { readonly key: string; readonly early: readonly (readonly [number, TaskId])[] }
  | { readonly key: string; readonly error: string; readonly input: boolean };

/** A unit's identity: its prefix and its sleep set (with the footprints). */
export function unitKey(u: UnitRequest): string {
  return JSON.stringify([u.prefix, u.sleep.map(([t, fp]) => [t, [...fp]])]);
}

/** A unit sent to a worker thread. */
export interface WorkerJob {
  readonly key: string;
  readonly unit: UnitRequest;
}

/**
 * Explore one search across `jobs` worker threads (exhaustive DPOR), or on this thread (other
 * modes, or one job). The result is the sequential search's, byte for byte: interleavings,
 * violations and their traces.
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
  let pool: UnitPool | null = null;
  let used = 0;
  let ready = 0;
  try {
    for (;;) {
      const u = advanceSearch(st);
      if (!u) break;
      used++;
      if (!pool && performance.now() - t0 < inlineMs) {
        // On this thread while the search is young; a unit still running at the deadline is given up and goes to the workers.
        const r = exploreUnitUntil(worlds, u, undefined, t0 + inlineMs);
        if (r) {
          applyUnit(st, r);
          continue;
        }
      }
      pool ??= new UnitPool(o.workerFile ?? builtScript(import.meta.url, 'explore_worker.js', 'drivers'), spec, jobs, o.signal);
      const key = unitKey(u);
      if (pool.result(key)) ready++;
      for (;;) {
        const r = pool.result(key);
        if (r) {
          applyUnit(st, r);
          break;
        }
        pool.want(key, u);
        speculate(st, u, pool);
        await pool.next();
      }
    }
  } finally {
    await pool?.close();
  }
  if (!pool) return { ...finishSearch(st), jobs: 1 };
  return { ...finishSearch(st), jobs, units: { used, run: pool.ran, ready, busy: Math.round(pool.busy) } };
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

/** Units to name ahead at most, per idle worker, before giving up on finding one not yet run. */
const LOOKAHEAD = 64;

/** Give idle workers the units a copy of the search will ask for next, assuming what is not known. */
function speculate(st: Search, awaited: UnitRequest, pool: UnitPool): void {
  if (!pool.idle()) return;
  const f = forkSearch(st);
  applyUnit(f, pool.assumed(unitKey(awaited)));
  for (let n = 0; n < LOOKAHEAD * pool.size && pool.idle(); n++) {
    const u = advanceSearch(f);
    if (!u) return;
    const key = unitKey(u);
    if (!pool.known(key)) pool.want(key, u);
    applyUnit(f, pool.assumed(key));
  }
}

/** The worker threads of one search: units sent, results kept by key. */
class UnitPool {
  private readonly workers: Worker[] = [];
  private readonly free: Worker[] = [];
  private readonly running = new Map<Worker, string>();
  private readonly queued: WorkerJob[] = [];
  private readonly results = new Map<string, UnitResult>();
  /** Races a running unit has found so far with the steps above it. */
  private readonly early = new Map<string, readonly (readonly [number, TaskId])[]>();
  private readonly sent = new Set<string>();
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly onAbort: () => void;

  constructor(
    file: string,
    spec: ExploreWorldSpec,
    readonly size: number,
    private readonly signal?: AbortSignal,
  ) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(file, { workerData: spec, stdout: false, stderr: false });
      w.on('message', (r: WorkerReply) => {
        if ('early' in r) {
          this.early.set(r.key, r.early);
          this.poke();
          return;
        }
        this.running.delete(w);
        this.busy += performance.now() - (this.since.get(w) ?? 0);
        this.ran++;
        if ('result' in r) this.results.set(r.key, r.result);
        else this.fail(r.input ? new InputError(r.error) : new Error(`explore worker: ${r.error}`));
        this.free.push(w);
        this.pump();
        this.poke();
      });
      w.on('error', (e) => this.fail(new Error(`explore worker: ${e.stack ?? e.message}`)));
      w.on('exit', (code) => {
        if (this.running.has(w) || (code !== 0 && !this.closing)) this.fail(new Error(`explore worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.free.push(w);
    }
    this.onAbort = () => this.fail(signal?.reason instanceof Error ? signal.reason : new Error('explore: stopped'));
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private closing = false;
  /** Units answered. */
  ran = 0;
  busy = 0;
  private readonly since = new Map<Worker, number>();

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

  /** Whether the unit has been sent or queued. */
  known(key: string): boolean {
    return this.sent.has(key);
  }

  idle(): boolean {
    return this.free.length > 0 && this.queued.length === 0;
  }

  /** Run a unit, before any queued (the one the search awaits comes first). */
  want(key: string, unit: UnitRequest): void {
    if (this.sent.has(key)) return;
    this.sent.add(key);
    this.queued.push({ key, unit });
    this.pump();
  }

  private pump(): void {
    while (this.free.length && this.queued.length && !this.failure) {
      const w = this.free.shift() as Worker;
      const job = this.queued.shift() as WorkerJob;
      this.running.set(w, job.key);
      this.since.set(w, performance.now());
      w.postMessage(job);
    }
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

  async close(): Promise<void> {
    this.closing = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
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
