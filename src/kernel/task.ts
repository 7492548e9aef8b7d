// Kernel operations as tasks: generators that yield wherever another CPU could interleave —
// lock operations, reads and writes of shared state, and measured work. The drivers (run, explore
// and time) decide which task steps next; the task code is the same for all.
import type { Lock, PercpuRwSem, SeqLock, SpinLock, Mutex } from './locks.js';
import type { Zone } from './mmzone.js';

export type Yield =
  | { readonly op: 'down_read'; readonly lock: PercpuRwSem }
  | { readonly op: 'up_read'; readonly lock: PercpuRwSem }
  | { readonly op: 'down_write'; readonly lock: PercpuRwSem }
  | { readonly op: 'up_write'; readonly lock: PercpuRwSem }
  | { readonly op: 'mutex_lock'; readonly lock: Mutex }
  | { readonly op: 'mutex_unlock'; readonly lock: Mutex }
  | { readonly op: 'spin_lock_irqsave'; readonly lock: SpinLock }
  | { readonly op: 'spin_unlock_irqrestore'; readonly lock: SpinLock }
  | { readonly op: 'write_seqlock'; readonly lock: SeqLock }
  | { readonly op: 'write_sequnlock'; readonly lock: SeqLock }
  /** read_seqbegin: the driver resumes the task with the sequence. */
  | { readonly op: 'read_seqbegin'; readonly lock: SeqLock }
  /** read_seqretry: the driver resumes the task with true when it must retry. */
  | { readonly op: 'read_seqretry'; readonly lock: SeqLock; readonly start: number }
  /** might_sleep / cond_resched: a point where the task may schedule. */
  | { readonly op: 'might_sleep'; readonly where: string }
  /**
   * A read or write of shared state another task could see mid-way; `fn`, the kernel function
   * doing it (find_biggest_section_pfn), names the step in explore's traces.
   */
  | { readonly op: 'access'; readonly kind: 'read' | 'write'; readonly what: string; readonly fn?: string }
  /** set_pfnblock_flags_mask on the pageblock at pfn of a page linked to zone (asserts zone_spans_pfn). */
  | { readonly op: 'set_pfnblock_flags'; readonly zone: Zone; readonly pfn: number }
  /** A measured amount of work (the time driver prices it). */
  | { readonly op: 'work'; readonly work: string; readonly nrPages: number; readonly node: number };

/** What the driver resumes a task with: a seqlock sequence or retry answer, else nothing. */
export type Resume = number | boolean | undefined;

export type Task<R = void> = Generator<Yield, R, Resume>;

/** Locks the yield acquires or releases, for checkers. */
export function lockOf(y: Yield): Lock | null {
  return 'lock' in y ? y.lock : null;
}
