// Machine YAML: a machine file read as `mmsim boot FILE` reads it (loadMachineYaml, the kernel it
// names or 6.18), booted and printed in every format, then booted ready for hotplug (bootMachine:
// memmap, memory blocks, namespace probes) with every `mmsim run --print` view. Inputs: mutations
// of examples/*.yaml, generated machines (layouts, NVDIMMs, config, command lines, extremes) and
// hostile YAML (alias bombs, nesting, long lines, collection keys, control characters).
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { boot, bootMachine, ExpectFailed, showViews } from '../../src/drivers/run.js';
import { loadMachineYaml } from '../../src/formats/machine-yaml.js';
import { printBoot, PRINT_FORMATS } from '../../src/formats/boot-print.js';
import { RUN_VIEWS } from '../../src/formats/scenario.js';
import { profileForOption } from '../../src/profiles/profile.js';
import { machineSeeds } from '../corpus.js';
import { checkBootZoneinfo, checkKernelBounds, checkMachineBounds, cmdline, count, kernelOption, layout, rarely } from '../gen.js';
import { defineEntry } from '../harness.js';
import { type TextInput } from '../mutate.js';
import { yamlFileInputs, yamlNumber } from '../yaml-gen.js';

const DEFAULT_KERNEL = '6.18';

const q = (s: string): string => JSON.stringify(s);
/** A YAML address: mostly an aligned one in the first TiB, now and then anything yamlNumber gives. */
const addr = fc.oneof({ weight: 9, arbitrary: fc.tuple(fc.bigInt(0n, 1024n), fc.constantFrom(21n, 27n, 30n)).map(([n, s]) => `0x${(n << s).toString(16)}`) }, { weight: 1, arbitrary: yamlNumber });
/** Nine in ten from `good`, one from `bad`. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });
const h = (v: bigint): string => `0x${v.toString(16)}`;

/** A machine file generated key by key. */
export const generatedMachine: fc.Arbitrary<TextInput> = fc
  .record({
    kernel: fc.option(kernelOption, { freq: 6 }),
    arch: rarely(fc.oneof({ weight: 9, arbitrary: fc.constantFrom('x86_64', 'arm64', 'i386', 's390x') }, { weight: 1, arbitrary: fc.constant('riscv') }), 0.4),
    cmdline: rarely(cmdline, 0.3),
    config: fc.option(
      fc.record(
        {
          nodesShift: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 10 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 11, 64) }),
          pageBytes: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(4096, 16384, 65536) }, { weight: 1, arbitrary: fc.constant(8192) }),
          deferredStructPageInit: fc.boolean(),
          zoneDevice: fc.boolean(),
          autoOnlineBlocks: fc.oneof({ weight: 9, arbitrary: fc.constantFrom('offline', 'online', 'online_kernel', 'online_movable') }, { weight: 1, arbitrary: fc.constant('bogus') }),
          numa: fc.constantFrom(true, false, null),
        },
        { requiredKeys: [] },
      ),
      { freq: 3 },
    ),
    ranges: layout,
    sizeForm: fc.boolean(),
    cpus: fc.array(count, { maxLength: 4 }),
    pmem: fc.array(
      fc.record({
        nid: fc.bigInt(0n, 3n),
        start: addr,
        size: addr,
        labels: fc.option(fc.boolean()),
        ns: fc.option(fc.record({ mode: mostly(fc.constantFrom('raw', 'fsdax', 'devdax'), fc.constant('sector')), map: fc.constantFrom('dev', 'mem'), align: rarely(addr, 0.3) })),
      }),
      { maxLength: 2 },
    ),
    reserved: rarely(fc.array(fc.record({ start: addr, size: addr }), { maxLength: 3 }), 0.3),
    e820: rarely(fc.array(fc.record({ start: addr, end: addr, type: mostly(fc.constantFrom('usable', 'reserved', 'ACPI data', 'ACPI NVS'), fc.constantFrom('', 'x\ny')) }), { maxLength: 3 }), 0.3),
    blockBytes: rarely(yamlNumber, 0.15),
    blocks: rarely(
      fc.array(fc.record({ id: count, state: mostly(fc.constantFrom('online', 'offline', 'going-offline'), fc.constant('bogus')), nodes: fc.array(count, { maxLength: 2 }) }), { maxLength: 4 }),
      0.15,
    ),
    dmaReservePages: rarely(count, 0.15),
  })
  .map((g) => {
    const out: string[] = ['name: generated'];
    if (g.kernel !== null) out.push(`kernel: ${q(g.kernel)}`);
    if (g.arch !== null) out.push(`arch: ${g.arch}`);
    if (g.cmdline !== null) out.push(`cmdline: ${q(g.cmdline)}`);
    if (g.config !== null) out.push(`config: ${JSON.stringify(g.config)}`);
    if (g.dmaReservePages !== null) out.push(`dmaReservePages: ${g.dmaReservePages}`);
    const nids = [...new Set([...g.ranges.map((r) => r.nid), ...g.pmem.map((p) => p.nid)])];
    out.push('nodes:');
    nids.forEach((nid, i) => {
      out.push(`  - nid: ${nid}`);
      const c = g.cpus[i];
      if (c !== undefined) out.push(`    cpus: ${c}`);
      const mem = g.ranges.filter((r) => r.nid === nid);
      if (mem.length) out.push('    memory:');
      for (const r of mem) out.push(g.sizeForm ? `      - { start: ${h(r.start)}, size: ${h(r.end - r.start)} }` : `      - { start: ${h(r.start)}, end: ${h(r.end)} }`);
      const pm = g.pmem.filter((p) => p.nid === nid);
      if (pm.length) out.push('    pmem:');
      for (const p of pm) {
        const ns = p.ns ? `, namespace: { mode: ${p.ns.mode}, map: ${p.ns.map}${p.ns.align !== null ? `, align: ${p.ns.align}` : ''} }` : '';
        out.push(`      - { start: ${p.start}, size: ${p.size}${p.labels !== null ? `, labels: ${p.labels}` : ''}${ns} }`);
      }
    });
    if (g.reserved) out.push(`reserved: [${g.reserved.map((r) => `{ start: ${r.start}, size: ${r.size} }`).join(', ')}]`);
    if (g.e820) out.push(`e820: [${g.e820.map((r) => `{ start: ${r.start}, end: ${r.end}, type: ${q(r.type)} }`).join(', ')}]`);
    if (g.blockBytes !== null) out.push(`memoryBlockBytes: ${g.blockBytes}`);
    if (g.blocks) out.push(`memoryBlocks: [${g.blocks.map((b) => `{ id: ${b.id}, state: ${b.state}, nodes: [${b.nodes.join(', ')}] }`).join(', ')}]`);
    return { text: out.join('\n') + '\n', origin: 'generated machine' };
  });

