// `mmsim explore SCENARIO --reproducer DIR`: from a counterexample to what a kernel developer needs
// to see it on real hardware or under QEMU — the scenario as guest shell loops (the same loops
// `verify --race` runs, loopText), and where a trace needs a preemption too narrow to hit by
// looping, a kernel patch that adds an mdelay at that point behind a boot parameter (off by
// default), at the function and line of the tree the point was read in (preempt_sites.ts).
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { ExploreViolation } from '../drivers/explore.js';
import { isLockOp, singleTask, violationText, type TaskInfo } from '../drivers/trace_text.js';
import { DESIGNS, resolveDesign, type Design } from '../designs/designs.js';
import type { DebugConfig } from '../designs/builtin_scenarios.js';
import { kernelReports, loopText, RACE_NVDIMMS, RACE_SCENARIOS, raceMachineArgs } from './race.js';
import { kernelVersionOf, preemptSite, type PreemptSite } from './preempt_sites.js';

/** The boot parameter a delay patch adds. */
export const DELAY_PARAM = 'mmsim_delay_ms';
/** The boot parameter that limits the delay to one device by name, where the site has a device. */
export const DEVICE_PARAM = 'mmsim_delay_dev';
/** The delay the README suggests: longer than B's whole unbind/bind cycle under QEMU TCG. */
export const SUGGESTED_DELAY_MS = 2000;

/** The first preemption of a trace: a task switched away from with steps still to come. */
export interface Preemption {
  /** The preempted task. */
  readonly task: number;
  /** Its last step before the switch (0-based index into the trace). */
  readonly step: number;
  /** The last lock operation it did up to that step, or null. */
  readonly afterLockOp: string | null;
  /** The locks it held then. */
  readonly holding: readonly string[];
  /** The step at which it runs again (0-based). */
  readonly resumes: number;
}

/** The trace's first preemption, or null (one task alone, or tasks run one after the other). */
export function preemptionOf(trace: ExploreViolation['trace']): Preemption | null {
  for (let i = 0; i + 1 < trace.length; i++) {
    const st = trace[i] as ExploreViolation['trace'][number];
    if ((trace[i + 1] as ExploreViolation['trace'][number]).task === st.task) continue;
    const resumes = trace.findIndex((s, k) => k > i && s.task === st.task);
    if (resumes < 0) continue;
    let afterLockOp: string | null = null;
    for (let k = i; k >= 0; k--) {
      const s = trace[k] as ExploreViolation['trace'][number];
      if (s.task === st.task && isLockOp(s.op)) {
        afterLockOp = s.op;
        break;
      }
    }
    return { task: st.task, step: i, afterLockOp, holding: st.held, resumes };
  }
  return null;
}

/** The kernel version a design is (a release, or designs that change nothing over one), or null (a design that changes the kernel). */
export function plainKernelOf(design: Design | string, user: readonly Design[]): string | null {
  const r = resolveDesign(design, user);
  const all = [...user, ...DESIGNS];
  for (const name of r.chain.slice(0, -1)) {
    const d = typeof design !== 'string' && design.name === name ? design : all.find((x) => x.name === name);
    if (d && (Object.keys(d.features).length || Object.keys(d.steps).length)) return null;
  }
  return kernelVersionOf(r.profile.release.release);
}

