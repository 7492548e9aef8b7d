// RAM hotplug on the 6.1 profile against the real Linux 6.1 kernel under QEMU
// (../shared/qemu-oracle/golden/dimm and dimm-zones): the same steps, then every reported
// zone's spanned, present and start_pfn, the hot-added zones' managed pages, and every memory
// block's state, node and valid_zones must match the kernel's report at each step.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blocksView, bootMachine } from '../src/drivers/run.js';
import { Scheduler } from '../src/drivers/scheduler.js';
import { mightSleepChecker } from '../src/kernel/debug.js';
import { hotplugCheckers } from '../src/kernel/debug.js';
import { parseZoneinfo, zoneField } from '../src/formats/zoneinfo.js';
import { printBootZoneinfo } from '../src/formats/zoneinfo-print.js';
import { addMemory, offlineBlock, onlineBlock, removeMemory, type OnlineType } from '../src/kernel/memory_hotplug.js';
import type { Machine } from '../src/kernel/machine.js';
import type { ScenarioStep } from '../src/formats/scenario.js';
import { pageWriterFor } from '../src/kernel/memmap_source.js';
import { root, unless } from './helpers.js';
import { expectReport, golden, goldenMachine, section, steps } from './golden.js';

/** Run one operation under the run driver with the debug checkers on; none may fire. */
function run(m: Machine, task: ReturnType<typeof onlineBlock>): number {
  const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
  const id = s.spawn('op', task);
  s.runInOrder();
  expect(s.violations.map((v) => v.message)).toEqual([]);
  return s.result(id) as number;
}

/** A one-node, 2 GiB machine booted with its memmap, ready for hotplug. */
async function smallMachine(kernel: string): Promise<Machine> {
  const { machineYaml } = await import('./helpers.js');
  return machineYaml(kernel, 'dmaReservePages: 0\nnodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }]\n');
}

for (const name of ['dimm', 'dimm-zones']) {
  const file = join(golden, name, 'steps.txt');
  describe.skipIf(!existsSync(file))(`QEMU 6.1 golden: ${name}${unless(existsSync(file), `no ${file}`)}`, () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const all = steps(text);
    // The golden kernel leaves hot-added blocks offline (auto_online_blocks=offline).
    const m = goldenMachine(all);
    // The real run refused memory32's offline (EBUSY): nothing declares it here; the model's rule
    // (the first block into a CPU node's empty ZONE_NORMAL takes the kernel's allocations) must.
    let size = 0;

    it('follows every step and matches every report', () => {
      let reports = 0;
      for (const st of all.slice(1)) {
        const h = st.header;
        let mm: RegExpExecArray | null;
        if ((mm = /^QMP object-add .*"size": (\d+)/.exec(h))) size = Number(mm[1]);
        else if ((mm = /^QMP device_add .*"driver": "pc-dimm".*"node": (\d+)/.exec(h))) {
          // QEMU places the first DIMM at 4 GiB (query-memory-devices: addr 4294967296).
          expect(run(m, addMemory(m, Number(mm[1]), 2 ** 32, size))).toBe(0);
        } else if (h === 'QMP query-memory-devices') {
          // The dimm run logs the plugged device (address, size, node) instead of device_add.
          const dev = JSON.parse(st.lines.find((l) => l.startsWith('{')) ?? '{}') as { addr?: number; size?: number; node?: number };
          if (dev.addr !== undefined && dev.size !== undefined && dev.node !== undefined && m.blocks.size < 20) {
            expect(run(m, addMemory(m, dev.node, dev.addr, dev.size))).toBe(0);
          }
        } else if ((mm = /^(?:state (\w+) -> memory(\d+)\.\.memory(\d+)|(online_movable|offline) blocks(?: (\d+)\.\.(\d+))?) failures=(\d+)/.exec(h))) {
          const type = (mm[1] ?? mm[4]) as OnlineType | 'offline';
          // "offline blocks" without a range means the hot-added ones (32..39).
          const first = Number(mm[2] ?? mm[5] ?? 32);
          const last = Number(mm[3] ?? mm[6] ?? 39);
          let failures = 0;
          for (let id = first; id <= last; id++) {
            const rc = type === 'offline' ? run(m, offlineBlock(m, id)) : run(m, onlineBlock(m, id, type));
            if (rc !== 0) failures++;
          }
          expect(failures, h).toBe(Number(mm[7]));
        } else if (/\$ oracle-report/.test(h) && !/^(initial report|boot)/.test(h) && !/device_del/.test(h)) {
          reports++;
          expectReport(m, st.lines, h);
        }
      }
      expect(reports).toBeGreaterThanOrEqual(name === 'dimm' ? 2 : 8);
    });
  });
}

