// Issue 19 item 2: boot's memblock allocations (kernel/setup.ts over kernel/memblock.ts's
// allocator), memblock_free_all's managed pages per zone and the "Memory:" line, against a real
// Linux 6.1 under QEMU.
//
// The real numbers: Debian 6.1.0-57-cloud-amd64 (6.1.192-3) booted by QEMU 7.2 (Debian) with
// `qemu-system-x86_64 -accel tcg -cpu max -machine pc,nvdimm=on -smp N,sockets=N -m SIZE,slots=8,
// maxmem=16384M -object memory-backend-ram,id=mK,size=... -numa node,nodeid=K,memdev=mK,cpus=K ...
// -kernel vmlinuz -initrd initrd.cpio.gz -append "console=ttyS0 panic=-1 nokaslr [EXTRA]"` (the
// machine `mmsim verify` builds for test/qemu/boot-2node, boot-3node-4g and boot-movablecore),
// /proc/zoneinfo's managed lines and the guest's own "Memory:" line. The model reads only the log
// lines it takes as inputs (below, copied from those boots' dmesg) and the measured build.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootMachine, loadMachine } from '../src/drivers/run.js';
import { loadMachineYaml } from '../src/formats/machine-yaml.js';
import { profileFor } from '../src/profiles/profile.js';
import { parseZoneinfo, zoneField } from '../src/formats/zoneinfo.js';
import { printBootZoneinfo } from '../src/formats/zoneinfo-print.js';
import { Memblock, NUMA_NO_NODE } from '../src/kernel/memblock.js';
import type { Machine } from '../src/kernel/machine.js';
import { hasSharedData, sharedData, unless, NO_SHARED_DATA } from './helpers.js';

const LINUX =
  'Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)';
const E820_LOW = [
  'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
  'BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
  'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
];
const E820_EDITS = ['e820: update [mem 0x00000000-0x00000fff] usable ==> reserved', 'e820: remove [mem 0x000a0000-0x000fffff] usable'];

/** The e820 map of the 2 GiB guests, with the kernel's early edits. */
const E820_2G = [
  ...E820_LOW,
  'BIOS-e820: [mem 0x0000000000100000-0x000000007ffdefff] usable',
  'BIOS-e820: [mem 0x000000007ffdf000-0x000000007fffffff] reserved',
  'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
  'BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved',
  ...E820_EDITS,
];

/** The input lines of the 2-node boot (2 GiB; EXTRA = the command line's extra options). */
function twoNode(extra: string): string[] {
  return [
    LINUX,
    `Command line: console=ttyS0 panic=-1 nokaslr${extra ? ` ${extra}` : ''}`,
    ...E820_2G,
    'last_pfn = 0x7ffdf max_arch_pfn = 0x10000000000',
    'RAMDISK: [mem 0x7fa94000-0x7ffcffff]',
    'SRAT: PXM 0 -> APIC 0x00 -> Node 0',
    'SRAT: PXM 1 -> APIC 0x01 -> Node 1',
    'ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]',
    'ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x3fffffff]',
    'ACPI: SRAT: Node 1 PXM 1 [mem 0x40000000-0x7fffffff]',
    'ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x67fffffff] hotplug',
    'NODE_DATA(0) allocated [mem 0x3ffd5000-0x3fffffff]',
    'NODE_DATA(1) allocated [mem 0x7fa69000-0x7fa93fff]',
    'Early memory node ranges',
    '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
    '  node   0: [mem 0x0000000000100000-0x000000003fffffff]',
    '  node   1: [mem 0x0000000040000000-0x000000007ffdefff]',
    'setup_percpu: NR_CPUS:8192 nr_cpumask_bits:2 nr_cpu_ids:2 nr_node_ids:2',
    'percpu: Embedded 61 pages/cpu s212992 r8192 d28672 u2097152',
    'software IO TLB: area num 2.',
    'software IO TLB: mapped [mem 0x000000007a600000-0x000000007e600000] (64MB)',
  ];
}

