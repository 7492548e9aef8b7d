// `mmsim sweep FILE` and `mmsim worker`: every cell of a sweep file (scenario x design or kernel x
// config x walker set) is one explore, run as mmsim compare runs a design (compareRows), on this
// machine's cores (worker threads, sweep_worker.ts) or as jobs on a BullMQ queue over Redis that
// `mmsim worker` processes take; the table is printed in file order, the same however it ran.
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { BUILTIN_SCENARIOS, DEBUG_CONFIGS } from '../designs/builtin_scenarios.js';
import { DESIGNS, isDesignFile, loadDesignFile, resolveDesign } from '../designs/designs.js';
import { ExpectFailed, readInputFile } from '../drivers/run.js';
import { PRESETS, presetByName } from '../drivers/presets.js';
import { checkRedis, parseRedisUrl, runInThreads, runOnQueue, serveQueue, ThreadPool } from '../drivers/sweep.js';
import { checkDesignDeterministic, makeWorldOf } from '../drivers/explore_jobs.js';
import { singleTask } from '../drivers/trace_text.js';
import type { ExploreResult } from '../drivers/explore.js';
import { parseSweep, type Placed } from '../formats/sweep.js';
import { profileForOption } from '../profiles/profile.js';
import { compareRows, placed, textTable } from './explore.js';

/** The search options every cell of a sweep shares, as mmsim explore's flags take them. */
interface SearchFlags {
  readonly bound?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly reduce: string;
}

/** One job: a cell's explore, or a design's time on a preset. Plain JSON (it crosses threads and machines). */
export type SweepJob =
  | { readonly kind: 'cell'; readonly scenario: string; readonly design: string; readonly config: string; readonly walkers: readonly string[]; readonly search: SearchFlags }
  | { readonly kind: 'time'; readonly preset: string; readonly design: string };

export interface InvariantBroken {
  readonly invariant: string;
  readonly steps: number;
  readonly single_task: boolean;
}

/** What a job returns (its own errors included: a job never throws). */
export type SweepOutcome =
  | {
      readonly kind: 'cell';
      readonly verdict: 'ok' | 'violation';
      /** mmsim compare's column: each invariant with its shortest trace's steps. */
      readonly invariantsText: string;
      readonly invariants: readonly InvariantBroken[];
      readonly interleavings: number;
      readonly exhaustive: boolean;
      readonly seconds: number;
    }
  | { readonly kind: 'time'; readonly seconds: number }
  | { readonly kind: 'error'; readonly message: string };

