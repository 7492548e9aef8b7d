// The NVDIMM runs of the real 6.1 kernel under QEMU (../shared/qemu-oracle/golden/nvdimm and
// nvdimm-label, QEMU-ORACLE.md §4 (b)), replayed command by command on the model: every ndctl and
// daxctl output byte for byte (uuids masked as the oracle masks them), the /proc/iomem lines the
// run grepped, and every oracle-report's zones and memory blocks.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/drivers/scheduler.js';
import { mightSleepChecker } from '../src/kernel/debug.js';
import type { Task } from '../src/kernel/task.js';
import { hotplugCheckers } from '../src/kernel/debug.js';
import type { Machine } from '../src/kernel/machine.js';
import { procIomem } from '../src/formats/iomem.js';
import { ndctl } from '../src/tools/ndctl.js';
import { daxctl } from '../src/tools/daxctl.js';
import { expectReport, golden, goldenMachine, steps } from './golden.js';
import { root, unless } from './helpers.js';

function runner(m: Machine) {
  return (task: Task<number>): number => {
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
    const id = s.spawn('op', task);
    s.runInOrder();
    expect(s.violations.map((v) => v.message)).toEqual([]);
    return s.result(id) as number;
  };
}

const maskUuid = (t: string): string => t.replace(/"uuid":"[0-9a-f-]{36}"/g, '"uuid":"<uuid>"');

for (const [name, labels] of [
  ['nvdimm', false],
  ['nvdimm-label', true],
] as const) {
  const file = join(golden, name, 'steps.txt');
  describe.skipIf(!existsSync(file))(`QEMU 6.1 golden: ${name}${unless(existsSync(file), `no ${file}`)}`, () => {
    it('every ndctl/daxctl output, iomem grep and report of the run', () => {
      const all = steps(readFileSync(file, 'utf8'));
      // The NVDIMM comes from the log's non-volatile SRAT range; the label area is QEMU's label-size.
      // The report's log keeps no BIOS-e820 lines: QEMU's two usable entries are given (as in
      // examples/qemu-2node.yaml), so iomem's System RAM lines are an input here, the rest is not.
      const e820 = [
        { start: 0x1000, end: 0x9fc00, type: 'usable' },
        { start: 0x100000, end: 0x7ffdf000, type: 'usable' },
      ];
      const m = goldenMachine(all, (s) => ({ ...s, e820, pmem: s.pmem.map((p) => ({ ...p, labels })) }));
      expect(m.state.spec.pmem).toEqual([{ base: 2 ** 32, size: 2 ** 31, nid: 1, labels }]);
      const run = runner(m);
      let tools = 0;
      let reports = 0;
      for (const st of all.slice(1)) {
        const cmdline = /\$ (.*?)\s+\(rc=\d+\)$/.exec(st.header)?.[1] ?? '';
        let ours = '';
        for (const raw of cmdline.split(/;|&&/)) {
          const cmd = raw.replace(/2>&1/g, '').trim();
          const words = cmd.split(/\s+/);
          if (words[0] === 'ndctl' || words[0] === 'daxctl') {
            const r = (words[0] === 'ndctl' ? ndctl : daxctl)(m, words.slice(1), run);
            ours += r.output;
            tools++;
          } else if (words[0] === 'grep' && cmd.endsWith('/proc/iomem')) {
            const re = new RegExp(/"([^"]+)"/.exec(cmd)?.[1] ?? '^$', 'i');
            ours += procIomem(m)
              .split('\n')
              .filter((l) => l && re.test(l))
              .map((l) => l + '\n')
              .join('');
          } else if (cmd === 'oracle-report' || cmd.startsWith('oracle-report')) {
            reports++;
            expectReport(m, st.lines, st.header);
          }
        }
        const end = st.lines.findIndex((l) => l.startsWith('=== '));
        const expected = (end < 0 ? st.lines : st.lines.slice(0, end))
          .filter((l) => !/^(ls: |[bc]rw)/.test(l))
          .join('\n')
          .trimEnd();
        expect(maskUuid(ours).trimEnd(), st.header).toBe(expected);
      }
      expect(tools).toBeGreaterThanOrEqual(name === 'nvdimm' ? 8 : 12);
      expect(reports).toBe(name === 'nvdimm' ? 5 : 6);
    });
  });
}

