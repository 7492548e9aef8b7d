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
        ? await cli(words, { cwd: dir }).then((x) => ({ code: x.code, stderr: x.stderr }))
        : await new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const p = spawn('/bin/sh', ['-c', c.command], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
            let stderr = '';
            p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            p.on('close', (code) => resolve({ code, stderr }));
          });
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code, r.stderr).toBe(exit);
    });
  }
});