describe('hotplug errors leave the machine as it was', () => {
  it('EINVAL for misaligned or repeated operations, EEXIST for present memory, EBUSY for unmovable kernel-zone blocks', async () => {
    const { machineYaml } = await import('./helpers.js');
    const m = machineYaml('6.1', 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }]\n');
    const { state, store } = m;
    // Everything an operation may touch, the struct pages of the hot-add range included (one record
    // per pageblock plus both ends of each block, where a partial write would show).
    const rec = new Uint8Array(pageWriterFor(state).recordBytes);
    const pages = () => {
      const out: string[] = [];
      for (let pfn = 0x100000; pfn < 0x100000 + 2 ** 16; pfn += 512) {
        for (const p of [pfn, pfn + 511]) out.push(store.readRecord(p, rec) ? `${store.stateOf(p)}:${Buffer.from(rec).toString('hex')}` : '-');
      }
      return out;
    };
    const snapshot = () => JSON.stringify({ nodes: state.nodes, runs: state.sparse.runs, blocks: [...m.blocks.values()], pages: pages() });
    const before = snapshot();
    expect(run(m, addMemory(m, 0, 2 ** 32 + 4096, 2 ** 27))).toBe(-22);
    expect(run(m, addMemory(m, 0, 2 ** 30, 2 ** 27))).toBe(-17);
    expect(snapshot()).toBe(before);
    expect(run(m, addMemory(m, 0, 2 ** 32, 2 ** 28))).toBe(0);
    expect(run(m, onlineBlock(m, 32, 'online'))).toBe(0);
    expect(run(m, onlineBlock(m, 32, 'online'))).toBe(-22);
    m.unmovableBlocks.add(32);
    const online = snapshot();
    expect(run(m, offlineBlock(m, 32))).toBe(-16);
    expect(snapshot()).toBe(online);
    expect(m.zoneByName(0, 'Normal')).toMatchObject({ zoneStartPfn: 0x100000, spannedPages: 32768, presentPages: 32768 });
  });
});

describe("the kernel's own allocations (which hot-added block they pin)", () => {
  // GFP_KERNEL allocations take the local node's highest kernel zone first (build_zonelists) and
  // onlined pages go to the free lists' tail (FPI_TO_TAIL, 5.10+): the block that first brings RAM
  // into a CPU node's empty ZONE_NORMAL holds unmovable pages; real runs: memory32 EBUSY on 6.1
  // (dimm-zones) and 6.12 (dimm-remove auto-onlined). Worked by hand on a 2 GiB node (no Normal at boot).
  it('the first block into an empty Normal zone of a node with CPUs is refused offline (EBUSY); the next blocks, Movable and a CPU-less node are not', async () => {
    const { machineYaml } = await import('./helpers.js');
    const two = 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 1G }] }, { nid: 1, cpus: 0, memory: [{ start: 1G, end: 2G }] }]\n';
    const m = machineYaml('6.1', two);
    expect(run(m, addMemory(m, 0, 2 ** 32, 2 ** 28))).toBe(0); // memory32-33, node 0
    expect(run(m, onlineBlock(m, 33, 'online_movable'))).toBe(0);
    expect(run(m, onlineBlock(m, 32, 'online_kernel'))).toBe(0);
    expect(run(m, offlineBlock(m, 33))).toBe(0); // Movable: never pinned
    expect(run(m, onlineBlock(m, 33, 'online_kernel'))).toBe(0); // Normal already has RAM
    expect(run(m, offlineBlock(m, 33))).toBe(0);
    expect(run(m, offlineBlock(m, 32))).toBe(-16);
    expect(run(m, addMemory(m, 1, 2 ** 32 + 2 ** 28, 2 ** 27))).toBe(0); // memory34, node 1 (no CPUs)
    expect(run(m, onlineBlock(m, 34, 'online_kernel'))).toBe(0);
    expect(run(m, offlineBlock(m, 34))).toBe(0);
  });
});

