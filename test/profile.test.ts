// The profile table row by row against real logs: for every log in ../shared/data/dmesg, the
// profile chosen from its "Linux version" line must predict which formats the log uses. The
// expectations come from the logs themselves and from INDEX.tsv, never from mmsim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dmesgLines } from '../src/formats/dmesg.js';
import { nearestProfile, profileFor, profileForOption, setProfileWarnings } from '../src/profiles/profile.js';
import { parseRelease } from '../src/profiles/release.js';
import { bootYaml, hasSharedData, sharedData, unless, NO_SHARED_DATA } from './helpers.js';

describe('parseRelease', () => {
  it('takes the stable sublevel from Debian and Ubuntu build strings, not from the compiler', () => {
    const deb = parseRelease('5.10.0-21-amd64', ' (XXX@XXX) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian 5.10.162-1 (2023-01-21)');
    expect(deb).toMatchObject({ major: 5, minor: 10, sublevel: 162, sublevelKnown: true, distro: 'debian', suffix: '-21-amd64' });
    const ubu = parseRelease('5.8.0-55-generic', ' #62~20.04.1-Ubuntu SMP Wed Jun 2 08:55:04 UTC 2021 (Ubuntu 5.8.0-55.62~20.04.1-generic 5.8.18)');
    expect(ubu).toMatchObject({ sublevel: 18, sublevelKnown: true, distro: 'ubuntu' });
    expect(parseRelease('5.10.0-21-amd64')).toMatchObject({ sublevel: 0, sublevelKnown: false });
  });
  it('recognises the distro suffixes', () => {
    expect(parseRelease('4.18.0-147.el8.x86_64').distro).toBe('rhel');
    expect(parseRelease('5.11.22-100.fc32.x86_64')).toMatchObject({ distro: 'fedora', sublevel: 22 });
    expect(parseRelease('4.12.14-lp151.28.52-default').distro).toBe('suse');
    expect(parseRelease('6.1.4-arch1-1').distro).toBe('arch');
    expect(parseRelease('5.15.39-4-pve').distro).toBe('proxmox');
    expect(parseRelease('5.19.0-0.deb11.2-amd64').distro).toBe('debian');
    expect(parseRelease('6.18').distro).toBe('vanilla');
  });
  it('short forms for --kernel', () => {
    expect(profileForOption('v5.3').release).toMatchObject({ major: 5, minor: 3 });
    expect(() => profileForOption('latest')).toThrow(/expected a release/);
  });
});

interface IndexRow {
  file: string;
  release: string;
  unavail: string;
  perNodeTotalpages: string;
}

function indexRows(): IndexRow[] {
  const text = readFileSync(join(sharedData, 'dmesg', 'INDEX.tsv'), 'utf8');
  return text
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const cols = line.split('\t');
      const notes = cols[9] ?? '';
      return {
        file: cols[0] ?? '',
        release: cols[2] ?? '',
        unavail: /unavail-format=([\w-]+)/.exec(notes)?.[1] ?? '?',
        perNodeTotalpages: /per-node-totalpages-lines=(\w+)/.exec(notes)?.[1] ?? '?',
      };
    });
}

const UNAVAIL: Record<string, string> = {
  'old-zeroed-total': 'zeroed-total',
  'old-perzone': 'per-zone',
  new: 'per-node-zone',
  none: 'none',
};

