// mmsim verify --race's parsing and judging, without QEMU: the bzImage version string, a real
// kernel's BUG report read from its console, the invariant names explore uses, and the verdict.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { bzImageVersion } from '../src/formats/bzimage.js';
import { parseKernelReports } from '../src/formats/oops.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge, kernelReports, kpageflagsLoopText, modelVerdict, modelZoneSteps, modelZoneStepsVerdict, realInvariant, ZONE_STEPS_YAML, zoneStepsScenario } from '../src/verify/race.js';
import type { ExploreViolation } from '../src/drivers/explore.js';
import { mmsim } from './cli_run.js';

/** A minimal bzImage: the setup header's "HdrS" at 0x202 and kernel_version at 0x20e pointing at text (Documentation/x86/boot.rst). */
function image(version: string, ptr = 0x3000): Uint8Array {
  const b = new Uint8Array(ptr + 0x200 + version.length + 16);
  b.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  b[0x20e] = ptr & 0xff;
  b[0x20f] = ptr >> 8;
  for (let i = 0; i < version.length; i++) b[ptr + 0x200 + i] = version.charCodeAt(i);
  return b;
}

describe('bzImage version (setup header kernel_version + 0x200)', () => {
  it('reads the release as the first word', () => {
    expect(bzImageVersion('k', image('5.3.0 (root@vm) #1 SMP Sat Dec 5 16:48:25 UTC 2026'))).toEqual({ release: '5.3.0', version: '5.3.0 (root@vm) #1 SMP Sat Dec 5 16:48:25 UTC 2026' });
    expect(bzImageVersion('k', image('5.3.0+ (root@vm) #1 SMP')).release).toBe('5.3.0+');
    expect(bzImageVersion('k', image('6.1.192 (root@vm) #1', 0x3720)).release).toBe('6.1.192');
  });
  it('a file without the setup header is one line', () => {
    expect(() => bzImageVersion('vmlinux', new Uint8Array(0x1000))).toThrow(InputError);
    expect(() => bzImageVersion('vmlinux', new Uint8Array(0x1000))).toThrow(/vmlinux: not an x86 bzImage/);
  });
  it('a kernel_version pointing past the end is one line', () => {
    const b = image('5.3.0');
    b[0x20f] = 0xff;
    expect(() => bzImageVersion('k', b)).toThrow(/points outside the image/);
  });
});