describe('a step over several blocks', () => {
  it('writes each block in turn, as the shell loop verify runs in the guest: memory32 refused (EBUSY), memory33 still offlined, the step fails at memory32', async () => {
    const { machineYaml } = await import('./helpers.js');
    const { applyStep, ExpectFailed } = await import('../src/drivers/run.js');
    const m = machineYaml('6.1', 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }]\n');
    const range = [{ first: 32, last: 33 }];
    applyStep(m, { add: { node: 0, start: 2 ** 32, size: 2 ** 28 } } as ScenarioStep, 'f:1:1', 'step 1', [], () => undefined);
    applyStep(m, { online: { blocks: range, type: 'online_kernel' } }, 'f:2:1', 'step 2', [], () => undefined);
    const out: string[] = [];
    expect(() => applyStep(m, { offline: { blocks: range } }, 'f:3:1', 'step 3', [], (s) => out.push(s))).toThrow(new ExpectFailed('f:3:1: memory32: expected success, got errno 16'));
    expect(out).toEqual(['##### step 3: offline memory32-33 (0x100000000-0x10fffffff) — refused: -EBUSY (expected ok)\n']);
    expect([m.blocks.get(32)?.state, m.blocks.get(33)?.state]).toEqual(['online', 'offline']);
  });
});

describe('hotplug across profiles', () => {
  it('v5.3 offline leaves the spans (they shrank at removal then); 5.5+ shrink at offline', async () => {
    // Stable rows (src/profiles/profile.ts STABLE): feee6b298916 came to 4.19.y in 4.19.100 and
    // to 5.4.y in 5.4.9 (their release announcements); 4.19.90 and 5.4.6 trees shrink at removal.
    for (const [kernel, spanned] of [
      ['5.3', 32768],
      ['5.5', 0],
      ['4.19.99', 32768],
      ['4.19.100', 0],
      ['5.4.8', 32768],
      ['5.4.9', 0],
    ] as const) {
      const m = await smallMachine(kernel);
      expect(run(m, addMemory(m, 0, 2 ** 32, 2 ** 27))).toBe(0);
      expect(run(m, onlineBlock(m, 32, 'online_movable'))).toBe(0);
      expect(run(m, offlineBlock(m, 32))).toBe(0);
      expect(m.zoneByName(0, 'Movable'), kernel).toMatchObject({ spannedPages: spanned, presentPages: 0 });
    }
  });
  it('hot-plugged struct pages: memmap_init_range makes them PG_reserved up to 6.11, PageOffline (page_type 0xf5000000... in 6.18)', async () => {
    const rec = new Uint8Array(64);
    const { memmapInitRange } = await import('../src/kernel/memory_hotplug.js');
    const m61 = await smallMachine('6.1');
    run(m61, addMemory(m61, 0, 2 ** 32, 2 ** 27));
    const normal61 = m61.node(0).zones.find((z) => z.name === 'Normal');
    if (!normal61) throw new Error('no Normal zone');
    // memmap_init_range alone (the zone is not resized here, so no checkers).
    const plain = (m: Machine, t: ReturnType<typeof memmapInitRange>): void => {
      const s = new Scheduler([]);
      s.spawn('op', t);
      s.runInOrder();
    };
    plain(m61, memmapInitRange(m61, normal61, 0x100000, 0x100200));
    m61.store.readRecord(0x100000, rec);
    let dv = new DataView(rec.buffer);
    expect((dv.getBigUint64(0, true) >> 12n) & 1n).toBe(1n); // PG_reserved is bit 12 in 6.1
    expect(dv.getInt32(52, true)).toBe(1); // init_page_count
    const m618 = await smallMachine('6.18');
    run(m618, addMemory(m618, 0, 2 ** 32, 2 ** 27));
    const normal618 = m618.node(0).zones.find((z) => z.name === 'Normal');
    if (!normal618) throw new Error('no Normal zone');
    plain(m618, memmapInitRange(m618, normal618, 0x100000, 0x100200));
    m618.store.readRecord(0x100000, rec);
    dv = new DataView(rec.buffer);
    expect((dv.getBigUint64(0, true) >> 13n) & 1n).toBe(0n); // no PG_reserved (bit 13 in 6.18)
    // PGTY_offline << 24 in page_type (the _mapcount word at 48).
    const { pageTypeValues } = await import('../src/kernel/page_layout.js');
    expect(dv.getUint32(48, true)).toBe(((pageTypeValues('6.18').get('offline') ?? 0) << 24) >>> 0);
  });
  it('online hands them to the buddy: __free_pages_core clears PG_reserved (6.1) or PageOffline (6.11+), _refcount 0', async () => {
    // 6.1 __free_pages_core: __ClearPageReserved, set_page_count(p, 0) on every page; 6.12 with
    // MEMINIT_HOTPLUG: __ClearPageOffline, set_page_count(p, 0). Seen in Debian 6.1.0-57's memmap
    // (verify --memmap, test/qemu/memmap-dimm.scenario.yaml): onlined pages read flags 0, refcount 0.
    const rec = new Uint8Array(64);
    for (const [kernel, reservedBit] of [
      ['6.1', 12n],
      ['6.18', 13n],
    ] as const) {
      const m = await smallMachine(kernel);
      run(m, addMemory(m, 0, 2 ** 32, 2 ** 27));
      run(m, onlineBlock(m, 32, 'online'));
      m.store.readRecord(0x100000, rec);
      const dv = new DataView(rec.buffer);
      expect((dv.getBigUint64(0, true) >> reservedBit) & 1n).toBe(0n);
      expect(dv.getUint32(48, true)).toBe(0xffffffff); // _mapcount -1: no page type
      expect(dv.getInt32(52, true)).toBe(0);
    }
  });
});

