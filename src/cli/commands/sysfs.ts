// `mmsim sysfs export|import`: /sys/devices/system/memory, written out from a machine or read in.
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { boot, loadMachine } from '../../drivers/run.js';
import { machineYamlFromSysfs, sysfsView, writeSysfsTree } from '../../formats/sysfs-export.js';
import { readSysfsMemory } from '../../formats/sysfs-memory-read.js';
import { memoryDevInit } from '../../kernel/memory_block.js';
import { machineSource } from './common.js';

export function sysfsCommand(program: Command, out: (s: string) => void): void {
  const sysfs = program.command('sysfs').description('/sys/devices/system/memory: write a machine out, or read a tree in.');
  sysfs
    .command('export')
    .description("Write a machine's memory blocks as DIR/sys/devices/system/memory, as the kernel presents them.")
    .argument('[machine]', 'a YAML machine file')
    .argument('[dir]', 'the directory to write (lsmem --sysroot DIR reads it)')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine')
    .option('--kernel <release>', 'kernel profile')
    .action((a: string | undefined, b: string | undefined, opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string }) => {
      // One positional is the directory; two are machine and directory.
      const [machine, dir] = b === undefined ? [undefined, a] : [a, b];
      if (dir === undefined) throw new InputError('sysfs export: give the directory to write');
      const loaded = loadMachine(machineSource(machine, opts));
      const mb = memoryDevInit(boot(loaded));
      try {
        writeSysfsTree(dir, sysfsView(mb));
      } catch (e) {
        throw new InputError(`sysfs export: cannot write ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a writable directory (not /sys itself)`);
      }
      out(`wrote ${mb.blocks.length} memory blocks to ${dir}/sys/devices/system/memory\n`);
      for (const [id, why] of mb.notes) out(`memory${id}: ${why}; the file is left out\n`);
    });

  sysfs
    .command('import')
    .description('Read DIR/sys/devices/system/memory (a real tree or a dump) into a machine file.')
    .argument('<dir>', 'the root of the tree (as lsmem --sysroot takes it)')
    .addOption(new Option('--arch <arch>', 'the architecture of the system it came from').choices(['x86_64', 'arm64', 'i386', 's390x']).default('x86_64'))
    .option('--kernel <release>', 'the kernel it ran', '6.18')
    .option('-o, --output <file>', 'write the machine here instead of standard output')
    .action((dir: string, opts: { arch: 'x86_64' | 'arm64' | 'i386' | 's390x'; kernel: string; output?: string }) => {
      const yaml = machineYamlFromSysfs(readSysfsMemory(dir), { source: dir, arch: opts.arch, kernel: opts.kernel });
      if (opts.output === undefined) out(yaml);
      else {
        try {
          writeFileSync(opts.output, yaml);
        } catch (e) {
          throw new InputError(`sysfs import: cannot write ${opts.output} (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a writable path`);
        }
      }
    });
}
