// `mmsim verify`: a scenario on a real Linux kernel under QEMU and on mmsim, and their diff.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { ExpectFailed } from '../../drivers/run.js';
import { verifyJson } from '../../verify/fields.js';

interface VerifyCliOptions {
  setup?: boolean;
  qemu?: string;
  kernel?: string;
  initrd?: string;
  initrdExtra?: string;
  keep?: boolean;
  race?: string;
  config: string;
  seconds: string;
  cycles?: string;
  sequential?: boolean;
  guard?: boolean;
  zoneSteps?: boolean;
  json?: boolean;
  memmap?: boolean;
  vmlinux?: string;
  kconfig?: string;
  kernelArgs?: string;
  walker: string[];
}

function positive(flag: string, v: string, what: string, integer: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new InputError(`${flag} ${v}: expected ${what}`);
  return n;
}

async function raceAction(opts: VerifyCliOptions, out: (s: string) => void): Promise<void> {
  const { DEBUG_CONFIGS } = await import('../../designs/builtin_scenarios.js');
  const { formatRace, verifyRace } = await import('../../verify/race.js');
  if (opts.kernel === undefined) throw new InputError('verify --race: give --kernel IMAGE (a bzImage, e.g. ../shared/kernels/v5.3/bzImage-nopgflags)');
  if (opts.qemu !== undefined) throw new InputError('verify: give --race or --qemu, not both');
  const config = DEBUG_CONFIGS.find((c) => c === opts.config);
  if (config === undefined) throw new InputError(`--config ${opts.config}: expected one of ${DEBUG_CONFIGS.join(', ')}`);
  const seconds = positive('--seconds', opts.seconds, 'a positive number of seconds such as 30', false);
  const cycles = opts.cycles === undefined ? undefined : positive('--cycles', opts.cycles, 'a positive whole number of cycles such as 100', true);
  if (opts.sequential && opts.zoneSteps) throw new InputError('verify --race: give --sequential or --zone-steps, not both');
  const { walkersArg } = await import('../explore.js');
  const walkers = walkersArg(opts.walker);
  const { isScenarioFile, verifyRaceFile } = await import('../../verify/race_file.js');
  const run = isScenarioFile(opts.race as string) ? verifyRaceFile : verifyRace;
  const r = await run(
    {
      scenario: opts.race as string,
      kernel: opts.kernel,
      config,
      seconds,
      ...(cycles !== undefined ? { cycles } : {}),
      sequential: opts.sequential === true,
      zoneSteps: opts.zoneSteps === true,
      guard: opts.guard !== false,
      keep: opts.keep === true,
      ...(opts.kernelArgs ? { kernelArgs: opts.kernelArgs } : {}),
      ...(walkers.length ? { walkers } : {}),
    },
    (s) => process.stderr.write(s),
  );
  out(opts.json ? JSON.stringify(r, null, 2) + '\n' : formatRace(r));
  if (!r.agree) throw new ExpectFailed(`verify --race ${r.scenario}: the real kernel and mmsim disagree: ${r.why}`);
}

