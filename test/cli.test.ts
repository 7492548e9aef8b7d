// The command line as a user meets it: bad input gives one line, exit code 2, no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './cli_run.js';
import { cliPath, root } from './helpers.js';
import { runDemo } from '../src/cli/commands/demo.js';

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** `mmsim ARGS` in a runner process (test/cli_run.ts: the built CLI's main(), no start-up per command). */
async function mmsim(...args: string[]): Promise<Ran> {
  const r = await cli(args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** `node dist/cli/main.js ARGS`, a real process: the bin's exit code and stderr as a shell sees them. */
function mmsimBin(...args: string[]): Ran {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'mmsim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function expectOneLineError(r: Ran, re: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(re);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('mmsim boot errors', () => {
  it('a malformed node range in a log names file:line:column', async () => {
    const p = file(
      'bad.log',
      ['[    0.000000] Linux version 6.1.0-6-amd64 (x@x) #1 SMP Debian 6.1.15-1', '[    0.000000] Early memory node ranges', '[    0.000000]   node   0: [mem 0x0000000000001000-0x00000000zz]'].join(
        '\n',
      ),
    );
    expectOneLineError(await mmsim('boot', '--from-dmesg', p), new RegExp(`^mmsim: ${p}:3:\\d+: expected`));
  });
  it('a log without node ranges says what is missing', async () => {
    const p = file('empty.log', '[    0.000000] Linux version 6.1.0 (x@x)\n');
    expectOneLineError(await mmsim('boot', '--from-dmesg', p), /neither an "Early memory node ranges" block nor BIOS-e820 lines/);
  });
  it('a log without a Linux version line asks for --kernel', async () => {
    const p = file('nover.log', '[    0.000000] Early memory node ranges\n[    0.000000]   node   0: [mem 0x0000000000001000-0x000000000009efff]\n');
    expectOneLineError(await mmsim('boot', '--from-dmesg', p), /--kernel RELEASE/);
    expect((await mmsim('boot', '--from-dmesg', p, '--kernel', '6.1')).code).toBe(0);
  });
  it('YAML with a wrong type names file:line:column and the expected type', async () => {
    const p = file('wrong.yaml', 'kernel: "6.18"\nnodes:\n  - nid: zero\n    memory: []\n');
    expectOneLineError(await mmsim('boot', p), new RegExp(`^mmsim: ${p}:3:\\d+: expected number`));
  });
  it('YAML with overlapping ranges names the second range', async () => {
    const p = file('overlap.yaml', 'kernel: "6.18"\nnodes:\n  - nid: 0\n    memory:\n      - { start: 0x100000, end: 4G }\n  - nid: 1\n    memory:\n      - { start: 3G, size: 4G }\n');
    expectOneLineError(await mmsim('boot', p), new RegExp(`^mmsim: ${p}:8:9: memory range .* overlaps`));
  });
  it('invalid YAML syntax is one line too', async () => {
    const p = file('syntax.yaml', 'nodes: [\n');
    expectOneLineError(await mmsim('boot', p), new RegExp(`^mmsim: ${p}:\\d+:\\d+: invalid YAML`));
  });
  it('a bad command-line option in the machine file', async () => {
    const p = file('cmd.yaml', 'kernel: "6.18"\ncmdline: "kernelcore=lots"\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }]\n');
    expectOneLineError(await mmsim('boot', p), /kernelcore=lots: expected a size/);
  });
  it('a missing file, an unknown --print, and no machine at all', () => {
    expectOneLineError(mmsimBin('boot', join(dir, 'nope.yaml')), /cannot read \(ENOENT\)/);
    const ok = file('ok.yaml', 'kernel: "6.18"\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }]\n');
    expectOneLineError(mmsimBin('boot', ok, '--print', 'xml'), /--print xml: expected one of dmesg, zoneinfo, blocks, json/);
    expectOneLineError(mmsimBin('boot'), /give exactly one machine/);
    expectOneLineError(mmsimBin('boot', ok, '--kernel', 'banana'), /--kernel banana: expected a release/);
  });
  it('an unknown option is one line from commander, exit 2', () => {
    const r = mmsimBin('boot', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
  it('an arm64 kernel in the unmodelled 5.5-5.14 range is refused with a reason', async () => {
    const p = file('arm.yaml', 'arch: arm64\nnodes: [{ nid: 0, memory: [{ start: 0x40000000, end: 8G }] }]\n');
    expectOneLineError(await mmsim('boot', p, '--kernel', '5.10'), /arm64 kernels 5.5 to 5.14 are not modelled/);
    expect((await mmsim('boot', p, '--kernel', '6.18')).code).toBe(0);
  });
  it('an i386 machine without its lowmem end asks for it', async () => {
    const p = file('i386.yaml', 'arch: i386\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }]\n');
    expectOneLineError(await mmsim('boot', p, '--kernel', '4.9'), /give config.lowmemBytes/);
  });
});

describe('mmsim boot output', () => {
  it('--print dmesg --print zoneinfo --print json, and --explain', async () => {
    const p = file('m.yaml', 'kernel: "5.10"\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }]\n');
    const r = await mmsim('boot', p, '--print', 'dmesg', '--print', 'zoneinfo', '--print', 'json', '--explain');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Zone ranges:\n');
    expect(r.out).toContain('Node 0, zone      DMA\n');
    expect(r.out).toContain('"memoryBlockSizeMiB": 128');
    // 5.10 needs dma_reserve for "pages reserved" and Total pages: --explain says so.
    expect(r.out).toMatch(/# left out: ".*pages reserved": dma_reserve/);
    expect(r.out).toMatch(/# left out: "Built 1 zonelists.*Total pages: N": Total pages needs dma_reserve/);
  });
  it("demo --full adds the machine's boot as the kernel prints it before the story (the story itself: readme.test.ts, on the quick start's `npx mmsim demo`)", () => {
    const full = runDemo('6.18');
    expect(full).toMatch(/^Zone ranges:\n/);
    expect(full).toContain('Built 4 zonelists, mobility grouping on.  Total pages: ');
    expect(full).toContain('Node 3, zone   Normal\n');
  });
});

describe('mmsim kmem -n', () => {
  it("prints crash's three tables for a machine", async () => {
    const p = file('k.yaml', 'kernel: "6.18"\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }]\n');
    const r = await mmsim('kmem', '-n', p, '--explain');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^NODE    SIZE      PGLIST_DATA       BOOTMEM_DATA       NODE_ZONES/);
    expect(r.out).toContain('  1   DMA32     1044480  ffffea0000040000      1000000         4096\n');
    expect(r.out).toMatch(/\n 0  -{16}  ffffea0000000000  ffffea0000000000  PMOE  0 +\n/);
    expect(r.out).toMatch(/memory31 +f8000000 - ffffffff  0    ONLINE  31/);
    expect(r.out).toMatch(/\n# .*not modelled|\n# .*placeholder|\n# /);
  });
  it('without -n says what it models', async () => {
    const p = file('k2.yaml', 'kernel: "6.18"\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }]\n');
    expectOneLineError(await mmsim('kmem', p), /give -n/);
  });
});

describe('mmsim page', () => {
  const p = () => file('pg.yaml', 'kernel: "6.18"\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }]\n');
  it('prints a hole page as initialised and reserved, with its raw bytes in dense mode', async () => {
    const r = await mmsim('page', p(), '0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('# pfn 0x0 (0): node 0, zone DMA, struct page initialized');
    expect(r.out).toContain("'PG_reserved'");
    expect(r.out).toContain('# xxd -o 0xffffea0000000000');
  });
  it('extent mode has no raw bytes; a bad range is one line', async () => {
    const r = await mmsim('page', p(), '0x1000-0x1001', '--memmap', 'extent');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('xxd');
    expect(r.out.match(/^# pfn /gm)).toHaveLength(2);
    expectOneLineError(await mmsim('page', p(), '5-1'), /ends before it starts/);
    expectOneLineError(await mmsim('page', p(), '0x200000'), /no struct page/);
  });
});

describe('mmsim page with a kernel .config and deferred pages', () => {
  it('dense mode initialises deferred pages on worker threads; a .config changes the layout', async () => {
    const p = file('pgk.yaml', 'kernel: "6.18"\nnodes:\n  - { nid: 0, cpus: 2, memory: [{ start: 0x100000, end: 4G }] }\n  - { nid: 1, cpus: 2, memory: [{ start: 4G, end: 6G }] }\n');
    // pfn 0x160000 is past node 1's first_deferred_pfn (0x148000): only deferred init touches it.
    const r = await mmsim('page', p, '0x160000');
    expect(r.code).toBe(0);
    expect(r.out).toContain('# pfn 0x160000 (1441792): node 1, zone Normal, struct page initialized');
    const k = file(
      'k.config',
      'CONFIG_64BIT=y\nCONFIG_NUMA=y\nCONFIG_NODES_SHIFT=6\nCONFIG_SMP=y\nCONFIG_NR_CPUS=64\nCONFIG_SPARSEMEM=y\nCONFIG_SPARSEMEM_VMEMMAP=y\nCONFIG_ZONE_DMA=y\nCONFIG_ZONE_DMA32=y\nCONFIG_ZONE_DEVICE=y\nCONFIG_MMU=y\n# CONFIG_NUMA_BALANCING is not set\n',
    );
    const q = await mmsim('page', p, '0x160000', '--kconfig', k);
    expect(q.code).toBe(0);
    // No memcg word, no aligned struct page: 56-byte records; node 1 << 58 | Normal (2) << 55.
    expect(q.out).toContain('(raw struct page, 56 bytes)');
    expect(q.out).toContain(`.flags = (unsigned long)${(1n << 58n) | (2n << 55n)},`);
  });
});

describe('mmsim schema', () => {
  it('prints a JSON Schema naming every top-level key of a machine file', async () => {
    const r = await mmsim('schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as { $schema: string; properties: Record<string, unknown>; required?: string[] };
    expect(schema.$schema).toMatch(/json-schema\.org/);
    for (const key of ['name', 'kernel', 'arch', 'hypervisor', 'cmdline', 'config', 'reserved', 'nodes', 'memoryBlocks', 'memoryBlockBytes', 'dmaReservePages']) {
      expect(Object.keys(schema.properties)).toContain(key);
    }
    expect(schema.required).toContain('nodes');
  });
});

describe('mmsim chmem', () => {
  it("runs over a scenario's end state or a booted machine; a missing file or a --sysroot beside it is one line", async () => {
    // After the chmem scenario all of the dimm is online; memory32 stays EBUSY (exit 64: some done).
    const r = await mmsim('chmem', join(root, 'examples/chmem.scenario.yaml'), '--disable', '-b', '32-33', '-v');
    expect(r.code).toBe(64);
    expect(r.out).toBe('Memory Block 33 (0x0000000108000000-0x000000010fffffff) disabled\n');
    expect(r.err).toBe('chmem: Memory Block 32 (0x0000000100000000-0x0000000107ffffff) disable failed: Device or resource busy\n');
    // A booted machine has no offline memory to enable.
    const e = await mmsim('chmem', join(root, 'examples/qemu-2node.yaml'), '--enable', '128M');
    expect(e.code).toBe(1);
    expect(e.err).toBe('chmem: Could only enable 0B of memory\n');
    expectOneLineError(await mmsim('chmem', 'machine.yaml', '--enable', '1G'), /^mmsim: machine\.yaml: cannot read \(ENOENT\)/);
    expectOneLineError(await mmsim('chmem', join(root, 'examples/qemu-2node.yaml'), '--sysroot', '/', '-e', '1G'), /not both/);
  });
});

describe('mmsim run', () => {
  it("runs the shipped QEMU scenarios with all their expects (the real 6.1 kernel's results)", async () => {
    for (const f of ['examples/dimm.scenario.yaml', 'examples/dimm-zones.scenario.yaml', 'examples/virtio-mem.scenario.yaml', 'examples/nvdimm.scenario.yaml', 'examples/nvdimm-label.scenario.yaml']) {
      const r = await mmsim('run', join(root, f));
      expect(r.err, f).toBe('');
      expect(r.code, f).toBe(0);
    }
  });
  it("mmsim ndctl / daxctl over a machine or a scenario's end; an unknown command or a missing machine is one line", async () => {
    const r = await mmsim('ndctl', join(root, 'examples/qemu-2node-nvdimm.yaml'), 'list', '-Nu');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ dev: 'namespace0.0', mode: 'raw', size: '2.00 GiB (2.15 GB)', sector_size: 512, blockdev: 'pmem0' });
    // The nvdimm scenario ends with its namespace destroyed: nothing left for daxctl.
    const d = await mmsim('daxctl', join(root, 'examples/nvdimm.scenario.yaml'), 'list');
    expect(d.code, d.err).toBe(0);
    expect(d.out).toBe('');
    expect((await mmsim('ndctl', join(root, 'examples/qemu-2node-nvdimm.yaml'), 'frobnicate')).code).toBe(1);
    expectOneLineError(await mmsim('daxctl', 'list'), /^mmsim: daxctl: give a machine or scenario file first/);
  });
  it('memmap-on-memory example: its expects hold for 6.1; 6.18 carves every block and fails the 1 GiB dimm expect; a bad cmdline names its line', async () => {
    const f = join(root, 'examples/memmap-on-memory.scenario.yaml');
    expect((await mmsim('run', f)).err).toBe('');
    expect((await mmsim('run', f, '--kernel', '6.18')).err).toMatch(/memmap-on-memory\.scenario\.yaml:16:5: node 1 zone Movable managed: expected 294400, got 290304/);
    const bad = file('badcmd.scenario.yaml', `machine: ${join(root, 'examples/qemu-2node.yaml')}\ncmdline: "memory_hotplug.memmap_on_memory=maybe"\nsteps:\n  - print: blocks\n`);
    expectOneLineError(await mmsim('run', bad), /badcmd\.scenario\.yaml:2:10: memory_hotplug\.memmap_on_memory=maybe: expected Y, N or force/);
  });
  it("--print lsmem shows the blocks as util-linux lsmem would read them from the machine's sysfs", async () => {
    const r = await mmsim('run', join(root, 'examples/dimm-zones.scenario.yaml'), '--print', 'lsmem');
    expect(r.code, r.err).toBe(0);
    const steps = r.out.split(/^##### /m).filter((s) => s.includes(': lsmem\n'));
    const rows = (i: number) =>
      (steps[i] ?? '')
        .split('\n')
        .slice(2)
        .filter((l) => l.startsWith('0x'))
        .map((l) => l.trim().split(/\s+/));
    // After `online 32-35 online_kernel`: the 1 GiB dimm at 4 GiB is half online (blocks of 128 MiB).
    expect(rows(1)).toEqual([
      ['0x0000000000000000-0x000000007fffffff', '2G', 'online', 'yes', '0-15'],
      ['0x0000000100000000-0x000000011fffffff', '512M', 'online', 'yes', '32-35'],
      ['0x0000000120000000-0x000000013fffffff', '512M', 'offline', '36-39'],
    ]);
    // At the end only memory32 (EBUSY) stays online; REMOVABLE is shown for online blocks only.
    const last = steps.length - 1;
    expect(rows(last)).toEqual([
      ['0x0000000000000000-0x000000007fffffff', '2G', 'online', 'yes', '0-15'],
      ['0x0000000100000000-0x0000000107ffffff', '128M', 'online', 'yes', '32'],
      ['0x0000000108000000-0x000000013fffffff', '896M', 'offline', '33-39'],
    ]);
    expect(steps[last]).toMatch(/Total online memory:\s+2\.1G\nTotal offline memory:\s+896M\n/);
  });
  it("chmem and sysfs writes over a machine: chmem's messages and exit codes with the kernel's errno", async () => {
    const r = await mmsim('run', join(root, 'examples/chmem.scenario.yaml'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // memory32 is EBUSY in Normal (QEMU-ORACLE.md §4); chmem warns with strerror and goes on.
    expect(r.out).toContain(
      'Memory Block 33 (0x0000000108000000-0x000000010fffffff) disabled\nchmem: Memory Block 32 (0x0000000100000000-0x0000000107ffffff) disable failed: Device or resource busy\n',
    );
    expect(r.out).toContain('chmem: Could only disable 512M of memory\n');
    expect(r.out).toContain('chmem: Could only enable 768M of memory\n');
    const wrong = file('wrong-write.scenario.yaml', `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\nsteps:\n  - write: { path: memory0/state, value: online }\n`);
    const w = await mmsim('run', wrong);
    expect(w.code).toBe(1);
    expect(w.err.trim()).toBe(`mmsim: ${wrong}:3:5: write memory0/state: expected success, got EINVAL`);
  });
  it('debug_vm: removing never-onlined memory trips VM_BUG_ON_PAGE(PagePoisoned) on v5.3 only (the 2019 bug)', async () => {
    // v5.3's x86 arch_remove_memory takes page_zone() of the first struct page of the range; that
    // page was poisoned by sparse_add_section and never initialised because the memory never went
    // online. From 5.5 removal reads no struct page (spans shrink at offline, online sections only).
    const scen = file(
      'poison.scenario.yaml',
      `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\ndebug_vm: true\nsteps:\n  - add: { node: 1, start: 4G, size: 1G }\n  - remove: { start: 4G, size: 1G }\n`,
    );
    const old = await mmsim('run', scen, '--kernel', '5.3');
    expect(old.code).toBe(1);
    // pfn 0x100000 * 64 bytes above x86_64's vmemmap base 0xffffea0000000000.
    expect(old.err.trim()).toBe(`mmsim: ${scen}:5:5: page:ffffea0004000000 is uninitialized and poisoned; page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))`);
    for (const k of ['6.1', '6.18']) expect((await mmsim('run', scen, '--kernel', k)).code, k).toBe(0);
    // Without debug_vm the memmap is stale, not poisoned: nothing to catch, as on a production kernel.
    const quiet = file('quiet.scenario.yaml', `machine: ${join(root, 'examples', 'qemu-2node.yaml')}\nsteps:\n  - add: { node: 1, start: 4G, size: 1G }\n  - remove: { start: 4G, size: 1G }\n`);
    expect((await mmsim('run', quiet, '--kernel', '5.3')).code).toBe(0);
  });
  it('memory_hotplug.online_policy=auto-movable: MOVABLE while within auto_movable_ratio of early kernel memory', async () => {
    // qemu-2node: node 1 has 262111 early DMA32 pages, so with the default ratio of 301% node 1
    // may hold floor(301 * 262111 / 100) = 788954 MOVABLE pages; both nodes together 1577712.
    const machine = (extra: string) =>
      file(`am${extra.length}.yaml`, readFileSync(join(root, 'examples', 'qemu-2node.yaml'), 'utf8') + `cmdline: "memory_hotplug.online_policy=auto-movable${extra}"\n`);
    const steps = (m: string, third: string) =>
      file(
        `am-${third}.scenario.yaml`,
        [
          `machine: ${m}`,
          'steps:',
          '  - add: { node: 1, start: 4G, size: 1G }',
          '  - online: { blocks: 32-39 }',
          '  - expect: { node: 1, zone: Movable, spanned: 262144, present: 262144, start_pfn: 1048576 }',
          '  - add: { node: 1, start: 8G, size: 2G }',
          '  - online: { blocks: 64-79 }', // 786432 <= 788954
          '  - expect: { node: 1, zone: Movable, present: 786432 }',
          '  - add: { node: 1, start: 16G, size: 128M }',
          '  - online: { blocks: 128 }', // 819200 > 788954
          third === 'Normal' ? '  - expect: { node: 1, zone: Normal, spanned: 32768, present: 32768, start_pfn: 4194304 }' : '  - expect: { node: 1, zone: Movable, present: 819200 }',
          '',
        ].join('\n'),
      );
    expect((await mmsim('run', steps(machine(''), 'Normal'))).err).toBe('');
    // Not NUMA-aware: only the global ratio counts, and 819200 <= 1577712.
    const r = await mmsim('run', steps(machine(' memory_hotplug.auto_movable_numa_aware=0'), 'Movable'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // ratio 0: always a kernel zone. v5.3 has no online_policy: plain online picks Normal.
    const zero = steps(machine(' memory_hotplug.auto_movable_ratio=0'), 'Normal');
    expect((await mmsim('run', zero)).err).toMatch(/:5:5: node 1 zone Movable spanned: expected 262144, got 0/);
    expect((await mmsim('run', steps(machine(''), 'Normal'), '--kernel', '5.3')).err).toMatch(/:5:5: node 1 zone Movable spanned: expected 262144, got 0/);
    expectOneLineError(await mmsim('boot', machine(' memory_hotplug.online_policy=eager')), /memory_hotplug\.online_policy=eager: expected contig-zones or auto-movable/);
  });
  it('--print json: zones and blocks after each step', async () => {
    const r = await mmsim('run', join(root, 'examples/dimm-zones.scenario.yaml'), '--print', 'json');
    expect(r.code, r.err).toBe(0);
    const docs = r.out
      .split(/^##### /m)
      .filter((t) => /^step \d+: json\n/.test(t))
      .map(
        (t) =>
          JSON.parse(t.slice(t.indexOf('\n') + 1)) as {
            nodes: { nid: number; zones: { zone: string; zoneStartPfn: number; spannedPages: number; presentPages: number }[] }[];
            blocks: { id: number; state: string; validZones: string; hotAdded: boolean; memoryGroup?: number }[];
          },
      );
    // Step 2 (online 32-35 online_kernel): the real 6.1 kernel's node 1 Normal, and the blocks.
    const normal = docs[1]?.nodes[1]?.zones.find((z) => z.zone === 'Normal');
    expect(normal).toMatchObject({ zoneStartPfn: 1048576, spannedPages: 131072, presentPages: 131072 });
    const b = docs[1]?.blocks ?? [];
    expect(b.filter((x) => x.hotAdded).map((x) => `${x.id}:${x.state}:${x.validZones}:${x.memoryGroup}`)).toEqual([
      '32:online:Normal:0',
      '33:online:Normal:0',
      '34:online:Normal:0',
      '35:online:Normal:0',
      '36:offline:Normal Movable:0',
      '37:offline:Normal Movable:0',
      '38:offline:Normal Movable:0',
      '39:offline:Normal Movable:0',
    ]);
  });
  it('adding memory to a node the machine lacks is one line naming the step', async () => {
    const m = file('cpuless.yaml', 'kernel: "6.1.0"\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }\n  - { nid: 1, cpus: 0, memory: [] }\n');
    const missing = file('missing.scenario.yaml', `machine: ${m}\nsteps:\n  - add: { node: 5, start: 4G, size: 512M }\n`);
    expectOneLineError(await mmsim('run', missing), new RegExp(`^mmsim: ${missing}:3:5: node 5 is not in the machine \\(nodes 0, 1\\)`));
  });
  it('hot-add brings an offline node online (hotadd_init_pgdat); removing its memory takes it offline again (try_offline_node)', async () => {
    const m = file('cpuless2.yaml', 'nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }\n  - { nid: 1, cpus: 0, memory: [] }\n  - { nid: 2, cpus: 1, memory: [] }\n');
    const sc = file(
      'node-online.scenario.yaml',
      `machine: ${m}\nsteps:\n  - expect: { node: 1, online: false }\n  - add: { node: 1, start: 4G, size: 256M }\n  - expect: { node: 1, online: true, zone: Normal, spanned: 0 }\n  - online: { blocks: 32-33, type: online_movable }\n` +
        `  - expect: { node: 1, zone: Movable, spanned: 65536, present: 65536, start_pfn: 1048576 }\n  - offline: { blocks: 32-33 }\n  - remove: { start: 4G, size: 256M }\n  - expect: { node: 1, online: false }\n` +
        `  - add: { node: 2, start: 8G, size: 128M }\n  - remove: { start: 8G, size: 128M }\n  - expect: { node: 2, online: true }\n`,
    );
    for (const k of ['6.1', '6.18', '5.3']) {
      const r = await mmsim('run', sc, '--kernel', k, '--print', 'zoneinfo');
      expect(r.err, k).toBe('');
      const zi = r.out.split(/^##### /m);
      // Node 1 is in /proc/zoneinfo only between the add and the removal; node 2 has CPUs and stays.
      expect(
        zi.filter((t) => /\nNode 1, zone/.test(t)).map((t) => t.split(':')[0]),
        k,
      ).toEqual(['step 2', 'step 3', 'step 4', 'step 5', 'step 6']);
    }
    // An offline node that is not hot-added to stays out; a wrong expect names the step.
    const wrong = file('node-wrong.scenario.yaml', `machine: ${m}\nsteps:\n  - expect: { node: 1, online: true }\n`);
    expect((await mmsim('run', wrong, '--kernel', '6.1')).err).toMatch(/node-wrong\.scenario\.yaml:3:5: node 1: expected online, got offline/);
  });
  it('run: each step header names the operation, its blocks and its result; the run ends with "N expects held" (issue 22)', async () => {
    // examples/dimm-zones.scenario.yaml: a 1 GiB pc-dimm at 4 GiB on node 1 = memory32-39 (128 MiB
    // blocks: 4 GiB / 128 MiB = 32), step 18 offlines memory32, which the real 6.1 kernel refused with EBUSY.
    const r = await mmsim('run', join(root, 'examples/dimm-zones.scenario.yaml'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    const headers = r.out.split('\n').filter((l) => l.startsWith('##### '));
    expect(headers.slice(0, 4)).toEqual([
      '##### step 1: add pc-dimm node 1 memory32-39 (0x100000000-0x13fffffff) — ok',
      '##### step 2: online_kernel memory32-35 (0x100000000-0x11fffffff) — ok',
      '##### step 3: online_movable memory36-39 (0x120000000-0x13fffffff) — ok',
      '##### step 4: expect node 1 zone Normal: spanned 131072, present 131072, managed 131072, start_pfn 1048576 — held',
    ]);
    expect(headers).toContain('##### step 18: offline memory32 (0x100000000-0x107ffffff) — refused: -EBUSY');
    expect(headers).toContain('##### step 14: online memory36 (0x120000000-0x127ffffff) — ok');
    expect(headers[headers.length - 1]).toBe('##### step 22: blocks');
    // Ten expect steps (4, 5, 7, 9, 11, 13, 15, 17, 20, 21), every one held.
    expect(r.out.endsWith('\n10 expects held\n')).toBe(true);
    // A refusal the step did not expect: the header says what happened and what was expected, then exit 1.
    const machine = join(root, 'examples', 'qemu-2node.yaml');
    const busy = file(
      'busy.scenario.yaml',
      `machine: ${machine}\nunmovable: [32]\nsteps:\n  - add: { node: 1, start: 4G, size: 256M }\n  - online: { blocks: 32-33, type: online_kernel }\n  - offline: { blocks: 32 }\n`,
    );
    const b = await mmsim('run', busy);
    expect(b.code).toBe(1);
    expect(b.out.trimEnd().split('\n').pop()).toBe('##### step 3: offline memory32 (0x100000000-0x107ffffff) — refused: -EBUSY (expected ok)');
    expect(b.err).toBe(`mmsim: ${busy}:6:5: memory32: expected success, got errno 16\n`);
  });
  it('a kernel release mmsim has no profile for: one line on stderr naming the nearest, once, and stdout as under that profile (issue 22)', async () => {
    const f = join(root, 'examples/dimm.scenario.yaml');
    const ref = await mmsim('run', f, '--kernel', '6.18', '--print', 'blocks');
    const r = await mmsim('run', f, '--kernel', '6.25.1-foo', '--print', 'blocks');
    expect(r.code).toBe(0);
    expect(r.err).toBe('mmsim: no profile for kernel 6.25.1-foo; using the nearest, 6.18\n');
    expect(r.out).toBe(ref.out);
    // From a boot log's "Linux version" line.
    const log = readFileSync(join(root, 'examples/qemu-2node-6.1.log'), 'utf8').replace(/^Linux version \S+/, 'Linux version 5.20.0-rc9');
    const b = await mmsim('boot', '--from-dmesg', file('future.log', log), '--print', 'dmesg');
    expect(b.code, b.err).toBe(0);
    expect(b.err).toBe('mmsim: no profile for kernel 5.20.0-rc9; using the nearest, 5.19\n');
    // A release mmsim models says nothing.
    expect((await mmsim('boot', join(root, 'examples/qemu-2node.yaml'), '--kernel', '6.7.3-foo')).err).toBe('');
  });
  it('a failed expect is exit code 1 with file:line:col of the step; a bad scenario is exit 2', async () => {
    const machine = join(root, 'examples', 'qemu-2node.yaml');
    const bad = file(
      'bad.scenario.yaml',
      `machine: ${machine}\nsteps:\n  - add: { node: 1, start: 4G, size: 1G }\n  - online: { blocks: 32, type: online_movable }\n  - expect: { node: 1, zone: Movable, spanned: 1 }\n`,
    );
    const r = mmsimBin('run', bad);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`mmsim: ${bad}:5:5: node 1 zone Movable spanned: expected 1, got 32768`);
    const wrong = file('wrong.scenario.yaml', `machine: ${machine}\nsteps:\n  - frobnicate: 1\n`);
    expectOneLineError(await mmsim('run', wrong), new RegExp(`^mmsim: ${wrong}:3:5: expected one step: add, remove, online, offline, concurrent, write, chmem, ndctl, daxctl, expect or print`));
  });
});
