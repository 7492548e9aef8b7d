// `mmsim explore`, `mmsim compare` and `mmsim designs`: the explore driver over the built-in
// scenarios, per design (built-in or a user design file), kernel config and added pfn walkers.
import { availableParallelism } from 'node:os';
import { InputError, oneLine } from '../errors.js';
import { replaySchedule, type ExploreResult, type MakeWorld, type Reduction } from '../drivers/explore.js';
import { Worker } from 'node:worker_threads';
import { builtScript, checkDesignDeterministic, exploreJobs, makeWorldOf, type JobsResult } from '../drivers/explore_jobs.js';
import { BUILTIN_SCENARIOS, DEBUG_CONFIGS, type DebugConfig } from '../designs/builtin_scenarios.js';
import { DESIGNS, diffDesigns, isDesignFile, loadDesignFile, resolveDesign, type Design } from '../designs/designs.js';
import { STEP_DOCS } from '../kernel/steps.js';
import { type DesignSteps } from '../kernel/machine.js';
import { WALKERS, type WalkerName } from '../kernel/walkers.js';
import { ExpectFailed, readInputFile } from '../drivers/run.js';
import type { TimeResult } from '../drivers/time.js';
import { parseReplay, replayPosition } from '../formats/replay.js';
import { singleTask, traceLines, violationText, type TaskInfo } from '../drivers/trace_text.js';

export interface ExploreCliOptions {
  readonly design: string;
  readonly bound?: string;
  readonly seed?: string;
  readonly runs?: string;
  readonly reduce: string;
  readonly config: string;
  readonly walker?: readonly string[];
  readonly json?: boolean;
  readonly jobs?: string;
  /** Write a reproducer (guest loops, a delay patch) for the violations into this directory. */
  readonly reproducer?: string;
}

/** A design argument: a built-in name, a kernel release, or a design file (loaded). */
async function designArg(arg: string): Promise<{ design: Design | string; user: Design[]; label: string }> {
  if (isDesignFile(arg)) {
    const d = await loadDesignFile(arg);
    return { design: d, user: [d], label: d.name };
  }
  try {
    resolveDesign(arg);
  } catch {
    throw new InputError(
      `--design ${arg}: expected a design (${DESIGNS.map((d) => d.name).join(', ')}), a kernel release such as 6.1, or a design file such as examples/designs/dont-shrink-zone-device.mjs`,
    );
  }
  return { design: arg, user: [], label: arg };
}

/** A built-in scenario's name, or a scenario file's path. */
function scenarioArg(s: string | undefined): string {
  if (s && (BUILTIN_SCENARIOS as readonly string[]).includes(s)) return s;
  if (s && /\.ya?ml$/.test(s)) return s; // a scenario file with a concurrent block
  throw new InputError(`explore: ${s ? `unknown scenario ${s}` : 'no scenario given'}; the built-in ones are ${BUILTIN_SCENARIOS.join(', ')}`);
}

function configArg(c: string): DebugConfig {
  if ((DEBUG_CONFIGS as readonly string[]).includes(c)) return c as DebugConfig;
  throw new InputError(`--config ${c}: expected one of ${DEBUG_CONFIGS.join(', ')}`);
}

/** --walker's names (repeatable), each a walker or a one-line error. */
export function walkersArg(ws: readonly string[] | undefined): WalkerName[] {
  return (ws ?? []).map((w) => {
    if ((WALKERS as readonly string[]).includes(w)) return w as WalkerName;
    throw new InputError(`--walker ${w}: expected one of ${WALKERS.join(', ')}`);
  });
}

function wholeNumber(flag: string, v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`${flag} ${v}: expected ${what}`);
  return n;
}

