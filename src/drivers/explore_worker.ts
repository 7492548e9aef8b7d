// An explore worker thread (node:worker_threads, started by explore_jobs.ts from the built
// dist/drivers/explore_worker.js): it builds the search's world from the spec it is started with
// (again when a job names another: a thread is kept between the searches of a process), runs each
// unit it is sent (the DPOR search below a prefix) and posts the result back on its answer port,
// the error that stopped it (an input error's one line, or an mmsim bug's stack), or, where the
// search set its cancel flag, that the unit was cancelled at a leaf.
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { exploreUnit, Worlds } from './explore.js';
import { worldOfSpec, type ExploreWorldSpec, type WorkerJob, type WorkerReply, type WorkerStart } from './explore_jobs.js';

const port = parentPort;
if (port === null) throw new Error('explore worker: start this file as a worker thread (explore_jobs.ts does)');
const failure = (key: string, e: unknown): WorkerReply => ({
  key,
  error: e instanceof InputError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e),
  input: e instanceof InputError,
});
const { spec, answers, cancel } = workerData as WorkerStart;
/** Thrown at a leaf once the cancel flag is set. */
const CANCELLED = new Error('explore worker: unit cancelled');
const build = (s: ExploreWorldSpec): { readonly key: string; readonly worlds: Promise<Worlds> } => {
  const worlds = worldOfSpec(s).then((m) => new Worlds(m));
  worlds.catch(() => undefined); // reported with the first job that needs it
  return { key: JSON.stringify(s), worlds };
};
let current = build(spec);
// Jobs run one at a time in the order sent (a world built anew is awaited first).
let queue: Promise<void> = Promise.resolve();
port.on('message', (job: WorkerJob) => {
  queue = queue.then(async () => {
    let reply: WorkerReply;
    try {
      if (job.spec && JSON.stringify(job.spec) !== current.key) current = build(job.spec);
      const worlds = await current.worlds;
      if (Atomics.load(cancel, 0)) throw CANCELLED;
      const t0 = performance.now();
      const leaf = (): void => {
        if (Atomics.load(cancel, 0)) throw CANCELLED;
      };
      const result = exploreUnit(worlds, job.unit, (additions) => answers.postMessage({ key: job.key, early: additions } satisfies WorkerReply), leaf);
      reply = { key: job.key, result, ms: performance.now() - t0 };
    } catch (e) {
      reply = e === CANCELLED ? { key: job.key, cancelled: true } : failure(job.key, e);
    }
    answers.postMessage(reply);
  });
});
