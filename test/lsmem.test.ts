// lsmem: util-linux's own lsmem test (tests/ts/lsmem) replayed byte for byte against its dumps,
// plus options the test does not use, with expected text worked out from lsmem.c/libsmartcols
// and, where 2.38 behaves like 2.42, cross-checked against the installed /usr/bin/lsmem.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLsmem } from '../src/cli/commands/lsmem.js';
import { InputError } from '../src/errors.js';
import { lsmem, sizeToHumanString } from '../src/tools/lsmem.js';
import { readSysfsMemory } from '../src/formats/sysfs-memory-read.js';
import type { SysfsMemory } from '../src/formats/sysfs-memory.js';
import { hasSharedData, sharedData, unless } from './helpers.js';

const dataDir = join(sharedData, 'util-linux', 'lsmem');
const haveDumps = hasSharedData && existsSync(dataDir);
const DUMPS = ['x86_64-16g', 's390-zvm-6g'] as const;

/** One "$ lsmem <opts>" section of an expected file (lsmem-test-driver.sh's do_lsmem). */
interface Invocation {
  readonly opts: string;
  readonly stdout: string;
}

/** Splits an expected file: each section is "\n---\n\n" (echo -e), "$ lsmem OPTS\n", then stdout. */
function invocations(text: string): Invocation[] {
  const marker = '\n---\n\n$ lsmem ';
  expect(text.startsWith(marker)).toBe(true);
  return text
    .split(marker)
    .slice(1)
    .map((section) => {
      const nl = section.indexOf('\n');
      return { opts: section.slice(0, nl), stdout: section.slice(nl + 1) };
    });
}

let tmp = '';
const root = (name: string): string => join(tmp, name);

describe.skipIf(!haveDumps)(`lsmem replays util-linux tests/ts/lsmem byte for byte${unless(haveDumps, `no util-linux lsmem dumps in ${dataDir}`)}`, () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mmsim-lsmem-'));
    for (const name of DUMPS) execFileSync('tar', ['-xjf', join(dataDir, `${name}.tar.bz2`), '-C', tmp]);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const name of DUMPS) {
    const text = haveDumps ? readFileSync(join(dataDir, `${name}.expected`), 'utf8') : '';
    const list = haveDumps ? invocations(text) : [];

    it(`${name}: the expected file has the driver's 9 invocations`, () => {
      expect(list).toHaveLength(9);
    });

    for (const { opts, stdout } of list) {
      it(`${name}: lsmem ${opts}`, () => {
        const args = opts.split(/\s+/).filter((w) => w !== '');
        const r = runLsmem([...args, '--sysroot', root(name)], {});
        expect(r.stderr).toBe('');
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toBe(stdout);
      });
    }

    it(`${name}: the driver's whole output file is reproduced`, () => {
      let out = '';
      for (const { opts } of list) {
        const args = opts.split(/\s+/).filter((w) => w !== '');
        out += `\n---\n\n$ lsmem ${opts}\n${runLsmem([...args, '--sysroot', root(name)], {}).stdout}`;
      }
      expect(out).toBe(text);
    });
  }
});

// The s390 dump's blocks (from its --all listing): 0-6 DMA, 7 DMA/Normal (not removable),
// 8-9, 12-13, 15 removable, 10-11, 16-17 not, 14 and 20-23 offline; 256M blocks.
const installedLsmem = '/usr/bin/lsmem';
const haveInstalled = existsSync(installedLsmem) && /util-linux 2\.38/.test(spawnSync(installedLsmem, ['--version'], { encoding: 'utf8' }).stdout ?? '');
const NO_LSMEM_238 = `${installedLsmem} is not util-linux 2.38`;

/** The installed lsmem's stdout for `args` over `dir`. */
function installed(args: readonly string[], dir: string): string {
  return execFileSync(installedLsmem, [...args, '--sysroot', dir], { encoding: 'utf8' });
}

/** "label: value" pairs of a summary, whatever the padding. */
function summaryPairs(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/:\s+/));
}

