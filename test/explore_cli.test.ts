// mmsim explore / compare / designs on the command line: the shortest trace ending in the
// kernel's words and the command that reruns it, the JSON shape, --replay byte for byte, the
// seeded random mode repeating itself, user design files (one that only wraps its base's step
// behaves exactly like the base; the example fixes the race), designs --diff, and one-line errors.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mmsim } from './cli_run.js';

// `explore seed-2019 --design v5.3` and its `--json` (each an exhaustive search of 12095
// interleavings, the file's slowest commands) are read by several tests: each runs once.
let v53Json: ReturnType<typeof mmsim> | undefined;
const exploreV53Json = (): ReturnType<typeof mmsim> => (v53Json ??= mmsim('explore', 'seed-2019', '--design', 'v5.3', '--json'));
let v53Text: ReturnType<typeof mmsim> | undefined;
const exploreV53Text = (): ReturnType<typeof mmsim> => (v53Text ??= mmsim('explore', 'seed-2019', '--design', 'v5.3'));

describe('mmsim explore seed-2019', () => {
  it("prints each violated invariant's shortest trace with the locks held, the kernel's words and the rerun command, exit 1; JSON with the verdict; a fixed design exits 0", async () => {
    const bad = await exploreV53Text();
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(
      /^poisoned struct page read \(memunmap B\): 2 steps, single task: no race needed\n {2}B = memunmap_pages\(pmem1, \[0x108000-0x110000\)\)\n {8}1 {2}B: start\n {8}2 {2}B \(page_to_nid\): read struct page 0x108000\n/,
    );
    expect(bad.stdout).toMatch(/\nzone_spans_pfn: \d+ steps\n/);
    expect(bad.stdout).toMatch(
      / B's find_biggest_section_pfn reads struct pages 0x107fff…0x[0-9a-f]+, every 0x200 pfns down \(\d+ reads\) {2}\[holds mem_hotplug_lock, node 0 pgdat_resize_lock, node 0 zone Device span_seqlock\]\n/,
    );
    expect(bad.stdout).toMatch(
      / {2}page:ffffea00040[0-9a-f]+ pfn:0x10[0-7][0-9a-f]{3} node 0 zone Device; page dumped because: VM_BUG_ON_PAGE\(!zone_spans_pfn\(page_zone\(page\), pfn\)\)\n {2}invariant: [^\n]*(\n {4}[^\n]*)*\n {2}replay: mmsim explore seed-2019 --design v5\.3\n/,
    );
    expect(bad.stdout).toMatch(/\n\d+ interleavings \(exhaustive, DPOR\), [\d.]+ s\n$/);
    const j = JSON.parse((await exploreV53Json()).stdout) as Record<string, unknown> & {
      violations: { invariant: string; steps: number; trace: unknown[] }[];
    };
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['design', 'verdict', 'violations', 'interleavings', 'exhaustive', 'seconds']));
    expect(j).toMatchObject({ design: 'v5.3', verdict: 'violation', exhaustive: true, reduction: 'dpor' });
    // --jobs defaults to every core; this search (seconds) outlasts the 250 ms before workers start.
    expect(j['threads']).toBe(availableParallelism());
    expect(j.violations.map((v) => v.invariant)).toEqual(['poisoned struct page read (memunmap B)', 'zone_spans_pfn']);
    for (const v of j.violations) expect(v.trace).toHaveLength(v.steps);
    const ok = await mmsim('explore', 'seed-2019', '--design', 'current');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^no violation: \d+ interleavings \(exhaustive, DPOR\), [\d.]+ s\n$/);
  }, 900_000);

  it('the zone_spans_pfn trace fits in 25 lines, pfns in hex, A and B named once; --replay of the saved --json prints the same text (issue 16, item 4)', async () => {
    const text = (await exploreV53Text()).stdout;
    const blocks = text.split(/\n(?=\S)/);
    const race = blocks.find((b) => b.startsWith('zone_spans_pfn: ')) ?? '';
    const lines = race.split('\n');
    expect(lines[0]).toMatch(/^zone_spans_pfn: \d+ steps$/);
    expect(lines.length).toBeLessThanOrEqual(25);
    expect(lines.slice(1, 3)).toEqual(['  A = memremap_pages(pmem0, [0x100000-0x108000))', '  B = memunmap_pages(pmem1, [0x108000-0x110000))']);
    // B's span search from the end of A (0x108000 - 1) down, one read per subsection, collapsed.
    expect(race).toMatch(/\n +\d+–\d+ {2}B(?:'s \w+)? reads struct pages 0x107fff…0x[0-9a-f]+, every 0x200 pfns down \(\d+ reads\) {2}\[holds mem_hotplug_lock, /);
    // No pfn in decimal: every "struct page N" and "pfn N" is hex.
    expect(race).not.toMatch(/(struct page |pfn |pfn:)(?!0x)\d/);
    expect(race).toMatch(/pfn:0x10[0-7][0-9a-f]{3} node 0 zone Device/);
    const poisoned = blocks.find((b) => b.startsWith('poisoned struct page read (memunmap B): ')) ?? '';
    expect(poisoned.split('\n')[0]).toBe('poisoned struct page read (memunmap B): 2 steps, single task: no race needed');

    const json = (await exploreV53Json()).stdout;
    const saved = JSON.parse(json) as { tasks: { label: string }[]; violations: { invariant: string; single_task: boolean }[] };
    expect(saved.tasks.map((t) => t.label)).toEqual(['A', 'B']);
    expect(saved.violations.map((v) => [v.invariant, v.single_task])).toEqual([
      ['poisoned struct page read (memunmap B)', true],
      ['zone_spans_pfn', false],
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'mmsim-trace-')), 'cex.json');
    writeFileSync(file, json);
    for (const [inv, block] of [
      ['zone_spans_pfn', race],
      ['poisoned struct page read (memunmap B)', poisoned],
    ] as const) {
      const replayed = await mmsim('explore', '--replay', file, '--invariant', inv);
      expect(replayed.status, inv).toBe(0);
      expect(replayed.stdout, inv).toBe(`${block}\n`);
    }
  }, 900_000);

  it('replays a saved counterexample to the same text as the explore that saved it, byte for byte; a file that is not one is one clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-replay-'));
    const found = await mmsim('explore', 'seed-2019', '--design', 'seqlock');
    writeFileSync(join(dir, 'cex.json'), (await mmsim('explore', 'seed-2019', '--design', 'seqlock', '--json')).stdout);
    for (const inv of ['might_sleep', 'zone_spans_pfn']) {
      const replayed = await mmsim('explore', '--replay', join(dir, 'cex.json'), '--invariant', inv);
      expect(replayed.status, inv).toBe(0);
      // The explore output's block for that invariant, whole: header, tasks, trace, the kernel's words, the paragraph, the rerun command.
      const block = found.stdout.split(/\n(?=\S)/).find((b) => b.startsWith(`${inv}: `)) ?? '';
      expect(block, inv).toContain('  replay: mmsim explore seed-2019 --design seqlock');
      expect(replayed.stdout, inv).toBe(`${block}\n`);
    }
    writeFileSync(join(dir, 'bad.json'), '{"scenario":"seed-2019"}');
    const bad = await mmsim('explore', '--replay', join(dir, 'bad.json'));
    expect(bad.status).toBe(2);
    // Checked by a schema (formats/replay.ts): the missing key, at the object that lacks it.
    expect(bad.stderr).toMatch(/^mmsim: .*bad\.json:1:1: design: .*expected string, received undefined; expected the output of mmsim explore --json\n$/);
  }, 240_000);

  it('random mode: the same seed gives the same output, and --runs counts the schedules', async () => {
    const a = await mmsim('explore', 'seed-2019', '--design', 'v5.3', '--runs', '40', '--seed', '7', '--json');
    const b = await mmsim('explore', 'seed-2019', '--design', 'v5.3', '--runs', '40', '--seed', '7', '--json');
    const strip = (s: string) => s.replace(/"seconds": [\d.]+/, '');
    expect(strip(a.stdout)).toBe(strip(b.stdout));
    expect(JSON.parse(a.stdout)).toMatchObject({ interleavings: 40, exhaustive: false });
  }, 240_000);

  it('one-line errors: an unknown scenario, design, config or walker', async () => {
    expect((await mmsim('explore', 'seed-2020')).stderr).toBe(
      'mmsim: explore: unknown scenario seed-2020; the built-in ones are seed-2019, seed-2019-hotplug, seed-2019-subsection, seed-2019-map-mem\n',
    );
    expect((await mmsim('explore', 'seed-2019', '--design', 'bogus')).stderr).toMatch(
      /^mmsim: --design bogus: expected a design \(v4\.19, v5\.3, serialize, seqlock-after-unlock, seqlock-whole, seqlock-per-pageblock, seqlock, no-shrink, 6\.1, current\), a kernel release such as 6\.1, or a design file/,
    );
    expect((await mmsim('explore', 'seed-2019', '--config', 'x')).stderr).toBe('mmsim: --config x: expected one of debug_vm, debug_vm_pgflags, no_debug_vm\n');
    expect((await mmsim('explore', 'seed-2019', '--walker', 'x')).stderr).toBe(
      'mmsim: --walker x: expected one of compaction, kpageflags, memory_failure, set_zone_contiguous, test_pages_in_a_zone\n',
    );
  });
});

