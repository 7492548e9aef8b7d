// A scenario's steps on the real kernel of a QEMU guest: hot-add and hot-remove of pc-dimms
// (QMP object-add / device_add / device_del, then waiting on the guest's sysfs), NVDIMMs,
// virtio-mem resizes, memory block state writes, sysfs writes and the tools. Shared by
// `mmsim verify --qemu` (each step, then the comparison with the model) and `mmsim verify --race
// FILE` (the steps before the concurrent block, then its loops).
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockNames } from '../formats/blocks-print.js';
import type { BlockRange, ScenarioStep } from '../formats/scenario.js';
import { InputError } from '../errors.js';
import type { Vm } from './vm.js';

export type GuestShell = (cmd: string) => Promise<{ out: string; rc: number }>;

/** What a step did on the real kernel: notes on what did not go as asked, and a tool's output. */
export interface GuestStepResult {
  readonly notes: string[];
  readonly out?: string;
  readonly rc?: number;
}

export interface GuestStepsOptions {
  readonly vm: Vm;
  readonly sh: GuestShell;
  /** Where the NVDIMM image files go. */
  readonly dir: string;
  readonly stepMs: number;
  /** The memory block size the guest uses. */
  readonly blockBytes: () => number;
  /** The NVDIMM region a hot-added NVDIMM becomes (its raw namespace is /dev/pmemN). */
  readonly nextRegion: () => number;
  /** The block ids a step names (checked against a machine where there is one). */
  readonly blockIds: (ranges: readonly BlockRange[], at: string) => number[];
  /** All the scenario's steps (a remove finds its virtio-mem device among their adds). */
  readonly steps: readonly ScenarioStep[];
}

/** The guest side of the scenario's steps, with the QEMU devices it has plugged so far. */
export class GuestSteps {
  /** pc-dimm QEMU ids by start address (plugged ones). */
  readonly dimms = new Map<number, string>();
  private readonly virtioSize = new Map<string, number>();
  private n = 0;

  constructor(private readonly o: GuestStepsOptions) {}

  /** A new QEMU device id with this prefix (dimm1, nvhot2, ...; one counter for all). */
  newId(prefix: string): string {
    return `${prefix}${++this.n}`;
  }

  /** Plug a pc-dimm over QMP: a RAM backend (made the first time this id is plugged, fresh) and the device. */
  async qmpPlugDimm(id: string, node: number, start: number, size: number, fresh: boolean): Promise<void> {
    const { vm } = this.o;
    if (fresh) await vm.qmp.cmd('object-add', { 'qom-type': 'memory-backend-ram', id: `mem-${id}`, size });
    await vm.qmp.cmd('device_add', { driver: 'pc-dimm', id, memdev: `mem-${id}`, node, addr: start });
    this.dimms.set(start, id);
  }

  /** Plug a new pc-dimm and wait for its blocks (and for the guest's own auto-online). */
  private async plugDimm(id: string, node: number, start: number, size: number): Promise<void> {
    const { sh, stepMs } = this.o;
    await this.qmpPlugDimm(id, node, start, size, true);
    await waitBlocks(sh, start, size, this.o.blockBytes(), true, stepMs);
    await waitAutoOnline(sh, start, size, this.o.blockBytes(), stepMs);
  }

