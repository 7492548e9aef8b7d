// sysfs import: a /sys/devices/system/memory tree read as `mmsim sysfs import DIR` reads it
// (readSysfsMemory, machineYamlFromSysfs), lsmem over the same view, and the machine file it
// writes loaded and booted (`mmsim boot`): an import that writes a file which does not load is a
// finding. Also export → import: a machine's tree written (writeSysfsTree) reads back as the same
// view, and the machine imported from it exports the same blocks again. Inputs: the util-linux
// dumps in ../shared/data (unpacked into the fuzz temporary directory), edited entry by entry,
// trees generated from scratch, and machines generated for the round trip.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { boot } from '../../src/drivers/run.js';
import { loadMachineYaml } from '../../src/formats/machine-yaml.js';
import { printBoot, PRINT_FORMATS } from '../../src/formats/boot-print.js';
import { machineYamlFromSysfs, sysfsView, writeSysfsTree } from '../../src/formats/sysfs-export.js';
import { readSysfsMemory } from '../../src/formats/sysfs-memory-read.js';
import type { SysfsMemory } from '../../src/formats/sysfs-memory.js';
import { memoryDevInit } from '../../src/kernel/memory_block.js';
import { profileForOption } from '../../src/profiles/profile.js';
import { lsmem } from '../../src/tools/lsmem.js';
import { sysfsSeeds, type SysfsTree, type TreeEntry } from '../corpus.js';
import { rarely } from '../gen.js';
import { defineEntry, normalizeMessage, OracleFailure } from '../harness.js';
import { EXTREME_INTEGERS } from '../mutate.js';

type Arch = 'x86_64' | 'arm64' | 'i386' | 's390x';

type SysfsInput =
  | { readonly kind: 'tree'; readonly tree: SysfsTree; readonly arch: Arch; readonly kernel: string; readonly origin: string }
  | { readonly kind: 'roundtrip'; readonly machine: string; readonly origin: string };

const MEM = 'sys/devices/system/memory';

/** File contents that the kernel never writes, or writes elsewhere. */
const JUNK: readonly string[] = [
  '',
  '\n',
  'zz',
  '0xNaN',
  '-1',
  '1e308',
  'ffffffffffffffff',
  '8000000000000000000',
  '0',
  'online',
  'offline',
  'going-offline',
  'online_movable',
  'bogus',
  '*a',
  '&a x',
  '"',
  "'",
  'a: b',
  '{ x: 1 }',
  '[1, 2]',
  '- x',
  '# c',
  '!!binary x',
  'online\nnodes: [99]',
  'online\u0000',
  'Normal Movable',
  'none',
  '\u001b[31m',
  'x'.repeat(9000),
];

