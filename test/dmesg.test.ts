// Reading machines back from real logs: the e820 path (used when a log has no node ranges) must
// give the memblock.memory that the same log's "Early memory node ranges" show.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDmesg } from '../src/formats/dmesg.js';
import { hasSharedData, sharedData, unless, NO_SHARED_DATA } from './helpers.js';

const X86_LOGS = [
  '02-server-amd-opteron-4node-5.11-fedora.txt',
  '03-server-intel-1node-5.14-opensuse.txt',
  '05-server-intel-2node-5.10-debian.txt',
  '07-server-amd-opteron-4node-4.12-opensuse.txt',
  '10-server-intel-2node-6.1-arch-384g.txt',
  '11-notebook-intel-1node-6.1-debian12.txt',
  '13-server-intel-2node-4.18-centos8.txt',
  '25-server-intel-x3850x5-2node-memoryless-5.8-ubuntu.txt',
  '26-server-amd-opteron-4node-5.15-proxmox.txt',
];

function ranges(spec: ReturnType<typeof parseDmesg>['spec']): string[] {
  return spec.memory.map((r) => `${r.nid}:${r.base.toString(16)}-${(r.base + r.size).toString(16)}`);
}

describe.skipIf(!hasSharedData)(`memblock.memory from BIOS-e820 and SRAT equals the logged node ranges${unless(hasSharedData, NO_SHARED_DATA)}`, () => {
  for (const log of X86_LOGS) {
    it(log, () => {
      const text = readFileSync(join(sharedData, 'dmesg', log), 'utf8');
      const full = parseDmesg(log, text);
      // The same log with its node-range block cut out.
      const cut = text
        .split('\n')
        .filter((l) => !/\] (Early memory node ranges|  node +\d+: \[mem )/.test(l))
        .join('\n');
      const fromE820 = parseDmesg(log, cut);
      expect(fromE820.sources.join()).toMatch(/BIOS-e820/);
      expect(ranges(fromE820.spec)).toEqual(ranges(full.spec));
    });
  }
});

describe('dmesg parsing', () => {
  it('counts CPUs per node from SRAT and takes hot-pluggable SRAT ranges', () => {
    const log = [
      '[    0.000000] Linux version 6.1.0 (x@x) #1 SMP',
      '[    0.000000] SRAT: PXM 0 -> APIC 0x00 -> Node 0',
      '[    0.000000] SRAT: PXM 1 -> APIC 0x02 -> Node 1',
      '[    0.000000] SRAT: PXM 1 -> APIC 0x03 -> Node 1',
      '[    0.000000] ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0xffffffff]',
      '[    0.000000] ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x1ffffffff] hotplug',
      '[    0.000000] Early memory node ranges',
      '[    0.000000]   node   0: [mem 0x0000000000001000-0x000000007fffffff]',
      '[    0.000000]   node   1: [mem 0x0000000100000000-0x00000001ffffffff]',
      '[    0.000000] Hypervisor detected: KVM',
    ].join('\n');
    const p = parseDmesg('t.log', log);
    expect(p.spec.nodes).toEqual([
      { nid: 0, cpus: 1 },
      { nid: 1, cpus: 2 },
    ]);
    expect(p.spec.memory.map((r) => r.hotpluggable)).toEqual([false, true]);
    expect(p.spec.hypervisor).toBe('KVM');
    expect(p.release).toBe('6.1.0');
  });
  it("takes acpi_reserve_initial_tables' ranges (inclusive ends) as memblock.reserved ACPI tables", () => {
    const log = [
      '[    0.000000] Linux version 6.1.0 (x@x) #1 SMP',
      '[    0.000000] Early memory node ranges',
      '[    0.000000]   node   0: [mem 0x0000000000001000-0x000000007ffdefff]',
      '[    0.013773] ACPI: Reserving FACP table memory at [mem 0x7ffe118a-0x7ffe11fd]',
      '[    0.013806] ACPI: Reserving FACS table memory at [mem 0x7ffdf000-0x7ffdf03f]',
    ].join('\n');
    expect(parseDmesg('t.log', log).spec.acpiTables).toEqual([
      { base: 0x7ffe118a, size: 0x74 },
      { base: 0x7ffdf000, size: 0x40 },
    ]);
  });
});
