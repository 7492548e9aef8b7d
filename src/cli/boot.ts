// `mmsim boot`: build a machine from a YAML file, a dmesg log or this machine, boot it, print.
import { readFileSync } from 'node:fs';
import { archFor } from '../arch/index.js';
import { InputError } from '../errors.js';
import { parseDmesg } from '../formats/dmesg.js';
import { loadMachineYaml } from '../formats/machine-yaml.js';
import { freeAreaInit, type BootState } from '../kernel/mm_init.js';
import type { MachineSpec } from '../kernel/machine.js';
import { profileFor, profileForOption, type KernelProfile } from '../profiles/profile.js';
import { readLiveMachine } from './live.js';

export interface BootSource {
  readonly machineFile?: string;
  readonly fromDmesg?: string;
  readonly fromLive?: boolean;
  readonly kernel?: string;
}

export interface LoadedMachine {
  readonly spec: MachineSpec;
  readonly profile: KernelProfile;
  /** Where the machine came from, for --explain and test logs. */
  readonly sources: readonly string[];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new InputError(`${path}: cannot read (${code}); give the path of an existing file`);
  }
}

export function loadMachine(src: BootSource): LoadedMachine {
  const chosen = [src.machineFile !== undefined, src.fromDmesg !== undefined, src.fromLive === true].filter(Boolean).length;
  if (chosen !== 1) {
    throw new InputError('give exactly one machine: a YAML file, --from-dmesg FILE or --from-live');
  }
  if (src.fromDmesg !== undefined) {
    const parsed = parseDmesg(src.fromDmesg, readText(src.fromDmesg));
    let profile: KernelProfile;
    if (src.kernel !== undefined) profile = profileForOption(src.kernel);
    else if (parsed.release !== null) profile = profileFor(parsed.release, parsed.build);
    else {
      throw new InputError(`${src.fromDmesg}: the log has no "Linux version" line; name its kernel with --kernel RELEASE`);
    }
    return { spec: parsed.spec, profile, sources: [`dmesg log ${src.fromDmesg}: ${parsed.sources.join(', ')}`] };
  }
  if (src.fromLive) {
    const live = readLiveMachine();
    const profile = src.kernel !== undefined ? profileForOption(src.kernel) : profileFor(live.release, live.build);
    return { spec: live.spec, profile, sources: live.sources };
  }
  const file = src.machineFile ?? '';
  const { spec, kernel } = loadMachineYaml(file, readText(file));
  const release = src.kernel ?? kernel;
  if (release === null) {
    throw new InputError(`${file}: no kernel named; add "kernel: 6.18" to the file or pass --kernel RELEASE`);
  }
  return { spec, profile: profileForOption(release), sources: [`machine file ${file}`] };
}

export function boot(m: LoadedMachine): BootState {
  return freeAreaInit(archFor(m.spec, m.profile), m.profile, m.spec);
}
