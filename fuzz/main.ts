// `npm run fuzz [-- --n N --seed S --only ENTRY ...]`: every entry point fuzzed in forked worker
// processes (fuzz/child.ts), each input within a time limit (default 10 s) and a memory limit
// (default 1024 MB: V8's old space, and the process's resident size above its start-up size),
// so that a hang, a blow-up or a native crash is reported with the input that caused it. A
// finding's class keeps its smallest input, written as a reproducer with the CLI command that
// runs it; summary.json and summary.md go to the findings directory. Exit code 1 if any finding.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildMessage } from './child.js';
import { ENTRIES, entryByName } from './entries/index.js';
import { makeContext, normalizeMessage, type FuzzEntry, type Saved } from './harness.js';

interface Options {
  readonly n: number;
  readonly from: number;
  readonly seed: number;
  readonly entries: readonly FuzzEntry[];
  readonly findings: string;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  readonly batch: number;
  readonly jobs: number;
}

interface ClassStats {
  readonly cls: string;
  count: number;
  index: number;
  size: number;
  message: string;
  detail: string;
  /** Inputs of the class whose size the worker could not report (it was killed): the first 20. */
  readonly unsized: number[];
}

interface EntryStats {
  readonly name: string;
  n: number;
  accepted: number;
  rejected: number;
  /** Seconds the workers spent on inputs (start-up and preparation left out). */
  seconds: number;
  slowestMs: number;
  slowestIndex: number;
  readonly classes: Map<string, ClassStats>;
  /** What the rejections said (made generic), with counts. */
  readonly rejections: Map<string, number>;
}

const USAGE = `usage: npm run fuzz -- [--n N] [--seed S] [--only ENTRY[,ENTRY]] [--index I] [--from I] [--findings DIR]
                          [--timeout-ms MS] [--memory-mb MB] [--batch N] [--jobs J] [--list]
  --n N          inputs per entry point (default 1000); --n 100000 is the long run
  --seed S       the run's seed (default 1); input I of an entry is the same for the same seed
  --only ENTRY   fuzz only these entry points (repeatable or comma-separated): ${ENTRIES.map((e) => e.name).join(', ')}
  --index I      run input I only (a finding's rerun); --from I starts at input I
  --findings DIR where reproducers and summary.{json,md} go (default: a new directory under ${tmpdir()})
  --timeout-ms   time limit of one input (default 10000); --memory-mb: memory limit (default 1024)
  --batch N      inputs per worker process before a fresh one (default 2000); --jobs J: entry points at once (default 1)`;

class UsageError extends Error {}

