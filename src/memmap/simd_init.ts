// The dense backend's bulk path for 64-byte records with the lru head at offset 8: the same
// records as PageWriter.writeInitRange (template doublewords, lru self-pointers), stored four
// 16-byte lanes a page by a small WebAssembly SIMD routine working in the section's own shared
// memory. Used where WebAssembly SIMD is available; the TypeScript writer is the reference and
// the fallback, and tests hold the two to the same bytes.

/**
 * The module, assembled by hand (no toolchain at build time). Exports init(off, count, lru, c0,
 * c3, c4, c5, c6, c7): for each of `count` records from byte `off`, store (c0, lru), (lru, c3),
 * (c4, c5), (c6, c7) and advance lru by 64. Imports a shared memory "e"."m".
 */
const WASM: readonly number[] = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type section: (i32 i32 i64 i64 i64 i64 i64 i64 i64) -> ()
  0x01, 0x0d, 0x01, 0x60, 0x09, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x00,
  // import section: "e" "m" memory, shared, min 1, max 65536 pages
  0x02, 0x0b, 0x01, 0x01, 0x65, 0x01, 0x6d, 0x02, 0x03, 0x01, 0x80, 0x80, 0x04,
  // function section: one function of type 0
  0x03, 0x02, 0x01, 0x00,
  // export section: "init" = func 0
  0x07, 0x08, 0x01, 0x04, 0x69, 0x6e, 0x69, 0x74, 0x00, 0x00,
];

/** The function body (locals + code), without its size prefix. */
const BODY: readonly number[] = [
  0x02,
  0x04,
  0x7b,
  0x01,
  0x7f, // locals: 4 x v128 (9..12), 1 x i32 (13)
  // vA = (c4, c5) -> local 11
  0x20,
  0x05,
  0xfd,
  0x12,
  0x20,
  0x06,
  0xfd,
  0x1e,
  0x01,
  0x21,
  0x0b,
  // vB = (c6, c7) -> local 12
  0x20,
  0x07,
  0xfd,
  0x12,
  0x20,
  0x08,
  0xfd,
  0x1e,
  0x01,
  0x21,
  0x0c,
  // v0 = splat(c0) -> local 9; v1 = splat(c3) -> local 10
  0x20,
  0x03,
  0xfd,
  0x12,
  0x21,
  0x09,
  0x20,
  0x04,
  0xfd,
  0x12,
  0x21,
  0x0a,
  // end = off + (count << 6) -> local 13
  0x20,
  0x00,
  0x20,
  0x01,
  0x41,
  0x06,
  0x74,
  0x6a,
  0x21,
  0x0d,
  0x02,
  0x40, // block
  0x03,
  0x40, // loop
  0x20,
  0x00,
  0x20,
  0x0d,
  0x4f,
  0x0d,
  0x01, // br_if 1 (off >= end)
  // store (c0, lru) at off
  0x20,
  0x00,
  0x20,
  0x09,
  0x20,
  0x02,
  0xfd,
  0x1e,
  0x01,
  0xfd,
  0x0b,
  0x04,
  0x00,
  // store (lru, c3) at off + 16
  0x20,
  0x00,
  0x20,
  0x0a,
  0x20,
  0x02,
  0xfd,
  0x1e,
  0x00,
  0xfd,
  0x0b,
  0x04,
  0x10,
  // store (c4, c5) at off + 32, (c6, c7) at off + 48
  0x20,
  0x00,
  0x20,
  0x0b,
  0xfd,
  0x0b,
  0x04,
  0x20,
  0x20,
  0x00,
  0x20,
  0x0c,
  0xfd,
  0x0b,
  0x04,
  0x30,
  // lru += 64; off += 64
  0x20,
  0x02,
  0x42,
  0xc0,
  0x00,
  0x7c,
  0x21,
  0x02,
  0x20,
  0x00,
  0x41,
  0xc0,
  0x00,
  0x6a,
  0x21,
  0x00,
  0x0c,
  0x00, // br 0
  0x0b, // end loop
  0x0b, // end block
  0x0b, // end function
];

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const body = [...leb(BODY.length), ...BODY];
  const code = [0x01, ...body];
  return new Uint8Array([...WASM, 0x0a, ...leb(code.length), ...code]);
}

type InitFn = (off: number, count: number, lru: bigint, c0: bigint, c3: bigint, c4: bigint, c5: bigint, c6: bigint, c7: bigint) => void;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD or shared memory is not available. */
export function simdModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = moduleBytes();
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** A shared wasm memory large enough for `bytes`, or null without SIMD support. */
export function simdMemory(bytes: number): WebAssembly.Memory | null {
  if (!simdModule()) return null;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

const instances = new WeakMap<WebAssembly.Memory, InitFn>();

/** The init routine bound to one section's memory. */
export function simdInit(memory: WebAssembly.Memory): InitFn | null {
  let f = instances.get(memory);
  if (f) return f;
  const mod = simdModule();
  if (!mod) return null;
  const inst = new WebAssembly.Instance(mod, { e: { m: memory } });
  f = inst.exports['init'] as InitFn;
  instances.set(memory, f);
  return f;
}