describe.skipIf(!hasSharedData)(`profile rows against the real logs${unless(hasSharedData, NO_SHARED_DATA)}`, () => {
  for (const row of hasSharedData ? indexRows() : []) {
    it(`${row.file} (${row.release})`, () => {
      const lines = dmesgLines(readFileSync(join(sharedData, 'dmesg', row.file), 'utf8')).map((l) => l.text);
      const version = lines.find((l) => l.startsWith('Linux version '));
      const [, release, build] = version ? (/^Linux version (\S+)(.*)$/.exec(version) ?? []) : [];
      const p = release ? profileFor(release, build ?? '') : profileForOption(row.release.split(' ')[0] ?? '');
      const f = p.features;
      // Unavailable-range format, as INDEX.tsv classifies the log. A log without any such line
      // ("none") only shows the format printed nothing: on x86_64 the fidelity test boots the
      // machine and checks that; on other architectures (arm64 4.19 has no holes in its node
      // ranges) it says nothing about the format.
      const arch = row.release.includes('arm64') || row.release.includes('i586') ? 'other' : 'x86_64';
      if (row.unavail !== 'none' || arch === 'x86_64') expect(f.unavailable, 'unavailable-range format').toBe(UNAVAIL[row.unavail]);
      // "On node N totalpages" and the per-zone detail lines are printed together.
      expect(f.nodeTotalpagesLine, 'On node N totalpages line').toBe(row.perNodeTotalpages === 'yes');
      expect(f.zoneDetailLines, 'per-zone memmap/batch lines').toBe(lines.some((l) => / zone: \d+ pages, LIFO batch:\d+$/.test(l)));
      // "Built N zonelists in Node order" vs the newer line.
      expect(f.zonelistOrderInLine, 'zonelist order in the Built line').toBe(lines.some((l) => /^Built \d+ zonelists in \w+ order/.test(l)));
      // The batch cap shows in any zone of more than 128Ki pages: 31 with 512 KiB, 63 with 1 MiB.
      const bigBatch = lines.map((l) => / zone: (\d+) pages, LIFO batch:(\d+)$/.exec(l)).find((m) => m && Number(m[1]) > 1 << 17);
      if (bigBatch) expect(f.batchCapBytes, 'zone_batchsize cap').toBe(bigBatch[2] === '31' ? 512 * 1024 : 1024 * 1024);
    });
  }
});

describe('stable branches and the mainline table', () => {
  it('5.10.y changed its unavailable-range format twice', () => {
    expect(profileFor('5.10.10').features.unavailable).toBe('zeroed-total');
    expect(profileFor('5.10.40').features.unavailable).toBe('per-zone');
    expect(profileFor('5.10.162').features.unavailable).toBe('per-node-zone');
  });
  it('an unknown stable sublevel applies no stable change and says so', () => {
    const p = profileFor('5.10.0-21-amd64');
    expect(p.features.unavailable).toBe('zeroed-total');
    expect(p.notes.join('\n')).toMatch(/stable sublevel unknown/);
  });
  it('mainline change points in order', () => {
    expect(profileFor('4.13').features.zonelistOrderInLine).toBe(true);
    expect(profileFor('4.14').features.zonelistOrderInLine).toBe(false);
    expect(profileFor('5.12').features.unavailable).toBe('per-zone');
    expect(profileFor('6.9').features.managedEstimate).toBe('memmap-and-dma-reserve');
    expect(profileFor('6.10').features.managedEstimate).toBe('present');
    expect(profileFor('6.18').features).toMatchObject({ memoryless: 'as-memoryless', memoryBlock: 'bare-metal-2g', dmaReserve: 'first-1MiB' });
    expect(() => profileFor('4.4')).toThrow(/from 4.9 on/);
  });
});

