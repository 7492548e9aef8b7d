// Hostile and careless inputs (issue 20, part A1): every machine and scenario input is either
// accepted or refused with one line naming file:line:column, within the kernel's own limits
// (MAX_PHYSMEM_BITS, MAX_NUMNODES, NR_CPUS), and never by a crash, a hang or a blow-up. Each
// class has its own small reproducer; expected values are the kernel's (headers cited in
// src/kernel/limits.ts) or worked by hand in the comments.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { archFor } from '../src/arch/index.js';
import { blockIdsIn, bootMachine, loadMachine, runScenario, runTask } from '../src/drivers/run.js';
import { InputError, oneLine, quote } from '../src/errors.js';
import { bootJson, MAX_LISTED_SECTIONS } from '../src/formats/boot-print.js';
import { parseCmdline } from '../src/formats/cmdline.js';
import { parseDmesg } from '../src/formats/dmesg.js';
import { loadMachineYaml } from '../src/formats/machine-yaml.js';
import { blockCount, loadScenario } from '../src/formats/scenario.js';
import { parseYaml, YAML_MAX_DEPTH } from '../src/formats/yaml-common.js';
import { maxNumnodes, maxPhysmemBits, nrCpus } from '../src/kernel/limits.js';
import { DEFAULT_CONFIG } from '../src/kernel/machine_spec.js';
import { addMemory } from '../src/kernel/memory_hotplug.js';
import { bootNamespaceProbes } from '../src/kernel/nvdimm.js';
import { Scheduler } from '../src/drivers/scheduler.js';
import { freeAreaInit } from '../src/kernel/mm_init.js';
import { profileForOption } from '../src/profiles/profile.js';
import { cli } from './cli_run.js';
import { machineYaml, root } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsim-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The InputError `f` throws (failing the test if it throws nothing or something else). */
function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg, 'one line').not.toMatch(/[\n\r]/);
    return msg;
  }
  throw new Error('expected an InputError, got none');
}

/** `mmsim ARGS` in a runner process (test/cli_run.ts: the built CLI's main()). */
async function mmsim(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await cli(args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** Exit 2, nothing on stdout, exactly one line on stderr matching re. */
function expectOneLineError(r: Awaited<ReturnType<typeof mmsim>>, re: RegExp): void {
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(re);
}

const NODE0 = 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 1G }] }]\n';
const GiB = 2 ** 30;
const TiB = 2 ** 40;

