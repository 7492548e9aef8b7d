// The explore driver: every interleaving of a set of tasks, each run replayed from a fresh world
// (tasks are generators and cannot be copied), the debug checkers after every step, deadlocks
// (tasks left, none can run) and sleeping under a spinlock. For each invariant it keeps the
// shortest violating schedule (fewest steps; ties broken by the schedule's task ids in order).
// Exhaustive, or bounded by preemptions (a switch away from a task that could have continued),
// or a seeded random sample for large task sets. Exhaustive search reduces with sleep sets and
// state hashing over the footprints the recorder (footprint.ts) takes of each step.
import type { Checker } from '../kernel/debug.js';
import { Scheduler } from './scheduler.js';
import { mightSleepChecker } from '../kernel/debug.js';
import type { Task, Yield } from '../kernel/task.js';
import type { TaskId } from '../kernel/locks.js';
import { AccessIndex } from './access_index.js';
import { dependent, dependentOnGrowing, EVERYTHING, hash64, Recorder, type Footprint, type StepWindow } from './footprint.js';
import type { PageState } from '../memmap/store.js';
import type { Machine } from '../kernel/machine.js';
import { InputError } from '../errors.js';
import { hexPfns } from './trace_text.js';

/** What a world builder is given: a recorder to wrap its machine with, when the driver reduces. */
export interface WorldContext {
  readonly recorder: Recorder | null;
}

export type Reduction = 'dpor' | 'sleep' | 'none';

/** Builds a fresh world (each replay starts from one). */
export type MakeWorld = (ctx: WorldContext) => World;

/** A fresh world: the tasks to interleave and the checkers that judge each step. */
export interface World {
  /**
   * `walker`: a task beside the operations under study that nothing waits on (a pfn walker). A
   * BUG elsewhere stops it too; DPOR finds no race that would run it before the BUG, so it is
   * tried before each BUG it was enabled at (explore's extend).
   */
  readonly tasks: readonly { readonly name: string; readonly task: Task<unknown>; readonly label?: string; readonly call?: string; readonly walker?: boolean }[];
  readonly checkers: readonly Checker[];
  /** The node each task works on (the time driver puts it on a CPU there). */
  readonly taskNodes?: readonly number[];
  /** The machine the tasks run on, for drivers that show its state (the lab). */
  readonly machine?: Machine;
  /**
   * The same world again: its machine put back as it was when the world was made, with fresh
   * tasks, the same checkers (and the same recorder watching it). Replays call this rather than
   * booting a new world; absent, each replay makes one.
   */
  readonly again?: () => World;
}

export interface TraceStep {
  readonly task: TaskId;
  readonly name: string;
  /** The yield performed at this step (what the task did: lock op, access, work). */
  readonly op: string;
  /** The locks the task holds after the step. */
  readonly held: readonly string[];
  /** The kernel function that performed the step, where the task named it (an access's `fn`). */
  readonly fn?: string;
}

export interface ExploreViolation {
  /** The invariant, named by the kernel check that fired (or "deadlock"). */
  readonly invariant: string;
  /** The kernel's words. */
  readonly message: string;
  /** The schedule: the task stepped at each point. */
  readonly schedule: readonly TaskId[];
  readonly trace: readonly TraceStep[];
}

export interface ExploreResult {
  /** Complete interleavings run. */
  readonly interleavings: number;
  /** True when every interleaving (within the bound) was run. */
  readonly exhaustive: boolean;
  readonly violations: readonly ExploreViolation[];
  /** Whether sleep sets and state hashing were used (a watched world, exhaustive search). */
  readonly reduced: boolean;
  /** Paths cut: every enabled step in the sleep set, or a state searched before. */
  readonly pruned: { readonly sleepSet: number; readonly stateHash: number };
}

export interface ExploreOptions {
  /** At most this many preemptions per interleaving (default: none, all interleavings). */
  readonly preemptionBound?: number;
  /** Random mode: this many interleavings, chosen with `seed`. */
  readonly random?: { readonly runs: number; readonly seed: number };
  /** Stop after this many interleavings (then not exhaustive). */
  readonly maxInterleavings?: number;
  /**
   * Exhaustive search's reduction: 'dpor' (the default: dynamic partial-order reduction with
   * sleep sets), 'sleep' (sleep sets and state hashing) or 'none' (every interleaving).
   */
  readonly reduce?: Reduction;
  /** Stop at the first violation found (then not exhaustive, and the trace is not the shortest). */
  readonly stopAtFirst?: boolean;
}

/** invariantOf's answers so far (a search meets the same few messages in every run). */
const INVARIANTS = new Map<string, string>();

/** The invariant a violation message belongs to. */
export function invariantOf(message: string): string {
  let inv = INVARIANTS.get(message);
  if (inv === undefined) {
    if (INVARIANTS.size > 4096) INVARIANTS.clear();
    inv = classify(message);
    INVARIANTS.set(message, inv);
  }
  return inv;
}

function classify(message: string): string {
  if (message.startsWith('deadlock')) return 'deadlock';
  if (message.includes('sleeping function called from invalid context')) return 'might_sleep';
  if (message.includes('PagePoisoned')) return 'poisoned struct page read';
  if (message.includes("earlier owner's bytes")) return 'stale struct page read';
  if (message.includes('zone_spans_pfn')) return 'zone_spans_pfn';
  if (/^page 0x[0-9a-f]+ outside node/.test(message)) return 'bad_range';
  if (message.includes('outside node') && message.includes('span')) return 'zone outside node span';
  if (message.includes('page->pgmap')) return 'device page pgmap';
  if (message.includes('CONFIG_DEBUG_VM off')) return 'device pages outside zone span';
  if (message.includes('present') || message.includes('managed')) return 'page counts';
  return message.split(':')[0] ?? message;
}

function describe(y: Yield | null): string {
  if (y === null) return 'start';
  if ('lock' in y) return `${y.op} ${y.lock.name}`;
  if (y.op === 'access') return `${y.kind} ${hexPfns(y.what)}`;
  if (y.op === 'work') return `work ${y.work} ${y.nrPages} pages on node ${y.node}`;
  if (y.op === 'might_sleep') return `might_sleep ${y.where}`;
  const more = (y.nr ?? 1) > 1 ? ` (${y.nr} pageblocks, every 0x${(y.stride ?? 1).toString(16)})` : '';
  return `set_pfnblock_flags_mask pfn 0x${y.pfn.toString(16)}${more} zone ${y.zone.name}`;
}

/** A replay in progress: the scheduler, the trace so far, and each task's observation chain. */
export interface Run {
  readonly s: Scheduler;
  readonly trace: TraceStep[];
  readonly rec: Recorder | null;
  /** Per task: steps taken and a hash of everything it observed (its local state is a function of these). */
  readonly seen: string[];
  readonly steps: number[];
  /** The footprint of each step taken. */
  readonly fps: Footprint[];
  /** Each step's blind read and page state changes (StepWindow), where it had any. */
  readonly wins: (StepWindow | undefined)[];
  /** Whether states are hashed (the tasks' observation chains are kept). */
  hashing: boolean;
  /** For steps where a checker fired: what that checker read. */
  readonly checked: Map<number, Footprint>;
  /** Steps up to the first fatal violation (a BUG), or -1. */
  firstViolation: number;
  /** Violations the kernel only warns about (might_sleep's splat), with the steps up to each. */
  readonly warnings: Warning[];
  /** Scheduler violations looked at so far. */
  handled: number;
  /** The world's walker tasks (World tasks' `walker`). */
  readonly walkers: ReadonlySet<TaskId>;
}

/**
 * A violation the kernel only warns about, at the step it came, with what it is filed under (keyOf)
 * once asked: a replay shares the warnings of the steps it copies, so each is classified once.
 */
interface Warning {
  readonly message: string;
  readonly at: number;
  readonly task: TaskId;
  key?: string;
}

/** A BUG stops the machine; a warning (might_sleep's splat) or a false answer lets the task go on. */
function fatal(v: { readonly fatal?: boolean }): boolean {
  return v.fatal !== false;
}

/**
 * The worlds of one search: one plain and one watched by a recorder, each made once and put back
 * for every later replay where the world can be (World.again), else made again.
 */
export class Worlds {
  private plain: World | null = null;
  private watched: { w: World; rec: Recorder } | null = null;

  /** Whether blind reads are left out of footprints (DPOR judges them over their windows; the other reductions do not). */
  constructor(
    readonly make: MakeWorld,
    readonly blind = true,
  ) {}