describe("debug checkers fire in the kernel's words", () => {
  async function online() {
    const m = await smallMachine('6.1');
    run(m, addMemory(m, 0, 2 ** 32, 2 ** 27));
    run(m, onlineBlock(m, 32, 'online_movable'));
    return m;
  }
  function* touch(what: string): Generator<{ op: 'access'; kind: 'read'; what: string }, number, unknown> {
    yield { op: 'access', kind: 'read', what };
    return 0;
  }
  function violations(m: Machine, what = 'x'): string[] {
    const s = new Scheduler([mightSleepChecker, ...hotplugCheckers(m)]);
    s.spawn('probe', touch(what));
    s.runInOrder();
    return s.violations.map((v) => v.message);
  }
  it('bad_range when an online page lies outside its zone', async () => {
    const m = await online();
    expect(violations(m)).toEqual([]);
    m.zoneByName(0, 'Movable').spannedPages = 100;
    expect(violations(m)).toEqual(['page 0x107fff outside node 0 zone Movable [ 0x100000 - 0x100064 ]']);
  });
  it('present pages that do not add up', async () => {
    const m = await online();
    m.zoneByName(0, 'Movable').presentPages += 1;
    expect(violations(m)[0]).toMatch(/node_present_pages \d+ != sum of zone present_pages/);
  });
  it('VM_BUG_ON_PAGE on a read of a poisoned struct page', async () => {
    const m = await online();
    m.store.populateSections(64, 65, 'poisoned');
    expect(violations(m, `struct page ${64 * 32768}`)).toEqual(['page:ffffea0008000000 is uninitialized and poisoned; page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))']);
  });
});

describe('the hot-plug log (a known deviation, docs/fidelity.md)', () => {
  it('onlining the first memory of a zone prints no "Built N zonelists ... Total pages" line in the model', async () => {
    const m = await smallMachine('6.1');
    const before = m.state.log.lines().length;
    expect(run(m, addMemory(m, 0, 4 * 2 ** 30, 2 ** 27))).toBe(0);
    expect(run(m, onlineBlock(m, 32, 'online_movable'))).toBe(0);
    expect(m.zoneByName(0, 'Movable').presentPages).toBe(32768);
    expect(m.state.log.lines().length).toBe(before);
  });
});

