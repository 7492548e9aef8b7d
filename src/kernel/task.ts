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
   * doing it (find_biggest_section_pfn), names the step in explore's traces. `blind`: a read of a
   * struct page whose task never looks at what it read (a pfn walker's): only the debug checkers
   * judge it, by the page's state (poisoned, initialised), so explore orders it only against the
   * writes that change that state.
   */
  | { readonly op: 'access'; readonly kind: 'read' | 'write'; readonly what: string; readonly fn?: string; readonly blind?: boolean }
  /**
   * set_pfnblock_flags_mask on the pageblock at pfn of a page linked to zone (asserts
   * zone_spans_pfn); with nr, on the nr pageblocks pfn, pfn + stride, ... one after another with
   * nothing between them (a loop over a TiB of compound pages, one yield per chunk).
   */
  | { readonly op: 'set_pfnblock_flags'; readonly zone: Zone; readonly pfn: number; readonly nr?: number; readonly stride?: number }
  /** A measured amount of work (the time driver prices it). */
  | { readonly op: 'work'; readonly work: string; readonly nrPages: number; readonly node: number };

/** What the driver resumes a task with: a seqlock sequence or retry answer, else nothing. */
export type Resume = number | boolean | undefined;

export type Task<R = void> = Generator<Yield, R, Resume>;

/** The pfns of a set_pfnblock_flags yield, in order: pfn, pfn + stride, ... (nr of them, 1 when absent). */
export function pageblockPfns(y: Extract<Yield, { op: 'set_pfnblock_flags' }>): { first: number; nr: number; stride: number } {
  return { first: y.pfn, nr: y.nr ?? 1, stride: y.stride ?? 1 };
}

/** The pageblock starts (multiples of pb) in [start, end) as one set_pfnblock_flags yield of zone, or null when there are none. */
export function pageblocksIn(zone: Zone, start: number, end: number, pb: number): Extract<Yield, { op: 'set_pfnblock_flags' }> | null {
  const first = Math.ceil(start / pb) * pb;
  if (first >= end) return null;
  const nr = Math.floor((end - 1 - first) / pb) + 1;
  return nr === 1 ? { op: 'set_pfnblock_flags', zone, pfn: first } : { op: 'set_pfnblock_flags', zone, pfn: first, nr, stride: pb };
}

/** The first pfn of a set_pfnblock_flags yield outside [lo, hi), or null. */
export function pageblockPfnOutside(y: Extract<Yield, { op: 'set_pfnblock_flags' }>, lo: number, hi: number): number | null {
  const { first, nr, stride } = pageblockPfns(y);
  if (nr <= 0) return null;
  if (first < lo || first >= hi) return first;
  // Increasing pfns from inside the range: the first at or past hi, if any.
  const k = Math.ceil((hi - first) / stride);
  return k < nr ? first + k * stride : null;
}

/** Locks the yield acquires or releases, for checkers. */
export function lockOf(y: Yield): Lock | null {
  return 'lock' in y ? y.lock : null;
}