describe('namespaces configured before boot', () => {
  it('are probed at boot, one task per namespace on its node, each mapping its pgmap (Device spans on both nodes)', async () => {
    const { bootMachineFile } = await import('../src/drivers/run.js');
    const { bootNamespaceProbes } = await import('../src/kernel/nvdimm.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-ns-'));
    const file = join(dir, 'm.yaml');
    writeFileSync(
      file,
      'kernel: "6.1"\nnodes:\n' +
        '  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }], pmem: [{ start: 4G, size: 2G, namespace: { mode: fsdax, map: dev } }] }\n' +
        '  - { nid: 1, cpus: 1, memory: [{ start: 2G, end: 3G }], pmem: [{ start: 6G, size: 2G, namespace: { mode: devdax, map: mem, align: 1G } }] }\n',
    );
    const m = bootMachineFile(file, undefined);
    expect(m.zoneByName(0, 'Device')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 524288 });
    expect(m.zoneByName(1, 'Device')).toMatchObject({ zoneStartPfn: 0x180000, spannedPages: 524288 });
    expect(m.pgmaps.map((p) => [p.name, p.nid, p.type, p.altmap !== null, p.vmemmapShift])).toEqual([
      ['pmem0', 0, 'fsdax', true, 0],
      ['dax1.0', 1, 'generic', false, 18],
    ]);
    // The same machine's probes, fresh: named by driver, namespace and node.
    const fresh = bootMachineFile(file, undefined);
    fresh.nvdimm = null;
    expect(bootNamespaceProbes(fresh).map((p) => [p.name, p.nid])).toEqual([
      ['nd_pmem probe namespace0.0 (node 0)', 0],
      ['dax_pmem probe namespace1.0 (node 1)', 1],
    ]);
    expect(m.state.log.omissions().map((o) => o.what)).toContain('memmap_init_zone_device initialised 515584 pages in Tms');
  });
});

describe('align in ndctl and daxctl JSON', () => {
  it("the dax device's align is a size (human with -u past 5000 KiB), the namespace's and daxregion's stay numbers (as the real 6.1 guest printed them under mmsim verify)", async () => {
    const { bootMachineFile } = await import('../src/drivers/run.js');
    const m = bootMachineFile(join(root, 'examples', 'qemu-2node-nvdimm.yaml'), undefined);
    const run = runner(m);
    const created = ndctl(m, ['create-namespace', '-f', '-e', 'namespace0.0', '--mode=devdax', '--map=dev', '--align=1G'], run);
    expect(created.exitCode).toBe(0);
    expect(created.output).toMatch(/^ {4}"align":1073741824,$/m);
    expect(created.output).toMatch(/^ {8}"align":"1024.00 MiB \(1073.74 MB\)",$/m);
    expect(created.output).toMatch(/^ {2}"align":1073741824\n\}/m);
    expect(daxctl(m, ['list', '-u'], run).output).toMatch(/"align":"1024.00 MiB \(1073.74 MB\)"/);
    expect(daxctl(m, ['list'], run).output).toMatch(/"align":1073741824/);
  });
});

