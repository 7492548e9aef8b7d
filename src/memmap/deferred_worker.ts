// A deferred_init_memmap worker (padata job thread): stays alive and initialises the
// section-aligned chunks it is sent in the shared dense memmap, through the same PageWriter as
// the main thread, answering each job with the number of pages it initialised.
import { parentPort } from 'node:worker_threads';
import { initDenseRange, type DenseSection } from './dense.js';
import { pageWriterFromSerialized, type SerializedWriter } from './page_writer.js';

export interface DeferredJob {
  readonly writer: SerializedWriter;
  readonly pagesPerSection: number;
  readonly sections: readonly (readonly [number, DenseSection])[];
  readonly chunks: readonly { readonly start: number; readonly end: number; readonly zone: number; readonly nid: number }[];
}

parentPort?.on('message', (job: DeferredJob) => {
  const writer = pageWriterFromSerialized(job.writer);
  const sections = new Map(job.sections);
  let pages = 0;
  for (const c of job.chunks) {
    let pfn = c.start;
    while (pfn < c.end) {
      const nr = Math.floor(pfn / job.pagesPerSection);
      const e = Math.min(c.end, (nr + 1) * job.pagesPerSection);
      const sec = sections.get(nr);
      if (sec) initDenseRange(sec, nr * job.pagesPerSection, pfn, e, c.zone, c.nid, writer);
      pages += e - pfn;
      pfn = e;
    }
  }
  parentPort?.postMessage({ pages });
});
