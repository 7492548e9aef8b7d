// Units used throughout the model. Plain numbers (a pfn fits in 2^53 for every modelled
// MAX_PHYSMEM_BITS), named so that a signature says which unit it takes.

/** A page frame number. */
export type Pfn = number;
/** A physical byte address. */
export type PhysAddr = number;
/** A count of base pages. */
export type NrPages = number;
/** A count of bytes. */
export type Bytes = number;
/** A NUMA node id. */
export type Nid = number;

/** A half-open pfn range [start, end). */
export interface PfnRange {
  readonly start: Pfn;
  readonly end: Pfn;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** round_up for power-of-two or arbitrary alignments (numbers stay exact below 2^53). */
export function roundUp(v: number, align: number): number {
  return Math.ceil(v / align) * align;
}

export function roundDown(v: number, align: number): number {
  return Math.floor(v / align) * align;
}

/** rounddown_pow_of_two(n) for n >= 1. */
export function rounddownPowOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}