describe('kernel reports on the console', () => {
  // Linux 5.3 (DEBUG_VM) under QEMU, seed-2019's loops: lines 231-282 of its console, as printed.
  const console = readFileSync(new URL('./race/console-5.3-zone-spans-pfn.log', import.meta.url), 'utf8');
  it('the 2019 BUG: where, the VM_BUG_ON expression, RIP, the reliable call trace, the time', () => {
    const [r, ...rest] = parseKernelReports(console);
    expect(rest).toEqual([]);
    expect(r?.kind).toBe('BUG');
    expect(r?.headline).toBe('kernel BUG at mm/page_alloc.c:535!');
    expect(r?.where).toBe('mm/page_alloc.c:535');
    expect(r?.expression).toBe('VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))');
    expect(r?.rip).toBe('set_pfnblock_flags_mask');
    expect(r?.time).toBe(21.797185);
    // "? devm_memremap" and "? devm_nsio_enable" are the unwinder's guesses: left out.
    expect(r?.calls.slice(0, 6)).toEqual(['set_pageblock_migratetype', 'memmap_init_zone_device', 'devm_memremap_pages', 'pmem_attach_disk', 'nd_pmem_probe', 'nvdimm_bus_probe']);
    expect(r?.calls).toHaveLength(19);
    expect(r?.lines[0]).toMatch(/^page:ffffea00059b0000 refcount:1/);
    expect(realInvariant(r as NonNullable<typeof r>)).toBe('zone_spans_pfn');
  });
  // Linux 5.3 (bzImage-pgflags) under QEMU, verify --race seed-2019 --zone-steps, lines 225-283
  // of its console: destroy B's devm_memremap_pages_release reads B's altmap reserve pfn.
  const destroyB = readFileSync(new URL('./race/console-5.3-pgflags-destroy-b.log', import.meta.url), 'utf8');
  it('the poisoned page read (PF_POISONED_CHECK under DEBUG_VM_PGFLAGS): RIP and trace from its own Oops, not the summary after it', () => {
    const [r, ...rest] = parseKernelReports(destroyB);
    expect(rest).toEqual([]);
    expect(r?.headline).toBe('kernel BUG at include/linux/mm.h:1088!');
    expect(r?.where).toBe('include/linux/mm.h:1088');
    expect(r?.expression).toBe('VM_BUG_ON_PAGE(PagePoisoned(p))');
    expect(r?.rip).toBe('devm_memremap_pages_release');
    expect(r?.calls.slice(0, 3)).toEqual(['devm_action_release', 'release_nodes', 'devres_release_all']);
    expect(r?.calls).toHaveLength(15);
    expect(r?.time).toBe(15.396732);
    expect(r?.lines[0]).toBe('page:ffffea000b000000 is uninitialized and poisoned');
    expect(realInvariant(r as NonNullable<typeof r>)).toBe('poisoned struct page read');
  });
  it('the Oops of a poisoned struct page read through /proc/kpageflags (5.3, no PGFLAGS): a page fault at ~1 in stable_page_flags', () => {
    // Linux 5.3 (bzImage-nopgflags) under QEMU, verify --race seed-2019 --walker kpageflags, lines
    // 225-261 of its console: RBX ffffea0005000000 is pfn 0x140000's struct page, A's first pfn.
    const text = readFileSync(new URL('./race/console-5.3-kpageflags.log', import.meta.url), 'utf8');
    const [r, ...rest] = parseKernelReports(text);
    expect(rest).toEqual([]);
    expect(r?.headline).toBe('BUG: unable to handle page fault for address: fffffffffffffffe');
    expect(r?.rip).toBe('stable_page_flags');
    expect(r?.calls.slice(0, 2)).toEqual(['kpageflags_read', 'proc_reg_read']);
    expect(realInvariant(r as NonNullable<typeof r>)).toBe('poisoned struct page read');
    // The same fault elsewhere (an ERR_PTR(-ENOENT) dereferenced, say) is not that read.
    const other = parseKernelReports(text.replaceAll('stable_page_flags', 'some_driver_ioctl'))[0];
    expect(realInvariant(other as NonNullable<typeof other>)).toBe('BUG: unable to handle page fault for address: fffffffffffffffe');
  });
  it("a NULL pointer's fault (5.0+ x86 show_fault_oops: an address below PAGE_SIZE) is one report with its Oops", () => {
    // The real 5.3 Oops above, its first line as show_fault_oops words a fault at address 8.
    const text = readFileSync(new URL('./race/console-5.3-kpageflags.log', import.meta.url), 'utf8');
    const headline = 'BUG: kernel NULL pointer dereference, address: 0000000000000008';
    const rs = parseKernelReports(text.replace('BUG: unable to handle page fault for address: fffffffffffffffe', headline));
    expect(rs.map((r) => [r.headline, r.rip, r.calls[0]])).toEqual([[headline, 'stable_page_flags', 'kpageflags_read']]);
  });
  it("a WARN, might_sleep's BUG: line and bad_range are told apart", () => {
    const text = [
      'WARNING: CPU: 1 PID: 70 at mm/memory_hotplug.c:123 foo+0x1/0x2',
      'Call Trace:',
      ' bar+0x1/0x2',
      '---[ end trace 1 ]---',
      'BUG: sleeping function called from invalid context at mm/page_alloc.c:4700',
      'page 0x140000 outside node 1 zone Device [ 0x100000 - 0x140000 ]',
      'page:ffffea0005000000 refcount:1 mapcount:0 mapping:0000000000000000 index:0x0',
      'page dumped because: VM_BUG_ON_PAGE(bad_range(zone, page))',
      '------------[ cut here ]------------',
      'kernel BUG at mm/page_alloc.c:900!',
    ].join('\n');
    const rs = parseKernelReports(text);
    expect(rs.map((r) => [r.kind, r.where])).toEqual([
      ['WARN', 'mm/memory_hotplug.c:123'],
      ['BUG', undefined],
      ['BUG', 'mm/page_alloc.c:900'],
    ]);
    expect(rs.map((r) => realInvariant(r))).toEqual(['WARN at mm/memory_hotplug.c:123', 'might_sleep', 'bad_range']);
    expect(rs[0]?.calls).toEqual(['bar']);
    expect(rs[1]?.time).toBeNull();
  });
  // Two CPUs at once (CI, 12-07: a DISAGREE): the walker's Oops holds die_lock while B's
  // PF_POISONED_CHECK prints its page dump and "kernel BUG at", both before die() (x86
  // do_error_trap in 5.3), so those lines can land anywhere in the walker's Oops; B's own Oops
  // ("invalid opcode") follows the walker's end trace, or never comes (oops=panic). The two real
  // consoles above, merged in random orders.
  it("another CPU's page dump and BUG line inside an Oops are that CPU's report", () => {
    const walker = readFileSync(new URL('./race/console-5.3-kpageflags.log', import.meta.url), 'utf8')
      .trimEnd()
      .split('\n');
    const b = destroyB.trimEnd().split('\n');
    const opcode = b.findIndex((l) => l.includes('invalid opcode'));
    const bDump = b.slice(0, opcode);
    const bOops = b.slice(opcode, b.findIndex((l) => l.includes('end trace')) + 1);
    const panic = b.slice(b.findIndex((l) => l.includes('Kernel panic')));
    expect(bDump).toHaveLength(6);
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: walker.length + bDump.length, maxLength: walker.length + bDump.length }), fc.boolean(), (picks, panics) => {
        const merged: string[] = [];
        let w = 0;
        let d = 0;
        for (const takeB of picks) merged.push(((takeB && d < bDump.length) || w >= walker.length ? bDump[d++] : walker[w++]) ?? '');
        const rs = parseKernelReports([...merged, ...(panics ? panic : bOops)].join('\n'));
        expect(rs.map((r) => realInvariant(r))).toEqual(['poisoned struct page read', 'poisoned struct page read']);
        const fault = rs.find((r) => r.headline === 'BUG: unable to handle page fault for address: fffffffffffffffe');
        const bug = rs.find((r) => r.headline === 'kernel BUG at include/linux/mm.h:1088!');
        expect(fault?.rip).toBe('stable_page_flags');
        expect(fault?.calls.slice(0, 2)).toEqual(['kpageflags_read', 'proc_reg_read']);
        expect(fault?.expression).toBe('unable to handle page fault for address: fffffffffffffffe');
        expect(bug?.expression).toBe('VM_BUG_ON_PAGE(PagePoisoned(p))');
        expect(bug?.lines.filter((l) => l.startsWith('raw: '))).toHaveLength(2);
        expect(bug?.rip).toBe(panics ? undefined : 'devm_memremap_pages_release');
        expect(bug?.calls[0]).toBe(panics ? undefined : 'devm_action_release');
        const bugFirst = merged.findIndex((l) => l.includes('kernel BUG at')) < merged.findIndex((l) => l.includes('BUG: unable'));
        expect(rs[0]).toBe(bugFirst ? bug : fault);
      }),
      { numRuns: 400 },
    );
  });
  // Any mixture of the lines the parser looks for: it ends, each report starts at one of its own
  // lines, no line is in two reports, and the reports come in the order of their first lines.
  it('random consoles: every line in one report at most, reports in order', () => {
    const vocabulary = [
      'kernel BUG at mm/page_alloc.c:535!',
      'invalid opcode: 0000 [#1] SMP NOPTI',
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      'BUG: unable to handle page fault for address: fffffffffffffffe',
      'BUG: kernel NULL pointer dereference, address: 0000000000000008',
      'Oops: 0000 [#1] SMP NOPTI',
      'general protection fault: 0000 [#1] SMP',
      'BUG: sleeping function called from invalid context at mm/page_alloc.c:4700',
      'WARNING: CPU: 1 PID: 70 at mm/memory_hotplug.c:123 foo+0x1/0x2',
      'page:ffffea0004000000 is uninitialized and poisoned',
      'raw: ffffffffffffffff ffffffffffffffff',
      'page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))',
      'page 0x140000 outside node 1 zone Device [ 0x100000 - 0x140000 ]',
      '------------[ cut here ]------------',
      ' file_read_actor+0x1/0x2',
      'RIP: 0010:stable_page_flags+0x2a/0x370',
      'Call Trace:',
      ' kpageflags_read+0xaf/0x130',
      ' ? devm_memremap+0x1/0x2',
      '---[ end trace 0123 ]---',
      'Kernel panic - not syncing: Fatal exception',
      'pmem1: detected capacity change from 0 to 268435456',
    ];
    fc.assert(
      fc.property(fc.array(fc.nat(vocabulary.length - 1), { maxLength: 60 }), fc.boolean(), (picks, stamps) => {
        // Each line unique (its index after it), so a line's reports can be counted.
        const input = picks.map((k, i) => `${stamps ? `[   ${i}.000000] ` : ''}${vocabulary[k] ?? ''} #${i}`);
        const rs = parseKernelReports(input.join('\n'));
        const bare = input.map((l) => l.replace(/^\[[^\]]*\] /, ''));
        const used = rs.flatMap((r) => r.lines);
        expect(new Set(used).size).toBe(used.length);
        for (const l of used) expect(bare).toContain(l);
        const at = rs.map((r) => bare.indexOf(r.headline));
        for (const [i, r] of rs.entries()) {
          expect(r.lines).toContain(r.headline);
          if (i > 0) expect(at[i]).toBeGreaterThan(at[i - 1] ?? -1);
        }
      }),
      { numRuns: 2000 },
    );
    // A long console of BUG lines inside one Oops, and Oopses after: read in one pass.
    const many = ['BUG: unable to handle page fault for address: 0', ...Array.from({ length: 20000 }, () => 'kernel BUG at a.c:1!'), '---[ end trace 1 ]---'];
    for (let i = 0; i < 20000; i++) many.push('invalid opcode: 0000 [#2] SMP', '---[ end trace 2 ]---');
    const rs = parseKernelReports(many.join('\n'));
    expect(rs).toHaveLength(20001);
    expect(rs.filter((r) => r.headline === 'kernel BUG at a.c:1!' && r.lines.length === 3)).toHaveLength(20000);
  });
  it('a console with no report has none', () => {
    expect(parseKernelReports('[    1.0] pfn1.0 initialised, 64000 pages in 4ms\n')).toEqual([]);
  });
});

