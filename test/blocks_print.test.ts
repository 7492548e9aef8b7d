// The one way mmsim prints memory blocks (src/formats/blocks-print.ts, issue 22): the kernel's
// "memory%u" device names (drivers/base/memory.c), phys_index as "%08lx", and physical ranges in
// hex with an inclusive end as lsmem's RANGE column prints them. Expected strings worked by hand:
// 128 MiB blocks, so block 32 starts at 32 * 0x8000000 = 0x100000000 (4 GiB).
import { describe, expect, it } from 'vitest';
import { blockLine, blockNames, blockRange, blockSpan, blockSpanName, physRange } from '../src/formats/blocks-print.js';

const M128 = 0x8000000;

describe('blocks-print', () => {
  it('one block: the sysfs directory name and its attribute files', () => {
    expect(blockLine({ id: 33, state: 'online', nid: 1, validZones: 'Movable' })).toBe('memory33 state=online phys_index=00000021 node=1 valid_zones=Movable');
    expect(blockLine({ id: 0, state: 'online', nid: 0, validZones: null })).toBe('memory0 state=online phys_index=00000000 node=0 valid_zones=?');
  });
  it('names: consecutive ids as runs, sorted, each once', () => {
    expect(blockNames([32])).toBe('memory32');
    expect(blockNames([39, 32, 33, 34, 35, 36, 37, 38])).toBe('memory32-39');
    expect(blockNames([32, 33, 34, 36, 36])).toBe('memory32-34,36');
    expect(blockNames([])).toBe('no memory blocks');
  });
  it('ranges: inclusive ends in hex, one per run', () => {
    expect(physRange(0x100000000, 0x140000000)).toBe('0x100000000-0x13fffffff');
    expect(blockRange([32, 33, 34, 35, 36, 37, 38, 39], M128)).toBe('memory32-39 (0x100000000-0x13fffffff)');
    expect(blockRange([32, 36], M128)).toBe('memory32,36 (0x100000000-0x107ffffff, 0x120000000-0x127ffffff)');
    expect(blockSpan(0x100000000, 0x40000000, M128)).toBe('memory32-39 (0x100000000-0x13fffffff)');
    expect(blockSpan(0x100000000, M128, M128)).toBe('memory32 (0x100000000-0x107ffffff)');
    // Not block aligned: the blocks it touches, the range as given.
    expect(blockSpan(0x104000000, M128, M128)).toBe('memory32-33 (0x104000000-0x10bffffff)');
    expect(blockSpanName(0x110000000, M128, M128)).toBe('memory34');
    // A range of 2^20 blocks is named without listing them.
    expect(blockSpan(0, 2 ** 20 * M128, M128)).toBe('memory0-1048575 (0x0-0x7fffffffffff)');
  });
});
