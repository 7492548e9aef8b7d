// The QEMU 6.1 golden runs of ../shared/qemu-oracle/golden: their steps, the machine their boot
// log describes, and the comparison of an oracle-report against the model (every reported zone's
// spanned, present and start_pfn, node 1's hot-added zones' managed pages and the printed managed
// of every zone, every memory block).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { blocksView, bootMachine, loadMachine } from '../src/drivers/run.js';
import { parseZoneinfo, zoneField } from '../src/formats/zoneinfo.js';
import { printBootZoneinfo } from '../src/formats/zoneinfo-print.js';
import type { Machine } from '../src/kernel/machine.js';
import type { MachineSpec } from '../src/kernel/machine_spec.js';
import { sharedData } from './helpers.js';

export const golden = join(sharedData, '..', 'qemu-oracle', 'golden');

/** Blocks of steps.txt: "##### header" and its lines. */
export function steps(text: string): { header: string; lines: string[] }[] {
  const out: { header: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('##### ')) out.push({ header: line.slice(6), lines: [] });
    else out[out.length - 1]?.lines.push(line);
  }
  return out;
}

/** The lines of a report's "=== name" section. */
export function section(lines: string[], name: string): string[] {
  const out: string[] = [];
  let on = false;
  for (const l of lines) {
    if (l.startsWith('=== ')) {
      on = l.startsWith(`=== ${name}`);
      continue;
    }
    if (on) out.push(l);
  }
  return out;
}

/** The machine of a golden run's boot report (its dmesg), booted with its memmap, ready for hotplug. */
export function goldenMachine(all: { header: string; lines: string[] }[], edit: (s: MachineSpec) => MachineSpec = (s) => s): Machine {
  const tmp = mkdtempSync(join(tmpdir(), 'mmsim-golden-'));
  try {
    writeFileSync(join(tmp, 'boot.txt'), section(all[0]?.lines ?? [], 'dmesg').join('\n') + '\n');
    const loaded = loadMachine({ fromDmesg: join(tmp, 'boot.txt'), kernel: '6.1.0-56-cloud-amd64' });
    // The golden runs boot QEMU's -cpu max under TCG, which has LA57: the guest pages with 5
    // levels (its full log says max_arch_pfn = 0x10000000000; the report's dmesg excerpt leaves
    // that line out). It sizes the mem_section root array and the vmemmap tables at boot.
    const la57 = { ...loaded.spec, config: { ...loaded.spec.config, la57: true } };
    return bootMachine({ ...loaded, spec: edit(la57) }, { probeNamespaces: false });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** An oracle-report against the model: zone fields, node 1's Normal/Movable managed pages, the memory blocks. */
export function expectReport(m: Machine, lines: string[], what: string): void {
  const real = parseZoneinfo(section(lines, 'zoneinfo').join('\n') + '\n');
  const ours = parseZoneinfo(printBootZoneinfo(m.state, m.bootZones));
  real.records.forEach((r, i) => {
    const o = ours.records[i];
    expect(o && `${o.node}/${o.zone}`).toBe(`${r.node}/${r.zone}`);
    if (!o) return;
    for (const f of ['spanned', 'present', 'start_pfn']) expect(zoneField(o, f), `${what}: node ${r.node} ${r.zone} ${f}`).toBe(zoneField(r, f));
    if (r.node === 1 && (r.zone === 'Movable' || r.zone === 'Normal')) expect(m.zoneByName(1, r.zone).managedPages, `${what}: node 1 ${r.zone} managed`).toBe(zoneField(r, 'managed'));
    // Issue 19: the printed zoneinfo's managed of every zone is the kernel's: boot's share from
    // boot's memblock model (kernel/setup.ts, the measured Debian build), plus hotplug's since.
    expect(zoneField(o, 'managed'), `${what}: printed managed of node ${r.node} ${r.zone}`).toBe(zoneField(r, 'managed'));
  });
  // The run driver's --print blocks view, line for line against the guest's sysfs.
  const oursBlocks = blocksView(m).trimEnd().split('\n');
  expect(oursBlocks, what).toEqual(section(lines, 'memory blocks').filter((l) => l.startsWith('memory')));
}
