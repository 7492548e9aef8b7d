// Hostile input to the tools (issue 20, part A2): replay files, design files, --svg paths, sysfs
// export and import, removes of what was never added, daxctl on devices that do not exist, and
// the 6.1 memmap_on_memory checker false alarm. Each class has its own small reproducer; most run
// in-process, a few through the CLI to check exit code 2 and a single stderr line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { replayCommand, exploreCommand } from '../src/cli/explore.js';
import { bootMachineFile, hotplugJson, readInputFile, runScenario, runTask } from '../src/drivers/run.js';
import { scenarioWorld } from '../src/drivers/scenario_world.js';
import { addMemory, onlineBlock, removeMemory } from '../src/kernel/memory_hotplug.js';
import { Scheduler } from '../src/drivers/scheduler.js';
import { hotplugCheckers, mightSleepChecker, zoneSpanChecker, type Checker } from '../src/kernel/debug.js';
import type { Machine } from '../src/kernel/machine.js';
import type { Task } from '../src/kernel/task.js';
import { ndctl } from '../src/tools/ndctl.js';
import { daxctl } from '../src/tools/daxctl.js';
import { loadDesignFile, resolveDesign } from '../src/designs/designs.js';
import { kernelFeaturesSchema, profileForOption } from '../src/profiles/profile.js';
import { parse as parseYaml } from 'yaml';
import { machineYamlFromSysfs, makeDirs, yamlQuote } from '../src/formats/sysfs-export.js';
import { readSysfsMemory } from '../src/formats/sysfs-memory-read.js';
import { loadMachineYaml } from '../src/formats/machine-yaml.js';
import { cliPath, machineYaml, root, zone, unless } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsim-hostile-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function mmsim(...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof mmsim>, re: RegExp): void {
  expect(r.code, r.err).toBe(2);
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(re);
}

/** The InputError message a promise rejects with (fails the test if it resolves or throws something else). */
async function inputError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toMatch(/\n/);
    return msg;
  }
  throw new Error('expected an InputError');
}

// seed-2019 has two tasks (builtin_scenarios.ts): 0 memremaps namespace A, 1 memunmaps namespace B.
// The replay below is hand-written: B's first two steps (start, then its read of pfn 0x108000's
// struct page) are the 2-step schedule of the poisoned-read violation mmsim explore reports.
const REPLAY = { scenario: 'seed-2019', design: 'v5.3', config: 'debug_vm', walkers: [], violations: [{ invariant: 'x', message: 'm', schedule: [1, 1] }] };
const replayFile = (name: string, edit: (j: Record<string, unknown>) => unknown): string => {
  const j = structuredClone(REPLAY) as unknown as Record<string, unknown>;
  return file(name, JSON.stringify(edit(j) ?? j, null, 2));
};
const replay = (f: string): Promise<void> => replayCommand(f, undefined, () => {});

