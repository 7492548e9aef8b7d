// `mmsim verify`: a scenario on a real Linux kernel under QEMU and on mmsim, and their diff.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { ExpectFailed } from '../../drivers/run.js';

export function verifyCommand(program: Command, out: (s: string) => void): void {
  program
    .command('verify')
    .description('Run a scenario on a real Linux kernel under QEMU and on mmsim; print a per-step, per-field diff (exit 1 on any difference).')
    .option('--setup', "install QEMU and the tools (Debian packages), fetch Debian's current cloud kernel and build the initramfs")
    .option('--qemu <scenario>', 'the scenario to run')
    .option('--kernel <bzImage>', 'a kernel image of your own (its modules via --initrd-extra or --initrd)')
    .option('--initrd <file>', 'an initramfs to use instead of the one --setup built')
    .option('--initrd-extra <dir>', 'files added to the initramfs (e.g. lib/modules/RELEASE/... and etc/modules.order for your kernel)')
    .option('--keep', 'keep the temporary directory (console log, NVDIMM images, the guest boot log)')
    .action(async (opts: { setup?: boolean; qemu?: string; kernel?: string; initrd?: string; initrdExtra?: string; keep?: boolean }) => {
      const { verifySetup } = await import('../../verify/setup.js');
      const { formatDiff, verifyScenario } = await import('../../verify/verify.js');
      if (opts.setup) verifySetup((s) => process.stderr.write(s));
      if (!opts.qemu) {
        if (opts.setup) return;
        throw new InputError('verify: give --qemu SCENARIO (and run --setup once before)');
      }
      const steps = await verifyScenario(
        opts.qemu,
        {
          ...(opts.kernel !== undefined ? { vmlinuz: opts.kernel } : {}),
          ...(opts.initrd !== undefined ? { initrd: opts.initrd } : {}),
          ...(opts.initrdExtra !== undefined ? { initrdExtra: opts.initrdExtra } : {}),
          keep: opts.keep === true,
        },
        (s) => process.stderr.write(s),
      );
      out(formatDiff(steps));
      if (steps.some((s) => s.diffs.length)) throw new ExpectFailed(`verify: ${opts.qemu}: the kernel and mmsim differ (above)`);
    });
}
