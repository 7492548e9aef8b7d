// The one per-page init routine (__init_single_page) in the form every caller uses: boot,
// worker threads and (later) hotplug tasks write a struct page through a PageWriter. The
// canonical record comes from the struct page layout (a PageRecordSource); a writer caches it
// per (zone, nid) and patches the pfn-dependent words (the lru list head points at the page
// itself), so a page costs ten stores. A writer can be sent to a worker thread as its
// templates, and the worker writes through the same code.

/** Little-endian 32-bit words of struct page records. */
export interface PageWriter {
  readonly recordBytes: number;
  readonly recordWords: number;
  /** __init_single_page(pfn, zone, nid) into u32[wordOff .. wordOff + recordWords). */
  writeInit(u32: Uint32Array, wordOff: number, pfn: number, zone: number, nid: number): void;
  /** The same for `count` consecutive pfns from `pfn`, records back to back from `wordOff`. */
  writeInitRange(u32: Uint32Array, wordOff: number, pfn: number, count: number, zone: number, nid: number): void;
  /** __SetPageReserved: the flags word and bit holding PG_reserved. */
  readonly reservedWord: number;
  readonly reservedMask: number;
  /** The word holding page->page_type (the _mapcount union). */
  readonly pageTypeWord: number;
  /**
   * For 64-byte records with the lru head at 8: the arguments of the SIMD bulk path (the lru
   * address of `pfn` and template doublewords 0, 3..7); null for other record shapes.
   */
  simdArgs(pfn: number, zone: number, nid: number): [bigint, bigint, bigint, bigint, bigint, bigint, bigint] | null;
  /** The writer as plain data for a worker thread, with the templates of these (zone, nid). */
  serialize(keys: readonly (readonly [number, number])[]): SerializedWriter;
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
  /** Byte offset of page->page_type. */
  readonly pageTypeOffset?: number;
  /** Virtual address of the struct page of pfn 0 (vmemmap base). */
  readonly vmemmapBase: bigint;
}

export interface SerializedWriter {
  readonly recordBytes: number;
  readonly lruOffset: number;
  readonly pgReservedBit: number;
  readonly pageTypeOffset: number;
  readonly baseLo: number;
  readonly baseHi: number;
  /** [zone, nid, the record at pfn 0 as words]. */
  readonly templates: readonly (readonly [number, number, readonly number[]])[];
}

const key = (zone: number, nid: number): number => zone * 65536 + nid;