describe('an NVDIMM hot-added at run time', () => {
  it('becomes a region with its raw namespace and "Persistent Memory" in iomem; devdax and kmem work on it; an overlapping one is one clear error', async () => {
    const { runScenario } = await import('../src/drivers/run.js');
    const { procIomem } = await import('../src/formats/iomem.js');
    const m = runScenario(join(root, 'test', 'qemu', 'nvdimm-hotplug.scenario.yaml'), [], undefined, () => undefined);
    // dax_pmem's metadata claim stays while kmem holds the data (issue 19; the real 6.1 guest
    // showed "100000000-1011fffff : namespace0.0" here under mmsim verify).
    expect(procIomem(m)).toContain('100000000-13fffffff : Persistent Memory\n  100000000-1011fffff : namespace0.0\n  108000000-13fffffff : dax0.0\n    108000000-13fffffff : System RAM (kmem)\n');
    // 1 GiB --map=dev: 18 MiB of info block and memmap; kmem rounds 0x101200000 up to block 33: 7 blocks.
    expect(m.zoneByName(1, 'Movable')).toMatchObject({ zoneStartPfn: 0x108000, spannedPages: 7 * 32768, presentPages: 7 * 32768 });
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-nvhot-'));
    const sc = join(dir, 's.scenario.yaml');
    writeFileSync(
      sc,
      `machine: ${join(root, 'test', 'qemu', 'm-2node.yaml')}\nsteps:\n  - add: { node: 1, start: 4G, size: 1G, device: nvdimm }\n  - add: { node: 1, start: 0x120000000, size: 1G, device: nvdimm }\n`,
    );
    expect(() => runScenario(sc, [], undefined, () => undefined)).toThrow(/s\.scenario\.yaml:4:5: an NVDIMM at 0x120000000 overlaps one already there/);
  });
});

describe("ndctl list's shape (ndctl/list.c list_display)", () => {
  it('regions with namespaces nested make a platform object; one kind alone is an array, one element alone with -u; no flag lists namespaces', async () => {
    const { bootMachineFile } = await import('../src/drivers/run.js');
    const m = bootMachineFile(join(root, 'examples', 'qemu-2node-nvdimm.yaml'), undefined);
    const run = runner(m);
    const rn = JSON.parse(ndctl(m, ['list', '-RNu'], run).output) as { regions?: { namespaces?: unknown[] }[] };
    expect(rn.regions?.[0]?.namespaces).toHaveLength(1);
    expect(JSON.parse(ndctl(m, ['list', '-Ru'], run).output)).toMatchObject({ dev: 'region0' });
    expect(JSON.parse(ndctl(m, ['list', '-R'], run).output)).toMatchObject([{ dev: 'region0', size: 2 ** 31 }]);
    expect(JSON.parse(ndctl(m, ['list', '-u'], run).output)).toMatchObject({ dev: 'namespace0.0', mode: 'raw' });
    expect(daxctl(m, ['list'], run).output).toBe('');
  });
});

describe('ndctl refusals leave the machine as it was', () => {
  it('an alignment that cannot fit changes nothing, with -e or in a labelled region', async () => {
    const { bootMachineFile } = await import('../src/drivers/run.js');
    for (const file of ['qemu-2node-nvdimm.yaml', 'qemu-2node-nvdimm-label.yaml']) {
      const m = bootMachineFile(join(root, 'examples', file), undefined);
      const run = runner(m);
      if (file.includes('label')) {
        for (const c of [
          ['disable-region', 'all'],
          ['init-labels', '-f', 'all'],
          ['enable-region', 'all'],
        ])
          expect(ndctl(m, c, run).exitCode).toBe(0);
      }
      const before = ndctl(m, ['list', '-RNDu'], run).output;
      const args = file.includes('label')
        ? ['create-namespace', '-r', 'region0', '--mode=fsdax', '--size=32M', '--align=1G']
        : ['create-namespace', '-f', '-e', 'namespace0.0', '--mode=devdax', '--align=4G'];
      const r = ndctl(m, args, run);
      expect(r.exitCode, file).toBe(1);
      expect(r.output).toMatch(/^Error: namespace0\.0: unable to satisfy requested alignment\n$/);
      expect(ndctl(m, ['list', '-RNDu'], run).output, file).toBe(before);
      expect(m.zoneByName(1, 'Device').spannedPages).toBe(0);
    }
  });
});