/** The command line that reruns a search. */
function rerunCommand(scenario: string, designArgText: string, o: ExploreCliOptions): string {
  const parts = ['mmsim explore', scenario, '--design', designArgText];
  if (o.config !== 'debug_vm') parts.push('--config', o.config);
  for (const w of o.walker ?? []) parts.push('--walker', w);
  if (o.bound !== undefined) parts.push('--bound', o.bound);
  if (o.runs !== undefined) parts.push('--runs', o.runs, '--seed', o.seed ?? '1');
  if (o.reduce !== 'dpor') parts.push('--reduce', o.reduce);
  return parts.join(' ');
}

interface SearchSetup {
  /** A built-in scenario, or a scenario file. */
  readonly scenario: string;
  readonly design: Design | string;
  readonly user: Design[];
  readonly label: string;
  readonly config: DebugConfig;
  readonly walkers: WalkerName[];
}

async function setup(scenarioText: string | undefined, o: ExploreCliOptions): Promise<SearchSetup> {
  const scenario = scenarioArg(scenarioText);
  const d = await designArg(o.design);
  return { scenario, ...d, config: configArg(o.config), walkers: walkersArg(o.walker) };
}

/** The tasks of a world as traces name them. */
function taskInfo(make: MakeWorld): TaskInfo[] {
  return make({ recorder: null }).tasks.map((t) => ({ name: t.name, ...(t.label ? { label: t.label } : {}), ...(t.call ? { call: t.call } : {}) }));
}

async function search(s: SearchSetup, o: ExploreCliOptions): Promise<{ r: JobsResult; seconds: number; tasks: TaskInfo[] }> {
  // Every core by default: a search that ends within inlineMs (250 ms) never starts a worker.
  const jobs = wholeNumber('--jobs', o.jobs, 'a number of threads such as 2') ?? availableParallelism();
  if (jobs === 0) throw new InputError(`--jobs ${o.jobs}: expected a number of threads such as 2`);
  const bound = wholeNumber('--bound', o.bound, 'a whole number of preemptions such as 1');
  const runs = wholeNumber('--runs', o.runs, 'a number of random schedules such as 1000');
  const seed = wholeNumber('--seed', o.seed, 'a whole number') ?? 1;
  if (!['dpor', 'sleep', 'none'].includes(o.reduce)) throw new InputError(`--reduce ${o.reduce}: expected dpor, sleep or none`);
  const make = worldOf(s);
  const tasks = taskInfo(make); // a scenario file's errors come out once, before the search
  // A design file's steps must run alike on every replay of a schedule: two schedules, each run twice, first.
  if (isDesignFile(o.design)) checkDesignDeterministic(o.design, make);
  const t0 = performance.now();
  const spec = { scenario: s.scenario, design: o.design, config: s.config, walkers: s.walkers };
  const r = await exploreJobs(
    spec,
    {
      ...(bound !== undefined ? { preemptionBound: bound } : {}),
      ...(runs !== undefined ? { random: { runs, seed } } : {}),
      reduce: o.reduce as Reduction,
      jobs,
    },
    make,
  );
  return { r, seconds: (performance.now() - t0) / 1000, tasks };
}

/** The world builder of a search: a built-in scenario, or a scenario file's concurrent block. */
function worldOf(s: SearchSetup): MakeWorld {
  return makeWorldOf(s.scenario, s.design, s.user, s.config, s.walkers);
}

function modeText(r: ExploreResult, o: ExploreCliOptions): string {
  if (o.runs !== undefined) return `random, seed ${o.seed ?? '1'}`;
  if (r.exhaustive) return r.reduced && o.reduce !== 'none' ? `exhaustive, ${o.reduce === 'sleep' ? 'sleep sets and state hashing' : 'DPOR'}` : 'exhaustive';
  return o.bound !== undefined ? `bound ${o.bound}` : 'stopped early';
}