  /** A world as made, with (when reducing) its machine wrapped by a recorder. */
  fresh(reduce: boolean): { w: World; rec: Recorder | null } {
    if (!reduce) {
      this.plain = this.plain?.again ? this.plain.again() : this.make({ recorder: null });
      return { w: this.plain, rec: null };
    }
    if (this.watched && this.watched.w.again) {
      this.watched.rec.reset();
      this.watched = { w: this.watched.w.again(), rec: this.watched.rec };
    } else {
      const rec = new Recorder();
      rec.blindReads = this.blind;
      this.watched = { w: this.make({ recorder: rec }), rec };
    }
    return this.watched;
  }
}

/** A new path point's `held` until its step is taken (stepOnPath sets it): shared, never changed. */
const NOT_YET_HELD: ReadonlyMap<string, 'r' | 'w'> = new Map();

/** A fresh world with (when reducing) its machine wrapped by a recorder. */
function start(worlds: Worlds, reduce: boolean): Run {
  const { w, rec } = worlds.fresh(reduce);
  const watched = rec?.instrumented ? rec : null;
  // No step list: the run keeps its own trace.
  const s = new Scheduler([mightSleepChecker, ...w.checkers], watched, false);
  const walkers = new Set<TaskId>();
  for (const [i, t] of w.tasks.entries()) {
    s.spawn(t.name, t.task);
    if (t.walker) walkers.add(i);
  }
  return {
    s,
    walkers,
    trace: [],
    rec: watched,
    seen: w.tasks.map(() => ''),
    steps: w.tasks.map(() => 0),
    firstViolation: -1,
    warnings: [],
    handled: 0,
    fps: [],
    wins: [],
    checked: new Map(),
    hashing: false,
  };
}

/** Step task t; its footprint (everything, when the world is not watched). */
function stepTask(run: Run, t: TaskId): Footprint {
  const y = run.s.pendingOf(t);
  const op = describe(y);
  if (!run.s.step(t)) throw new Error(`explore: replay diverged: task ${t} cannot run at step ${run.trace.length + 1}`);
  const fn = y?.op === 'access' ? y.fn : undefined;
  run.trace.push({ task: t, name: run.s.nameOf(t), op, held: run.s.heldBy(t), ...(fn ? { fn } : {}) });
  for (; run.handled < run.s.violations.length; run.handled++) {
    const v = run.s.violations[run.handled] as { message: string; fatal?: boolean; task: TaskId };
    if (!fatal(v)) run.warnings.push({ message: v.message, at: run.trace.length, task: v.task });
    else if (run.firstViolation < 0) run.firstViolation = run.trace.length;
  }
  run.steps[t] = (run.steps[t] ?? 0) + 1;
  const last = run.s.lastStep;
  if (!run.rec || !last) {
    run.fps.push(EVERYTHING);
    run.wins.push(undefined);
    return EVERYTHING;
  }
  if (run.hashing) run.seen[t] = hash64(`${run.seen[t] ?? ''}|${last.obs}`);
  const fp = last.fp;
  run.fps.push(fp);
  run.wins.push(run.rec.takeWindow());
  // What the checkers that fired at this step read: the anchor of a violation's causal past.
  if (last.checked) run.checked.set(run.trace.length - 1, last.checked);
  return fp;
}

export type Best = Map<string, ExploreViolation>;

/**
 * What a violation is filed under: its invariant; for a read of a struct page nothing
 * initialised, also the task that read it (memunmap's read and a walker's are different bugs).
 */
function keyOf(run: Run, message: string, task: TaskId): string {
  const inv = invariantOf(message);
  return inv.endsWith('struct page read') ? `${inv} (${run.s.nameOf(task)})` : inv;
}

/** Keep a violation if it is the shortest of its invariant (ties: the smaller schedule). */
function keep(best: Best, invariant: string, message: string, schedule: readonly TaskId[], trace: readonly TraceStep[]): void {
  const old = best.get(invariant);
  if (!old || schedule.length < old.schedule.length || (schedule.length === old.schedule.length && lexLess(schedule, old.schedule))) {
    best.set(invariant, { invariant, message, schedule: [...schedule], trace: [...trace] });
  }
}

/**
 * The steps of the first `len` that the last of them depends on (its causal past: program order
 * and dependent footprints). A reduced search may reach a violation through an order that also
 * ran unrelated steps; without them the schedule is shorter and, replayed, breaks the same
 * invariant at its end (checked; otherwise the schedule is kept as found). Null once more than
 * `limit` steps are in it.
 */
function causalPast(run: Run, len: number, limit = Infinity): number[] | null {
  const taskAt = (i: number): TaskId => (run.trace[i] as TraceStep).task;
  const marked: number[] = [len - 1];
  // A step depends on some marked step iff it is of a marked task or depends on the union of
  // their footprints (a resource written by any of them counts as written).
  const tasks = new Set([taskAt(len - 1)]);
  const union = new Map<string, 'r' | 'w'>();
  const join = (fp: Footprint): void => {
    for (const k of fp.keys()) if (!union.has(k) || fp.get(k) === 'w') union.set(k, fp.get(k) as 'r' | 'w');
  };
  // The violating step: its own footprint and what the checker that fired there read (as read:
  // the checker's entry stands for a resource both touch; a shorter schedule is replayed to check).
  const read = run.checked.get(len - 1);
  join(read ? new Map([...(run.fps[len - 1] as Footprint), ...read]) : (run.fps[len - 1] as Footprint));
  for (let i = len - 2; i >= 0; i--) {
    const fi = run.fps[i] as Footprint;
    if (tasks.has(taskAt(i)) || dependentOnGrowing(fi, union)) {
      marked.push(i);
      if (marked.length > limit) return null;
      tasks.add(taskAt(i));
      join(fi);
    }
  }
  return marked.reverse();
}

/** Record a run's fatal violations (at the first) and its warnings (each invariant's first in the run). */
function recordRun(worlds: Worlds, run: Run, best: Best, cands: Candidates | null = null, log: [string, TaskId[]][] | null = null, recorded: WeakSet<Warning> | null = null): void {
  if (run.firstViolation < 0 && !run.warnings.length) return;
  const found: { invariant: string; message: string; at: number }[] = [];
  if (run.firstViolation >= 0) {
    for (const v of run.s.violations) {
      if (!fatal(v)) continue;
      const invariant = keyOf(run, v.message, v.task);
      found.push({ invariant, message: v.message, at: run.firstViolation });
      if (v.whole && cands) candidate(cands, invariant, tasksOfTrace(run.trace, run.firstViolation), log);
    }
  }
  const seen = new Set<string>();
  for (const w of run.warnings) {
    const invariant = (w.key ??= keyOf(run, w.message, w.task));
    if (seen.has(invariant)) continue;
    seen.add(invariant);
    // A warning of the steps this run copied from an earlier one was that run's first of its
    // invariant too, and recorded there into the same best: recording it again changes nothing.
    if (recorded?.has(w)) continue;
    recorded?.add(w);
    found.push({ invariant, message: w.message, at: w.at });
  }
  if (!found.length) return;
  const schedule = tasksOfTrace(run.trace, run.trace.length);
  for (const f of found) {
    const old = best.get(f.invariant);
    // Nothing of this run can be kept where even the violating task's own steps (all in the
    // causal past) outnumber the steps of the trace kept.
    if (old && f.at > old.schedule.length) {
      const last = schedule[f.at - 1];
      let own = 0;
      for (let i = 0; i < f.at; i++) if (schedule[i] === last) own++;
      if (own > old.schedule.length) continue;
    }
    // Past the kept trace's length, the causal past could not be kept: the search stops there (null).
    const past = run.rec ? causalPast(run, f.at, old ? old.schedule.length : Infinity) : null;
    const short = past && past.length < f.at ? past.map((i) => schedule[i] as TaskId) : null;
    // Replay only a shorter schedule that could be kept (shorter, or as short and first in order).
    if (short && (!old || short.length < old.schedule.length || (short.length === old.schedule.length && lexLess(short, old.schedule)))) {
      const again = replay(worlds, short);
      const hit = again.s.violations.find((v) => keyOf(again, v.message, v.task) === f.invariant);
      const endsThere = again.firstViolation === short.length || again.warnings.some((w) => w.at === short.length && keyOf(again, w.message, w.task) === f.invariant);
      if (hit && endsThere) {
        keep(best, f.invariant, hit.message, short, again.trace);
        continue;
      }
    }
    if (!old || f.at <= old.schedule.length) keep(best, f.invariant, f.message, schedule.slice(0, f.at), run.trace.slice(0, f.at));
  }
}

/** Violating schedules of whole-state invariants, the shortest few of each, to trim at the end. */
export type Candidates = Map<string, TaskId[][]>;
const CANDIDATES = 16;