/** examples/qemu-2node-nvdimm.yaml with auto_online_blocks "online" and a devdax --map=dev namespace on its 2 GiB NVDIMM. */
async function autoOnlineDevdax(): Promise<{ m: Machine; run: ReturnType<typeof runner> }> {
  const { bootMachineFile } = await import('../src/drivers/run.js');
  const { mkdtempSync, readFileSync: read, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'mmsim-autoonline-')), 'machine.yaml');
  writeFileSync(file, read(join(root, 'examples', 'qemu-2node-nvdimm.yaml'), 'utf8').replace('config: { autoOnlineBlocks: offline }', 'config: { autoOnlineBlocks: online }'));
  const m = bootMachineFile(file, undefined);
  const run = runner(m);
  expect(ndctl(m, ['create-namespace', '-f', '-e', 'namespace0.0', '--mode=devdax', '--map=dev'], run).exitCode).toBe(0);
  return { m, run };
}

describe('daxctl reconfigure-device --mode=system-ram under a kernel that auto-onlines (Debian 6.12: MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO)', () => {
  it('refuses without --force (reconfig_mode_system_ram, daxctl/device.c v81): the device stays devdax, exit -EBUSY & 0xff; --no-movable (daxctl onlines the memory itself) goes on', async () => {
    const { m, run } = await autoOnlineDevdax();
    // daxctl_dev_will_auto_online_memory: auto_online_blocks starts with "online".
    expect(daxctl(m, ['reconfigure-device', '--mode=system-ram', 'all'], run)).toEqual({
      output: 'dax0.0: error: kernel policy will auto-online memory, aborting\nerror reconfiguring devices: Device or resource busy\nreconfigured 0 devices\n',
      exitCode: 240,
    });
    expect(JSON.parse(daxctl(m, ['list'], run).output)).toMatchObject([{ chardev: 'dax0.0', mode: 'devdax' }]);
    // Back to devdax while still devdax: reconfig_mode_devdax -> disable_system_ram_device says so,
    // returns 1, and do_reconfig lists and counts the device (the real 6.12 guest printed exactly this).
    const back = daxctl(m, ['reconfigure-device', '--mode=devdax', 'all'], run);
    expect(back.exitCode).toBe(0);
    expect(back.output).toMatch(/^dax0\.0 was already in devdax mode\n\[\n {2}\{\n {4}"chardev":"dax0\.0",[\s\S]*"mode":"devdax"\n {2}\}\n\]\nreconfigured 1 device\n$/);
    // --no-movable without --no-online skips the check: daxctl onlines as ZONE_NORMAL itself.
    const r = daxctl(m, ['reconfigure-device', '--mode=system-ram', '--no-movable', 'all'], run);
    expect(r.exitCode).toBe(0);
    expect(r.output).toMatch(/"mode":"system-ram"[\s\S]*reconfigured 1 device\n$/);
  });
});

describe('daxctl reconfigure-device --mode=system-ram --force under a kernel that auto-onlines', () => {
  it('dev_online_memory (daxctl/device.c v81) finds every block online already: the race warning, then "all memory sections (N) already online"', async () => {
    // The real Debian 6.12.118 guest printed this for a 1 GiB devdax --map=dev namespace (7 blocks).
    // Here the NVDIMM is 2 GiB at 4 GiB: the info block and the on-device memmap (32 MiB) take part
    // of the first 128 MiB block, so kmem's whole blocks are 0x108000000-0x17fffffff: 15.
    const { m, run } = await autoOnlineDevdax();
    const r = daxctl(m, ['reconfigure-device', '--mode=system-ram', '--force', 'all'], run);
    expect(r.exitCode).toBe(0);
    expect(r.output.split('\n').slice(0, 7)).toEqual([
      'dax0.0:',
      '  WARNING: detected a race while onlining memory',
      '  Some memory may not be in the expected zone. It is',
      '  recommended to disable any other onlining mechanisms,',
      '  and retry. If onlining is to be left to other agents,',
      '  use the --no-online option to suppress this warning',
      'dax0.0: all memory sections (15) already online',
    ]);
    expect(r.output).toMatch(/"online_memblocks":15,\n {4}"total_memblocks":15,[\s\S]*reconfigured 1 device\n$/);
  });
});