describe('explore --replay FILE: checked against a schema and the scenario before use', () => {
  it('null is refused at 1:1, saying an object was expected', async () => {
    expect(await inputError(replay(file('null.json', 'null')))).toMatch(/null\.json:1:1: .*expected object, received null/);
  });
  it('walkers given as a string: the line and column of the value', async () => {
    const f = replayFile('walkers.json', (j) => ({ ...j, walkers: 'compaction' }));
    // JSON.stringify(_, null, 2): "walkers" is the fifth key, on line 5, its value at column 14.
    expect(await inputError(replay(f))).toMatch(/walkers\.json:5:14: walkers: .*expected array, received string/);
  });
  it('a walker that does not exist', async () => {
    const f = replayFile('walker-name.json', (j) => ({ ...j, walkers: ['nope'] }));
    expect(await inputError(replay(f))).toMatch(/walkers\[0\]: .*expected one of/);
  });
  it('a design path given as an array', async () => {
    const f = replayFile('design-array.json', (j) => ({ ...j, design_file: ['examples/designs/dont-shrink-zone-device.mjs'] }));
    expect(await inputError(replay(f))).toMatch(/design_file: .*expected string, received array/);
  });
  it('a task that does not exist in the scenario (seed-2019 has tasks 0 and 1)', async () => {
    const f = replayFile('task.json', (j) => {
      (j['violations'] as { schedule: number[] }[])[0]!.schedule = [1, 2];
    });
    expect(await inputError(replay(f))).toMatch(/violations\[0\]\.schedule\[1\]: task 2 is not a task of this scenario; its tasks are 0 \(memremap A\), 1 \(memunmap B\)/);
  });
  it('a schedule longer than the task can run: out of range for its scenario', async () => {
    const f = replayFile('long.json', (j) => {
      (j['violations'] as { schedule: number[] }[])[0]!.schedule = Array.from({ length: 10_000 }, () => 1);
    });
    expect(await inputError(replay(f))).toMatch(/schedule\[\d+\]: task 1 \(memunmap B\) cannot run at step \d+: it has finished/);
  });
  it('negative and fractional task numbers', async () => {
    for (const bad of [-1, 0.5]) {
      const f = replayFile(`num${bad}.json`, (j) => {
        (j['violations'] as { schedule: number[] }[])[0]!.schedule = [bad];
      });
      expect(await inputError(replay(f))).toMatch(/violations\[0\]\.schedule\[0\]: /);
    }
  });
  it('a scenario that does not exist, and a config that does not exist', async () => {
    expect(await inputError(replay(replayFile('scen.json', (j) => ({ ...j, scenario: 'nope\nx' }))))).toMatch(/scen\.json:2:\d+: explore: unknown scenario nope\\nx/);
    expect(await inputError(replay(replayFile('cfg.json', (j) => ({ ...j, config: 'nope' }))))).toMatch(/config nope: expected one of debug_vm/);
  });
  it('a file with no violation', async () => {
    expect(await inputError(replay(replayFile('none.json', (j) => ({ ...j, violations: [] }))))).toMatch(/no violation saved/);
  });
  it('a well-formed replay still replays', async () => {
    const lines: string[] = [];
    // The saved message differs from what happens: the replay runs, then says so (exit 1, not 2).
    await expect(
      replayCommand(
        replayFile('ok.json', () => undefined),
        undefined,
        (s) => lines.push(s),
      ),
    ).rejects.toThrow(/did not happen again/);
    // What happened instead: B's two steps, as explore prints them.
    expect(lines.join('')).toBe('        1  B: start\n        2  B (page_to_nid): read struct page 0x108000\n');
  });
  it('huge inputs and files that are not regular: refused before reading (readInputFile)', () => {
    expect(() => readInputFile('/dev/zero')).toThrow(/\/dev\/zero: a character device; give a regular file/);
    expect(() => readInputFile(dir)).toThrow(/a directory; give a regular file/);
    const big = file('big.json', ' '.repeat(1025));
    expect(() => readInputFile(big, 1024)).toThrow(/more than 1024 bytes/);
    expect(readInputFile(big, 1025)).toHaveLength(1025);
  });
  it('through the CLI: --replay /dev/zero is one line, exit 2', () => {
    expectOneLineError(mmsim('explore', '--replay', '/dev/zero'), /^mmsim: \/dev\/zero: a character device; give a regular file$/);
    expectOneLineError(mmsim('explore', '--replay', file('null2.json', 'null')), /null2\.json:1:1: /);
  });
});