/** mmsim explore SCENARIO: print each violated invariant's shortest trace, or "no violation". */
export async function exploreCommand(scenarioText: string | undefined, o: ExploreCliOptions, out: (s: string) => void): Promise<void> {
  const s = await setup(scenarioText, o);
  const repro = o.reproducer !== undefined ? await import('../verify/reproducer.js') : null;
  if (repro && o.reproducer !== undefined) repro.checkReproducerDir(o.reproducer, s.scenario);
  const { r, seconds, tasks } = await search(s, o);
  const rerun = rerunCommand(s.scenario, o.design, o);
  if (o.json) {
    out(
      JSON.stringify(
        {
          scenario: s.scenario,
          design: s.label,
          ...(isDesignFile(o.design) ? { design_file: o.design } : {}),
          config: s.config,
          walkers: s.walkers,
          tasks: tasks.map((t, id) => ({ id, ...t })),
          verdict: r.violations.length ? 'violation' : 'ok',
          violations: r.violations.map((v) => ({
            invariant: v.invariant,
            message: v.message,
            steps: v.schedule.length,
            single_task: singleTask(v.trace),
            schedule: v.schedule,
            trace: v.trace,
          })),
          interleavings: r.interleavings,
          exhaustive: r.exhaustive,
          reduction: r.reduced ? o.reduce : 'none',
          pruned: r.pruned,
          ...(o.bound !== undefined ? { bound: Number(o.bound) } : {}),
          seconds: Number(seconds.toFixed(3)),
          // The threads the search ran on: 1 where it ended before any worker started (250 ms).
          threads: r.jobs,
          replay: rerun,
        },
        null,
        2,
      ) + '\n',
    );
  } else if (!r.violations.length) {
    out(`no violation: ${r.interleavings} interleavings (${modeText(r, o)}), ${seconds.toFixed(1)} s\n`);
  } else {
    for (const v of r.violations) out(violationText(v, tasks, rerun));
    out(`${r.interleavings} interleavings (${modeText(r, o)}), ${seconds.toFixed(1)} s\n`);
  }
  if (repro && o.reproducer !== undefined) {
    const files = repro.reproducerFiles({
      scenario: s.scenario,
      design: o.design,
      kernel: repro.plainKernelOf(s.design, s.user),
      config: s.config,
      tasks,
      violations: r.violations,
      rerun,
    });
    const written = repro.writeReproducer(o.reproducer, files);
    process.stderr.write(`reproducer: wrote ${written.join(', ')}\n`);
  }
  if (r.violations.length) throw new ExpectFailed(`explore: ${s.scenario} with design ${s.label}: ${r.violations.length} invariant(s) broken (above)`);
}