/** The delay patch for a site: a unified diff (`patch -p1` in the tree's top directory). */
export function delayPatch(site: PreemptSite): string {
  const dev = site.device;
  const decl = [
    ...site.includes,
    '',
    dev
      ? `/* mmsim reproducer, not for merging: ${DELAY_PARAM}=N on the kernel command line (0, the default: off), ${DEVICE_PARAM}=NAME for one device only. */`
      : `/* mmsim reproducer, not for merging: ${DELAY_PARAM}=N on the kernel command line (0, the default: off). */`,
    `static unsigned int ${DELAY_PARAM};`,
    `core_param(${DELAY_PARAM}, ${DELAY_PARAM}, uint, 0644);`,
    ...(dev ? [`static char *${DEVICE_PARAM};`, `core_param(${DEVICE_PARAM}, ${DEVICE_PARAM}, charp, 0644);`] : []),
  ];
  const delay = [
    '',
    `\t/* mmsim reproducer: the trace is preempted here; ${DELAY_PARAM} widens the window. */`,
    dev ? `\tif (${DELAY_PARAM} && (!${DEVICE_PARAM} || !strcmp(${DEVICE_PARAM}, dev_name(${dev})))) {` : `\tif (${DELAY_PARAM}) {`,
    dev ? `\t\tpr_info("mmsim: %u ms delay in %s (%s)\\n", ${DELAY_PARAM}, __func__, dev_name(${dev}));` : `\t\tpr_info("mmsim: %u ms delay in %s\\n", ${DELAY_PARAM}, __func__);`,
    `\t\tmdelay(${DELAY_PARAM});`,
    '\t}',
  ];
  const hunk = (oldStart: number, newStart: number, before: readonly string[], added: readonly string[], after: readonly string[]): string[] => [
    `@@ -${oldStart},${before.length + after.length} +${newStart},${before.length + added.length + after.length} @@`,
    ...before.map((l) => ` ${l}`),
    ...added.map((l) => `+${l}`),
    ...after.map((l) => ` ${l}`),
  ];
  const d0 = site.declLine - site.declBefore.length + 1;
  const s0 = site.line - site.before.length + 1;
  if (site.declLine + site.declAfter.length >= s0) throw new Error(`preempt site ${site.file}:${site.line}: the declarations' hunk must come before the delay's`);
  return [`--- a/${site.file}`, `+++ b/${site.file}`, ...hunk(d0, d0, site.declBefore, decl, site.declAfter), ...hunk(s0, s0 + decl.length, site.before, delay, site.after), ''].join('\n');
}

/** The guest script: the scenario's namespaces, then its tasks as concurrent loops (verify --race's). */
export function guestScript(scenario: string, rerun: string): string {
  const D = '/sys/bus/nd/drivers/nd_pmem';
  return [
    '#!/bin/sh',
    `# ${scenario} as guest loops, from: ${rerun} --reproducer DIR`,
    '# Run as root in the guest of README.md (three label-less NVDIMMs: K 1 GiB, A 6 GiB, B 256 MiB; ndctl on PATH):',
    '#   sh guest.sh [SECONDS [CYCLES]]   (default 30 s; at most CYCLES unbind/bind cycles a loop)',
    "# A's loop: unbind then bind A's pfn device (bind: nd_pmem_probe -> devm_memremap_pages, the model's memremap_pages);",
    "# B's loop: the same for B (unbind: devm_memremap_pages_release, the model's memunmap_pages). Both at once.",
    'S=${1:-30}',
    'C=${2:-1000000000}',
    `D=${D}`,
    'ns_of() { for d in /sys/bus/nd/devices/namespace*.*; do [ "$(cat $d/size 2>/dev/null)" = "$1" ] && basename $d && return; done; }',
    'pfn_of() { for d in $D/pfn*; do [ "$(cat $d/namespace 2>/dev/null)" = "$1" ] && basename $d && return; done; }',
    ...(['K', 'A', 'B'] as const).map((r) => `${r}=$(ns_of ${RACE_NVDIMMS[r]})`),
    'for r in "$K" "$A" "$B"; do [ -n "$r" ] || { echo "guest.sh: expected namespaces of 1 GiB, 6 GiB and 256 MiB (README.md\'s QEMU command)" >&2; exit 2; }; done',
    '# K (a guard kept below A and B), A and B: fsdax namespaces with --map=dev, in that order.',
    'for n in "$K" "$A" "$B"; do ndctl create-namespace -f -e "$n" --mode=fsdax --map=dev >/dev/null || exit 2; done',
    'PA=$(pfn_of "$A"); PB=$(pfn_of "$B")',
    'echo "guest.sh: A $A $PA, B $B $PB; loops for $S s"',
    'echo "mmsim-race: loops start" > /dev/kmsg',
    `${loopText('A', ['$PA'], '$S', '$C')} & ${loopText('B', ['$PB'], '$S', '$C')} & wait`,
    'echo "mmsim-race: loops done" > /dev/kmsg',
    '',
  ].join('\n');
}

/** What the reproducer is made from. */
export interface ReproducerInput {
  readonly scenario: string;
  /** The design as given (a name, release or file). */
  readonly design: string;
  /** The kernel version the design is, or null (a design that changes the kernel). */
  readonly kernel: string | null;
  readonly config: DebugConfig;
  readonly tasks: readonly TaskInfo[];
  readonly violations: readonly ExploreViolation[];
  /** The explore command line that found them. */
  readonly rerun: string;
}

