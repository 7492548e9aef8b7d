// The one per-page init routine (__init_single_page) in the form every caller uses: boot,
// worker threads and (later) hotplug tasks write a struct page through a PageWriter. The
// canonical record comes from page_layout's initSinglePageRecord; a writer caches it per
// (zone, nid) and patches the pfn-dependent words (the lru list head points at the page itself),
// so a page costs 16 word stores.

/** Little-endian 32-bit words of struct page records. */
export interface PageWriter {
  readonly recordBytes: number;
  readonly recordWords: number;
  /** __init_single_page(pfn, zone, nid) into u32[wordOff .. wordOff + recordWords). */
  writeInit(u32: Uint32Array, wordOff: number, pfn: number, zone: number, nid: number): void;
  /** __SetPageReserved: the flags word and bit holding PG_reserved. */
  readonly reservedWord: number;
  readonly reservedMask: number;
}

/** What a writer needs from the struct page layout of a kernel and config. */
export interface PageRecordSource {
  readonly recordBytes: number;
  /** Byte offset of the lru list head (two pointers) in the record. */
  readonly lruOffset: number;
  /** The canonical __init_single_page record for (pfn, zone, nid). */
  writeRecord(dv: DataView, off: number, pfn: number, zone: number, nid: number): void;
  /** Bit number of PG_reserved in page->flags. */
  readonly pgReservedBit: number;
  /** Virtual address of the struct page of pfn 0 (vmemmap base). */
  readonly vmemmapBase: bigint;
}

export function makePageWriter(src: PageRecordSource): PageWriter {
  const words = src.recordBytes / 4;
  const templates = new Map<number, Uint32Array>();
  const lruWord = src.lruOffset / 4;
  const template = (zone: number, nid: number): Uint32Array => {
    const key = zone * 65536 + nid;
    let t = templates.get(key);
    if (!t) {
      const buf = new ArrayBuffer(src.recordBytes);
      src.writeRecord(new DataView(buf), 0, 0, zone, nid);
      t = new Uint32Array(buf);
      templates.set(key, t);
    }
    return t;
  };
  const base = src.vmemmapBase;
  const baseLo = Number(base & 0xffffffffn);
  const baseHi = Number(base >> 32n);
  return {
    recordBytes: src.recordBytes,
    recordWords: words,
    writeInit(u32, wordOff, pfn, zone, nid) {
      const t = template(zone, nid);
      for (let i = 0; i < words; i++) u32[wordOff + i] = t[i] ?? 0;
      // lru.next = lru.prev = &page->lru = base + pfn * recordBytes + lruOffset, as 64-bit words.
      // pfn * recordBytes stays below 2^53, so it splits exactly into 32-bit halves.
      const x = pfn * src.recordBytes + src.lruOffset;
      const xHi = Math.floor(x / 0x100000000);
      const lo = baseLo + (x - xHi * 0x100000000);
      const hi = (baseHi + xHi + (lo >= 0x100000000 ? 1 : 0)) >>> 0;
      const loW = lo >>> 0;
      u32[wordOff + lruWord] = loW;
      u32[wordOff + lruWord + 1] = hi;
      u32[wordOff + lruWord + 2] = loW;
      u32[wordOff + lruWord + 3] = hi;
    },
    reservedWord: Math.floor(src.pgReservedBit / 32),
    reservedMask: (1 << (src.pgReservedBit % 32)) >>> 0,
  };
}
