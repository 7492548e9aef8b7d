// The QEMU suite (npm run test:qemu): every scenario here and every example scenario, on the real
// kernel `mmsim verify --setup` installed and on the model, must agree field for field. Two VMs at
// a time. A model with one rule flipped must be caught, with the step and the field named.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedGuest } from '../../src/verify/setup.js';
import { formatDiff, verifyScenario } from '../../src/verify/verify.js';
import { root } from '../helpers.js';

const here = join(root, 'test', 'qemu');
const scenarios = [
  ...readdirSync(here).filter((f) => f.endsWith('.scenario.yaml')).map((f) => join(here, f)),
  ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.scenario.yaml')).map((f) => join(root, 'examples', f)),
];
const guest = installedGuest();

describe.skipIf(!guest)(`the real kernel (${guest?.release ?? 'not set up: run mmsim verify --setup'}) and mmsim agree`, () => {
  it('has at least 12 scenarios beside the examples', () => {
    expect(scenarios.filter((f) => f.startsWith(here)).length).toBeGreaterThanOrEqual(9);
    expect(scenarios.length).toBeGreaterThanOrEqual(15);
  });
  describe.concurrent('scenarios', () => {
    for (const file of scenarios) {
      it(file.slice(root.length + 1), async () => {
        const steps = await verifyScenario(file, {}, () => undefined);
        expect(steps[0]?.label).toMatch(/^boot \(/);
        expect(formatDiff(steps.filter((s) => s.diffs.length))).toBe('');
      });
    }
  });
  it('a model that shrinks ZONE_DEVICE at memunmap in 6.1 (the v5.3 rule) is caught at the destroy step, naming the field', async () => {
    const steps = await verifyScenario(join(root, 'examples', 'nvdimm.scenario.yaml'), { features: { shrinkAtOffline: false } }, () => undefined);
    const bad = steps.filter((s) => s.diffs.length);
    expect(bad.length).toBeGreaterThan(0);
    const text = formatDiff(bad);
    expect(text).toMatch(/step 11 \(.*nvdimm\.scenario\.yaml:17:5\):\n(.*\n)*  node 1 zone Device spanned: kernel 524288, mmsim 0\n/);
  });
});
