// `mmsim kmem -n`: crash's kmem -n tables for a booted machine, from the model's nodes, zones,
// sections and memory blocks.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { boot, loadMachine } from '../../drivers/run.js';
import { formatKmemN, kmemNInput, KMEM_N_PLACEHOLDER_NOTE } from '../../formats/kmem.js';
import { memoryDevInit, type MemoryBlocks } from '../../kernel/memory_block.js';
import type { BootState } from '../../kernel/mm_init.js';
import { machineSource } from './common.js';

export function kmemN(state: BootState, mb: MemoryBlocks, explain: boolean): string {
  const text = formatKmemN(kmemNInput(state, mb));
  return explain ? `${text}# ${KMEM_N_PLACEHOLDER_NOTE}\n` : text;
}

export function kmemCommand(program: Command, out: (s: string) => void): void {
  program
    .command('kmem')
    .description("crash's kmem -n for a machine: nodes and zones, mem_section states, memory blocks.")
    .argument('[machine]', 'a YAML machine file')
    .option('-n', 'memory nodes, sections and blocks (the only kmem view mmsim has)')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine')
    .option('--kernel <release>', 'kernel profile')
    .option('--explain', 'say which columns mmsim does not model')
    .action((machine: string | undefined, opts: { n?: boolean; fromDmesg?: string; fromLive?: boolean; kernel?: string; explain?: boolean }) => {
      if (!opts.n) throw new InputError("kmem: give -n (mmsim models the memory-node view of crash's kmem)");
      const loaded = loadMachine(machineSource(machine, opts));
      const state = boot(loaded);
      out(kmemN(state, memoryDevInit(state), opts.explain === true));
    });
}