/** f(), its InputError (bad input) put at `where` (a file:line:col) in an input file. */
export async function placed<T>(where: string, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${where}: ${oneLine(e.message)}`);
    throw e;
  }
}

/** mmsim explore --replay FILE: step through a saved violation. */
export async function replayCommand(file: string, invariant: string | undefined, out: (s: string) => void): Promise<void> {
  const text = readInputFile(file);
  const saved = parseReplay(file, text);
  const at = (path: (string | number)[]): string => `${file}${replayPosition(text, path)}`;
  const vi = saved.violations.findIndex((x) => invariant === undefined || x.invariant === invariant);
  const v = saved.violations[vi];
  if (!v) {
    const have = saved.violations.map((x) => oneLine(x.invariant)).join(', ');
    const which = invariant === undefined ? 'no violation saved' : `no violation of ${oneLine(invariant)} saved${have ? ` (there are: ${have})` : ''}`;
    throw new InputError(`${at(['violations'])}: ${which}; expected mmsim explore --json output with a violation`);
  }
  const config = saved.config ?? 'debug_vm';
  if (!(DEBUG_CONFIGS as readonly string[]).includes(config)) throw new InputError(`${at(['config'])}: config ${oneLine(config)}: expected one of ${DEBUG_CONFIGS.join(', ')}`);
  // What the file names must exist: a scenario, a design; errors point at the value.
  const named = <T>(path: string, f: () => T | Promise<T>): Promise<T> => placed(at([path]), f);
  const scenario = await named('scenario', () => scenarioArg(saved.scenario));
  const design = await named(saved.design_file !== undefined ? 'design_file' : 'design', () => designArg(saved.design_file ?? saved.design));
  const s: SearchSetup = { scenario, ...design, config: config as DebugConfig, walkers: saved.walkers ?? [] };
  const make = worldOf(s);
  const r = replaySchedule(make, v.schedule, (k) => `${at(['violations', vi, 'schedule', k])}: violations[${vi}].schedule[${k}]`);
  const tasks = taskInfo(make);
  if (!r.violations.some((x) => x.message === v.message)) {
    // What happened instead: the steps, then the error.
    out(traceLines(r.trace, tasks).join('\n') + '\n');
    throw new ExpectFailed(`explore --replay: the saved violation did not happen again (${JSON.stringify(v.message)})`);
  }
  // The same text as the explore that saved it: its invariant, tasks, trace, the kernel's words and the rerun command.
  const rerun = saved.replay !== undefined ? oneLine(saved.replay) : `mmsim explore ${oneLine(saved.scenario)} --design ${oneLine(saved.design_file ?? saved.design)}`;
  out(violationText({ invariant: oneLine(v.invariant), message: v.message, trace: r.trace }, tasks, rerun));
}

/** One row of mmsim compare. */
export interface CompareRow {
  readonly design: string;
  readonly verdict: 'ok' | 'violation';
  readonly invariants: string;
  readonly interleavings: number;
  readonly exhaustive: boolean;
  readonly seconds: number;
  /** The time driver's total on the preset, when asked. */
  readonly timeSeconds?: number;
}

/** mmsim compare SCENARIO --designs a,b,...: one explore per design, one row each. */
export async function compareRows(
  scenarioText: string | undefined,
  designs: readonly string[],
  o: Omit<ExploreCliOptions, 'design'>,
  timePreset: string | null = null,
  each?: (design: string, index: number, result?: ExploreResult, timed?: TimeResult) => void,
): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  const { timeFor } = await import('./time.js');
  // Several designs timed: on a worker thread while this one explores (the results are the same
  // and are taken in the same order, each after its design's search, errors included).
  const timer = timePreset && designs.length > 1 ? new TimeThread(timePreset, designs) : null;
  try {
    for (const [i, d] of designs.entries()) {
      each?.(d, i);
      const s = await setup(scenarioText, { ...o, design: d });
      const { r, seconds } = await search(s, { ...o, design: d });
      each?.(d, i, r);
      const t = timePreset ? await (timer ? timer.result(i) : timeFor(timePreset, d, {})) : undefined;
      if (t) each?.(d, i, r, t);
      const timed = t ? { timeSeconds: t.totalMs / 1000 } : {};
      rows.push({
        design: s.label,
        verdict: r.violations.length ? 'violation' : 'ok',
        invariants: r.violations.map((v) => `${v.invariant} (${v.schedule.length}${singleTask(v.trace) ? ', single task' : ''})`).join(', ') || '-',
        interleavings: r.interleavings,
        exhaustive: r.exhaustive,
        seconds,
        ...timed,
      });
    }
  } finally {
    await timer?.close();
  }
  return rows;
}

/** What a time worker thread (time_worker.ts) is started with. */
export interface TimeJob {
  readonly preset: string;
  readonly designs: readonly string[];
}

/** A time worker's answer for the design at `index`: its result, or its error (an input error's one line, or an mmsim bug's stack). */
export type TimeReply = { readonly index: number; readonly result: TimeResult } | { readonly index: number; readonly error: string; readonly input: boolean };

/** The designs of a compare timed one after another on a worker thread; result(i) waits for design i's. */
class TimeThread {
  private readonly worker: Worker;
  private readonly replies = new Map<number, TimeReply>();
  private readonly waiting = new Map<number, (r: TimeReply) => void>();
  private failure: Error | null = null;

  constructor(preset: string, designs: readonly string[]) {
    this.worker = new Worker(builtScript(import.meta.url, 'time_worker.js', 'cli'), { workerData: { preset, designs: [...designs] } satisfies TimeJob });
    this.worker.on('message', (r: TimeReply) => {
      const w = this.waiting.get(r.index);
      if (w) w(r);
      else this.replies.set(r.index, r);
    });
    const fail = (e: Error): void => {
      this.failure = e;
      for (const w of this.waiting.values()) w({ index: -1, error: e.stack ?? e.message, input: false });
    };
    this.worker.on('error', fail);
    // Its replies come before its exit: a design asked for after that and not answered never will be.
    this.worker.on('exit', (code) => fail(this.failure ?? new Error(`time worker exited (code ${code}) before answering`)));
  }

  async result(i: number): Promise<TimeResult> {
    const r = this.replies.get(i) ?? (this.failure ? { index: i, error: this.failure.stack ?? this.failure.message, input: false } : await new Promise<TimeReply>((ok) => this.waiting.set(i, ok)));
    this.waiting.delete(i);
    if ('result' in r) return r.result;
    if (r.input) throw new InputError(r.error);
    throw new Error(r.error);
  }

  async close(): Promise<void> {
    this.waiting.clear();
    await this.worker.terminate();
  }
}

export function compareTable(rows: readonly CompareRow[]): string {
  const timed = rows.some((r) => r.timeSeconds !== undefined);
  const head = ['design', 'verdict', 'interleavings', ...(timed ? ['time'] : []), 'invariants broken (shortest steps)'];
  const cells = rows.map((r) => [
    r.design,
    r.verdict,
    `${r.interleavings}${r.exhaustive ? '' : '+'}`,
    ...(timed ? [r.timeSeconds === undefined ? '-' : `${r.timeSeconds.toFixed(1)} s`] : []),
    r.invariants,
  ]);
  return textTable(head, cells);
}

/** Columns padded to their widest cell, two spaces apart (the last not padded). */
export function textTable(head: readonly string[], cells: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i] as number))).join('  ');
  return [line(head), ...cells.map(line)].join('\n') + '\n';
}

/** mmsim designs [--diff A B]: the designs and the steps they may replace, or how two differ. */
export async function designsCommand(diff: readonly string[] | undefined, out: (s: string) => void, steps = false): Promise<void> {
  if (diff && diff.length) {
    if (diff.length !== 2) throw new InputError('designs --diff: expected two designs (names or files), e.g. --diff v5.3 seqlock');
    const [a, b] = await Promise.all(diff.map((x) => designArg(x)));
    if (!a || !b) return;
    const ra = resolveDesign(a.design, [...a.user, ...b.user]);
    const rb = resolveDesign(b.design, [...a.user, ...b.user]);
    const lines = diffDesigns(ra, rb);
    out(`${ra.design.name} (${ra.chain.join(' <- ')}) | ${rb.design.name} (${rb.chain.join(' <- ')})\n`);
    out(lines.length ? lines.map((l) => `  ${l}\n`).join('') : '  no difference\n');
    return;
  }
  if (steps) {
    out("Steps a design file may replace: export default { name, base, steps: { *STEP(api, ...args) { ... } } }; api.base is the base design's version.\n");
    for (const [k, d] of Object.entries(STEP_DOCS)) out(`\n${k}${d.signature}\n  ${d.doc}\n`);
    return;
  }
  for (const d of DESIGNS) {
    const changed = Object.entries(d.features).map(([k, v]) => `${k}=${String(v)}`);
    const steps = (Object.keys(STEP_DOCS) as (keyof DesignSteps)[]).filter((k) => d.steps[k]).map((k) => `step ${k}`);
    out(`${d.name.padEnd(10)} ${d.summary}\n${' '.repeat(11)}base ${d.base}${[...changed, ...steps].length ? `; ${[...changed, ...steps].join(', ')}` : ''}\n`);
  }
  out('\nSteps a design may replace (--design FILE: export default { name, base, summary, features, steps }):\n');
  for (const [k, d] of Object.entries(STEP_DOCS)) out(`  ${k}${d.signature}\n`);
  out('  (mmsim designs --steps: what each models, its locks and yields)\n');
}
