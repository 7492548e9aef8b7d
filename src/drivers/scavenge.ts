// V8's parallel scavenger runs each minor GC on helper threads from the process's one platform
// pool. Where the process's JS threads already keep every core busy those helpers only take turns
// with them: on a 2-core machine explore --jobs 2 ran 1.64x one job with them, 1.8x without
// (docs/performance.md). So while as many JS threads run as there are cores, each scavenge runs
// on the thread that allocates (--no-parallel-scavenge, a flag V8 reads at every scavenge;
// --single-threaded-gc cannot be set once the heap is up: V8 aborts at the next major GC).
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** Counts the JS threads running searches, and sets V8's scavenger to match. */
export class ScavengeGate {
  private running = 0;
  private serial = false;

  constructor(
    private readonly cores: number,
    private readonly setFlags: (flags: string) => void,
    /** The user chose the scavenger (node --no-parallel-scavenge, --single-threaded-gc): left alone. */
    private readonly chosen: boolean,
  ) {}

  /** `n` more threads run from now; the function returned says they stopped (once). */
  enter(n: number): () => void {
    this.running += n;
    this.apply();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.running -= n;
      this.apply();
    };
  }

  private apply(): void {
    const serial = this.running >= this.cores;
    if (this.chosen || serial === this.serial) return;
    this.serial = serial;
    this.setFlags(serial ? '--no-parallel-scavenge' : '--parallel-scavenge');
  }
}

const chosen = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)].some((a) => /^--(no-parallel-scavenge|single-threaded-gc|single-threaded)$/.test(a));

/** The process's gate: explore's and sweep's thread pools enter it while their threads run. */
export const scavenge = new ScavengeGate(availableParallelism(), setFlagsFromString, chosen);