const violation = (invariant: string, message: string, schedule: number[] = [0, 1]): ExploreViolation => ({ invariant, message, schedule, trace: [] });

describe('what a config reports, and the verdict', () => {
  it('a poisoned read is a BUG only with DEBUG_VM_PGFLAGS; zone_spans_pfn with DEBUG_VM', () => {
    const silent = violation(
      'poisoned struct page read',
      'page:x pfn:0x108000 is uninitialized and poisoned: read as all-ones fields (no CONFIG_DEBUG_VM_PGFLAGS, so no VM_BUG_ON_PAGE(PagePoisoned(p)))',
    );
    const loud = violation('poisoned struct page read', 'page:x is uninitialized and poisoned; page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))');
    const span = violation('zone_spans_pfn', 'page:x pfn:0x100600 node 0 zone Device; page dumped because: VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))');
    expect(kernelReports(silent, 'debug_vm')).toBe(false);
    expect(kernelReports(loud, 'debug_vm_pgflags')).toBe(true);
    expect(kernelReports(span, 'debug_vm')).toBe(true);
    expect(kernelReports(span, 'no_debug_vm')).toBe(false);
  });
  const model = { design: '5.3.0', reported: ['zone_spans_pfn'], silent: ['poisoned struct page read (memunmap B)'], interleavings: 1, exhaustive: true };
  it('agree: the predicted BUG shows', () => {
    expect(judge(['zone_spans_pfn'], model, '10 cycles').agree).toBe(true);
  });
  it('disagree: the predicted BUG never shows in the bound', () => {
    expect(judge([], model, '10 cycles')).toEqual({ agree: false, why: 'the model predicts zone_spans_pfn; the real kernel showed none in 10 cycles' });
  });
  it('disagree: the real kernel breaks what the model says cannot break', () => {
    const none = { ...model, reported: [], silent: [] };
    expect(judge(['bad_range'], none, '10 cycles')).toEqual({ agree: false, why: 'the real kernel broke bad_range, which the model says cannot break' });
  });
  it('agree: neither breaks anything, said as a bound', () => {
    expect(judge([], { ...model, reported: [] }, '10 cycles').why).toMatch(/^no BUG, WARN or Oops in 10 cycles; .*not a proof/);
  });
});

