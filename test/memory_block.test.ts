// Memory blocks at boot: the live machine's /sys/devices/system/memory, and valid_zones /
// removable reasoned from drivers/base/memory.c of the versions named.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryDevInit } from '../src/kernel/memory_block.js';
import { bootYaml, cliPath, unless } from './helpers.js';

const SYS = '/sys/devices/system/memory';

describe.skipIf(!existsSync(SYS))(`the live machine${unless(existsSync(SYS), `no ${SYS} on this system`)}`, () => {
  it('--print blocks equals /sys/devices/system/memory on state, phys_index, node and valid_zones', () => {
    const out = execFileSync(process.execPath, [cliPath, 'boot', '--from-live', '--print', 'blocks'], { encoding: 'utf8' });
    const ours = out.trim().split('\n');
    const real = readdirSync(SYS)
      .filter((d) => /^memory\d+$/.test(d))
      .map((d) => Number(d.slice(6)))
      .sort((a, b) => a - b)
      .map((n) => {
        const dir = join(SYS, `memory${n}`);
        const f = (name: string) => readFileSync(join(dir, name), 'utf8').trim();
        const node =
          readdirSync(dir)
            .find((e) => /^node\d+$/.test(e))
            ?.slice(4) ?? '?';
        return `memory${n} state=${f('state')} phys_index=${f('phys_index')} node=${node} valid_zones=${existsSync(join(dir, 'valid_zones')) ? f('valid_zones') : '?'}`;
      });
    expect(ours).toEqual(real);
  });
});

const LOW = `
      - { start: 0x1000, end: 0x9f000 }
      - { start: 0x100000, end: 0xbff00000 }`;

describe('valid_zones of boot blocks', () => {
  const yaml = `
dmaReservePages: 0
nodes:
  - nid: 0
    memory:${LOW}
      - { start: 4G, end: 6G }
  - nid: 1
    memory:
      - { start: 6G, end: 0x1a0000000 }
      - { start: 0x1a8000000, end: 8G }
`;
  it('6.18 (early_node_zone_for_memory_block): block 0 spans DMA and DMA32; holes do not matter', () => {
    const mb = memoryDevInit(bootYaml('6.18', yaml));
    const z = (id: number) => mb.blocks.find((b) => b.id === id)?.validZones;
    expect(mb.blockBytes).toBe(128 * 2 ** 20);
    expect(z(0)).toBe('none');
    expect(z(1)).toBe('DMA32');
    // Block 23 [0xb8000000, 0xc0000000) ends in the PCI hole: still DMA32 only.
    expect(z(23)).toBe('DMA32');
    expect(mb.blocks.some((b) => b.id >= 24 && b.id < 32)).toBe(false);
    // Block 52 [0x1a0000000, 0x1a8000000) is a whole-section hole inside node 1: no block.
    expect(mb.blocks.some((b) => b.id === 52)).toBe(false);
    expect(mb.blocks.find((b) => b.id === 48)).toMatchObject({ nid: 1, nodes: [1], validZones: 'Normal', removable: true });
  });

  it('5.14 (test_pages_in_a_zone): a MAX_ORDER-aligned hole below 4 GiB reads Normal, so block 23 spans two zones', () => {
    // memmap_init attributes [0xbfc00, 0xc0000) to the zone of the next range (Normal); the
    // walk reads the first page of every 1024-page chunk, and 0xbfc00 starts one.
    const mb = memoryDevInit(bootYaml('5.14', yaml.replace('0xbff00000', '0xbfc00000')));
    expect(mb.blocks.find((b) => b.id === 23)?.validZones).toBe('none');
    expect(mb.blocks.find((b) => b.id === 22)?.validZones).toBe('DMA32');
  });

  it('v5.3: holes inside a zone span carry that zone (memmap_init_zone walks the span)', () => {
    const mb = memoryDevInit(bootYaml('5.3', yaml));
    expect(mb.blocks.find((b) => b.id === 23)?.validZones).toBe('DMA32');
    expect(mb.blocks.find((b) => b.id === 0)?.validZones).toBe('none');
  });

  it('v5.3: a block whose last section is half memory reads "none" (the walk leaves the zone span)', () => {
    // test_pages_in_a_zone checks zone_spans_pfn before page_zone: chunk 0x104000 lies past
    // Normal's end, so it returns 0 without reading the uninitialised tail struct pages.
    const mb = memoryDevInit(bootYaml('5.3', `dmaReservePages: 0\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 0x104000000 }] }]\n`));
    const last = mb.blocks[mb.blocks.length - 1];
    expect(last).toMatchObject({ id: 32, validZones: 'none' });
  });

  it('4.16: struct pages no boot step wrote make valid_zones undetermined', () => {
    // 4.15-4.17 allocate the memmap raw and zero only reserved-but-unavailable ranges: pfn 0
    // (not reserved here) is never written, and block 0's walk starts there.
    const mb = memoryDevInit(bootYaml('4.16', `dmaReservePages: 0\nreserved: []\nnodes: [{ nid: 0, memory: [{ start: 0x1000, end: 4G }] }]\n`));
    expect(mb.blocks[0]).toMatchObject({ id: 0, validZones: null });
    expect(mb.notes.get(0)).toMatch(/pfn 0x0 is left uninitialised/);
  });
});

describe('removable', () => {
  it('is 1 for every block from 5.6 on', () => {
    const mb = memoryDevInit(bootYaml('5.6', `dmaReservePages: 0\nnodes: [{ nid: 0, memory: [{ start: 0x100000, end: 4G }] }]\n`));
    expect(mb.blocks.every((b) => b.removable === true)).toBe(true);
  });
  it('before 5.6 it needs memblock.reserved: blocks with reserved pages or holes are not removable', () => {
    const yaml = `
dmaReservePages: 0
reserved:
  - { start: 0x1000000, size: 32M }
nodes: [{ nid: 0, memory: [{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 4G }] }]
`;
    const mb = memoryDevInit(bootYaml('5.3', yaml));
    const r = (id: number) => mb.blocks.find((b) => b.id === id)?.removable;
    expect(r(0)).toBe(false); // holes at pfn 0 and 640K-1M, and the reserved kernel image
    expect(r(1)).toBe(true);
    const unknown = memoryDevInit(bootYaml('5.3', yaml.replace(/reserved:\n.*\n/, '')));
    expect(unknown.blocks.every((b) => b.removable === null)).toBe(true);
  });
});

const hasLsmem = existsSync('/usr/bin/lsmem') && existsSync(SYS);

describe.skipIf(!hasLsmem)(`sysfs export read by the real lsmem${unless(hasLsmem, `no /usr/bin/lsmem or no ${SYS} on this system`)}`, () => {
  it('the live machine exported by mmsim reads exactly like the live /sys for every output mode', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-sysfs-'));
    execFileSync(process.execPath, [cliPath, 'sysfs', 'export', '--from-live', dir], { encoding: 'utf8' });
    for (const opts of [[], ['-o', '+ZONES'], ['--output-all'], ['--split', 'none', '-o', 'RANGE,SIZE'], ['--json', '--output-all'], ['--raw', '--all']]) {
      const ours = execFileSync('lsmem', [...opts, '--sysroot', dir], { encoding: 'utf8' });
      const real = execFileSync('lsmem', opts, { encoding: 'utf8' });
      expect(ours, `lsmem ${opts.join(' ')}`).toBe(real);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