function whole(v: string | undefined, flag: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} ${v}: expected a whole number${min ? ` of at least ${min}` : ''}`);
  return n;
}

function options(argv: string[]): Options | 'list' {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string' },
      from: { type: 'string' },
      index: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string', multiple: true },
      findings: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'memory-mb': { type: 'string' },
      batch: { type: 'string' },
      jobs: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.list) return 'list';
  const names = (values.only ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const entries = names.length
    ? names.map((n) => {
        const e = entryByName(n);
        if (!e) throw new UsageError(`--only ${n}: expected one of ${ENTRIES.map((x) => x.name).join(', ')}`);
        return e;
      })
    : ENTRIES;
  const index = values.index === undefined ? null : whole(values.index, '--index', 0);
  return {
    n: index !== null ? 1 : whole(values.n, '--n', 1000, 1),
    from: index ?? whole(values.from, '--from', 0),
    seed: whole(values.seed, '--seed', 1),
    entries,
    findings: values.findings ?? mkdtempSync(join(tmpdir(), 'mmsim-fuzz-findings-')),
    timeoutMs: whole(values['timeout-ms'], '--timeout-ms', 10_000, 1),
    memoryMb: whole(values['memory-mb'], '--memory-mb', 1024, 64),
    batch: whole(values.batch, '--batch', 2000, 1),
    jobs: whole(values.jobs, '--jobs', 1, 1),
  };
}

/** Resident memory of a process in bytes (Linux /proc; 0 where it cannot be read). */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return 0;
  }
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.js');
/** Time a worker may take to start and read its seeds. */
const PREPARE_MS = 120_000;

function record(stats: EntryStats, cls: string, index: number, size: number, message: string, detail: string): void {
  const c = stats.classes.get(cls) ?? { cls, count: 0, index, size, message, detail, unsized: [] };
  stats.classes.set(cls, c);
  c.count++;
  if (size < c.size) Object.assign(c, { index, size, message, detail });
  if (size === Number.POSITIVE_INFINITY && c.unsized.length < 20) c.unsized.push(index);
}

/** Run inputs [from, to) in one worker; returns the index to go on from. */
async function runWorker(entry: string, from: number, to: number, o: Options, stats: EntryStats): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), 'mmsim-fuzz-'));
  const child = fork(CHILD, [entry, String(o.seed), String(from), String(to), tmp], { execArgv: [`--max-old-space-size=${o.memoryMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let next = from;
  let ready = false;
  let readyAt = 0;
  let baseline = 0;
  let killedFor: 'timeout' | 'memory' | null = null;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      killedFor = 'timeout';
      child.kill('SIGKILL');
    }, ms);
  };
  arm(PREPARE_MS);
  const poll = setInterval(() => {
    if (ready && rssOf(child.pid) > baseline + o.memoryMb * 2 ** 20) {
      killedFor = 'memory';
      child.kill('SIGKILL');
    }
  }, 100);
  child.on('message', (m: ChildMessage) => {
    if (m.t === 'ready') {
      ready = true;
      readyAt = performance.now();
      baseline = m.rss;
      arm(o.timeoutMs);
    } else if (m.t === 'done') {
      next = m.i + 1;
      stats.n++;
      if (m.ms > stats.slowestMs) Object.assign(stats, { slowestMs: m.ms, slowestIndex: m.i });
      if (m.kind === 'accepted') stats.accepted++;
      else if (m.kind === 'rejected') {
        stats.rejected++;
        const why = m.why ?? '?';
        if (stats.rejections.has(why) || stats.rejections.size < 500) stats.rejections.set(why, (stats.rejections.get(why) ?? 0) + 1);
      } else record(stats, m.cls ?? '?', m.i, m.size, m.message ?? '', m.detail ?? '');
      arm(o.timeoutMs);
    } else clearTimeout(timer);
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.on('exit', (c, s) => ok({ code: c, signal: s })));
  clearInterval(poll);
  clearTimeout(timer);
  rmSync(tmp, { recursive: true, force: true });
  if (!ready) throw new Error(`fuzz: the ${entry} worker did not start (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  stats.seconds += (performance.now() - readyAt) / 1000;
  if (next >= to) return to;
  // The worker died in input `next`.
  stats.n++;
  const lastLine = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  const cls =
    killedFor === 'timeout'
      ? `timeout: over ${o.timeoutMs / 1000} s`
      : killedFor === 'memory'
        ? `memory: over ${o.memoryMb} MB resident`
        : /heap out of memory|Reached heap limit/.test(stderr)
          ? `memory: V8 heap limit (${o.memoryMb} MB) reached`
          : `crash: ${signal ?? `exit ${code}`}: ${normalizeMessage(lastLine)}`;
  record(stats, cls, next, Number.POSITIVE_INFINITY, killedFor ? cls : stderr.slice(-1500), '');
  return next + 1;
}

async function fuzzEntry(e: FuzzEntry, o: Options): Promise<EntryStats> {
  const stats: EntryStats = { name: e.name, n: 0, accepted: 0, rejected: 0, seconds: 0, slowestMs: 0, slowestIndex: -1, classes: new Map(), rejections: new Map() };
  const end = o.from + o.n;
  let at = o.from;
  let shown = performance.now();
  while (at < end) {
    at = await runWorker(e.name, at, Math.min(end, at + o.batch), o, stats);
    if (performance.now() - shown > 30_000) {
      shown = performance.now();
      process.stderr.write(`fuzz: ${e.name}: ${at - o.from}/${o.n} inputs, ${stats.classes.size} finding classes\n`);
    }
  }
  return stats;
}

interface SavedClass {
  readonly entry: string;
  readonly cls: string;
  readonly count: number;
  readonly index: number;
  readonly description: string;
  readonly message: string;
  readonly detail: string;
  readonly files: readonly string[];
  readonly command: string;
  readonly rerun: string;
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 48) || 'finding'
  );
}

/** Regenerate each class's input in this process and write it as a reproducer. */
async function saveFindings(all: readonly EntryStats[], o: Options): Promise<SavedClass[]> {
  const out: SavedClass[] = [];
  mkdirSync(o.findings, { recursive: true });
  for (const s of all) {
    if (s.classes.size === 0) continue;
    const entry = entryByName(s.name) as FuzzEntry;
    const ctx = makeContext();
    try {
      const prepared = await entry.prepare(ctx);
      let k = 0;
      for (const c of [...s.classes.values()].sort((a, b) => b.count - a.count)) {
        // A class of killed workers (timeouts, blow-ups) keeps its smallest input too: sized here.
        const g = [c.index, ...c.unsized].map((i) => prepared.generate(o.seed, i)).reduce((a, b) => (b.size < a.size ? b : a));
        const base = join(o.findings, `${s.name}-${String(++k).padStart(2, '0')}-${slug(c.cls)}`);
        let saved: Saved;
        try {
          saved = g.save(base);
        } catch (err) {
          saved = { files: [], command: `(could not write the reproducer: ${err instanceof Error ? err.message : String(err)})` };
        }
        out.push({
          entry: s.name,
          cls: c.cls,
          count: c.count,
          index: g.index,
          description: g.description,
          message: c.message,
          detail: c.detail,
          files: saved.files,
          command: saved.command,
          rerun: `npm run fuzz -- --only ${s.name} --seed ${o.seed} --index ${g.index}`,
        });
      }
    } finally {
      ctx.dispose();
    }
  }
  return out;
}

function table(all: readonly EntryStats[]): string {
  const head = ['entry', 'inputs', 'seconds', 'inputs/s', 'accepted', 'rejected', 'findings', 'classes', 'slowest'];
  const rows = all.map((s) => {
    const f = [...s.classes.values()].reduce((x, c) => x + c.count, 0);
    const pct = (v: number): string => `${s.n ? ((100 * v) / s.n).toFixed(0) : 0}%`;
    return [
      s.name,
      String(s.n),
      s.seconds.toFixed(1),
      (s.n / Math.max(s.seconds, 1e-9)).toFixed(1),
      pct(s.accepted),
      pct(s.rejected),
      String(f),
      String(s.classes.size),
      `${s.slowestMs.toFixed(0)} ms`,
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ')).join('\n') + '\n';
}

async function main(): Promise<number> {
  let o: Options | 'list';
  try {
    o = options(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (o === 'list') {
    for (const e of ENTRIES) process.stdout.write(`${e.name.padEnd(10)} ${e.summary}\n`);
    return 0;
  }
  const opts = o;
  process.stdout.write(
    `fuzz: seed ${opts.seed}, inputs ${opts.from}..${opts.from + opts.n - 1} of ${opts.entries.map((e) => e.name).join(', ')}; limits ${opts.timeoutMs / 1000} s, ${opts.memoryMb} MB per input\n`,
  );
  const started = new Date().toISOString();
  const results: EntryStats[] = [];
  const queue = [...opts.entries];
  await Promise.all(
    Array.from({ length: Math.min(opts.jobs, queue.length) }, async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const r = await fuzzEntry(e, opts);
        results.push(r);
        process.stdout.write(`fuzz: ${r.name}: ${r.n} inputs in ${r.seconds.toFixed(1)} s, ${r.classes.size} finding classes\n`);
      }
    }),
  );
  results.sort((a, b) => opts.entries.indexOf(entryByName(a.name) as FuzzEntry) - opts.entries.indexOf(entryByName(b.name) as FuzzEntry));
  const saved = await saveFindings(results, opts);
  const summary = {
    seed: opts.seed,
    from: opts.from,
    n: opts.n,
    started,
    limits: { timeoutMs: opts.timeoutMs, memoryMb: opts.memoryMb },
    entries: results.map((s) => ({
      name: s.name,
      inputs: s.n,
      seconds: Number(s.seconds.toFixed(2)),
      inputsPerSecond: Number((s.n / Math.max(s.seconds, 1e-9)).toFixed(1)),
      accepted: s.accepted,
      rejected: s.rejected,
      slowest: { index: s.slowestIndex, ms: Math.round(s.slowestMs) },
      rejections: Object.fromEntries([...s.rejections.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)),
      findings: saved.filter((c) => c.entry === s.name),
    })),
  };
  writeFileSync(join(opts.findings, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const md = [
    `# mmsim fuzz: seed ${opts.seed}, inputs ${opts.from}..${opts.from + opts.n - 1}`,
    '',
    '```',
    table(results).trimEnd(),
    '```',
    '',
    ...results.flatMap((s) => [
      `Most frequent rejections of ${s.name}:`,
      '',
      ...[...s.rejections.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([why, k]) => `- ${k}x ${why}`),
      '',
    ]),
    ...saved.flatMap((c) => [
      `## ${c.entry}: ${c.cls}`,
      '',
      `- ${c.count} input(s); the smallest: #${c.index}, ${c.description}`,
      `- reproducer: ${c.files.join(', ') || '-'}`,
      `- command: \`${c.command}\``,
      `- rerun: \`${c.rerun}\``,
      '',
      '```',
      c.message.slice(0, 600),
      ...(c.detail ? [c.detail] : []),
      '```',
      '',
    ]),
  ].join('\n');
  writeFileSync(join(opts.findings, 'summary.md'), md);
  process.stdout.write(`\n${table(results)}`);
  if (saved.length) {
    process.stdout.write(`\n${saved.length} finding classes:\n`);
    for (const c of saved) process.stdout.write(`  ${c.entry}: ${c.cls} (${c.count}x; ${c.files[0] ?? c.rerun})\n`);
  } else process.stdout.write('\nno findings\n');
  process.stdout.write(`\nsummary: ${join(opts.findings, 'summary.md')}\n`);
  return saved.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(3);
  },
);
