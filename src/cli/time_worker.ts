// A time worker thread (node:worker_threads, started by compareRows in explore.ts from the built
// dist/cli/time_worker.js): it times each design of a compare on the preset it is started with,
// in order, and posts back each result (or the error that stopped it) while the main thread
// explores the designs.
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { timeFor } from './time.js';
import type { TimeJob, TimeReply } from './explore.js';

const port = parentPort;
if (port === null) throw new Error('time worker: start this file as a worker thread (compareRows does)');
const job = workerData as TimeJob;
for (const [index, design] of job.designs.entries()) {
  let reply: TimeReply;
  try {
    reply = { index, result: await timeFor(job.preset, design, {}) };
  } catch (e) {
    reply = { index, error: e instanceof InputError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e), input: e instanceof InputError };
  }
  port.postMessage(reply);
}
