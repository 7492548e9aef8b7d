// explore --reproducer (src/verify/reproducer.ts, src/verify/preempt_sites.ts): a trace's first
// preemption, its site in a kernel tree, the delay patch's hunks checked against the lines of the
// tree it cites (Linux 5.3's mm/memremap.c, quoted below as read in the Awik84/linux-5.3 mirror),
// the guest script, and the CLI: files written, one-line errors.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import type { ExploreViolation } from '../src/drivers/explore.js';
import { loopText } from '../src/verify/race.js';
import { kernelVersionOf, preemptSite } from '../src/verify/preempt_sites.js';
import { checkReproducerDir, delayPatch, guestScript, plainKernelOf, preemptionOf, reproducerFiles, type ReproducerInput } from '../src/verify/reproducer.js';
import { mmsim } from './cli_run.js';
import { unless } from './helpers.js';

/**
 * Linux 5.3 mm/memremap.c, the lines the patch's hunks touch, by line number, as read in the
 * Awik84/linux-5.3 mirror (git read-tree HEAD + checkout-index; "Linux 5.3 base", nothing of mm/
 * changed after it): the includes' tail and devm_memremap_pages' mem_hotplug_done() ... the
 * comment before memmap_init_zone_device() (at :313).
 */
const MEMREMAP_53: Record<number, string> = {
  11: '#include <linux/types.h>',
  12: '#include <linux/wait_bit.h>',
  13: '#include <linux/xarray.h>',
  14: '',
  15: 'static DEFINE_XARRAY(pgmap_array);',
  16: '#define SECTION_MASK ~((1UL << PA_SECTION_SHIFT) - 1)',
  305: '\tmem_hotplug_done();',
  306: '\tif (error)',
  307: '\t\tgoto err_add_memory;',
  308: '',
  309: '\t/*',
  310: '\t * Initialization of the pages has been deferred until now in order',
  313: '\tmemmap_init_zone_device(&NODE_DATA(nid)->node_zones[ZONE_DEVICE],',
};

type Step = ExploreViolation['trace'][number];
const st = (task: number, op: string, held: string[] = []): Step => ({ task, name: task ? 'memunmap B' : 'memremap A', op, held });
const TASKS = [
  { name: 'memremap A', label: 'A', call: 'memremap_pages(pmem0, [0x100000-0x108000))' },
  { name: 'memunmap B', label: 'B', call: 'memunmap_pages(pmem1, [0x108000-0x110000))' },
];
/** A's steps as seed-2019's zone_spans_pfn trace on v5.3 has them (explore's output), cut short: A preempted after mem_hotplug_done, B runs, A goes on. */
const RACE: Step[] = [
  st(0, 'start'),
  st(0, 'down_write mem_hotplug_lock', ['mem_hotplug_lock']),
  st(0, 'write mem_section[32]', ['mem_hotplug_lock']),
  st(0, 'up_write mem_hotplug_lock'),
  st(0, 'work memmap-init-zone-device 512 pages on node 0'),
  st(1, 'start'),
  st(1, 'down_write mem_hotplug_lock', ['mem_hotplug_lock']),
  st(0, 'set_pfnblock_flags_mask pfn 0x100600 zone Device'),
];
const violation = (trace: Step[], invariant = 'zone_spans_pfn'): ExploreViolation => ({
  invariant,
  message: 'page:ffffea0004018000 pfn:0x100600 node 0 zone Device; page dumped because: VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))',
  schedule: trace.map((s) => s.task),
  trace,
});
const input = (over: Partial<ReproducerInput> = {}): ReproducerInput => ({
  scenario: 'seed-2019',
  design: 'v5.3',
  kernel: '5.3',
  config: 'debug_vm',
  tasks: TASKS,
  violations: [violation(RACE)],
  rerun: 'mmsim explore seed-2019 --design v5.3',
  ...over,
});