describe('design files: features checked against KernelFeatures, a step that throws is the file’s error', () => {
  const design = (name: string, body: string): string => file(`${name}.mjs`, `export default ${body};\n`);
  it('the schema has exactly the keys of the 6.18 profile (KernelFeatures)', () => {
    expect(Object.keys(kernelFeaturesSchema.shape).sort()).toEqual(Object.keys(profileForOption('6.18').features).sort());
  });
  it('an unknown feature is refused, naming it', async () => {
    const f = design('unknown-feature', "{ name: 'u', base: 'v5.3', features: { shrinkAtOfline: true } }");
    expect(await inputError(loadDesignFile(f))).toMatch(/unknown feature "shrinkAtOfline"; a design sets features of KernelFeatures/);
  });
  it('a feature value of the wrong type, or outside its set, is refused', async () => {
    expect(await inputError(loadDesignFile(design('wrong-type', "{ name: 'w', base: 'v5.3', features: { shrinkAtOffline: 'yes' } }")))).toMatch(/features\.shrinkAtOffline: .*expected boolean/);
    expect(await inputError(loadDesignFile(design('wrong-enum', "{ name: 'e', base: 'v5.3', features: { memmapOnMemory: 'all' } }")))).toMatch(/features\.memmapOnMemory: .*"single-block"/);
    expect(await inputError(loadDesignFile(design('wrong-key', "{ name: 'k', base: 'v5.3', feature: {} }")))).toMatch(/unknown key "feature"/);
  });
  it('a valid design still loads, its features applied', async () => {
    const d = await loadDesignFile(design('ok', "{ name: 'ok', base: 'v5.3', features: { shrinkAtOffline: true, memmapOnMemory: 'per-block' } }"));
    expect(resolveDesign(d, [d]).profile.features).toMatchObject({ shrinkAtOffline: true, memmapOnMemory: 'per-block' });
  });
  it('a step that throws: "design FILE: step S threw: message", wherever it runs (explore)', async () => {
    const f = design('throws', "{ name: 'throws', base: 'v5.3', steps: { *memmap_init_zone_device(api, m) { throw new Error('boom\\nsecond line'); } } }");
    const msg = await inputError(exploreCommand('seed-2019', { design: f, reduce: 'dpor', config: 'debug_vm', bound: '0' }, () => {}));
    expect(msg).toBe(`design ${f}: step memmap_init_zone_device threw: boom\\nsecond line`);
  });
  it("a step that breaks the scenario's setup (returns nothing where the kernel returns an errno) is the file's error, not mmsim's (fuzz seed 1, design #939)", async () => {
    // pagemap_range runs while memremap B sets the stage; without "return" its value is undefined.
    const f = design('no-return', "{ name: 'nr', base: 'seqlock-after-unlock', steps: { *pagemap_range(api, ...a) { yield* api.base(...a); } } }");
    expect(await inputError(exploreCommand('seed-2019', { design: f, reduce: 'dpor', config: 'debug_vm_pgflags', runs: '2' }, () => {}))).toBe(
      `design ${f}: seed-2019's setup (before its concurrent tasks) under this design: memremap B returned undefined: a step must return what the kernel's does (return yield* api.base(...a))`,
    );
  });
  it('a step that yields what is not a kernel yield, or is no generator', async () => {
    const y = design('yields-null', "{ name: 'yn', base: 'v5.3', steps: { *memmap_init_zone_device(api, m) { yield null; } } }");
    expect(await inputError(exploreCommand('seed-2019', { design: y, reduce: 'dpor', config: 'debug_vm', bound: '0' }, () => {}))).toMatch(
      /step memmap_init_zone_device yielded null, not a yield object/,
    );
    const g = design('not-generator', "{ name: 'ng', base: 'v5.3', steps: { memmap_init_zone_device(api, m) { return 5; } } }");
    expect(await inputError(exploreCommand('seed-2019', { design: g, reduce: 'dpor', config: 'debug_vm', bound: '0' }, () => {}))).toMatch(/did not return a generator/);
  });
  it('a step that releases a lock it does not hold: the file\'s error, not "internal error" (fuzz seed 1, design #171)', async () => {
    const f = design(
      'double-up-write',
      "{ name: 'du', base: 'v5.3', steps: { *shrink_zone_span(api, m) { yield { op: 'up_write', lock: m.memHotplugLock }; yield { op: 'up_write', lock: m.memHotplugLock }; } } }",
    );
    // shrink_zone_span runs inside mem_hotplug_begin/done: the first up_write releases the lock its task holds, the second cannot.
    expect(await inputError(exploreCommand('seed-2019', { design: f, reduce: 'dpor', config: 'no_debug_vm', bound: '0' }, () => {}))).toBe(
      `design ${f}: step shrink_zone_span yielded up_write: mem_hotplug_lock: percpu_up_write by task 1 that does not hold it`,
    );
  });
  it('a design named like a built-in one is refused at load (a base chain through itself overflowed the stack; fuzz #380)', async () => {
    expect(await inputError(loadDesignFile(design('named-v53', "{ name: 'v5.3', base: 'serialize' }")))).toMatch(/: name v5\.3 is a built-in design's; give the design a name of its own/);
    // A chain of user designs that loops is still one line, however long the chain.
    const a = { name: 'loop-a', summary: '', base: 'loop-b', features: {}, steps: {} };
    const b = { name: 'loop-b', summary: '', base: 'serialize', features: {}, steps: {} };
    const c = { ...b, base: 'loop-a' };
    expect(resolveDesign(a, [a, b]).chain).toEqual(['loop-a', 'loop-b', 'serialize', 'v5.3', '5.3']);
    expect(() => resolveDesign(a, [a, c])).toThrow(/design loop-b: its base loop-a leads back to itself/);
  });
  it('features given as JSON with an own "__proto__" key are refused as unknown, not silently dropped', async () => {
    const f = design('proto', "{ name: 'p', base: 'v5.3', features: JSON.parse('{\"__proto__\": {\"shrinkAtOffline\": true}}') }");
    expect(await inputError(loadDesignFile(f))).toMatch(/unknown feature "__proto__"/);
  });
  it('through the CLI (time and compare run the step too): one line, exit 2', () => {
    const f = design('throws-cli', "{ name: 'tc', base: 'v5.3', steps: { *memmap_init_zone_device(api, m) { yield { op: 'might_sleep', where: 'x' }; null.x; } } }");
    const re = new RegExp(`^mmsim: design ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: step memmap_init_zone_device threw: Cannot read properties of null`);
    expectOneLineError(mmsim('time', 'seed-2019', '--design', f), re);
    // The failing design first: v5.3's exhaustive search before it takes minutes since issue 16 (its hole loop and shrink_pgdat_span).
    expectOneLineError(mmsim('compare', 'seed-2019', '--designs', `${f},v5.3`), re);
  });
});

describe('time --svg into a missing directory', () => {
  it('is refused before the run: one line, exit 2, nothing printed', () => {
    const missing = join(dir, 'missing', 'x.svg');
    const r = mmsim('time', 'seed-2019', '--svg', missing);
    expectOneLineError(r, /^mmsim: --svg .*missing\/x\.svg: cannot use the directory .*missing \(ENOENT\); create it first/);
    expect(r.out).toBe('');
    expectOneLineError(mmsim('time', 'seed-2019', '--svg', dir), /^mmsim: --svg .*: a directory; give a file name/);
  });
});

describe('sysfs export into a directory that cannot be written', () => {
  // procfs answers ENOENT to mkdir: Node's recursive mkdirSync retried the parent for ever.
  it.skipIf(!existsSync('/proc/self'))(`makeDirs under /proc fails at once with ENOENT${unless(existsSync('/proc/self'), 'no /proc on this system')}`, () => {
    expect(() => makeDirs('/proc/nope/sys/devices')).toThrow(/ENOENT/);
  });
  it('makeDirs makes every missing level, and refuses a file on the way', () => {
    makeDirs(join(dir, 'a', 'b', 'c'));
    expect(existsSync(join(dir, 'a', 'b', 'c'))).toBe(true);
    const f = file('plain', '');
    expect(() => makeDirs(join(f, 'x'))).toThrow(/ENOTDIR/);
  });
  it.skipIf(!existsSync('/proc/self'))(`through the CLI: sysfs export M /proc/nope is one line, exit 2 (it looped for ever)${unless(existsSync('/proc/self'), 'no /proc on this system')}`, () => {
    expectOneLineError(mmsim('sysfs', 'export', 'examples/qemu-2node.yaml', '/proc/nope'), /^mmsim: sysfs export: cannot write \/proc\/nope \(ENOENT\)/);
  });
  it("never this machine's own /sys", () => {
    expectOneLineError(mmsim('sysfs', 'export', 'examples/qemu-2node.yaml', '/'), /^mmsim: sysfs export: cannot write \/ \(EPERM\)/);
  });
});

describe('sysfs import refuses what the kernel could not have written, and quotes every string', () => {
  /** A /sys/devices/system/memory tree: block name -> its files (a "nodeN" entry becomes the node link). */
  function tree(name: string, blocks: Record<string, Record<string, string>>, blockSize = '8000000'): string {
    const rootDir = join(dir, name);
    const mem = join(rootDir, 'sys', 'devices', 'system', 'memory');
    mkdirSync(mem, { recursive: true });
    writeFileSync(join(mem, 'block_size_bytes'), `${blockSize}\n`);
    for (const [b, files] of Object.entries(blocks)) {
      mkdirSync(join(mem, b));
      for (const [f, v] of Object.entries(files)) {
        if (f.startsWith('node')) mkdirSync(join(mem, b, f));
        else writeFileSync(join(mem, b, f), `${v}\n`);
      }
    }
    return rootDir;
  }
  const block = (id: number, state = 'online'): Record<string, string> => ({ state, phys_index: id.toString(16).padStart(8, '0'), removable: '1', valid_zones: 'Normal', node0: '' });
  const importOf = (root: string): string => machineYamlFromSysfs(readSysfsMemory(root), { source: root, arch: 'x86_64', kernel: '6.1' });
  const refusal = (root: string): string => {
    try {
      importOf(root);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).not.toMatch(/\n/);
      return (e as Error).message;
    }
    throw new Error('expected the import to be refused');
  };

  it('a well-formed tree imports into a machine file that loads (two 128 MiB blocks: node 0 holds [0, 256 MiB))', () => {
    const yaml = importOf(tree('ok', { memory0: block(0), memory1: block(1, 'offline') }));
    const { spec } = loadMachineYaml('ok.yaml', yaml);
    expect(spec.memory.map((r) => [r.base, r.size, r.nid])).toEqual([[0, 0x10000000, 0]]);
    expect(spec.observedBlocks?.map((b) => [b.id, b.state])).toEqual([
      [0, 'online'],
      [1, 'offline'],
    ]);
  });
  it('block_size_bytes that is not %lx hex (zz gave 0xNaN)', () => {
    expect(refusal(tree('bs-zz', { memory0: block(0) }, 'zz'))).toMatch(/block_size_bytes: "zz": expected the memory block size as block_size_bytes_show prints it/);
    expect(refusal(tree('bs-0x', { memory0: block(0) }, '0x8000000'))).toMatch(/block_size_bytes: "0x8000000"/);
    expect(refusal(tree('bs-0', { memory0: block(0) }, '0'))).toMatch(/block_size_bytes: "0"/);
  });
  it('a state outside state_show’s set (online, offline, going-offline)', () => {
    expect(refusal(tree('state-star', { memory0: block(0, '*a') }))).toMatch(/memory0\/state: "\*a": expected online, offline or going-offline/);
    expect(refusal(tree('state-nl', { memory0: block(0, 'online\nx: 1') }))).toMatch(/memory0\/state: "online\\nx: 1"/);
    expect(importOf(tree('state-going', { memory0: block(0, 'going-offline') }))).toMatch(/state: "going-offline"/);
  });
  it('node ids out of range (node4294967295 became nid -1; MAX_NUMNODES is at most 1 << 10)', () => {
    expect(refusal(tree('node-huge', { memory0: { ...block(0), node4294967295: '' } }))).toMatch(/memory0: a link to node-1: expected nodes 0 to 1023/);
    expect(refusal(tree('node-5000', { memory0: { ...block(0), node5000: '' } }))).toMatch(/a link to node5000/);
  });
  it('one block twice: memory0 and memory00, or a phys_index that is not the block id', () => {
    expect(refusal(tree('dup', { memory0: block(0), memory00: block(0) }))).toMatch(/memory00: not a name the kernel gives a block \(memory%u: memory0\)/);
    expect(refusal(tree('physidx', { memory0: block(0), memory1: { ...block(1), phys_index: '00000000' } }))).toMatch(/memory1\/phys_index: "00000000": expected 00000001/);
  });
  it('no blocks at all (wrote null)', () => {
    expect(refusal(tree('empty', {}))).toMatch(/no memoryN directories/);
  });
  it('the source path is quoted wherever it is written: a directory named with a newline and YAML loads back as its name', () => {
    const odd = tree('dump\n*a: [x', { memory0: block(0) });
    const { spec } = loadMachineYaml('odd.yaml', importOf(odd));
    expect(spec.name).toBe(`imported from ${odd}`);
  });
  it('yamlQuote: any string, control and non-ASCII characters included, reads back the same', () => {
    for (const s of ['*a', '&a b', '"q" \\ x', 'a\nb\tc\u0000\u007f\u0085', '\u00e9\u2028\ud83d\ude00', '']) {
      expect(parseYaml(`v: ${yamlQuote(s)}\n`)).toEqual({ v: s });
    }
  });
  it('through the CLI: an injected state is one line, exit 2', () => {
    expectOneLineError(mmsim('sysfs', 'import', tree('cli-state', { memory0: block(0, '*a') })), /^mmsim: .*memory0\/state: "\*a": expected online, offline or going-offline/);
  });
});

