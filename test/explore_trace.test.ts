// Explore traces a reviewer can read (issue 16, item 4): pfns in hex as the kernel prints them,
// a task's uninterrupted steps under the same locks on one line, runs of the same step collapsed,
// tasks named once with their kernel call, "single task: no race needed", a paragraph per
// invariant, and --replay of a saved --json printing the same text as the explore that saved it.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainInvariant, hexPfns, traceLines, violationText, type TaskInfo, type TextStep } from '../src/drivers/trace_text.js';
import { exploreCommand, replayCommand } from '../src/cli/explore.js';

const HOLDS = ['mem_hotplug_lock', 'node 0 zone Device span_seqlock'];

describe('trace text, on hand-made traces', () => {
  it('pfns in hex: struct pages, pfns and memmap ranges; section numbers, nodes and page counts stay decimal', () => {
    expect(hexPfns('struct page 1081344')).toBe('struct page 0x108000');
    expect(hexPfns('mem_section of pfn 1048576')).toBe('mem_section of pfn 0x100000');
    expect(hexPfns('memmap [1048576, 1081344)')).toBe('memmap [0x100000-0x108000)');
    expect(hexPfns('mem_section[32]')).toBe('mem_section[32]');
    expect(hexPfns('node 0 span')).toBe('node 0 span');
  });

  it("a run of the same read collapses to its first and last pfn, the stride and the count; a task's steps under the same locks share a line; a lock operation starts one", () => {
    const tasks: TaskInfo[] = [
      { name: 'memremap A', label: 'A', call: 'memremap_pages(pmem0, [0x100000-0x108000))' },
      { name: 'memunmap B', label: 'B', call: 'memunmap_pages(pmem1, [0x108000-0x110000))' },
    ];
    const b = (op: string, held: string[] = HOLDS): TextStep => ({ task: 1, name: 'memunmap B', op, held });
    const trace: TextStep[] = [
      b('start', []),
      b('down_write mem_hotplug_lock', ['mem_hotplug_lock']),
      b('write_seqlock node 0 zone Device span_seqlock'),
      // 0x107fff, 0x107dff, 0x107bff, 0x1079ff: four reads one subsection (0x200) apart, downwards.
      b('read struct page 0x107fff'),
      b('read struct page 0x107dff'),
      b('read struct page 0x107bff'),
      b('read struct page 0x1079ff'),
      { task: 0, name: 'memremap A', op: 'work memmap-init-zone-device 512 pages on node 0', held: [] },
      { task: 0, name: 'memremap A', op: 'set_pfnblock_flags_mask pfn 0x100600 zone Device', held: [] },
    ];
    expect(traceLines(trace, tasks)).toEqual([
      '      1–2  B: start; down_write mem_hotplug_lock  [holds mem_hotplug_lock]',
      '        3  B: write_seqlock node 0 zone Device span_seqlock  [holds mem_hotplug_lock, node 0 zone Device span_seqlock]',
      '      4–7  B reads struct pages 0x107fff…0x1079ff, every 0x200 pfns down (4 reads)  [holds mem_hotplug_lock, node 0 zone Device span_seqlock]',
      '        8  A: work memmap-init-zone-device 512 pages on node 0',
      // The last step, where the invariant breaks, has its own line.
      '        9  A: set_pfnblock_flags_mask pfn 0x100600 zone Device',
    ]);
    // A step that names its kernel function: the run says whose reads they are.
    const named = trace.map((s) => (s.op.startsWith('read') ? { ...s, fn: 'find_biggest_section_pfn' } : s));
    expect(traceLines(named, tasks)[2]).toBe(
      "      4–7  B's find_biggest_section_pfn reads struct pages 0x107fff…0x1079ff, every 0x200 pfns down (4 reads)  [holds mem_hotplug_lock, node 0 zone Device span_seqlock]",
    );
  });

  it('a violation of one task says no race was needed; each task it involves is named once at the top', () => {
    const tasks: TaskInfo[] = [
      { name: 'memremap A', label: 'A', call: 'memremap_pages(pmem0, [0x100000-0x108000))' },
      { name: 'memunmap B', label: 'B', call: 'memunmap_pages(pmem1, [0x108000-0x110000))' },
    ];
    const text = violationText(
      {
        invariant: 'poisoned struct page read (memunmap B)',
        message: 'page:ffffea0004200000 pfn:0x108000 is uninitialized and poisoned',
        trace: [
          { task: 1, name: 'memunmap B', op: 'start', held: [] },
          { task: 1, name: 'memunmap B', op: 'read struct page 0x108000', held: [] },
        ],
      },
      tasks,
      'mmsim explore seed-2019 --design v5.3',
    ).split('\n');
    expect(text.slice(0, 5)).toEqual([
      'poisoned struct page read (memunmap B): 2 steps, single task: no race needed',
      '  B = memunmap_pages(pmem1, [0x108000-0x110000))',
      '        1  B: start',
      '        2  B: read struct page 0x108000',
      '  page:ffffea0004200000 pfn:0x108000 is uninitialized and poisoned',
    ]);
    expect(text[5]).toMatch(/^ {2}invariant: /);
    expect(text.at(-2)).toBe('  replay: mmsim explore seed-2019 --design v5.3');
  });

  it('every invariant the explore driver names has a paragraph: what the kernel prints, the fix', () => {
    for (const inv of ['zone_spans_pfn', 'bad_range', 'might_sleep', 'deadlock', 'page counts', 'device page pgmap', 'device pages outside zone span', 'zone outside node span']) {
      expect(explainInvariant(inv), inv).not.toBeNull();
    }
    // Keys that name the reading task share their invariant's paragraph.
    expect(explainInvariant('poisoned struct page read (kpageflags)')).toBe(explainInvariant('poisoned struct page read (memunmap B)'));
    expect(explainInvariant('stale struct page read (memunmap B)')).not.toBeNull();
    // The kernel's words, checked in 5.3's source: mm/page_alloc.c:535 (set_pfnblock_flags_mask), PF_POISONED_CHECK, ___might_sleep.
    expect(explainInvariant('zone_spans_pfn')).toContain('kernel BUG at mm/page_alloc.c:535!');
    expect(explainInvariant('poisoned struct page read')).toContain('VM_BUG_ON_PAGE(PagePoisoned(p))');
    expect(explainInvariant('poisoned struct page read')).toContain('77e080e7680e');
    expect(explainInvariant('might_sleep')).toContain('BUG: sleeping function called from invalid context');
  });
});

describe('mmsim explore seed-2019 --design v5.3: the traces', () => {
  it('the zone_spans_pfn trace fits in 25 lines, pfns in hex, A and B named once; --replay of the saved --json prints the same text', async () => {
    const o = { design: 'v5.3', reduce: 'dpor', config: 'debug_vm' };
    let text = '';
    await exploreCommand('seed-2019', o, (s) => (text += s)).catch(() => undefined);
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

    let json = '';
    await exploreCommand('seed-2019', { ...o, json: true }, (s) => (json += s)).catch(() => undefined);
    const saved = JSON.parse(json) as { tasks: TaskInfo[]; violations: { invariant: string; single_task: boolean }[] };
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
      let replayed = '';
      await replayCommand(file, inv, (s) => (replayed += s));
      expect(replayed, inv).toBe(`${block}\n`);
    }
  }, 240_000);
});