/** Applies a unified diff's hunks to a file known only at some lines: every context line must be the file's line at its number. */
function applyToKnownLines(patch: string, known: Record<number, string>): { added: string[]; hunks: { oldStart: number; newStart: number }[] } {
  const lines = patch.split('\n');
  expect(lines[0]).toBe('--- a/mm/memremap.c');
  expect(lines[1]).toBe('+++ b/mm/memremap.c');
  const added: string[] = [];
  const hunks: { oldStart: number; newStart: number }[] = [];
  let shift = 0;
  for (let i = 2; i < lines.length && lines[i] !== '';) {
    const h = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[i] as string);
    expect(h, lines[i]).not.toBeNull();
    const [oldStart, oldCount, newStart, newCount] = (h as RegExpExecArray).slice(1).map(Number) as [number, number, number, number];
    expect(newStart).toBe(oldStart + shift);
    hunks.push({ oldStart, newStart });
    let o = 0;
    let n = 0;
    for (i++; i < lines.length && /^[ +-]/.test(lines[i] as string); i++) {
      const l = lines[i] as string;
      if (l[0] === '+') {
        added.push(l.slice(1));
        n++;
        continue;
      }
      expect(known[oldStart + o], `line ${oldStart + o}`).toBe(l.slice(1));
      o++;
      if (l[0] === ' ') n++;
    }
    expect([o, n]).toEqual([oldCount, newCount]);
    shift += newCount - oldCount;
  }
  return { added, hunks };
}

describe('preemptionOf', () => {
  it('finds the first task switched away from with steps to come: its last step, last lock operation and locks; none for one task or tasks one after the other', () => {
    expect(preemptionOf(RACE)).toEqual({ task: 0, step: 4, afterLockOp: 'up_write mem_hotplug_lock', holding: [], resumes: 7 });
    expect(preemptionOf([st(1, 'start'), st(1, 'read struct page 0x108000')])).toBeNull();
    expect(preemptionOf([st(0, 'start'), st(0, 'up_write mem_hotplug_lock'), st(1, 'start'), st(1, 'read struct page 0x108000')])).toBeNull();
    // Preempted before any lock operation.
    expect(preemptionOf([st(0, 'start', []), st(1, 'start'), st(0, 'work x')])).toEqual({ task: 0, step: 0, afterLockOp: null, holding: [], resumes: 2 });
  });
});