describe('removing a range never added', () => {
  const G = 2 ** 30;
  const M128 = 2 ** 27;
  it('the kernel model does what 6.1 does: nothing refuses it, each missing piece WARNs once, 0 returned, nothing changes', () => {
    const m = bootMachineFile(join(root, 'examples', 'qemu-2node.yaml'), '6.1');
    const before = JSON.stringify(hotplugJson(m));
    // try_remove_memory: walk_memory_blocks finds no block (rc 0); remove_memory_block_devices
    // WARN_ON_ONCE(!mem); __remove_section WARN_ON_ONCE(!valid_section(ms)); nid stays NUMA_NO_NODE.
    expect(runTask(m, 'test', removeMemory(m, 4 * G, 2 * M128))).toBe(0);
    expect(JSON.stringify(hotplugJson(m))).toBe(before);
    const warned = m.state.log.omissions().filter((o) => o.what.startsWith('WARNING'));
    expect(warned.map((o) => o.what)).toEqual(['WARNING: CPU: N PID: N at drivers/base/memory.c remove_memory_block_devices', 'WARNING: CPU: N PID: N at mm/memory_hotplug.c __remove_section']);
    // WARN_ON_ONCE: a second remove warns no more.
    expect(runTask(m, 'test', removeMemory(m, 4 * G, M128))).toBe(0);
    expect(m.state.log.omissions().filter((o) => o.what.startsWith('WARNING'))).toHaveLength(2);
  });
  it('a scenario remove of a range never added is an input error naming the step', () => {
    const f = file('rm.scenario.yaml', `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\nsteps:\n  - add: { node: 1, start: 4G, size: 128M }\n  - remove: { start: 4G, size: 256M }\n`);
    expect(() => runScenario(f, [], undefined, () => {})).toThrow(
      new InputError(`${f}:4:5: remove: [0x100000000, 0x110000000) was never added (memory33 (0x108000000-0x10fffffff) is not there); remove what an add step or boot put there`),
    );
  });
  it('in a concurrent block too (explore), unless an add beside it brings the range', () => {
    const bad = file(
      'rm-conc.scenario.yaml',
      `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\nsteps:\n  - concurrent:\n      - add: { node: 1, start: 4G, size: 128M }\n      - remove: { start: 0x108000000, size: 128M }\n`,
    );
    expect(() => scenarioWorld(bad, '6.1', 'debug_vm', [], { recorder: null })).toThrow(/:3:5: concurrent operation 2: remove: \[0x108000000, 0x110000000\) was never added/);
    const ok = file(
      'rm-conc-ok.scenario.yaml',
      `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\nsteps:\n  - concurrent:\n      - add: { node: 1, start: 4G, size: 128M }\n      - remove: { start: 4G, size: 128M }\n`,
    );
    expect(scenarioWorld(ok, '6.1', 'debug_vm', [], { recorder: null }).tasks).toHaveLength(2);
  });
  it('through the CLI: one line, exit 2', () => {
    const f = file('rm-cli.scenario.yaml', `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\nsteps:\n  - remove: { start: 4G, size: 128M }\n`);
    expectOneLineError(mmsim('run', f), /:3:5: remove: \[0x100000000, 0x108000000\) was never added/);
  });
});

