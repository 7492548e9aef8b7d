// A lab worker thread (node:worker_threads, started by pool.ts from the built dist/lab/worker.js):
// it runs one API request's model work at a time (api.ts labJob) and posts back its answer, so a
// slow explore never holds up the server's request loop. The pool terminates it past the time limit.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { LabJob } from './api.js';

const port = parentPort;
if (port === null) throw new Error('lab worker: start this file as a worker thread (pool.ts does)');
// Below the request loop for the CPU: on Linux a thread has its own nice value (setpriority on its
// thread id, /proc/thread-self), so on a busy machine the server still answers at once. Elsewhere
// the system shares the CPU as it will. Done before the model is loaded, which is work too.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
} catch {
  // no /proc/thread-self (not Linux) or not allowed: keep the default priority
}
const { labJob } = await import('./api.js');
port.on('message', (job: LabJob) => void labJob(job).then((r) => port.postMessage(r)));
