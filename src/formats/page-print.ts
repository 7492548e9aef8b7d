// `mmsim page`: struct pages as drgn prints them (osandov/drgn at a2d50fd6, 2026-08: libdrgn
// language_c.c c_format_pointer_object / c_format_compound_object / c_format_initializer with the
// default DRGN_FORMAT_OBJECT_PRETTY flags), with drgn.helpers.linux.mm.decode_page_flags()'s line,
// and the raw 64 bytes as `xxd -o ADDRESS` (xxd's default -c 16 -g 2, offsets shown as the
// struct page's kernel virtual address).
//
// Each page is printed as a drgn REPL transcript:
//
//   # pfn 0x1000 (4096): node 0, zone DMA32, struct page initialized
//   >>> pfn_to_page(0x1000)
//   *(struct page *)0xffffea0000040000 = {
//   	.flags = (unsigned long)4096,
//   	...
//   }
//   >>> decode_page_flags(pfn_to_page(0x1000))
//   'PG_reserved'
//   # xxd -o 0xffffea0000040000 (raw struct page, 64 bytes)
//   ffffea0000040000: 0010 0000 0000 0000 0800 04ea ffff ffff  ................
//
// Which members: drgn prints every member, flattening anonymous unions and structs (so each
// union alternative of struct page appears). mmsim prints the page cache / anonymous page view
// of the x86_64 struct page of Linux 5.11 and later (64 bytes): .flags, .lru (next, prev),
// .mapping, .index, .private, ._mapcount, ._refcount, .memcg_data, in that order (their offsets
// 0, 8, 16, 24, 32, 40, 48, 52, 56). The other alternatives (__filler/mlock_count,
// buddy_list/pcp_list, page_pool, compound tail, page table, ZONE_DEVICE, rcu_head, page_type)
// are left out; each is a re-reading of the same 64 bytes shown in the hex dump. Values use
// drgn's formats: unsigned integers in decimal, signed in decimal with '-', pointers as
// (type *)0x%x, one member per line, one tab per nesting level.

/** Line for --explain: what `mmsim page` prints and leaves out. */
export const PAGE_PRINT_NOTE =
  'struct page as drgn prints it (PRETTY flags), reduced to the page cache/anonymous view of the ' +
  'x86_64 Linux 5.11+ layout: flags, lru, mapping, index, private, _mapcount, _refcount, memcg_data. ' +
  'drgn also prints every other union member (page_pool, compound tail, ZONE_DEVICE, rcu_head, ' +
  'page_type...), each a re-reading of the same 64 bytes shown by the xxd dump.';

export type PageMemmapState = 'initialized' | 'poisoned' | 'zeroed' | 'stale';

export interface PageFields {
  /** page->flags (unsigned long). */
  readonly flags: bigint;
  readonly lruNext: bigint;
  readonly lruPrev: bigint;
  /** page->mapping (struct address_space *). */
  readonly mapping: bigint;
  /** page->index (pgoff_t). */
  readonly index: bigint;
  readonly private: bigint;
  /** page->_mapcount.counter (int; -1 when unmapped). */
  readonly mapcount: number;
  /** page->_refcount.counter (int). */
  readonly refcount: number;
  /** page->memcg_data (unsigned long). */
  readonly memcgData: bigint;
}

export interface PageView {
  readonly pfn: number;
  /** The struct page's address (vmemmap + pfn * sizeof(struct page)). */
  readonly address: bigint;
  /** The 64 bytes of the struct page (dense mode), printed as an xxd dump when present. */
  readonly raw?: Uint8Array;
  readonly fields: PageFields;
  /** decode_page_flags(page) already decoded, e.g. "PG_reserved" ("0" for no flags). */
  readonly flagNames: string;
  readonly zone: string;
  readonly nid: number;
  /** What the memmap holds for this pfn: written by init, poisoned, zeroed, or stale. */
  readonly state: PageMemmapState;
}

export interface FormatPagesOptions {
  /** Print the `# pfn ...` comment line and the `>>>` prompts (default true). */
  readonly repl?: boolean;
  /** Print the xxd dump of raw when present (default true). */
  readonly hex?: boolean;
}

/** Member offsets of the printed view (x86_64, Linux 5.11+). */
export const STRUCT_PAGE_LAYOUT = {
  flags: 0,
  lruNext: 8,
  lruPrev: 16,
  mapping: 24,
  index: 32,
  private: 40,
  mapcount: 48,
  refcount: 52,
  memcgData: 56,
  size: 64,
} as const;

/**
 * drgn Object.read_() of the members above from the little-endian record (x86_64): 64 bytes, or
 * 56 for a kernel without the memcg word (CONFIG_MEMCG off and no aligned struct page), where
 * memcg_data reads as 0.
 */
