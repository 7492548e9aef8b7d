// chmem against util-linux's tests/ts/chmem x86_64_16g driver, replayed step by step on the sysfs dump.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLsmem } from '../src/cli/commands/lsmem.js';
import { chmem } from '../src/tools/chmem.js';
import { hasSharedData, sharedData, unless } from './helpers.js';

const DATA = join(sharedData, 'util-linux', 'chmem');
const DUMP = 'x86_64_16g';
const SYS_MEM = '/sys/devices/system/memory';
const have = hasSharedData && existsSync(join(DATA, `${DUMP}.tar.bz2`));

describe.skipIf(!have)(`chmem x86_64_16g test driver${unless(have, `no ${DUMP}.tar.bz2 in ${DATA}`)}`, () => {
  let tmp = '';
  let root = '';
  let errlog = '';

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mmsim-chmem-'));
    execFileSync('tar', ['--no-same-owner', '-C', tmp, '-jxf', join(DATA, `${DUMP}.tar.bz2`)]);
    root = join(tmp, DUMP);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const expected = (name: string): string => readFileSync(join(DATA, name), 'utf8');
  /** do_chmem: stdout appended to the subtest output, stderr to the error log. */
  const doChmem = (out: { s: string }, ...args: string[]): number => {
    const r = chmem('/', ['--sysroot', root, ...args]);
    out.s += r.stdout;
    errlog += r.stderr;
    return r.exitCode;
  };
  const cat = (p: string): string => readFileSync(p, 'latin1');

  it('enable-disable-blocks', () => {
    const out = { s: '' };
    expect(doChmem(out, '--disable', '--blocks', '0')).toBe(0);
    const state = join(root, SYS_MEM, 'memory0', 'state');
    out.s += cat(state);
    writeFileSync(state, '');
    out.s += '\n';
    expect(doChmem(out, '--enable', '--blocks', '0')).toBe(0);
    out.s += cat(state);
    out.s += '\n';
    expect(out.s).toBe(expected(`${DUMP}-enable-disable-blocks`));
    expect(errlog).toBe('');
  });

  it('enable-disable-zone', () => {
    errlog = '';
    const out = { s: '' };
    const index = '4';
    const lsmem = runLsmem(['--sysroot', root, '--all', '--output=BLOCK,RANGE', '--raw'], {});
    errlog += lsmem.stderr;
    const rangeStr = lsmem.stdout
      .split('\n')
      .flatMap((l) => (l.startsWith(`${index} `) ? [l.slice(index.length + 1)] : []))
      .join('\n');
    expect(rangeStr).toBe('0x0000000020000000-0x0000000027ffffff');
    const memBlock = `memory${index}`;
    const zones = join(root, SYS_MEM, memBlock, 'valid_zones');
    chmodSync(zones, 0o644);
    writeFileSync(zones, 'Movable\n');

    expect(doChmem(out, '--verbose', '--disable', rangeStr)).toBe(0);
    const state = join(root, SYS_MEM, memBlock, 'state');
    out.s += cat(state);
    writeFileSync(state, '');
    out.s += '\n';

    expect(doChmem(out, '--verbose', '--enable', '--zone', 'Movable', rangeStr)).toBe(0);
    out.s += cat(state);
    out.s += '\n';

    expect(doChmem(out, '--verbose', '--enable', rangeStr)).toBe(0);
    writeFileSync(state, '');
    out.s += '\n';

    expect(doChmem(out, '--verbose', '--enable', '--zone', 'Normal', rangeStr)).toBe(1);
    out.s += cat(state);
    out.s += '\n';

    expect(out.s).toBe(expected(`${DUMP}-enable-disable-zone`));
    expect(errlog).toBe(expected(`${DUMP}-enable-disable-zone.err`));
  });

  it('usage errors and size/range parsing', () => {
    expect(chmem('/', ['--sysroot', root, '-e'])).toEqual({
      stdout: '',
      stderr: "chmem: bad usage\nTry 'chmem --help' for more information.\n",
      exitCode: 1,
    });
    expect(chmem('/', ['--sysroot', root, '-e', '-d', '0']).stderr).toBe('chmem: options --enable and --disable cannot be combined\n');
    expect(chmem('/', ['--sysroot', root, '-x']).stderr).toBe("chmem: invalid option -- 'x'\nTry 'chmem --help' for more information.\n");
    expect(chmem('/', ['--sysroot', root, '-e', '100M'])).toEqual({
      stdout: '',
      stderr: 'chmem: Size must be aligned to memory block size (128M)\n',
      exitCode: 1,
    });
    expect(chmem('/', ['--sysroot', root, '-e', '12X']).stderr).toBe("chmem: Failed to parse size: '12X': Invalid argument\n");
    expect(chmem('/', ['--sysroot', root, '-d', '0x10-0x20']).stderr).toBe('chmem: Start address and (end address + 1) must be aligned to memory block size (128M)\n');
    expect(chmem('/', ['--sysroot', root, '-d', '-b', '7-3']).stderr).toBe('chmem: Invalid range: 7-3\n');
    expect(chmem('/', ['--sysroot', root, '-e', '-z', 'foo', '-b', '0']).stderr).toBe("chmem: unknown memory zone: foo\nTry 'chmem --help' for more information.\n");
    expect(chmem('/', ['--sysroot', join(tmp, 'none'), '-e', '0'])).toEqual({ stdout: '', stderr: 'chmem: cannot open /sys/devices/system/memory: No such file or directory\n', exitCode: 1 });
    const help = chmem('/', ['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain(' -h, --help               display this help\n');
  });

  it('size mode walks blocks and writes state files (512M disable from the top)', () => {
    const r = chmem('/', ['--sysroot', root, '-v', '-d', '512M']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(/^Memory Block \d+ \(0x[0-9a-f]{16}-0x[0-9a-f]{16}\) disabled$/);
  });
});
