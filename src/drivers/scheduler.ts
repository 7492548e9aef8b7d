// A deterministic scheduler over tasks: it applies each yield's lock semantics, blocks a task
// whose lock is not available, and calls the checkers after every step. The run driver steps
// tasks in program order; explore enumerates orders over the same scheduler, and the time driver
// steps the task whose simulated clock is earliest.
import type { Task, Yield, Resume } from '../kernel/task.js';
import { LockMisuse, PercpuRwSem, SeqLock, type Lock, type Mutex, type SpinLock, type TaskId } from '../kernel/locks.js';
import type { Footprint, Recorder } from './footprint.js';
import { mightSleepChecker, type Checker, type LockInspector, type Violation } from '../kernel/debug.js';

interface Entry {
  readonly id: TaskId;
  readonly name: string;
  readonly task: Task<unknown>;
  /** The yield the task is stopped at (not yet performed), or null before its first step. */
  pending: Yield | null;
  resume: Resume;
  done: boolean;
  result: unknown;
  /** Locks held, for might_sleep checks: spinlocks by name. */
  readonly spinlocks: Set<string>;
  /** Loop-body yields of this task so far (runInOrder's sampling of whole-state checkers). */
  quiet: number;
}

/** runInOrder runs the whole-state checkers at one loop-body yield (LOOP_OPS) in this many, the first of a task included (see step). */
const WHOLE_STATE_EVERY = 64;
const LOOP_OPS: ReadonlySet<Yield['op']> = new Set(['work', 'set_pfnblock_flags', 'might_sleep', 'access']);

const NO_CHECKERS: readonly Checker[] = [];

/**
 * What the checkers that fired at a step read, run again under the recorder. A function of its
 * own: a closure in Scheduler.step would make every step (quiet replays included) allocate the
 * variables it captures.
 */
function captureReads(rec: Recorder, fired: readonly Checker[], s: LockInspector, t: TaskId, y: Yield): Footprint {
  return rec.capture(() => fired.forEach((c) => (c.capture ?? c)(s, t, y)));
}

export class Scheduler implements LockInspector {
  /** Set by runInOrder: tasks run one after another, so whole-state checks may be sampled. */
  private sequential = false;
  private readonly tasks: Entry[] = [];
  readonly violations: Violation[] = [];
  /** Steps taken: (task, yield op) in order. */
  readonly trace: { task: TaskId; op: string }[] = [];

  /** The footprint and observations of the last step, when a recorder watches the world. */
  lastStep: { fp: Footprint; obs: string; checked?: Footprint } | null = null;

  constructor(
    private readonly checkers: readonly Checker[] = [mightSleepChecker],
    private readonly recorder: Recorder | null = null,
    /** Keep `trace` (false: the time driver, whose millions of steps nobody reads back). */
    private readonly keepTrace = true,
  ) {}

  spawn(name: string, task: Task<unknown>): TaskId {
    const id = this.tasks.length;
    this.tasks.push({ id, name, task, pending: null, resume: undefined, done: false, result: undefined, spinlocks: new Set(), quiet: 0 });
    return id;
  }

  /** Number of tasks spawned. */
  get taskCount(): number {
    return this.tasks.length;
  }

  /** The task's name. */
  nameOf(t: TaskId): string {
    return this.tasks[t]?.name ?? `task ${t}`;
  }

  /** The yield the task is stopped at (null before its first step or when done). */
  pendingOf(t: TaskId): Yield | null {
    return this.tasks[t]?.pending ?? null;
  }

  holdsSpinlock(t: TaskId): boolean {
    return (this.tasks[t]?.spinlocks.size ?? 0) > 0;
  }

  isDone(t: TaskId): boolean {
    return this.tasks[t]?.done ?? true;
  }

  result(t: TaskId): unknown {
    return this.tasks[t]?.result;
  }

  /** Whether the task can make progress now (its pending yield can be performed). */
  runnable(t: TaskId): boolean {
    const e = this.tasks[t];
    if (!e || e.done) return false;
    return e.pending === null || this.canPerform(e.id, e.pending);
  }

  private canPerform(t: TaskId, y: Yield): boolean {
    switch (y.op) {
      case 'down_read':
        return y.lock.writer === null && y.lock.waitingWriters.length === 0;
      case 'down_write':
        return y.lock.writer === null && y.lock.readers.size === 0 && (y.lock.waitingWriters.length === 0 || y.lock.waitingWriters[0] === t);
      case 'mutex_lock':
      case 'spin_lock_irqsave':
        return y.lock.owner === null;
      case 'write_seqlock':
        return y.lock.writer === null;
      case 'read_seqbegin':
        return y.lock.sequence % 2 === 0;
      default:
        return true;
    }
  }

