// `mmsim page MACHINE PFN[-PFN]`: boot the machine's memmap in the chosen backend and print the
// struct pages of a pfn range, decoded as drgn shows them (with the raw bytes in dense mode).
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { boot, loadMachine } from '../../drivers/run.js';
import { parseKconfig } from '../../kernel/kconfig.js';
import { formatPages, pageFieldsFromRaw, type PageView } from '../../formats/page-print.js';
import type { BootState } from '../../kernel/mm_init.js';
import { memmapBoot } from '../../kernel/memmap_init.js';
import { DenseMemmap } from '../../memmap/dense.js';
import { ExtentMemmap } from '../../memmap/extent.js';
import { deferredThreadsFor, runDeferredByNode } from '../../memmap/parallel.js';
import type { MemmapStore } from '../../memmap/store.js';
import { decodePageFlagsFor, pageWriterFor, vmemmapBaseFor } from '../../kernel/memmap_source.js';
import { machineSource } from './common.js';
import { physAddrLimit, physmemLimitName } from '../../kernel/limits.js';

export type MemmapBackend = 'dense' | 'extent';

/** Parse "PFN" or "PFN-PFN" (decimal or 0x hex), inclusive, as [start, end). */
export function parsePfnRange(text: string): { start: number; end: number } {
  const m = /^(0x[0-9a-fA-F]+|\d+)(?:-(0x[0-9a-fA-F]+|\d+))?$/.exec(text.trim());
  const num = (s: string): number => (s.startsWith('0x') ? parseInt(s.slice(2), 16) : parseInt(s, 10));
  if (!m || m[1] === undefined) throw new InputError(`page: "${text}": expected PFN or PFN-PFN (decimal or 0x hex)`);
  const start = num(m[1]);
  const last = m[2] !== undefined ? num(m[2]) : start;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last)) throw new InputError(`page: "${text}": expected pfns below 2^53 (no machine has physical addresses that high)`);
  if (last < start) throw new InputError(`page: "${text}": the range ends before it starts`);
  if (last - start >= 4096) throw new InputError(`page: "${text}": at most 4096 pages at a time`);
  return { start, end: last + 1 };
}

/** Bytes the dense backend needs for this machine: a record and a state byte per page of every section with a memmap. */
export function denseBytes(state: BootState, recordBytes: number): number {
  let sections = 0;
  for (const r of state.sparse.runs) if (r.hasMemMap) sections += r.endNr - r.startNr;
  return sections * state.sparse.pagesPerSection * (recordBytes + 1);
}

/** Dense init cost per page on this machine (docs/performance.md), for deciding on a progress bar. */
const DENSE_NS_PER_PAGE = 5;

/** A dense memmap that advances a progress bar as pages are initialised. */
class ProgressDenseMemmap extends DenseMemmap {
  constructor(
    geometry: ConstructorParameters<typeof DenseMemmap>[0],
    private readonly bar: cliProgress.SingleBar,
  ) {
    super(geometry);
  }

  private done = 0;

  override initRange(start: number, end: number, zone: number, nid: number): void {
    super.initRange(start, end, zone, nid);
    this.advance(Math.max(0, end - start));
  }

  /** Count pages done (worker threads report in bulk); holes can be initialised twice, so clamp. */
  advance(pages: number): void {
    this.done = Math.min(this.bar.getTotal(), this.done + pages);
    this.bar.update(this.done);
  }
}

export async function bootMemmap(state: BootState, backend: MemmapBackend, opts: { poison: boolean; seed: number }): Promise<MemmapStore> {
  const writer = pageWriterFor(state);
  const geometry = { pagesPerSection: state.sparse.pagesPerSection, writer, seed: opts.seed };
  if (backend === 'dense') {
    const need = denseBytes(state, writer.recordBytes);
    if (need > freemem() * 0.8) {
      throw new InputError(`page: the dense memmap of this machine needs ${(need / 2 ** 30).toFixed(1)} GiB and ${(freemem() / 2 ** 30).toFixed(1)} GiB are free; use --memmap extent`);
    }
  }
  // Dense initialisation of a big machine takes seconds: show progress on a terminal.
  const pages = denseBytes(state, writer.recordBytes) / (writer.recordBytes + 1);
  const bar =
    backend === 'dense' && process.stderr.isTTY && pages * DENSE_NS_PER_PAGE > 1e9
      ? new cliProgress.SingleBar({ stream: process.stderr, format: 'memmap init [{bar}] {percentage}% | {value}/{total} pages' }, cliProgress.Presets.shades_classic)
      : null;
  const store = backend === 'dense' ? (bar ? new ProgressDenseMemmap(geometry, bar) : new DenseMemmap(geometry)) : new ExtentMemmap(geometry);
  bar?.start(pages, 0);
  try {
    // Dense: the deferred pages really are initialised in parallel, per node, on as many worker
    // threads as the kernel would use (one per node before padata, the node's CPUs after).
    const boot = memmapBoot(state, store, { poison: opts.poison, runDeferred: !(store instanceof DenseMemmap) });
    if (store instanceof DenseMemmap) {
      const cpus = (nid: number): number => state.nodes.find((n) => n.nodeId === nid)?.cpus ?? 1;
      await runDeferredByNode(store, boot.deferred, (nid) => Math.min(availableParallelism(), deferredThreadsFor(state.profile.features.deferredPadata, cpus(nid))));
      if (store instanceof ProgressDenseMemmap) store.advance(boot.deferred.reduce((n, d) => n + d.end - d.start, 0));
    }
  } finally {
    bar?.stop();
  }
  return store;
}

