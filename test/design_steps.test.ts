// Issue 16 item 2: every step of the hotplug and memremap paths is replaceable by a design file.
// For each step in kernel/steps.ts a design file is written and loaded as a user would
// (loadDesignFile: its steps run guarded), then explored on a built-in scenario where the kernel
// runs that step: a pass-through replacement (yield* api.base(...)) must give exactly the base's
// results, and a replacement that leaves the step out must change them. The shipped examples
// (examples/designs/) are checked against the behaviour of the patches they are written from.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explore } from '../src/drivers/explore.js';
import { Scheduler } from '../src/drivers/scheduler.js';
import { builtinWorld } from '../src/drivers/scenario_world.js';
import { loadDesignFile, resolveDesign, KERNEL_STEPS, type Design } from '../src/designs/designs.js';
import { STEP_DOCS } from '../src/kernel/steps.js';
import type { DesignSteps } from '../src/kernel/machine.js';
import type { BuiltinScenario } from '../src/designs/builtin_scenarios.js';
import type { WalkerName } from '../src/kernel/walkers.js';
import { timeFor } from '../src/cli/time.js';

/** Where the kernel runs each step: a built-in scenario, the base design, the walkers added. */
const WHERE: Readonly<Record<keyof DesignSteps, { scenario: BuiltinScenario; base: string; walkers?: WalkerName[] }>> = {
  add_memory_resource: { scenario: 'seed-2019-hotplug', base: 'v5.3' },
  arch_add_memory: { scenario: 'seed-2019', base: 'v5.3' },
  sparse_add_section: { scenario: 'seed-2019', base: 'v5.3' },
  move_pfn_range_to_zone: { scenario: 'seed-2019', base: 'v5.3' },
  memmap_init_range: { scenario: 'seed-2019', base: 'v5.3' },
  online_pages: { scenario: 'seed-2019-hotplug', base: 'v5.3' },
  offline_pages: { scenario: 'seed-2019-hotplug', base: '6.1' },
  remove_pfn_range_from_zone: { scenario: 'seed-2019', base: 'v5.3' },
  shrink_zone_span: { scenario: 'seed-2019', base: 'v5.3' },
  update_pgdat_span: { scenario: 'seed-2019-hotplug', base: '6.1' },
  shrink_pgdat_span: { scenario: 'seed-2019', base: 'v5.3' },
  memremap_pages: { scenario: 'seed-2019', base: 'v5.3' },
  pagemap_range: { scenario: 'seed-2019', base: 'v5.3' },
  memmap_init_zone_device: { scenario: 'seed-2019', base: 'v5.3' },
  memunmap_pages: { scenario: 'seed-2019', base: '6.1' },
  compaction: { scenario: 'seed-2019-hotplug', base: '6.1', walkers: ['compaction'] },
  kpageflags_read: { scenario: 'seed-2019-subsection', base: 'v5.3', walkers: ['kpageflags'] },
  memory_failure: { scenario: 'seed-2019', base: 'v5.3', walkers: ['memory_failure'] },
  set_zone_contiguous: { scenario: 'seed-2019', base: '6.1', walkers: ['set_zone_contiguous'] },
  test_pages_in_a_zone: { scenario: 'seed-2019', base: 'v5.3', walkers: ['test_pages_in_a_zone'] },
};

/** One in-order run of the world's tasks: every yield each task performs, and the spans it leaves. */
function inOrder(scenario: BuiltinScenario, design: Design | string, user: Design[], walkers: WalkerName[]): string {
  const w = builtinWorld({ scenario, design, userDesigns: user, walkers });
  const s = new Scheduler(w.checkers);
  const ops: string[] = [];
  for (const t of w.tasks) s.spawn(t.name, t.task);
  for (let t = 0; t < s.taskCount; t++) {
    while (!s.isDone(t)) {
      if (!s.step(t)) break; // blocked: a lock a replacement never dropped
      const y = s.pendingOf(t);
      ops.push(`${s.nameOf(t)}: ${y ? JSON.stringify(y, (k, v: unknown) => (k === 'lock' || k === 'zone' ? undefined : v)) : 'done'}`);
    }
  }
  const spans = (w.machine?.state.nodes ?? []).map((n) => [n.nodeStartPfn, n.nodeSpannedPages, n.zones.map((z) => [z.zoneStartPfn, z.spannedPages, z.presentPages])]);
  return JSON.stringify({ ops, results: w.tasks.map((_, t) => s.result(t)), spans, violations: s.violations.map((v) => v.message) });
}