  /**
   * Perform the task's pending yield (if it can) and run it to its next yield. False if blocked.
   * Quiet: no checkers and no recording (the explore driver replaying steps it has judged and
   * recorded before, in a world put back as it was).
   */
  step(t: TaskId, quiet = false): boolean {
    const e = this.tasks[t];
    if (!e || e.done) return false;
    const rec = quiet ? null : this.recorder;
    let checked: Footprint | undefined;
    rec?.begin();
    if (e.pending !== null) {
      const y = e.pending;
      rec?.yieldFootprint(y);
      // A writer announces itself even while it waits, so new readers block behind it.
      if (y.op === 'down_write' && !y.lock.waitingWriters.includes(t)) y.lock.waitingWriters.push(t);
      let performed: boolean;
      try {
        performed = this.perform(e, y);
      } catch (err) {
        // Thrown into the task, so that the code that yielded it answers for it: a design file's
        // step turns it into that file's error (designs.ts guardedStep); the model's own stays a bug.
        if (err instanceof LockMisuse) e.task.throw(err);
        throw err;
      }
      if (!performed) {
        rec?.end();
        return false;
      }
      if (this.keepTrace) this.trace.push({ task: t, op: y.op });
      rec?.pause();
      let fired: Checker[] | null = null;
      // Run in order (one task at a time, nothing interleaves), the yields of a loop body (work,
      // pageblock flags, cond_resched, struct page reads) are sampled for the whole-state checkers:
      // they read every block, zone or pgmap, and the loop over the pageblocks of a 92 GiB
      // namespace yields 3 x 47104 times. A state they judge wrong stays wrong until a later step
      // of the same task changes it, and lock operations still run them every time. explore and
      // the time driver never set `sequential`.
      const sampled = this.sequential && LOOP_OPS.has(y.op) && e.quiet++ % WHOLE_STATE_EVERY !== 0;
      const checkers = quiet ? NO_CHECKERS : this.checkers;
      for (let k = 0; k < checkers.length; k++) {
        const c = checkers[k] as Checker;
        if (sampled && c.reads) continue;
        const v = c(this, t, y);
        if (v) {
          this.violations.push(c.reads ? { ...v, whole: true } : v);
          (fired ??= []).push(c);
        }
      }
      rec?.resume();
      // Run the checkers that fired again, recording what they read (they only read).
      if (rec && fired) checked = captureReads(rec, fired, this, t, y);
    }
    const r = e.task.next(e.resume);
    if (rec) this.lastStep = { ...rec.end(), ...(checked ? { checked } : {}) };
    else if (quiet) this.lastStep = null;
    e.resume = undefined;
    if (r.done) {
      e.done = true;
      e.result = r.value;
      e.pending = null;
    } else {
      e.pending = r.value;
      // Announce a waiting writer at once: percpu_down_write sets the writer-pending state
      // before waiting for readers to drain.
      if (r.value.op === 'down_write' && !r.value.lock.waitingWriters.includes(t)) r.value.lock.waitingWriters.push(t);
    }
    return true;
  }

  /** The locks the task holds now, by name ("(read)" for a shared hold). */
  heldBy(t: TaskId): string[] {
    const out: string[] = [];
    for (const l of this.locksSeen) {
      if (l instanceof PercpuRwSem) {
        if (l.writer === t) out.push(l.name);
        else if (l.readers.has(t)) out.push(`${l.name} (read)`);
      } else if (l instanceof SeqLock) {
        if (l.writer === t) out.push(l.name);
      } else if ((l as Mutex | SpinLock).owner === t) out.push(l.name);
    }
    return out;
  }

  private readonly locksSeen = new Set<Lock>();

  private perform(e: Entry, y: Yield): boolean {
    const t = e.id;
    if ('lock' in y) this.locksSeen.add(y.lock);
    switch (y.op) {
      case 'down_read':
        return y.lock.tryRead(t);
      case 'up_read':
        y.lock.upRead(t);
        return true;
      case 'down_write':
        return y.lock.tryWrite(t);
      case 'up_write':
        y.lock.upWrite(t);
        return true;
      case 'mutex_lock':
        return y.lock.tryLock(t);
      case 'mutex_unlock':
        y.lock.unlock(t);
        return true;
      case 'spin_lock_irqsave':
        if (!y.lock.tryLock(t)) return false;
        e.spinlocks.add(y.lock.name);
        return true;
      case 'spin_unlock_irqrestore':
        y.lock.unlock(t);
        e.spinlocks.delete(y.lock.name);
        return true;
      case 'write_seqlock':
        // write_seqlock takes the seqlock's spinlock: no sleeping until write_sequnlock.
        if (!y.lock.tryWrite(t)) return false;
        e.spinlocks.add(y.lock.name);
        return true;
      case 'write_sequnlock':
        y.lock.writeUnlock(t);
        e.spinlocks.delete(y.lock.name);
        return true;
      case 'read_seqbegin': {
        const seq = y.lock.tryReadBegin();
        if (seq === null) return false;
        e.resume = seq;
        return true;
      }
      case 'read_seqretry':
        e.resume = y.lock.readRetry(y.start);
        return true;
      default:
        return true;
    }
  }

  /** The run driver: tasks one after another in program order, each to completion. */
  runInOrder(): void {
    this.sequential = true;
    try {
      for (const e of this.tasks) {
        while (!e.done) {
          if (!this.step(e.id)) {
            throw new Error(`run: task ${e.id} (${e.name}) blocks on ${e.pending?.op} of ${e.pending && 'lock' in e.pending ? e.pending.lock.name : '?'} with nothing else to run: deadlock`);
          }
        }
      }
    } finally {
      this.sequential = false;
    }
  }
}