  /** Run one step on the guest; null for the steps that are the model's business (expect, print) or a concurrent block. */
  async run(st: ScenarioStep, at: string): Promise<GuestStepResult | null> {
    const { vm, sh, dir, stepMs } = this.o;
    const notes: string[] = [];
    if ('add' in st && st.add.device === 'nvdimm') {
      const id = this.newId('nvhot');
      const label = st.add.labels ? 128 * 1024 : 0;
      const img = join(dir, `${id}.img`);
      writeFileSync(img, '');
      truncateSync(img, st.add.size + label);
      // The region's raw namespace shows up as /dev/pmem<region>.
      const region = this.o.nextRegion();
      await vm.qmp.cmd('object-add', { 'qom-type': 'memory-backend-file', id: `mem-${id}`, 'mem-path': img, size: st.add.size + label, share: true });
      await vm.qmp.cmd('device_add', { driver: 'nvdimm', id, memdev: `mem-${id}`, node: st.add.node, addr: st.add.start, ...(label ? { 'label-size': label } : {}) });
      const end = Date.now() + stepMs;
      while ((await sh(`[ -e /dev/pmem${region} ]`)).rc !== 0) {
        if (Date.now() > end) throw new InputError(`verify: /dev/pmem${region} did not appear within ${stepMs / 1000} s after device_add nvdimm`);
      }
    } else if ('add' in st && st.add.device === 'dimm') {
      await this.plugDimm(this.newId('dimm'), st.add.node, st.add.start, st.add.size);
    } else if ('add' in st) {
      const want = (this.virtioSize.get(st.add.name) ?? 0) + st.add.size;
      this.virtioSize.set(st.add.name, want);
      await resizeVirtioMem(vm, st.add.name, want, stepMs);
      // The device's size is reached when the guest asked for the blocks; adding and
      // auto-onlining them in the guest may still be under way: wait for both.
      await waitBlocks(sh, st.add.start, st.add.size, this.o.blockBytes(), true, stepMs);
      await waitAutoOnline(sh, st.add.start, st.add.size, this.o.blockBytes(), stepMs);
    } else if ('remove' in st) {
      const dimm = this.dimms.get(st.remove.start);
      const vmName = [...this.virtioSize.keys()].find((name) =>
        this.o.steps.some((s2) => {
          if (!('add' in s2) || s2.add.device !== 'virtio-mem' || s2.add.name !== name) return false;
          const start = s2.add.region?.start ?? s2.add.start;
          const size = s2.add.region?.size ?? s2.add.size;
          return st.remove.start >= start && st.remove.start < start + size;
        }),
      );
      if (dimm) {
        await vm.qmp.cmd('device_del', { id: dimm });
        try {
          await vm.qmp.event('DEVICE_DELETED', (e) => e.data?.['device'] === dimm, 30_000);
          this.dimms.delete(st.remove.start);
          await waitBlocks(sh, st.remove.start, st.remove.size, this.o.blockBytes(), false, stepMs);
        } catch {
          notes.push('kernel: device_del did not complete (the eject was refused)');
        }
      } else if (vmName) {
        const want = (this.virtioSize.get(vmName) ?? 0) - st.remove.size;
        this.virtioSize.set(vmName, want);
        await resizeVirtioMem(vm, vmName, want, stepMs);
        await waitBlocks(sh, st.remove.start, st.remove.size, this.o.blockBytes(), false, stepMs);
      } else notes.push('kernel: nothing to remove there');
    } else if ('online' in st || 'offline' in st) {
      const ids = this.o.blockIds('online' in st ? st.online.blocks : st.offline.blocks, at);
      const type = 'online' in st ? st.online.type : 'offline';
      for (const id of ids) {
        const r = await sh(`echo ${type} > /sys/devices/system/memory/memory${id}/state`);
        if (r.rc) notes.push(`kernel: memory${id} ${type}: ${r.out.trim()}`);
      }
    } else if ('write' in st) {
      const r = await sh(`echo ${st.write.value} > /sys/devices/system/memory/${st.write.path}`);
      if (r.rc) notes.push(`kernel: write ${st.write.path}: ${r.out.trim()}`);
    } else if ('ndctl' in st || 'daxctl' in st) {
      const [tool, args] = 'ndctl' in st ? ['ndctl', st.ndctl.args] : ['daxctl', st.daxctl.args];
      const r = await sh(`${tool} ${args} 2>&1`);
      return { notes, out: r.out, rc: r.rc };
    } else if ('chmem' in st) {
      // The guest's chmem is Debian's util-linux (2.38); mmsim's is 2.42: compare exit codes and state, not wording.
      const r = await sh(`chmem ${st.chmem.args}`);
      return { notes, out: r.out, rc: r.rc };
    } else return null;
    return { notes };
  }
}

/** Poll the guest's sysfs until the blocks of [start, start + size) exist (or are gone), within the step's timeout. */
export async function waitBlocks(sh: GuestShell, start: number, size: number, blockBytes: number, present: boolean, timeoutMs: number, state?: 'online'): Promise<void> {
  const ids = Array.from({ length: size / blockBytes }, (_, i) => start / blockBytes + i);
  const test = ids.map((id) => (state ? `grep -qx ${state} /sys/devices/system/memory/memory${id}/state` : `[ ${present ? '-e' : '! -e'} /sys/devices/system/memory/memory${id} ]`)).join(' && ');
  const end = Date.now() + timeoutMs;
  while ((await sh(test)).rc !== 0) {
    if (Date.now() > end) throw new InputError(`verify: ${blockNames(ids)} did not ${state ? `go ${state}` : present ? 'appear' : 'go'} within ${timeoutMs / 1000} s`);
  }
}

/**
 * Where the guest onlines hot-added memory by itself (auto_online_blocks not offline), wait for its
 * blocks to go online: the kernel creates all of an add's block devices before it onlines the first
 * (add_memory_resource), so a read between the two sees part of the add onlined. A block that stays
 * offline past the step's timeout is left for the comparison to report.
 */
async function waitAutoOnline(sh: GuestShell, start: number, size: number, blockBytes: number, timeoutMs: number): Promise<void> {
  if ((await sh('grep -qv offline /sys/devices/system/memory/auto_online_blocks')).rc !== 0) return;
  try {
    await waitBlocks(sh, start, size, blockBytes, true, timeoutMs, 'online');
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
}

async function resizeVirtioMem(vm: Vm, name: string, bytes: number, timeoutMs: number): Promise<void> {
  await vm.qmp.cmd('qom-set', { path: name, property: 'requested-size', value: bytes });
  const end = Date.now() + timeoutMs;
  while ((await vm.qmp.cmd('qom-get', { path: name, property: 'size' })) !== bytes) {
    if (Date.now() > end) throw new InputError(`verify: virtio-mem ${name} did not reach ${bytes} bytes within ${timeoutMs / 1000} s`);
  }
}
