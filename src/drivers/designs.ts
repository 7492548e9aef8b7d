// Designs for `mmsim explore`: a kernel profile and the features that make the design differ
// from it (docs/architecture.md lists them with the kernel code each models).
import { profileForOption, type FormatFeatures, type KernelProfile } from '../profiles/profile.js';

export interface Design {
  readonly name: string;
  readonly summary: string;
  readonly kernel: string;
  readonly features: Partial<FormatFeatures>;
}

export const DESIGNS: readonly Design[] = [
  { name: 'v5.3', summary: 'vanilla 5.3', kernel: '5.3', features: {} },
  {
    name: 'serialize',
    summary: 'v5.3 plus the 2019 patch: the whole device memmap, pgmap included, initialised under mem_hotplug_lock',
    kernel: '5.3',
    features: { zoneDeviceInitUnderLock: true },
  },
  {
    name: 'no-shrink',
    summary: 'the 5.5 state: spans shrink at offline with pfn_to_online_page (feee6b298916), ZONE_DEVICE never shrinks, memunmap reads pfn_first (77e080e7680e), try_offline_node fixed (2c91f8fc6c99)',
    kernel: '5.3',
    features: { shrinkAtOffline: true, poisonAtOffline: true, memunmapReadsPfnFirst: true, tryOfflineNode: 'spans-and-blocks' },
  },
  { name: '6.1', summary: 'Linux 6.1 (the QEMU oracle\'s kernel)', kernel: '6.1', features: {} },
  { name: 'current', summary: 'Linux 6.18', kernel: '6.18', features: {} },
];

/** The design's kernel profile with its features applied; an unknown name is one clear error. */
export function designProfile(name: string): { design: Design; profile: KernelProfile } {
  const design = DESIGNS.find((d) => d.name === name);
  if (!design) throw new Error(`unknown design ${name}`);
  const base = profileForOption(design.kernel);
  return { design, profile: { ...base, basis: `${base.basis} (design ${name})`, features: { ...base.features, ...design.features } } };
}