describe.skipIf(!haveDumps)(`lsmem options outside the util-linux test (s390 dump)${unless(haveDumps, `no util-linux lsmem dumps in ${dataDir}`)}`, () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mmsim-lsmem-'));
    execFileSync('tar', ['-xjf', join(dataDir, 's390-zvm-6g.tar.bz2'), '-C', tmp]);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const s390 = (): string => root('s390-zvm-6g');

  // SIZE is "%"PRIu64 with -b: 10 digits > the 5-column hint, so the column is 10 wide, right aligned.
  const bytesTable = [
    'RANGE                                       SIZE   STATE REMOVABLE BLOCK',
    '0x0000000000000000-0x000000006fffffff 1879048192  online       yes   0-6',
    '0x0000000070000000-0x000000007fffffff  268435456  online        no     7',
    '0x0000000080000000-0x000000009fffffff  536870912  online       yes   8-9',
    '0x00000000a0000000-0x00000000bfffffff  536870912  online        no 10-11',
    '0x00000000c0000000-0x00000000dfffffff  536870912  online       yes 12-13',
    '0x00000000e0000000-0x00000000efffffff  268435456 offline              14',
    '0x00000000f0000000-0x00000000ffffffff  268435456  online       yes    15',
    '0x0000000100000000-0x000000011fffffff  536870912  online        no 16-17',
    '0x0000000120000000-0x000000013fffffff  536870912  online       yes 18-19',
    '0x0000000140000000-0x000000017fffffff 1073741824 offline           20-23',
  ];
  // print_summary() with -b: "%-32s %15"PRIu64.
  const bytesSummary = ['Memory block size:                     268435456', 'Total online memory:                  5100273664', 'Total offline memory:                 1342177280'];

  it('--bytes prints SIZE and the summary in bytes', () => {
    const r = runLsmem(['--bytes', '--sysroot', s390()], {});
    expect(r.stdout).toBe(`${bytesTable.join('\n')}\n\n${bytesSummary.join('\n')}\n`);
    expect(r.exitCode).toBe(0);
  });

  it.skipIf(!haveInstalled)(`--bytes table matches lsmem 2.38${unless(haveInstalled, NO_LSMEM_238)}`, () => {
    expect(runLsmem(['-b', '--summary=never', '--sysroot', s390()], {}).stdout).toBe(installed(['-b', '--summary=never'], s390()));
    expect(runLsmem(['-b', '-a', '-o', '+NODE,ZONES', '--summary=never', '--sysroot', s390()], {}).stdout).toBe(installed(['-b', '-a', '-o', '+NODE,ZONES', '--summary=never'], s390()));
  });

  it('--noheadings drops the header, and header widths no longer count', () => {
    // count_column_width(): without a header the minimum width is 1, so SIZE (4 wide at most)
    // takes its absolute hint of 5, REMOVABLE is 3 wide ("yes") and STATE 7 ("offline").
    const r = runLsmem(['--noheadings', '--sysroot', s390()], {});
    expect(r.stdout).toBe(
      [
        '0x0000000000000000-0x000000006fffffff  1.8G  online yes   0-6',
        '0x0000000070000000-0x000000007fffffff  256M  online  no     7',
        '0x0000000080000000-0x000000009fffffff  512M  online yes   8-9',
        '0x00000000a0000000-0x00000000bfffffff  512M  online  no 10-11',
        '0x00000000c0000000-0x00000000dfffffff  512M  online yes 12-13',
        '0x00000000e0000000-0x00000000efffffff  256M offline        14',
        '0x00000000f0000000-0x00000000ffffffff  256M  online yes    15',
        '0x0000000100000000-0x000000011fffffff  512M  online  no 16-17',
        '0x0000000120000000-0x000000013fffffff  512M  online yes 18-19',
        '0x0000000140000000-0x000000017fffffff    1G offline     20-23',
        '',
        'Memory block size:                256M',
        'Total online memory:              4.8G',
        'Total offline memory:             1.3G',
        '',
      ].join('\n'),
    );
  });

  it.skipIf(!haveInstalled)(`--noheadings matches lsmem 2.38 where no header is wider than its data${unless(haveInstalled, NO_LSMEM_238)}`, () => {
    // 2.38 still sized columns by their headers under --noheadings; these columns' data is wider.
    const args = ['-n', '-o', 'RANGE,STATE,BLOCK', '--summary=never'];
    expect(runLsmem([...args, '--sysroot', s390()], {}).stdout).toBe(installed(args, s390()));
  });

  it('--pairs prints KEY="value" per cell, empty for no data, and no summary', () => {
    const r = runLsmem(['--pairs', '--sysroot', s390()], {});
    const row = (range: string, size: string, state: string, removable: string, block: string): string => `RANGE="${range}" SIZE="${size}" STATE="${state}" REMOVABLE="${removable}" BLOCK="${block}"`;
    expect(r.stdout).toBe(
      [
        row('0x0000000000000000-0x000000006fffffff', '1.8G', 'online', 'yes', '0-6'),
        row('0x0000000070000000-0x000000007fffffff', '256M', 'online', 'no', '7'),
        row('0x0000000080000000-0x000000009fffffff', '512M', 'online', 'yes', '8-9'),
        row('0x00000000a0000000-0x00000000bfffffff', '512M', 'online', 'no', '10-11'),
        row('0x00000000c0000000-0x00000000dfffffff', '512M', 'online', 'yes', '12-13'),
        row('0x00000000e0000000-0x00000000efffffff', '256M', 'offline', '', '14'),
        row('0x00000000f0000000-0x00000000ffffffff', '256M', 'online', 'yes', '15'),
        row('0x0000000100000000-0x000000011fffffff', '512M', 'online', 'no', '16-17'),
        row('0x0000000120000000-0x000000013fffffff', '512M', 'online', 'yes', '18-19'),
        row('0x0000000140000000-0x000000017fffffff', '1G', 'offline', '', '20-23'),
        '',
      ].join('\n'),
    );
  });

  it.skipIf(!haveInstalled)(`--pairs matches lsmem 2.38${unless(haveInstalled, NO_LSMEM_238)}`, () => {
    for (const args of [['--pairs'], ['-P', '-o', '+NODE,ZONES', '-S', 'zones'], ['-P', '-b', '-a']]) {
      expect(runLsmem([...args, '--sysroot', s390()], {}).stdout).toBe(installed(args, s390()));
    }
  });

  it('--summary=only (and bare --summary) prints only the summary', () => {
    // 19 online blocks of 256M are 4.75G, printed "4.8G"; 5 offline are 1.25G, "1.3G".
    const want = ['Memory block size:                256M', 'Total online memory:              4.8G', 'Total offline memory:             1.3G', ''].join('\n');
    expect(runLsmem(['--summary=only', '--sysroot', s390()], {}).stdout).toBe(want);
    expect(runLsmem(['--summary', '--sysroot', s390()], {}).stdout).toBe(want);
    // The shortcut skips the column list entirely, so an unknown column is no error.
    expect(runLsmem(['--summary=only', '-o', 'NOSUCH', '--sysroot', s390()], {}).exitCode).toBe(0);
    expect(runLsmem(['--summary=only', '-b', '--sysroot', s390()], {}).stdout).toBe(`${bytesSummary.join('\n')}\n`);
  });

  it.skipIf(!haveInstalled)(`--summary=only values match lsmem 2.38 (whose labels are padded less)${unless(haveInstalled, NO_LSMEM_238)}`, () => {
    for (const args of [['--summary=only'], ['--summary=only', '-b']]) {
      expect(summaryPairs(runLsmem([...args, '--sysroot', s390()], {}).stdout)).toEqual(summaryPairs(installed(args, s390())));
    }
  });

  it('--summary=never and --summary=always', () => {
    expect(runLsmem(['--summary=never', '-o', 'SIZE', '-S', 'none', '--sysroot', s390()], {}).stdout).toBe('SIZE\n  6G\n');
    // --json turns the summary off, a later --summary=always on again, after a blank line.
    const r = runLsmem(['--json', '--summary=always', '-o', 'NODE', '-S', 'none', '--sysroot', s390()], {});
    expect(r.stdout).toBe(
      '{\n   "memory": [\n      {\n         "node": 0\n      }\n   ]\n}\n\n' +
        'Memory block size:                256M\nTotal online memory:              4.8G\nTotal offline memory:             1.3G\n',
    );
  });

  it('errors are one line on stderr with exit code 2', () => {
    const cases: [string[], string][] = [
      [['--bogus'], "lsmem: unrecognized option '--bogus'\n"],
      [['-x'], "lsmem: invalid option -- 'x'\n"],
      [['-o', 'RANGE,NOSUCH'], 'lsmem: unknown column: NOSUCH\n'],
      [['-S', 'NOSUCH,STATE'], 'lsmem: unknown column: NOSUCH,STATE\n'],
      [['--json', '--raw'], 'lsmem: options --json and --raw cannot be combined\n'],
      [['--all', '--split', 'none'], 'lsmem: options --all and --split cannot be combined\n'],
      [['--summary=sometimes'], 'lsmem: unsupported --summary argument\n'],
      [['--raw', '--summary=only'], 'lsmem: options --{raw,json,pairs} and --summary=only are mutually exclusive\n'],
      [['--o', 'SIZE'], "lsmem: option '--o' is ambiguous; possibilities: '--output' '--output-all'\n"],
      [['stray'], 'lsmem: bad usage\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = runLsmem([...args, '--sysroot', s390()], {});
      expect({ args, ...r }).toEqual({ args, stdout: '', stderr, exitCode: 2 });
    }
  });
});

