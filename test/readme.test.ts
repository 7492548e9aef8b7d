// Every shell command in README.md's ```sh blocks, run as written (issue 22): `mmsim` and
// `npx mmsim` are the built dist/cli/main.js, run from a fresh directory whose `examples` is the
// repository's (as in a fresh clone; files a command writes stay in that directory); an `mmsim`
// command of plain words runs in a runner process (test/cli_run.ts) in that directory. A command
// exits 0 unless its comment says `exits N` (an example that fails on purpose), and an example
// file such a line names says so in its own comments. Commands that cannot run here are in SKIP
// with their reason, which the test's name and a console line print; no other command is left out.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './cli_run.js';
import { cliPath, root } from './helpers.js';

interface ReadmeCommand {
  /** The command as written (one `&&` part of a line). */
  readonly command: string;
  /** The line's comment, if any. */
  readonly comment: string;
  /** 1-based line in README.md. */
  readonly line: number;
}

/** The line split at its comment: the first ` #` outside quotes. */
function splitComment(line: string): [string, string] {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
  }
  return [line.trim(), ''];
}

/** The commands of every ```sh block, in order, each `&&` part on its own. */
function readmeCommands(text: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let inSh = false;
  text.split('\n').forEach((raw, i) => {
    if (/^```/.test(raw)) {
      inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(raw);
      return;
    }
    if (!inSh || !raw.trim()) return;
    const [cmd, comment] = splitComment(raw);
    if (!cmd) return;
    for (const part of cmd.split(' && ')) out.push({ command: part.trim(), comment, line: i + 1 });
  });
  return out;
}

const hasLsmem = ['/usr/bin/lsmem', '/bin/lsmem', '/usr/local/bin/lsmem'].some((p) => existsSync(p));
const liveReadable = process.platform === 'linux' && existsSync('/sys/devices/system/node') && existsSync('/proc/iomem');

/** Commands this test does not run, each with why (a regex over the command as written). */
const SKIP: readonly { readonly match: RegExp; readonly reason: string; readonly when?: boolean }[] = [
  { match: /^npm ci$/, reason: 'installs the dependencies: this test runs inside an installed tree' },
  { match: /^npm test$/, reason: 'the whole suite, this test among it' },
  { match: /^npm run -s bench:memmap/, reason: 'a benchmark of minutes (docs/performance.md has its figures)' },
  { match: /^npm run test:qemu$/, reason: 'needs QEMU and the guest kernel of `mmsim verify --setup` (test/qemu runs there)' },
  { match: /^mmsim verify --setup$/, reason: 'downloads QEMU, ndctl and a Debian kernel (network and root)' },
  { match: /^mmsim verify --qemu /, reason: 'boots a real kernel under QEMU for minutes (npm run test:qemu does)' },
  { match: /^mmsim serve\b/, reason: 'listens until stopped (test/lab_server.test.ts starts and stops it)' },
  { match: /^redis-server /, reason: 'a Redis server that runs until stopped (test/sweep.test.ts starts its own on a free loopback port)' },
  { match: /^mmsim worker /, reason: 'takes jobs until stopped (test/sweep.test.ts runs two against its own Redis and kills one)' },
  { match: /--queue redis:/, reason: 'needs the Redis server and worker above (test/sweep.test.ts runs a queued sweep end to end)' },
  { match: /^lsmem /, reason: 'util-linux lsmem is not installed here', when: !hasLsmem },
  { match: /--from-live/, reason: "reads this machine's /sys and /proc, which this system does not have", when: !liveReadable },
];

function skipReason(command: string): string | null {
  for (const s of SKIP) if (s.match.test(command) && s.when !== false) return s.reason;
  return null;
}

/**
 * A command that is `mmsim` and plain words only (nothing the shell would expand, quote, pipe or
 * redirect): its argv, which a runner process runs (test/cli_run.ts: the built CLI's main(), what
 * the shim's `node dist/cli/main.js` runs, without a node start-up); null for anything else, which
 * /bin/sh runs as written (`npx mmsim demo`, quoted words, the other programs).
 */
function plainMmsim(command: string): string[] | null {
  return /^mmsim( [\w./:,+=-]+)+$/.test(command) ? command.split(' ').slice(1) : null;
}

/** The exit a command's comment announces ("exits N"), else 0. */
function expectedExit(comment: string): number {
  const m = /\bexits (\d+)\b/.exec(comment);
  return m ? Number(m[1]) : 0;
}

/**
 * What a command's output must hold beyond its exit (the command as written -> a check of its
 * stdout, run in the test's directory `dir`).
 */
const OUTPUT_CHECKS: Record<string, (stdout: string, dir: string) => void> = {
  // The quick start's demo: the seed thread's question in under 60 lines — the machine, each
  // design safe or not and how long, the BUG line, what follows, what next — and the timelines.
  'npx mmsim demo': (story, dir) => {
    expect(story.startsWith('mmsim demo: ')).toBe(true);
    expect(story.split('\n').length).toBeLessThanOrEqual(60);
    expect(story).toContain('[PATCH v3 01/11] mm/memremap: Get rid of memmap_init_zone_device()');
    // The machine: demoMachineSpec's 4 nodes of 4 CPUs, 96 GiB per node (node 0's below 4 GiB and above), 3 TiB of pmem each.
    expect(story).toContain('4 NUMA nodes, 16 CPUs, 384 GiB of DRAM and\n4 x 3 TiB of persistent memory (12 TiB)');
    expect(story).toContain('  node   3: [mem 0x0000004880000000-0x000000607fffffff]\n');
    expect(story).toContain('  pmem3: [mem 0x0000096200000000-0x00000c61ffffffff] node 3');
    // The table: the race on v5.3 and the seqlock designs but the whole one, the fixes ok.
    expect(story).toMatch(/\nv5\.3 +violation +\d+ +2\d\.\d s +poisoned struct page read \(memunmap B\) \(2, single task\), zone_spans_pfn \(86\)\n/);
    expect(story).toMatch(/\nseqlock-after-unlock +violation +\d+ +[\d.]+ s +might_sleep \(19, single task\), poisoned struct page read \(memunmap B\) \(2, single task\), zone_spans_pfn \(88\)\n/);
    expect(story).toMatch(/\nseqlock-whole +violation +\d+ +[\d.]+ s +might_sleep \(19, single task\), poisoned struct page read \(memunmap B\) \(2, single task\)\n/);
    expect(story).toMatch(/\nseqlock-per-pageblock +violation +\d+ +[\d.]+ s +poisoned struct page read \(memunmap B\) \(2, single task\), zone_spans_pfn \(92\)\n/);
    expect(story).toMatch(/\nserialize +ok +\d+ +9\d\.\d s +-\n/);
    for (const d of ['no-shrink', '6.1', 'current']) expect(story).toMatch(new RegExp(`\\n${d.replace('.', '\\.')} +ok +\\d+ +[\\d.]+ s +-\\n`));
    // The kernel's own line for the race (set_pfnblock_flags_mask's VM_BUG_ON_PAGE), and the conclusion.
    expect(story).toMatch(
      /after 86 steps .*\n {2}page:ffffea00040[0-9a-f]+ pfn:0x10[0-7][0-9a-f]{3} node 0 zone Device; page dumped because: VM_BUG_ON_PAGE\(!zone_spans_pfn\(page_zone\(page\), pfn\)\)\n/,
    );
    expect(story).toMatch(/\n {2}safe: no-shrink, 6\.1, current in 2\d\.\d s; serialize in 9\d\.\d s \(3\.\dx\)\.\n/);
    expect(story).toMatch(/\n {2}unsafe: v4\.19 \(poisoned read\), v5\.3 \(poisoned read, zone_spans_pfn\),/);
    expect(story).toContain('mmsim explore seed-2019 --design v5.3');
    expect(story).toContain('(mmsim verify --race seed-2019, docs/fidelity.md)');
    // The timelines, in the default --out directory.
    for (const d of ['v4.19', 'v5.3', 'serialize']) expect(readFileSync(join(dir, 'mmsim-demo', `seed-2019-${d}.svg`), 'utf8')).toMatch(/^<svg /);
  },
};

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const commands = readmeCommands(readme);

describe('README.md', () => {
  it('the quick start is exactly `npm ci && npx mmsim demo` and `npm ci && npm test`', () => {
    const quick = /## Quick start\n\n```sh\n([^`]*)```/.exec(readme)?.[1] ?? '';
    const lines = quick
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => splitComment(l)[0]);
    expect(lines).toEqual(['npm ci && npx mmsim demo', 'npm ci && npm test']);
  });

  it('finds the commands (splitting comments outside quotes)', () => {
    expect(splitComment("mmsim machine --from-qemu '-m 2G # not a comment'   # a comment")).toEqual(["mmsim machine --from-qemu '-m 2G # not a comment'", 'a comment']);
    expect(commands.length).toBeGreaterThan(30);
    for (const s of SKIP)
      if (s.when !== false)
        expect(
          commands.some((c) => s.match.test(c.command)),
          `SKIP entry ${s.match} names no README command`,
        ).toBe(true);
  });

  it('each command whose output is checked is one the README has', () => {
    for (const command of Object.keys(OUTPUT_CHECKS)) expect(commands.map((c) => c.command)).toContain(command);
  });

  it('examples that fail on purpose say so in their own comments', () => {
    for (const c of commands) {
      const exit = expectedExit(c.comment);
      if (!exit) continue;
      for (const file of c.command.split(/\s+/).filter((w) => w.startsWith('examples/'))) {
        const text = readFileSync(join(root, file), 'utf8');
        expect(text, `${file} (README.md:${c.line})`).toMatch(new RegExp(`exits ${exit} on purpose`));
      }
    }
  });
});

describe('skips name their reason', () => {
  it('every skipIf / skip in the suite puts its reason in the name (unless(...) or "skipped: ...")', () => {
    const files = ['test', 'test/qemu'].flatMap((d) =>
      readdirSync(join(root, d))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(d, f)),
    );
    const bare: string[] = [];
    for (const f of files) {
      const lines = readFileSync(join(root, f), 'utf8').split('\n');
      lines.forEach((l, i) => {
        // The call and its title (Prettier may put the title on the next lines).
        const call = lines.slice(i, i + 3).join(' ');
        if (/\b(it|describe|test)\.(skip|skipIf|runIf)\(/.test(l) && !/unless\(|skipped|not set up/.test(call)) bare.push(`${f}:${i + 1}: ${l.trim()}`);
      });
    }
    expect(bare).toEqual([]);
  });
});

describe('every README command runs as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-readme-'));
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  symlinkSync(join(root, 'examples'), join(dir, 'examples'));
  const shim = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  shim('mmsim', `exec node ${JSON.stringify(cliPath)} "$@"`);
  shim('npx', `[ "$1" = mmsim ] || { echo "npx $1: only npx mmsim is shimmed here" >&2; exit 127; }\nshift\nexec node ${JSON.stringify(cliPath)} "$@"`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const seen = new Set<string>();
  for (const c of commands) {
    const name = `README.md:${c.line}: ${c.command}`;
    const why = skipReason(c.command);
    if (why !== null) {
      console.log(`skipped: ${name} (${why})`);
      it.skip(`${name} (skipped: ${why})`, () => {});
      continue;
    }
    if (seen.has(c.command)) continue; // the same command twice (compare seed-2019): run once
    seen.add(c.command);
    const exit = expectedExit(c.comment);
    it(`${name}${exit ? ` (exits ${exit} on purpose)` : ''}`, { timeout: 600_000 }, async () => {
      const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' };
      const words = plainMmsim(c.command);
      const r = words
        ? await cli(words, { cwd: dir }).then((x) => ({ code: x.code, stdout: x.stdout, stderr: x.stderr }))
        : await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            const p = spawn('/bin/sh', ['-c', c.command], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
            p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            p.on('close', (code) => resolve({ code, stdout, stderr }));
          });
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code, r.stderr).toBe(exit);
      OUTPUT_CHECKS[c.command]?.(r.stdout, dir);
    });
  }
});
