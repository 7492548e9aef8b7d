// Compound pages in the real record layout, values worked from prep_compound_page (v5.3) and
// prep_compound_tail / folio_set_order (6.18).
import { describe, expect, it } from 'vitest';
import { compoundHead, compoundOrder, prepCompoundHead, prepCompoundTail, TAIL_MAPPING } from '../src/kernel/compound.js';
import { DEFAULT_PAGE_CONFIG_X86_64, initSinglePageRecord } from '../src/kernel/page_layout.js';

const BASE = 0xffffea0000000000n;

for (const version of ['v5.3', '6.18'] as const) {
  describe(`compound pages, ${version}`, () => {
    const cfg = DEFAULT_PAGE_CONFIG_X86_64(version);
    // An order-2 page at pfn 0x1000: four records.
    const buf = new ArrayBuffer(4 * 64);
    const dv = new DataView(buf);
    for (let i = 0; i < 4; i++) initSinglePageRecord(dv, i * 64, 0x1000 + i, 2, 0, cfg, BASE);
    const head = BASE + 0x1000n * 64n;
    prepCompoundHead(dv, 0, dv, 64, 2, cfg);
    for (let i = 1; i < 4; i++) prepCompoundTail(dv, i * 64, head, cfg);

    it('tails point at the head with bit 0 set and carry TAIL_MAPPING', () => {
      expect(dv.getBigUint64(64 + 8, true)).toBe(head + 1n);
      expect(dv.getBigUint64(3 * 64 + 24, true)).toBe(0xdead000000000400n);
      expect(TAIL_MAPPING).toBe(0xdead000000000400n);
      expect(compoundHead(dv, 2 * 64, head + 128n, cfg)).toBe(head);
      expect(compoundHead(dv, 0, head, cfg)).toBe(head);
    });
    it('the head has PG_head (bit 16 in v5.3, 6 in 6.18) and the order sits on the second page', () => {
      const pgHead = version === 'v5.3' ? 16n : 6n;
      expect((dv.getBigUint64(0, true) >> pgHead) & 1n).toBe(1n);
      expect(compoundOrder(dv, 64, cfg)).toBe(2);
      if (version === 'v5.3') {
        // compound_order is the byte after compound_dtor: offset 8 + 8 + 1 = 17, and v5.3
        // prep_compound_page zeroes the tails' _refcount.
        expect(dv.getUint8(64 + 17)).toBe(2);
        expect(dv.getInt32(64 + 52, true)).toBe(0);
      } else {
        // folio->_flags_1 is page[1].flags: its low byte is the order.
        expect(dv.getBigUint64(64, true) & 0xffn).toBe(2n);
      }
    });
  });
}
