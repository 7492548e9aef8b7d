// One explore search across worker threads (explore_jobs.ts): cut into units at any depth, the
// DPOR search is the sequential one — the same interleavings, pruning counts, violations and
// shortest traces, tie-breaks included — whether the units run in turn on this thread or ahead
// of their turn on worker threads; a worker that throws is an error, not a crash, and leaves no
// thread behind; Ctrl-C ends the CLI as it did with one thread. The worker threads run the built
// dist/drivers/explore_worker.js (npm run build first, as for lab_server.test.ts).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explore } from '../src/drivers/explore.js';
import { MessageChannel, Worker } from 'node:worker_threads';
import {
  checkDesignDeterministic,
  exploreInUnits,
  exploreJobs,
  makeWorldOf,
  worldOfSpec,
  type ExploreWorldSpec,
  type WorkerJob,
  type WorkerReply,
  type WorkerStart,
} from '../src/drivers/explore_jobs.js';
import { loadDesignFile } from '../src/designs/designs.js';
import { cliPath, mask, root } from './helpers.js';

const spec = (scenario: string, design: string, walkers: ExploreWorldSpec['walkers'] = []): ExploreWorldSpec => ({ scenario, design, config: 'debug_vm', walkers });
/** The result without the fields only a split search has. */
const plain = <T extends { jobs?: number; units?: unknown }>(r: T): Omit<T, 'jobs' | 'units'> => {
  const { jobs: _j, units: _u, ...rest } = r;
  return rest;
};
/** Threads of this process now (Linux), or null. */
const threads = (): number | null => {
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  } catch {
    return null;
  }
};

// Small searches (under 40 interleavings each) with violations of several invariants, none, walkers and a second scenario.
const SMALL: ExploreWorldSpec[] = [
  spec('seed-2019', 'v4.19'),
  spec('seed-2019', 'serialize'),
  spec('seed-2019', 'seqlock'),
  spec('seed-2019', '6.1'),
  spec('seed-2019-subsection', 'serialize'),
  spec('seed-2019-hotplug', 'v5.3'),
  spec('seed-2019', 'serialize', ['compaction']),
  // A walker behind memunmap B's BUG at step 2 (PGFLAGS): its own branches before the BUG, some above a unit.
  { scenario: 'seed-2019', design: 'v5.3', config: 'debug_vm_pgflags', walkers: ['kpageflags'] },
];