function writerFrom(
  recordBytes: number,
  lruOffset: number,
  pgReservedBit: number,
  pageTypeOffset: number,
  baseLo: number,
  baseHi: number,
  template: (zone: number, nid: number) => Uint32Array,
): PageWriter {
  const words = recordBytes / 4;
  const lruWord = lruOffset / 4;
  /** &page->lru of pfn as (lo, hi) 32-bit halves; pfn * recordBytes stays below 2^53. */
  const lruAddr = (pfn: number): [number, number] => {
    const x = pfn * recordBytes + lruOffset;
    const xHi = Math.floor(x / 0x100000000);
    const lo = baseLo + (x - xHi * 0x100000000);
    return [lo >>> 0, (baseHi + xHi + (lo >= 0x100000000 ? 1 : 0)) >>> 0];
  };
  const writeInitRange = (u32: Uint32Array, wordOff: number, pfn: number, count: number, zone: number, nid: number): void => {
    if (count <= 0) return;
    const t = template(zone, nid);
    let [lo, hi] = lruAddr(pfn);
    if (words === 16 && lruWord === 2 && (u32.byteOffset + wordOff * 4) % 8 === 0) {
      // 64-byte records with the lru head at 8 (x86_64, arm64, s390x): the six constant
      // doublewords as 64-bit stores of the template, the lru pointers as 32-bit halves.
      const q = new BigUint64Array(u32.buffer, u32.byteOffset, Math.floor(u32.length / 2));
      const t64 = new BigUint64Array(t.buffer, t.byteOffset, 8);
      const c0 = t64[0] as bigint;
      const c3 = t64[3] as bigint;
      const c4 = t64[4] as bigint;
      const c5 = t64[5] as bigint;
      const c6 = t64[6] as bigint;
      const c7 = t64[7] as bigint;
      for (let i = 0, o = wordOff / 2; i < count; i++, o += 8) {
        q[o] = c0;
        q[o + 3] = c3;
        q[o + 4] = c4;
        q[o + 5] = c5;
        q[o + 6] = c6;
        q[o + 7] = c7;
        const w = o * 2;
        u32[w + 2] = lo;
        u32[w + 3] = hi;
        u32[w + 4] = lo;
        u32[w + 5] = hi;
        lo += recordBytes;
        if (lo > 0xffffffff) {
          lo -= 0x100000000;
          hi = (hi + 1) >>> 0;
        }
      }
      return;
    }
    // Any other record shape: the template word by word, then the lru self-pointers.
    for (let i = 0, off = wordOff; i < count; i++, off += words) {
      for (let w = 0; w < words; w++) u32[off + w] = t[w] as number;
      u32[off + lruWord] = lo;
      u32[off + lruWord + 1] = hi;
      u32[off + lruWord + 2] = lo;
      u32[off + lruWord + 3] = hi;
      // The next page's lru is recordBytes further on: carry into the high word.
      lo += recordBytes;
      if (lo > 0xffffffff) {
        lo -= 0x100000000;
        hi = (hi + 1) >>> 0;
      }
    }
  };
  return {
    recordBytes,
    recordWords: words,
    writeInit(u32, wordOff, pfn, zone, nid) {
      writeInitRange(u32, wordOff, pfn, 1, zone, nid);
    },
    writeInitRange,
    reservedWord: Math.floor(pgReservedBit / 32),
    reservedMask: (1 << (pgReservedBit % 32)) >>> 0,
    pageTypeWord: pageTypeOffset / 4,
    simdArgs(pfn, zone, nid) {
      if (words !== 16 || lruWord !== 2) return null;
      const t = template(zone, nid);
      const q = new BigUint64Array(t.buffer, t.byteOffset, 8);
      const [lo, hi] = lruAddr(pfn);
      const lru = (BigInt(hi) << 32n) | BigInt(lo);
      return [lru, q[0] ?? 0n, q[3] ?? 0n, q[4] ?? 0n, q[5] ?? 0n, q[6] ?? 0n, q[7] ?? 0n];
    },
    serialize(keys) {
      return {
        recordBytes,
        lruOffset,
        pgReservedBit,
        pageTypeOffset,
        baseLo,
        baseHi,
        templates: keys.map(([z, n]) => [z, n, [...template(z, n)]] as const),
      };
    },
  };
}

export function makePageWriter(src: PageRecordSource): PageWriter {
  const templates = new Map<number, Uint32Array>();
  const template = (zone: number, nid: number): Uint32Array => {
    let t = templates.get(key(zone, nid));
    if (!t) {
      const buf = new ArrayBuffer(src.recordBytes);
      src.writeRecord(new DataView(buf), 0, 0, zone, nid);
      t = new Uint32Array(buf);
      templates.set(key(zone, nid), t);
    }
    return t;
  };
  return writerFrom(
    src.recordBytes,
    src.lruOffset,
    src.pgReservedBit,
    src.pageTypeOffset ?? (src.recordBytes === 64 ? 48 : src.recordBytes - 16),
    Number(src.vmemmapBase & 0xffffffffn),
    Number(src.vmemmapBase >> 32n),
    template,
  );
}

/** A writer rebuilt from serialize(): the same writeInit, for worker threads. */
export function pageWriterFromSerialized(s: SerializedWriter): PageWriter {
  const templates = new Map<number, Uint32Array>(s.templates.map(([z, n, w]) => [key(z, n), Uint32Array.from(w)]));
  return writerFrom(s.recordBytes, s.lruOffset, s.pgReservedBit, s.pageTypeOffset, s.baseLo, s.baseHi, (zone, nid) => {
    const t = templates.get(key(zone, nid));
    if (!t) throw new Error(`no struct page template for zone ${zone} node ${nid} in this worker`);
    return t;
  });
}
