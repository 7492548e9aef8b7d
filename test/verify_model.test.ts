// What `mmsim verify` gives the model besides the guest's boot log: auto_online_blocks' default
// from the build's config (mhp_get_default_online_type) and the CPUs per node where the log names
// none (6.12 prints SRAT's CPU affinity with pr_debug).
import { describe, expect, it } from 'vitest';
import { parseKconfig } from '../src/kernel/kconfig.js';
import { mhpGetDefaultOnlineType } from '../src/kernel/memory_hotplug.js';
import { nodesWithCpus } from '../src/verify/verify.js';

const cfg = (...lines: string[]): Map<string, string> => parseKconfig(lines.join('\n') + '\n', 'config');

describe('mhp_get_default_online_type (mm/memory_hotplug.c, CONFIG_MHP_DEFAULT_ONLINE_TYPE; 6.1: MEMORY_HOTPLUG_DEFAULT_ONLINE)', () => {
  it("Debian 6.12's choice ONLINE_AUTO is MMOP_ONLINE, shown as online", () => {
    // /boot/config-6.12.118+deb12-cloud-amd64, lines 1097-1100.
    const k = cfg(
      '# CONFIG_MHP_DEFAULT_ONLINE_TYPE_OFFLINE is not set',
      'CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO=y',
      '# CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_KERNEL is not set',
      '# CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_MOVABLE is not set',
    );
    expect(mhpGetDefaultOnlineType(k)).toBe('online');
  });
  it('the other choices, in the order the function tests them', () => {
    expect(mhpGetDefaultOnlineType(cfg('CONFIG_MHP_DEFAULT_ONLINE_TYPE_OFFLINE=y'))).toBe('offline');
    expect(mhpGetDefaultOnlineType(cfg('CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_KERNEL=y'))).toBe('online_kernel');
    expect(mhpGetDefaultOnlineType(cfg('CONFIG_MHP_DEFAULT_ONLINE_TYPE_ONLINE_MOVABLE=y'))).toBe('online_movable');
  });
  it('a 6.1 config: MEMORY_HOTPLUG_DEFAULT_ONLINE set is online, unset (Debian 6.1) offline', () => {
    expect(mhpGetDefaultOnlineType(cfg('CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE=y'))).toBe('online');
    expect(mhpGetDefaultOnlineType(cfg('# CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE is not set', 'CONFIG_MEMORY_HOTPLUG=y'))).toBe('offline');
  });
});

describe('CPUs per node for the model', () => {
  const machine = [
    { nid: 0, cpus: 1 },
    { nid: 1, cpus: 2 },
  ];
  it("a log that places no CPU (6.12) takes the machine's", () => {
    expect(
      nodesWithCpus(
        [
          { nid: 0, cpus: 0 },
          { nid: 1, cpus: 0 },
        ],
        machine,
      ),
    ).toEqual(machine);
  });
  it("a log that places CPUs (6.1's SRAT lines) is kept as it is", () => {
    const log = [
      { nid: 0, cpus: 2 },
      { nid: 1, cpus: 1 },
    ];
    expect(nodesWithCpus(log, machine)).toEqual(log);
  });
  it('a node the machine does not have keeps no CPU', () => {
    expect(nodesWithCpus([{ nid: 2, cpus: 0 }], machine)).toEqual([{ nid: 2, cpus: 0 }]);
  });
});
