// The lab's JSON API: what the browser draws, computed by the model in Node (docs/architecture.md
// says why the model runs behind the server rather than in the page). A snapshot is the state a
// physical map needs: node and zone spans, sections, memory blocks, dev_pagemaps and the memmap
// as runs of page states.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { explore, replayEach } from '../drivers/explore.js';
import { BUILTIN_SCENARIOS, type BuiltinScenario } from '../designs/builtin_scenarios.js';
import { builtinWorld } from '../drivers/scenario_world.js';
import { DESIGNS } from '../designs/designs.js';
import { presetByName } from '../drivers/presets.js';
import { timelineSvg, timeRun } from '../drivers/time.js';
import type { Machine } from '../kernel/machine.js';
import { pfnFirst } from '../kernel/dev_pagemap.js';
import { ExtentMemmap } from '../memmap/extent.js';
import { applyStep, bootMachineFile, ExpectFailed, prepareScenario, probeScenarioDevices, showViews } from '../drivers/run.js';
import { Scheduler } from '../drivers/scheduler.js';
import type { MakeWorld } from '../drivers/explore.js';

export interface Snapshot {
  readonly nodes: { nid: number; start: number; end: number; zones: { name: string; start: number; end: number; present: number }[] }[];
  readonly sections: { start: number; end: number; present: boolean; online: boolean; nid: number }[];
  readonly blocks: { id: number; start: number; end: number; state: string; zone: string }[];
  readonly pgmaps: { name: string; start: number; end: number; first: number; initialisedTo: number; live: boolean; altmapEnd: number }[];
  readonly memmap: { start: number; end: number; kind: string; reserved: boolean; zone: number; nid: number }[];
  readonly pagesPerSection: number;
  readonly zoneNames: readonly string[];
}

/** The state of a machine as the map draws it (pfns; ranges half-open). */
export function snapshot(m: Machine): Snapshot {
  const pps = m.state.sparse.pagesPerSection;
  const page = m.pageBytes;
  const store = m.store;
  const memmap = store instanceof ExtentMemmap ? store.runsIn(0, Number.MAX_SAFE_INTEGER) : [];
  return {
    nodes: m.state.nodes.map((n) => ({
      nid: n.nodeId,
      start: n.nodeStartPfn,
      end: n.nodeStartPfn + n.nodeSpannedPages,
      zones: n.zones.filter((z) => z.spannedPages > 0).map((z) => ({ name: z.name, start: z.zoneStartPfn, end: z.zoneStartPfn + z.spannedPages, present: z.presentPages })),
    })),
    sections: m.state.sparse.runs.map((r) => ({ start: r.startNr * pps, end: r.endNr * pps, present: r.present, online: r.online, nid: r.nid })),
    blocks: [...m.blocks.values()].map((b) => ({ id: b.id, start: b.startPfn, end: b.startPfn + b.nrPages, state: b.state, zone: String(b.validZones ?? '') })),
    pgmaps: m.pgmaps.map((p) => ({
      name: p.name,
      start: p.start / page,
      end: (p.end + 1) / page,
      first: pfnFirst(p, page),
      initialisedTo: p.initialisedTo,
      live: p.live,
      altmapEnd: p.altmap ? p.altmap.basePfn + p.altmap.offset : p.start / page,
    })),
    memmap: memmap.map((r) => ({ start: r.start, end: r.end, kind: r.kind, reserved: r.reserved, zone: r.zone, nid: r.nid })),
    pagesPerSection: pps,
    zoneNames: m.state.zoneNames,
  };
}

export interface TraceStepView {
  readonly task: number;
  readonly name: string;
  readonly op: string;
  readonly held: readonly string[];
  readonly state: Snapshot;
}

