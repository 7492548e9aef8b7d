import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archFor } from '../src/arch/index.js';
import { loadMachineYaml } from '../src/formats/machine-yaml.js';
import { freeAreaInit, type BootState } from '../src/kernel/mm_init.js';
import { profileForOption } from '../src/profiles/profile.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedData = process.env['MMSIM_SHARED_DATA'] ?? join(root, '..', 'shared', 'data');
export const hasSharedData = existsSync(join(sharedData, 'dmesg'));
export const cliPath = join(root, 'dist', 'cli', 'main.js');

/** Boot a machine written as mmsim YAML under a kernel profile. */
export function bootYaml(kernel: string, yaml: string): BootState {
  const { spec } = loadMachineYaml('test.yaml', yaml);
  const profile = profileForOption(kernel);
  return freeAreaInit(archFor(spec, profile), profile, spec);
}

export function zone(state: BootState, nid: number, name: string) {
  const node = state.nodes.find((n) => n.nodeId === nid);
  const z = node?.zones.find((x) => x.name === name);
  if (!z) throw new Error(`no zone ${name} on node ${nid}`);
  return z;
}
