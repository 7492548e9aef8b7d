// dmesg: a boot log read as `mmsim boot --from-dmesg LOG` reads it (parseDmesg, the kernel profile
// from its "Linux version" line), booted and printed in every format, and its memory blocks made
// (`mmsim sysfs export`). Inputs: mutations of the real logs in ../shared/data/dmesg and logs
// generated line by line (SRAT, e820, node ranges, CPUs, command line).
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { boot } from '../../src/drivers/run.js';
import { parseDmesg } from '../../src/formats/dmesg.js';
import { printBoot, PRINT_FORMATS } from '../../src/formats/boot-print.js';
import { sysfsView } from '../../src/formats/sysfs-export.js';
import { memoryDevInit } from '../../src/kernel/memory_block.js';
import { profileFor, profileForOption } from '../../src/profiles/profile.js';
import { dmesgSeeds } from '../corpus.js';
import { address, checkBootZoneinfo, checkKernelBounds, cmdline, count, layout, rarely, release } from '../gen.js';
import { defineEntry } from '../harness.js';
import { textMutations, unchanged, type TextInput } from '../mutate.js';

/** The kernel a log without "Linux version" is booted as (the CLI wants --kernel then). */
const FALLBACK_KERNEL = '6.1';

const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/** A boot log written line by line from a generated machine. */
const generatedLog: fc.Arbitrary<TextInput> = fc
  .record({
    ts: fc.boolean(),
    release: fc.option(release, { freq: 5 }),
    cmdline: fc.option(cmdline, { freq: 3 }),
    ranges: layout,
    nodeRanges: fc.boolean(),
    e820: fc.boolean(),
    srat: fc.boolean(),
    hotplug: fc.boolean(),
    pmem: rarely(fc.tuple(address, address), 0.2),
    cpus: fc.array(fc.tuple(count, count), { maxLength: 4 }),
    allowing: rarely(count, 0.3),
    noNuma: fc.boolean(),
    dmaReserved: rarely(count, 0.2),
    lowRam: rarely(address, 0.2),
    hypervisor: rarely(fc.constantFrom('KVM', 'VMware', 'Xen HVM', 'Microsoft Hyper-V', ''), 0.3),
  })
  .map((g) => {
    const out: string[] = [];
    if (g.release !== null) out.push(`Linux version ${g.release} (builder@host) (gcc 12) #1 SMP PREEMPT_DYNAMIC`);
    if (g.cmdline !== null) out.push(`Command line: BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro ${g.cmdline}`);
    if (g.e820) {
      out.push('BIOS-provided physical RAM map:');
      for (const r of g.ranges) out.push(`BIOS-e820: [mem ${hex(r.start)}-${hex(r.end - 1n)}] usable`);
    }
    if (g.hypervisor !== null) out.push(`Hypervisor detected: ${g.hypervisor}`);
    if (g.noNuma) out.push('No NUMA configuration found');
    if (g.srat) {
      for (const [nid, n] of g.cpus) for (let i = 0n; i < (n > 64n ? 64n : n); i++) out.push(`ACPI: SRAT: PXM ${nid} -> APIC 0x${i.toString(16).padStart(2, '0')} -> Node ${nid}`);
      for (const r of g.ranges) out.push(`ACPI: SRAT: Node ${r.nid} PXM ${r.nid} [mem ${hex(r.start)}-${hex(r.end - 1n)}]${g.hotplug ? ' hotplug' : ''}`);
      if (g.pmem) out.push(`ACPI: SRAT: Node 0 PXM 0 [mem ${hex(g.pmem[0])}-${hex(g.pmem[0] + g.pmem[1])}] non-volatile`);
    }
    if (g.lowRam !== null) out.push(`  low ram: 0 - ${g.lowRam.toString(16)}`);
    if (g.allowing !== null) out.push(`smpboot: Allowing ${g.allowing} CPUs, 0 hotplug CPUs`);
    if (g.dmaReserved !== null) out.push(`  DMA zone: ${g.dmaReserved} pages reserved`);
    if (g.nodeRanges) {
      out.push('Early memory node ranges');
      for (const r of g.ranges) out.push(`  node ${String(r.nid).padStart(3)}: [mem ${hex(r.start)}-${hex(r.end - 1n)}]`);
    }
    const text = out.map((l, i) => (g.ts ? `[    0.${String(i).padStart(6, '0')}] ${l}` : l)).join('\n') + '\n';
    return { text, origin: 'generated log' };
  });

const TOKENS = [
  'Early memory node ranges\n',
  '  node   1: [mem 0x0000000100000000-0x001fffffffffffff]\n',
  '  node 1e+293: [mem 0x0-0x1000]\n',
  'Initializing node 1e+293\n',
  'ACPI: SRAT: Node 4294967295 PXM 0 [mem 0x00000000-0xffffffffffffffff] hotplug\n',
  'smpboot: Allowing 4294967296 CPUs, 0 hotplug CPUs\n',
  'SRAT: PXM 0 -> APIC 0x00 -> Node 5000\n',
  'Linux version 6.1.0-13-amd64 (x) #1\n',
  'Command line: mem=0 movablecore=1e308\n',
  'BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\n',
  'e820: remove [mem 0x0-0xfffffffffffff] usable\n',
  'No NUMA configuration found\n',
  '[    0.000000] ',
];

export const dmesgEntry = defineEntry<TextInput>({
  name: 'dmesg',
  summary: 'mmsim boot --from-dmesg LOG --print dmesg,zoneinfo,blocks,json, then sysfs export',
  async prepare(ctx) {
    const seeds = dmesgSeeds(ctx);
    if (seeds.length === 0) return generatedLog;
    return Promise.resolve(
      fc.oneof(
        { weight: 1, arbitrary: unchanged(seeds) },
        { weight: 12, arbitrary: textMutations(seeds, TOKENS) },
        { weight: 4, arbitrary: generatedLog },
        { weight: 2, arbitrary: textMutations([...seeds], TOKENS, 12) },
      ),
    );
  },
  async run(input) {
    const parsed = parseDmesg('fuzz.log', input.text);
    const profile = parsed.release !== null ? profileFor(parsed.release, parsed.build) : profileForOption(FALLBACK_KERNEL);
    const state = boot({ spec: parsed.spec, profile, sources: parsed.sources });
    printBoot(state, PRINT_FORMATS, { explain: true, sources: parsed.sources });
    checkBootZoneinfo(state);
    sysfsView(memoryDevInit(state));
    checkKernelBounds(parsed.spec);
    return Promise.resolve();
  },
  save(input, base) {
    const file = `${base}.log`;
    writeFileSync(file, input.text);
    const kernel = /^(?:\[[^\]]*\] ?)?Linux version /m.test(input.text) ? '' : ` --kernel ${FALLBACK_KERNEL}`;
    return { files: [file], command: `mmsim boot --from-dmesg ${file}${kernel} --print dmesg --print zoneinfo --print blocks --print json` };
  },
  size: (input) => input.text.length,
  describe: (input) => input.origin,
});