function candidate(cands: Candidates, invariant: string, schedule: TaskId[], log: [string, TaskId[]][] | null = null): void {
  log?.push([invariant, schedule]);
  const list = cands.get(invariant) ?? [];
  if (list.length >= CANDIDATES && (list.at(-1) as TaskId[]).length <= schedule.length) return;
  list.push(schedule);
  list.sort((a, b) => a.length - b.length || (lexLess(a, b) ? -1 : 1));
  if (list.length > CANDIDATES) list.pop();
  cands.set(invariant, list);
}

/**
 * A whole-state invariant (judged on the state after a step, not at a step's own yield) breaks
 * where the reduced search's chosen order first shows it, which may come after steps that
 * commute with everything the checker read but not with when it reads. Trim each candidate:
 * for each task in turn, the fewest of its steps that still break the invariant (binary search,
 * each try replayed), then cut at the violation.
 */
function trimCandidates(worlds: Worlds, cands: Candidates, best: Best): void {
  for (const [invariant, list] of cands) {
    for (const found of list) {
      let schedule = found;
      const breaks = (s: readonly TaskId[]): Run | null => {
        let r: Run;
        try {
          r = replay(worlds, s);
        } catch {
          return null;
        }
        return r.firstViolation >= 0 && r.s.violations.some((v) => keyOf(r, v.message, v.task) === invariant) ? r : null;
      };
      const tasks = [...new Set(schedule)].sort((a, b) => a - b);
      for (const t of tasks) {
        const mine = schedule.reduce((n, x) => n + (x === t ? 1 : 0), 0);
        const keepFirst = (k: number): TaskId[] => {
          let seen = 0;
          return schedule.filter((x) => x !== t || ++seen <= k);
        };
        let lo = 1;
        let hi = mine;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (breaks(keepFirst(mid))) hi = mid;
          else lo = mid + 1;
        }
        const r = breaks(keepFirst(lo));
        if (r) schedule = keepFirst(lo).slice(0, r.firstViolation);
      }
      const r = breaks(schedule);
      if (!r) continue;
      const v = r.s.violations.find((x) => keyOf(r, x.message, x.task) === invariant) as { message: string };
      keep(best, invariant, v.message, schedule.slice(0, r.firstViolation), r.trace.slice(0, r.firstViolation));
    }
  }
}

/** The state after the steps so far, or null where it cannot be hashed. */
function stateKey(run: Run): string | null {
  if (!run.rec) return null;
  const tasks: string[] = [];
  for (let t = 0; t < run.s.taskCount; t++) tasks.push(`${run.steps[t]}:${run.s.isDone(t) ? 'done' : describe(run.s.pendingOf(t))}:${run.seen[t]}`);
  return run.rec.stateKey(tasks.join('|'));
}

/**
 * Replay a schedule on a fresh world. Given an earlier run of the same kind that took the same
 * steps first (and broke nothing fatal in them), the schedule is replayed quietly — no checkers,
 * no recording, no trace text — and what that run found for those steps (trace, footprints,
 * what fired checkers read, warnings) is copied: the replay is deterministic, so the same steps
 * find the same. Not when states are hashed (each step's observations are needed).
 */
function replay(worlds: Worlds, schedule: readonly TaskId[], reduce = false, hashing = false, from: Run | null = null): Run {
  const run = start(worlds, reduce);
  run.hashing = hashing;
  if (run.rec) run.rec.observing = hashing;
  let k = 0;
  if (from && !hashing && samePrefix(from, run, schedule)) {
    const d = schedule.length;
    for (const t of schedule) {
      if (!run.s.step(t, true)) throw new Error(`explore: replay diverged: task ${t} cannot run at step ${k + 1}`);
      run.steps[t] = (run.steps[t] ?? 0) + 1;
      k++;
    }
    for (let i = 0; i < d; i++) {
      run.trace.push(from.trace[i] as TraceStep);
      run.fps.push(from.fps[i] as Footprint);
      run.wins.push(from.wins[i]);
    }
    // forEach and a loop: no entry array per entry, no filtered copy.
    from.checked.forEach((fp, i) => {
      if (i < d) run.checked.set(i, fp);
    });
    for (const w of from.warnings) if (w.at <= d) run.warnings.push(w);
  }
  for (; k < schedule.length; k++) stepTask(run, schedule[k] as TaskId);
  return run;
}

/** Whether `from` began with `schedule`'s steps, broke nothing fatal in them, and ran a world of run's kind. */
function samePrefix(from: Run, run: Run, schedule: readonly TaskId[]): boolean {
  if ((from.rec === null) !== (run.rec === null) || from.trace.length < schedule.length) return false;
  if (from.firstViolation >= 0 && from.firstViolation <= schedule.length) return false;
  for (let i = 0; i < schedule.length; i++) if ((from.trace[i] as TraceStep).task !== schedule[i]) return false;
  return true;
}

/** Replay a schedule step by step, calling `each` after every step with the world and the step. */
export function replayEach(make: MakeWorld, schedule: readonly TaskId[], each: (w: World, step: TraceStep, s: Scheduler) => void): void {
  const w = make({ recorder: null });
  const s = new Scheduler([mightSleepChecker, ...w.checkers]);
  for (const t of w.tasks) s.spawn(t.name, t.task);
  each(w, { task: -1, name: '', op: 'start of the scenario', held: [] }, s);
  for (const t of schedule) {
    const y = s.pendingOf(t);
    const op = describe(y);
    if (!s.step(t)) throw new Error(`replay: task ${t} cannot run`);
    const fn = y?.op === 'access' ? y.fn : undefined;
    each(w, { task: t, name: s.nameOf(t), op, held: s.heldBy(t), ...(fn ? { fn } : {}) }, s);
  }
}

/**
 * Replay a saved schedule: its trace and the violations it ends in (the kernel's words). A step
 * that names no task of the world, or one that cannot run there (finished or blocked), is an
 * InputError; `where(k)` names the schedule's k-th entry in it.
 */
export function replaySchedule(
  make: MakeWorld,
  schedule: readonly TaskId[],
  where: (k: number) => string = (k) => `schedule[${k}]`,
): { trace: TraceStep[]; violations: { invariant: string; message: string }[] } {
  const run = start(new Worlds(make), false);
  const s = run.s;
  const tasks = Array.from({ length: s.taskCount }, (_, t) => `${t} (${s.nameOf(t)})`).join(', ');
  for (const [k, t] of schedule.entries()) {
    if (!Number.isInteger(t) || t < 0 || t >= s.taskCount) throw new InputError(`${where(k)}: task ${t} is not a task of this scenario; its tasks are ${tasks}`);
    if (!s.runnable(t)) {
      throw new InputError(`${where(k)}: task ${t} (${s.nameOf(t)}) cannot run at step ${k + 1}: it ${s.isDone(t) ? 'has finished' : 'is blocked'}; the schedule is not one of this scenario's`);
    }
    stepTask(run, t);
  }
  return { trace: run.trace, violations: s.violations.map((v) => ({ invariant: invariantOf(v.message), message: v.message })) };
}

/**
 * A search replays schedules on fresh worlds and takes each to run as before. Run a schedule (the
 * lowest runnable task first, to the end or a fatal violation) twice on fresh worlds, then
 * another (the highest first) twice: the first step where a schedule's two runs differ, as text,
 * or null (the same). A design file that keeps state of its own between runs, or asks the clock
 * or Math.random, shows up here (not every such one); the second schedule's first run comes after
 * runs of the first, its second after its own, so state one schedule leaves behind shows too.
 */
export function firstDifferenceOfTwoRuns(make: MakeWorld, maxSteps = 1_000_000): string | null {
  const once = (pick: (ts: TaskId[]) => TaskId | undefined): TraceStep[] => {
    const run = start(new Worlds(make), false);
    for (let k = 0; k < maxSteps && run.firstViolation < 0; k++) {
      const t = pick(runnableTasks(run.s));
      if (t === undefined) break;
      stepTask(run, t);
    }
    return run.trace;
  };
  const show = (x: TraceStep | undefined): string => (x ? `${x.name}: ${x.op}` : 'the end');
  const orders: readonly [string, (ts: TaskId[]) => TaskId | undefined][] = [
    ['', (ts) => ts[0]],
    ['the highest runnable task first: ', (ts) => ts.at(-1)],
  ];
  for (const [what, pick] of orders) {
    const a = once(pick);
    const b = once(pick);
    for (let k = 0; k < Math.max(a.length, b.length); k++) {
      const x = a[k];
      const y = b[k];
      if (x?.task !== y?.task || x?.op !== y?.op) return `${what}step ${k + 1} was "${show(x)}", then "${show(y)}"`;
    }
  }
  return null;
}

function runnableTasks(s: Scheduler): TaskId[] {
  const out: TaskId[] = [];
  for (let t = 0; t < s.taskCount; t++) if (s.runnable(t)) out.push(t);
  return out;
}