describe('lsmem pieces', () => {
  it('size_to_human_string rounds to one decimal and drops ".0"', () => {
    const G = 1n << 30n,
      M = 1n << 20n;
    expect(sizeToHumanString(0n)).toBe('0B');
    expect(sizeToHumanString(128n * M)).toBe('128M');
    expect(sizeToHumanString(21n * 128n * M)).toBe('2.6G'); // 2.625G
    expect(sizeToHumanString(12n * 128n * M)).toBe('1.5G');
    expect(sizeToHumanString(16n * G)).toBe('16G');
    expect(sizeToHumanString(1023n)).toBe('1023B');
    expect(sizeToHumanString(G - 1n)).toBe('1024M'); // 1023.999M rounds up to 1024 with no fraction
  });

  it('reading a missing tree is an InputError naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-lsmem-empty-'));
    try {
      expect(() => readSysfsMemory(dir)).toThrow(InputError);
      expect(() => readSysfsMemory(dir)).toThrow(join(dir, 'sys', 'devices', 'system', 'memory'));
      expect(runLsmem(['--sysroot', dir], {})).toEqual({
        stdout: '',
        stderr: 'lsmem: cannot open /sys/devices/system/memory: No such file or directory\n',
        exitCode: 2,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CONFIGURED, MEMMAP-ON-MEMORY and the memmap_on_memory summary line appear with /sys/firmware/memory', () => {
    // memory2 is deconfigured: offline, and absent from /sys/devices/system/memory.
    const view: SysfsMemory = {
      blockSizeBytes: '10000000',
      blocks: [
        { index: 0, state: 'online', removable: '0', validZones: 'DMA', nodes: [0] },
        { index: 1, state: 'online', removable: '1', validZones: 'Normal', nodes: [0] },
      ],
      firmwareBlocks: [
        { index: 0, config: '1', memmapOnMemory: '0' },
        { index: 1, config: '1', memmapOnMemory: '1' },
        { index: 2, config: '0', memmapOnMemory: '0' },
      ],
      memmapOnMemoryParameter: 'Y',
    };
    expect(lsmem(view, ['--output-all']).stdout).toBe(
      [
        'RANGE                                 SIZE   STATE REMOVABLE BLOCK NODE  ZONES CONFIGURED MEMMAP-ON-MEMORY',
        '0x0000000000000000-0x000000000fffffff 256M  online        no     0    0    DMA        yes               no',
        '0x0000000010000000-0x000000001fffffff 256M  online       yes     1    0 Normal        yes              yes',
        '0x0000000020000000-0x000000002fffffff 256M offline               2    0                no               no',
        '',
        'Memory block size:                256M',
        'Total online memory:              512M',
        'Total offline memory:             256M',
        'Memmap on memory parameter:        yes',
        '',
      ].join('\n'),
    );
    // Without /sys/firmware/memory the two columns are left out of --output-all.
    const plain: SysfsMemory = { blockSizeBytes: view.blockSizeBytes, blocks: view.blocks };
    expect(lsmem(plain, ['--output-all', '--summary=never']).stdout.split('\n')[0]).toBe('RANGE                                 SIZE  STATE REMOVABLE BLOCK NODE  ZONES');
  });
});
