// Every log in ../shared/data/dmesg (x86_64, arm64, i686): the lines its manifest lists, byte
// for byte, in order.
import { describe, expect, it } from 'vitest';
import { checkLog, loadManifests } from '../src/cli/fidelity.js';
import { hasSharedData, sharedData, unless, NO_SHARED_DATA } from './helpers.js';

describe.skipIf(!hasSharedData)(`dmesg fidelity against ${sharedData}/dmesg${unless(hasSharedData, NO_SHARED_DATA)}`, () => {
  const manifests = loadManifests();
  it('has a manifest for every log', () => {
    expect(manifests.map((m) => m.log)).toHaveLength(12);
  });
  for (const m of manifests) {
    it(m.log, () => {
      const r = checkLog(m);
      expect(r.missing, `missing lines (reproduce: mmsim boot --from-dmesg ${m.log} --print dmesg)`).toEqual([]);
      expect(r.extra, 'lines mmsim printed that the log does not have in that order').toEqual([]);
      expect(r.total).toBeGreaterThan(10);
      expect(r.matched).toBe(r.total);
    });
  }
});