export const machineEntry = defineEntry<TextInput>({
  name: 'machine',
  summary: 'mmsim boot FILE --print dmesg,zoneinfo,blocks,json; bootMachine and every run view',
  accepts: [ExpectFailed],
  async prepare(ctx) {
    const seeds = machineSeeds(ctx);
    return Promise.resolve(yamlFileInputs(seeds, generatedMachine, ['nodes', 'name', 'kernel', 'config', 'reserved'], { mutated: 8, generated: 6, hostile: 3 }));
  },
  async run(input) {
    const file = 'fuzz.yaml';
    const { spec, kernel } = loadMachineYaml(file, input.text);
    const profile = profileForOption(kernel ?? DEFAULT_KERNEL);
    const sources = [`machine file ${file}`];
    const state = boot({ spec, profile, sources });
    printBoot(state, PRINT_FORMATS, { explain: true, sources });
    checkBootZoneinfo(state);
    const m = bootMachine({ spec, profile }, { where: file });
    showViews(m, 'boot', RUN_VIEWS, () => {});
    checkKernelBounds(spec);
    checkMachineBounds(m);
    return Promise.resolve();
  },
  save(input, base) {
    const file = `${base}.yaml`;
    writeFileSync(file, input.text);
    const kernel = /^kernel:/m.test(input.text) ? '' : ` --kernel ${DEFAULT_KERNEL}`;
    return { files: [file], command: `mmsim boot ${file}${kernel} --print dmesg --print zoneinfo --print blocks --print json; mmsim run (a scenario on it) --print json` };
  },
  size: (input) => input.text.length,
  describe: (input) => input.origin,
});
