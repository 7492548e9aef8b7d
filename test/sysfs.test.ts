// sysfs import and export against util-linux's two dumps: each dump imported into a machine and
// exported again must read the same to the real lsmem as the original, for all nine
// invocations of util-linux's own test driver.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mmsim } from './cli_run.js';
import { hasSharedData, sharedData, unless } from './helpers.js';

const lsmemDir = join(sharedData, 'util-linux', 'lsmem');
const hasLsmem = existsSync('/usr/bin/lsmem');
const COLS = 'RANGE,SIZE,STATE,REMOVABLE,BLOCK,NODE,ZONES';
// The invocations of tests/ts/lsmem/lsmem (../shared/data/util-linux/lsmem/lsmem-test-driver.sh).
const INVOCATIONS: string[][] = [
  ['--split=STATE,REMOVABLE'],
  ['--output', 'RANGE,SIZE', '--split', 'none'],
  ['--output', 'RANGE,SIZE,STATE', '--split', 'STATE'],
  ['--all', '--output', COLS],
  ['--raw', '--output', COLS, '--split', COLS],
  ['--json', '--output', COLS, '--split', COLS],
  ['-o', '+ZONES'],
  ['--output-all'],
  [],
];

describe.skipIf(!hasSharedData || !hasLsmem || !existsSync(lsmemDir))(
  `sysfs round trip through mmsim${unless(hasSharedData && hasLsmem && existsSync(lsmemDir), `needs /usr/bin/lsmem and ${lsmemDir}`)}`,
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mmsim-sysfs-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    // The driver's file order is the order of the expected outputs; check it names these options.
    const driver = existsSync(join(lsmemDir, 'lsmem-test-driver.sh')) ? readFileSync(join(lsmemDir, 'lsmem-test-driver.sh'), 'utf8') : '';

    it("uses the driver script's nine invocations", () => {
      expect(driver.match(/^\s+do_lsmem/gm)).toHaveLength(9);
    });

    for (const [name, arch] of [
      ['x86_64-16g', 'x86_64'],
      ['s390-zvm-6g', 's390x'],
    ] as const) {
      // 20 mmsim commands (in a runner, test/cli_run.ts) and 18 runs of the real lsmem, one after another: minutes on a loaded 2-core machine.
      it(`${name}: import, export, and the real lsmem reads both the same`, { timeout: 240_000 }, async () => {
        execFileSync('tar', ['-xjf', join(lsmemDir, `${name}.tar.bz2`), '-C', tmp]);
        const original = join(tmp, name);
        const machine = join(tmp, `${name}.yaml`);
        const exported = join(tmp, `${name}-export`);
        const imp = await mmsim('sysfs', 'import', original, '--arch', arch, '-o', machine);
        expect(imp.stderr).toBe('');
        const exp = await mmsim('sysfs', 'export', machine, exported);
        expect(exp.stderr).toBe('');
        expect(exp.status).toBe(0);
        for (const opts of INVOCATIONS) {
          const a = spawnSync('lsmem', [...opts, '--sysroot', original], { encoding: 'utf8' });
          const b = spawnSync('lsmem', [...opts, '--sysroot', exported], { encoding: 'utf8' });
          expect(b.stdout, `lsmem ${opts.join(' ')}`).toBe(a.stdout);
          expect(b.stderr).toBe(a.stderr);
          // mmsim's own lsmem (2.42) over the imported machine, booted, equals it over the dump.
          const c = await mmsim('lsmem', machine, ...opts);
          const d = await mmsim('lsmem', ...opts, '--sysroot', original);
          expect(c.stdout, `mmsim lsmem ${opts.join(' ')}`).toBe(d.stdout);
        }
      });
    }
  },
);