/** The 3-node 4 GiB boot (1 + 1 + 2 GiB, RAM past the PCI hole). */
const THREE_NODE = [
  LINUX,
  'Command line: console=ttyS0 panic=-1 nokaslr',
  ...E820_LOW,
  'BIOS-e820: [mem 0x0000000000100000-0x00000000bffdefff] usable',
  'BIOS-e820: [mem 0x00000000bffdf000-0x00000000bfffffff] reserved',
  'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
  'BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable',
  'BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved',
  ...E820_EDITS,
  'last_pfn = 0x140000 max_arch_pfn = 0x10000000000',
  'last_pfn = 0xbffdf max_arch_pfn = 0x10000000000',
  'RAMDISK: [mem 0xbfa94000-0xbffcffff]',
  'SRAT: PXM 0 -> APIC 0x00 -> Node 0',
  'SRAT: PXM 1 -> APIC 0x01 -> Node 1',
  'SRAT: PXM 2 -> APIC 0x02 -> Node 2',
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]',
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x3fffffff]',
  'ACPI: SRAT: Node 1 PXM 1 [mem 0x40000000-0x7fffffff]',
  'ACPI: SRAT: Node 2 PXM 2 [mem 0x80000000-0xbfffffff]',
  'ACPI: SRAT: Node 2 PXM 2 [mem 0x100000000-0x13fffffff]',
  'ACPI: SRAT: Node 2 PXM 2 [mem 0x140000000-0x63fffffff] hotplug',
  'NODE_DATA(0) allocated [mem 0x3ffd5000-0x3fffffff]',
  'NODE_DATA(1) allocated [mem 0x7ffd5000-0x7fffffff]',
  'NODE_DATA(2) allocated [mem 0x13ffd3000-0x13fffdfff]',
  'Early memory node ranges',
  '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
  '  node   0: [mem 0x0000000000100000-0x000000003fffffff]',
  '  node   1: [mem 0x0000000040000000-0x000000007fffffff]',
  '  node   2: [mem 0x0000000080000000-0x00000000bffdefff]',
  '  node   2: [mem 0x0000000100000000-0x000000013fffffff]',
  'setup_percpu: NR_CPUS:8192 nr_cpumask_bits:3 nr_cpu_ids:3 nr_node_ids:3',
  'percpu: Embedded 61 pages/cpu s212992 r8192 d28672 u2097152',
  'software IO TLB: area num 4.',
  'software IO TLB: mapped [mem 0x00000000bba94000-0x00000000bfa94000] (64MB)',
];

