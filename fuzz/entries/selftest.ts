// The harness's own check (`npm run fuzz -- --only selftest`, not in the default list): inputs
// that pass, are refused in one line, throw, answer in two lines, hang, exhaust the V8 heap, grow
// the resident size with buffers outside it, and abort the process, by index modulo 8. Every
// class but the first two must come back as a finding with its input's index.
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { InputError } from '../../src/errors.js';
import { defineEntry } from '../harness.js';

export const SELFTEST_KINDS = ['pass', 'refuse', 'throw', 'two-lines', 'hang', 'heap', 'buffers', 'abort'] as const;
type Kind = (typeof SELFTEST_KINDS)[number];

export const selftestEntry = defineEntry<{ kind: Kind }>({
  name: 'selftest',
  summary: "the harness's own check: a pass, a refusal, an exception, a two-line error, a hang, a heap blow-up, a buffer blow-up, an abort",
  async prepare() {
    return Promise.resolve(fc.constant<{ kind: Kind }>({ kind: 'pass' }));
  },
  // The index, not the seed, picks the kind: input i is SELFTEST_KINDS[i % 8].
  inputAt: (i) => ({ kind: SELFTEST_KINDS[i % SELFTEST_KINDS.length] as Kind }),
  async run(input) {
    const keep: unknown[] = [];
    switch (input.kind) {
      case 'pass':
        return;
      case 'refuse':
        throw new InputError('selftest: refused in one line');
      case 'throw':
        throw new TypeError('selftest: a bug');
      case 'two-lines':
        // InputError escapes control characters itself (src/errors.ts), so a two-line error can only
        // come from a message changed after construction: made here to check the harness sees it.
        throw Object.assign(new InputError('selftest'), { message: 'selftest: first line\nsecond line' });
      case 'hang':
        for (;;) keep.length = 0;
      case 'heap':
        for (;;) keep.push(new Array<number>(1 << 20).fill(1));
      case 'buffers':
        for (;;) {
          keep.push(Buffer.alloc(64 << 20, 1));
          await new Promise((ok) => setTimeout(ok, 10));
        }
      case 'abort':
        process.abort();
    }
  },
  save(input, base) {
    writeFileSync(`${base}.txt`, `${input.kind}\n`);
    return { files: [`${base}.txt`], command: `(selftest input: ${input.kind})` };
  },
  size: () => 1,
  describe: (input) => `selftest ${input.kind}`,
});
