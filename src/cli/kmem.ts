// `mmsim kmem -n`: crash's kmem -n tables for a booted machine, from the model's nodes, zones,
// sections and memory blocks.
import { formatKmemN, KMEM_N_PLACEHOLDER_NOTE, type KmemNInput } from '../formats/kmem.js';
import type { MemoryBlocks } from '../kernel/memory_block.js';
import type { BootState } from '../kernel/mm_init.js';

export function kmemNInput(state: BootState, mb: MemoryBlocks): KmemNInput {
  const pps = state.sparse.pagesPerSection;
  return {
    nodes: state.nodes
      .filter((n) => n.online)
      .map((n) => ({
        nid: n.nodeId,
        spannedPages: n.nodeSpannedPages,
        presentPages: n.nodePresentPages,
        startPfn: n.nodeStartPfn,
        zones: n.zones.map((z) => ({ index: z.zoneIdx, name: z.name, spannedPages: z.spannedPages, presentPages: z.presentPages, startPfn: z.zoneStartPfn })),
      })),
    sections: [...state.sparse.sections.values()].map((s) => ({
      nr: s.sectionNr,
      pfn: s.sectionNr * pps,
      flags: { present: s.present, hasMemMap: s.hasMemMap, online: s.online, early: s.early, deviceTainted: s.deviceTainted },
    })),
    blocks: mb.blocks.map((b) => ({
      id: b.id,
      startPhys: BigInt(b.startPfn) * BigInt(2 ** state.arch.pageShift),
      sizeBytes: BigInt(mb.blockBytes),
      node: b.nid,
      state: b.state,
      startSectionNr: b.startSectionNr,
    })),
    structPageBytes: state.arch.structPageBytes,
    pageBytes: 2 ** state.arch.pageShift,
    pagesPerSection: pps,
    pointerBits: state.arch.is64bit ? 64 : 32,
    blockTable: { show: state.arch.sparsemem, range: state.arch.name === 'x86_64' },
  };
}

export function kmemN(state: BootState, mb: MemoryBlocks, explain: boolean): string {
  const text = formatKmemN(kmemNInput(state, mb));
  return explain ? `${text}# ${KMEM_N_PLACEHOLDER_NOTE}\n` : text;
}
