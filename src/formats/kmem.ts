// The crash utility's `kmem -n` (crash-utility/crash memory.c at abcb45e7, 2026-08: the node and
// zone table of dump_memory_nodes, the mem_section table of dump_mem_sections, the memory-block
// table of dump_memory_blocks), for a SPARSEMEM kernel. Pure text over plain inputs: widths,
// centring and justification follow crash's mkstring() (tools.c), the separators follow pad_line().
//
// mmsim does not model the kernel virtual addresses of pg_data_t, struct zone, struct mem_section
// or struct memory_block, so the PGLIST_DATA, NODE_ZONES, SECTION and MEM_BLOCK columns print a
// run of dashes as wide as the address would be (KMEM_N_PLACEHOLDER_NOTE says so). Everything else
// (mem_map addresses from the vmemmap base, sizes, paddrs, mapnrs, states, pfns) is what crash
// computes from the same kernel data.

import type { MemoryBlocks } from '../kernel/memory_block.js';
import type { BootState } from '../kernel/mm_init.js';
import { checkListedSections } from './boot-print.js';

/** Line(s) for --explain: what the dashed columns stand for. */
export const KMEM_N_PLACEHOLDER_NOTE =
  'PGLIST_DATA, NODE_ZONES, SECTION and MEM_BLOCK are kernel virtual addresses of pg_data_t, ' +
  'struct zone, struct mem_section and struct memory_block, which mmsim does not model: they are ' +
  'printed as dashes of the address width. BOOTMEM_DATA prints "----" as crash does on kernels ' +
  'without pglist_data.bdata (4.20 and later; mmsim never has one).';

export interface KmemNZone {
  /** Index in pgdat->node_zones (0 = DMA ...). */
  readonly index: number;
  readonly name: string;
  /** zone->spanned_pages: crash's SIZE column. */
  readonly spannedPages: number;
  /** zone->present_pages (not printed by `kmem -n`; kept for callers). */
  readonly presentPages: number;
  /** zone->zone_start_pfn. */
  readonly startPfn: number;
}

export interface KmemNNode {
  readonly nid: number;
  /** node_spanned_pages: crash's node SIZE column. */
  readonly spannedPages: number;
  /** node_present_pages: only feeds the default PADDR_PRLEN (crash's total_node_memory). */
  readonly presentPages?: number;
  readonly startPfn: number;
  /** All MAX_NR_ZONES zones of node_zones[], empty ones included (crash prints each). */
  readonly zones: readonly KmemNZone[];
}

export interface KmemNSectionFlags {
  /** SECTION_MARKED_PRESENT (P). Sections without it are not printed (crash's valid_section_nr). */
  readonly present: boolean;
  /** SECTION_HAS_MEM_MAP (M). */
  readonly hasMemMap: boolean;
  /** SECTION_IS_ONLINE (O). */
  readonly online: boolean;
  /** SECTION_IS_EARLY (E). */
  readonly early: boolean;
  /** SECTION_TAINT_ZONE_DEVICE (D). */
  readonly deviceTainted?: boolean;
}

export interface KmemNSection {
  readonly nr: number;
  /** section_nr_to_pfn(nr). */
  readonly pfn: number;
  readonly flags: KmemNSectionFlags;
  /**
   * section_mem_map & SECTION_MAP_MASK (the encoded mem_map: mem_map - pfn * sizeof(struct page)).
   * Default: vmemmapBase when hasMemMap (what sparse_encode_mem_map gives under
   * SPARSEMEM_VMEMMAP), else 0.
   */
  readonly codedMemMap?: bigint;
  /** sparse_decode_mem_map: default codedMemMap + pfn * structPageBytes, as crash computes it. */
  readonly memMap?: bigint;
}

/** memory_block->state as crash names it (fill_memory_block_state); sysfs spellings are accepted. */
export type KmemNBlockState = string;