const tmp = mkdtempSync(join(tmpdir(), 'mmsim-memblock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function boot(lines: readonly string[]): Machine {
  const file = join(tmp, `dmesg${++n}.txt`);
  writeFileSync(file, lines.join('\n') + '\n');
  return bootMachine(loadMachine({ fromDmesg: file }), { probeNamespaces: false, memmapBoot: false });
}

/** "node/zone managed" of every zone the printed zoneinfo gives a non-zero managed. */
function managed(m: Machine): string[] {
  return parseZoneinfo(printBootZoneinfo(m.state, m.bootZones))
    .records.filter((r) => (zoneField(r, 'managed') ?? 0) > 0)
    .map((r) => `${r.node}/${r.zone} ${zoneField(r, 'managed')}`);
}
const memoryLine = (m: Machine): string | undefined => m.state.log.lines().find((l) => l.startsWith('Memory:'));

describe('boot managed pages and the Memory: line equal the real 6.1 guest (QEMU pc, TCG, -cpu max)', () => {
  it('2 nodes, 2 GiB: every zone and the line', () => {
    const m = boot(twoNode(''));
    // /proc/zoneinfo of the real guest.
    expect(managed(m)).toEqual(['0/DMA 3840', '0/DMA32 245740', '1/DMA32 241073']);
    expect(memoryLine(m)).toBe('Memory: 350964K/2096628K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 147992K reserved, 0K cma-reserved)');
  });
  it('3 nodes, 4 GiB past the PCI hole: node 2 splits DMA32 / Normal (swiotlb below 4 GiB, two direct-map tables from memblock)', () => {
    const m = boot(THREE_NODE);
    expect(managed(m)).toEqual(['0/DMA 3840', '0/DMA32 245740', '1/DMA32 257943', '2/DMA32 245727', '2/Normal 253392']);
    expect(memoryLine(m)).toBe('Memory: 1459584K/4193780K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 181188K reserved, 0K cma-reserved)');
  });
  it('kernelcore=50% on the 3 nodes: node 2 Normal becomes Movable with the same count', () => {
    const m = boot(THREE_NODE.map((l) => (l.startsWith('Command line:') ? `${l} kernelcore=50%` : l)));
    expect(managed(m)).toEqual(['0/DMA 3840', '0/DMA32 245740', '1/DMA32 257943', '2/DMA32 245727', '2/Movable 253392']);
  });
  it('movablecore=512M: the allocations at the top of each node land in ZONE_MOVABLE; fewer pages deferred, more available', () => {
    const m = boot(twoNode('movablecore=512M'));
    expect(managed(m)).toEqual(['0/DMA 3840', '0/DMA32 185433', '0/Movable 60307', '1/DMA32 196608', '1/Movable 44465']);
    expect(memoryLine(m)).toBe('Memory: 1907008K/2096628K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 147992K reserved, 0K cma-reserved)');
  });
  it('the rules alone give the same counts without the NODE_DATA, percpu and swiotlb lines (the build gives sizes, SRAT hotplug up to 25.5 GiB turns swiotlb on)', () => {
    const m = boot(twoNode('').filter((l) => !/^(NODE_DATA|percpu|setup_percpu|software IO TLB)/.test(l)));
    expect(managed(m)).toEqual(['0/DMA 3840', '0/DMA32 245740', '1/DMA32 241073']);
    expect(memoryLine(m)).toContain('147992K reserved');
  });
  it('without the measured build (another release) the line is omitted and --explain says what was estimated', () => {
    const m = boot(twoNode('').map((l) => (l.startsWith('Linux version') ? l.replace('6.1.0-57-cloud-amd64', '6.1.0-99-amd64') : l)));
    expect(memoryLine(m)).toBeUndefined();
    expect(m.state.log.omissions().find((o) => o.what.startsWith('Memory:'))?.why).toMatch(/kernel image/);
  });
});

describe('Memblock (mm/memblock.c 6.1), worked by hand', () => {
  const mem = [
    { base: 0x1000, size: 0x9e000, nid: 0, hotpluggable: false, mirror: false },
    { base: 0x100000, size: 0x3ff00000, nid: 0, hotpluggable: false, mirror: false },
    { base: 0x40000000, size: 0x40000000, nid: 1, hotpluggable: true, mirror: false },
  ];
  it('allocates top-down, aligned, within the node; a node allocation falls back to any node unless exact', () => {
    const mb = new Memblock(mem, 4096);
    mb.currentLimit = 0x80000000;
    // Top of node 0 (ends at 1 GiB), 64-byte aligned below the end.
    expect(mb.allocTryNid(100, 64, 0, 0, 0)).toBe(0x40000000 - 128);
    // Any node: the top of memory.
    expect(mb.allocTryNid(0x200000, 0x200000, 0, 0, NUMA_NO_NODE)).toBe(0x7fe00000);
    // Fits nowhere.
    expect(mb.allocTryNid(0x40000000, 0x1000, 0, 0, 0)).toBeNull();
    // More than node 0's [1 MiB, 1 GiB): nothing when exact, else node 1's top below the 2 MiB block.
    const fresh = new Memblock(mem, 4096);
    fresh.currentLimit = 0x80000000;
    expect(fresh.allocTryNid(0x3ff80000, 0x1000, 0, 0, 0, true)).toBeNull();
    expect(fresh.allocTryNid(0x3ff80000, 0x1000, 0, 0, 0, false)).toBe(0x40080000);
  });
  it('an explicit end is not capped by current_limit (memblock_phys_alloc_range); MEMBLOCK_ALLOC_ACCESSIBLE is', () => {
    const mb = new Memblock(mem, 4096);
    mb.currentLimit = 0x100000;
    expect(mb.allocRangeNid(4096, 4096, 0x60000000, 0x80000000, NUMA_NO_NODE, false)).toBe(0x7ffff000);
    // Below the 1 MiB limit: the top page of [0x1000, 0x9f000).
    expect(mb.allocTryNid(4096, 4096, 0, 0, NUMA_NO_NODE)).toBe(0x9e000);
  });
  it('memblock_phys_free splits a reservation; movable_node skips hot-pluggable regions', () => {
    const mb = new Memblock(mem, 4096);
    mb.reserve(0x10000000, 0x3000);
    mb.free(0x10001000, 0x1000);
    expect(mb.reservedRanges()).toEqual([
      { base: 0x10000000, end: 0x10001000 },
      { base: 0x10002000, end: 0x10003000 },
    ]);
    mb.skipHotpluggable = true;
    mb.currentLimit = 0x80000000;
    expect(mb.allocTryNid(4096, 4096, 0, 0, NUMA_NO_NODE)).toBe(0x3ffff000);
  });
});

describe('a machine file gives the same inputs (image:, initrd:, swiotlb:, e820:)', () => {
  // The 2-node guest above as a machine file: the e820 table as the kernel edited it (page 0
  // reserved, 0xa0000-0xfffff removed), the initrd QEMU loaded, the build named by its release.
  const yaml = (extra: string): string => `
kernel: 6.1.0-57-cloud-amd64
cmdline: "console=ttyS0 panic=-1 nokaslr"
config: { la57: true }
initrd: { start: 0x7fa94000, size: 0x53c000 }
swiotlb: 64M
e820:
  - { start: 0, end: 0x1000, type: reserved }
  - { start: 0x1000, end: 0x9fc00, type: usable }
  - { start: 0x9fc00, end: 0xa0000, type: reserved }
  - { start: 0xf0000, end: 0x100000, type: reserved }
  - { start: 0x100000, end: 0x7ffdf000, type: usable }
  - { start: 0x7ffdf000, end: 0x80000000, type: reserved }
  - { start: 0xfffc0000, end: 0x100000000, type: reserved }
  - { start: 0xfd00000000, end: 0x10000000000, type: reserved }
nodes:
  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0x40000000 }] }
  - { nid: 1, cpus: 1, memory: [{ start: 0x40000000, end: 0x7ffdf000 }] }
${extra}`;
  const load = (text: string): Machine => {
    const { spec, kernel } = loadMachineYaml('m.yaml', text);
    return bootMachine({ spec, profile: profileFor(kernel ?? '6.1') }, { probeNamespaces: false, memmapBoot: false });
  };
  it('every zone and the Memory: line as the real guest printed them', () => {
    const m = load(yaml(''));
    expect(managed(m)).toEqual(['0/DMA 3840', '0/DMA32 245740', '1/DMA32 241073']);
    expect(memoryLine(m)).toBe('Memory: 350964K/2096628K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 147992K reserved, 0K cma-reserved)');
  });
  it("an image: of its own (here the build's sections with a 4 MiB larger extent) moves the count by exactly its pages", () => {
    const m = load(yaml('image: { start: 0x1000000, end: 0x3c00000, brk: 0x11000, code: 0xe01ef2, rwdata: 0x245e00, rodata: 0x827000, init: 0x28d000, bss: 0x54f000, freedLater: 0x86a000 }'));
    expect(managed(m)).toEqual(['0/DMA 3840', `0/DMA32 ${245740 - 1024}`, '1/DMA32 241073']);
  });
  it('rejects an image that cannot hold its sections, or lies outside the memory, in one line with the place', () => {
    expect(() => load(yaml('image: { end: 0x1100000, code: 0xe01ef2, rwdata: 0, rodata: 0, init: 0, bss: 0 }'))).toThrow(
      /^m\.yaml:\d+:\d+: expected end at least start \+ the sections' sizes \(0x1e01ef2\)/,
    );
    expect(() => load(yaml('image: { start: 0x90000000, code: 0x1000, rwdata: 0, rodata: 0, init: 0, bss: 0 }'))).toThrow(
      /^m\.yaml:\d+:\d+: the image \[0x90000000, 0x90001000\) and its brk must lie in one memory range/,
    );
    expect(() => load(yaml('initrd: { start: 0x7ffd0000, size: 0x100000 }').replace(/^initrd: \{ start: 0x7fa94000.*\n/m, ''))).toThrow(
      /^m\.yaml:\d+:\d+: the initrd \[0x7ffd0000, 0x800d0000\) must lie in one memory range/,
    );
    expect(() => load(yaml('').replace('swiotlb: 64M', 'swiotlb: lots'))).toThrow(/^m\.yaml:\d+:\d+: /);
  });
});

describe.skipIf(!hasSharedData)(`real boot logs with a "Memory:" line (../shared/data/dmesg): totalram = total - reserved - cma${unless(hasSharedData, NO_SHARED_DATA)}`, () => {
  // How close the model gets where the log does not give every input (no measured build: the
  // image is estimated from its sections). The model never reserves more than the kernel did;
  // what it misses is named in docs/fidelity.md (UEFI boot services on 05 and 11,
  // crashkernel=auto on 13, the image's ORC tables everywhere).
  const bounds: Record<string, number> = { '02': 0.1, '10': 0.1, '16': 0.1, '03': 0.11, '07': 0.11, '25': 0.11, '05': 0.5, '11': 0.5, '26': 0.5, '13': 1.4 };
  for (const f of readdirSync(join(sharedData, 'dmesg')).filter((x) => /^\d\d-.*\.txt$/.test(x))) {
    const id = f.slice(0, 2);
    const bound = bounds[id];
    if (bound === undefined) continue;
    it(`${f}: the total exact, totalram within ${bound} %`, () => {
      const text = readFileSync(join(sharedData, 'dmesg', f), 'utf8');
      const real = /Memory: \d+K\/(\d+)K available .* (\d+)K reserved, (\d+)K cma-reserved/.exec(text);
      expect(real).not.toBeNull();
      const m = bootMachine(loadMachine({ fromDmesg: join(sharedData, 'dmesg', f), ...(id === '16' ? { kernel: '5.19' } : {}) }), { probeNamespaces: false, memmapBoot: false });
      const mb = m.state.memblock;
      expect(mb).not.toBeNull();
      if (!mb || !real) return;
      expect(mb.physpages * 4).toBe(Number(real[1]));
      const realTotalram = Number(real[1]) - Number(real[2]) - Number(real[3]);
      const ours = mb.totalramAtMemInit * 4;
      expect(ours).toBeGreaterThanOrEqual(realTotalram);
      expect(((ours - realTotalram) / realTotalram) * 100).toBeLessThanOrEqual(bound);
      // Estimated inputs: the line itself is left out, with the reason.
      expect(memoryLine(m)).toBeUndefined();
    });
  }
});

// Debian 6.12.118+deb12-cloud-amd64 (6.12.118-1~deb12u1), the same QEMU machine as the 2-node boot
// above (-cpu max,la57=off): the log's input lines and the guest's /proc/zoneinfo. 6.12 logs no
// "SRAT: PXM -> APIC -> Node" line (pr_debug), so the CPUs per node are the machine's (cpus=0, cpus=1).
const LINUX_612 =
  'Linux version 6.12.118+deb12-cloud-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.12.118-1~deb12u1 (2026-11-28)';
const TWO_NODE_612 = [
  LINUX_612,
  'Command line: console=ttyS0 panic=-1 nokaslr',
  ...E820_2G,
  'last_pfn = 0x7ffdf max_arch_pfn = 0x400000000',
  'RAMDISK: [mem 0x7fa9a000-0x7ffcffff]',
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]',
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x3fffffff]',
  'ACPI: SRAT: Node 1 PXM 1 [mem 0x40000000-0x7fffffff]',
  'ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x67fffffff] hotplug',
  'NODE_DATA(0) allocated [mem 0x3ffd5680-0x3fffffff]',
  'NODE_DATA(1) allocated [mem 0x7fa6f680-0x7fa99fff]',
  'Early memory node ranges',
  '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
  '  node   0: [mem 0x0000000000100000-0x000000003fffffff]',
  '  node   1: [mem 0x0000000040000000-0x000000007ffdefff]',
  'CPU topo: Allowing 2 present CPUs plus 0 hotplug CPUs',
  'setup_percpu: NR_CPUS:8192 nr_cpumask_bits:2 nr_cpu_ids:2 nr_node_ids:2',
  'percpu: Embedded 66 pages/cpu s233472 r8192 d28672 u2097152',
  'software IO TLB: area num 2.',
  'software IO TLB: mapped [mem 0x000000007a800000-0x000000007e800000] (64MB)',
];

