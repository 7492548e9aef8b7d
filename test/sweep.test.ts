// mmsim sweep and mmsim worker (issue 21 item 3): a sweep file's errors are one line at the
// file:line:col of the name before anything runs; the table's rows are mmsim compare's rows for
// the same scenario, designs and config (a separate command, compared field by field), the same
// from one thread, two or the default; --json carries the same cells; a job that throws is its
// cell's error; over a real redis-server, two workers, one SIGKILLed mid-job, give the same table
// as a run in-process and leave no job behind; an unreachable Redis is one line; Ctrl-C stops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { cliPath } from './helpers.js';
import { InputError } from '../src/errors.js';
import { parseSweep } from '../src/formats/sweep.js';

const mmsim = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'mmsim-sweep-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
/** A table's rows as fields (columns are two or more spaces apart). */
const rows = (table: string): string[][] =>
  table
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {2,}/));

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** A process, its output so far, and its exit. */
function start(args: string[]): { p: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const p = spawn(process.execPath, [cliPath, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((ok) => p.on('close', (code, sig) => ok(code ?? (sig ? -1 : null))));
  return { p, out: () => out, err: () => err, exit };
}

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mmsim sweep: a bad sweep file is one line at file:line:col, exit 2, before anything runs', () => {
  const cases: [string, string, RegExp][] = [
    // "scenarios: [" is 12 characters: seed-2019 starts at column 13, seed-2020 at 13 + 9 + 2 = 24.
    [
      'an unknown scenario',
      'scenarios: [seed-2019, seed-2020]\ndesigns: [v5.3]\n',
      /:1:24: unknown scenario seed-2020; expected a built-in scenario \(seed-2019, seed-2019-hotplug, seed-2019-subsection, seed-2019-map-mem\)/,
    ],
    // "designs: [" is 10: v5.3 at 11, fastest at 11 + 4 + 2 = 17.
    ['an unknown design', 'scenarios: [seed-2019]\ndesigns: [v5.3, fastest]\n', /:2:17: unknown design fastest; expected a design \(v4\.19, v5\.3, serialize, /],
    // A block list: the item's value starts after "  - ".
    ['an unknown kernel', "scenarios: [seed-2019]\ndesigns: [v5.3]\nkernels:\n  - '6.1'\n  - next\n", /:5:5: unknown kernel next: expected a release such as 6\.1/],
    ['a kernel too old', "scenarios: [seed-2019]\nkernels: ['6.1', '2.6']\n", /:2:18: unknown kernel 2\.6: mmsim models kernels from 4\.9 on/],
    ['an unknown config', 'scenarios: [seed-2019]\ndesigns: [v5.3]\nconfigs: [debug_vm, kasan]\n', /:3:21: unknown config kasan; expected one of debug_vm, debug_vm_pgflags, no_debug_vm/],
    [
      'an unknown walker',
      'scenarios: [seed-2019]\ndesigns: [v5.3]\nwalkers: [[], [compaction, kswapd]]\n',
      /:3:28: unknown walker kswapd; expected one of compaction, kpageflags, memory_failure, set_zone_contiguous, test_pages_in_a_zone/,
    ],
    ['an unknown key', 'scenarios: [seed-2019]\ndesign: [v5.3]\n', /:2:1: unknown key design; expected a sweep: scenarios, designs, kernels/],
    ['no designs or kernels', 'scenarios: [seed-2019]\n', /:1:1: expected designs or kernels \(or both\)/],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      const f = file(`bad-${what.replace(/ /g, '-')}.yaml`, text);
      const r = mmsim('sweep', f);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')).toHaveLength(2); // one line and its newline
      expect(r.stderr.startsWith(`mmsim: ${f}:`)).toBe(true);
      expect(r.stderr).toMatch(message);
    });
  }
  it('a design file whose two runs of one schedule part (state kept between runs)', () => {
    file(
      'flaky.mjs',
      "let calls = 0;\nexport default { name: 'flaky', base: 'v5.3', steps: { *remove_pfn_range_from_zone(api, m, zone, start, end, search) { if (calls++ % 2) yield { op: 'might_sleep', where: 'flaky' }; yield* api.base(m, zone, start, end, search); } } };\n",
    );
    const f = file('bad-flaky.yaml', 'scenarios: [seed-2019]\ndesigns: [v5.3, ./flaky.mjs]\n');
    const r = mmsim('sweep', f);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(
      /^mmsim: .*bad-flaky\.yaml:2:17: \.\/flaky\.mjs: the design's steps ran differently on two runs of the same schedule \(step \d+ was "[^"]+", then "memunmap B: might_sleep flaky"\); a design must depend only on the machine it is given/,
    );
    expect(r.stderr.split('\n')).toHaveLength(2);
  });
});