export interface KmemNBlock {
  /** memoryN. */
  readonly id: number;
  /** pfn_to_phys(section_nr_to_pfn(start_section_nr)). */
  readonly startPhys: bigint;
  /** memory_block_size_probed: the end crash prints is startPhys + sizeBytes - 1. */
  readonly sizeBytes: bigint;
  /** memory_block->nid. */
  readonly node: number;
  /** 'ONLINE', 'OFFLINE', 'GOING_OFFLINE', ... or sysfs's 'online', 'going-offline'. */
  readonly state: KmemNBlockState;
  readonly startSectionNr: number;
}

export interface KmemNInput {
  readonly nodes: readonly KmemNNode[];
  /** Sections in any order; printed in nr order, present ones only. */
  readonly sections: readonly KmemNSection[];
  /** Memory blocks in the order of the memory bus's device klist (registration order). */
  readonly blocks: readonly KmemNBlock[];
  /** Default 0xffffea0000000000 (x86_64 4-level, nokaslr). */
  readonly vmemmapBase?: bigint;
  /** sizeof(struct page): default 64. */
  readonly structPageBytes?: number;
  /** PAGESIZE(): default 4096. */
  readonly pageBytes?: number;
  /** PAGES_PER_SECTION: default inferred from a section (pfn / nr), else 32768. */
  readonly pagesPerSection?: number;
  /** 64 (VADDR_PRLEN 16, 67-dash separator) or 32 (VADDR_PRLEN 8, 59 dashes). Default 64. */
  readonly pointerBits?: 32 | 64;
  /**
   * PADDR_PRLEN: default strlen("%llx" of total node memory), with total_node_memory() summing
   * present pages (spanned where present is 0), as crash does on SPARSEMEM x86_64.
   */
  readonly paddrPrlen?: number;
  /** pc->output_radix for the section PFN column: 10 (crash's default) or 16. */
  readonly outputRadix?: 10 | 16;
  /**
   * The memory-block table's variant: `nid` (struct memory_block has nid, Linux 5.x+; default
   * true) and `range` (memory_block_size_probed exists, i.e. x86_64, or end_section_nr exists:
   * "PHYSICAL RANGE"; false: "PHYSICAL START" with the start address alone; default true).
   * `show: false` leaves the table out (no struct memory_block / memory_subsys).
   */
  readonly blockTable?: { readonly show?: boolean; readonly nid?: boolean; readonly range?: boolean };
}

// ---------------------------------------------------------------------------------------------
// crash tools.c helpers

/** mkstring's justification flags (crash defs.h LJUST, RJUST, CENTER). */
const J = { LJUST: 1, RJUST: 2, CENTER: 4 } as const;

/** crash tools.c mkstring(): pad s to size; CENTER puts an odd extra space right unless RJUST. */
function mkstring(s: string, size: number, flags: number): string {
  const len = s.length;
  if (size <= len) return s;
  const extra = size - len;
  if (flags & J.CENTER) {
    let left: number;
    let right: number;
    if (extra % 2) {
      if ((flags & (J.LJUST | J.RJUST)) === J.RJUST) {
        right = Math.floor(extra / 2);
        left = right + 1;
      } else {
        left = Math.floor(extra / 2);
        right = left + 1;
      }
    } else {
      left = right = extra / 2;
    }
    return ' '.repeat(left) + s + ' '.repeat(right);
  }
  if (flags & J.LJUST) return s + ' '.repeat(extra);
  if (flags & J.RJUST) return ' '.repeat(extra) + s;
  return s;
}

/** "%lx" of an unsigned long (wrapped to the pointer width). */
function hex(v: bigint | number, bits: number): string {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return BigInt.asUintN(bits, b).toString(16);
}

/** "%lu" of an unsigned long. */
function dec(v: bigint | number, bits: number): string {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return BigInt.asUintN(bits, b).toString(10);
}

const MEM_BLOCK_STATES = ['ONLINE', 'GOING_OFFLINE', 'OFFLINE', 'GOING_ONLINE', 'CANCEL_ONLINE', 'CANCEL_OFFLINE'] as const;

