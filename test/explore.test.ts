// The explore driver on hand-made task sets: the number of interleavings it runs equals the
// combinatorial count, a planted lock-order inversion is found as a deadlock, sleeping under a
// spinlock is found, the shortest schedule is kept, and the seeded random mode repeats itself.
import { describe, expect, it } from 'vitest';
import { explore, type ExploreResult, type MakeWorld, type World } from '../src/drivers/explore.js';
import type { Task } from '../src/kernel/task.js';
import { Mutex, SpinLock } from '../src/kernel/locks.js';
import { devicePageChecker, memoizedChecker, poisonedReadChecker, type Checker } from '../src/kernel/debug.js';
import { builtinWorld } from '../src/drivers/scenario_world.js';
import { Scheduler } from '../src/drivers/scheduler.js';
import type { Machine } from '../src/kernel/machine.js';
import { pfnFirst, type DevPagemap } from '../src/kernel/dev_pagemap.js';
import { dependent, Recorder, type Footprint } from '../src/drivers/footprint.js';

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

describe('whole-state checkers run once per state (memoizedChecker)', () => {
  const none = { holdsSpinlock: () => false };
  const y = { op: 'might_sleep' as const, where: 'test' };
  it('a checker with a state key runs once per key, answering for the task that asks; without a key every time', () => {
    let key: string | null = 'a';
    let calls = 0;
    const c: Checker = Object.assign((_s: unknown, task: number) => (calls++, { task, message: `seen ${key}` }), { reads: ['x'], stateKey: () => key });
    const m = memoizedChecker(c);
    expect(m.reads).toEqual(['x']);
    expect([m(none, 0, y), m(none, 1, y), calls]).toEqual([{ task: 0, message: 'seen a' }, { task: 1, message: 'seen a' }, 1]);
    key = 'b';
    expect([m(none, 2, y), calls]).toEqual([{ task: 2, message: 'seen b' }, 2]);
    key = null;
    m(none, 2, y);
    m(none, 2, y);
    expect(calls).toBe(4);
    const plain: Checker = () => null;
    expect(memoizedChecker(plain)).toBe(plain);
  });

  it("devicePageChecker memoized answers as the plain one: after A's memmap_init_zone_device, after a struct page of A is overwritten, after A dies", () => {
    const w = builtinWorld({ scenario: 'seed-2019', design: 'v5.3' });
    const m = w.machine as Machine;
    const plain = devicePageChecker(m);
    const memo = memoizedChecker(plain);
    const both = (): [unknown, unknown] => [memo(none, 0, y), plain(none, 0, y)];
    const s = new Scheduler([]);
    s.spawn('A', (w.tasks[0] as World['tasks'][number]).task);
    expect(both()).toEqual([null, null]);
    while (s.runnable(0)) {
      s.step(0);
      const [a, b] = both();
      expect(a).toEqual(b);
    }
    const p = m.pgmaps.find((x) => x.live && x.initialisedTo > 0) as DevPagemap;
    const pfn = pfnFirst(p, m.pageBytes);
    // page->pgmap (the word pair after flags) cleared on A's first device page: both see it.
    m.store.setWordsRange(pfn, pfn + 1, [
      [2, 0],
      [3, 0],
    ]);
    const [a, b] = both();
    expect(a).toEqual(b);
    expect((a as { message: string } | null)?.message).toMatch(new RegExp(`pfn:0x${pfn.toString(16)} of ${p.name} has page->pgmap 0x0, not 0x`));
    p.live = false;
    expect(both()).toEqual([null, null]);
  });
});

describe("a pgmap's fields as footprint resources", () => {
  it("pgmap_pfn_valid's read of nr_range is dependent with memremap_pages raising it, and independent of the init loop's progress", () => {
    const rec = new Recorder();
    const p = { name: 'pmem0', live: true, initialisedTo: 0, nid: 0, nrRange: 0 } as unknown as DevPagemap;
    rec.instrumentPgmap(p);
    const step = (fn: () => void): Footprint => {
      rec.begin();
      fn();
      return rec.end().fp;
    };
    const lookup = step(() => void (p.live && p.nrRange)); // memory_failure: get_dev_pagemap, then pgmap_pfn_valid
    const raise = step(() => (p.nrRange = 1)); // memremap_pages after pagemap_range
    const progress = step(() => (p.initialisedTo = 512)); // memmap_init_zone_device's loop
    expect(dependent(lookup, raise)).toBe(true);
    expect(dependent(lookup, progress)).toBe(false);
  });
});