export function verifyCommand(program: Command, out: (s: string) => void): void {
  program
    .command('verify')
    .description('Run a scenario on a real Linux kernel under QEMU and on mmsim; print a per-step, per-field diff (exit 1 on any difference).')
    .option(
      '--setup',
      "install QEMU and the tools (Debian packages), fetch Debian's current cloud kernels 6.1 and 6.12 (with --kernel 6.1|6.12: that one) and build their initramfs; what is cached is not fetched again",
    )
    .option('--qemu <scenario>', 'the scenario to run')
    .option('--kernel <6.1|6.12|bzImage>', 'the kernel --setup fetched to run (6.1, the default, or 6.12), or a kernel image of your own (its modules via --initrd-extra or --initrd)')
    .option('--initrd <file>', 'an initramfs to use instead of the one --setup built')
    .option('--initrd-extra <dir>', 'files added to the initramfs (e.g. lib/modules/RELEASE/... and etc/modules.order for your kernel)')
    .option('--keep', 'keep the temporary directory (console log, NVDIMM images, the guest boot log)')
    .option(
      '--race <scenario>',
      "run a scenario's concurrent tasks as concurrent guest loops on --kernel IMAGE and compare with mmsim explore: seed-2019 (nd_pmem unbind/bind), seed-2019-map-mem, or a scenario file's concurrent block (each operation and its inverse)",
    )
    .option('--config <config>', 'with --race: the kernel config the image was built with (debug_vm, debug_vm_pgflags, no_debug_vm)', 'debug_vm')
    .option('--seconds <n>', 'with --race: the loops run this long (guest seconds)', '30')
    .option('--cycles <n>', 'with --race: at most this many cycles per loop')
    .option('--sequential', "with --race: A's and B's steps one after the other in one loop (the control: no race)")
    .option('--kernel-args <args>', 'with --race: added to the kernel command line (e.g. mmsim_delay_ms=2000 for a kernel built with an explore --reproducer patch)')
    .option('--zone-steps', "with --race: no loops; create K, A, B, destroy B, destroy A, and print the Device zones' spanned after each step")
    .option('--no-guard', 'with --race --zone-steps: leave the guard namespace K out (only A and B)')
    .option(
      '--walker <name>',
      "with --race: one more loop, a pfn walker over A's namespace, as explore --walker adds it (kpageflags: dd of /proc/kpageflags)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--memmap', "with --qemu: dump the guest's memory at `print: memmap` steps and at the end, read its struct pages with drgn and diff them with the model's, pfn by pfn")
    .option('--vmlinux <file>', "with --memmap: the guest kernel's debug vmlinux (plain or .zst; default: the one --setup cached)")
    .option('--kconfig <file>', "with --memmap: the guest kernel's .config (default: the one --setup cached)")
    .option('--json', 'with --race or --qemu: print the result as JSON')
    .action(async (opts: VerifyCliOptions) => {
      if (opts.race !== undefined) return raceAction(opts, out);
      if (opts.kernelArgs !== undefined) throw new InputError('verify: --kernel-args goes with --race');
      if (opts.walker.length) throw new InputError('verify: --walker goes with --race');
      const { asKernelSeries, cacheDir, KERNEL_SERIES, verifySetup } = await import('../../verify/setup.js');
      const { formatDiff, verifyScenario } = await import('../../verify/verify.js');
      // Exactly 6.1 or 6.12 names a series; anything else is a kernel image's path.
      const series = opts.kernel === undefined ? undefined : asKernelSeries(opts.kernel);
      if (opts.setup) {
        if (opts.kernel !== undefined && series === undefined)
          throw new InputError(`verify --setup --kernel ${opts.kernel}: expected ${KERNEL_SERIES.join(' or ')} (set-up fetches Debian's kernels only)`);
        verifySetup((s) => process.stderr.write(s), cacheDir(), series === undefined ? KERNEL_SERIES : [series]);
      }
      if (!opts.qemu) {
        if (opts.setup) return;
        throw new InputError('verify: give --qemu SCENARIO (and run --setup once before)');
      }
      const totals = { pfnsCompared: 0, dumps: 0 };
      const steps = await verifyScenario(
        opts.qemu,
        {
          ...(opts.memmap ? { memmap: true } : {}),
          ...(opts.vmlinux !== undefined ? { vmlinux: opts.vmlinux } : {}),
          ...(opts.kconfig !== undefined ? { kconfig: opts.kconfig } : {}),
          ...(series !== undefined ? { series } : opts.kernel !== undefined ? { vmlinuz: opts.kernel } : {}),
          ...(opts.initrd !== undefined ? { initrd: opts.initrd } : {}),
          ...(opts.initrdExtra !== undefined ? { initrdExtra: opts.initrdExtra } : {}),
          keep: opts.keep === true,
        },
        (s) => process.stderr.write(s),
        totals,
      );
      out(opts.json ? JSON.stringify(verifyJson(opts.qemu, steps, totals), null, 2) + '\n' : formatDiff(steps));
      if (steps.some((s) => s.diffs.length)) throw new ExpectFailed(`verify: ${opts.qemu}: the kernel and mmsim differ (above)`);
    });
}