/** crash memory.c fill_memory_block_state: the MEM_* name, or UNKNOWN. */
export function memoryBlockStateName(state: string): string {
  const s = state.toUpperCase().replace(/-/g, '_');
  return (MEM_BLOCK_STATES as readonly string[]).includes(s) ? s : 'UNKNOWN';
}

/** crash memory.c fill_mem_section_state: P, M, O, E, D in that order. */
export function memSectionStateLetters(f: KmemNSectionFlags): string {
  return (f.present ? 'P' : '') + (f.hasMemMap ? 'M' : '') + (f.online ? 'O' : '') + (f.early ? 'E' : '') + (f.deviceTainted ? 'D' : '');
}

interface Ctx {
  readonly bits: number;
  readonly vaddrPrlen: number;
  readonly paddrPrlen: number;
  readonly pageBytes: bigint;
  readonly structPageBytes: bigint;
  readonly pagesPerSection: number;
  readonly radix: 10 | 16;
  /** Present sections by nr, with their coded and decoded mem_map. */
  readonly sections: ReadonlyMap<number, { s: KmemNSection; coded: bigint; memMap: bigint }>;
  readonly placeholder: string;
}

/** crash memory.c vm_init (paddr_prlen via total_node_memory) and sparse_mem_init: the widths and sections. */
function makeCtx(input: KmemNInput): Ctx {
  const bits = input.pointerBits ?? 64;
  const vaddrPrlen = bits === 64 ? 16 : 8;
  const pageBytes = BigInt(input.pageBytes ?? 4096);
  const structPageBytes = BigInt(input.structPageBytes ?? 64);
  const vmemmapBase = input.vmemmapBase ?? 0xffffea0000000000n;
  let pagesPerSection = input.pagesPerSection;
  if (pagesPerSection === undefined) {
    const s = input.sections.find((x) => x.nr > 0);
    pagesPerSection = s ? s.pfn / s.nr : 32768;
  }
  let paddrPrlen = input.paddrPrlen;
  if (paddrPrlen === undefined) {
    let total = 0n;
    for (const n of input.nodes) {
      const pages = n.presentPages ? n.presentPages : n.spannedPages;
      total += BigInt(pages) * pageBytes;
    }
    paddrPrlen = total.toString(16).length;
  }
  const sections = new Map<number, { s: KmemNSection; coded: bigint; memMap: bigint }>();
  for (const s of input.sections) {
    if (!s.flags.present) continue;
    const coded = s.codedMemMap ?? (s.flags.hasMemMap ? vmemmapBase : 0n);
    const memMap = s.memMap ?? coded + BigInt(s.pfn) * structPageBytes;
    sections.set(s.nr, { s, coded, memMap });
  }
  return {
    bits,
    vaddrPrlen,
    paddrPrlen,
    pageBytes,
    structPageBytes,
    pagesPerSection,
    radix: input.outputRadix ?? 10,
    sections,
    placeholder: '-'.repeat(vaddrPrlen),
  };
}

/** crash memory.c pfn_to_map (phys_to_page under SPARSEMEM): the struct page address, or null. */
function pfnToMap(ctx: Ctx, pfn: number): bigint | null {
  const nr = Math.floor(pfn / ctx.pagesPerSection);
  const sec = ctx.sections.get(nr);
  if (!sec || !sec.s.flags.hasMemMap) return null;
  const map = sec.coded + BigInt(nr * ctx.pagesPerSection) * ctx.structPageBytes + BigInt(pfn - nr * ctx.pagesPerSection) * ctx.structPageBytes;
  return map === 0n ? null : map;
}

const NODE_ZONE_HDR = 'ZONE  NAME         SIZE';