/** Lexicographic order of schedules. */
function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return a.length < b.length;
}

/**
 * A point of the depth-first search: the schedule to its parent (the first `depth` steps of
 * `path`, a run's schedule that is only ever pushed to, so the siblings share it), the task to
 * step, the sleep sets.
 */
interface Point {
  readonly path: readonly TaskId[];
  readonly depth: number;
  readonly choice: TaskId;
  readonly pre: number;
  /** The parent's sleep set: tasks whose next step is covered elsewhere, with that step's footprint. */
  readonly sleep: ReadonlyMap<TaskId, Footprint>;
  /** The parent's children explored so far (shared by the siblings, filled in depth-first order). */
  readonly explored: Map<TaskId, Footprint>;
}

/**
 * Explore the interleavings of the world's tasks. Exhaustive search uses sleep sets over the
 * steps' recorded footprints (a step is not taken where an equivalent order was explored) and
 * state hashing (a state met again, no shallower and with no smaller sleep set, is not searched
 * again); both need a world that wraps its machine with the recorder, and both are off under a
 * preemption bound or in random mode, which run every schedule they choose.
 */
export function explore(make: MakeWorld, opts: ExploreOptions = {}): ExploreResult {
  const best = new Map<string, ExploreViolation>();
  let interleavings = 0;
  let exhaustive = true;
  const pruned = { sleepSet: 0, stateHash: 0 };
  const record = (invariant: string, message: string, schedule: readonly TaskId[], trace: readonly TraceStep[]): void => keep(best, invariant, message, schedule, trace);
  const bound = opts.preemptionBound ?? Infinity;
  const mode: Reduction = bound === Infinity && !opts.random ? (opts.reduce ?? 'dpor') : 'none';
  // Blind reads left out of footprints only where DPOR judges their windows.
  const worlds = new Worlds(make, mode === 'dpor');
  if (mode === 'dpor') return dpor(worlds, opts.maxInterleavings, opts.stopAtFirst ?? false);
  const reduce = mode === 'sleep';
  let bounded = false;
  let reducedRun = false;
  // States searched: for each, the (depth, sleep set) pairs it was searched from.
  const visited = new Map<string, { depth: number; sleep: ReadonlySet<TaskId> }[]>();
  const cands: Candidates = new Map();
  const subset = (a: ReadonlySet<TaskId>, b: ReadonlyMap<TaskId, Footprint>): boolean => [...a].every((t) => b.has(t));
  // Depth-first over schedules; `choose` picks the children of a point (all enabled tasks, one
  // random one); a child that switches away from a task that could continue is a preemption.
  const finish = (choose: (enabled: TaskId[]) => TaskId[]): void => {
    const stack: (Point | null)[] = [null];
    let last: Run | null = null;
    while (stack.length) {
      if (opts.maxInterleavings !== undefined && interleavings >= opts.maxInterleavings) {
        exhaustive = false;
        return;
      }
      const top = stack.pop() as Point | null;
      // Replay the prefix once, then follow the first choice down to a leaf in the same run,
      // leaving the other choices on the stack: one replay per interleaving.
      const schedule = top ? top.path.slice(0, top.depth) : [];
      const run = replay(worlds, schedule, reduce, reduce, last);
      last = run;
      if (run.rec) reducedRun = true;
      let point: Omit<Point, 'path' | 'depth'> | null = top;
      let sleep: ReadonlyMap<TaskId, Footprint> = new Map();
      for (;;) {
        if (point) {
          const fp = stepTask(run, point.choice);
          const next = new Map<TaskId, Footprint>();
          for (const [u, f] of [...point.sleep, ...point.explored]) if (u !== point.choice && !dependent(f, fp)) next.set(u, f);
          point.explored.set(point.choice, fp);
          schedule.push(point.choice);
          sleep = next;
          if (run.firstViolation >= 0) {
            interleavings++;
            break;
          }
          const key = reduce ? stateKey(run) : null;
          if (key !== null) {
            const seen = visited.get(key);
            if (seen?.some((e) => e.depth <= schedule.length && subset(e.sleep, sleep))) {
              pruned.stateHash++;
              break;
            }
            const entry = { depth: schedule.length, sleep: new Set(sleep.keys()) };
            if (seen) seen.push(entry);
            else visited.set(key, [entry]);
          }
        } else if (run.firstViolation >= 0) {
          interleavings++;
          break;
        }
        const enabled = runnableTasks(run.s);
        if (!enabled.length) {
          interleavings++;
          const stuck: TaskId[] = [];
          for (let t = 0; t < run.s.taskCount; t++) if (!run.s.isDone(t)) stuck.push(t);
          if (stuck.length) record('deadlock', `deadlock: ${stuck.map((t) => `${run.s.nameOf(t)} waits at ${describe(run.s.pendingOf(t))}`).join('; ')}`, schedule, run.trace);
          break;
        }
        const last = schedule[schedule.length - 1];
        const pre = point?.pre ?? 0;
        const children = choose(enabled.filter((t) => !sleep.has(t))).map((t) => ({ t, pre: pre + (last !== undefined && t !== last && enabled.includes(last) ? 1 : 0) }));
        const kept = children.filter((c) => c.pre <= bound);
        if (kept.length < children.length) bounded = true;
        if (!kept.length) {
          if (children.length || !sleep.size) interleavings++;
          else pruned.sleepSet++;
          break;
        }
        const explored = new Map<TaskId, Footprint>();
        // Push the alternatives in reverse so the lowest task id is explored first (the tie-break order).
        for (let i = kept.length - 1; i >= 1; i--) {
          const c = kept[i] as { t: TaskId; pre: number };
          stack.push({ path: schedule, depth: schedule.length, choice: c.t, pre: c.pre, sleep, explored });
        }
        const first = kept[0] as { t: TaskId; pre: number };
        point = { choice: first.t, pre: first.pre, sleep, explored };
      }
      recordRun(worlds, run, best, reduce ? cands : null);
      if (opts.stopAtFirst && (best.size || cands.size)) {
        exhaustive = false;
        return;
      }
    }
  };
  const sorted = (): ExploreViolation[] => [...best.values()].sort((a, b) => a.invariant.localeCompare(b.invariant));
  if (opts.random) {
    let x = opts.random.seed >>> 0 || 1;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % n;
    };
    for (let i = 0; i < opts.random.runs; i++) finish((enabled) => [enabled[rnd(enabled.length)] as TaskId]);
    return { interleavings, exhaustive: false, violations: sorted(), reduced: false, pruned };
  }
  finish((enabled) => enabled);
  if (reduce) trimCandidates(worlds, cands, best);
  if (bounded) exhaustive = false;
  return { interleavings, exhaustive, violations: sorted(), reduced: reducedRun, pruned };
}

/** One step on the current path of the DPOR search. */
export interface PathStep {
  /** Tasks enabled at the state before the step, and those asleep there. */
  readonly enabled: readonly TaskId[];
  readonly sleep: ReadonlyMap<TaskId, Footprint>;
  /** Tasks to try from that state (races found add to it), and those tried. */
  readonly backtrack: Set<TaskId>;
  readonly done: Map<TaskId, Footprint>;
  task: TaskId;
  fp: Footprint;
  /** The lock operation the step performed ('acquire' or 'release' of `lock`), if any. */
  lockOp: LockOp | null;
  /** Locks the stepping task held before the step, and how (r: shared, w: exclusive). */
  held: ReadonlyMap<string, 'r' | 'w'>;
  /** Vector clock of the step (happens-before over dependent steps and program order). */
  clock: number[];
  /** Walkers in backtrack to be run here on their own: only they run below (a BUG's branch, see extend). */
  solo?: Set<TaskId>;
  /** Below such a branch: the one task that runs. */
  readonly alone?: TaskId;
}

/**
 * Stateless dynamic partial-order reduction with sleep sets (Flanagan and Godefroid, POPL 2005):
 * follow one schedule to its end; wherever a step races with an earlier dependent step of
 * another task that does not happen before it, add a backtrack point before that earlier step;
 * then resume from the deepest point with an untried task. No state hashing: pruning a state met
 * before would hide the races in the subtree below it.
 */
function dpor(worlds: Worlds, maxInterleavings: number | undefined, stopAtFirst: boolean): ExploreResult {
  const st = startSearch(worlds, { maxInterleavings, stopAtFirst });
  while (advanceSearch(st) !== null);
  return finishSearch(st);
}

/**
 * A part of a DPOR search handed to another thread (explore_jobs.ts): everything the sequential
 * search does below the point the schedule `prefix` reaches, entered with the sleep set `sleep`
 * (each sleeping task with the footprint of its step). What the sequential search does there
 * depends on nothing else: the steps above are fixed by the prefix, and races found below only
 * add to the backtrack sets above, which the search below never reads.
 */
