// verify's non-blocking child runs (src/verify/child.ts): input, output, exit code, a timeout's
// kill, a missing program, and the event loop left free while the child runs.
import { describe, expect, it } from 'vitest';
import { runChild } from '../src/verify/child.js';

describe('runChild', () => {
  it('feeds input and returns both streams with the exit code', async () => {
    const r = await runChild('sh', ['-c', 'tr a-z A-Z; echo oops >&2; exit 3'], { input: 'kmem -n\n' });
    expect(r).toEqual({ status: 3, stdout: 'KMEM -N\n', stderr: 'oops\n' });
  });
  it('kills a child past its timeout (status null)', async () => {
    const t0 = Date.now();
    const r = await runChild('sleep', ['30'], { timeoutMs: 200 });
    expect(r.status).toBeNull();
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
  it('names a missing program (ENOENT)', async () => {
    const r = await runChild('/nonexistent/mmsim-no-such-tool', []);
    expect(r.error?.code).toBe('ENOENT');
  });
  it('leaves the event loop running while the child runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    await runChild('sleep', ['0.5']);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });
});
