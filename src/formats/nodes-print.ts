// /sys/devices/system/node as the model knows it (drivers/base/node.c: show_node_state prints a
// node_states[] mask as "%*pbl", e.g. "0-1,3"; node_read_meminfo the per-node meminfo lines).
// The masks come from the nodes' zones as boot (free_area_init, check_for_memory) and hotplug
// (online_pages / offline_pages: node_states_set_node, node_states_clear_node; __try_online_node,
// try_offline_node) leave them. Per node, only MemTotal is modelled (si_meminfo_node: the node's
// managed pages), and only where every zone's managed count is known; MemFree and the other
// meminfo lines need the allocator's state, which the model does not keep.
import type { ZoneAtBoot } from '../kernel/machine.js';
import type { BootState } from '../kernel/mm_init.js';
import type { PglistData, Zone } from '../kernel/mmzone.js';
import { releaseCode, versionCode } from '../profiles/release.js';
import { zoneinfoManagedPages } from './zoneinfo-print.js';

/** bitmap_print_to_pagebuf(list=true) of a node mask: ranges of consecutive ids, comma-separated. */
export function nodeMaskList(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The node_states[] masks /sys/devices/system/node shows (has_high_memory only with HIGHMEM). */
export interface NodeStates {
  readonly possible: number[];
  readonly online: number[];
  readonly hasNormalMemory: number[];
  /** N_HIGH_MEMORY: a file only with CONFIG_HIGHMEM (a HighMem zone); null without. */
  readonly hasHighMemory: number[] | null;
  readonly hasMemory: number[];
  readonly hasCpu: number[];
}

/** Has the node present pages in a zone at or below zoneName (ZONE_NORMAL, ZONE_HIGHMEM)? */
function populatedUpTo(state: BootState, zones: readonly { zoneIdx: number; presentPages: number }[], zoneName: 'Normal' | 'HighMem'): boolean {
  const last = state.zoneNames.indexOf(zoneName);
  return zones.some((z) => z.zoneIdx <= last && z.presentPages > 0);
}

/**
 * The masks now. N_MEMORY: node_present_pages at boot (free_area_init); online_pages sets it for
 * a node's first memory (node_states_check_changes_online), offline_pages clears it when the
 * pages going are all the node has (node_states_check_changes_offline; memmap_on_memory's vmemmap
 * pages are unaccounted first, memory_block_offline) — so it follows the node's present pages.
 * N_NORMAL_MEMORY: check_for_memory at boot (the first populated zone below ZONE_MOVABLE is at or
 * below ZONE_NORMAL); hotplug sets it when pages go online into a zone at or below ZONE_NORMAL and
 * clears it when the last of them go (6.1 mm/memory_hotplug.c) — so it follows those zones'
 * present pages. 6.17+ hotplug no longer touches N_NORMAL_MEMORY ("mm,memory_hotplug: remove
 * status_change_nid_normal", posted 2025-06; absent from the 6.18.2 tree, the 6.17 bracket
 * unverified): the mask stays as boot left it (bootZones). N_HIGH_MEMORY (HIGHMEM kernels, no
 * hotplug on 32-bit) as check_for_memory sets it. N_ONLINE: PglistData.online. N_CPU: nodes with
 * CPUs. N_POSSIBLE: every node the machine describes (x86 numa_nodes_parsed).
 */
export function nodeStates(state: BootState, bootZones?: ReadonlyMap<Zone, ZoneAtBoot>): NodeStates {
  const nodes = state.nodes;
  const frozenNormal = releaseCode(state.profile.release) >= versionCode(6, 17) && bootZones !== undefined;
  const normal = (n: PglistData): boolean =>
    frozenNormal
      ? populatedUpTo(
          state,
          n.zones.map((z) => ({ zoneIdx: z.zoneIdx, presentPages: bootZones.get(z)?.presentPages ?? 0 })),
          'Normal',
        )
      : populatedUpTo(state, n.zones, 'Normal');
  const highmem = state.zoneNames.includes('HighMem');
  return {
    possible: nodes.map((n) => n.nodeId),
    online: nodes.filter((n) => n.online).map((n) => n.nodeId),
    hasNormalMemory: nodes.filter(normal).map((n) => n.nodeId),
    hasHighMemory: highmem ? nodes.filter((n) => populatedUpTo(state, n.zones, 'HighMem')).map((n) => n.nodeId) : null,
    hasMemory: nodes.filter((n) => n.nodePresentPages > 0).map((n) => n.nodeId),
    hasCpu: nodes.filter((n) => n.cpus > 0).map((n) => n.nodeId),
  };
}

/** The mask files in drivers/base/node.c's node_state_attrs order, "name: mask" (has_generic_initiator left out). */
export function nodeStateLines(s: NodeStates): string[] {
  const files: [string, number[] | null][] = [
    ['possible', s.possible],
    ['online', s.online],
    ['has_normal_memory', s.hasNormalMemory],
    ['has_high_memory', s.hasHighMemory],
    ['has_memory', s.hasMemory],
    ['has_cpu', s.hasCpu],
  ];
  return files.filter((f): f is [string, number[]] => f[1] !== null).map(([name, ids]) => `${name}: ${nodeMaskList(ids)}`.trimEnd());
}

/** `--print nodes`: the masks, then each online node's meminfo MemTotal line where modelled. */
export function printNodes(state: BootState, bootZones?: ReadonlyMap<Zone, ZoneAtBoot>): string {
  const lines = nodeStateLines(nodeStates(state, bootZones));
  const kib = 2 ** state.arch.pageShift / 1024;
  const unknown: number[] = [];
  for (const n of state.nodes) {
    if (!n.online) continue; // node_dev_init registers online nodes only
    const managed = n.zones.map((z) => zoneinfoManagedPages(state, z, bootZones));
    if (managed.some((x) => x === null)) {
      unknown.push(n.nodeId);
      continue;
    }
    const total = managed.reduce<number>((a, b) => a + (b ?? 0), 0) * kib;
    lines.push(`node${n.nodeId}/meminfo: Node ${n.nodeId} MemTotal:       ${String(total).padStart(8)} kB`);
  }
  if (unknown.length) lines.push(`# node${unknown.length > 1 ? 's' : ''} ${nodeMaskList(unknown)} MemTotal: not modelled (boot's managed pages need memblock.reserved, a machine's "reserved:")`);
  lines.push('# MemFree and the other meminfo lines: not modelled (no allocator state)');
  return lines.join('\n') + '\n';
}
