// A sweep worker thread (node:worker_threads, started by drivers/sweep.ts ThreadPool from the
// built dist/cli/sweep_worker.js): it runs one sweep job at a time (sweep.ts runSweepJob) and
// posts back its outcome; a job's own errors are its outcome, so the thread outlives them.
import { parentPort } from 'node:worker_threads';
import type { SweepJob } from './sweep.js';

const port = parentPort;
if (port === null) throw new Error('sweep worker: start this file as a worker thread (mmsim sweep does)');
const { runSweepJob } = await import('./sweep.js');
port.on('message', (job: SweepJob) => void runSweepJob(job).then((r) => port.postMessage(r)));