describe('YAML that cannot crash the parser', () => {
  it('an alias bomb is refused at the alias that goes over the yaml library maxAliasCount (100)', () => {
    // Each level is ten aliases of the one before: 10^5 nodes if expanded.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcde'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcde'[i]}`).join(', ')}]`), NODE0].join('\n');
    expect(inputError(() => loadMachineYaml('bomb.yaml', bomb))).toMatch(/^bomb\.yaml:\d+:\d+: invalid YAML: aliases expand the document by more than 100 nodes/);
  });

  it('an alias with no anchor before it names the alias: line 1, column 7', () => {
    expect(inputError(() => loadMachineYaml('u.yaml', `name: *nope\n${NODE0}`))).toBe('u.yaml:1:7: invalid YAML: alias *nope has no anchor &nope before it');
  });

  it('an alias inside the node it names (a cyclic value) is refused', () => {
    expect(inputError(() => loadScenario('c.yaml', 'machine: m.yaml\nsteps: &s [*s]\n'))).toBe('c.yaml:2:12: invalid YAML: alias *s is inside the node it names (a cycle)');
  });

  it('8 KB of "[" on one line is refused at the 65th bracket, before the recursive composer runs', () => {
    const text = '['.repeat(4000) + ']'.repeat(4000);
    // The 65th collection starts at offset 64: column 65.
    expect(inputError(() => loadMachineYaml('deep.yaml', text))).toBe(`deep.yaml:1:65: invalid YAML: collections nested more than ${YAML_MAX_DEPTH} deep; mmsim's files need a few levels`);
    // The top-level map is level 1, the k-th "- " of line 3 level k + 1 at column 2(k - 1) + 1: level 65 at column 127.
    expect(inputError(() => loadScenario('deep.yaml', `machine: m.yaml\nsteps:\n${'- '.repeat(4000)}x\n`))).toBe(
      `deep.yaml:3:127: invalid YAML: collections nested more than 64 deep; mmsim's files need a few levels`,
    );
    // 64 levels (the top map and 63 brackets) are still read, and refused by the schema: nodes.0 is the second "[", column 9.
    expect(inputError(() => loadMachineYaml('ok.yaml', `nodes: ${'['.repeat(63)}${']'.repeat(63)}`))).toBe('ok.yaml:1:9: expected object (at nodes.0)');
  });

  it('a collection used as a key is an error, and Node prints no process warning', () => {
    const warn = vi.spyOn(process, 'emitWarning');
    expect(inputError(() => loadMachineYaml('k.yaml', `? [a]\n: 1\n${NODE0}`))).toBe('k.yaml:1:3: invalid YAML: a key must be a plain name such as "start", not a collection');
    expect(inputError(() => parseYaml('k.yaml', 'a: &a {x: 1}\n? *a\n: 2\n'))).toMatch(/^k\.yaml:2:3: invalid YAML: a key must be a plain name/);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('control characters in keys, kernel strings and paths are escaped: every error is one line', () => {
    expect(oneLine('a\nb\r\tc\u0000\u001b\u2028')).toBe('a\\nb\\r\\tc\\u0000\\u001b\\u2028');
    expect(quote('ke\ny')).toBe('"ke\\ny"');
    expect(inputError(() => loadMachineYaml('n.yaml', `"ke\\ny": 1\n${NODE0}`))).toBe('n.yaml:1:1: unknown key "ke\\ny"');
    const kernel = file('kernel.yaml', `kernel: "6.1\\nsecond line"\n${NODE0}`);
    expect(inputError(() => loadMachine({ machineFile: kernel }))).toMatch(/6\.1\\nsecond line/);
    const scen = file('path.scenario.yaml', 'machine: "no\\nsuch.yaml"\nsteps: [{ print: zoneinfo }]\n');
    expect(inputError(() => loadMachine({ machineFile: join(dir, 'no\nsuch.yaml') }))).toMatch(/no\\nsuch\.yaml: cannot read/);
    expect(loadScenario(scen, 'machine: "no\\nsuch.yaml"\nsteps: [{ print: zoneinfo }]\n').scenario.machine).toBe('no\nsuch.yaml');
  });

  // The yaml library composes a mapping's keys in quadratic time (100 000 keys: 451 s) and any
  // document at tens of us an entry; a 260 000-line machine file took 8 s (fuzz seed 1, machine
  // #455). Each limit is counted before the library composes anything, each refusal names where.
  it('a mapping of 1001 keys is refused at the mapping (1000 are read); quadratic in the yaml library: 100 000 keys took 451 s', () => {
    const keys = (n: number): string => 'config:\n' + Array.from({ length: n }, (_, i) => `  k${i}: 1`).join('\n') + '\n';
    expect(Object.keys((parseYaml('k.yaml', keys(1000)).data as { config: object }).config).length).toBe(1000);
    // The mapping's first key is line 2, column 3.
    expect(inputError(() => parseYaml('k.yaml', keys(1001)))).toBe("k.yaml:2:3: a mapping of 1001 keys, more than 1000; mmsim's mappings have a few dozen");
    // A flow mapping is a mapping too: "k: {" puts its "{" at column 4.
    const flow = `k: {${Array.from({ length: 1001 }, (_, i) => `a${i}: 1`).join(', ')}}\n`;
    expect(inputError(() => parseYaml('f.yaml', flow))).toBe("f.yaml:1:4: a mapping of 1001 keys, more than 1000; mmsim's mappings have a few dozen");
  });

  it('50 001 entries in all are refused at the largest collection (50 000 are read)', () => {
    // The top mapping's one entry and the list's: 1 + 49 999 = 50 000, then 50 001.
    const list = (n: number): string => 'a:\n' + '  - 1\n'.repeat(n);
    expect((parseYaml('l.yaml', list(49_999)).data as { a: number[] }).a.length).toBe(49_999);
    expect(inputError(() => parseYaml('l.yaml', list(50_000)))).toBe("l.yaml:2:3: 50001 entries in all, more than 50000 (this list has 50000); mmsim's files hold a few hundred");
  });

  it('past 100 000 line breaks and commas, or 4 MiB, a file is refused where it passes, before the parser reads it', () => {
    // 100 000 comment lines end in 100 000 line breaks; one more line puts the 100 001st at the
    // end of line 100 001, "#" at column 1 and its line break at column 2.
    expect(parseYaml('c.yaml', '#\n'.repeat(100_000)).data).toBe(null);
    expect(inputError(() => parseYaml('c.yaml', '#\n'.repeat(100_001)))).toBe("c.yaml:100001:2: more than 100000 lines and commas; mmsim's YAML files hold a few hundred");
    // Commas count too: "a: [" then "1," 100 001 times; the 100 001st comma is at column 4 + 2 * 100 001.
    expect(inputError(() => parseYaml('k.yaml', `a: [${'1,'.repeat(100_001)}1]\n`))).toBe(`k.yaml:1:${4 + 2 * 100_001}: more than 100000 lines and commas; mmsim's YAML files hold a few hundred`);
    // A quoted scalar of 4 MiB + 1 (32 MiB took 16 s): refused at its 4 MiB + 1st character.
    expect(inputError(() => parseYaml('q.yaml', `a: "${'x'.repeat(32 << 20)}"\n`))).toBe(`q.yaml:1:${(4 << 20) + 1}: more than 4 MiB; mmsim's YAML files hold a few KiB`);
  });

  it('through the CLI: a YAML collection key gives exit 2 and one line, without the two-line Node warning', async () => {
    const p = file('collkey.yaml', `? [a]\n: 1\n${NODE0}`);
    expectOneLineError(await mmsim('boot', p), new RegExp(`^mmsim: ${p}:1:3: invalid YAML: a key must be a plain name`));
  });
});

describe('the kernel limits, per arch and config', () => {
  const lim = (arch: 'x86_64' | 'arm64' | 'i386' | 's390x', config: Partial<typeof DEFAULT_CONFIG> = {}) => ({ arch, config: { ...DEFAULT_CONFIG, ...config } });
  const kconfig = (lines: Record<string, string>) => new Map(Object.entries(lines));

  it('MAX_PHYSMEM_BITS from arch/*/include/asm/sparsemem.h and the Kconfig defaults', () => {
    expect(maxPhysmemBits(lim('x86_64'))).toBe(46); // (pgtable_l5_enabled() ? 52 : 46)
    expect(maxPhysmemBits(lim('x86_64', { la57: true }))).toBe(52);
    expect(maxPhysmemBits(lim('arm64', { pageBytes: 4096 }))).toBe(48); // ARM64_PA_BITS_52 needs 64K pages in 6.1
    expect(maxPhysmemBits(lim('arm64', { pageBytes: 16384 }))).toBe(48);
    expect(maxPhysmemBits(lim('arm64', { pageBytes: 65536 }))).toBe(52);
    expect(maxPhysmemBits(lim('arm64', { kconfig: kconfig({ CONFIG_ARM64_PA_BITS: '52' }) }))).toBe(52);
    expect(maxPhysmemBits(lim('i386'))).toBe(36); // X86_PAE
    expect(maxPhysmemBits(lim('i386', { kconfig: kconfig({ CONFIG_X86_32: 'y' }) }))).toBe(32);
    expect(maxPhysmemBits(lim('s390x'))).toBe(46); // CONFIG_MAX_PHYSMEM_BITS default
    expect(maxPhysmemBits(lim('s390x', { kconfig: kconfig({ CONFIG_MAX_PHYSMEM_BITS: '53' }) }))).toBe(53);
    expect(maxNumnodes(lim('x86_64'))).toBe(1024); // 1 << NODES_SHIFT 10
    expect(nrCpus(lim('x86_64'))).toBe(8192); // MAXSMP
    expect(nrCpus(lim('x86_64', { kconfig: kconfig({ CONFIG_NR_CPUS: '64' }) }))).toBe(64);
  });

  it('memory may end at 2^46 on 4-level x86_64 but not a page beyond; 5-level takes it', () => {
    const at = (end: string, extra = '') => `name: m\n${extra}nodes:\n  - nid: 0\n    memory: [{ start: 0x100000, end: ${end} }]\n`;
    expect(loadMachineYaml('ok.yaml', at('0x400000000000')).spec.memory[0]?.size).toBe(2 ** 46 - 0x100000);
    expect(inputError(() => loadMachineYaml('big.yaml', at('0x400000001000')))).toBe(
      'big.yaml:4:14: memory [0x100000, 0x400000001000) ends beyond 0x400000000000, the end of the physical address space: MAX_PHYSMEM_BITS 46 of x86_64 with 4-level paging (52 with config.la57: true)',
    );
    expect(loadMachineYaml('la57.yaml', at('0x400000001000', 'config: { la57: true }\n')).spec.config.la57).toBe(true);
    // pmem too, and a dmesg range at 2^53 (minutes and gigabytes before the limit).
    expect(inputError(() => loadMachineYaml('p.yaml', `nodes: [{ nid: 0, memory: [{ start: 0, end: 1G }], pmem: [{ start: 0x3fffc0000000, size: 2G }] }]\n`))).toMatch(
      /^p\.yaml:1:\d+: pmem \[0x3fffc0000000, 0x400040000000\) ends beyond 0x400000000000/,
    );
    const log = ['[    0.000000] Linux version 6.1.0-6-amd64 (x@x) #1 SMP', '[    0.000000] Early memory node ranges', '[    0.000000]   node   0: [mem 0x0000000000001000-0x001fffffffffffff]'].join(
      '\n',
    );
    expect(inputError(() => parseDmesg('r.log', log))).toMatch(/^r\.log:3:33: memory \[0x1000, 0x20000000000000\) ends beyond 0x400000000000/);
  });

  it('a log says 5-level paging by its max_arch_pfn (MAXMEM >> PAGE_SHIFT = 1 << 40)', () => {
    const log = (maxArch: string) =>
      [
        '[    0.000000] Linux version 6.1.0-6-amd64 (x@x) #1 SMP',
        `[    0.000000] e820: last_pfn = 0x480000 max_arch_pfn = ${maxArch}`,
        '[    0.000000] Early memory node ranges',
        '[    0.000000]   node   0: [mem 0x0000000000001000-0x00007fffffffffff]',
      ].join('\n');
    expect(parseDmesg('l5.log', log('0x10000000000')).spec.config.la57).toBe(true);
    expect(inputError(() => parseDmesg('l4.log', log('0x400000000')))).toMatch(/^l4\.log:4:33: memory .* MAX_PHYSMEM_BITS 46/);
  });

  it('node ids at or above MAX_NUMNODES from a log are refused at the id: node 5000, node 1e+293', () => {
    const log = (nid: string) =>
      [
        '[    0.000000] Linux version 6.1.0-6-amd64 (x@x) #1 SMP',
        '[    0.000000] Early memory node ranges',
        '[    0.000000]   node   0: [mem 0x0000000000001000-0x000000003fffffff]',
        `[    0.000000]   node ${nid}: [mem 0x0000000040000000-0x000000007fffffff]`,
      ].join('\n');
    // "[    0.000000] " is 15 characters and "  node " 7 more: the id is at column 23.
    expect(inputError(() => parseDmesg('n.log', log('5000')))).toBe('n.log:4:23: node 5000 is not below MAX_NUMNODES = 1024 (config.nodesShift 10); raise nodesShift or renumber');
    expect(inputError(() => parseDmesg('n.log', log('1' + '0'.repeat(293))))).toBe(
      'n.log:4:23: node 10000000...0000 (294 digits) is not below MAX_NUMNODES = 1024 (config.nodesShift 10); raise nodesShift or renumber',
    );
    expect(parseDmesg('n.log', log('1023')).spec.nodes.map((n) => n.nid)).toEqual([0, 1023]);
  });

  it('CPU counts above NR_CPUS are one-line errors, not "Invalid array length" or a hang', () => {
    const cpus = (n: string) => `nodes: [{ nid: 0, cpus: ${n}, memory: [{ start: 0, end: 1G }] }]\n`;
    for (const n of ['4294967296', '1000000']) {
      expect(inputError(() => loadMachineYaml('c.yaml', cpus(n)))).toBe(`c.yaml:1:25: ${n} CPUs is more than NR_CPUS = 8192 of x86_64`);
    }
    // 2^64 is past what the schema takes as an integer at all.
    expect(inputError(() => loadMachineYaml('c.yaml', cpus('18446744073709551616')))).toMatch(/^c\.yaml:1:25: /);
    expect(loadMachineYaml('c.yaml', cpus('8192')).spec.nodes[0]?.cpus).toBe(8192);
    // Spread over nodes: 8192 + 1.
    expect(inputError(() => loadMachineYaml('c2.yaml', 'nodes:\n  - { nid: 0, cpus: 8192, memory: [{ start: 0, end: 1G }] }\n  - { nid: 1, cpus: 1 }\n'))).toMatch(
      /^c2\.yaml:3:\d+: 8193 CPUs is more than NR_CPUS = 8192 of x86_64 \(the CPUs of nodes 0 to 1 together\)$/,
    );
    // A .config's CONFIG_NR_CPUS.
    file('nr8.config', 'CONFIG_SMP=y\nCONFIG_NR_CPUS=8\n');
    const p = file('k.yaml', `config: { kconfig: nr8.config }\n${cpus('9')}`);
    expect(inputError(() => loadMachine({ machineFile: p, kernel: '6.1' }))).toMatch(/9 CPUs is more than NR_CPUS = 8 of x86_64 \(CONFIG_NR_CPUS of the \.config\)$/);
    // "smpboot: Allowing N CPUs" of a log: "Allowing " ends at column 34.
    const lines = [
      '[    0.000000] Linux version 6.1.0-6-amd64 (x@x) #1 SMP',
      '[    0.000000] NUMA: No NUMA configuration found',
      '[    0.000000] smpboot: Allowing 1000000 CPUs, 0 hotplug CPUs',
      '[    0.000000] Early memory node ranges',
      '[    0.000000]   node   0: [mem 0x0000000000001000-0x000000003fffffff]',
    ];
    const log = lines.join('\n');
    expect(inputError(() => parseDmesg('cpu.log', log))).toBe('cpu.log:3:34: 1000000 CPUs is more than NR_CPUS = 8192 of x86_64');
    // setup_per_cpu_areas' nr_cpu_ids sizes boot's per-cpu allocations (fuzz seed 1, dmesg #6902:
    // 2^32 of them looped for minutes). It is at most nr_cpumask_bits, at most NR_CPUS, at most the
    // arch's NR_CPUS; the value starts at column 73 (75 with 4-digit nr_cpumask_bits).
    const percpu = (nr: string, bits: string, ids: string) =>
      [lines[0], lines[1], `[    0.000000] setup_percpu: NR_CPUS:${nr} nr_cpumask_bits:${bits} nr_cpu_ids:${ids} nr_node_ids:1`, lines[3], lines[4]].join('\n');
    expect(inputError(() => parseDmesg('p.log', percpu('8192', '32', '4294967296')))).toBe(
      'p.log:3:73: expected nr_cpu_ids <= nr_cpumask_bits <= NR_CPUS (setup_per_cpu_areas), got NR_CPUS:8192 nr_cpumask_bits:32 nr_cpu_ids:4294967296',
    );
    expect(inputError(() => parseDmesg('p.log', percpu('9000', '9000', '9000')))).toBe('p.log:3:75: 9000 CPUs is more than NR_CPUS = 8192 of x86_64');
    expect(parseDmesg('p.log', percpu('8192', '4', '4')).spec.bootMemory?.possibleCpus).toBe(4);
  });

  it('a log holds at most E820_MAX_ENTRIES (128 + 3 * MAX_NUMNODES = 3200) entries in a table, printed or split by edits (fuzz seed 1, dmesg #2979: 49 227 BIOS-e820 lines)', () => {
    const hex = (v: number) => `0x${v.toString(16).padStart(16, '0')}`;
    const e820 = (start: number, end: number, type: string) => `[    0.000000] BIOS-e820: [mem ${hex(start)}-${hex(end - 1)}] ${type}`;
    const head = ['[    0.000000] Linux version 6.1.0-6-amd64 (x@x) #1 SMP', '[    0.000000] BIOS-provided physical RAM map:'];
    const ram = e820(0x100000, 0x40000000, 'usable');
    // 3200 entries are a table the kernel can print; the 3201st (line 2 + 3201) is refused at its text's first column (16).
    const reserved = (n: number) => Array.from({ length: n }, (_, i) => e820(0x40000000 + i * 0x1000, 0x40001000 + i * 0x1000, 'reserved'));
    expect(parseDmesg('ok.log', [...head, ram, ...reserved(3199)].join('\n')).spec.e820?.length).toBeGreaterThan(0);
    expect(inputError(() => parseDmesg('e.log', [...head, ram, ...reserved(3200)].join('\n')))).toBe(
      'e.log:3203:16: more BIOS-e820 entries than E820_MAX_ENTRIES = 3200 (128 + 3 * MAX_NUMNODES 1024): struct e820_table holds no more',
    );
    // Edits: each "usable ==> reserved" of one page inside the usable entry splits it in three, so
    // after k edits the table has 1 + 2k entries (the reserved pages are not adjacent): the 1600th
    // edit makes 3201. Its line is 3 + 1600.
    const edit = (i: number) => `[    0.000000] e820: update [mem ${hex(0x100000 + i * 0x2000 + 0x1000)}-${hex(0x100000 + i * 0x2000 + 0x1fff)}] usable ==> reserved`;
    const edits = (n: number) => Array.from({ length: n }, (_, i) => edit(i));
    expect(parseDmesg('ok.log', [...head, ram, ...edits(1599)].join('\n')).spec.e820?.length).toBe(3199);
    expect(inputError(() => parseDmesg('u.log', [...head, ram, ...edits(1600)].join('\n')))).toBe(
      'u.log:1603:16: this edit splits the e820 table past E820_MAX_ENTRIES = 3200; the kernel would have printed "too many entries; ignoring"',
    );
  });

  it('pmem over RAM or over other pmem is refused at the pmem entry', () => {
    expect(inputError(() => loadMachineYaml('o.yaml', 'nodes: [{ nid: 0, memory: [{ start: 0, end: 1G }], pmem: [{ start: 0x20000000, size: 1G }] }]\n'))).toBe(
      "o.yaml:1:59: pmem [0x20000000, 0x60000000) overlaps memory [0x0, 0x40000000); a persistent memory range is neither RAM nor another NVDIMM's",
    );
    expect(inputError(() => loadMachineYaml('o.yaml', 'nodes: [{ nid: 0, memory: [{ start: 0, end: 1G }], pmem: [{ start: 4G, size: 1G }, { start: 0x120000000, size: 1G }] }]\n'))).toMatch(
      /^o\.yaml:1:\d+: pmem \[0x120000000, 0x160000000\) overlaps pmem \[0x100000000, 0x140000000\)/,
    );
  });

  it('a machine built in code meets the same limits when it boots', () => {
    const profile = profileForOption('6.1');
    const spec = { ...loadMachineYaml('m.yaml', NODE0).spec, nodes: [{ nid: 0, cpus: 2 ** 32 }] };
    expect(inputError(() => freeAreaInit(archFor(spec, profile), profile, spec))).toBe('machine: 4294967296 CPUs is more than NR_CPUS = 8192 of x86_64');
  });

  it('mem=0 is ignored as parse_memopt ignores it (-EINVAL), instead of booting "Total pages: 0"', () => {
    expect(parseCmdline('mem=0').boot.memLimit).toBeUndefined();
    expect(parseCmdline('mem=0K').boot.memLimit).toBeUndefined();
    expect(parseCmdline('mem=4G mem=0').boot.memLimit).toBe(4 * GiB);
    const yaml = (cmdline: string) => `cmdline: "${cmdline}"\n${NODE0}`;
    const pages = (cmdline: string) => machineYaml('6.1', yaml(cmdline)).state.nodes[0]?.nodePresentPages;
    expect(pages('mem=0')).toBe(pages(''));
    expect(pages('mem=0')).toBe((GiB - 0x100000) / 4096);
  });
});

describe('machines that cannot boot', () => {
  it('mem= below all the RAM leaves memblock empty: refused, not booted into an empty zoneinfo (fuzz seed 1, dmesg #541, machine #295)', async () => {
    // parse_memopt removes every e820 RAM range above the limit (e820__range_remove); RAM that starts at 4 GiB with mem=2G leaves none.
    const yaml = 'cmdline: "mem=2G"\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 4G, end: 8G }] }]\n';
    expect(inputError(() => machineYaml('6.1', yaml))).toBe(
      'machine: no memory to boot on (mem= keeps only what lies below 0x80000000, and the RAM starts at 0x100000000); expected at least one RAM range of a page or more',
    );
    const log = ['Linux version 6.1.0-13-amd64', 'Command line: mem=2G', 'BIOS-provided physical RAM map:', 'BIOS-e820: [mem 0x0000000100000000-0x00000001ffffffff] usable'].join('\n');
    const p = file('nomem.log', `${log}\n`);
    expectOneLineError(await mmsim('boot', '--from-dmesg', p, '--print', 'zoneinfo'), /: no memory to boot on \(mem= keeps only what lies below 0x80000000, and the RAM starts at 0x100000000\)/);
  });

  it("an fsdax or devdax namespace on an arch without ZONE_DEVICE (s390x) is the input's error, not an internal one (fuzz #812)", async () => {
    const yaml = 'kernel: "6.1"\narch: s390x\nnodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0, end: 4G }], pmem: [{ start: 4G, size: 1G, namespace: { mode: devdax, map: dev } }] }\n';
    const p = file('s390-pmem.yaml', yaml);
    expectOneLineError(await mmsim('ndctl', p, 'list'), /^mmsim: node 0 has no ZONE_DEVICE \(CONFIG_ZONE_DEVICE off for this arch or config\); an fsdax or devdax namespace needs it/);
  });

  it('YAML nested past the parser\'s own stack on one line ("key: key: …" 40000 times) is one line naming that line (fuzz #933)', () => {
    // The fuzzer's input: a flow map whose "end: 0x" repeats on line 4, each "end:" opening a block map inside the last.
    const text = `nodes:\n  - nid: 0\n    memory:\n      - { start: 0x1000, end: 0x${' end: 0x'.repeat(41251)}}\n`;
    expect(inputError(() => loadMachineYaml('deep.yaml', text))).toBe("deep.yaml:4:1: invalid YAML: nested too deeply to parse; mmsim's files need a few levels");
  });

  it('a file the parser breaks into thousands of stray tokens is refused at the first, before the composer spends seconds on it (fuzz seed 1, lab-http #2543)', () => {
    // An indented first entry, then a map, then "l: {" 20000 times: the parser makes each piece an
    // error token of the stream, 80000 in all (mmsim's own files parse into a dozen tokens).
    const text = `  - remove: { start: 4G, size: 512M }\nmachine: m.yaml\n${'l: {'.repeat(20000)}\n`;
    expect(inputError(() => loadScenario('stray.yaml', text))).toMatch(/^stray\.yaml:\d+:\d+: invalid YAML: .* \(and \d+ stray tokens after it\)$/);
  });
});

describe('scenario block ranges and hot-adds within the machine', () => {
  const machine = join(root, 'examples', 'qemu-2node.yaml');

  it('a range of 10^8 blocks is kept as one range by the parser and refused by the machine before it is expanded', () => {
    const t0 = performance.now();
    const { scenario, where } = loadScenario('b.yaml', `machine: ${machine}\nsteps:\n  - online: { blocks: 0-100000000 }\n`);
    const st = scenario.steps[0];
    const ranges = st && 'online' in st ? st.online.blocks : [];
    expect(ranges).toEqual([{ first: 0, last: 100000000 }]);
    expect(blockCount(ranges)).toBe(100000001);
    const m = bootMachine(loadMachine({ machineFile: machine }));
    // 2^46 bytes / 128 MiB blocks (a machine below 64 GiB) = 2^19 = 524288 block ids.
    expect(inputError(() => blockIdsIn(m, ranges, where(0)))).toBe(
      'b.yaml:3:5: memory100000000 lies beyond the physical address space: block ids are below 524288 with 128 MiB memory blocks and MAX_PHYSMEM_BITS 46 of x86_64 with 4-level paging (52 with config.la57: true)',
    );
    expect(blockIdsIn(m, [{ first: 524287, last: 524287 }], 'x')).toEqual([524287]);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });

  it('a reversed range and ids past 2^53 are refused where they are written', () => {
    expect(inputError(() => loadScenario('r.yaml', 'machine: m.yaml\nsteps:\n  - online: { blocks: "35-32" }\n'))).toBe(
      'r.yaml:3:23: expected a block range FIRST-LAST with FIRST <= LAST, both below 2^53, not "35-32" (at steps.0.online.blocks)',
    );
    expect(inputError(() => loadScenario('r.yaml', 'machine: m.yaml\nsteps:\n  - offline: { blocks: "1-99999999999999999999" }\n'))).toMatch(/^r\.yaml:3:24: expected a block range/);
  });

  it('a hot-add beyond MAX_PHYSMEM_BITS: -E2BIG with the pr_warn of mhp_range_allowed on 6.1, -EEXIST (iomem_resource) on 5.3', () => {
    const m = machineYaml('6.1', NODE0);
    // [256 TiB, +1 GiB): end = start + size = 0x1000040000000; max_phys = 2^46 - 1 = 0x3fffffffffff.
    expect(runTask(m, 'add', addMemory(m, 0, 256 * TiB, GiB))).toBe(-7);
    expect(m.state.log.lines().at(-1)).toBe('Hotplug memory [0x1000000000000-0x1000040000000] exceeds maximum addressable range [0x0-0x3fffffffffff]');
    expect(m.blocks.size).toBe(8); // nothing added: the eight 128 MiB blocks of boot
    // The last gigabyte below 2^46 is addressable.
    expect(runTask(m, 'add', addMemory(m, 0, 64 * TiB - GiB, GiB))).toBe(0);
    const old = machineYaml('5.3', NODE0);
    const lines = old.state.log.lines().length;
    expect(runTask(old, 'add', addMemory(old, 0, 256 * TiB, GiB))).toBe(-17);
    expect(old.state.log.lines()).toHaveLength(lines); // pr_debug only
  });

  it('virtio-mem before 5.8 (no driver: drivers/virtio/virtio_mem.c came in 5.8) and a virtio-mem add beyond MAX_PHYSMEM_BITS are input errors at the step (fuzz seed 1, scenario #8777: 2225 TiB on 4.19, 7 s of CPU block by block)', () => {
    const machine = join(root, 'examples', 'qemu-2node.yaml');
    const add = (kernel: string, size: string): string =>
      file(`vm-${kernel}.scenario.yaml`, `machine: ${machine}\nkernel: "${kernel}"\nsteps:\n  - add: { node: 1, start: 0x280000000, size: ${size}, device: virtio-mem }\n`);
    const p419 = add('4.19', '128M');
    expect(inputError(() => runScenario(p419, [], undefined, () => undefined))).toBe(
      `${p419}:4:5: virtio-mem has a driver from Linux 5.8 (drivers/virtio/virtio_mem.c); this machine boots 4.19: use a dimm`,
    );
    const p57 = add('5.7', '128M');
    expect(inputError(() => runScenario(p57, [], undefined, () => undefined))).toMatch(/:4:5: virtio-mem has a driver from Linux 5\.8 .*this machine boots 5\.7: use a dimm$/);
    // 0x280000000 + 2225 TiB = 0x8b10280000000 > 2^46 (x86_64, 4-level paging).
    const p61 = add('6.1', '2225T');
    expect(inputError(() => runScenario(p61, [], undefined, () => undefined))).toBe(
      `${p61}:4:5: a virtio-mem add of [0x280000000, 0x8b10280000000) ends beyond 0x400000000000, the end of the physical address space: MAX_PHYSMEM_BITS 46 of x86_64 with 4-level paging (52 with config.la57: true)`,
    );
    // 5.8 has the driver: a 128 MiB plug is taken.
    expect(runScenario(add('5.8', '128M'), [], undefined, () => undefined).blocks.has(0x280000000 / (128 << 20))).toBe(true);
  });

  it('a remove or an NVDIMM beyond the address space is an input error naming the step', async () => {
    const scen = file('rm.scenario.yaml', `machine: ${machine}\nsteps:\n  - remove: { start: 0x1000000000000, size: 1G }\n`);
    expectOneLineError(await mmsim('run', scen), new RegExp(`^mmsim: ${scen}:3:5: remove \\[0x1000000000000, 0x1000040000000\\) ends beyond 0x400000000000`));
  });
});

describe('work that stays O(ranges) on huge machines', () => {
  it('a 64 TiB machine boots in extent mode in seconds; --print json of 2^24 sections is refused before it is built', () => {
    const t0 = performance.now();
    const m = machineYaml('6.1', 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 64T }] }]\n');
    expect(m.state.maxPfn).toBe(2 ** 34);
    expect(m.blocks.size).toBe(32768); // 64 TiB / 2 GiB blocks
    expect(performance.now() - t0).toBeLessThan(60_000);
    // 2 PiB with 5-level paging: 2^51 / 2^27 = 2^24 sections, more than MAX_LISTED_SECTIONS (2^20).
    const big = loadMachineYaml('big.yaml', 'config: { la57: true }\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 0x8000000000000 }] }]\n').spec;
    const profile = profileForOption('6.1');
    const state = freeAreaInit(archFor(big, profile), profile, big);
    expect(state.sparse.presentSectionCount()).toBe(2 ** 24);
    expect(inputError(() => bootJson(state))).toBe(`--print json lists each of the machine's 16777216 present sections, more than ${MAX_LISTED_SECTIONS}; print dmesg, zoneinfo or blocks instead`);
  });

  it('a 64 GiB DIMM (512 blocks) hot-added and onlined under debug_vm: bad_range walks the blocks once per change of blocks or sections, not at every step (fuzz seed 1, scenario #7028: 403 GiB, 9.5 s)', () => {
    const machine = join(root, 'examples', 'qemu-2node-virtio-mem.yaml');
    const s = file('big-dimm.scenario.yaml', `machine: ${machine}\nkernel: "5.10"\ndebug_vm: true\nsteps:\n  - add: { node: 1, start: 0x148000000, size: 0x1000000000 }\n`);
    let walks = 0;
    const spy = vi.spyOn(Map.prototype, 'values');
    // Map's own iterator is entries(), so this does not come back here.
    spy.mockImplementation(function (this: Map<unknown, unknown>) {
      if (this.size >= 512) walks++;
      return Array.from(this, ([, v]) => v)[Symbol.iterator]();
    });
    try {
      const m = runScenario(s, [], undefined, () => undefined);
      // memhp_default_state=online_movable: every block of the DIMM online in Movable.
      spy.mockRestore();
      expect([...m.blocks.values()].filter((b) => b.state === 'online' && b.validZones === 'Movable').length).toBe(512);
    } finally {
      spy.mockRestore();
    }
    // Each block's online is one change of the blocks and one of the sections (online_mem_sections),
    // plus its add: a few walks per block. Walking at every checked step was over 8 per block.
    expect(walks).toBeLessThan(4 * 512);
  });

  it('daxctl reconfigure-device --mode=system-ram of a 64 GiB devdax namespace (512 blocks, each onlined in its own step) under debug_vm: bad_range walks the blocks a few times in all, not once a block (1 TiB: 10 s of CPU before)', () => {
    const machine = file(
      'dax64.yaml',
      'kernel: "6.1"\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }], pmem: [{ start: 0x4cc0000000, size: 64G, labels: true, namespace: { mode: devdax, map: mem } }] }]\n',
    );
    const s = file('dax64.scenario.yaml', `machine: ${machine}\ndebug_vm: true\nsteps:\n  - daxctl: { args: "reconfigure-device --mode=system-ram all" }\n`);
    let walks = 0;
    // Map's keys() and values() counted on maps of 512 entries or more (the blocks), through the
    // entries they come from (an iterator of the entries, mapped).
    const keys = vi.spyOn(Map.prototype, 'keys').mockImplementation(function (this: Map<unknown, unknown>) {
      if (this.size >= 512) walks++;
      return Array.from(this, ([k]) => k)[Symbol.iterator]();
    });
    const values = vi.spyOn(Map.prototype, 'values').mockImplementation(function (this: Map<unknown, unknown>) {
      if (this.size >= 512) walks++;
      return Array.from(this, ([, v]) => v)[Symbol.iterator]();
    });
    const spies = [keys, values];
    let online = 0;
    try {
      const m = runScenario(s, [], undefined, () => undefined);
      for (const sp of spies) sp.mockRestore();
      online = [...m.blocks.values()].filter((b) => b.state === 'online' && b.startPfn >= 0x4cc0000).length;
    } finally {
      for (const sp of spies) sp.mockRestore();
    }
    // kmem adds the dax range ([start + 2 MiB, end): the pfn info block aligned to 2 MiB) rounded in
    // to memory blocks of 128 MiB (2 GiB of RAM): 511 blocks, each onlined (online_movable).
    expect(online).toBe(511);
    // One walk of the 16 boot blocks when the first checker starts; then the blocks touched, from
    // Machine.blockLog. Before: a walk at each change of the blocks or sections, 1534 here.
    expect(walks).toBeLessThan(50);
  });

  // memmap_init_zone_device (5.3; 4.19: memmap_init_zone and the pgmap pass; 6.1's devdax has compound
  // pages, a section at a time already) goes a pageblock at a time,
  // as explore's traces need; where the probes run in order (boot, the run driver) nothing can run
  // between two pageblocks, so they go a section at a time (Machine.inOrder) with each chunk's
  // pageblocks in one batched set_pfnblock_flags. The two must write the same memmap and hand the
  // same pfns to set_pfnblock_flags_mask (so to the zone_spans_pfn check).
  it.each(['4.19', '5.3'])(
    '%s: a 64 GiB devdax namespace without compound pages (map: dev) probed at boot is initialised a section at a time: the same struct pages and set_pfnblock_flags pfns as pageblock by pageblock, in a 32nd of the steps (fuzz seed 1, machine #4840: 608 GiB on 4.19, 311 000 steps)',
    (kernel) => {
      const yaml = 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }], pmem: [{ start: 0x4cc0000000, size: 64G, labels: true, namespace: { mode: devdax, map: dev } }] }]\n';
      const { spec } = loadMachineYaml('test.yaml', yaml);
      const probe = (chunked: boolean): { m: ReturnType<typeof bootMachine>; pageblocks: number[]; steps: number } => {
        const m = bootMachine({ spec, profile: profileForOption(kernel) }, { probeNamespaces: false });
        const pageblocks: number[] = [];
        let steps = 0;
        const s = new Scheduler([
          (_s, _t, y) => {
            steps++;
            if (y.op === 'set_pfnblock_flags') for (let i = 0; i < (y.nr ?? 1); i++) pageblocks.push(y.pfn + i * (y.stride ?? 1));
            return null;
          },
        ]);
        const probes = bootNamespaceProbes(m);
        expect(probes.length).toBe(1);
        for (const p of probes) s.spawn(p.name, p.task);
        if (chunked) m.inOrder(() => s.runInOrder());
        else s.runInOrder();
        expect(s.result(0)).toBe(0);
        return { m, pageblocks: pageblocks.sort((a, b) => a - b), steps };
      };
      const byBlock = probe(false);
      const bySection = probe(true);
      const nsStart = 0x4cc0000000 / 4096;
      const nsEnd = nsStart + (64 * GiB) / 4096;
      // Each pageblock start in [base_pfn + reserve, end): the altmap's reserve is the 8 KiB pfn
      // info block (2 pages), so every pageblock of the namespace but its first, each once.
      expect(byBlock.pageblocks.length).toBe((64 * GiB) / (2 << 20) - 1);
      expect(byBlock.pageblocks[0]).toBe(nsStart + 512);
      expect(bySection.pageblocks).toEqual(byBlock.pageblocks);
      expect(bySection.steps * 32).toBeLessThan(byBlock.steps);
      const a = new Uint8Array(64);
      const b = new Uint8Array(64);
      const pps = byBlock.m.state.sparse.pagesPerSection;
      for (let sec = nsStart; sec < nsEnd; sec += pps)
        for (const pfn of [sec, sec + 1, sec + 511, sec + 512, sec + pps - 1]) {
          expect(bySection.m.store.readRecord(pfn, a)).toBe(byBlock.m.store.readRecord(pfn, b));
          expect([pfn, Buffer.from(a).toString('hex')]).toEqual([pfn, Buffer.from(b).toString('hex')]);
        }
    },
  );

  it('through the CLI: page 0xffffffffffffffff and a pfn beyond MAX_PHYSMEM_BITS are one-line errors, not silence', async () => {
    const machine = join(root, 'examples', 'qemu-2node.yaml');
    expectOneLineError(await mmsim('page', machine, '0xffffffffffffffff', '--memmap', 'extent'), /^mmsim: page: "0xffffffffffffffff": expected pfns below 2\^53/);
    // 2^46 / 4096 = 2^34 = 0x400000000: the first pfn past the address space.
    expectOneLineError(await mmsim('page', machine, '0x400000000', '--memmap', 'extent'), /^mmsim: page: pfn 0x400000000 lies beyond the physical address space: pfns are below 0x400000000/);
  });
});