export function printPages(state: BootState, store: MemmapStore, start: number, end: number): string {
  const writer = pageWriterFor(state);
  const base = vmemmapBaseFor(state);
  const pages: PageView[] = [];
  for (let pfn = start; pfn < end; pfn++) {
    const raw = new Uint8Array(writer.recordBytes);
    if (!store.readRecord(pfn, raw)) throw new InputError(`page: pfn 0x${pfn.toString(16)} has no struct page (no memmap: pfn_valid is false)`);
    const fields = pageFieldsFromRaw(raw);
    const st = store.stateOf(pfn);
    const links = decodePageFlagsFor(state, fields.flags);
    pages.push({
      pfn,
      address: base + BigInt(pfn) * BigInt(writer.recordBytes),
      ...(store.kind === 'dense' ? { raw } : {}),
      fields,
      flagNames: links.names,
      zone: st === 'initialized' ? links.zone : '?',
      nid: st === 'initialized' ? links.nid : -1,
      state: st === 'none' ? 'stale' : st,
    });
  }
  return formatPages(pages);
}

function readKconfig(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of a kernel .config`);
  }
}

export function pageCommand(program: Command, out: (s: string) => void): void {
  program
    .command('page')
    .description("Boot a machine's memmap and print struct pages of PFN or PFN-PFN, decoded as drgn shows them.")
    .argument('[machine]', 'a YAML machine file')
    .argument('[pfns]', 'PFN or PFN-PFN (decimal or 0x hex, inclusive)')
    .option('--from-dmesg <file>', 'read the machine from a real boot log')
    .option('--from-live', 'read this machine')
    .option('--kernel <release>', 'kernel profile')
    .addOption(new Option('--memmap <backend>', 'struct page storage').choices(['dense', 'extent']).default('dense'))
    .option('--poison', 'CONFIG_DEBUG_VM page_init_poison: fresh memmaps are all 0xff')
    .option('--seed <n>', 'seed for the bytes stale struct pages hold', '1')
    .option('--kconfig <file>', 'a kernel .config deciding the struct page layout (default: the distro defaults of the arch)')
    .action(
      async (
        a: string | undefined,
        b: string | undefined,
        opts: { fromDmesg?: string; fromLive?: boolean; kernel?: string; memmap: 'dense' | 'extent'; poison?: boolean; seed: string; kconfig?: string },
      ) => {
        const [machine, pfns] = b === undefined ? [undefined, a] : [a, b];
        if (pfns === undefined) throw new InputError('page: give PFN or PFN-PFN');
        const range = parsePfnRange(pfns);
        const seed = Number(opts.seed);
        if (!Number.isSafeInteger(seed)) throw new InputError(`page: --seed ${opts.seed}: expected an integer`);
        const loaded = loadMachine(machineSource(machine, opts));
        const kconfig = opts.kconfig === undefined ? null : parseKconfig(readKconfig(opts.kconfig), opts.kconfig);
        const state = boot(kconfig ? { ...loaded, spec: { ...loaded.spec, config: { ...loaded.spec.config, kconfig } } } : loaded);
        const pfnLimit = physAddrLimit(state.spec) / 2 ** state.arch.pageShift;
        if (range.end > pfnLimit) {
          throw new InputError(`page: pfn 0x${(range.end - 1).toString(16)} lies beyond the physical address space: pfns are below 0x${pfnLimit.toString(16)} (${physmemLimitName(state.spec)})`);
        }
        const store = await bootMemmap(state, opts.memmap, { poison: opts.poison === true, seed });
        out(printPages(state, store, range.start, range.end));
      },
    );
}