export interface UnitRequest {
  readonly prefix: readonly TaskId[];
  readonly sleep: readonly (readonly [TaskId, Footprint])[];
  /** What the search above recorded for the prefix's steps, so a unit replays them quietly (not part of the unit's identity). */
  readonly known?: PrefixRecord;
  /** Where the prefix ends below a walker's own branch (see extend): that walker, the one task that runs below. */
  readonly alone?: TaskId;
}

/** A run's record of its first steps: trace, footprints, what fired checkers read, warnings. */
export interface PrefixRecord {
  readonly watched: boolean;
  readonly trace: readonly TraceStep[];
  readonly fps: readonly Footprint[];
  readonly wins: readonly (StepWindow | undefined)[];
  readonly checked: readonly (readonly [number, Footprint])[];
  readonly warnings: Run['warnings'];
}

/**
 * A task added to the backtrack set of the point at a depth above a unit: by a race, or (`solo`)
 * a walker to be run there on its own before a BUG (extend).
 */
export type Addition = readonly [depth: number, task: TaskId, solo?: boolean];

/** What a unit found: its counts, the races it found with steps above it, its violations and candidates. */
export interface UnitResult {
  readonly interleavings: number;
  readonly sleepSetPruned: number;
  /** (depth, task): a task added to the backtrack set of the point at that depth above the unit (each once). */
  readonly additions: readonly Addition[];
  /** The shortest violation of each invariant the unit found (merged with keep: the order does not matter). */
  readonly best: readonly ExploreViolation[];
  /**
   * The candidates (whole-state violations to trim) the unit offered, in order: those no longer
   * than its 16th shortest of the invariant (no later one can be kept in place of a shorter one).
   */
  readonly candidates: readonly (readonly [string, readonly TaskId[]])[];
}

/** A unit that found nothing and added nothing (what a speculative search assumes of one still running). */
export const EMPTY_UNIT: UnitResult = { interleavings: 0, sleepSetPruned: 0, additions: [], best: [], candidates: [] };

/** A DPOR search in progress, run to its end by advanceSearch, or stopped at each unit it hands out. */
export interface Search {
  readonly worlds: Worlds;
  /** The depth the search starts at (a unit's prefix length; 0 for a whole search) and the sleep set there. */
  readonly base: number;
  readonly baseSleep: ReadonlyMap<TaskId, Footprint>;
  /** The one task that runs below the base, where it is below a walker's own branch. */
  readonly baseAlone: TaskId | undefined;
  /** Where the path first reaches this depth, the search below is a unit handed out (Infinity: never). */
  readonly split: number;
  readonly path: PathStep[];
  run: Run;
  /** Locks each task holds at the current point of the path (rebuilt from the path after a replay). */
  held: Map<string, 'r' | 'w'>[];
  readonly nTasks: number;
  interleavings: number;
  readonly pruned: { sleepSet: number; stateHash: number };
  exhaustive: boolean;
  readonly reduced: boolean;
  readonly best: Best;
  /** The warnings recorded into best so far (a replay shares those of the steps it copies). */
  readonly recorded: WeakSet<Warning>;
  readonly cands: Candidates;
  /** A unit's candidates in order, and the races it found with steps above it; null in a whole search. */
  readonly candLog: [string, TaskId[]][] | null;
  readonly additions: Addition[] | null;
  /** Whether leaves are recorded (a speculative copy only finds the units to come). */
  readonly record: boolean;
  phase: 'extend' | 'backtrack' | 'awaiting' | 'done';
  readonly maxInterleavings: number | undefined;
  readonly stopAtFirst: boolean;
  /** Called after each leaf. */
  readonly onLeaf: (() => void) | undefined;
  /** What a blind read of a pageblock by a task gives in each page state: the violation (its key and words) or null (none). */
  readonly verdicts: Map<string, Verdict | null>;
  /** Blind reads' window candidates found on the path, judged at the next leaf (judging replays). */
  readonly windows: WindowCandidate[];
  /** The path's steps by the resources they touched (stepOnPath keeps it). */
  readonly index: AccessIndex;
}

/** A blind read's violation: what it is filed under and the kernel's words. */
interface Verdict {
  readonly key: string;
  readonly message: string;
}

/** A blind read placed elsewhere in its window: the schedule (its last step the read), its trace, the state it reads there. */
interface WindowCandidate {
  readonly schedule: TaskId[];
  readonly trace: TraceStep[];
  readonly task: TaskId;
  readonly pb: number;
  readonly state: PageState;
}

interface SearchOptions {
  readonly onLeaf?: () => void;
  readonly known?: PrefixRecord | undefined;
  readonly prefix?: readonly TaskId[];
  readonly sleep?: ReadonlyMap<TaskId, Footprint>;
  readonly split?: number;
  readonly alone?: TaskId | undefined;
  readonly maxInterleavings?: number | undefined;
  readonly stopAtFirst?: boolean;
}

function rebuildHeld(st: Search, upto: number): void {
  st.held = Array.from({ length: st.run.s.taskCount }, () => new Map<string, 'r' | 'w'>());
  for (let i = 0; i < upto; i++) {
    const q = st.path[i] as PathStep;
    const h = st.held[q.task] as Map<string, 'r' | 'w'>;
    if (q.lockOp?.kind === 'acquire' && q.lockOp.hold) h.set(q.lockOp.lock, q.lockOp.mode);
    else if (q.lockOp?.kind === 'release') h.delete(q.lockOp.lock);
  }
}

/** A DPOR search from the start, or (prefix) the part below a point: the steps above replayed and their clocks taken. */
export function startSearch(worlds: Worlds, o: SearchOptions = {}): Search {
  const run = replay(worlds, [], true);
  const prefix = o.prefix ?? [];
  const st: Search = {
    worlds,
    base: prefix.length,
    baseSleep: o.sleep ?? new Map(),
    baseAlone: o.alone,
    split: o.split ?? Infinity,
    path: [],
    run,
    held: [],
    nTasks: run.s.taskCount,
    interleavings: 0,
    pruned: { sleepSet: 0, stateHash: 0 },
    exhaustive: true,
    reduced: run.rec !== null,
    best: new Map(),
    recorded: new WeakSet(),
    cands: new Map(),
    candLog: o.prefix ? [] : null,
    additions: o.prefix ? [] : null,
    record: true,
    phase: 'extend',
    maxInterleavings: o.maxInterleavings,
    stopAtFirst: o.stopAtFirst ?? false,
    onLeaf: o.onLeaf,
    verdicts: new Map(),
    windows: [],
    index: new AccessIndex(run.s.taskCount),
  };
  rebuildHeld(st, 0);
  // The prefix's steps replayed quietly where the search above sent their record (as replay() does).
  const known = o.known && o.known.trace.length === prefix.length && o.known.watched === (run.rec !== null) ? o.known : null;
  for (const [d, t] of prefix.entries()) {
    const at: PathStep = { enabled: runnableTasks(run.s), sleep: new Map(), backtrack: new Set([t]), done: new Map(), task: -1, fp: EVERYTHING, lockOp: null, held: NOT_YET_HELD, clock: [] };
    if (!run.s.runnable(t)) throw new Error(`explore: unit prefix diverged: task ${t} cannot run at step ${d + 1}`);
    st.path[d] = at;
    stepOnPath(st, at, t, d, known);
  }
  if (known) {
    for (const [i, fp] of known.checked) run.checked.set(i, fp);
    run.warnings.push(...known.warnings);
  }
  return st;
}

/** Step task t quietly (no checkers, no recording), taking its trace entry and footprint from a record of the same steps. */
function quietStep(run: Run, t: TaskId, known: PrefixRecord, d: number): Footprint {
  if (!run.s.step(t, true)) throw new Error(`explore: replay diverged: task ${t} cannot run at step ${d + 1}`);
  run.steps[t] = (run.steps[t] ?? 0) + 1;
  run.trace.push(known.trace[d] as TraceStep);
  const fp = known.fps[d] as Footprint;
  run.fps.push(fp);
  run.wins.push(known.wins[d]);
  return fp;
}

