// The QEMU suite (npm run test:qemu): every scenario here and every example scenario, on each real
// kernel `mmsim verify --setup` installed (Debian's 6.1 and 6.12; a series not set up is skipped,
// saying so) and on the model, must agree field for field. Two VMs at a time. A model with one rule
// flipped must be caught, with the step and the field named.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedGuest, KERNEL_SERIES } from '../../src/verify/setup.js';
import { formatDiff, verifyScenario } from '../../src/verify/verify.js';
import { root } from '../helpers.js';

const here = join(root, 'test', 'qemu');
const scenarios = [
  ...readdirSync(here)
    .filter((f) => f.endsWith('.scenario.yaml'))
    .map((f) => join(here, f)),
  // Every example the real kernel can run step by step (a concurrent block is for mmsim explore).
  ...readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.scenario.yaml') && !readFileSync(join(root, 'examples', f), 'utf8').includes('concurrent:'))
    .map((f) => join(root, 'examples', f)),
];
const guest = installedGuest();

it('has at least 12 scenarios beside the examples', () => {
  expect(scenarios.filter((f) => f.startsWith(here)).length).toBeGreaterThanOrEqual(12);
  expect(scenarios.length).toBeGreaterThanOrEqual(19);
  // Issue 18's memmap scenarios: boot on three nodes, a pc-dimm, memmap_on_memory, the NVDIMM modes, devdax at 1 GiB.
  expect(scenarios.filter((f) => readFileSync(f, 'utf8').includes('print: memmap')).length).toBeGreaterThanOrEqual(5);
});

for (const series of KERNEL_SERIES) {
  const g = installedGuest(undefined, series);
  describe.skipIf(!g)(`the real kernel ${series} (${g?.release ?? `skipped: not set up, run mmsim verify --setup`}) and mmsim agree`, () => {
    describe.concurrent('scenarios', () => {
      for (const file of scenarios) {
        it(file.slice(root.length + 1), async () => {
          // A scenario with `print: memmap` steps dumps the guest there and at its end and diffs every struct page.
          const memmap = readFileSync(file, 'utf8').includes('print: memmap');
          const steps = await verifyScenario(file, { series, memmap }, () => undefined);
          expect(steps[0]?.label).toMatch(new RegExp(`^boot \\(${series.replace('.', '\\.')}\\.`));
          expect(formatDiff(steps.filter((s) => s.diffs.length))).toBe('');
        });
      }
    });
  });
}

describe.skipIf(!guest)(`verify's own checks on the real kernel 6.1 (${guest?.release ?? 'skipped: not set up, run mmsim verify --setup'})`, () => {
  it('--initrd-extra files land on top of the initramfs (a report without blocks shows up as a difference)', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, chmodSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const extra = mkdtempSync(join(tmpdir(), 'mmsim-extra-'));
    mkdirSync(join(extra, 'bin'));
    writeFileSync(
      join(extra, 'bin', 'mmsim-report'),
      '#!/bin/sh\necho "=== zoneinfo"\nawk \'/^Node/ {print; next} /^ *(spanned|present|managed) / {print; next} /^ *start_pfn:/ {print}\' /proc/zoneinfo\necho "=== blocks"\necho "=== end"\n',
    );
    chmodSync(join(extra, 'bin', 'mmsim-report'), 0o755);
    const steps = await verifyScenario(join(here, 'boot-2node.scenario.yaml'), { initrdExtra: extra }, () => undefined);
    expect(formatDiff(steps)).toMatch(/memory blocks line 1: kernel "\(none\)", mmsim "memory0 state=online/);
  });
  it('a guest started while the host process is blocked (a synchronous drgn run beside it) still reaches its agent', async () => {
    // The guest's first line on the agent port is lost if nobody is connected yet: QEMU must
    // hold the guest (-S) until both sockets are connected. Block this process past the guest's boot.
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { Vm } = await import('../../src/verify/vm.js');
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-blocked-'));
    const g = guest as NonNullable<typeof guest>;
    const started = Vm.start(dir, ['-m', '1G', '-smp', '1'], g, '', 120_000);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 45_000);
    const vm = await started;
    expect((await vm.agent.run('echo up')).out.trim()).toBe('up');
    await vm.close();
  });
  it('a model that shrinks ZONE_DEVICE at memunmap in 6.1 (the v5.3 rule) is caught at the destroy step, naming the field', async () => {
    const steps = await verifyScenario(join(root, 'examples', 'nvdimm.scenario.yaml'), { features: { shrinkAtOffline: false } }, () => undefined);
    const bad = steps.filter((s) => s.diffs.length);
    expect(bad.length).toBeGreaterThan(0);
    const text = formatDiff(bad);
    expect(text).toMatch(/step 11 \(.*nvdimm\.scenario\.yaml:17:5\):\n(.*\n)*  node 1 zone Device spanned: kernel 524288, mmsim 0\n/);
  });
});