describe('explore --jobs: one search split into units', () => {
  it('run in turn on this thread, a search cut at any depth is the sequential search, field for field', async () => {
    for (const s of SMALL) {
      const make = await worldOfSpec(s);
      const whole = explore(make);
      expect(whole.exhaustive).toBe(true);
      for (const split of [1, 2, 5, 12, 40]) {
        const r = exploreInUnits(make, split);
        expect(plain(r), `${s.scenario} ${s.design} ${s.walkers.join(',')} split ${split}`).toEqual(whole);
      }
    }
  }, 300_000);

  it('on two threads (this one and a worker), units run ahead of their turn: the same result as one thread (small searches, a design file)', async () => {
    const designFile = join(root, 'examples', 'designs', 'dont-shrink-zone-device.mjs');
    const all = [...SMALL, spec('seed-2019', designFile)];
    for (const [i, s] of all.entries()) {
      const make = await worldOfSpec(s);
      const r = await exploreJobs(s, { jobs: 2, inlineMs: 0, splitDepth: 4 });
      expect(r.jobs, s.design).toBe(2);
      expect(r.units?.used, s.design).toBeGreaterThan(1);
      // The first search starts its worker; each later one takes it, kept idle, and builds its own world there.
      expect(r.units?.kept, s.design).toBe(i === 0 ? 0 : 1);
      expect(plain(r), `${s.scenario} ${s.design}`).toEqual(explore(make));
    }
  }, 300_000);

  it('seed-2019 on v5.3, exhaustive (12095 interleavings): two threads give the one-thread result byte for byte', async () => {
    const s = spec('seed-2019', 'v5.3');
    const r = await exploreJobs(s, { jobs: 2, inlineMs: 0 });
    const one = explore(await worldOfSpec(s));
    expect(r.jobs).toBe(2);
    // This thread runs the first unit; the races its first leaf finds name the next ones, which go to the worker at once.
    expect(r.units?.here).toBeGreaterThan(0);
    expect(r.units?.run).toBeGreaterThan(r.units?.here ?? Infinity);
    expect(JSON.stringify(plain(r))).toBe(JSON.stringify(one));
    expect(one.violations.map((v) => v.invariant)).toContain('zone_spans_pfn');
  }, 300_000);

  it('a kept worker thread cancels the unit it runs at its next leaf when the search sets its flag, and runs the next unit sent', async () => {
    const s = spec('seed-2019', 'v5.3');
    const { port1, port2 } = new MessageChannel();
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const w = new Worker(join(root, 'dist', 'drivers', 'explore_worker.js'), { workerData: { spec: s, answers: port2, cancel } satisfies WorkerStart, transferList: [port2] });
    const replies: WorkerReply[] = [];
    const next = (): Promise<WorkerReply> => new Promise((ok) => port1.once('message', ok));
    try {
      // The whole search as one unit (seconds of work), cancelled 300 ms in.
      w.postMessage({ key: 'all', unit: { prefix: [], sleep: [] } } satisfies WorkerJob);
      setTimeout(() => Atomics.store(cancel, 0, 1), 300);
      const t0 = performance.now();
      for (let r = await next(); ; r = await next()) {
        replies.push(r);
        if (!('early' in r)) break;
      }
      expect(replies.at(-1)).toEqual({ key: 'all', cancelled: true });
      expect(performance.now() - t0).toBeLessThan(1500);
      // Cleared, the same thread answers a unit of another world (seed-2019 on 6.1: 8 interleavings in all).
      Atomics.store(cancel, 0, 0);
      w.postMessage({ key: 'small', unit: { prefix: [], sleep: [] }, spec: spec('seed-2019', '6.1') } satisfies WorkerJob);
      let r = await next();
      while ('early' in r) r = await next();
      expect('result' in r && r.result.interleavings).toBe(explore(await worldOfSpec(spec('seed-2019', '6.1'))).interleavings);
    } finally {
      await w.terminate();
      port1.close();
    }
  }, 60_000);

  it('other modes (a preemption bound, random runs, --reduce sleep) run on this thread', async () => {
    const s = spec('seed-2019', 'v4.19');
    const make = await worldOfSpec(s);
    for (const o of [{ preemptionBound: 1 }, { random: { runs: 5, seed: 3 } }, { reduce: 'sleep' as const }]) {
      const r = await exploreJobs(s, { ...o, jobs: 2 });
      expect(r.jobs).toBe(1);
      expect(plain(r)).toEqual(explore(make, o));
    }
  }, 120_000);

  it('a worker that throws, or cannot start, is an error naming it, with every thread ended; so is an abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-jobs-'));
    const throwing = join(dir, 'throws.mjs');
    writeFileSync(throwing, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('planted failure'); });\n");
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, "throw new Error('cannot load');\n");
    const before = threads();
    const s = spec('seed-2019', 'v4.19');
    await expect(exploreJobs(s, { jobs: 2, inlineMs: 0, splitDepth: 4, workerFile: throwing })).rejects.toThrow(/^explore worker: Error: planted failure/);
    await expect(exploreJobs(s, { jobs: 2, inlineMs: 0, splitDepth: 4, workerFile: broken })).rejects.toThrow(/^explore worker: Error: cannot load/);
    const ac = new AbortController();
    const stopped = exploreJobs(spec('seed-2019', 'v5.3'), { jobs: 2, inlineMs: 0, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stopped by the test')), 300);
    await expect(stopped).rejects.toThrow('stopped by the test');
    if (before !== null) expect(threads()).toBeLessThanOrEqual(before);
  }, 120_000);
});