/** Step task t at depth d of the path: its footprint, lock operation, the locks held before, its vector clock. */
function stepOnPath(st: Search, at: PathStep, t: TaskId, d: number, known: PrefixRecord | null = null): Footprint {
  const { run, path, nTasks } = st;
  const lockOp = lockOpOf(run.s.pendingOf(t));
  // The task's held map is never changed once a step has it: a lock operation gives the task a new one.
  const mine = st.held[t] as Map<string, 'r' | 'w'>;
  at.held = mine;
  const fp = known ? quietStep(run, t, known, d) : stepTask(run, t);
  if (lockOp?.kind === 'acquire' && lockOp.hold) st.held[t] = new Map(mine).set(lockOp.lock, lockOp.mode);
  else if (lockOp?.kind === 'release' && mine.has(lockOp.lock)) {
    const next = new Map(mine);
    next.delete(lockOp.lock);
    st.held[t] = next;
  }
  at.task = t;
  at.fp = fp;
  at.lockOp = lockOp;
  at.done.set(t, fp);
  // Vector clock: program order, then every earlier dependent step. A step already ordered
  // before one joined (its own entry no later than the clock's) adds nothing: skip it.
  // A step's own entry is its number among its task's steps, so once each task has no
  // more steps left below than the clock's entry for it, nothing more can join: stop.
  // A step that touched nothing (a walker's blind read) depends on its task's steps only.
  // The latest dependent step of each task is found in the access index (a task's clock entries
  // only grow along its steps, so its earlier dependent steps add nothing).
  st.index.cut(d);
  const last = fp.size === 0 ? null : st.index.latestDependent(fp);
  if (fp.size === 0 || last) {
    const clock = precededBy(path, d, t, nTasks).slice();
    if (last)
      for (let u = 0; u < nTasks; u++) {
        const i = last[u] as number;
        if (u === t || i < 0) continue;
        const qc = (path[i] as PathStep).clock;
        for (let k = 0; k < nTasks; k++) if ((qc[k] as number) > (clock[k] as number)) clock[k] = qc[k] as number;
      }
    clock[t] = (clock[t] as number) + 1;
    at.clock = clock;
    st.index.add(d, t, fp);
    return fp;
  }
  // EVERYTHING: every earlier step.
  const clock = new Array<number>(nTasks).fill(0);
  const left = stepsLeft(run, t, nTasks);
  for (let i = d - 1; i >= 0; i--) {
    const q = path[i] as PathStep;
    if ((q.clock[q.task] as number) > (clock[q.task] as number) && (q.task === t || dependent(q.fp, fp)))
      for (let k = 0; k < nTasks; k++) clock[k] = Math.max(clock[k] as number, q.clock[k] as number);
    left[q.task] = (left[q.task] as number) - 1;
    if (covered(left, clock, -1, nTasks)) break;
  }
  clock[t] = (clock[t] as number) + 1;
  at.clock = clock;
  st.index.add(d, t, fp);
  return fp;
}

function covered(left: readonly number[], bound: readonly number[], skip: number, nTasks: number): boolean {
  for (let k = 0; k < nTasks; k++) if (k !== skip && (left[k] as number) > (bound[k] as number)) return false;
  return true;
}

/** Extend the current path to a leaf; or, where it reaches the split depth, the unit below (the search then awaits its result). */
function extend(st: Search): UnitRequest | null {
  const { path, nTasks } = st;
  const run = st.run;
  for (;;) {
    const d = run.trace.length;
    if (d === st.split && path[d] === undefined) {
      // The prefix's record goes with it unless a fatal violation is in it (a quiet replay never holds one).
      const known: PrefixRecord | undefined =
        run.firstViolation < 0
          ? {
              watched: run.rec !== null,
              trace: run.trace.slice(0, d),
              fps: run.fps.slice(0, d),
              wins: run.wins.slice(0, d),
              checked: [...run.checked].filter(([i]) => i < d),
              warnings: run.warnings.filter((w) => w.at <= d),
            }
          : undefined;
      const alone = aloneAt(st, d);
      return { prefix: path.slice(0, d).map((p) => p.task), sleep: [...childSleep(path[d - 1] as PathStep)], ...(known ? { known } : {}), ...(alone !== undefined ? { alone } : {}) };
    }
    if (run.firstViolation >= 0) {
      st.interleavings++;
      // A BUG stops the machine: its step disables every other task's next step, a race with
      // each (Flanagan and Godefroid add every such task at the state before it). Done here for
      // the walkers, which nothing else races with: without it a BUG of the operations that
      // comes early in every order hides every walker read after it. (For every task it is
      // sound too, and doubled seed-2019-map-mem's search: docs/designs.md.)
      // The walker's branch there runs it alone to its end: with the BUG's task and the others
      // held where they are, as the BUG would (a branch where they run on is not one more race).
      const last = path[d - 1];
      if (last && d - 1 < st.base) {
        // Above a unit: the search above decides, with that point's own sleep set and branches.
        for (const u of last.enabled) {
          if (!run.walkers.has(u) || last.backtrack.has(u)) continue;
          last.backtrack.add(u);
          st.additions?.push([d - 1, u, true]);
        }
      } else if (last) soloBranches(last, run.walkers);
      return null;
    }
    let at = path[d];
    const alone = aloneAt(st, d);
    if (!at && alone !== undefined) {
      // A walker run on its own after a BUG's state: its end (or its block) is a leaf, no deadlock.
      const sleep = d === st.base ? st.baseSleep : childSleep(path[d - 1] as PathStep);
      if (!run.s.runnable(alone) || sleep.has(alone)) {
        st.interleavings++;
        return null;
      }
      at = { enabled: [alone], sleep, backtrack: new Set([alone]), done: new Map(), task: -1, fp: EVERYTHING, lockOp: null, held: NOT_YET_HELD, clock: [], alone };
      path[d] = at;
    }
    if (!at) {
      const enabled = runnableTasks(run.s);
      if (!enabled.length) {
        st.interleavings++;
        const stuck: TaskId[] = [];
        for (let t = 0; t < nTasks; t++) if (!run.s.isDone(t)) stuck.push(t);
        if (stuck.length && st.record)
          keep(
            st.best,
            'deadlock',
            `deadlock: ${stuck.map((t) => `${run.s.nameOf(t)} waits at ${describe(run.s.pendingOf(t))}`).join('; ')}`,
            path.map((p) => p.task),
            run.trace,
          );
        return null;
      }
      const sleep = d === st.base ? st.baseSleep : childSleep(path[d - 1] as PathStep);
      const awake = enabled.filter((t) => !sleep.has(t));
      if (!awake.length) {
        st.pruned.sleepSet++;
        return null;
      }
      at = { enabled, sleep, backtrack: new Set([awake[0] as TaskId]), done: new Map(), task: -1, fp: EVERYTHING, lockOp: null, held: NOT_YET_HELD, clock: [] };
      path[d] = at;
    }
    const here = at;
    // The lowest task to try here.
    let t: TaskId | undefined;
    for (const u of here.backtrack) if (!here.done.has(u) && !here.sleep.has(u) && (t === undefined || u < t)) t = u;
    if (t === undefined) return null;
    const lockOp = lockOpOf(run.s.pendingOf(t));
    const handled = run.s.violations.length;
    let fp = stepOnPath(st, here, t, d);
    const win = run.wins[d];
    if (win) {
      if (st.record) windowCheck(st, d, handled);
      // A blind read that stopped the machine is ordered against the page state it read, as a read
      // that is not blind: the runs where it comes after that state changes go on past it.
      // Its siblings' sleep sets hold it so too: it wakes where the state changes.
      if (win.read && run.firstViolation === d + 1 && st.worlds.blind) {
        fp = new Map(fp).set(`pagecat:${win.read.pb}`, 'r');
        here.fp = fp;
        here.done.set(t, fp);
        st.index.add(d, t, fp);
      }
    }
    // Races: the latest earlier step of another task, dependent and not happening before this
    // one. A step that touched nothing races with nothing.
    if (fp.size === 0) continue;
    const before = precededBy(path, d, t, nTasks);
    // Each task's latest dependent step from the index: if it happens before this one, so do
    // its earlier ones. The latest of those that do not is the race, unless the lock rule
    // below passes over it: then the path is walked back, as with EVERYTHING.
    const last = st.index.latestDependent(fp);
    let race = -1;
    if (last)
      for (let u = 0; u < nTasks; u++) {
        const i = last[u] as number;
        if (u !== t && i > race && ((path[i] as PathStep).clock[u] as number) > (before[u] as number)) race = i;
      }
    if (last && (race < 0 || !lockExcludes(path[race] as PathStep, lockOp))) {
      if (race >= 0) raceWith(st, race, t);
      continue;
    }
    // Stopping, as stepOnPath does, once every other task's steps left below happen before it.
    const left = stepsLeft(run, t, nTasks);
    for (let i = d - 1; i >= 0; i--) {
      const q = path[i] as PathStep;
      if (covered(left, before, t, nTasks)) break;
      left[q.task] = (left[q.task] as number) - 1;
      if (q.task === t || (q.clock[q.task] as number) <= (before[q.task] as number) || !dependent(q.fp, fp)) continue;
      if (lockExcludes(q, lockOp)) continue;
      raceWith(st, i, t);
      break;
    }
  }
}