describe('design files and mmsim designs / compare', () => {
  it("a user design that only wraps its base's step behaves exactly like the base; the shipped example stops the zone_spans_pfn race", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-design-'));
    const file = join(dir, 'same.mjs');
    writeFileSync(file, "export default { name: 'same-as-v5.3', base: 'v5.3', steps: { *memmap_init_zone_device(api, ...args) { yield* api.base(...args); } } };\n");
    const mine = JSON.parse((await mmsim('explore', 'seed-2019', '--design', file, '--json')).stdout) as { design: string; violations: unknown; interleavings: number };
    const base = JSON.parse((await exploreV53Json()).stdout) as { design: string; violations: unknown; interleavings: number };
    expect(mine.design).toBe('same-as-v5.3');
    expect(mine.violations).toEqual(base.violations);
    expect(mine.interleavings).toBe(base.interleavings);
    const rows = JSON.parse((await mmsim('compare', 'seed-2019', '--designs', 'v5.3,examples/designs/dont-shrink-zone-device.mjs', '--time', 'none', '--json')).stdout) as {
      design: string;
      invariants: string;
    }[];
    expect(rows.map((r) => r.design)).toEqual(['v5.3', 'dont-shrink-zone-device']);
    expect(rows[0]?.invariants).toContain('zone_spans_pfn');
    expect(rows[1]?.invariants).not.toContain('zone_spans_pfn');
    writeFileSync(join(dir, 'bad.mjs'), "export default { name: 'x', base: 'v5.3', steps: { not_a_step: function* () {} } };\n");
    expect((await mmsim('explore', 'seed-2019', '--design', join(dir, 'bad.mjs'))).stderr).toMatch(
      /^mmsim: .*bad\.mjs: step not_a_step is not one a design may replace \(add_memory_resource, arch_add_memory, .*, memmap_init_zone_device, memunmap_pages, .*test_pages_in_a_zone\); mmsim designs lists them\n$/,
    );
    // A design that keeps state of its own between runs: a search would take each replay of a
    // schedule to run as before. One line, exit 2, before any search, naming where the runs part.
    writeFileSync(
      join(dir, 'flaky.mjs'),
      "let calls = 0;\nexport default { name: 'flaky', base: 'v5.3', steps: { *remove_pfn_range_from_zone(api, m, zone, start, end, search) { if (calls++ % 2) yield { op: 'might_sleep', where: 'flaky' }; yield* api.base(m, zone, start, end, search); } } };\n",
    );
    const flaky = await mmsim('explore', 'seed-2019', '--design', join(dir, 'flaky.mjs'));
    expect(flaky.status).toBe(2);
    expect(flaky.stdout).toBe('');
    expect(flaky.stderr).toMatch(
      /^mmsim: .*flaky\.mjs: the design's steps ran differently on two runs of the same schedule \(step \d+ was "memunmap B: [^"]+", then "memunmap B: might_sleep flaky"\); a design must depend only on the machine it is given \(no state kept between runs, no clock, no Math\.random\)\n$/,
    );
  }, 900_000);

  it('designs lists the built-ins and the replaceable steps; --diff shows what differs', async () => {
    const list = (await mmsim('designs')).stdout;
    expect(
      list
        .split('\n')
        .filter((l) => /^\S/.test(l) && !l.startsWith('Steps'))
        .map((l) => l.split(' ')[0]),
    ).toEqual(['v4.19', 'v5.3', 'serialize', 'seqlock-after-unlock', 'seqlock-whole', 'seqlock-per-pageblock', 'seqlock', 'no-shrink', '6.1', 'current']);
    // seqlock is seqlock-after-unlock's old name: the same design under it.
    expect(list).toContain('seqlock    the old name of seqlock-after-unlock (kept so that earlier command lines run unchanged)\n           base seqlock-after-unlock\n');
    expect(list).toContain('base v5.3; zoneDeviceInitUnderLock=true');
    expect(list).toContain('base v5.3; step memmap_init_zone_device');
    expect(list).toMatch(/\n {2}shrink_zone_span\(m, zone: Zone, start: Pfn, end: Pfn, search: 'online' \| 'valid'\) => Task<void>\n/);
    // --steps: every step with its signature and what it models (kernel/steps.ts).
    const steps = (await mmsim('designs', '--steps')).stdout;
    const names = [...steps.matchAll(/^(\w+)\(m, /gm)].map((x) => x[1]);
    expect(names).toEqual([
      'add_memory_resource',
      'arch_add_memory',
      'sparse_add_section',
      'move_pfn_range_to_zone',
      'memmap_init_range',
      'online_pages',
      'offline_pages',
      'remove_pfn_range_from_zone',
      'shrink_zone_span',
      'update_pgdat_span',
      'shrink_pgdat_span',
      'memremap_pages',
      'pagemap_range',
      'memmap_init_zone_device',
      'memunmap_pages',
      'compaction',
      'kpageflags_read',
      'memory_failure',
      'set_zone_contiguous',
      'test_pages_in_a_zone',
    ]);
    expect(steps).toContain(
      'memmap_init_zone_device(m, zone: Zone, pgmap: DevPagemap, refcount: number) => Task<void>\n  memremap_pages from the end of move_pfn_range_to_zone(ZONE_DEVICE): entered holding mem_hotplug_lock for writing',
    );
    expect((await mmsim('designs', '--diff', 'v5.3', 'seqlock')).stdout).toBe(
      'v5.3 (v5.3 <- 5.3) | seqlock (seqlock <- seqlock-after-unlock <- v5.3 <- 5.3)\n  step memmap_init_zone_device: kernel | seqlock-after-unlock\n',
    );
    expect((await mmsim('designs', '--diff', 'seqlock-whole', 'seqlock-per-pageblock')).stdout).toBe(
      'seqlock-whole (seqlock-whole <- v5.3 <- 5.3) | seqlock-per-pageblock (seqlock-per-pageblock <- v5.3 <- 5.3)\n  step memmap_init_zone_device: seqlock-whole | seqlock-per-pageblock\n',
    );
    expect((await mmsim('designs', '--diff', 'seqlock', 'seqlock-after-unlock')).stdout).toBe(
      'seqlock (seqlock <- seqlock-after-unlock <- v5.3 <- 5.3) | seqlock-after-unlock (seqlock-after-unlock <- v5.3 <- 5.3)\n  no difference\n',
    );
    expect((await mmsim('designs', '--diff', 'v5.3', 'serialize')).stdout).toBe('v5.3 (v5.3 <- 5.3) | serialize (serialize <- v5.3 <- 5.3)\n  feature zoneDeviceInitUnderLock: false | true\n');
  });

  it('compare prints one row per design', async () => {
    const t = await mmsim('compare', 'seed-2019', '--designs', 'serialize,no-shrink,6.1', '--time', 'none');
    expect(t.stdout).toMatch(/^design +verdict +interleavings +invariants broken \(shortest steps\)\nserialize +ok +\d+ +-\nno-shrink +ok +\d+ +-\n6\.1 +ok +\d+ +-\n$/);
  }, 240_000);
});

