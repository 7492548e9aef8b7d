// Explore traces a reviewer can read (issue 16, item 4): pfns in hex as the kernel prints them,
// a task's uninterrupted steps under the same locks on one line, runs of the same step collapsed,
// tasks named once with their kernel call, "single task: no race needed", a paragraph per
// invariant (on hand-made traces; the v5.3 search's own trace, and --replay of its saved --json
// printing the same text, are in explore_cli.test.ts, which runs that search once for all its tests).
import { describe, expect, it } from 'vitest';
import { explainInvariant, hexPfns, traceLines, violationText, type TaskInfo, type TextStep } from '../src/drivers/trace_text.js';

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
