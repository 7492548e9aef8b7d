// deferred_init_memmap with padata (6.18): each deferred range is cut into section-aligned
// chunks and spread over the node's CPUs; here the chunks run on worker threads over the
// SharedArrayBuffers of the dense memmap. Leaves out padata's load-balance factor (chunks are
// whole sections, handed out round-robin).
import { Worker } from 'node:worker_threads';
import type { DeferredRange } from './boot.js';
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

/** Run the deferred ranges on `threads` workers; resolves when every chunk is initialised. */
export async function runDeferredParallel(store: DenseMemmap, deferred: readonly DeferredRange[], threads: number): Promise<void> {
  const pps = store.geometry.pagesPerSection;
  const chunks = deferredChunks(deferred, pps);
  if (chunks.length === 0) return;
  const keys = [...new Map(chunks.map((c) => [`${c.zone}/${c.nid}`, [c.zone, c.nid] as const])).values()];
  const writer = store.geometry.writer.serialize(keys);
  const n = Math.max(1, Math.min(threads, chunks.length));
  const perWorker: DeferredRange[][] = Array.from({ length: n }, () => []);
  chunks.forEach((c, i) => perWorker[i % n]?.push(c));
  const url = workerUrl();
  await Promise.all(
    perWorker.map((mine) => {
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
        const w = new Worker(url, { workerData: job });
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => {
          if (code !== 0) reject(new Error(`deferred init worker exited with ${code}`));
        });
      });
    }),
  );
}

/** The compiled worker next to this module (dist/), also when this module runs from src/ under vitest. */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/memmap/deferred_worker.js', here) : new URL('./deferred_worker.js', here);
}