/**
 * Never co-enabled: q's task held the lock this step acquires, in a mode that excludes it, so
 * this step could not have run before q (the race is with q's acquire, earlier).
 */
function lockExcludes(q: PathStep, lockOp: LockOp | null): boolean {
  if (lockOp?.kind !== 'acquire') return false;
  const h = q.held.get(lockOp.lock);
  return h === 'w' || (h === 'r' && lockOp.mode === 'w');
}

/** A race of task t's step with the step at depth i: t (or, if t was not enabled there, every task enabled there) is tried there. */
function raceWith(st: Search, i: number, t: TaskId): void {
  const q = st.path[i] as PathStep;
  const add = q.enabled.includes(t) ? [t] : q.enabled;
  for (const u of add) {
    // Above a unit: each new one once (the search above takes their union).
    if (i < st.base && !q.backtrack.has(u)) st.additions?.push([i, u]);
    addBacktrack(q, u);
  }
}

/**
 * A blind read (a walker's struct page read: the walker never looks at what it read) is in no
 * step's footprint, so DPOR orders it against nothing that changes the page's state, and explores
 * one place for it among the writes that do. Every other place is judged here instead, which is
 * what the reads' orders would have been explored for: the page's state changes only at the
 * pageblock's `pagecat` writes, which are ordered among themselves, and the read can come after
 * any of them that neither happens before it nor after it. For each such write W (found at the
 * read, or at W where it comes later on the path), and for the earliest place (after only what
 * happens before the read), the read put there reads the state W left: the schedule is the
 * read's causal past and W's, in the path's order, then the read. The state's verdict is the
 * same wherever the read is (the checker judges only the state), so it is learnt from the reads
 * run and, for a state no read of the search met yet, from one replay (judgeWindows).
 */
function windowCheck(st: Search, d: number, handled: number): void {
  const { run, path, nTasks } = st;
  const win = run.wins[d] as StepWindow;
  const at = path[d] as PathStep;
  const t = at.task;
  if (win.read) {
    const { pb, state } = win.read;
    st.verdicts.set(`${t}|${pb}|${state}`, blindVerdict(run, t, handled));
    const mine = at.clock.slice();
    mine[t] = (mine[t] as number) - 1;
    // The pageblock's state changes on the path so far: the first's state before it, the
    // latest that happens before the read, the latest of all (whose state the read met).
    let initial: PageState | undefined;
    let before = -1;
    let beforeState: PageState | undefined;
    let latest = -1;
    const concurrent: [number, PageState][] = [];
    for (let i = 0; i < d; i++) {
      const writes = run.wins[i]?.writes;
      if (!writes) continue;
      for (const [x, was, now] of writes) {
        if (x !== pb) continue;
        initial ??= was;
        latest = i;
        const q = path[i] as PathStep;
        if (q.task === t || (q.clock[q.task] as number) <= (mine[q.task] as number)) {
          before = i;
          beforeState = now;
        } else concurrent.push([i, now]);
      }
    }
    if (latest < 0) return;
    // The earliest place: after the read's causal past only.
    if (before !== latest) windowCandidate(st, d, d, mine, before >= 0 ? (beforeState as PageState) : (initial as PageState), t, pb);
    for (const [i, now] of concurrent) if (i !== latest) windowCandidate(st, d, d, joinClocks(mine, (path[i] as PathStep).clock, nTasks), now, t, pb);
  }
  // A state change on the path after a blind read of its pageblock that does not happen before it.
  if (win.writes && run.firstViolation !== d + 1) {
    for (const [x, , now] of win.writes) {
      for (let i = 0; i < d; i++) {
        const r = run.wins[i]?.read;
        if (!r || r.pb !== x) continue;
        const q = path[i] as PathStep;
        if (q.task === t || (q.clock[q.task] as number) <= (at.clock[q.task] as number)) continue;
        const theirs = q.clock.slice();
        theirs[q.task] = (theirs[q.task] as number) - 1;
        windowCandidate(st, i, d, joinClocks(theirs, at.clock, nTasks), now, q.task, x);
      }
    }
  }
}

/** What the blind read just stepped broke: its struct page read violation among those of the step, or null. */
function blindVerdict(run: Run, t: TaskId, handled: number): Verdict | null {
  for (let k = handled; k < run.s.violations.length; k++) {
    const v = run.s.violations[k] as { message: string; task: TaskId };
    if (v.task !== t || !invariantOf(v.message).endsWith('struct page read')) continue;
    return { key: keyOf(run, v.message, t), message: v.message };
  }
  return null;
}

function joinClocks(a: readonly number[], b: readonly number[], nTasks: number): number[] {
  const out = new Array<number>(nTasks);
  for (let k = 0; k < nTasks; k++) out[k] = Math.max(a[k] as number, b[k] as number);
  return out;
}

/**
 * The blind read at path depth `read` put after the steps `bound` counts (each task's first
 * bound[k] steps, a set closed under happens-before, `upto` the deepest), reading `state`:
 * queued unless its verdict is known to be none, or a violation already kept is shorter.
 */
function windowCandidate(st: Search, read: number, upto: number, bound: readonly number[], state: PageState, task: TaskId, pb: number): void {
  const verdict = st.verdicts.get(`${task}|${pb}|${state}`);
  if (verdict === null) return;
  let len = 1;
  for (const n of bound) len += n;
  const old = verdict ? st.best.get(verdict.key) : undefined;
  if (old && old.schedule.length < len) return;
  const schedule: TaskId[] = [];
  const trace: TraceStep[] = [];
  for (let i = 0; i <= upto; i++) {
    const q = st.path[i] as PathStep;
    if ((q.clock[q.task] as number) > (bound[q.task] as number)) continue;
    schedule.push(q.task);
    trace.push(st.run.trace[i] as TraceStep);
  }
  schedule.push(task);
  trace.push(st.run.trace[read] as TraceStep);
  if (schedule.length !== len) throw new Error(`explore: a blind read's window schedule has ${schedule.length} steps, its clocks count ${len}`);
  st.windows.push({ schedule, trace, task, pb, state });
}

/**
 * Judge the window candidates queued on the path: a state whose verdict the search has not met
 * is replayed once and learnt; a violation that could be kept (shorter, or as short and first in
 * order) is replayed to check it (the read must read the state expected, and nothing fatal come
 * before it) and kept with the replay's trace.
 */
function judgeWindows(st: Search): void {
  if (!st.windows.length) return;
  const queued = st.windows.splice(0);
  for (const c of queued) {
    const key = `${c.task}|${c.pb}|${c.state}`;
    const known = st.verdicts.get(key);
    if (known === null) continue;
    if (known) {
      const old = st.best.get(known.key);
      if (old && !(c.schedule.length < old.schedule.length || (c.schedule.length === old.schedule.length && lexLess(c.schedule, old.schedule)))) continue;
    }
    const len = c.schedule.length;
    const handled = (run: Run): number => run.s.violations.length;
    const again = replay(st.worlds, c.schedule.slice(0, len - 1), true);
    const from = handled(again);
    stepTask(again, c.task);
    const read = again.wins[len - 1]?.read;
    if (!read || read.pb !== c.pb || read.state !== c.state) {
      throw new Error(
        `explore: a blind read's window check diverged: task ${c.task} at step ${len} of ${c.schedule.join(',')} read ${read ? `${read.state} in pageblock ${read.pb}` : 'no blind struct page'}, not ${c.state} in pageblock ${c.pb}`,
      );
    }
    const verdict = blindVerdict(again, c.task, from);
    st.verdicts.set(key, verdict);
    // Nothing fatal before the read: else the machine stopped before it (not this place's to judge).
    if (!verdict || (again.firstViolation >= 0 && again.firstViolation < len)) continue;
    keep(st.best, verdict.key, verdict.message, c.schedule, again.trace);
  }
}

/**
 * Run the search on: to its end (null), or to the next unit it hands out (the split depth
 * reached), which applyUnit's result then stands for.
 */