export function pageFieldsFromRaw(raw: Uint8Array): PageFields {
  if (raw.length < 56) throw new RangeError(`struct page needs at least 56 bytes, got ${raw.length}`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const u64 = (off: number): bigint => dv.getBigUint64(off, true);
  const L = STRUCT_PAGE_LAYOUT;
  return {
    flags: u64(L.flags),
    lruNext: u64(L.lruNext),
    lruPrev: u64(L.lruPrev),
    mapping: u64(L.mapping),
    index: u64(L.index),
    private: u64(L.private),
    mapcount: dv.getInt32(L.mapcount, true),
    refcount: dv.getInt32(L.refcount, true),
    memcgData: raw.length >= L.memcgData + 8 ? u64(L.memcgData) : 0n,
  };
}

/** drgn c_format_int_object, unsigned, base 10: "%" PRIu64. */
function u64(v: bigint): string {
  return BigInt.asUintN(64, v).toString(10);
}

/** drgn c_format_pointer_object without dereference: "0x%" PRIx64. */
function ptr(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** drgn c_format_int_object, signed int, base 10: "%" PRId64 of the sign-extended value. */
function i32(v: number): string {
  return String(v | 0);
}

/** drgn's Object formatting (c_format_pointer_object + c_format_compound_object, PRETTY flags). */
export function formatStructPage(address: bigint, f: PageFields): string {
  const t = '\t';
  return (
    `*(struct page *)${ptr(address)} = {\n` +
    `${t}.flags = (unsigned long)${u64(f.flags)},\n` +
    `${t}.lru = (struct list_head){\n` +
    `${t}${t}.next = (struct list_head *)${ptr(f.lruNext)},\n` +
    `${t}${t}.prev = (struct list_head *)${ptr(f.lruPrev)},\n` +
    `${t}},\n` +
    `${t}.mapping = (struct address_space *)${ptr(f.mapping)},\n` +
    `${t}.index = (pgoff_t)${u64(f.index)},\n` +
    `${t}.private = (unsigned long)${u64(f.private)},\n` +
    `${t}._mapcount = (atomic_t){\n` +
    `${t}${t}.counter = (int)${i32(f.mapcount)},\n` +
    `${t}},\n` +
    `${t}._refcount = (atomic_t){\n` +
    `${t}${t}.counter = (int)${i32(f.refcount)},\n` +
    `${t}},\n` +
    `${t}.memcg_data = (unsigned long)${u64(f.memcgData)},\n` +
    `}`
  );
}

/** xxd -o OFFSET (xxd.c's default layout): "%08lx:", 8 groups of 2 bytes, two spaces, ASCII. */
export function xxdDump(bytes: Uint8Array, offset: bigint): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 16) {
    const line = bytes.subarray(i, i + 16);
    let hexPart = '';
    let ascii = '';
    for (let j = 0; j < 16; j++) {
      if (j % 2 === 0) hexPart += ' ';
      const b = line[j];
      if (b === undefined) {
        hexPart += '  ';
        continue;
      }
      hexPart += b.toString(16).padStart(2, '0');
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    out += `${(offset + BigInt(i)).toString(16).padStart(8, '0')}:${hexPart}  ${ascii}\n`;
  }
  return out;
}

/** drgn helpers/linux/mm.py decode_page_flags, as the REPL echoes its str: 'PG_a|PG_b'. */
function pyStr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** drgn CLI _displayhook of pfn_to_page(pfn) and decode_page_flags(page), then xxd -o: one page. */
export function formatPage(page: PageView, opts: FormatPagesOptions = {}): string {
  const repl = opts.repl ?? true;
  const hex = opts.hex ?? true;
  const pfnHex = '0x' + page.pfn.toString(16);
  let out = '';
  if (repl) {
    out += `# pfn ${pfnHex} (${page.pfn}): node ${page.nid}, zone ${page.zone}, struct page ${page.state}\n`;
    out += `>>> pfn_to_page(${pfnHex})\n`;
  }
  out += formatStructPage(page.address, page.fields) + '\n';
  if (repl) out += `>>> decode_page_flags(pfn_to_page(${pfnHex}))\n`;
  out += pyStr(page.flagNames) + '\n';
  if (hex && page.raw) {
    out += `# xxd -o ${ptr(page.address)} (raw struct page, ${page.raw.length} bytes)\n`;
    out += xxdDump(page.raw, page.address);
  }
  return out;
}

/** drgn REPL transcript of a run of pages (PFN[-PFN]): formatPage each, a blank line between. */
export function formatPages(pages: readonly PageView[], opts: FormatPagesOptions = {}): string {
  return pages.map((p) => formatPage(p, opts)).join('\n');
}
