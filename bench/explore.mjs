// npm run -s bench:explore [-- --json]: the explore driver on the built-in seed-2019 world —
// seconds for the bound-1 search that yields the shortest counterexample on v5.3 (the driver does
// not stop at the first one) and interleavings per second on 6.1, both with
// one preemption (target in issue 8: the counterexample in under 2 s).
import { explore } from '../dist/drivers/explore.js';
import { seed2019World } from '../dist/drivers/seed2019.js';

const run = (design) => {
  const t0 = performance.now();
  const r = explore(() => seed2019World(design), { preemptionBound: 1 });
  return { r, s: (performance.now() - t0) / 1000 };
};
const bad = run('v5.3');
const ok = run('6.1');
const out = {
  seconds_bounded_search_v53: +bad.s.toFixed(3),
  counterexample_steps: bad.r.violations.find((v) => v.invariant === 'zone_spans_pfn')?.schedule.length ?? null,
  interleavings_per_second_61: Math.round(ok.r.interleavings / ok.s),
  interleavings_61: ok.r.interleavings,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(out));
else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(32)} ${v}`);
