// The explore driver's access index (src/drivers/access_index.ts) against footprint.ts's
// dependent, step by step: on random paths of random footprints (names, `family:*` wildcards,
// EVERYTHING), cut and grown again as a DPOR search's path is, the latest dependent step of each
// task is the one a walk back over the path with dependent finds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessIndex } from '../src/drivers/access_index.js';
import { dependent, EVERYTHING, type Access, type Footprint } from '../src/drivers/footprint.js';

const NAMES = ['mem_section:3', 'mem_section:4', 'mem_section:*', 'memmap:3', 'pagecat:3', 'zone:0/Device:span', 'zone:0/Device:*', 'zone:*', 'lock:mem_hotplug_lock', 'pgmaps', '*'];
const NTASKS = 3;

const footprint = fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom<Access>('r', 'w')), { selector: ([n]) => n, maxLength: 4 });
// A step: its depth (at most the path's length: a cut), its task and footprint.
const step = fc.tuple(fc.nat(), fc.nat(NTASKS - 1), footprint);

function walkBack(path: readonly { task: number; fp: Footprint }[], fp: Footprint): number[] {
  const last = new Array<number>(NTASKS).fill(-1);
  for (let i = path.length - 1; i >= 0; i--) {
    const q = path[i] as { task: number; fp: Footprint };
    if ((last[q.task] as number) < 0 && dependent(q.fp, fp)) last[q.task] = i;
  }
  return last;
}

describe('AccessIndex', () => {
  it('finds, for each task, the latest step dependent with a new one, as a walk back with dependent does', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const index = new AccessIndex(NTASKS);
        const path: { task: number; fp: Footprint }[] = [];
        for (const [depth, task, entries] of steps) {
          const d = depth % (path.length + 1);
          path.length = d;
          const fp: Footprint = entries.some(([n]) => n === '*') ? EVERYTHING : new Map(entries);
          index.cut(d);
          const got = index.latestDependent(fp);
          if (fp.has('*')) expect(got).toBeNull();
          else expect(got).toEqual(walkBack(path, fp));
          index.add(d, task, fp);
          path.push({ task, fp });
        }
        // A copy of the index answers as the index does.
        const copy = index.copy(path);
        for (const [, , entries] of steps.slice(0, 5)) {
          const fp: Footprint = new Map(entries.filter(([n]) => n !== '*'));
          expect(copy.latestDependent(fp)).toEqual(index.latestDependent(fp));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a wildcard clashes with every name of its family, and only through a write', () => {
    const index = new AccessIndex(2);
    index.add(0, 0, new Map([['mem_section:*', 'r']]));
    index.add(1, 1, new Map([['mem_section:7', 'r']]));
    expect(index.latestDependent(new Map([['mem_section:9', 'w']]))).toEqual([0, -1]);
    expect(index.latestDependent(new Map([['mem_section:7', 'r']]))).toEqual([-1, -1]);
    expect(index.latestDependent(new Map([['mem_section:*', 'w']]))).toEqual([0, 1]);
    expect(index.latestDependent(new Map([['memmap:7', 'w']]))).toEqual([-1, -1]);
    index.cut(1);
    expect(index.latestDependent(new Map([['mem_section:*', 'w']]))).toEqual([0, -1]);
  });
});
