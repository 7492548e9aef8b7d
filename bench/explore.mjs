// npm run -s bench:explore [-- --json]: the explore driver on the built-in seed-2019 world, all
// measured in this one run: seconds to the first counterexample on v5.3 (DPOR, stopping there;
// the target in issue 8 is under 2 s), seconds for the whole DPOR search that proves its trace
// the shortest, interleavings per second of that search, the same scenario unreduced with one
// preemption (the search before DPOR) and the fixed designs' exhaustive searches.
import { explore } from '../dist/drivers/explore.js';
import { seed2019World } from '../dist/drivers/scenario_world.js';

const run = (design, opts) => {
  const t0 = performance.now();
  const r = explore((ctx) => seed2019World(design, ctx), opts);
  return { r, s: (performance.now() - t0) / 1000 };
};
const first = run('v5.3', { stopAtFirst: true });
const full = run('v5.3', {});
const bounded = run('v5.3', { preemptionBound: 1, reduce: 'none' });
const fixed = run('6.1', {});
const steps = (r) => r.violations.find((v) => v.invariant === 'zone_spans_pfn')?.schedule.length ?? null;
const out = {
  seconds_to_first_counterexample_v53: +first.s.toFixed(3),
  seconds_exhaustive_dpor_v53: +full.s.toFixed(3),
  interleavings_exhaustive_dpor_v53: full.r.interleavings,
  interleavings_per_second_dpor_v53: Math.round(full.r.interleavings / full.s),
  shortest_steps_dpor_v53: steps(full.r),
  seconds_unreduced_bound1_v53: +bounded.s.toFixed(3),
  interleavings_unreduced_bound1_v53: bounded.r.interleavings,
  shortest_steps_unreduced_bound1_v53: steps(bounded.r),
  interleavings_per_second_unreduced_v53: Math.round(bounded.r.interleavings / bounded.s),
  seconds_exhaustive_dpor_61: +fixed.s.toFixed(3),
  interleavings_exhaustive_dpor_61: fixed.r.interleavings,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(out));
else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(40)} ${v}`);
