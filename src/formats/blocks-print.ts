// Memory blocks as mmsim prints them everywhere (boot and run views, run step headers, errors,
// explore traces, verify): the kernel's own names and sysfs attributes. drivers/base/memory.c
// registers each block as the device "memory%u" with phys_index "%08lx" (its block id), state,
// a node link and valid_zones; a run of consecutive blocks is "memoryA-B" and its physical range is
// printed in hex with an inclusive end, as lsmem's RANGE column and /proc/iomem print ranges.

/** What one block line shows. */
export interface BlockLineFields {
  readonly id: number;
  readonly state: string;
  readonly nid: number;
  /** valid_zones as the kernel prints it; null where it cannot be determined ("?"). */
  readonly validZones: string | null;
}

/**
 * One block, named as its sysfs directory with its attributes as their files name them:
 * "memory33 state=online phys_index=00000021 node=1 valid_zones=Movable" (the QEMU oracle's
 * guest report prints the real sysfs in this form, so the two compare line for line).
 */
export function blockLine(b: BlockLineFields): string {
  return `memory${b.id} state=${b.state} phys_index=${b.id.toString(16).padStart(8, '0')} node=${b.nid} valid_zones=${b.validZones ?? '?'}`;
}

/** Block ids as runs of consecutive ids (sorted, each once): [32, 33, 34, 36] -> [[32, 34], [36, 36]]. */
function runs(ids: readonly number[]): [number, number][] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const id of sorted) {
    const last = out[out.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

/** Block names: "memory32", "memory32-39", "memory32-34,36" (runs of consecutive ids). */
export function blockNames(ids: readonly number[]): string {
  if (!ids.length) return 'no memory blocks';
  return `memory${runs(ids)
    .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
    .join(',')}`;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** A physical range [start, end) as lsmem and /proc/iomem print it: "0x100000000-0x13fffffff". */
export function physRange(start: number, end: number): string {
  return `${hex(start)}-${hex(end - 1)}`;
}

/** Blocks with their physical ranges: "memory32-39 (0x100000000-0x13fffffff)", "memory32,36 (0x100000000-0x107ffffff, 0x120000000-0x127ffffff)". */
export function blockRange(ids: readonly number[], blockBytes: number): string {
  if (!ids.length) return blockNames(ids);
  return `${blockNames(ids)} (${runs(ids)
    .map(([a, b]) => physRange(a * blockBytes, (b + 1) * blockBytes))
    .join(', ')})`;
}

/** The blocks a physical range [start, start + size) touches: "memory32-39" (never expanded, however many blocks). */
export function blockSpanName(start: number, size: number, blockBytes: number): string {
  if (size <= 0) return 'no memory blocks';
  const first = Math.floor(start / blockBytes);
  const last = Math.ceil((start + size) / blockBytes) - 1;
  return `memory${first === last ? first : `${first}-${last}`}`;
}

/** A physical range [start, start + size) with the blocks it touches: "memory32-39 (0x100000000-0x13fffffff)". */
export function blockSpan(start: number, size: number, blockBytes: number): string {
  if (size <= 0) return `no memory blocks (${hex(start)}, size 0)`;
  return `${blockSpanName(start, size, blockBytes)} (${physRange(start, start + size)})`;
}
