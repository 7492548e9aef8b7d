// `mmsim machine --from-qemu`: a QEMU command line read as its guest's machine. Expected values
// come from real QEMU 7.2.22 guests (test/golden/qemu-7.2-boots.txt: the e820 map and node
// ranges Linux 6.1 printed; `info memory-devices` for DIMM placement), and the round trip
// machine -> verify's QEMU arguments -> machine is checked on every scenario verify runs.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryDeviceFreeAddr, parseQemuArgs, qemuMachine, qemuMachineYaml, shellWords } from '../src/formats/qemu.js';
import { loadMachineYaml } from '../src/formats/machine-yaml.js';
import { loadScenario } from '../src/formats/scenario.js';
import { prepareScenario } from '../src/drivers/run.js';
import { qemuArgs } from '../src/verify/verify.js';
import { InputError } from '../src/errors.js';
import { cli } from './cli_run.js';
import { root } from './helpers.js';

const hex16 = (n: number): string => `0x${n.toString(16).padStart(16, '0')}`;

/** The boots of test/golden/qemu-7.2-boots.txt: QEMU options and the guest's lines. */
function realBoots(): { args: string; e820: string[]; nodes: string[] }[] {
  const text = readFileSync(join(root, 'test', 'golden', 'qemu-7.2-boots.txt'), 'utf8');
  return text
    .split(/^### /m)
    .slice(1)
    .map((block) => {
      const [args = '', ...lines] = block.trimEnd().split('\n');
      return { args, e820: lines.filter((l) => l.startsWith('BIOS-e820')), nodes: lines.filter((l) => /^ {2}node/.test(l)) };
    });
}

describe('the e820 map and node ranges --from-qemu predicts equal real QEMU 7.2 guests', () => {
  const boots = realBoots();
  it('reads 11 captured boots', () => expect(boots.length).toBe(11));
  for (const b of boots) {
    it(b.args, () => {
      const m = qemuMachine(parseQemuArgs(b.args));
      // e820__print_table: "BIOS-e820: [mem 0x%016Lx-0x%016Lx] type"
      expect(m.e820.map((e) => `BIOS-e820: [mem ${hex16(e.start)}-${hex16(e.end - 1)}] ${e.type}`)).toEqual(b.e820);
      // free_area_init's "Early memory node ranges": "  node %3d: [mem %#018Lx-%#018Lx]"
      expect(m.memory.map((r) => `  node ${String(r.nid).padStart(3)}: [mem ${hex16(r.base)}-${hex16(r.base + r.size - 1)}]`)).toEqual(b.nodes);
    });
  }
});

describe('memory devices go where QEMU puts them (memory_device_get_free_addr)', () => {
  it('boot-time devices without addr= are packed from the region base in command-line order', () => {
    // QEMU 7.2.22 `info memory-devices` with -S for exactly this command line:
    // dimm1 addr 0x100000000, nv0d addr 0x120200000, dimm2 addr 0x160200000.
    const q = parseQemuArgs(
      '-machine pc,nvdimm=on -m 3G,slots=4,maxmem=16G -object memory-backend-ram,id=d1,size=514M -device pc-dimm,id=dimm1,memdev=d1 ' +
        '-object memory-backend-file,id=nv0,share=on,mem-path=nv2.img,size=1073872896 -device nvdimm,id=nv0d,memdev=nv0,label-size=128K ' +
        '-object memory-backend-ram,id=d2,size=256M -device pc-dimm,id=dimm2,memdev=d2',
    );
    expect(q.devices.map((d) => [d.id, d.start, d.size])).toEqual([
      ['dimm1', 0x100000000, 514 * 2 ** 20],
      ['nv0d', 0x120200000, 2 ** 30],
      ['dimm2', 0x160200000, 256 * 2 ** 20],
    ]);
  });
  it('refuses a RAM backend that is no multiple of 2 MiB, as QEMU does ("backend memory size must be multiple of 0x200000")', () => {
    expect(() => parseQemuArgs('-m 3G,slots=4,maxmem=16G -object memory-backend-ram,id=d1,size=513M -device pc-dimm,id=dimm1,memdev=d1')).toThrow(/multiple of 0x200000/);
  });
  it('first fit skips plugged devices and reuses a freed hole', () => {
    const region = { start: 4 * 2 ** 30, end: 8 * 2 ** 30 };
    const G = 2 ** 30;
    expect(memoryDeviceFreeAddr(region, [], G, 2 ** 21, 'x')).toBe(4 * G);
    expect(memoryDeviceFreeAddr(region, [{ start: 4 * G, size: G }], G, 2 ** 21, 'x')).toBe(5 * G);
    expect(memoryDeviceFreeAddr(region, [{ start: 5 * G, size: G }], G, 2 ** 21, 'x')).toBe(4 * G);
    expect(() => memoryDeviceFreeAddr(region, [{ start: 4 * G, size: 3.5 * G }], G, 2 ** 21, 'x')).toThrow(InputError);
  });
  it("a scenario's add without start lands where QEMU would place it, after removals too", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-place-'));
    try {
      const machine = join(root, 'test', 'qemu', 'm-2node.yaml');
      const text = [
        `machine: ${machine}`,
        'steps:',
        '  - add: { node: 1, size: 512M }',
        '  - add: { node: 0, size: 256M }',
        '  - remove: { start: 4G, size: 512M }',
        '  - add: { node: 1, size: 128M }',
        '  - add: { node: 1, size: 1G, device: nvdimm }',
      ].join('\n');
      writeFileSync(join(dir, 's.scenario.yaml'), text);
      const { scenario } = prepareScenario(join(dir, 's.scenario.yaml'));
      // RAM all below 4 GiB: the region starts at 4 GiB; the 128M DIMM takes the first freed hole;
      // the NVDIMM goes past the 256M DIMM at 0x120000000.
      expect(scenario.steps.flatMap((s) => ('add' in s ? [s.add.start] : []))).toEqual([0x100000000, 0x120000000, 0x100000000, 0x130000000]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('an add without start and without a machine to place it in is one clear error', () => {
    expect(() => loadScenario('s.yaml', 'machine: m.yaml\nsteps:\n  - add: { node: 0, size: 128M }\n')).toThrow(/^s\.yaml:3:\d+: expected "start"/);
  });
});

describe('round trip: machine -> the QEMU arguments verify starts -> machine', () => {
  const dirs = [join(root, 'test', 'qemu'), join(root, 'examples')];
  const scenarios = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.scenario.yaml'))
      .map((f) => join(d, f)),
  );
  it('covers every scenario of test/qemu and examples/', () => expect(scenarios.length).toBeGreaterThanOrEqual(20));
  for (const file of scenarios) {
    it(file.slice(root.length + 1), () => {
      const { scenario, machineFile } = prepareScenario(file);
      const text = readFileSync(machineFile, 'utf8');
      const { spec } = loadMachineYaml(machineFile, text);
      const dir = mkdtempSync(join(tmpdir(), 'mmsim-rt-'));
      try {
        const args = qemuArgs(spec, scenario.steps, dir);
        const line = [...args, '-append', `console=ttyS0 panic=-1 nokaslr ${/^cmdline: "([^"]*)"/m.exec(text)?.[1] ?? ''}`].map((a) => `'${a}'`).join(' ');
        const back = loadMachineYaml('rt.yaml', qemuMachineYaml(qemuMachine(parseQemuArgs(line)), line)).spec;
        expect(back.memory).toEqual(spec.memory);
        expect(back.nodes).toEqual(spec.nodes);
        expect(back.pmem.map((p) => ({ base: p.base, size: p.size, nid: p.nid, labels: p.labels ?? false }))).toEqual(
          spec.pmem.map((p) => ({ base: p.base, size: p.size, nid: p.nid, labels: p.labels ?? false })),
        );
        expect(back.boot).toEqual(spec.boot);
        // A machine file that gives e820 gives its usable entries as the guest's iomem lists them.
        if (spec.e820) expect(back.e820?.filter((e) => e.type === 'usable')).toEqual(spec.e820.filter((e) => e.type === 'usable'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("verify's QEMU arguments for a memoryless node", () => {
  const spec = (third: string) =>
    loadMachineYaml(
      'm.yaml',
      `nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x40000000 }] }\n  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x80000000 }] }\n  - ${third}\n`,
    ).spec;
  it('a node with CPUs and no memory is -numa node with its CPUs and no memdev (QEMU accepts it beside memdev nodes: SRAT gives the CPU only); -m counts the other nodes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-ml-'));
    try {
      const args = qemuArgs(spec('{ nid: 2, cpus: 2, memory: [] }'), [], dir);
      expect(args.filter((a) => a.startsWith('node,'))).toEqual(['node,nodeid=0,memdev=m0,cpus=0', 'node,nodeid=1,memdev=m1,cpus=1', 'node,nodeid=2,cpus=2-3']);
      expect(args[args.indexOf('-m') + 1]).toMatch(/^2048M,/);
      expect(args[args.indexOf('-smp') + 1]).toBe('4,sockets=4');
      expect(() => qemuArgs(spec('{ nid: 2, cpus: 0, memory: [] }'), [], dir)).toThrow(
        new InputError("verify: node 2 has neither memory nor CPUs, so QEMU's SRAT would not name it; give it CPUs or memory, or leave it out"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mmsim machine --from-qemu (CLI)', () => {
  // In a runner process (test/cli_run.ts: the built CLI's main()).
  const run = async (args: string[]): Promise<{ out: string; err: string; code: number }> => {
    const r = await cli(args);
    return { out: r.stdout, err: r.stderr, code: r.code };
  };
  it('writes a machine file that boots like the oracle guest', async () => {
    const r = await run(['machine', '--from-qemu', realBoots()[0]?.args ?? '']);
    expect(r.code).toBe(0);
    expect(loadMachineYaml('m.yaml', r.out).spec.memory.map((x) => [x.nid, x.base, x.base + x.size])).toEqual([
      [0, 0x1000, 0x9f000],
      [0, 0x100000, 0x40000000],
      [1, 0x40000000, 0x7ffdf000],
    ]);
  });
  it('a bad command line is one line, exit 2', async () => {
    const r = await run(['machine', '--from-qemu', '-m 2G -numa node,memdev=nope']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('mmsim: --from-qemu: -numa node memdev=nope: no -object memory-backend-* with that id\n');
  });
  it('splits words as a shell does', () => {
    expect(shellWords(`-append "a b\\"c" 'd e' f\\ g`)).toEqual(['-append', 'a b"c', 'd e', 'f g']);
  });
});