describe('remove_memory', () => {
  it('refuses online blocks with EBUSY, then removes blocks, sections and memmap', async () => {
    const m = await smallMachine('6.1');
    run(m, addMemory(m, 0, 2 ** 32, 2 ** 28));
    run(m, onlineBlock(m, 32, 'online_movable'));
    expect(run(m, removeMemory(m, 2 ** 32, 2 ** 28))).toBe(-16);
    expect(m.blocks.has(32)).toBe(true);
    run(m, offlineBlock(m, 32));
    expect(run(m, removeMemory(m, 2 ** 32, 2 ** 28))).toBe(0);
    expect([m.blocks.has(32), m.blocks.has(33)]).toEqual([false, false]);
    expect(m.state.sparse.runOf(32)).toBeUndefined();
    expect(m.store.hasMemmap(32)).toBe(false);
    expect(m.zoneByName(0, 'Movable')).toMatchObject({ spannedPages: 0 });
  });
  it('v5.3 shrinks the span at removal, not at offline', async () => {
    const m = await smallMachine('5.3');
    run(m, addMemory(m, 0, 2 ** 32, 2 ** 27));
    run(m, onlineBlock(m, 32, 'online_movable'));
    run(m, offlineBlock(m, 32));
    expect(m.zoneByName(0, 'Movable').spannedPages).toBe(32768);
    expect(run(m, removeMemory(m, 2 ** 32, 2 ** 27))).toBe(0);
    expect(m.zoneByName(0, 'Movable')).toMatchObject({ spannedPages: 0, zoneStartPfn: 0 });
  });
  it('v5.3 pfn_valid search: an offline block still present keeps the span (the 2019 false answer)', async () => {
    // Two blocks in Movable; both offline; removing the first searches above it and finds the
    // second's struct pages valid and still linked to Movable, so the span stays on it.
    const m = await smallMachine('5.3');
    run(m, addMemory(m, 0, 2 ** 32, 2 ** 28));
    run(m, onlineBlock(m, 32, 'online_movable'));
    run(m, onlineBlock(m, 33, 'online_movable'));
    run(m, offlineBlock(m, 32));
    run(m, offlineBlock(m, 33));
    expect(run(m, removeMemory(m, 2 ** 32, 2 ** 27))).toBe(0);
    expect(m.zoneByName(0, 'Movable')).toMatchObject({ zoneStartPfn: 0x108000, spannedPages: 32768 });
  });
});

const virtio = join(golden, 'virtio-mem', 'steps.txt');
describe.skipIf(!existsSync(virtio))(`QEMU 6.1 golden: virtio-mem (auto-online movable, unplug by removal)${unless(existsSync(virtio), `no ${virtio}`)}`, () => {
  it('matches the zoneinfo and memory blocks after each plug and unplug', async () => {
    const all = steps(readFileSync(virtio, 'utf8'));
    const { loadMachineYaml } = await import('../src/formats/machine-yaml.js');
    const { profileForOption } = await import('../src/profiles/profile.js');
    const path = join(root, 'examples', 'qemu-2node-virtio-mem.yaml');
    const { spec, kernel } = loadMachineYaml(path, readFileSync(path, 'utf8'));
    const profile = profileForOption(kernel ?? '6.1');
    const m = bootMachine({ spec, profile });
    const state = m.state;
    const actions: Record<string, () => void> = {
      'after plug_1G': () => expect(run(m, addMemory(m, 1, 2 ** 32, 2 ** 30))).toBe(0),
      'after unplug_to_512M': () => {
        for (let id = 36; id <= 39; id++) expect(run(m, offlineBlock(m, id))).toBe(0);
        expect(run(m, removeMemory(m, 2 ** 32 + 2 ** 29, 2 ** 29))).toBe(0);
      },
      'after unplug_to_0': () => {
        for (let id = 32; id <= 35; id++) expect(run(m, offlineBlock(m, id))).toBe(0);
        expect(run(m, removeMemory(m, 2 ** 32, 2 ** 29))).toBe(0);
      },
    };
    let checked = 0;
    for (const st of all) {
      const label = st.header.replace(/\s+\$ oracle-report.*$/, '');
      const act = actions[label];
      if (!act) continue;
      act();
      checked++;
      const real = parseZoneinfo(section(st.lines, 'zoneinfo').join('\n') + '\n');
      const ours = parseZoneinfo(printBootZoneinfo(state));
      real.records.forEach((r, i) => {
        const o = ours.records[i];
        if (!o) throw new Error(`missing record ${r.node}/${r.zone}`);
        for (const f of ['spanned', 'present', 'start_pfn']) expect(zoneField(o, f), `${label}: node ${r.node} ${r.zone} ${f}`).toBe(zoneField(r, f));
      });
      // The run driver's --print blocks view, line for line against the guest's sysfs.
      const blocks = blocksView(m).trimEnd().split('\n');
      expect(blocks, label).toEqual(section(st.lines, 'memory blocks').filter((l) => l.startsWith('memory')));
    }
    expect(checked).toBe(3);
  });
});