/** What explore reports (bound 0: every order of whole tasks) and an in-order run, or the world's setup failure. */
function outcome(scenario: BuiltinScenario, design: Design | string, user: Design[], walkers: WalkerName[] = []): string {
  try {
    const r = explore((ctx) => builtinWorld({ scenario, design, userDesigns: user, walkers }, ctx), { preemptionBound: 0 });
    return JSON.stringify({
      interleavings: r.interleavings,
      violations: r.violations.map((v) => ({ invariant: v.invariant, message: v.message, trace: v.trace.map((t) => `${t.name}: ${t.op}`) })),
      run: inOrder(scenario, design, user, walkers),
    });
  } catch (e) {
    return `threw: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mmsim-steps-'));

async function designFile(name: string, base: string, step: string, body: string): Promise<Design> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `export default { name: '${name}', base: '${base}', steps: { *${step}(api, ...args) { ${body} } } };\n`);
  return loadDesignFile(file);
}

describe('every listed step is replaceable by a design file', () => {
  it('the table covers every step, and every step has a kernel version, a signature and a doc', () => {
    expect(Object.keys(WHERE).sort()).toEqual(Object.keys(STEP_DOCS).sort());
    expect(Object.keys(KERNEL_STEPS).sort()).toEqual(Object.keys(STEP_DOCS).sort());
    for (const d of Object.values(STEP_DOCS)) expect(d.signature).toMatch(/^\(m, .*\) => Task<(void|number)>$/);
  });

  for (const step of Object.keys(STEP_DOCS) as (keyof DesignSteps)[]) {
    it(`${step}: a pass-through replacement explores exactly as its base; one that leaves the step out does not`, async () => {
      const { scenario, base, walkers } = WHERE[step];
      const same = await designFile(`same-${step}`, base, step, 'return yield* api.base(...args);');
      // Leaving the step out: it returns at once (0 where it returns a number).
      const none = await designFile(`none-${step}`, base, step, STEP_DOCS[step].signature.endsWith('Task<number>') ? 'return 0;' : 'return;');
      const want = outcome(scenario, base, [], walkers);
      expect(outcome(scenario, same, [same], walkers)).toBe(want);
      expect(outcome(scenario, none, [none], walkers)).not.toBe(want);
    }, 120_000);
  }

  it('the time driver runs a design file: a pass-through of memmap_init_zone_device times as its base, leaving it out does not', async () => {
    const same = join(dir, 'same-time.mjs');
    writeFileSync(same, "export default { name: 'same-time', base: 'v5.3', steps: { *memmap_init_zone_device(api, ...args) { yield* api.base(...args); } } };\n");
    const none = join(dir, 'none-time.mjs');
    writeFileSync(none, "export default { name: 'none-time', base: 'v5.3', steps: { *memmap_init_zone_device(api, m) { yield { op: 'up_write', lock: m.memHotplugLock }; } } };\n");
    const base = (await timeFor('seed-2019', 'v5.3', {})).totalMs;
    expect((await timeFor('seed-2019', same, {})).totalMs).toBe(base);
    expect((await timeFor('seed-2019', none, {})).totalMs).toBeLessThan(base);
  }, 120_000);
});

describe('the example design files, written from real patches', () => {
  it("dont-shrink-zone-device (5.5's remove_pfn_range_from_zone return): seed-2019's zone_spans_pfn race is gone on v5.3", async () => {
    const d = await loadDesignFile('examples/designs/dont-shrink-zone-device.mjs');
    const base = explore((ctx) => builtinWorld({ scenario: 'seed-2019', design: 'v5.3' }, ctx), { preemptionBound: 1 });
    expect(base.violations.map((v) => v.invariant)).toContain('zone_spans_pfn');
    const r = explore((ctx) => builtinWorld({ scenario: 'seed-2019', design: d, userDesigns: [d] }, ctx), { preemptionBound: 1 });
    expect(r.violations.map((v) => v.invariant)).not.toContain('zone_spans_pfn');
  }, 120_000);

  it('serialize-v3-01 (the 2019 hunk as steps) gives every page of the range, reserve included, page->pgmap before mem_hotplug_done, as the built-in serialize does', async () => {
    const d = await loadDesignFile('examples/designs/serialize-v3-01.mjs');
    for (const design of [d, 'serialize'] as const) {
      const w = builtinWorld({ scenario: 'seed-2019', design, userDesigns: [d] });
      const m = w.machine;
      if (!m) throw new Error('no machine');
      // B was remapped in setup: its reserve pfn 0x108000 carries B's pgmap under both.
      const b = m.pgmaps.find((p) => p.start === 0x108000 * 4096);
      expect(b?.initialisedTo).toBe(0x110000);
      const { pagePgmap } = await import('../src/kernel/memremap.js');
      expect(pagePgmap(m, 0x108000)).toBe(b?.address);
    }
    expect(outcome('seed-2019', d, [d])).toBe(outcome('seed-2019', 'serialize', []));
  }, 120_000);

  it("pgmap-pfn-valid (5.12's memory_failure check) on v5.3: the memory_failure walker reads no uninitialised page, as 6.1's does not", async () => {
    const d = await loadDesignFile('examples/designs/pgmap-pfn-valid.mjs');
    const poisonedByWalker = (design: Design | string, user: Design[]): boolean =>
      explore((ctx) => builtinWorld({ scenario: 'seed-2019', design, userDesigns: user, walkers: ['memory_failure'] }, ctx), { preemptionBound: 1 }).violations.some((v) =>
        v.invariant.includes('(memory_failure)'),
      );
    expect(poisonedByWalker('v5.3', [])).toBe(true);
    expect(poisonedByWalker(d, [d])).toBe(false);
    expect(poisonedByWalker('6.1', [])).toBe(false);
    expect(resolveDesign(d, [d]).chain).toEqual(['pgmap-pfn-valid', 'v5.3', '5.3']);
  }, 240_000);
});