/** crash memory.c dump_memory_nodes (the !initialize pass): per node, its zones. */
function dumpMemoryNodes(ctx: Ctx, input: KmemNInput): string {
  let out = '';
  let slen = 0;
  const { bits, vaddrPrlen: V } = ctx;
  input.nodes.forEach((node, n) => {
    if (n) out += '\n' + '-'.repeat(slen);
    const flen = Math.max(V, 'BOOTMEM_DATA'.length);
    out +=
      `${n ? '\n\n' : ''}NODE  ${mkstring('SIZE', 8, J.CENTER)}  ` +
      `${mkstring('PGLIST_DATA', flen, J.CENTER | J.LJUST)}  ` +
      `${mkstring('BOOTMEM_DATA', flen, J.CENTER | J.LJUST)}  ` +
      `${mkstring('NODE_ZONES', flen, J.CENTER | J.LJUST)}\n`;
    const buf1 = mkstring(dec(node.spannedPages, bits), 8, J.CENTER | J.LJUST);
    const buf2 = mkstring(ctx.placeholder, flen, J.CENTER | J.LJUST);
    const buf3 = mkstring('----', flen, J.CENTER);
    const buf4 = mkstring(ctx.placeholder, flen, J.CENTER | J.LJUST);
    out += ` ${String(node.nid).padStart(2)}   ${buf1}  ${buf2}  ${buf3}  ${buf4}\n`;
    const j = 12 + buf1.length + buf2.length + buf3.length + (buf4.length - buf4.trimStart().length);
    for (let i = 1; i < node.zones.length; i++) out += ' '.repeat(j) + ctx.placeholder + '\n';

    // node_mem_map: no pglist_data.node_mem_map under SPARSEMEM, so phys_to_page(node_start_pfn),
    // else BADADDR.
    const nodeMemMap = pfnToMap(ctx, node.startPfn) ?? BigInt.asUintN(bits, -1n);
    out += `${mkstring('MEM_MAP', V, J.CENTER | J.LJUST)}     START_PADDR    START_MAPNR\n`;
    out +=
      `${mkstring(hex(nodeMemMap, bits), V, J.CENTER)}  ` +
      `${mkstring((BigInt(node.startPfn) * ctx.pageBytes).toString(16), '   START_PADDR  '.length, J.CENTER | J.RJUST)}  ` +
      `${mkstring(dec(node.startPfn, bits), 'START_MAPNR'.length, J.CENTER | J.RJUST)}\n`;
    const hdr = `${NODE_ZONE_HDR}  ${mkstring('MEM_MAP', V, J.CENTER | J.RJUST)}  START_PADDR  START_MAPNR`;
    slen = hdr.length;
    out += `\n${hdr}\n`;

    node.zones.forEach((z, i) => {
      const size = z.spannedPages;
      const paddr = BigInt(z.startPfn) * ctx.pageBytes;
      const mapnr = size ? z.startPfn : 0;
      const memMap = size ? (pfnToMap(ctx, z.startPfn) ?? 0n) : 0n;
      out +=
        ` ${String(i).padStart(2)}   ${z.name.padEnd(9)} ${dec(size, bits).padStart(7)}  ` +
        `${mkstring(hex(memMap, bits), V, J.RJUST)}  ` +
        `${mkstring(hex(paddr, bits), 'START_PADDR'.length, J.RJUST)}  ` +
        `${mkstring(dec(mapnr, bits), 'START_MAPNR'.length, J.RJUST)}\n`;
    });
  });
  return out;
}

/** crash memory.c dump_mem_sections (the !initialize pass): the present sections. */
function dumpMemSections(ctx: Ctx): string {
  const { bits, vaddrPrlen: V } = ctx;
  const codedW = Math.max(V, 'CODED_MEM_MAP'.length);
  let out = '\n' + '-'.repeat(bits === 32 ? 59 : 67);
  out +=
    `\n\nNR  ${mkstring('SECTION', V, J.CENTER | J.LJUST)}  ` +
    `${mkstring('CODED_MEM_MAP', codedW, J.CENTER | J.LJUST)}  ` +
    `${mkstring('MEM_MAP', V, J.CENTER | J.LJUST)}  ` +
    `${mkstring('STATE', 'STATE'.length, J.CENTER)} PFN\n`;
  for (const nr of [...ctx.sections.keys()].sort((a, b) => a - b)) {
    const sec = ctx.sections.get(nr);
    if (!sec) continue;
    const pfn = sec.s.pfn;
    const pfnText = ctx.radix === 10 ? dec(pfn, bits) : hex(pfn, bits);
    out +=
      `${dec(nr, bits).padStart(2)}  ${mkstring(ctx.placeholder, V, J.CENTER)}  ` +
      `${mkstring(hex(sec.coded, bits), codedW, J.CENTER | J.RJUST)}  ` +
      `${mkstring(hex(sec.memMap, bits), V, J.CENTER | J.RJUST)}  ` +
      `${mkstring(memSectionStateLetters(sec.s.flags), 'STATE'.length, J.CENTER)} ` +
      `${mkstring(pfnText, V, J.LJUST)}\n`;
  }
  return out;
}