const blockName = fc.oneof(
  { weight: 8, arbitrary: fc.nat(64).map((n) => `memory${n}`) },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREME_INTEGERS).map((v) => `memory${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('memory00', 'memory01', 'memory-1', 'memory', 'memoryx', 'memory0 ') },
);
const nodeName = fc.oneof(
  { weight: 8, arbitrary: fc.nat(3).map((n) => `node${n}`) },
  { weight: 2, arbitrary: fc.constantFrom('node1024', 'node4294967295', 'node4294967296', 'node99999999999999999999', 'node-1', 'node00') },
);
const fileText = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...JUNK) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });

function dirs(path: string): TreeEntry[] {
  const parts = path.split('/');
  return parts.map((_, i) => ({ path: parts.slice(0, i + 1).join('/'), kind: 'dir' as const }));
}

/** A tree generated from scratch. */
const generatedTree: fc.Arbitrary<SysfsTree> = fc
  .record({
    blockSize: fc.oneof(fc.constantFrom('8000000', '80000000', '10000000', '40000000', '100000000'), fileText),
    auto: fc.option(fc.oneof(fc.constantFrom('online', 'offline', 'online_movable', 'online_kernel'), fileText)),
    blocks: fc.array(
      fc.record({
        name: blockName,
        state: fc.oneof(fc.constantFrom('online', 'offline', 'going-offline'), fileText),
        physIndex: fc.option(
          fc.oneof(
            fc.nat(64).map((n) => n.toString(16).padStart(8, '0')),
            fileText,
          ),
        ),
        removable: fc.option(fc.oneof(fc.constantFrom('0', '1'), fileText)),
        validZones: fc.option(fc.oneof(fc.constantFrom('Normal', 'Movable', 'Normal Movable', 'DMA32', 'none'), fileText)),
        physDevice: fc.option(fc.oneof(fc.constantFrom('0', '1'), fileText)),
        nodes: fc.array(nodeName, { maxLength: 2 }),
      }),
      { maxLength: 8 },
    ),
    firmware: rarely(fc.array(fc.record({ name: blockName, config: fc.option(fc.oneof(fc.constantFrom('0', '1'), fileText)) }), { maxLength: 3 }), 0.2),
    memmapParam: rarely(fc.oneof(fc.constantFrom('Y', 'N', 'force'), fileText), 0.2),
  })
  .map((g) => {
    const e: TreeEntry[] = [...dirs(MEM), { path: `${MEM}/block_size_bytes`, kind: 'file', text: `${g.blockSize}\n` }];
    if (g.auto !== null) e.push({ path: `${MEM}/auto_online_blocks`, kind: 'file', text: `${g.auto}\n` });
    const seen = new Set<string>();
    for (const b of g.blocks) {
      if (seen.has(b.name)) continue;
      seen.add(b.name);
      const d = `${MEM}/${b.name}`;
      e.push({ path: d, kind: 'dir' }, { path: `${d}/state`, kind: 'file', text: `${b.state}\n` });
      if (b.physIndex !== null) e.push({ path: `${d}/phys_index`, kind: 'file', text: `${b.physIndex}\n` });
      if (b.removable !== null) e.push({ path: `${d}/removable`, kind: 'file', text: `${b.removable}\n` });
      if (b.validZones !== null) e.push({ path: `${d}/valid_zones`, kind: 'file', text: `${b.validZones}\n` });
      if (b.physDevice !== null) e.push({ path: `${d}/phys_device`, kind: 'file', text: `${b.physDevice}\n` });
      for (const n of new Set(b.nodes)) e.push({ path: `${d}/${n}`, kind: 'link', target: `../../node/${n}` });
    }
    if (g.firmware) {
      e.push(...dirs('sys/firmware/memory'));
      for (const f of g.firmware) {
        if (seen.has(`fw ${f.name}`)) continue;
        seen.add(`fw ${f.name}`);
        e.push({ path: `sys/firmware/memory/${f.name}`, kind: 'dir' });
        if (f.config !== null) e.push({ path: `sys/firmware/memory/${f.name}/config`, kind: 'file', text: `${f.config}\n` });
      }
    }
    if (g.memmapParam !== null) e.push(...dirs('sys/module/memory_hotplug/parameters'), { path: 'sys/module/memory_hotplug/parameters/memmap_on_memory', kind: 'file', text: `${g.memmapParam}\n` });
    return { name: 'generated tree', entries: e };
  });

type Edit =
  | { readonly k: 'file'; readonly which: number; readonly text: string }
  | { readonly k: 'dupBlock'; readonly which: number; readonly as: string }
  | { readonly k: 'link'; readonly which: number; readonly node: string }
  | { readonly k: 'drop'; readonly which: number }
  | { readonly k: 'noBlocks' }
  | { readonly k: 'fileAsDir'; readonly which: number };

const which = fc.noBias(fc.nat(1_000_000));
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('file' as const), which, text: fileText.map((t) => `${t}\n`) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('dupBlock' as const), which, as: blockName }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('link' as const), which, node: nodeName }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('drop' as const), which }) },
  { weight: 1, arbitrary: fc.constant({ k: 'noBlocks' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('fileAsDir' as const), which }) },
);

/** Apply edits to a dump; returns the tree and what was done. */
function editTree(tree: SysfsTree, edits: readonly Edit[]): { tree: SysfsTree; what: string } {
  let e = [...tree.entries];
  const done: string[] = [];
  const blockDirs = (): string[] => e.filter((x) => x.kind === 'dir' && /\/memory\/memory[^/]*$/.test(x.path)).map((x) => x.path);
  for (const ed of edits) {
    if (ed.k === 'file' || ed.k === 'fileAsDir') {
      const files = e.filter((x) => x.kind === 'file');
      const f = files[ed.which % Math.max(1, files.length)];
      if (!f) continue;
      e = e.map((x) => (x === f ? (ed.k === 'file' ? { path: f.path, kind: 'file', text: ed.text } : { path: f.path, kind: 'dir' }) : x));
      done.push(ed.k === 'file' ? `${f.path} = ${JSON.stringify(ed.text.slice(0, 24))}` : `${f.path} a directory`);
    } else if (ed.k === 'dupBlock') {
      const bs = blockDirs();
      const b = bs[ed.which % Math.max(1, bs.length)];
      if (!b) continue;
      const to = `${dirname(b)}/${ed.as}`;
      if (e.some((x) => x.path === to)) continue;
      e.push(...e.filter((x) => x.path === b || x.path.startsWith(`${b}/`)).map((x) => ({ ...x, path: to + x.path.slice(b.length) })));
      done.push(`${b} copied as ${ed.as}`);
    } else if (ed.k === 'link') {
      const bs = blockDirs();
      const b = bs[ed.which % Math.max(1, bs.length)];
      if (!b || e.some((x) => x.path === `${b}/${ed.node}`)) continue;
      e.push({ path: `${b}/${ed.node}`, kind: 'link', target: `../../node/${ed.node}` });
      done.push(`${b}/${ed.node} added`);
    } else if (ed.k === 'drop') {
      const p = e[ed.which % Math.max(1, e.length)];
      if (!p) continue;
      e = e.filter((x) => x.path !== p.path && !x.path.startsWith(`${p.path}/`));
      done.push(`${p.path} removed`);
    } else {
      e = e.filter((x) => !/\/memory\/memory[^/]*(\/|$)/.test(x.path));
      done.push('every memoryN removed');
    }
  }
  return { tree: { name: tree.name, entries: e }, what: done.join('; ') };
}

/** Write a tree under `dir` (parents first: the entries keep that order). */
export function materialize(tree: SysfsTree, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const x of tree.entries) {
    const p = join(dir, x.path);
    mkdirSync(dirname(p), { recursive: true });
    try {
      if (x.kind === 'dir') mkdirSync(p, { recursive: true });
      else if (x.kind === 'file') writeFileSync(p, x.text);
      else symlinkSync(x.target, p);
    } catch {
      // a name taken by an earlier entry (a file made a directory): the first one stays
    }
  }
}

const BLOCK = 2n ** 27n;

/** A machine for the export → import round trip: up to 4 nodes, ranges of up to 64 memory blocks (a tree of a few thousand files). */
const roundTripMachine: fc.Arbitrary<{ text: string; origin: string }> = fc
  .record({
    parts: fc.array(fc.record({ nid: fc.bigInt(0n, 3n), gap: fc.bigInt(0n, 8n), blocks: fc.bigInt(1n, 64n), ragged: fc.constantFrom(0n, 2n ** 20n, 2n ** 21n) }), { minLength: 1, maxLength: 4 }),
    kernel: fc.constantFrom('6.18', '6.1', '5.10'),
    auto: fc.constantFrom('offline', 'online', 'online_movable'),
  })
  .map((g) => {
    let at = 2n ** 20n;
    const ranges = g.parts.map((p) => {
      const start = at + p.gap * BLOCK;
      at = start + p.blocks * BLOCK - p.ragged;
      return { nid: p.nid, start, end: at };
    });
    const nids = [...new Set(ranges.map((r) => r.nid))];
    const lines = [`kernel: "${g.kernel}"`, `config: { autoOnlineBlocks: ${g.auto} }`, 'nodes:'];
    for (const nid of nids) {
      lines.push(`  - nid: ${nid}`, '    memory:');
      for (const r of ranges.filter((x) => x.nid === nid)) lines.push(`      - { start: 0x${r.start.toString(16)}, end: 0x${r.end.toString(16)} }`);
    }
    return { text: lines.join('\n') + '\n', origin: 'generated machine (export → import)' };
  });

let counter = 0;

function bootYaml(file: string, yaml: string, kernelDefault: string): ReturnType<typeof boot> {
  const { spec, kernel } = loadMachineYaml(file, yaml);
  return boot({ spec, profile: profileForOption(kernel ?? kernelDefault), sources: [file] });
}

/** The view's blocks as export writes them (node links in order). */
function blocksOf(v: SysfsMemory): unknown[] {
  // The directory name a read records is memory<index> for every block export writes; the view made from a machine has none.
  return v.blocks.map(({ name, ...b }) => ({ ...b, name: name ?? `memory${b.index}`, nodes: [...b.nodes].sort((x, y) => x - y) }));
}

export const sysfsEntry = defineEntry<SysfsInput>({
  name: 'sysfs',
  summary: 'mmsim sysfs import DIR (+ lsmem over it) and the machine file it writes loaded and booted; sysfs export → import stable',
  async prepare(ctx) {
    const dumps = sysfsSeeds(ctx);
    const archOf = (name: string): Arch => (name.startsWith('s390') ? 's390x' : 'x86_64');
    const tree = (t: fc.Arbitrary<{ tree: SysfsTree; what: string }>): fc.Arbitrary<SysfsInput> =>
      fc
        .tuple(t, fc.oneof({ weight: 6, arbitrary: fc.constant('6.18') }, { weight: 1, arbitrary: fc.constantFrom('6.1', '5.10') }))
        .map(([x, kernel]) => ({ kind: 'tree' as const, tree: x.tree, arch: archOf(x.tree.name), kernel, origin: `${x.tree.name}${x.what ? `: ${x.what}` : ''}` }));
    const parts: { weight: number; arbitrary: fc.Arbitrary<SysfsInput> }[] = [
      { weight: 4, arbitrary: tree(generatedTree.map((t) => ({ tree: t, what: '' }))) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(roundTripMachine, fc.constantFrom('qemu-2node.yaml', '2node-movable.yaml', 'qemu-2node-virtio-mem.yaml'), fc.nat(4))
          .map(([g, ex, pick]) =>
            pick === 0
              ? { kind: 'roundtrip' as const, machine: `${ctx.root}/examples/${ex}`, origin: `examples/${ex} (export → import)` }
              : { kind: 'roundtrip' as const, machine: g.text, origin: g.origin },
          ),
      },
    ];
    if (dumps.length) {
      parts.push({ weight: 1, arbitrary: tree(fc.constantFrom(...dumps).map((d) => ({ tree: d, what: '' }))) });
      parts.push({ weight: 8, arbitrary: tree(fc.tuple(fc.constantFrom(...dumps), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([d, eds]) => editTree(d, eds))) });
    }
    return Promise.resolve(fc.oneof(...parts));
  },
  run(input, ctx) {
    const dir = join(ctx.tmp, `t${process.pid}-${counter++}`);
    try {
      if (input.kind === 'tree') {
        materialize(input.tree, dir);
        const view = readSysfsMemory(dir);
        lsmem(view, ['-a', '-o', '+NODE,ZONES,REMOVABLE']);
        lsmem(view, ['-s', '-b']);
        const yaml = machineYamlFromSysfs(view, { source: dir, arch: input.arch, kernel: input.kernel });
        let loaded;
        try {
          loaded = loadMachineYaml('imported.yaml', yaml);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          const why = /invalid YAML|alias/.test(msg) ? 'not valid YAML' : normalizeMessage(msg.replace(/^imported\.yaml:\d+:\d+: /, '')).slice(0, 100);
          throw new OracleFailure(`sysfs import wrote a machine file that does not load: ${why}`, msg);
        }
        const state = boot({ spec: loaded.spec, profile: profileForOption(loaded.kernel ?? input.kernel), sources: [] });
        printBoot(state, PRINT_FORMATS, { explain: false, sources: [] });
        return Promise.resolve();
      }
      // export → import: the tree written reads back as the same view, and imports to the same blocks.
      const text = input.machine.includes('\n') ? input.machine : readFileSync(input.machine, 'utf8');
      const v1 = sysfsView(memoryDevInit(bootYaml('machine.yaml', text, '6.18')));
      writeSysfsTree(dir, v1);
      const read = readSysfsMemory(dir);
      if (!isDeepStrictEqual({ ...read, blocks: blocksOf(read) }, { ...v1, blocks: blocksOf(v1) }))
        throw new OracleFailure('sysfs export → read not stable', 'the tree written reads back as another view');
      const yaml = machineYamlFromSysfs(read, { source: dir, arch: 'x86_64', kernel: '6.18' });
      let v2;
      try {
        v2 = sysfsView(memoryDevInit(bootYaml('imported.yaml', yaml, '6.18')));
      } catch (e) {
        throw new OracleFailure('sysfs export → import: the imported machine does not boot', e instanceof Error ? e.message : String(e));
      }
      const key = (v: SysfsMemory): unknown => v.blocks.map((b) => [b.index, b.state, [...b.nodes].sort((x, y) => x - y)]);
      if (!isDeepStrictEqual(key(v2), key(v1)))
        throw new OracleFailure('sysfs export → import → export: blocks differ', 'the blocks (index, state, nodes) of the imported machine differ from the exported ones');
      return Promise.resolve();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  save(input, base) {
    if (input.kind === 'roundtrip') {
      const file = `${base}.yaml`;
      if (input.machine.includes('\n')) writeFileSync(file, input.machine);
      else cpSync(input.machine, file);
      return {
        files: [file],
        command: `mmsim sysfs export ${file} ${base}.export && mmsim sysfs import ${base}.export -o ${base}.imported.yaml && mmsim sysfs export ${base}.imported.yaml ${base}.export2`,
      };
    }
    const dir = `${base}.sysroot`;
    materialize(input.tree, dir);
    return { files: [dir], command: `mmsim sysfs import ${dir} --arch ${input.arch} --kernel ${input.kernel} -o ${base}.imported.yaml && mmsim boot ${base}.imported.yaml` };
  },
  size: (input) => (input.kind === 'tree' ? input.tree.entries.reduce((s, x) => s + x.path.length + (x.kind === 'file' ? x.text.length : 0), 0) : input.machine.length),
  describe: (input) => input.origin,
});
