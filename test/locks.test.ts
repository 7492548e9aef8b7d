// Lock semantics under the scheduler: percpu_rw_semaphore (a waiting writer blocks new
// readers), seqlock readers retrying across a write, sleeping under a spinlock reported, and
// the run driver's program order.
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/drivers/scheduler.js';
import type { Task } from '../src/kernel/task.js';
import { Mutex, PercpuRwSem, SeqLock, SpinLock } from '../src/kernel/locks.js';

describe('mem_hotplug_lock (percpu_rw_semaphore)', () => {
  it('a waiting writer blocks new readers until it has run', () => {
    const sem = new PercpuRwSem('mem_hotplug_lock');
    const s = new Scheduler();
    function* reader(): Task {
      yield { op: 'down_read', lock: sem };
      yield { op: 'work', work: 'online', nrPages: 1, node: 0 };
      yield { op: 'up_read', lock: sem };
    }
    function* writer(): Task {
      yield { op: 'down_write', lock: sem };
      yield { op: 'access', kind: 'write', what: 'zone span' };
      yield { op: 'up_write', lock: sem };
    }
    const r1 = s.spawn('reader 1', reader());
    const w = s.spawn('writer', writer());
    const r2 = s.spawn('reader 2', reader());
    expect(s.step(r1)).toBe(true); // to down_read
    expect(s.step(r1)).toBe(true); // takes it, to work
    expect(s.step(w)).toBe(true); // to down_write: now waiting
    expect(s.step(w)).toBe(false); // a reader holds it
    expect(s.step(r2)).toBe(true); // to down_read
    expect(s.runnable(r2)).toBe(false); // blocked behind the waiting writer
    expect(s.step(r2)).toBe(false);
    while (!s.isDone(r1)) s.step(r1);
    expect(s.runnable(r2)).toBe(false); // still: the writer goes first
    expect(s.step(w)).toBe(true); // takes the write side
    expect(s.step(r2)).toBe(false);
    while (!s.isDone(w)) s.step(w);
    expect(s.step(r2)).toBe(true);
    expect(sem.readers.has(r2)).toBe(true);
  });
});

describe('zone span seqlock', () => {
  it('a reader retries across a write and waits while one is in progress', () => {
    const seq = new SeqLock('zone->span_seqlock');
    const s = new Scheduler();
    let reads = 0;
    function* reader(): Task<number> {
      for (;;) {
        const start = (yield { op: 'read_seqbegin', lock: seq }) as number;
        reads++;
        yield { op: 'access', kind: 'read', what: 'zone_start_pfn, spanned_pages' };
        const retry = (yield { op: 'read_seqretry', lock: seq, start }) as boolean;
        if (!retry) return start;
      }
    }
    function* writer(): Task {
      yield { op: 'write_seqlock', lock: seq };
      yield { op: 'access', kind: 'write', what: 'spanned_pages' };
      yield { op: 'write_sequnlock', lock: seq };
    }
    const r = s.spawn('reader', reader());
    const w = s.spawn('writer', writer());
    s.step(r); // to read_seqbegin
    s.step(r); // begins at 0, to the read
    s.step(w); // to write_seqlock
    s.step(w); // inside: sequence 1
    s.step(r); // reads, to read_seqretry
    s.step(r); // retry (write in progress), loops to read_seqbegin
    expect(s.runnable(r)).toBe(false); // odd sequence: read_seqbegin waits
    while (!s.isDone(w)) s.step(w);
    while (!s.isDone(r)) expect(s.step(r)).toBe(true);
    expect(reads).toBe(2);
    expect(s.result(r)).toBe(2);
  });
});

describe('might_sleep', () => {
  it("sleeping under pgdat_resize_lock (irq-off spinlock) is reported in the kernel's words", () => {
    const resize = new SpinLock('pgdat_resize_lock');
    const dev = new Mutex('device_hotplug_lock');
    const s = new Scheduler();
    function* bad(): Task {
      yield { op: 'spin_lock_irqsave', lock: resize };
      yield { op: 'might_sleep', where: 'mm/mm_init.c:memmap_init_range (cond_resched)' };
      yield { op: 'spin_unlock_irqrestore', lock: resize };
      yield { op: 'mutex_lock', lock: dev };
      yield { op: 'mutex_unlock', lock: dev };
    }
    s.spawn('bad', bad());
    s.runInOrder();
    expect(s.violations.map((v) => v.message)).toEqual(['BUG: sleeping function called from invalid context at mm/mm_init.c:memmap_init_range (cond_resched)']);
  });

  it('the run driver runs tasks one after another and reports a deadlock in one line', () => {
    const dev = new Mutex('device_hotplug_lock');
    const s = new Scheduler();
    const order: string[] = [];
    function* t(name: string): Task {
      yield { op: 'mutex_lock', lock: dev };
      order.push(name);
      yield { op: 'mutex_unlock', lock: dev };
    }
    s.spawn('a', t('a'));
    s.spawn('b', t('b'));
    s.runInOrder();
    expect(order).toEqual(['a', 'b']);
    const d = new Scheduler();
    function* stuck(): Task {
      yield { op: 'mutex_lock', lock: dev };
      yield { op: 'mutex_lock', lock: dev };
    }
    d.spawn('stuck', stuck());
    expect(() => d.runInOrder()).toThrow(/blocks on mutex_lock of device_hotplug_lock with nothing else to run: deadlock/);
  });

  it('run in order, whole-state checkers run at every lock operation and at one loop-body yield in 64; yield checkers at every yield', () => {
    // A loop of 640 pageblocks as memmap_init_zone_device yields them (flags, work, cond_resched)
    // inside a mutex: 1920 loop-body yields, so the whole-state checker runs 1920 / 64 = 30 times
    // there, plus once at each of the two lock operations; a per-yield checker sees all 1922.
    const lock = new Mutex('device_hotplug_lock');
    let whole = 0;
    let perYield = 0;
    const wholeChecker = Object.assign(() => (whole++, null), { reads: ['zone:'] });
    const yieldChecker = () => (perYield++, null);
    function* loop(): Task {
      yield { op: 'mutex_lock', lock };
      for (let pb = 0; pb < 640; pb++) {
        yield { op: 'work', work: 'memmap-init-zone-device', nrPages: 512, node: 0 };
        yield { op: 'access', kind: 'read', what: `struct page ${pb * 512}` };
        yield { op: 'might_sleep', where: 'memmap_init_zone_device (cond_resched)' };
      }
      yield { op: 'mutex_unlock', lock };
    }
    const s = new Scheduler([wholeChecker, yieldChecker]);
    s.spawn('init', loop());
    s.runInOrder();
    expect(perYield).toBe(1922);
    expect(whole).toBe(32);
    // Stepped one at a time (explore), nothing is sampled.
    whole = 0;
    const e = new Scheduler([wholeChecker]);
    const id = e.spawn('init', loop());
    while (!e.isDone(id)) e.step(id);
    expect(whole).toBe(1922);
  });
});
