// Choosing the Arch of a machine: its architecture, the options that select a variant (arm64
// page size) and the kernel version where an arch's constants changed.
import { InputError } from '../errors.js';
import type { ArchName } from './arch.js';
import type { Arm64PageSize } from './others.js';
import type { KernelProfile } from '../profiles/profile.js';
import { releaseCode, versionCode } from '../profiles/release.js';
import type { Arch } from './arch.js';
import { arm64Arch, i386Arch, s390xArch } from './others.js';
import { x86_64Arch } from './x86_64.js';

/** What archFor reads of a machine: its architecture and the config options that pick a variant. */
export interface ArchChoice {
  readonly arch: ArchName;
  readonly config: { readonly zoneDevice: boolean; readonly pageBytes: Arm64PageSize };
}

export function archFor(spec: ArchChoice, profile: KernelProfile): Arch {
  const code = releaseCode(profile.release);
  switch (spec.arch) {
    case 'x86_64':
      return x86_64Arch(spec.config.zoneDevice);
    case 'i386':
      return i386Arch();
    case 's390x':
      if (code < versionCode(5, 12)) {
        throw new InputError(`s390x before 5.12 (SECTION_SIZE_BITS 28) is not modelled; give --kernel 5.12 or later`);
      }
      return s390xArch();
    case 'arm64': {
      const page = spec.config.pageBytes;
      if (code < versionCode(5, 5)) return arm64Arch(page, 'era4', false);
      if (code < versionCode(5, 15)) {
        throw new InputError(`arm64 kernels 5.5 to 5.14 are not modelled (ZONE_DMA sizing and SECTION_SIZE_BITS changed in between); give 5.4 or earlier, or 5.15 or later`);
      }
      // ZONE_DEVICE on arm64 needs ARCH_HAS_PTE_DEVMAP (5.7); distro configs enable it.
      return arm64Arch(page, 'current', spec.config.zoneDevice);
    }
  }
}
