// Scenario YAML: a scenario file run as `mmsim run FILE` runs it (loadScenario, the machine it
// names, every step in program order), then every view of the machine it leaves. Inputs:
// mutations of examples/*.scenario.yaml (machine paths made absolute), scenarios generated step
// by step on the example machines, and hostile YAML.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExpectFailed, runScenario, showViews } from '../../src/drivers/run.js';
import { RUN_VIEWS } from '../../src/formats/scenario.js';
import { scenarioSeeds } from '../corpus.js';
import { checkMachineBounds, cmdline, count, kernelOption, rarely } from '../gen.js';
import { defineEntry, type FuzzContext } from '../harness.js';
import { EXTREME_INTEGERS, type TextInput } from '../mutate.js';
import { yamlFileInputs, yamlNumber } from '../yaml-gen.js';

const MACHINES = ['qemu-2node.yaml', 'qemu-2node-nvdimm.yaml', 'qemu-2node-virtio-mem.yaml', 'qemu-2node-nvdimm-label.yaml', '2node-movable.yaml'];

const G = 2n ** 30n;
const BLOCK = 2n ** 27n;

/** Hot-plug addresses: near the examples' 4 GiB hot-add window, block aligned or not, or extreme. */
const hotAddress = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt(0n, 64n).map((k) => `0x${(4n * G + k * BLOCK).toString(16)}`) },
  { weight: 2, arbitrary: fc.constantFrom('4G', '5G', '4100M', '0', '1G', '256T', '64T') },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREME_INTEGERS).map((v) => `0x${v.toString(16)}`) },
  { weight: 1, arbitrary: yamlNumber },
);
const hotSize = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt(1n, 16n).map((k) => `0x${(k * BLOCK).toString(16)}`) },
  { weight: 2, arbitrary: fc.constantFrom('1G', '128M', '2M', '0', '1T') },
  { weight: 2, arbitrary: yamlNumber },
);
const blocks = fc.oneof(
  fc.bigInt(30n, 48n).map(String),
  fc.tuple(fc.bigInt(30n, 40n), fc.bigInt(0n, 10n)).map(([a, n]) => `"${a}-${a + n}"`),
  fc.array(fc.bigInt(30n, 48n), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
  fc.constantFrom('"0-100000000"', '"4294967295"', '"9007199254740993-9007199254740999"', '-1', '"40-32"', '"x"', '1e308', '[]'),
);
const errno = rarely(fc.constantFrom(0, 16, 22, 13, -1, 4294967296), 0.15);
const opt = (k: string, v: string | number | null): string => (v === null ? '' : `, ${k}: ${v}`);

const add = fc
  .record({ node: count, start: hotAddress, size: hotSize, device: fc.constantFrom('dimm', 'virtio-mem', 'nvdimm'), labels: fc.option(fc.boolean(), { freq: 4 }), errno })
  .map((a) => `add: { node: ${a.node}, start: ${a.start}, size: ${a.size}, device: ${a.device}${opt('labels', a.labels === null ? null : String(a.labels))}${opt('errno', a.errno)} }`);
const remove = fc.record({ start: hotAddress, size: hotSize, errno }).map((r) => `remove: { start: ${r.start}, size: ${r.size}${opt('errno', r.errno)} }`);
const online = fc
  .record({ blocks, type: fc.constantFrom('online', 'online_kernel', 'online_movable', 'offline'), errno })
  .map((o) => `online: { blocks: ${o.blocks}, type: ${o.type}${opt('errno', o.errno)} }`);
const offline = fc.record({ blocks, errno }).map((o) => `offline: { blocks: ${o.blocks}${opt('errno', o.errno)} }`);
const hotplugStep = fc.oneof(add, remove, online, offline);

const step: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: add },
  { weight: 2, arbitrary: remove },
  { weight: 4, arbitrary: online },
  { weight: 3, arbitrary: offline },
  { weight: 1, arbitrary: fc.array(hotplugStep, { minLength: 2, maxLength: 3 }).map((xs) => `concurrent: [${xs.map((x) => `{ ${x} }`).join(', ')}]`) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        path: fc.oneof(
          fc.tuple(fc.bigInt(0n, 48n), fc.constantFrom('state', 'online', 'phys_index', 'valid_zones', 'removable', 'bogus')).map(([b, f]) => `memory${b}/${f}`),
          fc.constantFrom('../../../etc/passwd', '/sys/devices/system/memory/probe', 'memory99999999999/state', 'auto_online_blocks', 'memory32/../memory33/state', 'memory32/state\n'),
        ),
        value: fc.constantFrom('online', 'offline', 'online_movable', 'online_kernel', '1', '0', 'bogus', '', '0x100000000', '\n'),
        errno,
      })
      .map((w) => `write: { path: ${JSON.stringify(w.path)}, value: ${JSON.stringify(w.value)}${opt('errno', w.errno)} }`),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        args: fc.constantFrom(
          '--enable 256M -v',
          '--disable 256M',
          '--enable 0x100000000-0x13fffffff --zone Movable',
          '--disable -b 32-33',
          '--enable -b 0-4294967295',
          '--zone Bogus --enable 1G',
          '-e 1e308',
          '--enable 18446744073709551615M',
          '',
        ),
        exit: fc.option(fc.constantFrom(0, 1, 64), { freq: 2 }),
      })
      .map((c) => `chmem: { args: ${JSON.stringify(c.args)}${opt('exit', c.exit)} }`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('ndctl', 'daxctl'),
        fc.constantFrom(
          'list',
          'create-namespace -m devdax',
          'create-namespace -m fsdax -s 1G',
          'disable-namespace all',
          'destroy-namespace all -f',
          'init-labels all -f',
          'online-memory dax0.0',
          'offline-memory dax0.0',
          'reconfigure-device -m system-ram dax0.0',
          'online-memory dax9.9',
          'create-namespace -s 18446744073709551616',
        ),
        fc.option(fc.constantFrom(0, 1), { freq: 2 }),
      )
      .map(([tool, args, exit]) => `${tool}: { args: ${JSON.stringify(args)}${opt('exit', exit)} }`),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ node: count, zone: fc.constantFrom('Normal', 'Movable', 'Device', 'DMA32', 'Bogus'), spanned: fc.option(count) })
      .map((e) => `expect: { node: ${e.node}, zone: ${e.zone}${opt('spanned', e.spanned === null ? null : String(e.spanned))} }`),
  },
  { weight: 1, arbitrary: fc.constantFrom(...RUN_VIEWS, 'bogus').map((v) => `print: ${v}`) },
);

