// deferred_init_memmap's padata job (5.9+; padata_do_multithreaded in kernel/padata.c) as tasks:
// the node's memory split into section-aligned chunks, helper threads (the pgdatinit kthread
// among them) taking chunks from the job's list until none is left. Each chunk is
// deferred_init_maxorder's work: __init_single_page and __free_pages_core of its pages, priced by
// the time driver. Before 5.9 (and with one thread) the kthread does it all.
import type { Task } from './task.js';
import { Mutex } from './locks.js';

/** padata_do_multithreaded's split: nworks helpers, chunks of chunkPages (the last one shorter). */
export function padataChunks(nrPages: number, maxThreads: number, minChunk: number, align: number): { nworks: number; chunkPages: number; chunks: number[] } {
  const loadBalanceFactor = 4;
  const nworks = Math.max(1, Math.min(Math.max(Math.floor(nrPages / minChunk), 1), maxThreads));
  const chunkPages = Math.ceil(Math.max(Math.floor(nrPages / (nworks * loadBalanceFactor)), minChunk) / align) * align;
  const chunks: number[] = [];
  for (let left = nrPages; left > 0; left -= chunkPages) chunks.push(Math.min(chunkPages, left));
  return { nworks, chunkPages, chunks };
}

/** The job's shared state: the chunks not taken yet, under the job's lock. */
export interface PadataJob {
  readonly node: number;
  readonly chunks: number[];
  readonly lock: Mutex;
}

export function padataJob(node: number, chunks: readonly number[]): PadataJob {
  return { node, chunks: [...chunks], lock: new Mutex(`node ${node} padata job lock`) };
}

/** padata_mt_helper: take the next chunk under the job's lock, initialise and free its pages, repeat. */
export function* padataHelper(job: PadataJob): Task<number> {
  let done = 0;
  for (;;) {
    yield { op: 'mutex_lock', lock: job.lock };
    const chunk = job.chunks.shift();
    yield { op: 'mutex_unlock', lock: job.lock };
    if (chunk === undefined) return done;
    yield { op: 'work', work: 'deferred-init', nrPages: chunk, node: job.node };
    done += chunk;
  }
}
