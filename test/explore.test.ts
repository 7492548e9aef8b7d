// The explore driver on hand-made task sets: the number of interleavings it runs equals the
// combinatorial count, a planted lock-order inversion is found as a deadlock, sleeping under a
// spinlock is found, the shortest schedule is kept, and the seeded random mode repeats itself.
import { describe, expect, it } from 'vitest';
import { explore, type World } from '../src/drivers/explore.js';
import type { Task } from '../src/kernel/task.js';
import { Mutex, SpinLock } from '../src/kernel/locks.js';

/** A task of k yields that touch nothing shared: k + 1 scheduler steps. */
function* steps(k: number): Task<number> {
  for (let i = 0; i < k; i++) yield { op: 'might_sleep', where: `step ${i}` };
  return 0;
}

const binom = (n: number, k: number): number => (k === 0 ? 1 : (binom(n - 1, k - 1) * n) / k);

describe('explore', () => {
  it('runs every interleaving: (a+b)! / (a! b!) for two tasks of a and b steps, the multinomial for three', () => {
    for (const [a, b] of [
      [1, 1],
      [2, 3],
      [4, 4],
    ] as const) {
      const r = explore((): World => ({
        tasks: [
          { name: 'A', task: steps(a - 1) },
          { name: 'B', task: steps(b - 1) },
        ],
        checkers: [],
      }));
      expect(r.interleavings, `${a},${b}`).toBe(binom(a + b, a));
      expect(r.exhaustive).toBe(true);
      expect(r.violations).toEqual([]);
    }
    const three = explore((): World => ({
      tasks: [
        { name: 'A', task: steps(1) },
        { name: 'B', task: steps(1) },
        { name: 'C', task: steps(2) },
      ],
      checkers: [],
    }));
    expect(three.interleavings).toBe(210); // 7! / (2! 2! 3!)
  });

  it('finds a planted lock-order inversion as a deadlock, with the shortest schedule', () => {
    const make = (): World => {
      const a = new Mutex('lock A');
      const b = new Mutex('lock B');
      // Each task takes both locks, in opposite orders.
      function* lockPair(first: Mutex, second: Mutex): Task<number> {
        yield { op: 'mutex_lock', lock: first };
        yield { op: 'mutex_lock', lock: second };
        yield { op: 'mutex_unlock', lock: second };
        yield { op: 'mutex_unlock', lock: first };
        return 0;
      }
      const t1 = (): Task<number> => lockPair(a, b);
      const t2 = (): Task<number> => lockPair(b, a);
      return {
        tasks: [
          { name: 'T1', task: t1() },
          { name: 'T2', task: t2() },
        ],
        checkers: [],
      };
    };
    const r = explore(make);
    const d = r.violations.find((v) => v.invariant === 'deadlock');
    expect(d?.message).toBe('deadlock: T1 waits at mutex_lock lock B; T2 waits at mutex_lock lock A');
    // Start both (2 steps), then each takes its first lock (2 steps): the shortest way in.
    expect(d?.schedule).toEqual([0, 0, 1, 1]);
    expect(d?.trace.map((s) => `${s.name}: ${s.op}`)).toEqual(['T1: start', 'T1: mutex_lock lock A', 'T2: start', 'T2: mutex_lock lock B']);
    // One preemption is enough to deadlock; with none the tasks run one after the other.
    expect(explore(make, { preemptionBound: 0 }).violations).toEqual([]);
    expect(explore(make, { preemptionBound: 1 }).violations.map((v) => v.invariant)).toEqual(['deadlock']);
  });

  it("finds sleeping under a spinlock in the kernel's words", () => {
    const make = (): World => {
      const s = new SpinLock('node 0 pgdat_resize_lock');
      function* t(): Task<number> {
        yield { op: 'spin_lock_irqsave', lock: s };
        yield { op: 'might_sleep', where: 'memmap_init_range (cond_resched)' };
        yield { op: 'spin_unlock_irqrestore', lock: s };
        return 0;
      }
      return {
        tasks: [
          { name: 'T', task: t() },
          { name: 'U', task: steps(1) },
        ],
        checkers: [],
      };
    };
    const r = explore(make);
    expect(r.violations.map((v) => [v.invariant, v.message])).toEqual([['might_sleep', 'BUG: sleeping function called from invalid context at memmap_init_range (cond_resched)']]);
    expect(r.violations[0]?.schedule).toEqual([0, 0, 0]);
  });

  it('random mode: the same seed gives the same result; a cap makes a search non-exhaustive', () => {
    const make = (): World => ({
      tasks: [
        { name: 'A', task: steps(5) },
        { name: 'B', task: steps(5) },
      ],
      checkers: [],
    });
    const a = explore(make, { random: { runs: 20, seed: 7 } });
    expect(a).toEqual(explore(make, { random: { runs: 20, seed: 7 } }));
    expect(a).toMatchObject({ interleavings: 20, exhaustive: false });
    expect(explore(make, { maxInterleavings: 10 })).toMatchObject({ interleavings: 10, exhaustive: false });
  });
});
