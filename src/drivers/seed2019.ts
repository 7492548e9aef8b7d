// The seed-2019 scenario (issue 8, built-in; its layout also in docs/architecture.md): one node
// with 1 GiB of RAM; two 128 MiB persistent-memory namespaces mapped with --map=dev (an altmap
// of 2 reserve pfns and 1022 memmap pfns each), A at 4 GiB and B right above it. B is already
// mapped; A is being memremapped while B is destroyed. CONFIG_DEBUG_VM with page_init_poison but
// not DEBUG_VM_PGFLAGS, as in the 5.4-rc4 report: a poisoned struct page reads as all-ones fields
// (a false answer), the checkers that fire are the kernel's own assertions and bad_range.
import { loadMachineYaml } from '../formats/machine-yaml.js';
import { archFor } from '../arch/index.js';
import { freeAreaInit } from '../kernel/mm_init.js';
import { profileForOption } from '../profiles/profile.js';
import { designProfile, DESIGNS } from './designs.js';
import { HotplugMachine } from '../kernel/memory_hotplug.js';
import { memoryDevInit } from '../kernel/memory_block.js';
import { devicePageChecker, hotplugCheckers, pageblockZoneChecker, pageCountChecker, zoneSpanChecker } from '../kernel/debug.js';
import { memremapPages, memunmapPages, pgmapAddress, VmemAltmap, type DevPagemap } from '../kernel/memremap.js';
import { memmapBoot } from '../memmap/boot.js';
import { ExtentMemmap } from '../memmap/extent.js';
import { pageWriterFor } from '../memmap/source.js';
import { Scheduler } from './scheduler.js';
import type { World } from './explore.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A fresh seed-2019 world for a design (v5.3, serialize, no-shrink, 6.1, current) or a kernel release. */
export function seed2019World(design: string): World {
  const { spec } = loadMachineYaml('seed-2019', 'nodes:\n  - { nid: 0, cpus: 2, memory: [{ start: 0x100000, end: 1G }] }\n');
  const profile = DESIGNS.some((d) => d.name === design) ? designProfile(design).profile : profileForOption(design);
  const state = freeAreaInit(archFor(spec, profile), profile, spec);
  const store = new ExtentMemmap({ pagesPerSection: state.sparse.pagesPerSection, writer: pageWriterFor(state), seed: 1 });
  memmapBoot(state, store, { poison: true, runDeferred: true });
  const m = new HotplugMachine(state, store, memoryDevInit(state));
  m.pageInitPoisoning = true;
  const namespace = (name: string, start: number): DevPagemap => ({
    name,
    type: 'fsdax',
    start,
    end: start + 128 * MiB - 1,
    // nd_pfn_init for 128 MiB --map=dev at 2 MiB alignment: dataoff 4 MiB, reserve 2, free 1022.
    altmap: new VmemAltmap(start / 4096, 2, 1022),
    vmemmapShift: 0,
    address: pgmapAddress(m),
    nid: 0,
    initialisedTo: 0,
    live: true,
  });
  const b = namespace('pmem1', 4 * GiB + 128 * MiB);
  const setup = new Scheduler(hotplugCheckers(m));
  setup.spawn('memremap B', memremapPages(m, b));
  setup.runInOrder();
  if (setup.violations.length) throw new Error(`seed-2019 setup: ${setup.violations[0]?.message}`);
  const a = namespace('pmem0', 4 * GiB);
  return {
    tasks: [
      { name: 'memremap A', task: memremapPages(m, a) },
      { name: 'memunmap B', task: memunmapPages(m, b) },
    ],
    checkers: [zoneSpanChecker(m), pageCountChecker(m), pageblockZoneChecker(m), devicePageChecker(m)],
  };
}
