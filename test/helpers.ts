import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archFor } from '../src/arch/index.js';
import { loadMachineYaml } from '../src/formats/machine-yaml.js';
import { freeAreaInit, type BootState } from '../src/kernel/mm_init.js';
import { profileForOption } from '../src/profiles/profile.js';
import type { PageRecordSource } from '../src/memmap/page_writer.js';
import { bootMachine, type BootMachineOptions } from '../src/drivers/run.js';
import type { Machine } from '../src/kernel/machine.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedData = process.env['MMSIM_SHARED_DATA'] ?? join(root, '..', 'shared', 'data');
export const hasSharedData = existsSync(join(sharedData, 'dmesg'));
export const cliPath = join(root, 'dist', 'cli', 'main.js');

/**
 * A skipped test's reason for its name: '' when `ok`, else " (skipped: why)". Every skipIf in the
 * suite puts one in its test's or block's name, so a skip says why wherever the name is printed.
 */
export function unless(ok: boolean, why: string): string {
  return ok ? '' : ` (skipped: ${why})`;
}

/** Why tests of the real data skip: ../shared is next to a checkout, not in it. */
export const NO_SHARED_DATA = `no ${sharedData} (the shared real-data directory; MMSIM_SHARED_DATA names another)`;

/** Boot a machine written as mmsim YAML under a kernel profile. */
export function bootYaml(kernel: string, yaml: string): BootState {
  const { spec } = loadMachineYaml('test.yaml', yaml);
  const profile = profileForOption(kernel);
  return freeAreaInit(archFor(spec, profile), profile, spec);
}

/** A machine written as mmsim YAML, booted ready for hotplug by the drivers' one factory (bootMachine). */
export function machineYaml(kernel: string, yaml: string, opts: BootMachineOptions = {}): Machine {
  const { spec } = loadMachineYaml('test.yaml', yaml);
  return bootMachine({ spec, profile: profileForOption(kernel) }, opts);
}

export function zone(state: BootState, nid: number, name: string) {
  const node = state.nodes.find((n) => n.nodeId === nid);
  const z = node?.zones.find((x) => x.name === name);
  if (!z) throw new Error(`no zone ${name} on node ${nid}`);
  return z;
}

/**
 * A stand-in struct page record for backend tests (the real layout has its own tests):
 * flags = zone << 60 | nid << 50 | 1, lru pointing at itself, _mapcount -1, _refcount 1.
 */
export const STANDIN_SOURCE: PageRecordSource = {
  recordBytes: 64,
  lruOffset: 8,
  pgReservedBit: 13,
  vmemmapBase: 0xffffea0000000000n,
  writeRecord(dv, off, pfn, zone, nid) {
    for (let i = 0; i < 64; i += 4) dv.setUint32(off + i, 0, true);
    dv.setBigUint64(off, (BigInt(zone) << 60n) | (BigInt(nid) << 50n) | 1n, true);
    const self = 0xffffea0000000000n + BigInt(pfn) * 64n + 8n;
    dv.setBigUint64(off + 8, self, true);
    dv.setBigUint64(off + 16, self, true);
    dv.setInt32(off + 48, -1, true);
    dv.setInt32(off + 52, 1, true);
  },
};

/** The figures a command prints that vary run to run (explore's seconds, its threads), masked as the golden outputs keep them. */
const MASKS: readonly [RegExp, string][] = [
  [/(interleavings? \([^)]*\)), \d+(\.\d+)? s/g, '$1, <s> s'],
  [/("seconds": )[0-9.e-]+/g, '$1<s>'],
  [/("threads": )\d+/g, '$1<n>'],
];

export function mask(s: string): string {
  return MASKS.reduce((acc, [re, to]) => acc.replace(re, to), s);
}