describe('sweep files (formats/sweep.ts): YAML through parseYaml, each value with its place', () => {
  const err = (text: string): string => {
    try {
      parseSweep('s.yaml', text);
    } catch (e) {
      if (e instanceof InputError) return e.message;
      throw e;
    }
    return 'no error';
  };
  it('keeps a release written 6.10 as "6.10" (YAML reads the number 6.1) and the file:line:col of every value', () => {
    const s = parseSweep('s.yaml', 'scenarios: [seed-2019]\nkernels: [6.10, "5.3"]\nwalkers: [[], compaction, [kpageflags, compaction]]\nbound: 1\n');
    expect(s.kernels).toEqual([
      { value: '6.10', at: 's.yaml:2:11' },
      { value: '5.3', at: 's.yaml:2:17' },
    ]);
    expect(s.walkers?.map((w) => w.value)).toEqual([[], ['compaction'], ['kpageflags', 'compaction']]);
    expect(s.search).toEqual({ bound: 1 });
    expect(s.designs).toEqual([]);
    expect(s.configs).toBeNull();
  });
  it('refuses what is not a sweep, a bad value and hostile YAML in one line', () => {
    expect(err('- seed-2019\n')).toBe('s.yaml:1:1: expected a sweep: a mapping with scenarios, designs or kernels, and optionally configs, walkers, bound, runs, seed, reduce, time');
    // "bound: " is 7 characters: the value starts at column 8.
    expect(err('scenarios: [seed-2019]\ndesigns: [v5.3]\nbound: -1\n')).toMatch(/^s\.yaml:3:8: Too small: expected number to be >=0 \(at bound\); expected a sweep/);
    expect(err('scenarios: [seed-2019\n')).toMatch(/^s\.yaml:\d+:\d+: invalid YAML: /);
    expect(err('scenarios: &a [*a]\ndesigns: [v5.3]\n')).toBe('s.yaml:1:16: invalid YAML: alias *a is inside the node it names (a cycle)');
    expect(err(`scenarios: ${'['.repeat(100)}${']'.repeat(100)}\n`)).toMatch(/^s\.yaml:1:\d+: invalid YAML: collections nested more than 64 deep/);
  });
});

