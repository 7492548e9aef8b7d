// A fuzz worker: forked by fuzz/main.ts with an entry point, a seed and a range of input
// indexes; prepares the entry, runs the inputs in order and reports each outcome over IPC. The
// parent watches the time and memory of every input and kills this process if one runs over; it
// owns the temporary directory (argv) and removes it however this process ends.
import { entryByName } from './entries/index.js';
import { findRoot, makeContext, runOne } from './harness.js';

export type ChildMessage =
  | { readonly t: 'ready'; readonly rss: number }
  | {
      readonly t: 'done';
      readonly i: number;
      readonly ms: number;
      readonly size: number;
      readonly kind: 'accepted' | 'rejected' | 'finding';
      readonly cls?: string;
      readonly message?: string;
      readonly detail?: string;
      readonly why?: string;
    }
  | { readonly t: 'end' };

function send(m: ChildMessage): Promise<void> {
  // Wait until the message is written: the next input may block the event loop.
  return new Promise((ok) => {
    if (!process.send) return ok();
    process.send(m, undefined, {}, () => ok());
  });
}

async function main(): Promise<void> {
  const [name, seedText, fromText, toText, tmp] = process.argv.slice(2);
  const entry = entryByName(name ?? '');
  if (!entry) throw new Error(`fuzz child: no entry ${name}`);
  const seed = Number(seedText);
  const ctx = makeContext(findRoot(), tmp);
  try {
    const prepared = await entry.prepare(ctx);
    await send({ t: 'ready', rss: process.memoryUsage().rss });
    for (let i = Number(fromText); i < Number(toText); i++) {
      const g = prepared.generate(seed, i);
      const t0 = performance.now();
      const o = await runOne(g, prepared.accepts);
      const ms = performance.now() - t0;
      await send(
        o.kind === 'finding'
          ? { t: 'done', i, ms, size: g.size, kind: 'finding', cls: o.cls, message: o.message, detail: o.detail }
          : o.kind === 'rejected'
            ? { t: 'done', i, ms, size: g.size, kind: 'rejected', why: o.why }
            : { t: 'done', i, ms, size: g.size, kind: 'accepted' },
      );
    }
    await send({ t: 'end' });
  } finally {
    ctx.dispose();
  }
}

main().then(
  () => {
    // Exit rather than wait for the event loop to drain: an entry's own servers or worker
    // threads (the lab's pool) would keep this process alive after its last input.
    process.disconnect?.();
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`fuzz child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(3);
  },
);