/** crash memory.c fill_memory_block_parange: "start - end", or the centred start alone. */
function blockParange(ctx: Ctx, start: bigint, end: bigint | null): string {
  const P = ctx.paddrPrlen;
  if (end === null) return mkstring(hex(start, ctx.bits), P * 2 + 3, J.CENTER);
  return `${mkstring(hex(start, ctx.bits), P, J.RJUST)} - ${mkstring(hex(end, ctx.bits), P, J.RJUST)}`;
}

/** crash memory.c dump_memory_blocks + print_memory_block: the memory bus's blocks. */
function dumpMemoryBlocks(ctx: Ctx, input: KmemNInput): string {
  const nid = input.blockTable?.nid ?? true;
  const range = input.blockTable?.range ?? true;
  const { vaddrPrlen: V, paddrPrlen: P } = ctx;
  const paddrHdr = range ? 'PHYSICAL RANGE' : 'PHYSICAL START';
  let out: string;
  if (nid) {
    out =
      `\n${mkstring('MEM_BLOCK', V, J.CENTER | J.LJUST)} ${mkstring('NAME', 10, J.CENTER)}   ` +
      `${mkstring(paddrHdr, P * 2 + 2, J.CENTER)}   ${mkstring('NODE', 4, J.CENTER)}  ` +
      `${mkstring('STATE', 'OFFLINE'.length, J.LJUST)} ${mkstring('START_SECTION_NO', 12, J.LJUST)}\n`;
  } else {
    out =
      `\n${mkstring('MEM_BLOCK', V, J.CENTER | J.LJUST)} ${mkstring('NAME', 10, J.CENTER)}   ` +
      `${mkstring(paddrHdr, P * 2, J.CENTER)}    ` +
      `${mkstring('STATE', 'OFFLINE'.length, J.LJUST)} ${mkstring('START_SECTION_NO', 12, J.LJUST)}\n`;
  }
  for (const b of input.blocks) {
    const end = range ? b.startPhys + b.sizeBytes - 1n : null;
    const parange = blockParange(ctx, b.startPhys, end);
    const state = mkstring(memoryBlockStateName(b.state), 'OFFLINE'.length, J.LJUST);
    const srange = mkstring(String(b.startSectionNr), 12, J.LJUST);
    const addr = mkstring(ctx.placeholder, V, J.LJUST);
    if (nid) {
      out += ` ${addr} ${mkstring(`memory${b.id}`, 12, J.CENTER)} ${parange} ` + `${mkstring(String(b.node >>> 0), 4, J.CENTER)}  ${state} ${srange}\n`;
    } else {
      out += ` ${addr} ${mkstring(`memory${b.id}`, 10, J.CENTER)} ${parange}  ${state} ${srange}\n`;
    }
  }
  return out;
}

/** crash memory.c dump_memory_nodes(MEMORY_NODES_DUMP): the whole `kmem -n` output (SPARSEMEM). */
export function formatKmemN(input: KmemNInput): string {
  const ctx = makeCtx(input);
  let out = dumpMemoryNodes(ctx, input);
  out += dumpMemSections(ctx);
  if (input.blockTable?.show ?? true) out += dumpMemoryBlocks(ctx, input);
  return out;
}

/** crash's kmem -n inputs for a machine's state and its memory blocks (in registration order). */
export function kmemNInput(state: BootState, mb: MemoryBlocks): KmemNInput {
  checkListedSections(state, 'kmem -n');
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