describe("a pageblock's first struct page's state as a footprint resource (pagecat)", () => {
  it('stateOf of it reads only the state: a write that leaves the state as it was commutes with it, one that changes it does not', () => {
    const rec = new Recorder();
    const m = rec.instrument(builtinWorld({ scenario: 'seed-2019', design: 'v5.3' }).machine as Machine);
    const pb = m.state.sparse.pageblockNrPages;
    const pfn = 0x10000; // RAM, initialised at boot
    const step = (fn: () => void): Footprint => {
      rec.begin();
      fn();
      return rec.end().fp;
    };
    const look = step(() => void m.store.stateOf(pfn));
    const rest = step(() => m.store.poisonRange(pfn + 1, pfn + pb)); // the pageblock's other pages
    const poison = step(() => m.store.poisonRange(pfn, pfn + pb));
    const again = step(() => m.store.poisonRange(pfn, pfn + pb)); // poisoned already
    const init = step(() => m.store.zeroRange(pfn, pfn + pb));
    expect([...look]).toEqual([[`pagecat:${pfn / pb}`, 'r']]);
    expect(rest.get(`memmap:${pfn / pb}`)).toBe('w');
    expect([dependent(look, rest), dependent(look, poison), dependent(look, again), dependent(look, init)]).toEqual([false, true, false, true]);
  });
});

describe("a blind struct page read (a walker's) is judged over its window", () => {
  // One pageblock of RAM (initialised at boot); the writer poisons it (page_init_poison) and then
  // zeroes it, two steps; the reader reads its first struct page once and looks at nothing it read.
  // The read breaks the poisoned-read check only between the two writes. DPOR leaves the read out
  // of the footprints (one interleaving: every step commutes), so only the window check can find
  // it; sleep sets with state hashing order the read against both writes (pagecat) and run them all.
  const world =
    (readerFirst: boolean, pgflags: boolean): MakeWorld =>
    (ctx) => {
      const m = builtinWorld({ scenario: 'seed-2019', design: 'v5.3' }).machine as Machine;
      const mm = ctx.recorder ? ctx.recorder.instrument(m) : m;
      const pb = m.state.sparse.pageblockNrPages;
      const pfn = 0x10000;
      function* writer(): Task<number> {
        yield { op: 'might_sleep', where: 'before page_init_poison' };
        mm.store.poisonRange(pfn, pfn + pb);
        yield { op: 'might_sleep', where: 'before the init' };
        mm.store.zeroRange(pfn, pfn + pb);
        return 0;
      }
      function* reader(): Task<number> {
        yield { op: 'access', kind: 'read', what: `struct page ${pfn}`, blind: true };
        return 0;
      }
      const r = { name: 'reader', task: reader() };
      const w = { name: 'writer', task: writer() };
      return { tasks: readerFirst ? [r, w] : [w, r], checkers: [poisonedReadChecker(m, pgflags)] };
    };
  const summary = (x: ExploreResult): [string, string][] => x.violations.map((v) => [v.invariant, v.schedule.join('')]);
  it.each([
    // Writer first (task 0): DPOR's one run reads after both writes; the window check finds the
    // place between them at the read (writer, writer, then the reader's two steps).
    [false, false, '0011'],
    [false, true, '0011'],
    // Reader first: DPOR's one run reads before both writes; the window check finds the place
    // after the poisoning at that write (reader's start, writer's two steps, the read).
    [true, false, '0110'],
    [true, true, '0110'],
  ])('reader first %s, PGFLAGS %s: the read between the writes, %s', (readerFirst, pgflags, schedule) => {
    const dpor = explore(world(readerFirst, pgflags));
    const sleep = explore(world(readerFirst, pgflags), { reduce: 'sleep' });
    const invariant = 'poisoned struct page read (reader)';
    expect(summary(dpor)).toEqual([[invariant, schedule]]);
    expect(summary(sleep)).toEqual([[invariant, schedule]]);
    expect(dpor.interleavings).toBeLessThan(sleep.interleavings);
    expect(dpor.violations[0]?.trace.at(-1)).toMatchObject({ name: 'reader', op: 'read struct page 0x10000' });
  });
});