export function advanceSearch(st: Search): UnitRequest | null {
  for (;;) {
    if (st.phase === 'done') return null;
    if (st.phase === 'awaiting') throw new Error('explore: a search awaiting a unit was advanced');
    if (st.phase === 'backtrack') {
      // Back to the deepest point with an untried task.
      let d = st.run.trace.length;
      while (d >= st.base) {
        const at = st.path[d];
        if (at && untried(at)) break;
        d--;
      }
      if (d < st.base) {
        st.phase = 'done';
        return null;
      }
      st.path.length = d + 1;
      st.run = replay(st.worlds, tasksOf(st.path, d), true, false, st.run);
      rebuildHeld(st, d);
      st.phase = 'extend';
    }
    const unit = extend(st);
    if (unit) {
      judgeWindows(st);
      st.phase = 'awaiting';
      return unit;
    }
    if (st.record) {
      recordRun(st.worlds, st.run, st.best, st.cands, st.candLog, st.recorded);
      judgeWindows(st);
    }
    st.onLeaf?.();
    if ((st.maxInterleavings !== undefined && st.interleavings >= st.maxInterleavings) || (st.stopAtFirst && (st.best.size || st.cands.size))) {
      st.exhaustive = false;
      st.phase = 'done';
      return null;
    }
    st.phase = 'backtrack';
  }
}

/** What the unit the search awaits found, taken in as if the search had run it in place. */
export function applyUnit(st: Search, r: UnitResult): void {
  if (st.phase !== 'awaiting') throw new Error('explore: a unit result came to a search not awaiting one');
  st.interleavings += r.interleavings;
  st.pruned.sleepSet += r.sleepSetPruned;
  for (const [i, u, solo] of r.additions) {
    const q = st.path[i] as PathStep;
    if (i < st.base) {
      if (!q.backtrack.has(u)) st.additions?.push(solo ? [i, u, true] : [i, u]);
      q.backtrack.add(u);
    } else if (solo) soloBranches(q, new Set([u]));
    else addBacktrack(q, u);
  }
  if (st.record) {
    for (const v of r.best) keep(st.best, v.invariant, v.message, v.schedule, v.trace);
    for (const [invariant, schedule] of r.candidates) candidate(st.cands, invariant, [...schedule], st.candLog);
  }
  st.phase = 'backtrack';
}

/**
 * A copy of a search awaiting a unit that records nothing: run on with assumed results, it names
 * the units the search will (probably) hand out next. It replays in `worlds` (by default the
 * search's own: the search replays its prefix anyway when it resumes).
 */
export function forkSearch(st: Search, worlds: Worlds = st.worlds): Search {
  const path = st.path.map((p) => ({ ...p, backtrack: new Set(p.backtrack), done: new Map(p.done), ...(p.solo ? { solo: new Set(p.solo) } : {}) }));
  return {
    ...st,
    worlds,
    path,
    index: st.index.copy(path),
    held: [...st.held],
    pruned: { ...st.pruned },
    best: new Map(),
    recorded: new WeakSet(),
    cands: new Map(),
    candLog: null,
    additions: null,
    record: false,
    onLeaf: undefined,
    windows: [],
  };
}

/** The result of a search run to its end: candidates trimmed, violations by invariant. */
export function finishSearch(st: Search): ExploreResult {
  trimCandidates(st.worlds, st.cands, st.best);
  return {
    interleavings: st.interleavings,
    exhaustive: st.exhaustive,
    violations: [...st.best.values()].sort((a, b) => a.invariant.localeCompare(b.invariant)),
    reduced: st.reduced,
    pruned: st.pruned,
  };
}

/**
 * Run a unit (on a worker thread, or this one for --jobs): the search below its prefix, to its
 * end. `early` hears the races found so far with the steps above whenever a leaf found more (the
 * first leaf finds most); `leaf` is called after every leaf.
 */
export function exploreUnit(worlds: Worlds, u: UnitRequest, early?: (additions: readonly Addition[]) => void, leaf?: () => void): UnitResult {
  let told = 0;
  const onLeaf = (): void => {
    const a = st.additions ?? [];
    if (a.length > told) early?.(a);
    told = a.length;
    leaf?.();
  };
  const st: Search = startSearch(worlds, { prefix: u.prefix, sleep: new Map(u.sleep), onLeaf, known: u.known, alone: u.alone });
  while (advanceSearch(st) !== null);
  const log = st.candLog ?? [];
  // Each invariant's 16th shortest length offered: nothing longer can be among the 16 kept.
  const cut = new Map<string, number>();
  for (const [invariant, list] of st.cands) cut.set(invariant, list.length >= CANDIDATES ? (list.at(-1) as TaskId[]).length : Infinity);
  return {
    interleavings: st.interleavings,
    sleepSetPruned: st.pruned.sleepSet,
    additions: st.additions ?? [],
    best: [...st.best.values()],
    candidates: log.filter(([invariant, s]) => s.length <= (cut.get(invariant) ?? Infinity)),
  };
}

export type LockOp = { readonly kind: 'acquire'; readonly lock: string; readonly mode: 'r' | 'w'; readonly hold: boolean } | { readonly kind: 'release'; readonly lock: string };

/** Lock acquisitions: the mode, and whether the lock is then held (read_seqbegin only waits out a writer). */
const ACQUIRES = new Map<string, { mode: 'r' | 'w'; hold: boolean }>([
  ['down_read', { mode: 'r', hold: true }],
  ['down_write', { mode: 'w', hold: true }],
  ['mutex_lock', { mode: 'w', hold: true }],
  ['spin_lock_irqsave', { mode: 'w', hold: true }],
  ['write_seqlock', { mode: 'w', hold: true }],
  ['read_seqbegin', { mode: 'r', hold: false }],
]);
const RELEASES = new Set(['up_read', 'up_write', 'mutex_unlock', 'spin_unlock_irqrestore', 'write_sequnlock']);

/** Whether a yield acquires or releases a lock. */
function lockOpOf(y: Yield | null): LockOp | null {
  if (!y || !('lock' in y)) return null;
  const a = ACQUIRES.get(y.op);
  if (a) return { kind: 'acquire', lock: y.lock.name, ...a };
  if (RELEASES.has(y.op)) return { kind: 'release', lock: y.lock.name };
  return null;
}

/** The sleep set after a step: the parent's sleepers and tried siblings whose step commutes with it. */
function childSleep(p: PathStep): Map<TaskId, Footprint> {
  const next = new Map<TaskId, Footprint>();
  // The sleepers, then the tried siblings (the order of [...p.sleep, ...p.done], without making it).
  const add = (f: Footprint, u: TaskId): void => {
    if (u !== p.task && !dependent(f, p.fp)) next.set(u, f);
  };
  p.sleep.forEach(add);
  p.done.forEach(add);
  return next;
}

/** Each task's steps taken so far, less the one just taken by t: the steps left to look at below. */
function stepsLeft(run: Run, t: TaskId, nTasks: number): number[] {
  const left = new Array<number>(nTasks);
  for (let k = 0; k < nTasks; k++) left[k] = (run.steps[k] ?? 0) - (k === t ? 1 : 0);
  return left;
}

/** Where the path reaches depth d below a walker's own branch: that walker. */
function aloneAt(st: Search, d: number): TaskId | undefined {
  if (d === st.base) return st.baseAlone;
  const parent = st.path[d - 1];
  return parent && (parent.alone ?? (parent.solo?.has(parent.task) ? parent.task : undefined));
}

/** The point before a BUG: each walker enabled there, not tried nor asleep, is tried there on its own (extend). */
function soloBranches(at: PathStep, walkers: ReadonlySet<TaskId>): void {
  if (at.alone !== undefined) return;
  for (const u of at.enabled) {
    if (!walkers.has(u) || at.backtrack.has(u) || at.sleep.has(u)) continue;
    (at.solo ??= new Set()).add(u);
    at.backtrack.add(u);
  }
}

/**
 * A race's backtrack point: u tried at q. A walker's branch there that ran (or was to run) on its
 * own is run again in full: a race asks for every order below it.
 */
function addBacktrack(q: PathStep, u: TaskId): void {
  if (q.solo?.delete(u)) q.done.delete(u);
  q.backtrack.add(u);
}

/** Whether a point of the path has a task still to try. */
function untried(at: PathStep): boolean {
  for (const u of at.backtrack) if (!at.done.has(u) && !at.sleep.has(u)) return true;
  return false;
}

/** The tasks of a trace's first d steps. */
function tasksOfTrace(trace: readonly TraceStep[], d: number): TaskId[] {
  const out = new Array<TaskId>(d);
  for (let i = 0; i < d; i++) out[i] = (trace[i] as TraceStep).task;
  return out;
}

/** The tasks of the path's first d steps. */
function tasksOf(path: readonly PathStep[], d: number): TaskId[] {
  const out = new Array<TaskId>(d);
  for (let i = 0; i < d; i++) out[i] = (path[i] as PathStep).task;
  return out;
}

/** What task t's step at depth d is ordered after through t's own earlier steps (its clock before the step). */
function precededBy(path: readonly PathStep[], d: number, t: TaskId, nTasks: number): number[] {
  for (let i = d - 1; i >= 0; i--) if ((path[i] as PathStep).task === t) return (path[i] as PathStep).clock;
  return new Array<number>(nTasks).fill(0);
}
