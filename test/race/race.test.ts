// mmsim verify --race on the real kernels of ../shared/kernels (MMSIM_KERNELS names another
// directory): each image under QEMU against mmsim explore's verdict for its release and config.
// Expected results are the ones ../shared/kernels/README.md records for these images (the 2019
// BUG at mm/page_alloc.c:535 within seconds on 5.3 with DEBUG_VM; VM_BUG_ON_PAGE(PagePoisoned(p))
// when a --map=dev namespace goes on the PGFLAGS build, and with --map=mem B's read of A's poisoned
// last page in __remove_pages, or without the guard pfn 0x7ffff's; no BUG on 4.19.1 and 6.1-debug; the
// Device zone spans of t=z), and the spans worked by hand: node 1's ZONE_DEVICE runs from K's
// start (4 GiB) to the end of the highest live namespace, in 4 KiB pages. A no-BUG result is
// bounded ("no BUG in N cycles"), never a proof.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, root } from '../helpers.js';
import type { RaceResult } from '../../src/verify/race.js';

const kernels = process.env['MMSIM_KERNELS'] ?? join(root, '..', 'shared', 'kernels');
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status === 0;
/** The no-BUG runs' bound, guest seconds. */
const NO_BUG_SECONDS = 30;

function image(rel: string): { path: string; skip: string | null } {
  const path = join(kernels, rel);
  if (!hasQemu) return { path, skip: 'no qemu-system-x86_64' };
  return { path, skip: existsSync(path) ? null : `no ${path}` };
}

function race(args: string[]): { r: RaceResult; status: number | null; stderr: string } {
  const p = spawnSync('node', [cliPath, 'verify', '--json', ...args], { encoding: 'utf8', timeout: 390_000 });
  if (!p.stdout.trim().startsWith('{')) throw new Error(`mmsim verify ${args.join(' ')}: exit ${p.status}: ${p.stderr.trim()}`);
  const r = JSON.parse(p.stdout) as RaceResult;
  // The measured result, for docs/fidelity.md's table.
  const sum = (c: Record<string, number> | null): number => Object.values(c ?? {}).reduce((s, n) => s + n, 0);
  const first = r.real.violations[0];
  console.log(
    `[race] ${r.release} ${r.config} ${r.mode}: ${
      first ? `${first.report.headline} => ${first.invariant}, ${r.real.secondsToFirst ?? '?'} s after the start, ${sum(r.real.cyclesToFirst)} cycles before it` : 'no BUG, WARN or Oops'
    }; ${sum(r.real.cycles)} cycles run (${JSON.stringify(r.real.cycles)}); wall ${r.real.wallSeconds} s; ${r.agree ? 'agree' : 'DISAGREE'}${
      r.real.zoneSteps.length ? `; Device spans ${r.real.zoneSteps.map((z) => z.spanned['Node 1 Device'] ?? 0).join(' ')}` : ''
    }`,
  );
  // A disagreement prints what it rests on, so a CI log alone can be read: the verdict and every report's lines.
  if (!r.agree) console.log(`[race] why: ${r.why}\n${r.real.violations.map((v) => `  ${v.invariant}:\n    ${v.report.lines.join('\n    ')}`).join('\n')}`);
  return { r, status: p.status, stderr: p.stderr };
}

const GiB_PAGES = 262144;
/** Node 1's Device span after K (1 GiB at 4 GiB), A (6 GiB at 5 GiB), B (256 MiB at 11 GiB): by hand. */
const AFTER_K = GiB_PAGES;
const AFTER_A = 7 * GiB_PAGES; // 4 GiB .. 11 GiB
const AFTER_B = 7 * GiB_PAGES + 65536; // .. 11 GiB + 256 MiB

function spans(r: RaceResult): number[] {
  return r.real.zoneSteps.filter((z) => z.step !== 'boot').map((z) => z.spanned['Node 1 Device'] ?? 0);
}

const v53 = image('v5.3/bzImage-nopgflags');
const v53pg = image('v5.3/bzImage-pgflags');
const v419 = image('v4.19.1/bzImage');
const v61 = image('v6.1-debug/bzImage');