describe('stable backports of issue 19 (brackets read in the stable trees, src/profiles/profile.ts STABLE)', () => {
  it('4.19.y: "Reserved but unavailable" to 4.19.102, the 4.20 zeroing with the section round-up from 4.19.103', () => {
    // The "Linux 4.19.103" announcement lists 907ec5fca3dc, ec393a0f014e and e822969cab48;
    // 4.19.1 and 4.19.90 print "Reserved but unavailable", 4.19.108 rounds up to the section.
    for (const k of ['4.19', '4.19.1', '4.19.90', '4.19.102']) expect(profileForOption(k).features, k).toMatchObject({ unavailable: 'reserved-unavailable', zeroTailToSection: false });
    for (const k of ['4.19.103', '4.19.108', '4.19.132']) expect(profileForOption(k).features, k).toMatchObject({ unavailable: 'zeroed-total', zeroTailToSection: true });
    // The 4.19.304 row still adds only its own change.
    expect(profileForOption('4.19.132').features.movableClearBeyondNodeEnd).toBe(false);
  });
  it('the release strings of issue 19: a Debian 4.19.132 build string and a Fedora 5.13.13 release select the stable rows', () => {
    const deb = profileFor('4.19.0-10-amd64', ' (debian-kernel@lists.debian.org) (gcc version 8.3.0 (Debian 8.3.0-6)) #1 SMP Debian 4.19.132-1 (2020-07-24)');
    expect(deb.release).toMatchObject({ sublevel: 132, sublevelKnown: true, distro: 'debian' });
    expect(deb.features).toMatchObject({ unavailable: 'zeroed-total', zeroTailToSection: true });
    expect(profileFor('5.13.13-200.fc34.x86_64').features.unavailable).toBe('per-node-zone');
  });
  it('mainline: the holes zeroed from 4.20 (4.19.1 without, 4.20.0 with), to the section end from 5.6 (e822969cab48, v5.6-rc1)', () => {
    expect(profileForOption('4.20').features).toMatchObject({ unavailable: 'zeroed-total', zeroTailToSection: false });
    expect(profileForOption('5.5').features.zeroTailToSection).toBe(false);
    expect(profileForOption('5.6').features.zeroTailToSection).toBe(true);
    // zero_resv_unavail before the node loop from e181ae0c5db9 (4.18), after it in 4.15-4.17.
    expect(profileForOption('4.17').features.zeroResvUnavailFirst).toBe(false);
    expect(profileForOption('4.19.1').features.zeroResvUnavailFirst).toBe(true);
  });
  it('5.4.y rounds up from 5.4.19 (its announcement lists e822969cab48; 5.4.18 read without)', () => {
    expect(profileForOption('5.4.18').features.zeroTailToSection).toBe(false);
    expect(profileForOption('5.4.19').features.zeroTailToSection).toBe(true);
  });
  it('5.10.y and 5.11.y: per-zone from 5.10.24 and 5.11.7 (0740a50b9baa), per-node-zone from 5.10.53 (122e093c1734)', () => {
    expect(profileForOption('5.10.23').features.unavailable).toBe('zeroed-total');
    expect(profileForOption('5.10.24').features.unavailable).toBe('per-zone');
    expect(profileForOption('5.10.52').features.unavailable).toBe('per-zone');
    expect(profileForOption('5.10.53').features.unavailable).toBe('per-node-zone');
    expect(profileForOption('5.11.6').features.unavailable).toBe('zeroed-total');
    expect(profileForOption('5.11.7').features.unavailable).toBe('per-zone');
  });
  it('5.12.17 and 5.13.2 print the per-node-zone unavailable lines of 122e093c1734; 5.12.16 and 5.13.1 the per-zone ones', () => {
    expect(profileForOption('5.12.17').features.unavailable).toBe('per-node-zone');
    expect(profileForOption('5.12.16').features.unavailable).toBe('per-zone');
    expect(profileForOption('5.13.2').features.unavailable).toBe('per-node-zone');
    expect(profileForOption('5.13.13').features.unavailable).toBe('per-node-zone');
    expect(profileForOption('5.13.1').features.unavailable).toBe('per-zone');
    expect(profileForOption('5.13.0').features.unavailable).toBe('per-zone');
  });
  it('a 4.19.103+ machine whose memory ends one page short of a section zeroes that page too', () => {
    // 0x1000-0x7ffff000: max_pfn 0x7ffff, one page below the 128 MiB section boundary 0x80000
    // (pfn). zero_resv_unavail (4.19.108's tree, e822969cab48): [0, 1) + [0x7ffff,
    // round_up(max_pfn, 0x8000)) = 1 + 1 pages; 4.20 stops at max_pfn: 1 page; 4.19.102 counts
    // only memblock.reserved outside memory and prints nothing here (no reserved: given).
    const yaml = 'nodes:\n  - { nid: 0, cpus: 1, memory: [{ start: 0x1000, end: 0x7ffff000 }] }\n';
    const line = (k: string): string | undefined =>
      bootYaml(k, yaml)
        .log.lines()
        .find((l) => l.startsWith('Zeroed struct page') || l.startsWith('Reserved but unavailable'));
    expect(line('4.19.103')).toBe('Zeroed struct page in unavailable ranges: 2 pages');
    expect(line('4.19.132')).toBe('Zeroed struct page in unavailable ranges: 2 pages');
    expect(line('4.20')).toBe('Zeroed struct page in unavailable ranges: 1 pages');
    expect(line('4.19.102')).toBeUndefined();
  });
});