describe('daxctl online-memory / offline-memory as daxctl/device.c (ndctl v81) answers', () => {
  function nvdimmMachine(): { m: Machine; run: (t: Task<number>) => number } {
    const m = bootMachineFile(join(root, 'examples', 'qemu-2node-nvdimm.yaml'), '6.1');
    const run = (t: Task<number>): number => runTask(m, 'test', t);
    expect(ndctl(m, ['create-namespace', '-f', '-e', 'namespace0.0', '--mode=devdax', '--map=dev'], run).exitCode).toBe(0);
    return { m, run };
  }
  it('a device that does not exist: do_xaction_device keeps rc = -ENXIO; exit (-ENXIO) & 0xff = 250', () => {
    const { m, run } = nvdimmMachine();
    expect(daxctl(m, ['online-memory', 'dax9.9'], run)).toEqual({ output: 'error onlining memory: No such device or address\nonlined memory for 0 devices\n', exitCode: 250 });
    expect(daxctl(m, ['offline-memory', 'dax9.9'], run)).toEqual({ output: 'error offlining memory: No such device or address\nofflined memory for 0 devices\n', exitCode: 250 });
  });
  it('a device in devdax mode: do_xline refuses it with -ENXIO', () => {
    const { m, run } = nvdimmMachine();
    expect(daxctl(m, ['online-memory', 'dax0.0'], run)).toEqual({
      output: 'dax0.0: memory operations are not applicable in devdax mode\nerror onlining memory: No such device or address\nonlined memory for 0 devices\n',
      exitCode: 250,
    });
  });
  it('memory already online: dev_online_memory warns of the race and returns 1 (not counted, exit 1)', () => {
    const { m, run } = nvdimmMachine();
    expect(daxctl(m, ['reconfigure-device', '--mode=system-ram', 'all'], run).exitCode).toBe(0);
    // The kmem range is 15 blocks of 128 MiB (examples/nvdimm.scenario.yaml: Movable spans 491520 pages on the real 6.1).
    const r = daxctl(m, ['online-memory', 'dax0.0'], run);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/^dax0\.0:\n  WARNING: detected a race while onlining memory\n[^]*dax0\.0: all memory sections \(15\) already online\nonlined memory for 0 devices\n$/);
    expect(daxctl(m, ['offline-memory', 'dax0.0'], run)).toEqual({ output: 'offlined memory for 1 device\n', exitCode: 0 });
    expect(daxctl(m, ['offline-memory', 'dax0.0'], run)).toEqual({ output: 'dax0.0: all memory sections (15) already offline\nofflined memory for 0 devices\n', exitCode: 1 });
  });
  it('no device given: parse_device_options asks for one (usage, exit 129)', () => {
    const { m, run } = nvdimmMachine();
    expect(daxctl(m, ['online-memory'], run)).toEqual({ output: 'specify a device to online memory for, or "all"\n', exitCode: 129 });
  });
});