describe('mmsim sweep in-process', () => {
  const sweep = file('hotplug.yaml', "scenarios: [seed-2019-hotplug]\ndesigns: [v4.19, serialize, no-shrink]\nkernels: ['6.1']\nconfigs: [debug_vm, no_debug_vm]\n");

  it("has mmsim compare's row for each cell, in file order; --jobs 1, 2 and the default print the same bytes; --json the same cells", () => {
    const one = mmsim('sweep', sweep, '--jobs', '1');
    expect(one.stderr).toBe('');
    expect(one.status).toBe(0);
    // The expected rows: mmsim compare over the same designs, once per config (another command's output).
    const expected: string[][] = [];
    const byConfig = new Map<string, string[][]>();
    for (const config of ['debug_vm', 'no_debug_vm']) {
      const c = mmsim('compare', 'seed-2019-hotplug', '--designs', 'v4.19,serialize,no-shrink,6.1', '--time', 'none', '--config', config);
      expect(c.status).toBe(0);
      byConfig.set(config, rows(c.stdout).slice(1));
    }
    for (let d = 0; d < 4; d++)
      for (const config of ['debug_vm', 'no_debug_vm']) {
        const [design, verdict, interleavings, invariants] = (byConfig.get(config) as string[][])[d] as string[];
        expected.push(['seed-2019-hotplug', design as string, config, '-', verdict as string, interleavings as string, invariants as string]);
      }
    const got = rows(one.stdout);
    expect(got[0]).toEqual(['scenario', 'design', 'config', 'walkers', 'verdict', 'interleavings', 'invariants broken (shortest steps)']);
    expect(got.slice(1)).toEqual(expected);
    // What the 2019 thread's hot-add case shows (docs/designs.md): v4.19 and serialize read a
    // poisoned struct page of the removed range; no-shrink and 6.1 do not.
    expect(got.slice(1).map((r) => `${r[1]} ${r[2]} ${r[4]}`)).toEqual([
      'v4.19 debug_vm violation',
      'v4.19 no_debug_vm violation',
      'serialize debug_vm violation',
      'serialize no_debug_vm violation',
      'no-shrink debug_vm ok',
      'no-shrink no_debug_vm ok',
      '6.1 debug_vm ok',
      '6.1 no_debug_vm ok',
    ]);
    expect(mmsim('sweep', sweep, '--jobs', '2').stdout).toBe(one.stdout);
    expect(mmsim('sweep', sweep).stdout).toBe(one.stdout);

    const j = JSON.parse(mmsim('sweep', sweep, '--json').stdout) as { sweep: string; cells: Record<string, unknown>[] };
    expect(j.sweep).toBe(sweep);
    expect(j.cells).toHaveLength(8);
    j.cells.forEach((c, i) => {
      const row = got[i + 1] as string[];
      expect(Object.keys(c)).toEqual(['scenario', 'design', 'config', 'walkers', 'verdict', 'interleavings', 'exhaustive', 'invariants']);
      expect(c).toMatchObject({ scenario: row[0], design: row[1], config: row[2], walkers: [], verdict: row[4], interleavings: Number(row[5]), exhaustive: true });
      const inv = c['invariants'] as { invariant: string; steps: number; single_task: boolean }[];
      expect(inv.map((v) => `${v.invariant} (${v.steps}${v.single_task ? ', single task' : ''})`).join(', ') || '-').toBe(row[6]);
    });
  }, 600_000);

  it("reports a job that throws in its cell (the design file's one-line error), runs the others, exit 1", () => {
    const design = file('throws.mjs', "export default { name: 'throws', base: 'v5.3', steps: { *remove_pfn_range_from_zone() { throw new Error('boom'); } } };\n");
    const f = file('throws.yaml', 'scenarios: [seed-2019-hotplug]\ndesigns: [./throws.mjs, no-shrink]\n');
    const r = mmsim('sweep', f, '--jobs', '1');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mmsim: sweep: 1 job(s) failed (their cells say why)\n');
    const got = rows(r.stdout);
    expect(got[1]).toEqual(['seed-2019-hotplug', './throws.mjs', 'debug_vm', '-', 'error', '-', `design ${design}: step remove_pfn_range_from_zone threw: boom`]);
    expect(got[2]?.slice(0, 6)).toEqual(['seed-2019-hotplug', 'no-shrink', 'debug_vm', '-', 'ok', '4']);
  }, 300_000);

  it('Ctrl-C stops the threads at once (a 7 s cell is not waited for): one line, exit 130', async () => {
    // Two quick cells, then seed-2019 under v5.3 (seconds of work) in the one thread: interrupted there.
    const f = file('long.yaml', 'scenarios: [seed-2019-hotplug, seed-2019]\ndesigns: [v5.3]\nconfigs: [debug_vm, no_debug_vm]\n');
    const s = start(['sweep', f, '--jobs', '1', '--progress']);
    await until('two cells done', () => s.err().includes('2/4 jobs done'));
    const t0 = Date.now();
    s.p.kill('SIGINT');
    expect(await s.exit).toBe(130);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(s.out()).toBe('');
    expect(s.err()).toBe('mmsim sweep: 1/4 jobs done\nmmsim sweep: 2/4 jobs done\nmmsim: sweep interrupted: its threads are stopped\n');
  }, 60_000);
});

