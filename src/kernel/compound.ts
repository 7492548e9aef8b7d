// Compound pages in struct page records: prep_compound_page (v5.3 mm/page_alloc.c) and
// prep_compound_head / prep_compound_tail / folio_set_order (6.18 mm/internal.h). x86_64
// (POISON_POINTER_DELTA = CONFIG_ILLEGAL_POINTER_VALUE 0xdead000000000000); leaves out the
// compound destructor and mapcount words of the head's second page beyond the order, and
// the folio's _nr_pages/_large_mapcount.
import { pageFlagBits, structPageLayout, type PageConfig } from './page_layout.js';

export const POISON_POINTER_DELTA = 0xdead000000000000n;
/** TAIL_MAPPING: page->mapping of a tail page. */
export const TAIL_MAPPING = 0x400n + POISON_POINTER_DELTA;

function offset(cfg: PageConfig, name: string): number {
  const f = structPageLayout(cfg).fields.get(name);
  if (!f) throw new Error(`struct page of ${cfg.version} has no member ${name}`);
  return f.offset;
}

/** prep_compound_tail: mapping = TAIL_MAPPING, compound_head = head | 1 (v5.3 also zeroes _refcount; 6.18 zeroes private). */
export function prepCompoundTail(dv: DataView, off: number, headAddress: bigint, cfg: PageConfig): void {
  dv.setBigUint64(off + offset(cfg, 'mapping'), TAIL_MAPPING, true);
  dv.setBigUint64(off + offset(cfg, 'compound_head'), headAddress + 1n, true);
  if (cfg.version === 'v5.3') dv.setInt32(off + offset(cfg, '_refcount'), 0, true);
  else dv.setBigUint64(off + offset(cfg, 'private'), 0n, true);
}

/** Where the order is: folio->_flags_1's low byte from 6.6, else page[1].compound_order (v5.3 to 6.5; 6.1's folio->_folio_order, byte 17). */
function orderInFlags1(cfg: PageConfig): boolean {
  return cfg.orderInFlags1 ?? (cfg.version === '6.12' || cfg.version === '6.18');
}

/** __SetPageHead on the head and the order on the second page (set_compound_order / folio_set_order). */
export function prepCompoundHead(head: DataView, headOff: number, second: DataView, secondOff: number, order: number, cfg: PageConfig): void {
  const bit = BigInt(pageFlagBits(cfg).get('PG_head') ?? 6);
  head.setBigUint64(headOff, head.getBigUint64(headOff, true) | (1n << bit), true);
  if (!orderInFlags1(cfg)) {
    // struct { unsigned long compound_head; unsigned char compound_dtor; unsigned char compound_order; ... } at lru
    second.setUint8(secondOff + offset(cfg, 'compound_head') + 9, order);
  } else {
    const flags1 = second.getBigUint64(secondOff, true);
    second.setBigUint64(secondOff, (flags1 & ~0xffn) | BigInt(order), true);
  }
}

/** compound_head(page): the head's address for a tail page, else the page's own. */
export function compoundHead(dv: DataView, off: number, ownAddress: bigint, cfg: PageConfig): bigint {
  const v = dv.getBigUint64(off + offset(cfg, 'compound_head'), true);
  return v & 1n ? v - 1n : ownAddress;
}

/** compound_order of a head page, read from its second page. */
export function compoundOrder(second: DataView, secondOff: number, cfg: PageConfig): number {
  if (!orderInFlags1(cfg)) return second.getUint8(secondOff + offset(cfg, 'compound_head') + 9);
  return Number(second.getBigUint64(secondOff, true) & 0xffn);
}