export interface ReproducerFile {
  readonly name: string;
  readonly text: string;
  readonly executable?: boolean;
}

const slug = (invariant: string): string => invariant.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '');

const who = (tasks: readonly TaskInfo[], t: number): string => tasks[t]?.label ?? tasks[t]?.name ?? `task ${t}`;

/** The QEMU command line of the guest (image files in the current directory). */
function qemuCommand(): string {
  const args = raceMachineArgs((role) => `nv${role}.img`);
  const pairs: string[] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push(`${args[i]} ${args[i + 1]}`);
  return [
    'qemu-system-x86_64 -accel tcg -cpu max,la57=off -nodefaults -display none -no-reboot',
    ...pairs,
    '-serial stdio -kernel arch/x86/boot/bzImage -initrd YOUR-INITRAMFS',
    `-append "console=ttyS0 panic=-1 nokaslr oops=panic ${DELAY_PARAM}=${SUGGESTED_DELAY_MS}"`,
  ].join(' \\\n    ');
}

/** The files of a reproducer: README.md, guest.sh and a patch per violation whose preemption point has a known site. */
export function reproducerFiles(r: ReproducerInput): ReproducerFile[] {
  if (!r.violations.length) throw new InputError(`--reproducer: ${r.scenario} with design ${r.design} breaks no invariant: nothing to reproduce`);
  const patches: ReproducerFile[] = [];
  const sections: string[] = [];
  for (const v of r.violations) {
    const lines: string[] = [`### ${v.invariant} (${v.trace.length} steps)`, '', '```', violationText(v, r.tasks, r.rerun).trimEnd(), '```', ''];
    const reports = kernelReports(v, r.config);
    lines.push(
      reports
        ? `A kernel built as --config ${r.config} says (on the console): ${v.message}`
        : `A kernel built as --config ${r.config} prints nothing for this one (see the invariant's paragraph: which config makes it a BUG).`,
      '',
    );
    const p = singleTask(v.trace) ? null : preemptionOf(v.trace);
    if (singleTask(v.trace)) lines.push('No race: one task breaks it alone, so the loops hit it on every cycle where that step runs; no delay is needed.');
    else if (!p) lines.push('The tasks run one after the other in this trace: no preemption to widen; the loops reproduce it as they are.');
    else {
      const st = v.trace[p.step] as ExploreViolation['trace'][number];
      const task = r.tasks[p.task];
      lines.push(
        `The preemption: ${who(r.tasks, p.task)} (${task?.call ?? task?.name ?? ''}) is switched away from after step ${p.step + 1} (\`${st.op}\`), ` +
          `${p.afterLockOp ? `its last lock operation \`${p.afterLockOp}\`` : 'no lock operation before it'}, holding ${p.holding.length ? p.holding.join(', ') : 'no lock'}; ` +
          `the other task runs steps ${p.step + 2}–${p.resumes}, then ${who(r.tasks, p.task)} goes on at step ${p.resumes + 1}.`,
        '',
      );
      const site = r.kernel === null || !task?.call ? null : preemptSite(r.kernel, task.call, p.afterLockOp, p.holding);
      if (r.kernel === null) lines.push(`No patch: design ${r.design} changes the kernel, so there is no tree to place the delay in.`);
      else if (!site)
        lines.push(`No patch: mmsim knows no source location for this preemption point in Linux ${r.kernel} (src/verify/preempt_sites.ts has none); the loops alone must hit the window.`);
      else {
        const name = `${slug(v.invariant)}.patch`;
        patches.push({ name, text: delayPatch(site) });
        lines.push(
          `In Linux ${site.kernel}: \`${site.function}\`, ${site.file}:${site.line} — ${site.where}. Read in ${site.tree}.`,
          '',
          `\`${name}\` adds \`mdelay(${DELAY_PARAM})\` after that line (a \`pr_info\` says when it delays), and the boot parameter \`${DELAY_PARAM}\` ` +
            `(a core_param: \`${DELAY_PARAM}=N\` on the kernel command line; 0, the default, is off). In the top directory of that tree: \`patch -p1 < ${name}\`, build, ` +
            `boot with \`${DELAY_PARAM}=${SUGGESTED_DELAY_MS}\` and run guest.sh: ${who(r.tasks, p.task)}'s task now waits ${SUGGESTED_DELAY_MS} ms at the point, long enough for the other loop's whole cycle.`,
        );
        if (site.device)
          lines.push(
            '',
            `Every caller of \`${site.function}\` waits there, the other task's too where it runs the same code (B's bind does). \`${DEVICE_PARAM}=NAME\` limits the delay to the device ` +
              `\`dev_name(${site.device})\` names: ${who(r.tasks, p.task)}'s (for seed-2019, A's pfn device; guest.sh prints its name, and it was pfn2.0 in every \`mmsim verify --race\` run on this guest).`,
          );
      }
    }
    sections.push(lines.join('\n'));
  }
  const readme = [
    `# Reproducer: ${r.scenario}, design ${r.design}${r.kernel ? ` (Linux ${r.kernel})` : ''}`,
    '',
    `Written by \`${r.rerun} --reproducer DIR\`: what mmsim's model found, as a guest script and${patches.length ? ' a kernel patch' : ' (no patch: below)'}.`,
    '',
    'Files:',
    '- `README.md`: this.',
    "- `guest.sh`: the scenario as guest loops (the same loops `mmsim verify --race` runs): K, A and B made fsdax namespaces with `--map=dev`, then A's and B's pfn devices unbound and bound again in two concurrent loops.",
    ...patches.map((f) => `- \`${f.name}\`: a delay at the trace's preemption point, behind the boot parameter \`${DELAY_PARAM}\` (off by default).`),
    '',
    '## The guest',
    '',
    `Two NUMA nodes of 1 GiB, a CPU each, and three label-less NVDIMMs on node 1 — K (1 GiB, a guard kept below A and B), A (6 GiB) and B (256 MiB, directly above A) —` +
      ` as mmsim verify --race boots it. A kernel with everything built in (NVDIMM/pmem, ZONE_DEVICE, FS_DAX; CONFIG_DEBUG_VM for the VM_BUG_ONs); an initramfs with a shell and ndctl. Fresh image files for every boot` +
      " (an info block left by an earlier run changes the next). The model's A and B are 128 MiB on a one-node machine; the trace needs only B directly above A in one node's ZONE_DEVICE," +
      " and a 6 GiB A makes memmap_init_zone_device's pass long enough to hit by looping (mmsim's docs/fidelity.md):",
    '',
    '```',
    ...(['K', 'A', 'B'] as const).map((role) => `rm -f nv${role}.img; truncate -s ${RACE_NVDIMMS[role]} nv${role}.img`),
    qemuCommand(),
    '```',
    '',
    `In the guest: \`sh guest.sh 30\`. Or let mmsim boot it, build the initramfs and run the same loops: \`mmsim verify --race ${r.scenario} --kernel arch/x86/boot/bzImage --kernel-args ${DELAY_PARAM}=${SUGGESTED_DELAY_MS}\`` +
      ` (without --kernel-args the patched kernel runs as unpatched).`,
    '',
    '## What the model found',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
  return [{ name: 'README.md', text: readme }, { name: 'guest.sh', text: guestScript(r.scenario, r.rerun), executable: true }, ...patches];
}

/** Checks --reproducer's scenario and DIR before a search: DIR made if absent, and writable. */
export function checkReproducerDir(dir: string, scenario: string): void {
  if (!(RACE_SCENARIOS as readonly string[]).includes(scenario))
    throw new InputError(`--reproducer: ${scenario} has no guest form (its tasks as guest shell loops); --reproducer takes ${RACE_SCENARIOS.join(', ')}`);
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('ENOTDIR');
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InputError(`--reproducer ${dir}: cannot write there (${code}); expected a writable directory (made if absent)`);
  }
}

/** Writes the files into dir (checked by checkReproducerDir); the paths written. */
export function writeReproducer(dir: string, files: readonly ReproducerFile[]): string[] {
  return files.map((f) => {
    const path = join(dir, f.name);
    try {
      writeFileSync(path, f.text, { mode: f.executable ? 0o755 : 0o644 });
    } catch (e) {
      throw new InputError(`--reproducer: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return path;
  });
}