describe('invariant names with the task that broke them', () => {
  it('"poisoned struct page read (memunmap B)" in the model is the real "poisoned struct page read"', () => {
    const model = { design: '5.3.0', reported: ['poisoned struct page read (memunmap B)'], silent: [], interleavings: 7, exhaustive: true };
    expect(judge(['poisoned struct page read'], model, '0 cycles').agree).toBe(true);
  });
});

describe('mmsim verify --race: one-line errors before QEMU starts', () => {
  // In a runner process (test/cli_run.ts: the built CLI's main()).
  const run = (...args: string[]): Promise<{ status: number; stderr: string }> => mmsim('verify', ...args);
  it.each([
    [['--race', 'seed-2019', '--kernel', '/nonexistent/bzImage'], /kernel image \/nonexistent\/bzImage does not exist/],
    [['--race', 'seed-2019', '--kernel', 'package.json'], /package\.json: not an x86 bzImage/],
    [['--race', 'seed-2019'], /give --kernel IMAGE/],
    [['--race', 'nope', '--kernel', 'package.json'], /--race nope: expected a scenario file \(FILE.scenario.yaml\) or a built-in scenario: seed-2019/],
    [['--race', 'seed-2019-hotplug', '--kernel', 'package.json'], /not nd_pmem bind\/unbind/],
    [['--race', 'seed-2019', '--kernel', 'package.json', '--config', 'x'], /--config x: expected one of/],
    [['--race', 'seed-2019', '--kernel', 'package.json', '--seconds', '0'], /--seconds 0: expected a positive number/],
    [['--race', 'seed-2019-map-mem', '--kernel', 'package.json', '--no-guard'], /--no-guard goes with --zone-steps/],
    [['--race', 'seed-2019', '--kernel', 'package.json', '--walker', 'nope'], /--walker nope: expected one of compaction, kpageflags/],
    [['--race', 'seed-2019', '--kernel', 'package.json', '--walker', 'memory_failure'], /--walker memory_failure: the guest runs kpageflags only \(memory_failure has no user-space trigger/],
    [['--race', 'seed-2019', '--kernel', 'package.json', '--walker', 'kpageflags', '--zone-steps'], /--walker goes with the loops, not --zone-steps/],
    [['--race', 'test/qemu/nvdimm-hotplug.scenario.yaml', '--kernel', 'package.json', '--walker', 'kpageflags'], /--walker go with the built-in scenarios/],
    [['--race', 'seed-2019', '--kernel', 'package.json', '--walker', 'kpageflags', '--walker', 'kpageflags'], /verify --race: --walker kpageflags given twice/],
    [['--qemu', 'examples/dimm.scenario.yaml', '--walker', 'kpageflags'], /^mmsim: verify: --walker goes with --race$/m],
  ])('%j', async (args, message) => {
    const p = await run(...args);
    expect(p.status).toBe(2);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(message);
  });
});

describe('verify --race --walker kpageflags', () => {
  it("the guest's loop reads A's pfns of /proc/kpageflags in 4 KiB blocks (512 pfns), a cycle a pass", () => {
    // 5 GiB = pfn 0x140000 = block 2560; 6 GiB = 1572864 pfns = 3072 blocks.
    const t = kpageflagsLoopText('kpageflags', 0x140000, 0x140000 + 1572864, 20, 5);
    // Each pass prints what it read: 8 bytes a pfn, fewer where the file ends first.
    expect(t).toContain('b=$(dd if=/proc/kpageflags bs=4096 skip=2560 count=3072 2>/dev/null | wc -c); echo "@@READ kpageflags $b"; n=$((n+1)); echo "@@CYCLE kpageflags $n"');
    expect(t).toContain('[ $n -lt 5 ]');
    expect(() => kpageflagsLoopText('kpageflags', 0x140001, 0x150000, 20, null)).toThrow(/not whole 4 KiB blocks/);
  });
  it("the model's verdict with the walker: its Oops on A's altmap reserve pfn on 5.3 (DEBUG_VM_PGFLAGS), nothing on 6.1 (pfn_to_online_page)", () => {
    const pg = modelVerdict('seed-2019', '5.3.0', 'debug_vm_pgflags', false, ['kpageflags']);
    expect(pg.reported).toEqual(['poisoned struct page read (kpageflags)', 'poisoned struct page read (memunmap B)']);
    expect(pg.exhaustive).toBe(true);
    // One after the other (no preemption): the walker reads A's first pfn once A is mapped, B reads its own reserve pfn.
    expect(modelVerdict('seed-2019', '5.3.0', 'debug_vm_pgflags', true, ['kpageflags']).reported).toEqual(['poisoned struct page read (kpageflags)', 'poisoned struct page read (memunmap B)']);
    const v61 = modelVerdict('seed-2019', '6.1.192', 'debug_vm', false, ['kpageflags']);
    expect([v61.reported, v61.silent, v61.exhaustive]).toEqual([[], [], true]);
  }, 120_000);
});

describe("the model's prediction for the real 5.3 runs of ../shared/kernels (issue 17 item 2)", () => {
  it("seed-2019-map-mem loops: under PGFLAGS B's read of A's poisoned last page, reported (a race: nothing one after the other); under DEBUG_VM zone_spans_pfn, the read silent", () => {
    // README: "On the PGFLAGS kernel B's side hits first: A's poisoned last struct page read in
    // __remove_pages"; on the DEBUG_VM kernel the 2019 BUG. test/explore_seed.test.ts has the traces.
    const pg = modelVerdict('seed-2019-map-mem', '5.3.0', 'debug_vm_pgflags', false);
    expect([pg.reported, pg.silent]).toEqual([['poisoned struct page read (memunmap B)'], []]);
    expect(modelVerdict('seed-2019-map-mem', '5.3.0', 'debug_vm_pgflags', true).reported).toEqual([]);
    const dv = modelVerdict('seed-2019-map-mem', '5.3.0+', 'debug_vm', false);
    expect([dv.reported, dv.silent]).toEqual([['zone_spans_pfn'], ['poisoned struct page read (memunmap B)']]);
    expect(judge(['poisoned struct page read'], pg, '0 cycles').agree).toBe(true);
    expect(judge(['zone_spans_pfn'], dv, '3 cycles').agree).toBe(true);
  }, 120_000);

  it("zone steps, judged by running them in order: 5.3 with PGFLAGS BUGs on destroy B with --map=dev (B's reserve pfn), on destroy A with --map=mem and no guard (pfn 0x7ffff), on nothing with --map=mem and the guard", () => {
    // The default steps are examples/race/zone-steps.scenario.yaml's.
    expect(zoneStepsScenario('dev', true).yaml).toBe(ZONE_STEPS_YAML);
    expect(zoneStepsScenario('mem', false).labels).toEqual(['create A', 'create B', 'destroy B', 'destroy A']);
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-zone-steps-'));
    try {
      const v = (release: string, config: 'debug_vm' | 'debug_vm_pgflags', map: 'dev' | 'mem', guard: boolean): [string[], string[]] => {
        const r = modelZoneStepsVerdict(release, config, dir, map, guard);
        return [[...r.reported], [...r.silent]];
      };
      // test/kernel_steps.test.ts works each read by hand from the 5.3.0 source.
      expect(v('5.3.0', 'debug_vm_pgflags', 'dev', true)).toEqual([['poisoned struct page read (destroy B)'], []]);
      expect(v('5.3.0', 'debug_vm_pgflags', 'mem', false)).toEqual([['poisoned struct page read (destroy A)'], []]);
      expect(v('5.3.0', 'debug_vm_pgflags', 'mem', true)).toEqual([[], []]);
      // Without PGFLAGS the same read is silent: the README's DEBUG_VM zone steps end cleanly.
      expect(v('5.3.0+', 'debug_vm', 'mem', false)).toEqual([[], ['poisoned struct page read (destroy A)']]);
      // 6.1 never shrinks ZONE_DEVICE (remove_pfn_range_from_zone returns first) and its
      // update_pgdat_span reads no struct page: nothing, guard or not.
      expect(v('6.1.192', 'debug_vm', 'mem', false)).toEqual([[], []]);
      // The spans run (no page_init_poison: 5.3's fresh memmap holds an earlier owner's bytes): 5.3
      // without the guard reads pfn 0x7ffff as no node of 1, so shrink_pgdat_span's search goes on
      // to 0x7fdff (RAM, node 1) and node 1 ends at 0x7fe00, inside its DMA32 zone [0x40000,
      // 0x7ffdf): the run driver's span check stops at destroy A, after A (6 GiB = 1572864
      // pages) and B (+65536) were created and B destroyed. 6.1 never shrinks: no stop.
      const z53 = modelZoneSteps('5.3.0', dir, 'mem', false);
      expect(z53.spans.map((x) => x['Node 1 Device'])).toEqual([1572864, 1638400, 1572864]);
      expect(z53.stopped).toEqual({ step: 'destroy A', message: 'zone DMA32 [ 0x40000 - 0x7ffdf ] outside node 1 span' });
      expect(modelZoneSteps('6.1.192', dir, 'mem', false).stopped).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