describe('mmsim explore SCENARIO-FILE', () => {
  it("explores a scenario file's concurrent block after running the steps before it; run does the block in order; wrong shapes are one line", async () => {
    const file = 'examples/concurrent-online-remove.scenario.yaml';
    const bad = await mmsim('explore', file, '--design', 'v5.3');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^poisoned struct page read \(2: remove_memory memory34\): \d+ steps, single task: no race needed\n {2}2 = remove_memory\(\[0x110000-0x118000\)\)\n/);
    expect(bad.stdout).toMatch(/ {2}page:ffffea00043fffc0 pfn:0x10ffff is uninitialized and poisoned/);
    expect(bad.stdout).toContain(`replay: mmsim explore ${file} --design v5.3\n`);
    const ok = await mmsim('explore', file, '--design', '6.1');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^no violation: \d+ interleavings \(exhaustive, DPOR\)/);
    const run = await mmsim('run', file, '--print', 'blocks');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/memory33 state=online phys_index=00000021 node=1 valid_zones=Movable\n/);
    expect((await mmsim('verify', '--qemu', file)).stderr).toMatch(
      /concurrent-online-remove\.scenario\.yaml:17:5: verify runs one step at a time on the real kernel; a concurrent block is for mmsim explore/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-conc-'));
    writeFileSync(join(dir, 'none.scenario.yaml'), 'machine: ' + join(process.cwd(), 'examples/qemu-2node.yaml') + '\nsteps:\n  - add: { node: 1, start: 4G, size: 128M }\n');
    expect((await mmsim('explore', join(dir, 'none.scenario.yaml'))).stderr).toMatch(/none\.scenario\.yaml: no concurrent block to explore; add a step `concurrent: \[ \.\.\. \]`/);
    writeFileSync(
      join(dir, 'after.scenario.yaml'),
      'machine: ' +
        join(process.cwd(), 'examples/qemu-2node.yaml') +
        '\nsteps:\n  - concurrent:\n      - add: { node: 1, start: 4G, size: 128M }\n      - add: { node: 1, start: 0x108000000, size: 128M }\n  - online: { blocks: 32 }\n',
    );
    expect((await mmsim('explore', join(dir, 'after.scenario.yaml'))).stderr).toMatch(/after\.scenario\.yaml:6:5: explore stops at the concurrent block; move this step before it or into it\n$/);
  }, 240_000);
});
