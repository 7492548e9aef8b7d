// The scavenger gate (src/drivers/scavenge.ts): V8's parallel scavenge is switched off while as
// many JS threads run searches as there are cores, and back on when they stop; flags the user
// gave are left alone. The flags it sets must be V8's (setFlagsFromString ignores a misspelt one).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ScavengeGate } from '../src/drivers/scavenge.js';

describe('ScavengeGate', () => {
  it('serial scavenges from as many running threads as cores, parallel again below', () => {
    const set: string[] = [];
    const g = new ScavengeGate(2, (f) => set.push(f), false);
    const a = g.enter(1);
    expect(set).toEqual([]);
    const b = g.enter(1);
    expect(set).toEqual(['--no-parallel-scavenge']);
    const c = g.enter(3);
    b();
    b(); // once only
    expect(set).toEqual(['--no-parallel-scavenge']);
    c();
    expect(set).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
    a();
    expect(set).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
  });
  it("leaves a user's own choice alone", () => {
    const set: string[] = [];
    new ScavengeGate(1, (f) => set.push(f), true).enter(4)();
    expect(set).toEqual([]);
  });
  it("the flags are this node's V8 flags (an unknown one is refused on the command line)", () => {
    for (const flag of ['--no-parallel-scavenge', '--parallel-scavenge']) expect(spawnSync(process.execPath, [flag, '-e', '0']).status).toBe(0);
    expect(spawnSync(process.execPath, ['--no-parallel-scavengex', '-e', '0']).status).not.toBe(0);
  });
});