describe('6.1 memmap_on_memory: the zone/node span checker judged a half-done update (test/qemu/memmap-on-memory-dimms exited 1)', () => {
  // 6.1, drivers/base/memory.c memory_block_online: zone_for_pfn_range, then
  // mhp_init_memmap_on_memory(start_pfn, nr_vmemmap_pages, zone) -> move_pfn_range_to_zone ->
  // resize_zone_range, then resize_pgdat_range; only then online_pages, which takes
  // mem_hotplug_begin. So between the two resizes no lock is held, and the zone's end passes the
  // node's for a moment. The model follows that; the checker took "no lock held" for "no update
  // under way" and reported the moment as "zone Movable [ 100000 - 108200 ] outside node 1 span".
  const G = 2 ** 30;
  const M128 = 2 ** 27;
  function qemu61(): Machine {
    const m = machineYaml(
      '6.1',
      'cmdline: "memory_hotplug.memmap_on_memory=1"\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }] }\n',
    );
    expect(runTask(m, 'add A', addMemory(m, 1, 4 * G, M128))).toBe(0);
    expect(runTask(m, 'add B', addMemory(m, 1, 4 * G + M128, M128))).toBe(0);
    // One-block adds carve their memmap: 32768 pages x 64 bytes = 2 MiB = 512 pages.
    expect([...m.vmemmapPages]).toEqual([
      [32, 512],
      [33, 512],
    ]);
    expect(runTask(m, 'online A', onlineBlock(m, 32, 'online_movable'))).toBe(0);
    return m;
  }
  it('mid-update, under no lock, the zone passes the node by the 512 vmemmap pages; the checker waits for the update to end', () => {
    const m = qemu61();
    const checker = zoneSpanChecker(m);
    const seen: { zoneEnd: number; nodeEnd: number; locked: boolean; verdict: string | null }[] = [];
    const probe: Checker = (_s, task, y) => {
      if (y.op === 'access' && y.what === 'zone Movable span') {
        const z = zone(m.state, 1, 'Movable');
        const node = m.state.nodes[1] as { nodeStartPfn: number; nodeSpannedPages: number };
        seen.push({
          zoneEnd: z.zoneStartPfn + z.spannedPages,
          nodeEnd: node.nodeStartPfn + node.nodeSpannedPages,
          locked: m.memHotplugLock.writer !== null,
          verdict: checker(_s, task, y)?.message ?? null,
        });
      }
      return null;
    };
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m), probe]);
    s.spawn('online B', onlineBlock(m, 33, 'online_movable'));
    s.runInOrder();
    expect(s.violations.map((v) => v.message)).toEqual([]);
    // Block 33 starts at pfn 0x108000. First the vmemmap pages [0x108000, 0x108200) join the zone
    // (node still ends at A's 0x108000, no lock held), then online_pages the rest under the lock.
    expect(seen).toEqual([
      { zoneEnd: 0x108200, nodeEnd: 0x108000, locked: false, verdict: null },
      { zoneEnd: 0x110000, nodeEnd: 0x108200, locked: true, verdict: null },
    ]);
    // After: both blocks in Movable; present counts the vmemmap pages (adjust_present_page_count), managed does not.
    expect(zone(m.state, 1, 'Movable')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 0x10000, presentPages: 0x10000, managedPages: 0x10000 - 2 * 512 });
    const node = m.state.nodes[1] as { nodeStartPfn: number; nodeSpannedPages: number };
    expect(node.nodeStartPfn + node.nodeSpannedPages).toBe(0x110000);
  });
  it('a zone outside its node with no update under way is still reported', () => {
    const m = qemu61();
    const node = m.state.nodes[1] as { nodeSpannedPages: number };
    node.nodeSpannedPages -= 0x200;
    const v = zoneSpanChecker(m)({ holdsSpinlock: () => false }, 0, { op: 'might_sleep', where: 'test' });
    expect(v?.message).toBe('zone Movable [ 0x100000 - 0x108000 ] outside node 1 span');
  });
  it('the scenario runs to its end on 6.1 (exit 0), as it does on 6.8 and 6.18', () => {
    for (const k of ['6.1', '6.8', '6.18']) expect(() => runScenario(join(root, 'test', 'qemu', 'memmap-on-memory-dimms.scenario.yaml'), [], k, () => {})).not.toThrow();
  });
});