/** An explore counterexample of a built-in scenario, step by step with the machine's state after each. */
export function labTrace(
  scenario: string,
  design: string,
): { scenario: string; design: string; tasks: string[]; invariant: string | null; message: string | null; violationStep: number | null; steps: TraceStepView[] } {
  if (!(BUILTIN_SCENARIOS as readonly string[]).includes(scenario)) throw new InputError(`lab: unknown scenario ${scenario}; the built-in ones are ${BUILTIN_SCENARIOS.join(', ')}`);
  if (!DESIGNS.some((d) => d.name === design)) throw new InputError(`lab: unknown design ${design}`);
  const make = (ctx: Parameters<typeof builtinWorld>[1]) => builtinWorld({ scenario: scenario as BuiltinScenario, design }, ctx);
  const r = explore(make);
  // The race if there is one, else the first invariant broken, else the schedule that runs A then B.
  const v = r.violations.find((x) => x.invariant === 'zone_spans_pfn') ?? r.violations[0] ?? null;
  const world = make({ recorder: null });
  const tasks = world.tasks.map((t) => t.name);
  const schedule = v ? v.schedule : sequential(make);
  const steps: TraceStepView[] = [];
  replayEach(make, schedule, (w, step) => steps.push({ ...step, state: snapshot(w.machine as Machine) }));
  return { scenario, design, tasks, invariant: v?.invariant ?? null, message: v?.message ?? null, violationStep: v ? v.schedule.length : null, steps };
}

/** The schedule that runs each task to its end, one after the other. */
function sequential(make: MakeWorld): number[] {
  const w = make({ recorder: null });
  const s = new Scheduler([]);
  for (const t of w.tasks) s.spawn(t.name, t.task);
  const out: number[] = [];
  for (let t = 0; t < s.taskCount; t++) while (!s.isDone(t) && s.step(t)) out.push(t);
  return out;
}

/** A scenario file played step by step: the state, zoneinfo and lsmem after each step, or its one-line error. */
export function labScenario(file: string): { file: string; steps: { label: string; state: Snapshot; zoneinfo: string; lsmem: string }[]; error: string | null } {
  const steps: { label: string; state: Snapshot; zoneinfo: string; lsmem: string }[] = [];
  try {
    const { scenario, where, machineFile, extraBoot } = prepareScenario(file);
    const m = bootMachineFile(machineFile, scenario.kernel, { poison: scenario.debug_vm, extraBoot });
    for (const id of scenario.unmovable) m.unmovableBlocks.add(id);
    probeScenarioDevices(m, scenario.steps);
    const view = (label: string): void => {
      let zoneinfo = '';
      let lsmem = '';
      applyStepViews(m, label, (z, l) => {
        zoneinfo = z;
        lsmem = l;
      });
      steps.push({ label, state: snapshot(m), zoneinfo, lsmem });
    };
    view('boot');
    scenario.steps.forEach((st, i) => {
      applyStep(m, st, where(i), `step ${i + 1}`, [], () => {});
      view(`step ${i + 1}: ${Object.keys(st)[0] ?? ''}`);
    });
    return { file, steps, error: null };
  } catch (e) {
    if (e instanceof InputError || e instanceof ExpectFailed) return { file, steps, error: e.message };
    throw e;
  }
}

/** zoneinfo and lsmem of the machine now, as mmsim run --print prints them. */
function applyStepViews(m: Machine, label: string, got: (zoneinfo: string, lsmem: string) => void): void {
  let z = '';
  let l = '';
  showViews(m, label, ['zoneinfo'], (s) => (z += s));
  showViews(m, label, ['lsmem'], (s) => (l += s));
  got(z, l);
}

/** The examples the lab can open. */
export function labExamples(root: string): string[] {
  return readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.scenario.yaml'))
    .sort();
}

/** The time driver's timelines of a preset, the designs side by side on one axis. */
export function labTimeline(preset: string, designs: readonly string[]): { svg: string; totals: { design: string; totalMs: number }[] } {
  const p = presetByName(preset);
  if (!p) throw new InputError(`lab: unknown preset ${preset}`);
  const results = designs.map((d) => timeRun(p, d));
  return { svg: timelineSvg(results), totals: results.map((r) => ({ design: r.design, totalMs: r.totalMs })) };
}
