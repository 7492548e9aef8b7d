// The locks around memory hotplug, with their kernel semantics, as state the drivers step:
// mem_hotplug_lock (a percpu rw-semaphore: a writer waiting blocks new readers), device_hotplug_lock
// (a mutex), the zone span seqlock (writers bump the sequence; readers retry across a write) and
// pgdat_resize_lock (an irq-off spinlock: no sleeping while held). Leaves out lockdep classes
// and the percpu counters' per-CPU split (their observable rule is modelled).

export type TaskId = number;

/** A task released a lock it does not hold: a bug in the code the task runs (the model's, or a design file's step). */
export class LockMisuse extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockMisuse';
  }
}

export type LockKind = 'percpu-rwsem' | 'mutex' | 'seqlock' | 'spinlock';

export interface Lock {
  readonly name: string;
  readonly kind: LockKind;
}

/** percpu_rw_semaphore (kernel/locking/percpu-rwsem.c). */
export class PercpuRwSem implements Lock {
  readonly kind = 'percpu-rwsem' as const;
  readonly readers = new Set<TaskId>();
  writer: TaskId | null = null;
  /** Writers waiting, in arrival order; while one waits, percpu_down_read blocks. */
  readonly waitingWriters: TaskId[] = [];
  constructor(readonly name: string) {}

  /** percpu_down_read: granted unless a writer holds it or waits for it. */
  tryRead(t: TaskId): boolean {
    if (this.writer !== null || this.waitingWriters.length > 0) return false;
    this.readers.add(t);
    return true;
  }

  upRead(t: TaskId): void {
    if (!this.readers.delete(t)) throw new LockMisuse(`${this.name}: percpu_up_read by task ${t} that does not hold it`);
  }

  /** percpu_down_write: queue, then granted when no reader or writer holds it and it is first in line. */
  tryWrite(t: TaskId): boolean {
    if (!this.waitingWriters.includes(t)) this.waitingWriters.push(t);
    if (this.writer !== null || this.readers.size > 0 || this.waitingWriters[0] !== t) return false;
    this.waitingWriters.shift();
    this.writer = t;
    return true;
  }

  upWrite(t: TaskId): void {
    if (this.writer !== t) throw new LockMisuse(`${this.name}: percpu_up_write by task ${t} that does not hold it`);
    this.writer = null;
  }
}

/** A lock with one owner at a time (the common part of a mutex and a spinlock). */
abstract class OwnedLock {
  owner: TaskId | null = null;
  constructor(
    readonly name: string,
    private readonly unlockName: string,
  ) {}

  tryLock(t: TaskId): boolean {
    if (this.owner !== null) return false;
    this.owner = t;
    return true;
  }

  unlock(t: TaskId): void {
    if (this.owner !== t) throw new LockMisuse(`${this.name}: ${this.unlockName} by task ${t} that does not own it`);
    this.owner = null;
  }
}

/** struct mutex (sleeps while waiting). */
export class Mutex extends OwnedLock implements Lock {
  readonly kind = 'mutex' as const;
  constructor(name: string) {
    super(name, 'mutex_unlock');
  }
}

/** spinlock_t taken with spin_lock_irqsave (pgdat_resize_lock): no sleeping while held. */
export class SpinLock extends OwnedLock implements Lock {
  readonly kind = 'spinlock' as const;
  constructor(name: string) {
    super(name, 'spin_unlock');
  }
}

/** seqlock_t (zone->span_seqlock): sequence is odd while a writer is inside. */
export class SeqLock implements Lock {
  readonly kind = 'seqlock' as const;
  sequence = 0;
  writer: TaskId | null = null;
  constructor(readonly name: string) {}

  /** write_seqlock: exclusive among writers; the sequence becomes odd. */
  tryWrite(t: TaskId): boolean {
    if (this.writer !== null) return false;
    this.writer = t;
    this.sequence++;
    return true;
  }

  writeUnlock(t: TaskId): void {
    if (this.writer !== t) throw new LockMisuse(`${this.name}: write_sequnlock by task ${t} that does not hold it`);
    this.sequence++;
    this.writer = null;
  }

  /** read_seqbegin: waits while a write is in progress, then returns the (even) sequence. */
  tryReadBegin(): number | null {
    return this.sequence % 2 === 1 ? null : this.sequence;
  }

  /** read_seqretry: true when a write happened since `start`. */
  readRetry(start: number): boolean {
    return this.sequence !== start;
  }
}

/** The hotplug locks of one machine. */
export interface HotplugLocks {
  readonly memHotplugLock: PercpuRwSem;
  readonly deviceHotplugLock: Mutex;
}

export function hotplugLocks(): HotplugLocks {
  return { memHotplugLock: new PercpuRwSem('mem_hotplug_lock'), deviceHotplugLock: new Mutex('device_hotplug_lock') };
}
