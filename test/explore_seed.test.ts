// The 2019 race on the model: v5.3's memunmap_pages of B shrinks the Device zone by reading A's
// struct pages while A's memmap_init_zone_device runs outside mem_hotplug_lock; the span ends
// inside A and A's next pageblock hits VM_BUG_ON_PAGE(!zone_spans_pfn) — the BUG at
// mm/page_alloc.c:535 reported against 5.4-rc4. One preemption is enough.
import { describe, expect, it } from 'vitest';
import { explore } from '../src/drivers/explore.js';
import { seed2019World } from '../src/drivers/seed2019.js';

describe('seed-2019 under the explore driver', () => {
  it('v5.3: the zone_spans_pfn BUG, its trace through B\'s find_biggest_section_pfn in A\'s uninitialised pages', () => {
    const r = explore(() => seed2019World('5.3'), { preemptionBound: 1 });
    const v = r.violations.find((x) => x.invariant === 'zone_spans_pfn');
    expect(v?.message).toMatch(/^page:ffffea00040[0-9a-f]+ pfn:1[0-9a-f]+ node 0 zone Device; page dumped because: VM_BUG_ON_PAGE\(!zone_spans_pfn\(page_zone\(page\), pfn\)\)$/);
    const ops = v?.trace.map((s) => `${s.name}: ${s.op}`) ?? [];
    // B reads struct pages below its own start (in A), drops the lock, then A's next pageblock fails.
    expect(ops.some((o) => /^memunmap B: read struct page 10[45]\d{4}$/.test(o))).toBe(true);
    expect(ops.at(-1)).toMatch(/^memremap A: set_pfnblock_flags_mask pfn 0x10[0-9a-f]+ zone Device$/);
    expect(ops.indexOf('memunmap B: up_write mem_hotplug_lock')).toBeGreaterThan(ops.indexOf('memremap A: up_write mem_hotplug_lock'));
  }, 180_000);
});

describe('seed-2019 on the fixed designs', () => {
  it('serialize (the 2019 patch), no-shrink (the 5.5 fixes), 6.1 and current: no violation within one preemption', () => {
    for (const k of ['serialize', 'no-shrink', '6.1', 'current']) {
      const r = explore(() => seed2019World(k), { preemptionBound: 1 });
      expect(r.violations, k).toEqual([]);
      expect(r.interleavings, k).toBeGreaterThan(100);
    }
  });
});

describe('mmsim explore seed-2019', () => {
  it('prints the shortest trace ending in the kernel\'s words and the replay command, exit 1; JSON with the verdict; a fixed design exits 0', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const { cliPath } = await import('./helpers.js');
    const bad = spawnSync(process.execPath, [cliPath, 'explore', 'seed-2019', '--design', 'v5.3'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^zone_spans_pfn: 91 steps\n/);
    expect(bad.stdout).toMatch(/ {2}page:ffffea0004018000 pfn:100600 node 0 zone Device; page dumped because: VM_BUG_ON_PAGE\(!zone_spans_pfn\(page_zone\(page\), pfn\)\)\n {2}replay: mmsim explore seed-2019 --design v5\.3 --bound 1\n/);
    const j = JSON.parse(spawnSync(process.execPath, [cliPath, 'explore', 'seed-2019', '--design', 'v5.3', '--json'], { encoding: 'utf8' }).stdout) as { verdict: string; violations: { invariant: string; steps: number }[]; interleavings: number; exhaustive: boolean };
    expect(j).toMatchObject({ verdict: 'violation', violations: [{ invariant: 'zone_spans_pfn', steps: 91 }], interleavings: 211, exhaustive: false });
    expect(execFileSync(process.execPath, [cliPath, 'explore', 'seed-2019', '--design', 'current'], { encoding: 'utf8' })).toMatch(/^no violation: 202 interleavings \(bound 1\)/);
  }, 60_000);
});

describe('mmsim designs', () => {
  it('lists each design with its kernel and the features it changes', async () => {
    const { execFileSync } = await import('node:child_process');
    const { cliPath } = await import('./helpers.js');
    const outText = execFileSync(process.execPath, [cliPath, 'designs'], { encoding: 'utf8' });
    expect(outText.split('\n').filter((l) => /^\S/.test(l)).map((l) => l.split(' ')[0])).toEqual(['v5.3', 'serialize', 'no-shrink', '6.1', 'current']);
    expect(outText).toContain('kernel 5.3; zoneDeviceInitUnderLock=true');
  });
});

describe('mmsim explore --replay', () => {
  it('replays a saved counterexample to the same trace and the same words, byte for byte; a file that is not one is one clear error', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { cliPath } = await import('./helpers.js');
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-replay-'));
    const found = spawnSync(process.execPath, [cliPath, 'explore', 'seed-2019', '--design', 'v5.3'], { encoding: 'utf8' });
    const saved = spawnSync(process.execPath, [cliPath, 'explore', 'seed-2019', '--design', 'v5.3', '--json'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'cex.json'), saved.stdout);
    const replayed = spawnSync(process.execPath, [cliPath, 'explore', '--replay', join(dir, 'cex.json')], { encoding: 'utf8' });
    expect(replayed.status).toBe(0);
    // The explore output's trace and message lines, without the header and the replay/summary lines.
    const body = found.stdout.split('\n').filter((l) => /^ {2}( {0,3}\d+ {2}|page:)/.test(l)).join('\n');
    expect(replayed.stdout.trimEnd()).toBe(body);
    writeFileSync(join(dir, 'bad.json'), '{"scenario":"seed-2019"}');
    const bad = spawnSync(process.execPath, [cliPath, 'explore', '--replay', join(dir, 'bad.json')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^mmsim: .*bad\.json: expected mmsim explore --json output with a violation\n$/);
  }, 60_000);
});