describe('preempt sites', () => {
  it('knows 5.3 devm_memremap_pages after mem_hotplug_done for memremap_pages preempted after up_write mem_hotplug_lock, holding nothing; nothing else', () => {
    const s = preemptSite('5.3', 'memremap_pages(pmem0, [0x100000-0x108000))', 'up_write mem_hotplug_lock', []);
    expect(s).toMatchObject({ kernel: '5.3', file: 'mm/memremap.c', function: 'devm_memremap_pages', line: 307 });
    expect(preemptSite('4.19', 'memremap_pages(pmem0)', 'up_write mem_hotplug_lock', [])).toBeNull();
    expect(preemptSite('5.3', 'memunmap_pages(pmem1)', 'up_write mem_hotplug_lock', [])).toBeNull();
    expect(preemptSite('5.3', 'memremap_pages(pmem0)', 'down_write mem_hotplug_lock', ['mem_hotplug_lock'])).toBeNull();
    expect(preemptSite('5.3', 'memremap_pages(pmem0)', 'up_write mem_hotplug_lock', ['node 0 pgdat_resize_lock'])).toBeNull();
    expect(['5.3.0+', '5.3', 'v5.3', '6.18', '6.1.192', 'x'].map(kernelVersionOf)).toEqual(['5.3', '5.3', '5.3', '6.18', '6.1', null]);
  });

  it("the delay patch's hunks match Linux 5.3's mm/memremap.c at the lines it cites; it adds the parameter (off by default) and the delay between mem_hotplug_done's error check and memmap_init_zone_device", () => {
    const s = preemptSite('5.3', 'memremap_pages(pmem0)', 'up_write mem_hotplug_lock', []);
    if (!s) throw new Error('no 5.3 site');
    const patch = delayPatch(s);
    const { added, hunks } = applyToKnownLines(patch, MEMREMAP_53);
    // Worked by hand: the first hunk's 3+3 context lines around :13 (11-16), 8 lines added (2
    // includes, a blank line, a comment, 2 lines per parameter); the second's around :307
    // (305-310), so it starts at 305 + 8 in the patched file.
    expect(hunks).toEqual([
      { oldStart: 11, newStart: 11 },
      { oldStart: 305, newStart: 313 },
    ]);
    expect(added).toContain('#include <linux/delay.h>');
    expect(added).toContain('#include <linux/moduleparam.h>');
    expect(added).toContain('static unsigned int mmsim_delay_ms;');
    expect(added).toContain('core_param(mmsim_delay_ms, mmsim_delay_ms, uint, 0644);');
    // devm_memremap_pages(struct device *dev, ...) in 5.3: the delay can be limited to A's device by name.
    expect(added).toContain('static char *mmsim_delay_dev;');
    expect(added).toContain('core_param(mmsim_delay_dev, mmsim_delay_dev, charp, 0644);');
    expect(added).toContain('\tif (mmsim_delay_ms && (!mmsim_delay_dev || !strcmp(mmsim_delay_dev, dev_name(dev)))) {');
    expect(added).toContain('\t\tmdelay(mmsim_delay_ms);');
  });

  // With a Linux 5.3 tree at hand (MMSIM_LINUX53_TREE), patch(1) itself applies it.
  const tree = process.env['MMSIM_LINUX53_TREE'];
  const haveTree = tree !== undefined && existsSync(join(tree, 'mm', 'memremap.c'));
  it.skipIf(!haveTree)(`patch -p1 --dry-run applies it cleanly to the tree in MMSIM_LINUX53_TREE${unless(haveTree, 'MMSIM_LINUX53_TREE names no Linux 5.3 tree')}`, () => {
    const s = preemptSite('5.3', 'memremap_pages(pmem0)', 'up_write mem_hotplug_lock', []);
    if (!s || tree === undefined) throw new Error('no 5.3 site');
    const r = spawnSync('patch', ['-p1', '--dry-run', '-F0'], { cwd: tree, input: delayPatch(s), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('checking file mm/memremap.c\n');
    expect(r.status).toBe(0);
  });
});

describe('reproducer files', () => {
  it("README, guest.sh with verify --race's loops and the patch for a race with a known site; the README names the function, file, line and tree", () => {
    const files = reproducerFiles(input());
    expect(files.map((f) => f.name)).toEqual(['README.md', 'guest.sh', 'zone_spans_pfn.patch']);
    const readme = files[0]?.text ?? '';
    expect(readme).toContain('In Linux 5.3: `devm_memremap_pages`, mm/memremap.c:307');
    expect(readme).toContain('Awik84/linux-5.3');
    expect(readme).toContain('after step 5 (`work memmap-init-zone-device 512 pages on node 0`), its last lock operation `up_write mem_hotplug_lock`, holding no lock');
    expect(readme).toContain('mmsim verify --race seed-2019 --kernel arch/x86/boot/bzImage --kernel-args mmsim_delay_ms=2000');
    const guest = files[1]?.text ?? '';
    expect(files[1]?.executable).toBe(true);
    expect(guest).toContain(`${loopText('A', ['$PA'], '$S', '$C')} & ${loopText('B', ['$PB'], '$S', '$C')} & wait`);
    expect(guest).toContain('ndctl create-namespace -f -e "$n" --mode=fsdax --map=dev');
    expect(guest).toBe(guestScript('seed-2019', 'mmsim explore seed-2019 --design v5.3'));
    // busybox sh and dash parse it (sh -n: syntax only).
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-repro-'));
    writeFileSync(join(dir, 'guest.sh'), guest);
    expect(spawnSync('sh', ['-n', join(dir, 'guest.sh')], { encoding: 'utf8' }).status).toBe(0);
  });

  it('no patch where the point has no known site, where the design changes the kernel, or where one task alone breaks it; nothing to reproduce without a violation', () => {
    const unknown = reproducerFiles(input({ kernel: '4.19', design: 'v4.19' }));
    expect(unknown.map((f) => f.name)).toEqual(['README.md', 'guest.sh']);
    expect(unknown[0]?.text).toContain('No patch: mmsim knows no source location for this preemption point in Linux 4.19');
    const design = reproducerFiles(input({ kernel: null, design: 'serialize' }));
    expect(design[0]?.text).toContain('No patch: design serialize changes the kernel');
    const alone = reproducerFiles(input({ violations: [violation([st(1, 'start'), st(1, 'read struct page 0x108000')], 'poisoned struct page read (memunmap B)')] }));
    expect(alone.map((f) => f.name)).toEqual(['README.md', 'guest.sh']);
    expect(alone[0]?.text).toContain('No race: one task breaks it alone');
    expect(() => reproducerFiles(input({ violations: [] }))).toThrow(InputError);
  });

  it('a design is a kernel version when nothing in its chain changes the kernel', () => {
    expect(['v5.3', '5.3', 'v4.19', '6.1', 'current', 'serialize', 'no-shrink'].map((d) => plainKernelOf(d, []))).toEqual(['5.3', '5.3', '4.19', '6.1', '6.18', null, null]);
  });

  it('checks DIR before the search: made if absent, one InputError where it cannot be (a file in the way), and a scenario with no guest form', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-repro-'));
    checkReproducerDir(join(dir, 'a', 'b'), 'seed-2019');
    expect(statSync(join(dir, 'a', 'b')).isDirectory()).toBe(true);
    writeFileSync(join(dir, 'file'), '');
    expect(() => checkReproducerDir(join(dir, 'file', 'sub'), 'seed-2019')).toThrow(/^--reproducer .*file\/sub: cannot write there \(ENOTDIR\); expected a writable directory/);
    expect(() => checkReproducerDir(join(dir, 'file'), 'seed-2019')).toThrow(/cannot write there \(EEXIST\)/);
    expect(() => checkReproducerDir(dir, 'seed-2019-hotplug')).toThrow(/^--reproducer: seed-2019-hotplug has no guest form/);
  });
});

describe('mmsim explore --reproducer', () => {
  it('writes README.md, guest.sh and zone_spans_pfn.patch for seed-2019 on v5.3 (explore still exits 1: invariants broken)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mmsim-repro-')), 'out');
    const r = await mmsim('explore', 'seed-2019', '--design', 'v5.3', '--reproducer', dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\nzone_spans_pfn: \d+ steps\n/);
    expect(r.stderr).toContain(`reproducer: wrote ${join(dir, 'README.md')}, ${join(dir, 'guest.sh')}, ${join(dir, 'zone_spans_pfn.patch')}\n`);
    const patch = readFileSync(join(dir, 'zone_spans_pfn.patch'), 'utf8');
    applyToKnownLines(patch, MEMREMAP_53);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('### zone_spans_pfn');
    expect(readme).toContain('mm/memremap.c:307');
    expect(readme).toContain('its last lock operation `up_write mem_hotplug_lock`, holding no lock');
    expect(readme).toContain('### poisoned struct page read (memunmap B)');
  }, 300_000);

  it('one-line errors, exit 2: an unwritable DIR, a search with no violation, a scenario with no guest form, --replay', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mmsim-repro-'));
    writeFileSync(join(base, 'file'), '');
    const bad = await mmsim('explore', 'seed-2019', '--design', 'v5.3', '--reproducer', join(base, 'file', 'sub'));
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^mmsim: --reproducer \S+file\/sub: cannot write there \(ENOTDIR\); expected a writable directory \(made if absent\)\n$/);
    const ok = await mmsim('explore', 'seed-2019', '--design', 'no-shrink', '--reproducer', join(base, 'none'));
    expect(ok.status).toBe(2);
    expect(ok.stdout).toMatch(/^no violation: /);
    expect(ok.stderr).toBe('mmsim: --reproducer: seed-2019 with design no-shrink breaks no invariant: nothing to reproduce\n');
    const other = await mmsim('explore', 'seed-2019-hotplug', '--reproducer', join(base, 'h'));
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/^mmsim: --reproducer: seed-2019-hotplug has no guest form[^\n]*\n$/);
    const replay = await mmsim('explore', '--replay', join(base, 'file'), '--reproducer', join(base, 'r'));
    expect(replay.status).toBe(2);
    expect(replay.stderr).toMatch(/^mmsim: explore: --reproducer goes with a search, not --replay[^\n]*\n$/);
    // The patch's parameter reaches the guest through verify --race --kernel-args, and only there.
    const args = await mmsim('verify', '--kernel-args', 'mmsim_delay_ms=2000', '--qemu', 'x.yaml');
    expect(args.status).toBe(2);
    expect(args.stderr).toBe('mmsim: verify: --kernel-args goes with --race\n');
  }, 300_000);
});
