// An explore worker thread (node:worker_threads, started by explore_jobs.ts from the built
// dist/drivers/explore_worker.js): it builds the search's world once from the spec it is started
// with, then runs each unit it is sent (the DPOR search below a prefix) and posts the result back on its answer port,
// or the error that stopped it (an input error's one line, or an mmsim bug's stack).
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { exploreUnit, Worlds } from './explore.js';
import { worldOfSpec, type WorkerJob, type WorkerReply, type WorkerStart } from './explore_jobs.js';

const port = parentPort;
if (port === null) throw new Error('explore worker: start this file as a worker thread (explore_jobs.ts does)');
const failure = (key: string, e: unknown): WorkerReply => ({
  key,
  error: e instanceof InputError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e),
  input: e instanceof InputError,
});
const { spec, answers } = workerData as WorkerStart;
let worlds: Worlds | null = null;
let setupError: unknown = null;
try {
  worlds = new Worlds(await worldOfSpec(spec));
} catch (e) {
  setupError = e;
}
port.on('message', (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    if (!worlds) throw setupError;
    const t0 = performance.now();
    const result = exploreUnit(worlds, job.unit, (additions) => answers.postMessage({ key: job.key, early: additions } satisfies WorkerReply));
    reply = { key: job.key, result, ms: performance.now() - t0 };
  } catch (e) {
    reply = failure(job.key, e);
  }
  answers.postMessage(reply);
});
