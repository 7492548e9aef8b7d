// deferred_init_memmap with padata (6.18): each deferred range is cut into section-aligned
// chunks and spread over the node's CPUs; here the chunks run on a pool of worker threads (the
// kernel's padata threads) over the SharedArrayBuffers of the dense memmap. Leaves out padata's
// load-balance factor (chunks are whole sections, handed out in contiguous shares).
import { Worker } from 'node:worker_threads';
import type { DeferredRange } from './store.js';
import type { DenseMemmap } from './dense.js';
import type { DeferredJob } from './deferred_worker.js';

/** Section-aligned chunks of the deferred ranges (padata .align = .min_chunk = PAGES_PER_SECTION). */
export function deferredChunks(deferred: readonly DeferredRange[], pagesPerSection: number): DeferredRange[] {
  const out: DeferredRange[] = [];
  for (const d of deferred) {
    let s = d.start;
    while (s < d.end) {
      const e = Math.min(d.end, (Math.floor(s / pagesPerSection) + 1) * pagesPerSection);
      out.push({ ...d, start: s, end: e });
      s = e;
    }
  }
  return out;
}

/** A pool of deferred-init threads, started once and reused (close() ends them). */
export class DeferredInitPool {
  private readonly workers: Worker[];

  constructor(readonly threads: number) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(workerUrl()));
  }

  /** Initialise the deferred ranges of `store`; resolves when every chunk is done. */
  async run(store: DenseMemmap, deferred: readonly DeferredRange[]): Promise<void> {
    const pps = store.geometry.pagesPerSection;
    const chunks = deferredChunks(deferred, pps);
    if (chunks.length === 0) return;
    const keys = [...new Map(chunks.map((c) => [`${c.zone}/${c.nid}`, [c.zone, c.nid] as const])).values()];
    const writer = store.geometry.writer.serialize(keys);
    const n = Math.min(this.workers.length, chunks.length);
    const per = Math.ceil(chunks.length / n);
    await Promise.all(
      this.workers.slice(0, n).map((w, i) => {
        const mine = chunks.slice(i * per, (i + 1) * per);
        const nrs = new Set(mine.map((c) => Math.floor(c.start / pps)));
        const job: DeferredJob = {
          writer,
          pagesPerSection: pps,
          sections: [...nrs].flatMap((nr) => {
            const sec = store.sections.get(nr);
            return sec ? [[nr, sec] as const] : [];
          }),
          chunks: mine,
        };
        return new Promise<void>((resolve, reject) => {
          const onError = (e: Error): void => reject(e);
          w.once('error', onError);
          w.once('message', () => {
            w.off('error', onError);
            resolve();
          });
          w.postMessage(job);
        });
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Run the deferred ranges on `threads` workers started for this call. */
export async function runDeferredParallel(store: DenseMemmap, deferred: readonly DeferredRange[], threads: number): Promise<void> {
  const pool = new DeferredInitPool(threads);
  try {
    await pool.run(store, deferred);
  } finally {
    await pool.close();
  }
}

/** The compiled worker next to this module (dist/), also when this module runs from src/ under vitest. */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/memmap/deferred_worker.js', here) : new URL('./deferred_worker.js', here);
}

/**
 * The threads deferred_init_memmap uses on a node: one kthread per node before padata (5.8),
 * then deferred_page_init_max_threads = the node's CPUs (at least one).
 */
export function deferredThreadsFor(padata: boolean, nodeCpus: number): number {
  return padata ? Math.max(1, nodeCpus) : 1;
}

/** Every node's deferred ranges, each node on its own pool of deferredThreadsFor threads, nodes in parallel. */
export async function runDeferredByNode(store: DenseMemmap, deferred: readonly DeferredRange[], threadsOf: (nid: number) => number): Promise<void> {
  const nids = [...new Set(deferred.map((d) => d.nid))];
  await Promise.all(
    nids.map(async (nid) => {
      const pool = new DeferredInitPool(threadsOf(nid));
      try {
        await pool.run(
          store,
          deferred.filter((d) => d.nid === nid),
        );
      } finally {
        await pool.close();
      }
    }),
  );
}