describe('Linux 5.3', () => {
  it.skipIf(v53pg.skip !== null)(
    `DEBUG_VM_PGFLAGS: destroying a --map=dev namespace reads its poisoned struct page (VM_BUG_ON_PAGE(PagePoisoned(p)))${v53pg.skip ? ` (skipped: ${v53pg.skip})` : ''}`,
    () => {
      const { r, status } = race(['--race', 'seed-2019', '--kernel', v53pg.path, '--config', 'debug_vm_pgflags', '--zone-steps']);
      expect(r.release).toBe('5.3.0');
      const first = r.real.violations[0];
      expect(first?.invariant).toBe('poisoned struct page read');
      expect(first?.report.expression).toBe('VM_BUG_ON_PAGE(PagePoisoned(p))');
      expect(first?.report.rip).toBe('devm_memremap_pages_release');
      // K, A and B were created; the first destroy (B) is where it fires.
      expect(spans(r)).toEqual([AFTER_K, AFTER_A, AFTER_B]);
      expect(r.model.reported).toEqual(['poisoned struct page read (destroy B)']);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(v53pg.skip !== null)(
    `DEBUG_VM_PGFLAGS, --map=mem loops: B's side hits first, reading A's poisoned last struct page in __remove_pages${v53pg.skip ? ` (skipped: ${v53pg.skip})` : ''}`,
    () => {
      // README: "On the PGFLAGS kernel B's side hits first: A's poisoned last struct page read in
      // __remove_pages". B's unbind: devm_memremap_pages_release -> arch_remove_memory ->
      // __remove_pages, shrink_zone_span's find_biggest_section_pfn inlined (mm/memory_hotplug.c 5.3.0).
      const { r, status } = race(['--race', 'seed-2019-map-mem', '--kernel', v53pg.path, '--config', 'debug_vm_pgflags', '--seconds', '60']);
      expect(r.map).toBe('mem');
      const first = r.real.violations[0];
      expect(first?.invariant).toBe('poisoned struct page read');
      expect(first?.report.expression).toBe('VM_BUG_ON_PAGE(PagePoisoned(p))');
      expect(first?.report.rip).toBe('__remove_pages');
      // A's last pfn: 11 GiB / 4 KiB - 1 = 0x2bffff; its struct page 0xffffea0000000000 + 0x2bffff * 64.
      expect(first?.report.lines).toContain('page:ffffea000affffc0 is uninitialized and poisoned');
      expect(r.model.reported).toEqual(['poisoned struct page read (memunmap B)']);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(v53pg.skip !== null)(
    `DEBUG_VM_PGFLAGS, --map=mem zone steps without the guard: destroying A reads pfn 0x7ffff's never-initialised struct page in __remove_pages${v53pg.skip ? ` (skipped: ${v53pg.skip})` : ''}`,
    () => {
      // README: "With only two namespaces and PGFLAGS, removing both lets the node-span scan reach
      // the uninitialised memmap of the BIOS-reserved tail of low RAM (pfn 0x7ffff)".
      // struct page of pfn 0x7ffff: 0xffffea0000000000 + 0x7ffff * 64.
      const { r, status } = race(['--race', 'seed-2019-map-mem', '--kernel', v53pg.path, '--config', 'debug_vm_pgflags', '--zone-steps', '--no-guard']);
      expect(r.guard).toBe(false);
      const first = r.real.violations[0];
      expect(first?.invariant).toBe('poisoned struct page read');
      expect(first?.report.rip).toBe('__remove_pages');
      expect(first?.report.expression).toBe('VM_BUG_ON_PAGE(PagePoisoned(p))');
      expect(first?.report.lines).toContain('page:ffffea0001ffffc0 is uninitialized and poisoned');
      // A and B created, B destroyed (node 1 Device: 6 GiB from 5 GiB), then A's destroy BUGs.
      expect(spans(r)).toEqual([6 * GiB_PAGES, 6 * GiB_PAGES + 65536, 6 * GiB_PAGES]);
      expect(r.model.reported).toEqual(['poisoned struct page read (destroy A)']);
      expect(r.zones?.diffs).toEqual([]);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(v53.skip !== null)(
    `DEBUG_VM, --map=mem zone steps without the guard: no BUG (pfn 0x7ffff reads as no node); the model's spans stop at destroy A on its own node-span check${v53.skip ? ` (skipped: ${v53.skip})` : ''}`,
    () => {
      const { r, status } = race(['--race', 'seed-2019-map-mem', '--kernel', v53.path, '--zone-steps', '--no-guard']);
      expect(r.real.violations).toEqual([]);
      // A (6 GiB), + B (256 MiB), - B, - A: the Device zone empties.
      expect(spans(r)).toEqual([6 * GiB_PAGES, 6 * GiB_PAGES + 65536, 6 * GiB_PAGES, 0]);
      expect(r.model.silent).toEqual(['poisoned struct page read (destroy A)']);
      expect(r.zones?.stopped?.step).toBe('destroy A');
      expect(r.zones?.diffs).toEqual([]);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(v53.skip !== null)(`DEBUG_VM: seed-2019's concurrent loops hit the 2019 BUG at mm/page_alloc.c:535${v53.skip ? ` (skipped: ${v53.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v53.path, '--seconds', '60']);
    expect(r.release).toBe('5.3.0+');
    const first = r.real.violations[0];
    expect(first?.invariant).toBe('zone_spans_pfn');
    expect(first?.report.where).toBe('mm/page_alloc.c:535');
    expect(first?.report.expression).toBe('VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))');
    expect(first?.report.calls.slice(0, 3)).toEqual(['set_pageblock_migratetype', 'memmap_init_zone_device', 'devm_memremap_pages']);
    expect(r.real.secondsToFirst).not.toBeNull();
    expect(r.model.reported).toEqual(['zone_spans_pfn']);
    expect(r.agree).toBe(true);
    expect(status).toBe(0);
  });

  it.skipIf(v53.skip !== null)(
    `DEBUG_VM, --map=mem loops (the README's runs): the 2019 BUG; B's read of A's poisoned page is silent without PGFLAGS${v53.skip ? ` (skipped: ${v53.skip})` : ''}`,
    () => {
      const { r, status } = race(['--race', 'seed-2019-map-mem', '--kernel', v53.path, '--seconds', '60']);
      expect(r.real.violations[0]?.invariant).toBe('zone_spans_pfn');
      expect(r.model.reported).toEqual(['zone_spans_pfn']);
      expect(r.model.silent).toEqual(['poisoned struct page read (memunmap B)']);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(v53.skip !== null)(`a mis-stated config is a disagreement, exit 1: the DEBUG_VM image run as debug_vm_pgflags${v53.skip ? ` (skipped: ${v53.skip})` : ''}`, () => {
    // Under PGFLAGS the model's every interleaving stops at B's poisoned first page (2 steps), so it
    // never reaches zone_spans_pfn; the image has no PGFLAGS, reads the page silently and races on.
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v53.path, '--config', 'debug_vm_pgflags', '--seconds', '60']);
    expect(r.real.violations[0]?.invariant).toBe('zone_spans_pfn');
    expect(r.model.reported).toEqual(['poisoned struct page read (memunmap B)']);
    expect(r.agree).toBe(false);
    expect(status).toBe(1);
  });

  it.skipIf(v53.skip !== null)(`DEBUG_VM: the same steps one after the other: no BUG in ${NO_BUG_SECONDS} s${v53.skip ? ` (skipped: ${v53.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v53.path, '--sequential', '--seconds', String(NO_BUG_SECONDS)]);
    expect(r.real.violations).toEqual([]);
    expect(r.real.cycles['AB']).toBeGreaterThan(0);
    expect(r.model.reported).toEqual([]);
    expect(r.agree).toBe(true);
    expect(status).toBe(0);
  });

  it.skipIf(v53.skip !== null)(`DEBUG_VM: create K, A, B, destroy B, destroy A — the Device span shrinks back, as the model's${v53.skip ? ` (skipped: ${v53.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v53.path, '--zone-steps']);
    expect(r.real.violations).toEqual([]);
    expect(spans(r)).toEqual([AFTER_K, AFTER_A, AFTER_B, AFTER_A, AFTER_K]);
    expect(r.zones?.diffs).toEqual([]);
    expect(status).toBe(0);
  });
});

// A 5.3 DEBUG_VM kernel built from the Linux 5.3 tree with `mmsim explore seed-2019 --design v5.3
// --reproducer DIR`'s zone_spans_pfn.patch applied (MMSIM_DELAY_KERNEL: the bzImage; the recipe and
// the measured runs are in docs/fidelity.md). With mmsim_delay_ms=2000 mmsim_delay_dev=pfn2.0 (A's
// pfn device in this guest) every bind of A waits 2 s after mem_hotplug_done, before
// memmap_init_zone_device, and B's unbind lands in that window: the BUG comes during A's first
// bind (no cycle of A finished), in each of the runs docs/fidelity.md records.
const delayKernel = process.env['MMSIM_DELAY_KERNEL'];
const delaySkip = !hasQemu ? 'no qemu-system-x86_64' : !delayKernel ? 'MMSIM_DELAY_KERNEL not set' : !existsSync(delayKernel) ? `no ${delayKernel}` : null;

describe('Linux 5.3 with the reproducer patch', () => {
  it.skipIf(delaySkip !== null)(`mmsim_delay_ms=2000 for A's device: the delay is taken, then the 2019 BUG during A's first bind${delaySkip ? ` (skipped: ${delaySkip})` : ''}`, () => {
    const { r, status, stderr } = race(['--race', 'seed-2019', '--kernel', delayKernel as string, '--kernel-args', 'mmsim_delay_ms=2000 mmsim_delay_dev=pfn2.0', '--keep', '--seconds', '60']);
    const kept = /^kept (\S+)$/m.exec(stderr)?.[1];
    const text = kept ? readFileSync(join(kept, 'console.log'), 'utf8') : '';
    if (kept) rmSync(kept, { recursive: true, force: true });
    expect(r.kernelArgs).toBe('mmsim_delay_ms=2000 mmsim_delay_dev=pfn2.0');
    expect(r.namespaces.find((n) => n.role === 'A')?.pfn).toBe('pfn2.0');
    const first = r.real.violations[0];
    expect(first?.invariant).toBe('zone_spans_pfn');
    expect(first?.report.calls.slice(0, 3)).toEqual(['set_pageblock_migratetype', 'memmap_init_zone_device', 'devm_memremap_pages']);
    // The patch's pr_info, after the loops' start and before the BUG.
    const start = text.indexOf('mmsim-race: loops start');
    const delay = text.indexOf('mmsim: 2000 ms delay in devm_memremap_pages (pfn2.0)', start);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(delay).toBeGreaterThan(start);
    expect(text.indexOf('kernel BUG at mm/page_alloc.c:535!', delay)).toBeGreaterThan(delay);
    expect(r.real.cyclesToFirst?.['A'] ?? 0).toBe(0);
    expect(r.agree).toBe(true);
    expect(status).toBe(0);
  });
});

describe('Linux 4.19.1 (DEBUG_VM)', () => {
  it.skipIf(v419.skip !== null)(`seed-2019's loops: no BUG in ${NO_BUG_SECONDS} s${v419.skip ? ` (skipped: ${v419.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v419.path, '--seconds', String(NO_BUG_SECONDS)]);
    expect(r.release).toBe('4.19.1');
    expect(r.real.violations).toEqual([]);
    expect((r.real.cycles['A'] ?? 0) + (r.real.cycles['B'] ?? 0)).toBeGreaterThan(0);
    expect(r.agree).toBe(true);
    expect(status).toBe(0);
  });
  it.skipIf(v419.skip !== null)(`zone steps: the span shrinks when the upper namespace goes (README t=z)${v419.skip ? ` (skipped: ${v419.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v419.path, '--zone-steps']);
    expect(spans(r)).toEqual([262144, 1835008, 1900544, 1835008, 262144]);
    expect(r.zones?.diffs).toEqual([]);
    expect(status).toBe(0);
  });
});

describe('Linux 6.1.192 (Debian, DEBUG_VM)', () => {
  it.skipIf(v61.skip !== null)(`seed-2019's loops: no BUG in ${NO_BUG_SECONDS} s${v61.skip ? ` (skipped: ${v61.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v61.path, '--seconds', String(NO_BUG_SECONDS)]);
    expect(r.release).toBe('6.1.192');
    expect(r.real.violations).toEqual([]);
    expect(r.agree).toBe(true);
    expect(status).toBe(0);
  });
  it.skipIf(v61.skip !== null)(`zone steps: ZONE_DEVICE never shrinks (README t=z)${v61.skip ? ` (skipped: ${v61.skip})` : ''}`, () => {
    const { r, status } = race(['--race', 'seed-2019', '--kernel', v61.path, '--zone-steps']);
    expect(spans(r)).toEqual([262144, 1835008, 1900544, 1900544, 1900544]);
    expect(r.zones?.diffs).toEqual([]);
    expect(status).toBe(0);
  });
});

// A scenario file's concurrent block as loops (examples/concurrent-online-remove: three pc-dimms
// C, A, B on node 1; A only added, B onlined and offlined; then A onlined while B is removed).
// ../shared/kernels' images have no ACPI memory hotplug (their configs: "# CONFIG_ACPI_HOTPLUG_MEMORY
// is not set"), so a pc-dimm can be neither plugged nor unplugged in them: one line, exit 2. The
// same configs with CONFIG_ACPI_HOTPLUG_MEMORY=y (MMSIM_ACPI_KERNELS: v5.3/bzImage-pgflags,
// v5.3/bzImage-nopgflags, v6.1-debug/bzImage; docs/fidelity.md has the recipe) run the loops. Expected from 5.3.0's source:
// B's remove while A is plugged and never onlined shrinks the Movable zone from B's start down
// (find_biggest_section_pfn) and its first pfn_valid pfn is A's last, 0x10ffff, whose struct page
// is page_init_poison's; under PGFLAGS page_to_nid's PF_POISONED_CHECK is the BUG, in __remove_pages
// under the ACPI eject. 6.1 shrinks at offline and reads no memmap at remove: nothing.
const example = join(root, 'examples', 'concurrent-online-remove.scenario.yaml');
const acpiKernels = process.env['MMSIM_ACPI_KERNELS'] ?? join(kernels, 'acpi-memhotplug');
function acpiImage(rel: string): { path: string; skip: string | null } {
  const path = join(acpiKernels, rel);
  if (!hasQemu) return { path, skip: 'no qemu-system-x86_64' };
  return { path, skip: existsSync(path) ? null : `no ${path} (MMSIM_ACPI_KERNELS names the directory)` };
}
const a53pg = acpiImage('v5.3/bzImage-pgflags');
const a53 = acpiImage('v5.3/bzImage-nopgflags');
const a61 = acpiImage('v6.1-debug/bzImage');
const shared53config = join(kernels, 'v5.3', 'config.pgflags');

describe('a scenario file: examples/concurrent-online-remove', () => {
  it.skipIf(v53pg.skip !== null || !existsSync(shared53config))(
    `an image without ACPI memory hotplug says so in one line, exit 2, instead of waiting for blocks that never come${v53pg.skip ? ` (skipped: ${v53pg.skip})` : ''}`,
    () => {
      expect(readFileSync(shared53config, 'utf8')).toContain('# CONFIG_ACPI_HOTPLUG_MEMORY is not set');
      const p = spawnSync('node', [cliPath, 'verify', '--race', example, '--kernel', v53pg.path, '--config', 'debug_vm_pgflags', '--seconds', '10'], { encoding: 'utf8', timeout: 120_000 });
      expect(p.status).toBe(2);
      expect(
        p.stderr
          .trim()
          .split('\n')
          .filter((l) => !/^(booting|loops) /.test(l)),
      ).toHaveLength(1);
      expect(p.stderr).toMatch(/Linux 5\.3\.0 .* has no ACPI memory hotplug \(no \/sys\/firmware\/acpi\/hotplug\/memory: built without CONFIG_ACPI_HOTPLUG_MEMORY\)/);
    },
  );

  it.skipIf(a53pg.skip !== null)(
    `5.3 DEBUG_VM_PGFLAGS: B's remove reads A's never-initialised last struct page, VM_BUG_ON_PAGE(PagePoisoned(p)) under the ACPI eject${a53pg.skip ? ` (skipped: ${a53pg.skip})` : ''}`,
    () => {
      const { r, status } = race(['--race', example, '--kernel', a53pg.path, '--config', 'debug_vm_pgflags', '--seconds', '60']);
      expect(r.release).toBe('5.3.0');
      expect(r.loops?.map((l) => l.op)).toEqual(['online_movable memory33', 'remove memory34']);
      const first = r.real.violations[0];
      expect(first?.invariant).toBe('poisoned struct page read');
      expect(first?.report.expression).toBe('VM_BUG_ON_PAGE(PagePoisoned(p))');
      expect(first?.report.rip).toBe('__remove_pages');
      expect(first?.report.calls.slice(0, 5)).toEqual(['arch_remove_memory', 'try_remove_memory', '__remove_memory', 'acpi_memory_device_remove', 'acpi_bus_trim']);
      expect(r.model.reported).toEqual(['poisoned struct page read (2: remove_memory memory34)']);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(a53.skip !== null)(
    `5.3 DEBUG_VM without PGFLAGS: the same read of A's poisoned page is silent (nid all ones: not node 1, skipped): no BUG in ${NO_BUG_SECONDS} s${a53.skip ? ` (skipped: ${a53.skip})` : ''}`,
    () => {
      const { r, status } = race(['--race', example, '--kernel', a53.path, '--seconds', String(NO_BUG_SECONDS)]);
      expect(r.real.violations).toEqual([]);
      expect(r.real.cycles['L1']).toBeGreaterThan(0);
      expect(r.real.cycles['L2']).toBeGreaterThan(0);
      expect([r.model.reported, r.model.silent]).toEqual([[], ['poisoned struct page read (2: remove_memory memory34)']]);
      expect(r.agree).toBe(true);
      expect(status).toBe(0);
    },
  );

  it.skipIf(a61.skip !== null)(`6.1-debug: no BUG in ${NO_BUG_SECONDS} s, both loops cycling${a61.skip ? ` (skipped: ${a61.skip})` : ''}`, () => {
    const { r, status } = race(['--race', example, '--kernel', a61.path, '--seconds', String(NO_BUG_SECONDS)]);
    expect(r.release).toBe('6.1.192');
    expect(r.real.violations).toEqual([]);
    expect(r.real.failures).toBeUndefined();
    expect(r.real.cycles['L1']).toBeGreaterThan(0);
    expect(r.real.cycles['L2']).toBeGreaterThan(0);
    expect(r.model.reported).toEqual([]);
    expect(r.agree).toBe(true);
    expect(status).toBe(0);
  });
});

// --walker kpageflags: a third loop reads A's pfns of /proc/kpageflags (dd), as explore --walker
// kpageflags reads A's range. 5.3.0 and 4.19.1 (fs/proc/page.c read in both) read a pfn_valid
// pfn's struct page: A's altmap reserve pfn is never initialised (memmap_init_zone_device and
// 4.19's memmap_init_zone start after it) and poisoned (page_init_poison, 4.19's
// sparse_add_one_section memset), and stable_page_flags' PageSlab takes compound_head of the
// all-ones page to be at ~1: the Oops at fffffffffffffffe, PGFLAGS or not, at once (RBX
// ffffea0005000000, pfn 0x140000, A's first). 6.1.192: the file ends at max_dump_pfn (RAM's
// max_pfn rounded to a section: Debian's add_pages leaves max_pfn alone for a pgmap), so the
// walker reads none of A's pfns and the run says so.
describe('verify --race seed-2019 --walker kpageflags', () => {
  const walker = (img: { path: string }, config: string, seconds: number) =>
    race(['--race', 'seed-2019', '--kernel', img.path, '--config', config, '--walker', 'kpageflags', '--seconds', String(seconds)]);
  // The walker's Oops, or (where the model predicts another violation that races with it from
  // the loops' start) that one: on PGFLAGS B's first unbind reads its own reserve pfn
  // (VM_BUG_ON_PAGE(PagePoisoned(p)) in devm_memremap_pages_release), and under DEBUG_VM the
  // 2019 BUG can come first; either way the verdict must agree. Seen at 09:09: B's BUG 0.023 s in.
  const oops = (r: RaceResult, headline: string, others: readonly string[] = []): void => {
    const first = r.real.violations[0];
    expect(r.walkers?.map((w) => [w.name, w.start, w.end])).toEqual([['kpageflags', 0x140000, 0x2c0000]]);
    expect(r.model.reported).toContain('poisoned struct page read (kpageflags)');
    expect(r.agree).toBe(true);
    if (first?.report.rip !== 'stable_page_flags') {
      expect(others).toContain(`${first?.invariant ?? 'nothing'} at ${first?.report.rip ?? '?'}`);
      return;
    }
    expect(first.report.headline).toBe(headline);
    expect(first.report.calls[0]).toBe('kpageflags_read');
    expect(first.invariant).toBe('poisoned struct page read');
  };
  it.skipIf(v53.skip !== null)(`5.3 DEBUG_VM, no PGFLAGS: the Oops in stable_page_flags${v53.skip ? ` (skipped: ${v53.skip})` : ''}`, () => {
    const { r, status } = walker(v53, 'debug_vm', 20);
    oops(r, 'BUG: unable to handle page fault for address: fffffffffffffffe', ['zone_spans_pfn at set_pfnblock_flags_mask']);
    expect(r.model.silent).toEqual(['poisoned struct page read (memunmap B)']);
    expect(status).toBe(0);
  });
  it.skipIf(v53pg.skip !== null)(`5.3 DEBUG_VM_PGFLAGS: the same Oops, before any PF_POISONED_CHECK (or B's own poisoned read, racing it)${v53pg.skip ? ` (skipped: ${v53pg.skip})` : ''}`, () => {
    const { r, status } = walker(v53pg, 'debug_vm_pgflags', 20);
    oops(r, 'BUG: unable to handle page fault for address: fffffffffffffffe', ['poisoned struct page read at devm_memremap_pages_release']);
    expect(r.model.reported).toContain('poisoned struct page read (memunmap B)');
    expect(status).toBe(0);
  });
  it.skipIf(v419.skip !== null)(`4.19.1 DEBUG_VM: the same Oops in 4.19's words${v419.skip ? ` (skipped: ${v419.skip})` : ''}`, () => {
    const { r, status } = walker(v419, 'debug_vm', 20);
    // Nothing else is reported on 4.19.1: B's read is silent without PGFLAGS, and it has no 2019 BUG.
    expect(r.model.reported).toEqual(['poisoned struct page read (kpageflags)']);
    oops(r, 'BUG: unable to handle kernel paging request at fffffffffffffffe');
    expect(status).toBe(0);
  });
  // --map=mem: no altmap, so every pfn of A is initialised once its bind finishes. The Oops
  // comes only from the race: the walker reads ahead of memmap_init_zone_device while A's loop
  // binds it again (the model: 5 steps, A's sections added, its memmap not yet initialised; the
  // real page: ffffea0008b88000 and ffffea0006f50000, pfns 0x22e200 and 0x1bd400, far into A). One
  // after the other (the model's --bound 0: nothing) every pass reads all of A, and nothing faults.
  it.skipIf(v53.skip !== null)(
    `5.3, --map=mem: the Oops needs the race (A's memmap read while it is being initialised); one after the other, nothing${v53.skip ? ` (skipped: ${v53.skip})` : ''}`,
    () => {
      const race1 = race(['--race', 'seed-2019-map-mem', '--kernel', v53.path, '--walker', 'kpageflags', '--seconds', '60']);
      oops(race1.r, 'BUG: unable to handle page fault for address: fffffffffffffffe');
      expect(race1.status).toBe(0);
      const seq = race(['--race', 'seed-2019-map-mem', '--kernel', v53.path, '--walker', 'kpageflags', '--sequential', '--seconds', String(NO_BUG_SECONDS)]);
      expect(seq.r.real.violations).toEqual([]);
      expect(seq.r.real.cycles['AB']).toBeGreaterThan(0);
      expect(seq.r.walkers?.[0]?.passes).toBe(seq.r.real.cycles['AB']);
      expect(seq.r.walkers?.[0]?.pfnsRead).toBe(0x2c0000 - 0x140000);
      expect(seq.r.model.reported).toEqual([]);
      expect(seq.r.agree).toBe(true);
      expect(seq.status).toBe(0);
    },
  );
  it.skipIf(v61.skip !== null)(`6.1-debug: nothing, and the walker read none of A's pfns (the file ends below them)${v61.skip ? ` (skipped: ${v61.skip})` : ''}`, () => {
    const { r, status } = walker(v61, 'debug_vm', 10);
    expect(r.real.violations).toEqual([]);
    expect(r.real.cycles['kpageflags']).toBeGreaterThan(0);
    expect(r.walkers?.[0]?.passes).toBe(r.real.cycles['kpageflags']);
    expect(r.walkers?.[0]?.pfnsRead).toBe(0);
    expect(r.model.reported).toEqual([]);
    expect(r.why).toMatch(/the kpageflags walker read none of A's pfns in \d+ passes \(\/proc\/kpageflags ends below them\): it tested nothing$/);
    expect(status).toBe(0);
  });
});

describe('one-line errors', () => {
  it('a missing image', () => {
    const p = spawnSync('node', [cliPath, 'verify', '--race', 'seed-2019', '--kernel', '/nonexistent/bzImage'], { encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/kernel image \/nonexistent\/bzImage does not exist/);
  });
});
