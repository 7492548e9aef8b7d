// Memory block devices at boot (drivers/base/memory.c memory_dev_init, add_memory_block;
// drivers/base/node.c register_memory_blocks_under_node_early; 6.18 and v5.3). Leaves out
// hotplugged blocks, memory groups and offline blocks' zone lists (the hotplug issue).
import type { ZoneName } from '../arch/arch.js';
import { InputError } from '../errors.js';
import type { BootState } from './mm_init.js';
import type { Bytes, Nid, Pfn } from '../units.js';

export type MemoryBlockState = 'online' | 'offline' | 'going-offline';

export interface MemoryBlock {
  /** Block id (memoryN) = start_section_nr / sections_per_block. */
  readonly id: number;
  readonly startSectionNr: number;
  readonly startPfn: Pfn;
  readonly nrPages: number;
  state: MemoryBlockState;
  /** mem->nid: the last node linked to the block. */
  nid: Nid;
  /** Every node the block is linked under (the nodeN links), in link order. */
  readonly nodes: Nid[];
  /**
   * valid_zones of an online block: the zone name, 'none' when the block spans zones, or null
   * when the answer depends on struct pages the kernel left uninitialised (not derivable).
   */
  validZones: ZoneName | 'none' | null;
  /** removable: true/false, or null where the old heuristic needs what the inputs lack. */
  removable: boolean | null;
  /** arch_get_memory_phys_device: 0 on x86. */
  physDevice: number;
  /** An observed valid_zones text that is not a single zone name (e.g. "Normal Movable"). */
  validZonesText?: string;
}

export interface MemoryBlocks {
  readonly blockBytes: Bytes;
  readonly sectionsPerBlock: number;
  readonly blocks: readonly MemoryBlock[];
  /** auto_online_blocks: the default online type for hot-added memory. */
  readonly autoOnlineBlocks: string;
  /** Why a value was left undetermined, per block id. */
  readonly notes: ReadonlyMap<number, string>;
}

/** memory_dev_init + node_dev_init for boot memory: one online block per block with a present section. */
export function memoryDevInit(state: BootState): MemoryBlocks {
  const { sparse, profile } = state;
  const sectionsPerBlock = state.memoryBlockBytes / (sparse.pagesPerSection * 2 ** state.arch.pageShift);
  const pagesPerBlock = sectionsPerBlock * sparse.pagesPerSection;
  // Runs are sorted and disjoint, so blocks come out in id order (a block two runs share once).
  const blocks: MemoryBlock[] = [];
  for (const run of sparse.runs) {
    if (!run.present) continue;
    let id = Math.floor(run.startNr / sectionsPerBlock);
    if (blocks.length > 0 && (blocks[blocks.length - 1]?.id ?? -1) >= id) id = (blocks[blocks.length - 1]?.id ?? -1) + 1;
    for (; id * sectionsPerBlock < run.endNr; id++) {
      blocks.push({
        id,
        startSectionNr: id * sectionsPerBlock,
        startPfn: id * pagesPerBlock,
        nrPages: pagesPerBlock,
        state: 'online',
        nid: -1,
        nodes: [],
        validZones: null,
        removable: null,
        physDevice: 0,
      });
    }
  }
  // register_memory_blocks_under_node_early, node by node: link every block a memblock region
  // of the node touches; memory_block_add_nid_early keeps the last node.
  const firstNidOf: Nid[] = [];
  for (const node of state.nodes) {
    for (const r of state.regions) {
      if (r.nid !== node.nodeId) continue;
      const last = Math.floor((r.end - 1) / pagesPerBlock);
      for (let i = blockIndexAtOrAfter(blocks, Math.floor(r.start / pagesPerBlock)); i < blocks.length; i++) {
        const mem = blocks[i];
        if (!mem || mem.id > last) break;
        if (!mem.nodes.includes(node.nodeId)) mem.nodes.push(node.nodeId);
        if (mem.nid === -1) firstNidOf[i] = node.nodeId;
        mem.nid = node.nodeId;
      }
    }
  }
  const notes = new Map<number, string>();
  for (const [i, mem] of blocks.entries()) {
    if (profile.features.blockZone === 'zone-intersects') {
      mem.validZones = mem.nodes.length > 1 ? 'none' : earlyNodeZoneForMemoryBlock(state, mem, firstNidOf[i] ?? mem.nid);
    } else {
      const walked = testPagesInAZone(state, mem);
      mem.validZones = walked.zone;
      if (walked.why) notes.set(mem.id, walked.why);
    }
    if (profile.features.removableAlwaysOne) mem.removable = true;
    else {
      const r = removableByReserved(state, mem);
      mem.removable = r;
      if (r === null) notes.set(mem.id, `${notes.get(mem.id) ? notes.get(mem.id) + '; ' : ''}removable needs memblock.reserved (is_mem_section_removable)`);
    }
  }
  applyObserved(state, blocks, notes);
  return {
    blockBytes: state.memoryBlockBytes,
    sectionsPerBlock,
    blocks,
    autoOnlineBlocks: state.spec.boot.memhpDefaultState ?? state.spec.config.autoOnlineBlocks,
    notes,
  };
}