function boot612(features: Partial<Machine['state']['profile']['features']> = {}): Machine {
  const file = join(tmp, `dmesg${++n}.txt`);
  writeFileSync(file, TWO_NODE_612.join('\n') + '\n');
  const loaded = loadMachine({ fromDmesg: file });
  const profile = { ...loaded.profile, features: { ...loaded.profile.features, ...features } };
  const spec = { ...loaded.spec, nodes: loaded.spec.nodes.map((x) => ({ ...x, cpus: 1 })) };
  return bootMachine({ ...loaded, spec, profile }, { probeNamespaces: false, memmapBoot: false });
}

describe('boot managed pages equal the real 6.12 guest (the measured Debian 6.12.118 build)', () => {
  it('2 nodes, 2 GiB: every zone', () => {
    // /proc/zoneinfo of the real guest.
    expect(managed(boot612())).toEqual(['0/DMA 3840', '0/DMA32 244425', '1/DMA32 241321']);
  });
  it('setup_cpu_local_masks allocates one cpumask in 6.12, four in 6.1: with four, one more page of node 1 stays reserved', () => {
    expect(profileFor('6.12.118+deb12-cloud-amd64').features.cpuLocalMasks).toBe(1);
    expect(profileFor('6.1.0-57-cloud-amd64').features.cpuLocalMasks).toBe(4);
    // 4 + 2 cpumasks of 8 bytes, each 64-byte aligned, push the small allocations over a page boundary.
    expect(managed(boot612({ cpuLocalMasks: 4 }))).toEqual(['0/DMA 3840', '0/DMA32 244425', '1/DMA32 241320']);
  });
  it('the Memory: line is left out: 6.12 prints it after deferred page init, its free count after early boot allocations', () => {
    const m = boot612();
    expect(memoryLine(m)).toBeUndefined();
    expect(profileFor('6.1.0-57-cloud-amd64').features.memoryLineAfterDeferredInit).toBe(false);
    // With the 6.1 rule the model prints its own line, which the real guest's "Memory: 1933896K/2096628K available (...)" does not equal.
    expect(memoryLine(boot612({ memoryLineAfterDeferredInit: false }))).toMatch(
      /^Memory: \d+K\/2096628K available \(16384K kernel code, 2507K rwdata, 10916K rodata, 4024K init, 5288K bss, \d+K reserved/,
    );
  });
});