function generatedScenario(ctx: FuzzContext): fc.Arbitrary<TextInput> {
  return fc
    .record({
      machine: fc.constantFrom(...MACHINES),
      kernel: fc.option(kernelOption, { freq: 3 }),
      cmdline: rarely(cmdline, 0.3),
      unmovable: rarely(fc.array(fc.bigInt(30n, 40n), { maxLength: 2 }), 0.2),
      debugVm: fc.boolean(),
      steps: fc.array(step, { minLength: 1, maxLength: 6 }),
    })
    .map((g) => {
      const out = [`name: generated`, `machine: ${join(ctx.root, 'examples', g.machine)}`];
      if (g.kernel !== null) out.push(`kernel: ${JSON.stringify(g.kernel)}`);
      if (g.cmdline !== null) out.push(`cmdline: ${JSON.stringify(g.cmdline)}`);
      if (g.unmovable !== null) out.push(`unmovable: [${g.unmovable.join(', ')}]`);
      if (g.debugVm) out.push('debug_vm: true');
      out.push('steps:', ...g.steps.map((s) => `  - ${s}`));
      return { text: out.join('\n') + '\n', origin: `generated scenario on ${g.machine}` };
    });
}

let counter = 0;

export const scenarioEntry = defineEntry<TextInput>({
  name: 'scenario',
  summary: 'mmsim run FILE, then every view (zoneinfo, blocks, dmesg, lsmem, iomem, json)',
  accepts: [ExpectFailed],
  async prepare(ctx) {
    const seeds = scenarioSeeds(ctx);
    return Promise.resolve(yamlFileInputs(seeds, generatedScenario(ctx), ['steps', 'machine', 'name', 'unmovable', 'cmdline'], { mutated: 6, generated: 6, hostile: 2 }));
  },
  async run(input, ctx) {
    const file = join(ctx.tmp, `s${process.pid}-${counter++}.scenario.yaml`);
    writeFileSync(file, input.text);
    try {
      const m = runScenario(file, [], undefined, () => {});
      showViews(m, 'end', RUN_VIEWS, () => {});
      checkMachineBounds(m);
    } finally {
      rmSync(file, { force: true });
    }
    return Promise.resolve();
  },
  save(input, base) {
    const file = `${base}.scenario.yaml`;
    writeFileSync(file, input.text);
    return { files: [file], command: `mmsim run ${file} --print zoneinfo --print lsmem --print json` };
  },
  size: (input) => input.text.length,
  describe: (input) => input.origin,
});
