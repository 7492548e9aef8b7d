// The explore driver: every interleaving of a set of tasks, each run replayed from a fresh world
// (tasks are generators and cannot be copied), the debug checkers after every step, deadlocks
// (tasks left, none can run) and sleeping under a spinlock. For each invariant it keeps the
// shortest violating schedule (fewest steps; ties broken by the schedule's task ids in order).
// Exhaustive, or bounded by preemptions (a switch away from a task that could have continued),
// or a seeded random sample for large task sets. Not yet: partial-order reduction and state
// hashing (every interleaving is run).
import type { Checker } from './scheduler.js';
import { mightSleepChecker, Scheduler } from './scheduler.js';
import type { Task, Yield } from './task.js';
import type { TaskId } from '../kernel/locks.js';

/** A fresh world: the tasks to interleave and the checkers that judge each step. */
export interface World {
  readonly tasks: readonly { readonly name: string; readonly task: Task<unknown> }[];
  readonly checkers: readonly Checker[];
}

export interface TraceStep {
  readonly task: TaskId;
  readonly name: string;
  /** The yield performed at this step (what the task did: lock op, access, work). */
  readonly op: string;
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
}

export interface ExploreOptions {
  /** At most this many preemptions per interleaving (default: none, all interleavings). */
  readonly preemptionBound?: number;
  /** Random mode: this many interleavings, chosen with `seed`. */
  readonly random?: { readonly runs: number; readonly seed: number };
  /** Stop after this many interleavings (then not exhaustive). */
  readonly maxInterleavings?: number;
}

/** The invariant a violation message belongs to. */
export function invariantOf(message: string): string {
  if (message.startsWith('deadlock')) return 'deadlock';
  if (message.includes('sleeping function called from invalid context')) return 'might_sleep';
  if (message.includes('PagePoisoned')) return 'poisoned struct page read';
  if (message.includes('zone_spans_pfn')) return 'zone_spans_pfn';
  if (/^page 0x[0-9a-f]+ outside node/.test(message)) return 'bad_range';
  if (message.includes('outside node') && message.includes('span')) return 'zone outside node span';
  if (message.includes('page->pgmap')) return 'device page pgmap';
  if (message.includes('present') || message.includes('managed')) return 'page counts';
  return message.split(':')[0] ?? message;
}

function describe(y: Yield | null): string {
  if (y === null) return 'start';
  if ('lock' in y) return `${y.op} ${y.lock.name}`;
  if (y.op === 'access') return `${y.kind} ${y.what}`;
  if (y.op === 'work') return `work ${y.work} ${y.nrPages} pages on node ${y.node}`;
  if (y.op === 'might_sleep') return `might_sleep ${y.where}`;
  return `set_pfnblock_flags_mask pfn 0x${y.pfn.toString(16)} zone ${y.zone.name}`;
}

/** Replay a schedule on a fresh world; what happened and what can run next. */
function replay(make: () => World, schedule: readonly TaskId[]): { s: Scheduler; trace: TraceStep[]; firstViolation: number } {
  const w = make();
  const s = new Scheduler([mightSleepChecker, ...w.checkers]);
  for (const t of w.tasks) s.spawn(t.name, t.task);
  const trace: TraceStep[] = [];
  let firstViolation = -1;
  for (const t of schedule) {
    const op = describe(s.pendingOf(t));
    if (!s.step(t)) throw new Error(`explore: replay diverged: task ${t} cannot run at step ${trace.length + 1}`);
    trace.push({ task: t, name: s.nameOf(t), op });
    if (firstViolation < 0 && s.violations.length) firstViolation = trace.length;
  }
  return { s, trace, firstViolation };
}

/** Replay a saved schedule: its trace and the violations it ends in (the kernel's words). */
export function replaySchedule(make: () => World, schedule: readonly TaskId[]): { trace: TraceStep[]; violations: { invariant: string; message: string }[] } {
  const { s, trace } = replay(make, schedule);
  return { trace, violations: s.violations.map((v) => ({ invariant: invariantOf(v.message), message: v.message })) };
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

/** Explore the interleavings of the world's tasks. */
export function explore(make: () => World, opts: ExploreOptions = {}): ExploreResult {
  const best = new Map<string, ExploreViolation>();
  let interleavings = 0;
  let exhaustive = true;
  const record = (invariant: string, message: string, schedule: readonly TaskId[], trace: readonly TraceStep[]): void => {
    const old = best.get(invariant);
    if (!old || schedule.length < old.schedule.length || (schedule.length === old.schedule.length && lexLess(schedule, old.schedule))) {
      best.set(invariant, { invariant, message, schedule: [...schedule], trace: [...trace] });
    }
  };
  // Depth-first over schedules; `choose` picks the children of a point (all enabled tasks, one
  // random one); a child that switches away from a task that could continue is a preemption.
  const bound = opts.preemptionBound ?? Infinity;
  let bounded = false;
  const finish = (choose: (enabled: TaskId[]) => TaskId[]): void => {
    const stack: { schedule: TaskId[]; pre: number }[] = [{ schedule: [], pre: 0 }];
    while (stack.length) {
      if (opts.maxInterleavings !== undefined && interleavings >= opts.maxInterleavings) {
        exhaustive = false;
        return;
      }
      const top = stack.pop() as { schedule: TaskId[]; pre: number };
      const schedule = [...top.schedule];
      let pre = top.pre;
      // Replay the prefix once, then follow the first choice down to a leaf in the same run,
      // leaving the other choices on the stack: one replay per interleaving.
      const { s, trace, firstViolation } = replay(make, schedule);
      let violationAt = firstViolation;
      for (;;) {
        if (violationAt >= 0) {
          for (const v of s.violations) record(invariantOf(v.message), v.message, schedule.slice(0, violationAt), trace.slice(0, violationAt));
          interleavings++;
          break;
        }
        const enabled = runnableTasks(s);
        if (!enabled.length) {
          interleavings++;
          const stuck: TaskId[] = [];
          for (let t = 0; t < s.taskCount; t++) if (!s.isDone(t)) stuck.push(t);
          if (stuck.length) record('deadlock', `deadlock: ${stuck.map((t) => `${s.nameOf(t)} waits at ${describe(s.pendingOf(t))}`).join('; ')}`, schedule, trace);
          break;
        }
        const last = schedule[schedule.length - 1];
        const children = choose(enabled).map((t) => ({ t, pre: pre + (last !== undefined && t !== last && enabled.includes(last) ? 1 : 0) }));
        const kept = children.filter((c) => c.pre <= bound);
        if (kept.length < children.length) bounded = true;
        if (!kept.length) {
          interleavings++;
          break;
        }
        // Push the alternatives in reverse so the lowest task id is explored first (the tie-break order).
        for (let i = kept.length - 1; i >= 1; i--) stack.push({ schedule: [...schedule, (kept[i] as { t: TaskId }).t], pre: (kept[i] as { pre: number }).pre });
        const first = kept[0] as { t: TaskId; pre: number };
        const op = describe(s.pendingOf(first.t));
        s.step(first.t);
        schedule.push(first.t);
        trace.push({ task: first.t, name: s.nameOf(first.t), op });
        pre = first.pre;
        if (s.violations.length) violationAt = schedule.length;
      }
    }
  };
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
    return { interleavings, exhaustive: false, violations: [...best.values()].sort((a, b) => a.invariant.localeCompare(b.invariant)) };
  }
  finish((enabled) => enabled);
  if (bounded) exhaustive = false;
  return { interleavings, exhaustive, violations: [...best.values()].sort((a, b) => a.invariant.localeCompare(b.invariant)) };
}