/** Run one job; what it throws is its outcome. */
export async function runSweepJob(job: SweepJob): Promise<SweepOutcome> {
  try {
    if (job.kind === 'time') {
      const { timeFor } = await import('./time.js');
      return { kind: 'time', seconds: (await timeFor(job.preset, job.design, {})).totalMs / 1000 };
    }
    let result: ExploreResult | undefined;
    // One thread a cell: the sweep's parallelism is its cells (explore --jobs would nest threads).
    const o = { ...job.search, config: job.config, walker: job.walkers, jobs: '1' };
    const [row] = await compareRows(job.scenario, [job.design], o, null, (_d, _i, r) => {
      if (r) result = r;
    });
    if (!row || !result) throw new Error('compare gave no row');
    return {
      kind: 'cell',
      verdict: row.verdict,
      invariantsText: row.invariants,
      invariants: result.violations.map((v) => ({ invariant: v.invariant, steps: v.schedule.length, single_task: singleTask(v.trace) })),
      interleavings: row.interleavings,
      exhaustive: row.exhaustive,
      seconds: row.seconds,
    };
  } catch (e) {
    if (e instanceof InputError) return { kind: 'error', message: e.message };
    return { kind: 'error', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A cell as the table names it (what the sweep file wrote) and the job that runs it. */
interface Cell {
  readonly scenario: string;
  readonly design: string;
  readonly config: string;
  readonly walkers: readonly string[];
  readonly job: SweepJob;
}

interface Sweep {
  readonly cells: readonly Cell[];
  /** The preset the designs are timed on, and a time job per design (by its label), in first-use order. */
  readonly time: { readonly preset: string; readonly jobs: ReadonlyMap<string, SweepJob> } | null;
}

/** A value the sweep file names, checked; its error is one line at its place in the file. */
function checked<T>(p: Placed<string>, f: (v: string) => T | Promise<T>): Promise<T> {
  return placed(p.at, () => f(p.value));
}

/** Read a sweep file and check everything it names (scenarios, designs, kernels, configs, walkers, preset) before anything runs. */
export async function loadSweep(file: string): Promise<Sweep> {
  const s = parseSweep(file, readInputFile(file));
  const here = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(file), p));
  const builtin = BUILTIN_SCENARIOS as readonly string[];
  const scenarios = await Promise.all(
    s.scenarios.map((p) =>
      checked(p, (v) => {
        if (builtin.includes(v)) return { label: v, arg: v, file: false };
        if (!/\.ya?ml$/.test(v)) throw new InputError(`unknown scenario ${v}; expected a built-in scenario (${builtin.join(', ')}) or a scenario file (.yaml) with a concurrent block`);
        readInputFile(here(v)); // it exists and can be read
        return { label: v, arg: here(v), file: true };
      }),
    ),
  );
  const designs = await Promise.all(
    s.designs.map((p) =>
      checked(p, async (v) => {
        if (isDesignFile(v)) {
          const d = await loadDesignFile(here(v));
          // Checked as explore --design FILE checks it (two schedules, each run twice), on each built-in scenario of the sweep (seed-2019 if none).
          const on = s.scenarios.map((x) => x.value).filter((x) => builtin.includes(x));
          for (const sc of on.length ? on : ['seed-2019']) checkDesignDeterministic(v, makeWorldOf(sc, d, [d], 'debug_vm', []));
          return { label: v, arg: here(v) };
        }
        try {
          resolveDesign(v);
        } catch {
          throw new InputError(`unknown design ${v}; expected a design (${DESIGNS.map((d) => d.name).join(', ')}), a kernel release such as 6.1, or a design file (.mjs)`);
        }
        return { label: v, arg: v };
      }),
    ),
  );
  const kernels = await Promise.all(
    s.kernels.map((p) =>
      checked(p, (v) => {
        try {
          profileForOption(v);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          throw new InputError(`unknown kernel ${v}: ${e.message.replace(/^(--)?kernel \S+: /, '')}`);
        }
        return { label: v, arg: v };
      }),
    ),
  );
  const configs = s.configs
    ? await Promise.all(
        s.configs.map((p) =>
          checked(p, (v) => {
            if (!(DEBUG_CONFIGS as readonly string[]).includes(v)) throw new InputError(`unknown config ${v}; expected one of ${DEBUG_CONFIGS.join(', ')}`);
            return v;
          }),
        ),
      )
    : ['debug_vm'];
  const walkerSets = s.walkers ?? [{ value: [], at: s.key('walkers') }];
  const withWalkers = walkerSets.find((w) => w.value.length);
  const fileScenario = scenarios.find((x) => x.file);
  if (withWalkers && fileScenario) {
    throw new InputError(`${withWalkers.at}: walkers are added to the built-in scenarios only; scenario file ${fileScenario.label} names its own operations (sweep it in a file without walkers)`);
  }
  const time = s.time
    ? await checked(s.time, (v) => {
        if (!presetByName(v)) throw new InputError(`unknown preset ${v}; expected one of ${PRESETS.map((p) => p.name).join(', ')}`);
        return v;
      })
    : null;
  const search: SearchFlags = {
    ...(s.search.bound !== undefined ? { bound: String(s.search.bound) } : {}),
    ...(s.search.runs !== undefined ? { runs: String(s.search.runs), seed: String(s.search.seed ?? 1) } : {}),
    reduce: s.search.reduce ?? 'dpor',
  };
  const cells: Cell[] = [];
  for (const sc of scenarios)
    for (const d of [...designs, ...kernels])
      for (const config of configs)
        for (const w of walkerSets)
          cells.push({ scenario: sc.label, design: d.label, config, walkers: w.value, job: { kind: 'cell', scenario: sc.arg, design: d.arg, config, walkers: w.value, search } });
  const timeJobs = new Map<string, SweepJob>();
  if (time) for (const d of [...designs, ...kernels]) if (!timeJobs.has(d.label)) timeJobs.set(d.label, { kind: 'time', preset: time, design: d.arg });
  return { cells, time: time ? { preset: time, jobs: timeJobs } : null };
}

export interface SweepCliOptions {
  readonly json?: boolean;
  readonly jobs?: string;
  readonly queue?: string;
  /** Also print each cell's wall-clock seconds (the table is then not the same from run to run). */
  readonly wallClock?: boolean;
  /** A line on stderr as each job finishes. */
  readonly progress?: boolean;
}

/** The worker thread file (built: dist/cli/sweep_worker.js). */
const WORKER_FILE = new URL('./sweep_worker.js', import.meta.url);

function threadCount(jobs: string | undefined): number {
  if (jobs === undefined) return availableParallelism();
  const n = Number(jobs);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InputError(`--jobs ${jobs}: expected a number of threads such as ${availableParallelism()}`);
  return n;
}

/** Ctrl-C and kill: an AbortSignal for the run, and a way to stop listening. */
function interruptible(): { signal: AbortSignal; code: () => number; done: () => void } {
  const ac = new AbortController();
  let code = 130;
  const on = (c: number) => () => {
    code = c;
    ac.abort(new Error('interrupted'));
  };
  const int = on(130);
  const term = on(143);
  process.once('SIGINT', int);
  process.once('SIGTERM', term);
  return { signal: ac.signal, code: () => code, done: () => (process.off('SIGINT', int), process.off('SIGTERM', term)) };
}

/** mmsim sweep FILE: run every cell, print one table (or --json). */
export async function sweepCommand(file: string, o: SweepCliOptions, out: (s: string) => void): Promise<void> {
  const queue = o.queue !== undefined ? parseRedisUrl(o.queue) : null;
  const threads = threadCount(o.jobs);
  const sweep = await loadSweep(file);
  if (queue) await checkRedis(queue);
  const jobs: SweepJob[] = [...sweep.cells.map((c) => c.job), ...(sweep.time?.jobs.values() ?? [])];
  const lost = (message: string): SweepOutcome => ({ kind: 'error', message });
  let finished = 0;
  const progress = o.progress ? () => void process.stderr.write(`mmsim sweep: ${++finished}/${jobs.length} jobs done\n`) : undefined;
  const stop = interruptible();
  let outcomes: SweepOutcome[];
  try {
    outcomes = queue
      ? await runOnQueue<SweepJob, SweepOutcome>(queue, jobs, (m) => lost(`the queue gave up on this job: ${m}`), stop.signal, progress)
      : await runInThreads<SweepJob, SweepOutcome>(WORKER_FILE, jobs, threads, (e) => lost(`internal error: ${e.message}`), stop.signal, progress);
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    outcomes = [];
  } finally {
    stop.done();
  }
  if (stop.signal.aborted) {
    process.stderr.write(`mmsim: sweep interrupted: its threads are stopped${queue ? ' and its jobs not yet taken removed from the queue' : ''}\n`);
    process.exit(stop.code());
  }
  const cellOutcomes = outcomes.slice(0, sweep.cells.length);
  const times = new Map([...(sweep.time?.jobs.keys() ?? [])].map((d, i) => [d, outcomes[sweep.cells.length + i] as SweepOutcome]));
  out(o.json ? sweepJson(file, sweep, cellOutcomes, times, o.wallClock ?? false) : sweepTable(sweep, cellOutcomes, times, o.wallClock ?? false));
  const failed = cellOutcomes.filter((x) => x.kind === 'error').length + [...times.values()].filter((x) => x.kind === 'error').length;
  if (failed) throw new ExpectFailed(`sweep: ${failed} job(s) failed (their cells say why)`);
}

function sweepTable(sweep: Sweep, outcomes: readonly SweepOutcome[], times: ReadonlyMap<string, SweepOutcome>, wallClock: boolean): string {
  const timed = sweep.time !== null;
  const head = [
    'scenario',
    'design',
    'config',
    'walkers',
    'verdict',
    'interleavings',
    ...(timed ? [`time (${sweep.time?.preset})`] : []),
    ...(wallClock ? ['seconds'] : []),
    'invariants broken (shortest steps)',
  ];
  const rows = sweep.cells.map((c, i) => {
    const r = outcomes[i] as SweepOutcome;
    const t = times.get(c.design);
    const time = t?.kind === 'time' ? `${t.seconds.toFixed(1)} s` : t?.kind === 'error' ? 'error' : '-';
    const timeError = t?.kind === 'error' && !(r.kind === 'error' && r.message === t.message) ? `; time: ${t.message}` : '';
    const cell = r.kind === 'cell' ? r : null;
    return [
      c.scenario,
      c.design,
      c.config,
      c.walkers.join('+') || '-',
      cell?.verdict ?? 'error',
      cell ? `${cell.interleavings}${cell.exhaustive ? '' : '+'}` : '-',
      ...(timed ? [time] : []),
      ...(wallClock ? [cell ? cell.seconds.toFixed(1) : '-'] : []),
      (cell ? cell.invariantsText : r.kind === 'error' ? r.message : '-') + timeError,
    ];
  });
  return textTable(head, rows);
}

function sweepJson(file: string, sweep: Sweep, outcomes: readonly SweepOutcome[], times: ReadonlyMap<string, SweepOutcome>, wallClock: boolean): string {
  const cells = sweep.cells.map((c, i) => {
    const r = outcomes[i] as SweepOutcome;
    const t = times.get(c.design);
    return {
      scenario: c.scenario,
      design: c.design,
      config: c.config,
      walkers: c.walkers,
      verdict: r.kind === 'cell' ? r.verdict : 'error',
      ...(r.kind === 'cell' ? { interleavings: r.interleavings, exhaustive: r.exhaustive, invariants: r.invariants } : {}),
      ...(r.kind === 'error' ? { error: r.message } : {}),
      ...(t?.kind === 'time' ? { time_seconds: t.seconds } : t?.kind === 'error' ? { time_error: t.message } : {}),
      ...(wallClock && r.kind === 'cell' ? { seconds: Number(r.seconds.toFixed(3)) } : {}),
    };
  });
  return JSON.stringify({ sweep: file, ...(sweep.time ? { time_preset: sweep.time.preset } : {}), cells }, null, 2) + '\n';
}

/** A job in a worker's log. */
function jobText(job: SweepJob): string {
  return job.kind === 'cell' ? `${job.scenario} ${job.design} ${job.config}${job.walkers.map((w) => ` +${w}`).join('')}` : `time ${job.design} on ${job.preset}`;
}

/** mmsim worker --queue URL: take sweep jobs until Ctrl-C or a kill, each in one of `jobs` threads. */
export async function workerCommand(o: { queue: string; jobs?: string }, log: (s: string) => void): Promise<void> {
  const queue = parseRedisUrl(o.queue);
  const threads = threadCount(o.jobs);
  await checkRedis(queue);
  const pool = new ThreadPool<SweepJob, SweepOutcome>(WORKER_FILE, threads);
  const stop = interruptible();
  try {
    await serveQueue<SweepJob, SweepOutcome>(
      queue,
      (job) => {
        log(`mmsim worker: started ${jobText(job)}\n`);
        return pool.run(job);
      },
      threads,
      stop.signal,
      () => log(`mmsim worker: taking sweep jobs from ${queue.url} in ${threads} thread(s); Ctrl-C stops\n`),
    );
  } finally {
    stop.done();
    await pool.close();
  }
  process.exit(stop.code());
}