describe('mmsim sweep --queue', () => {
  it('an unreachable Redis, or a URL that is not redis://, is one line, exit 2', async () => {
    const f = file('q.yaml', 'scenarios: [seed-2019-hotplug]\ndesigns: [no-shrink]\n');
    const port = await freePort();
    const r = mmsim('sweep', f, '--queue', `redis://127.0.0.1:${port}`);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`mmsim: --queue redis://127.0.0.1:${port}: cannot reach Redis (ECONNREFUSED); start redis-server there or give the right HOST:PORT\n`);
    const w = mmsim('worker', '--queue', `redis://127.0.0.1:${port}`);
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/^mmsim: --queue redis:\/\/127\.0\.0\.1:\d+: cannot reach Redis \(ECONNREFUSED\)[^\n]*\n$/);
    const u = mmsim('sweep', f, '--queue', 'http://127.0.0.1:6379');
    expect(u.status).toBe(2);
    expect(u.stderr).toBe('mmsim: --queue http://127.0.0.1:6379: expected redis://HOST:PORT (a Redis server), e.g. redis://127.0.0.1:6379\n');
  });
});

const REDIS = '/usr/bin/redis-server';
describe.skipIf(!existsSync(REDIS))('mmsim sweep --queue over a real redis-server (skipped: /usr/bin/redis-server is not installed; apt-get install redis-server)', () => {
  let redis: ChildProcess | null = null;
  let url = '';
  let queue: Queue | null = null;
  const spawned: ChildProcess[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    queue = new Queue('mmsim-sweep', { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null } });
    await queue.getJobCounts(); // waits for the server (ioredis connects when it listens)
  });
  afterAll(async () => {
    for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await queue?.close();
    redis?.kill('SIGKILL');
  });
  const run = (args: string[]): ReturnType<typeof start> => {
    const s = start(args);
    spawned.push(s.p);
    return s;
  };
  const jobsLeft = async (): Promise<number> => {
    const counts = await (queue as Queue).getJobCounts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  it('two workers, one killed with SIGKILL mid-job: the queue retries its job and the table is byte for byte the in-process one; no job is left', async () => {
    const f = file('kill.yaml', 'scenarios: [seed-2019, seed-2019-hotplug]\ndesigns: [v5.3, serialize]\n');
    // Worker A alone takes the first job (seed-2019 under v5.3, seconds of work) and is killed in it.
    const a = run(['worker', '--queue', url, '--jobs', '1']);
    await until('worker A', () => a.err().includes('taking sweep jobs'));
    const sweep = run(['sweep', f, '--queue', url]);
    await until('worker A to start the first cell', () => a.err().includes('started seed-2019 v5.3 debug_vm'));
    const b = run(['worker', '--queue', url, '--jobs', '1']);
    await until('worker B', () => b.err().includes('taking sweep jobs'));
    a.p.kill('SIGKILL');
    // The in-process sweep to compare with runs meanwhile (the queue waits 10-15 s for A's lock to lapse).
    const local = run(['sweep', f, '--jobs', '1']);
    expect(await sweep.exit).toBe(0);
    expect(sweep.err()).toBe('');
    // B ran the job A was killed in (the queue gave it back after A's lock lapsed).
    expect(b.err()).toContain('started seed-2019 v5.3 debug_vm');
    expect(await local.exit).toBe(0);
    expect(local.err()).toBe('');
    expect(sweep.out()).toBe(local.out());
    expect(await jobsLeft()).toBe(0);
    b.p.kill('SIGINT');
    expect(await b.exit).toBe(130);
  }, 600_000);

  it('Ctrl-C of a queued sweep removes the jobs no worker has taken: one line, exit 130, nothing left on the queue', async () => {
    const f = file('waiting.yaml', 'scenarios: [seed-2019-hotplug]\ndesigns: [v4.19, serialize, no-shrink]\n');
    const sweep = run(['sweep', f, '--queue', url]);
    await until('the three jobs on the queue', async () => (await (queue as Queue).getJobCounts('waiting')).waiting === 3);
    sweep.p.kill('SIGINT');
    expect(await sweep.exit).toBe(130);
    expect(sweep.out()).toBe('');
    expect(sweep.err()).toBe('mmsim: sweep interrupted: its threads are stopped and its jobs not yet taken removed from the queue\n');
    expect(await jobsLeft()).toBe(0);
  }, 120_000);
});
