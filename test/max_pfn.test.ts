// max_pfn after a hot-add (x86 add_pages, arch/x86/mm/init_64.c): update_end_of_memory_vars
// raises it to the range's end when that is higher; from 7170130e4c72 (6.15; stable 6.1.141 and
// 6.12.31, from Debian's changelogs) not for a pgmap. /proc/kpageflags ends there, so on those
// releases a ZONE_DEVICE range above RAM is past the file's end (Debian 6.1.192 under QEMU: every
// read of A's pfns returned 0 bytes, docs/fidelity.md). Expected values worked from the source:
// seed-2019's machine has 1 GiB of RAM (max_pfn 0x40000) and its setup binds K and B, B ending
// at 0x110000.
import { describe, expect, it } from 'vitest';
import { dependent, Recorder, type Footprint } from '../src/drivers/footprint.js';
import { builtinWorld } from '../src/drivers/scenario_world.js';
import { archAddMemory } from '../src/kernel/memory_hotplug.js';
import { kpageflagsReaderKernel } from '../src/kernel/walkers.js';

function world(design: string) {
  const m = builtinWorld({ scenario: 'seed-2019', design, walkers: [] }, { recorder: null }).machine;
  if (!m) throw new Error('no machine');
  return m;
}

function drain<T>(g: Generator<unknown, T, unknown>): { value: T; yields: number } {
  let yields = 0;
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return { value: r.value, yields };
    yields++;
  }
}

describe('max_pfn and ZONE_DEVICE (x86 add_pages)', () => {
  it.each([
    ['5.3.0', 0x110000, 0x208000],
    ['6.1.140', 0x110000, 0x208000],
    ['6.1.141', 0x40000, 0x40000],
    ['6.12.30', 0x110000, 0x208000],
    ['6.12.31', 0x40000, 0x40000],
    ['6.15', 0x40000, 0x40000],
  ])('%s: after the setup binds K and B, max_pfn is %i; a pgmap added at [0x200000, 0x208000) leaves %i', (design, afterSetup, afterPgmap) => {
    const m = world(design);
    expect(m.state.maxPfn).toBe(afterSetup);
    expect(drain(archAddMemory(m, 1, 0x200000, 0x208000, { altmap: null, device: true, selfHosted: false })).value).toBe(0);
    expect(m.state.maxPfn).toBe(afterPgmap);
  });
  it('an add that fails still raises it (add_pages calls update_end_of_memory_vars after __add_pages, failed or not)', () => {
    // [0x10c000, 0x200000) starts inside B's subsections: sparse_add_section's -EEXIST at once.
    for (const [design, after] of [
      ['5.3.0', 0x200000],
      ['6.15', 0x40000],
    ] as const) {
      const m = world(design);
      expect(drain(archAddMemory(m, 1, 0x10c000, 0x200000, { altmap: null, device: true, selfHosted: false })).value).toBe(-17);
      expect(m.state.maxPfn).toBe(after);
    }
  });
  it('RAM raises it on every release; a lower range does not lower it', () => {
    for (const design of ['5.3.0', '6.1.141', '6.15']) {
      const m = world(design);
      drain(archAddMemory(m, 1, 0x200000, 0x208000, { altmap: null, device: false, selfHosted: false }));
      expect(m.state.maxPfn).toBe(0x208000);
      drain(archAddMemory(m, 1, 0x1f0000, 0x1f8000, { altmap: null, device: false, selfHosted: false }));
      expect(m.state.maxPfn).toBe(0x208000);
    }
  });
  it("kpageflags ends at max_pfn: on 5.3.0 the walker reads B's bound pages below it, none past it", () => {
    const m = world('5.3.0');
    // B = [0x108000, 0x110000), bound at setup; its first pageblock is the altmap reserve (never
    // initialised, poisoned), read like every other: one read per pageblock of 512 pfns.
    expect(drain(kpageflagsReaderKernel(m, 0x108000, 0x110000)).value).toBe(0x8000 / 512);
    m.state.maxPfn = 0x10c000;
    expect(drain(kpageflagsReaderKernel(m, 0x108000, 0x110000)).value).toBe(0x4000 / 512);
  });
  it("explore's footprints: the walker reads max_pfn; an add that raises it writes it (dependent), one below it only reads it (independent)", () => {
    const rec = new Recorder();
    const m = rec.instrument(world('5.3.0'));
    const step = (fn: () => void): Footprint => {
      rec.begin();
      fn();
      return rec.end().fp;
    };
    const walk = step(() => void drain(kpageflagsReaderKernel(m, 0x100000, 0x108000)));
    const below = step(() => void drain(archAddMemory(m, 1, 0x80000, 0x88000, { altmap: null, device: false, selfHosted: false })));
    const raise = step(() => void drain(archAddMemory(m, 1, 0x200000, 0x208000, { altmap: null, device: false, selfHosted: false })));
    expect([walk.get('max_pfn'), below.get('max_pfn'), raise.get('max_pfn')]).toEqual(['r', 'r', 'w']);
    expect([dependent(walk, below), dependent(walk, raise)]).toEqual([false, true]);
  });
});