describe('brackets narrowed by reading the trees either side (issue 19; the trees are named in each row)', () => {
  it('mainline rows moved to the release whose tree has the change', () => {
    // offline_pages "memory holes": 5.4.59 without, 5.6.4 with.
    expect(profileForOption('5.5').features.offlineRefusesHoles).toBe(false);
    expect(profileForOption('5.6').features.offlineRefusesHoles).toBe(true);
    // probe_memory_block_size's bare-metal 2 GiB: 5.8.1 without, 5.9.1 with.
    expect(profileForOption('5.8').features.memoryBlock).toBe('align');
    expect(profileForOption('5.9').features.memoryBlock).toBe('bare-metal-2g');
    // MEMORY_DEVICE_COHERENT: 5.19 without, 6.0.0 with; 6.0.0 still refcount 1 for every device page.
    expect(profileForOption('5.19').features.pgmapCoherent).toBe(false);
    expect(profileForOption('6.0').features).toMatchObject({ pgmapCoherent: true, zoneDeviceRefcount: 'one' });
    // try_offline_node's fix is in the 5.4-rc8 shortlog: mainline 5.4.
    expect(profileForOption('5.3').features.tryOfflineNode).toBe('section-walk');
    expect(profileForOption('5.4').features.tryOfflineNode).toBe('spans-and-blocks');
  });
  it('4.19.y, 5.3.y and 5.4.y hotplug rows: the sublevels of their release announcements', () => {
    expect(profileForOption('4.19.89').features.pgdatSpan).toBe('shrink-pgdat-span');
    expect(profileForOption('4.19.90').features.pgdatSpan).toBe('update-pgdat-span');
    expect(profileForOption('4.19.99').features).toMatchObject({ tryOfflineNode: 'section-walk', shrinkAtOffline: false, memunmapReadsNode: false });
    expect(profileForOption('4.19.100').features).toMatchObject({ tryOfflineNode: 'spans-and-blocks', shrinkAtOffline: true, memunmapReadsPfnFirst: true, memunmapReadsNode: true });
    // 4.19.108 still walks the zone by section and keeps the "only holes" loop.
    expect(profileForOption('4.19.108').features).toMatchObject({ shrinkSearchGranule: 'section', shrinkHoleLoop: true, poisonAtOffline: false });
    expect(profileForOption('5.3.11').features.tryOfflineNode).toBe('section-walk');
    expect(profileForOption('5.3.12').features.tryOfflineNode).toBe('spans-and-blocks');
    expect(profileForOption('5.4.8').features.shrinkAtOffline).toBe(false);
    expect(profileForOption('5.4.9').features).toMatchObject({ shrinkAtOffline: true, shrinkHoleLoop: true, poisonAtOffline: false });
  });
  it('--explain basis: a stable row named only as "not applied" (sublevel unknown) is no backport', () => {
    expect(profileForOption('5.3').basis).toBe('mainline 5.3');
    expect(profileForOption('5.3').notes.join('\n')).toMatch(/stable sublevel unknown: 5\.3\.12\+/);
    expect(profileForOption('5.3.12').basis).toBe('mainline 5.3.12 + stable backports');
  });
});

describe('a release mmsim has no profile for (issue 22): one warning line, naming the profile used', () => {
  // Mainline's series: 4.20 was followed by 5.0 and 5.19 by 6.0 (the v5.0 and v6.0 tags), so 4.21
  // and 5.20 never existed; the newest release the tables were read against is 6.18 (6.18.2).
  it('nearestProfile: past a series end or past 6.18, the nearest older release; a modelled one, null', () => {
    expect(nearestProfile(4, 21)).toBe('4.20');
    expect(nearestProfile(5, 25)).toBe('5.19');
    expect(nearestProfile(6, 19)).toBe('6.18');
    expect(nearestProfile(7, 2)).toBe('6.18');
    for (const [a, b] of [
      [4, 9],
      [4, 20],
      [5, 0],
      [5, 19],
      [6, 0],
      [6, 7],
      [6, 18],
    ] as const)
      expect(nearestProfile(a, b), `${a}.${b}`).toBeNull();
  });
  it("warns once per release however often it is resolved, and the profile's features are the nearest release's", () => {
    const lines: string[] = [];
    setProfileWarnings((l) => lines.push(l));
    try {
      for (let i = 0; i < 5; i++) expect(profileFor('7.0.3-foo').features).toEqual(profileFor('6.18').features);
      profileForOption('5.25');
      profileForOption('5.25');
      profileFor('6.7.3-foo');
    } finally {
      setProfileWarnings(null);
    }
    expect(lines).toEqual(['mmsim: no profile for kernel 7.0.3-foo; using the nearest, 6.18', 'mmsim: no profile for kernel 5.25; using the nearest, 5.19']);
    // --explain's basis names the profile used.
    expect(profileFor('7.1').basis).toBe('mainline 6.18, the nearest to 7.1');
    expect(profileFor('6.7.3').basis).toBe('mainline 6.7.3');
  });
});