describe("a machine's sysfs as chmem sees it", () => {
  it('serves the same files and directories that `sysfs export` writes for lsmem, and writes run the kernel', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const { writeSysfsTree } = await import('../src/formats/sysfs-export.js');
    const { hotplugSysfsView, machineSysfsFiles, PATH_SYS_MEMORY } = await import('../src/tools/memory_sysfs.js');
    const { machineYaml } = await import('./helpers.js');
    const m = machineYaml('6.1', 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }, { nid: 1, cpus: 1, memory: [{ start: 2G, end: 3G }] }]\n');
    expect(run(m, addMemory(m, 1, 2 ** 32, 2 ** 29))).toBe(0);
    expect(run(m, onlineBlock(m, 33, 'online_movable'))).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-served-'));
    try {
      writeSysfsTree(dir, hotplugSysfsView(m));
      const files = machineSysfsFiles(m, dir, (t) => run(m, t));
      const walk = (p: string): number => {
        const names = readdirSync(p).sort();
        expect([...(files.readdir(p) ?? ['(none)'])].sort(), p).toEqual(names);
        let n = 0;
        for (const name of names) {
          const q = join(p, name);
          if (/^node\d+$/.test(name)) expect(files.exists(q), q).toBe(true);
          else if (statSync(q).isDirectory()) n += walk(q);
          else {
            expect(files.read(q), q).toEqual(readFileSync(q));
            n++;
          }
        }
        return n;
      };
      expect(walk(join(dir, PATH_SYS_MEMORY))).toBeGreaterThan(24 * 5);
      // A state write runs online_pages: memory34 joins Movable, and the served file follows.
      expect(files.write(join(dir, PATH_SYS_MEMORY, 'memory34/state'), 'online_movable\n')).toBe('');
      expect(m.zoneByName(1, 'Movable')).toMatchObject({ zoneStartPfn: 0x108000, spannedPages: 2 * 32768 });
      const zones = files.read(join(dir, PATH_SYS_MEMORY, 'memory34/valid_zones'));
      expect(Buffer.isBuffer(zones) ? zones.toString() : zones).toBe('Movable\n');
      expect(files.write(join(dir, PATH_SYS_MEMORY, 'memory34/state'), 'online\n')).toBe('EINVAL');
      expect(files.write(join(dir, PATH_SYS_MEMORY, 'memory34/online'), '1')).toBe('');
      expect(files.write(join(dir, PATH_SYS_MEMORY, 'memory99/state'), 'online')).toBe('ENOENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('page_init_poison on hotplug (CONFIG_DEBUG_VM)', () => {
  it('sparse_add_section poisons new memmap; offline poisons it again from 5.5, not in v5.3', async () => {
    const { machineYaml } = await import('./helpers.js');
    for (const [kernel, after] of [
      ['5.3', 'initialized'],
      ['6.1', 'poisoned'],
      ['6.18', 'poisoned'],
    ] as const) {
      const m = machineYaml(kernel, 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }]\n', { poison: true });
      const store = m.store;
      expect(run(m, addMemory(m, 0, 2 ** 32, 2 ** 27))).toBe(0);
      expect(store.stateOf(0x100000), kernel).toBe('poisoned');
      expect(run(m, onlineBlock(m, 32, 'online_movable'))).toBe(0);
      expect(store.stateOf(0x100000), kernel).toBe('initialized');
      expect(run(m, offlineBlock(m, 32))).toBe(0);
      expect(store.stateOf(0x100000), kernel).toBe(after);
      expect(store.stateOf(0x100000 + 32767), kernel).toBe(after);
    }
  });
});

describe("memoryN/online takes what each kernel's kstrtobool takes", () => {
  it('t/f from 5.19 (5.17 lacks them), e/d from 6.18 (6.14 lacks them); refusal is EINVAL and changes nothing', async () => {
    const { machineSysfsFiles, PATH_SYS_MEMORY } = await import('../src/tools/memory_sysfs.js');
    const { machineYaml } = await import('./helpers.js');
    const cases = [
      ['5.3', 'true', 'EINVAL'],
      ['6.1', 'true', ''],
      ['6.1', 'enable', 'EINVAL'],
      ['6.18', 'enable', ''],
      ['6.18', 'Yes', ''],
    ] as const;
    for (const [kernel, value, want] of cases) {
      const m = machineYaml(kernel, 'nodes: [{ nid: 0, cpus: 1, memory: [{ start: 0x100000, end: 2G }] }]\n');
      expect(run(m, addMemory(m, 0, 2 ** 32, 2 ** 27))).toBe(0);
      const files = machineSysfsFiles(m, '/', (t) => run(m, t));
      expect(files.write(`${PATH_SYS_MEMORY}/memory32/online`, `${value}\n`), `${kernel} ${value}`).toBe(want);
      expect(m.blocks.get(32)?.state, `${kernel} ${value}`).toBe(want === '' ? 'online' : 'offline');
    }
  });
});
