// `mmsim machine --from-qemu 'ARGS'`: the machine file for a QEMU command line (formats/qemu.ts).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { parseQemuArgs, qemuMachine, qemuMachineYaml } from '../../formats/qemu.js';
import { loadMachineYaml } from '../../formats/machine-yaml.js';

export function machineCommand(program: Command, out: (s: string) => void): void {
  program
    .command('machine')
    .description(
      'Write a machine file: --from-qemu ARGS reads a QEMU x86 command line (-machine pc/q35, -m with slots/maxmem, -smp, -numa, -object memory-backend-*, -device nvdimm/pc-dimm/virtio-mem, -append).',
    )
    .option('--from-qemu <args>', 'the QEMU command line, as one argument')
    .option('-o, --output <file>', 'write the machine file there instead of stdout')
    .action((opts: { fromQemu?: string; output?: string }) => {
      if (opts.fromQemu === undefined) throw new InputError("machine: give --from-qemu 'ARGS' (the QEMU command line whose guest the machine file describes)");
      const yaml = qemuMachineYaml(qemuMachine(parseQemuArgs(opts.fromQemu)), opts.fromQemu);
      // What is written must load: a machine outside the kernel's limits is refused here, not later.
      loadMachineYaml(opts.output ?? '<stdout>', yaml);
      if (opts.output !== undefined) {
        try {
          writeFileSync(opts.output, yaml);
        } catch (e) {
          throw new InputError(`machine: cannot write ${opts.output} (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a writable path`);
        }
      } else out(yaml);
    });
}