describe('a design file must run alike on every replay (checkDesignDeterministic)', () => {
  it('state one schedule leaves behind for another is found: B adds a might_sleep when the call two back was an A call', async () => {
    // Each run first builds its world (B's map: a memmap_init_zone_device call), then the lowest
    // task first runs A's memmap_init_zone_device and B's remove_pfn_range_from_zone (two calls
    // back: the setup's, both times: alike), the highest first B's, then A's: two calls back
    // from B is the run before's B the first time, its A the second: the runs part. The check
    // used to run the lowest-first schedule twice only, and passed this design.
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-determinism-'));
    const file = join(dir, 'leaky.mjs');
    writeFileSync(
      file,
      [
        'const calls = [];',
        "const check = (name) => { const extra = calls.at(-2) === 'A'; calls.push(name); return extra; };",
        'export default {',
        "  name: 'leaky',",
        "  base: 'v5.3',",
        '  steps: {',
        "    *memmap_init_zone_device(api, ...args) { check('A'); yield* api.base(...args); },",
        "    *remove_pfn_range_from_zone(api, ...args) { if (check('B')) yield { op: 'might_sleep', where: 'leaky' }; yield* api.base(...args); },",
        '  },',
        '};',
        '',
      ].join('\n'),
    );
    const d = await loadDesignFile(file);
    const make = makeWorldOf('seed-2019', d, [d], 'debug_vm', []);
    expect(() => checkDesignDeterministic(file, make)).toThrow(
      /leaky\.mjs: the design's steps ran differently on two runs of the same schedule \(the highest runnable task first: step \d+ was "memunmap B: [^"]+", then "memunmap B: might_sleep leaky"\)/,
    );
    // The built-in designs run alike.
    expect(() => checkDesignDeterministic('v5.3', makeWorldOf('seed-2019', 'v5.3', [], 'debug_vm', []))).not.toThrow();
  });
});

describe('mmsim explore --jobs', () => {
  const mmsim = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });

  it('prints what one thread printed (the recorded golden output of explore seed-2019 --design v5.3 --json); a bad --jobs is one line', () => {
    type Golden = { exit: number; stdout: { sha256: string; bytes: number }; stderr: string };
    const golden = (JSON.parse(readFileSync(join(root, 'test', 'golden', 'cli-outputs.json'), 'utf8')) as Record<string, Golden>)['explore seed-2019 --design v5.3 --json'] as Golden;
    const two = mmsim('explore', 'seed-2019', '--design', 'v5.3', '--json', '--jobs', '2');
    expect(two.status).toBe(golden.exit);
    expect(two.stderr).toBe(golden.stderr);
    expect((JSON.parse(two.stdout) as { threads: number }).threads).toBe(2);
    // The golden file keeps a long output's SHA-256, its varying figures masked as cli_outputs.test.ts masks them.
    const masked = mask(two.stdout);
    expect({ sha256: createHash('sha256').update(masked).digest('hex'), bytes: Buffer.byteLength(masked) }).toEqual(golden.stdout);
    for (const bad of ['0', 'x', '1.5']) {
      const r = mmsim('explore', 'seed-2019', '--jobs', bad);
      expect(r.stderr).toBe(`mmsim: --jobs ${bad}: expected a number of threads such as 2\n`);
      expect(r.status).toBe(2);
    }
  }, 300_000);

  it('Ctrl-C (SIGINT) ends the search and its worker threads: the process is gone, ended by SIGINT as with one thread', async () => {
    for (const jobs of ['2', '1']) {
      const child = spawn(process.execPath, [cliPath, 'explore', 'seed-2019', '--design', 'v5.3', '--jobs', jobs], { stdio: 'ignore' });
      await new Promise((ok) => setTimeout(ok, 2500));
      const pid = child.pid as number;
      let running: number | null = null;
      try {
        running = Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      } catch {
        // not Linux
      }
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
      const t0 = Date.now();
      child.kill('SIGINT');
      expect(await ended, `--jobs ${jobs}`).toEqual({ code: null, signal: 'SIGINT' });
      expect(Date.now() - t0).toBeLessThan(5000);
      if (running !== null) {
        expect(running).toBeGreaterThan(0);
        expect(() => readFileSync(`/proc/${pid}/status`)).toThrow();
      }
    }
  }, 60_000);
});
