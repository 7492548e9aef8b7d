// `mmsim demo`: the built-in example machine, booted and printed.
import { archFor } from '../arch/index.js';
import { loadMachineYaml } from '../formats/machine-yaml.js';
import { freeAreaInit } from '../kernel/mm_init.js';
import { profileForOption } from '../profiles/profile.js';
import { printBoot } from '../formats/boot-print.js';

/**
 * Four nodes, each with 96 GiB of DRAM and 3 TiB of persistent memory (e820 type 12, not
 * memblock memory: it becomes ZONE_DEVICE through memremap_pages later). Node 0 holds the
 * legacy low memory with the usual PC holes.
 */
export const DEMO_MACHINE_YAML = `name: demo-4node-pmem
kernel: "6.18"
hypervisor: null
cmdline: ""
nodes:
  - nid: 0
    cpus: 4
    memory:
      - { start: 0x1000, end: 0x9f000 }
      - { start: 0x100000, end: 0x7ff00000 }
      - { start: 4G, end: 98G }
    pmem:
      - { start: 392G, size: 3T }
  - nid: 1
    cpus: 4
    memory:
      - { start: 98G, size: 96G }
    pmem:
      - { start: 3464G, size: 3T }
  - nid: 2
    cpus: 4
    memory:
      - { start: 194G, size: 96G }
    pmem:
      - { start: 6536G, size: 3T }
  - nid: 3
    cpus: 4
    memory:
      - { start: 290G, size: 96G }
    pmem:
      - { start: 9608G, size: 3T }
`;

export function runDemo(kernel: string): string {
  const { spec } = loadMachineYaml('<demo>', DEMO_MACHINE_YAML);
  const profile = profileForOption(kernel);
  const state = freeAreaInit(archFor(spec, profile), profile, spec);
  return printBoot(state, ['dmesg', 'zoneinfo'], { explain: false, sources: ['built-in demo machine'] });
}