/** The index of the first block whose id is at least `id` (blocks.length if none): blocks are in id order. */
function blockIndexAtOrAfter(blocks: readonly MemoryBlock[], id: number): number {
  let lo = 0;
  let hi = blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((blocks[mid]?.id ?? Infinity) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** early_node_zone_for_memory_block (5.18+): the only populated zone of the node that intersects the block. */
function earlyNodeZoneForMemoryBlock(state: BootState, mem: MemoryBlock, nid: Nid): ZoneName | 'none' {
  const node = state.nodes.find((n) => n.nodeId === nid);
  let match: ZoneName | null = null;
  for (const z of node?.zones ?? []) {
    if (!z.presentPages) continue;
    const zs = z.zoneStartPfn;
    const ze = zs + z.spannedPages;
    if (ze <= mem.startPfn || zs >= mem.startPfn + mem.nrPages) continue;
    if (match !== null) return 'none';
    match = z.name;
  }
  return match ?? 'none';
}

/**
 * test_pages_in_a_zone (before 5.18): page_zone() of the first page of every MAX_ORDER chunk in
 * the block's present sections must be one zone. Struct-page zone links come from the boot
 * memmap writes the model recorded; a chunk no boot step initialised makes the answer unknown.
 */
function testPagesInAZone(state: BootState, mem: MemoryBlock): { zone: ZoneName | 'none' | null; why?: string } {
  const { sparse } = state;
  const chunk = state.arch.maxOrderNrPages;
  let zone: { zoneIdx: number; nid: Nid } | null = null;
  const end = mem.startPfn + mem.nrPages;
  const spans = (z: { zoneIdx: number; nid: Nid }, pfn: Pfn): boolean => {
    const zs = state.nodes.find((n) => n.nodeId === z.nid)?.zones[z.zoneIdx];
    return zs !== undefined && zs.zoneStartPfn <= pfn && pfn < zs.zoneStartPfn + zs.spannedPages;
  };
  for (let sec = mem.startSectionNr; sec * sparse.pagesPerSection < end; sec++) {
    if (!sparse.runOf(sec)?.present) continue;
    const secStart = sec * sparse.pagesPerSection;
    for (let pfn = secStart; pfn < secStart + sparse.pagesPerSection; pfn += chunk) {
      if (zone !== null && !spans(zone, pfn)) return { zone: 'none' };
      const link = state.memmapLinks.linkAt(pfn);
      if (link === null) {
        return { zone: null, why: `struct page of pfn 0x${pfn.toString(16)} is left uninitialised at boot by this kernel` };
      }
      if (zone !== null && (link.zoneIdx !== zone.zoneIdx || link.nid !== zone.nid)) return { zone: 'none' };
      zone = link;
    }
  }
  return { zone: zone === null ? 'none' : (state.zoneNames[zone.zoneIdx] ?? 'none') };
}

/**
 * removable before 5.6 (is_mem_section_removable at boot): every pageblock free or movable.
 * Right after boot a pageblock holding a reserved page (PageReserved: kernel image, memmap,
 * firmware) or a hole is not; the rest is free. Needs memblock.reserved.
 */
function removableByReserved(state: BootState, mem: MemoryBlock): boolean | null {
  const reserved = state.spec.reserved;
  if (reserved === null) return null;
  const page = 2 ** state.arch.pageShift;
  const s = mem.startPfn * page;
  const e = (mem.startPfn + mem.nrPages) * page;
  if (reserved.some((r) => r.base < e && r.base + r.size > s)) return false;
  // Holes: pfns of the block's present sections that are not memblock memory are reserved pages.
  let covered = 0;
  for (const r of state.regions) covered += Math.max(0, Math.min(r.end, mem.startPfn + mem.nrPages) - Math.max(r.start, mem.startPfn));
  return covered === mem.nrPages;
}

/** Observed attributes (machine.observedBlocks) replace the derived ones, block by block. */
function applyObserved(state: BootState, blocks: readonly MemoryBlock[], notes: Map<number, string>): void {
  const { spec } = state;
  if (spec.observedBlockBytes !== undefined && spec.observedBlockBytes !== state.memoryBlockBytes) {
    throw new InputError(
      `${spec.name}: observed block size 0x${spec.observedBlockBytes.toString(16)} differs from the model's 0x${state.memoryBlockBytes.toString(16)} for this machine and kernel; check arch, kernel and config (s390x: rzmBytes)`,
    );
  }
  for (const o of spec.observedBlocks ?? []) {
    const mem = blocks[blockIndexAtOrAfter(blocks, o.id)];
    if (mem?.id !== o.id) throw new InputError(`${spec.name}: observed block memory${o.id} has no present section in this machine`);
    if (o.state !== undefined) mem.state = o.state;
    if (o.removable !== undefined) mem.removable = o.removable;
    if (o.physDevice !== undefined) mem.physDevice = o.physDevice;
    if (o.nodes !== undefined) {
      mem.nodes.splice(0, mem.nodes.length, ...o.nodes);
      mem.nid = o.nodes[o.nodes.length - 1] ?? mem.nid;
    }
    if (o.validZones !== undefined) {
      const z = state.zoneNames.find((n) => n === o.validZones);
      mem.validZones = o.validZones === 'none' ? 'none' : (z ?? null);
      if (!z && o.validZones !== 'none') mem.validZonesText = o.validZones;
    }
    notes.delete(o.id);
  }
}
