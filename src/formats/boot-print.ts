// Output of `mmsim boot`: the kernel log lines, /proc/zoneinfo, or JSON of the booted state.
import { blockLine } from './blocks-print.js';
import { printNodes } from './nodes-print.js';
import { printBootZoneinfo, zoneinfoLayoutFor } from './zoneinfo-print.js';
import type { BootState } from '../kernel/mm_init.js';
import { memoryDevInit, type MemoryBlocks } from '../kernel/memory_block.js';
import { InputError } from '../errors.js';

export const PRINT_FORMATS = ['dmesg', 'zoneinfo', 'blocks', 'json', 'nodes'] as const;
export type PrintFormat = (typeof PRINT_FORMATS)[number];

export interface PrintOptions {
  readonly explain: boolean;
  readonly sources: readonly string[];
}

/**
 * The most sections `--print json` (and kmem -n) lists one by one: 2^20, twice the 2^19
 * sections of a 4-level x86_64 machine's whole physical address space. The model keeps sections
 * as runs; only these listings cost one entry per section.
 */
export const MAX_LISTED_SECTIONS = 2 ** 20;

/** Refuse a listing of every section of a machine with more than MAX_LISTED_SECTIONS of them. */
export function checkListedSections(state: BootState, what: string): void {
  const n = state.sparse.presentSectionCount();
  if (n > MAX_LISTED_SECTIONS) {
    throw new InputError(`${what} lists each of the machine's ${n} present sections, more than ${MAX_LISTED_SECTIONS}; print dmesg, zoneinfo or blocks instead`);
  }
}

export function bootJson(state: BootState): object {
  checkListedSections(state, '--print json');
  const page = 2 ** state.arch.pageShift;
  return {
    kernel: { release: state.profile.release.release, basis: state.profile.basis, features: state.profile.features },
    maxPfn: state.maxPfn,
    zoneRanges: state.zoneNames.map((name, i) => ({
      zone: name,
      startPfn: state.archZoneLowestPfn[i],
      endPfn: state.archZoneHighestPfn[i],
    })),
    zoneMovablePfn: Object.fromEntries([...state.zoneMovablePfn].filter(([, p]) => p > 0)),
    memblock: state.regions.map((r) => ({ nid: r.nid, startPfn: r.start, endPfn: r.end })),
    nodes: state.nodes.map((n) => ({
      nid: n.nodeId,
      online: n.online,
      memoryless: n.memoryless,
      cpus: n.cpus,
      nodeStartPfn: n.nodeStartPfn,
      nodeSpannedPages: n.nodeSpannedPages,
      nodePresentPages: n.nodePresentPages,
      zones: n.zones.map((z) => ({
        zone: z.name,
        zoneStartPfn: z.zoneStartPfn,
        spannedPages: z.spannedPages,
        presentPages: z.presentPages,
        absentPages: z.spannedPages - z.presentPages,
        bootManagedPages: z.managedPages,
      })),
    })),
    sections: Array.from(state.sparse.eachSection(), (s) => ({
      nr: s.sectionNr,
      nid: s.nid,
      startPfn: s.sectionNr * state.sparse.pagesPerSection,
      flags: [s.present && 'present', s.hasMemMap && 'has_mem_map', s.online && 'online', s.early && 'early'].filter(Boolean),
      subsectionMap: '0x' + s.subsectionMap.toString(16).padStart(16, '0'),
    })),
    dmaReservePages: state.dmaReservePages,
    totalPages: state.totalPages,
    memoryBlockBytes: state.memoryBlockBytes,
    memoryBlockSizeMiB: state.memoryBlockBytes / (1024 * 1024),
    pageBytes: page,
  };
}

export function printBoot(state: BootState, formats: readonly PrintFormat[], opts: PrintOptions): string {
  const parts: string[] = [];
  // One memory_dev_init for the blocks and their notes (a 64 TiB s390x machine has 524 227 blocks).
  const blocks = formats.includes('blocks') ? memoryDevInit(state) : null;
  for (const f of formats) {
    if (f === 'dmesg') parts.push(state.log.lines().join('\n') + '\n');
    else if (f === 'zoneinfo') parts.push(printBootZoneinfo(state));
    else if (f === 'blocks') parts.push(printBlocks(blocks ?? memoryDevInit(state)));
    else if (f === 'nodes') parts.push(printNodes(state));
    else parts.push(JSON.stringify(bootJson(state), null, 2) + '\n');
  }
  if (opts.explain) {
    const ex: string[] = [];
    ex.push(`# machine: ${opts.sources.join('; ')}`);
    ex.push(`# kernel profile: ${state.profile.release.release} (${state.profile.basis})`);
    for (const n of state.profile.notes) ex.push(`#   ${n}`);
    for (const o of state.log.omissions()) ex.push(`# left out: "${o.what}": ${o.why}`);
    if (blocks) for (const [id, why] of blocks.notes) ex.push(`# memory${id}: ${why}`);
    if (formats.includes('zoneinfo')) {
      ex.push(`# zoneinfo layout: ${zoneinfoLayoutFor(state).version}; counters other than spanned, present, start_pfn${state.spec.reserved ? ', managed' : ''} print 0`);
    }
    parts.push(ex.join('\n') + '\n');
  }
  return parts.join('');
}

/** One line per memory block (blockLine: "memoryN state=S phys_index=XXXXXXXX node=N valid_zones=Z", "?" where undetermined). */
export function printBlocks(mb: MemoryBlocks): string {
  return mb.blocks.length ? mb.blocks.map(blockLine).join('\n') + '\n' : '';
}
