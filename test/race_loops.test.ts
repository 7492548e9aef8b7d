// mmsim verify --race FILE without QEMU: a scenario file's concurrent block translated into guest
// loops (each operation, then the inverse that gives back the state the steps before the block
// left), the guest shell text, and the one-line refusals. Expected loops are worked by hand from
// the scenario files: 128 MiB memory blocks (x86 below 64 GiB, the model's and the guests'), so
// 0x108000000 is memory33 and 0x110000000 memory34.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionText, raceLoopsShell } from '../src/verify/race_loops.js';
import { scenarioRaceLoops } from '../src/verify/race_file.js';
import { root } from './helpers.js';
import { mmsim } from './cli_run.js';

const example = join(root, 'examples', 'concurrent-online-remove.scenario.yaml');
const machine = join(root, 'examples', 'qemu-2node.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mmsim-race-loops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scenario file on qemu-2node.yaml: the three pc-dimms of the example (C, A, B), then `rest` (YAML step lines). */
function scenario(name: string, rest: string): string {
  const file = join(dir, `${name}.scenario.yaml`);
  writeFileSync(
    file,
    `machine: ${machine}
debug_vm: true
steps:
  - add: { node: 1, start: 4G, size: 128M }
  - add: { node: 1, start: 0x108000000, size: 128M }
  - add: { node: 1, start: 0x110000000, size: 128M }
${rest}`,
  );
  return file;
}

const texts = (file: string): { name: string; at: string; op: string; forward: string[]; inverse: string[] }[] =>
  scenarioRaceLoops(file, '5.3.0').loops.map((l) => ({ name: l.name, at: l.at, op: l.op, forward: l.forward.map(actionText), inverse: l.inverse.map(actionText) }));

describe('the loops of a concurrent block', () => {
  it("examples/concurrent-online-remove: A's online loop re-plugs A (never onlined before the block); B's remove loop re-plugs B and replays its online and offline", () => {
    expect(texts(example)).toEqual([
      {
        name: 'L1',
        at: `${example}:18:9`,
        op: 'online_movable memory33',
        forward: ['online_movable memory33'],
        // memory33 (A) was only added: its memmap never initialised; offline alone would leave it initialised.
        inverse: ['offline memory33', 'device_del pc-dimm 0x108000000 (memory33)', 'device_add pc-dimm 0x108000000 (memory33)'],
      },
      {
        name: 'L2',
        at: `${example}:19:9`,
        op: 'remove memory34',
        forward: ['device_del pc-dimm 0x110000000 (memory34)'],
        // Steps 5 and 6 of the file: B onlined movable, then offlined.
        inverse: ['device_add pc-dimm 0x110000000 (memory34)', 'online_movable memory34', 'offline memory34'],
      },
    ]);
  });

  it('an offline loop onlines each block back with the type it last had; boot memory with plain online; an online of a block onlined before is undone by offline alone', () => {
    const file = scenario(
      'offline',
      `  - online: { blocks: 32, type: online_movable }
  - online: { blocks: 33, type: online_kernel }
  - offline: { blocks: 33 }
  - concurrent:
      - offline: { blocks: 8-9 }
      - offline: { blocks: 32 }
      - online: { blocks: 33, type: online_movable }
      - add: { node: 1, start: 0x118000000, size: 128M }
`,
    );
    expect(texts(file).map((l) => [l.forward, l.inverse])).toEqual([
      [['offline memory8-9'], ['online memory8-9']],
      [['offline memory32'], ['online_movable memory32']],
      [['online_movable memory33'], ['offline memory33']],
      [['device_add pc-dimm 0x118000000 (memory35)'], ['device_del pc-dimm 0x118000000 (memory35)']],
    ]);
  });

  it("a remove's inverse replays every earlier online, offline and state write on the dimm's blocks, in order", () => {
    const file = scenario(
      'replay',
      `  - add: { node: 1, start: 0x118000000, size: 256M }
  - online: { blocks: 35, type: online_movable }
  - write: { path: memory36/state, value: online_movable }
  - online: { blocks: 32 }
  - offline: { blocks: 35 }
  - concurrent:
      - online: { blocks: 33, type: online_movable }
      - remove: { start: 0x118000000, size: 256M }
`,
    );
    expect(texts(file)[1]).toMatchObject({
      op: 'remove memory35-36',
      forward: ['device_del pc-dimm 0x118000000 (memory35-36)'],
      inverse: ['device_add pc-dimm 0x118000000 (memory35-36)', 'online_movable memory35', 'online_movable memory36', 'offline memory35'],
    });
  });

  it('the guest shell text: both loops in the background, every action in order, a bounded wait after each plug and unplug; sh -n parses it', () => {
    const loops = scenarioRaceLoops(example, '5.3.0').loops;
    const text = raceLoopsShell(loops, 60, 10);
    expect(text.match(/@@REQ L\d \w+ 0x[0-9a-f]+/g)).toEqual(['@@REQ L1 unplug 0x108000000', '@@REQ L1 plug 0x108000000', '@@REQ L2 unplug 0x110000000', '@@REQ L2 plug 0x110000000']);
    expect(text.match(/echo \w+ > \/sys\/devices\/system\/memory\/memory\d+\/state/g)).toEqual([
      'echo online_movable > /sys/devices/system/memory/memory33/state',
      'echo offline > /sys/devices/system/memory/memory33/state',
      'echo online_movable > /sys/devices/system/memory/memory34/state',
      'echo offline > /sys/devices/system/memory/memory34/state',
    ]);
    expect(text).toMatch(/^\( n=0; end=\$\(\( \$\(cut -d\. -f1 \/proc\/uptime\) \+ 60 \)\); while .* && \[ \$n -lt 10 \]; do /);
    expect(text.endsWith(' & wait')).toBe(true);
    expect(spawnSync('sh', ['-n', '-c', text]).status).toBe(0);
  });
});

describe('what cannot be looped: one line naming the operation', () => {
  it.each([
    [
      'errno',
      '      - online: { blocks: 33, type: online_movable }\n      - offline: { blocks: 34, errno: 16 }\n',
      ':9:9: verify --race cannot loop this operation: it expects the kernel to refuse it (errno: 16)',
    ],
    [
      'virtio',
      '      - online: { blocks: 33 }\n      - add: { node: 1, start: 0x118000000, size: 128M, device: virtio-mem }\n',
      ':9:9: verify --race cannot loop this operation: a virtio-mem add has no device_del',
    ],
    [
      'part',
      '      - online: { blocks: 33 }\n      - remove: { start: 0x110000000, size: 64M }\n',
      ':9:9: verify --race cannot loop this operation: [0x110000000, 0x114000000) is not a whole pc-dimm added before the block',
    ],
    ['boot', '      - online: { blocks: 33 }\n      - remove: { start: 0x40000000, size: 128M }\n', ':9:9: verify --race cannot loop this operation: [0x40000000, 0x48000000) is not a whole pc-dimm'],
    [
      'same',
      '      - online: { blocks: 34 }\n      - remove: { start: 0x110000000, size: 128M }\n',
      ':9:9: verify --race cannot loop this operation: it touches memory34 as operation 1 of the block does',
    ],
    // Online of A re-plugs A's dimm: a remove of A beside it touches the same dimm.
    [
      'dimm',
      '      - online: { blocks: 33 }\n      - remove: { start: 0x108000000, size: 128M }\n',
      ':9:9: verify --race cannot loop this operation: it touches memory33 as operation 1 of the block does',
    ],
  ])('%s', (name, block, message) => {
    const file = scenario(name, `  - concurrent:\n${block}`);
    expect(() => scenarioRaceLoops(file, '5.3.0')).toThrow(`${file}${message}`);
  });

  it('a step after the block other than expect or print', () => {
    const file = scenario('after', '  - concurrent:\n      - online: { blocks: 33 }\n      - remove: { start: 0x110000000, size: 128M }\n  - offline: { blocks: 33 }\n');
    expect(() => scenarioRaceLoops(file, '5.3.0')).toThrow(`${file}:10:5: verify --race stops at the concurrent block`);
  });

  it('no concurrent block', () => {
    const file = scenario('none', '  - online: { blocks: 33 }\n');
    expect(() => scenarioRaceLoops(file, '5.3.0')).toThrow(`${file}: no concurrent block`);
  });
});

describe('mmsim verify --race FILE: one-line errors before QEMU starts', () => {
  /** A minimal bzImage of release 5.3.0: the setup header's "HdrS" at 0x202, kernel_version at 0x20e (Documentation/x86/boot.rst). */
  const bz = join(dir, 'bzImage');
  const b = new Uint8Array(0x3300);
  b.set([0x48, 0x64, 0x72, 0x53], 0x202);
  b[0x20f] = 0x30;
  b.set(
    [...'5.3.0 (root@vm) #1 SMP'].map((c) => c.charCodeAt(0)),
    0x3200,
  );
  writeFileSync(bz, b);
  it.each([
    [['--race', join(dir, 'nope.scenario.yaml'), '--kernel', 'package.json'], /--race .*nope\.scenario\.yaml: no such file; give a scenario file with a concurrent block/],
    [['--race', example, '--kernel', bz, '--sequential'], /--sequential, --zone-steps, --no-guard and --walker go with the built-in scenarios/],
    [
      ['--race', scenario('cli-errno', '  - concurrent:\n      - online: { blocks: 33 }\n      - offline: { blocks: 34, errno: 16 }\n'), '--kernel', bz],
      /cli-errno\.scenario\.yaml:9:9: verify --race cannot loop this operation/,
    ],
  ])('%j', async (args, message) => {
    const p = await mmsim('verify', ...args);
    expect(p.stderr).toMatch(message);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.status).toBe(2);
  });
});
