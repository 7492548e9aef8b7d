// The lab's JSON API: what the browser draws, computed by the model in Node (docs/architecture.md
// says why the model runs behind the server rather than in the page). A snapshot is the state a
// physical map needs: node and zone spans, sections, memory blocks, dev_pagemaps and the memmap
// as runs of page states. The server runs each request's model work through `labJob` in a worker
// thread (worker.ts); the answers are JSON text, byte for byte what the page reads.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { explore, replayEach } from '../drivers/explore.js';
import { BUILTIN_SCENARIOS, type BuiltinScenario } from '../designs/builtin_scenarios.js';
import { builtinWorld } from '../drivers/scenario_world.js';
import { DESIGNS, loadDesignFile, type Design } from '../designs/designs.js';
import { presetByName } from '../drivers/presets.js';
import { PHASE_COLOURS, timelineSvg, timeRun } from '../drivers/time.js';
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
  /** Bytes per page: the map's axis shows physical addresses (pfn × pageBytes) under the pfns. */
  readonly pageBytes: number;
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
    pageBytes: page,
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

/** One invariant broken: the kernel's words and its shortest schedule replayed, the machine's state after each step. */
export interface TraceViolationView {
  readonly invariant: string;
  readonly message: string;
  /** The step that breaks it (the schedule's length). */
  readonly violationStep: number;
  readonly steps: TraceStepView[];
}

/**
 * An explore counterexample of a built-in scenario, step by step with the machine's state after each:
 * the race if there is one (zone_spans_pfn), else the first invariant broken, else the schedule that
 * runs the tasks one after the other. `violations` holds every invariant the design breaks, each
 * with its own shortest schedule replayed, the one shown first.
 */
export function labTrace(
  scenario: string,
  design: string | Design,
): {
  scenario: string;
  design: string;
  tasks: string[];
  invariant: string | null;
  message: string | null;
  violationStep: number | null;
  steps: TraceStepView[];
  violations: TraceViolationView[];
} {
  const designName = typeof design === 'string' ? design : design.name;
  checkJob({ kind: 'trace', scenario, design: designName, ...(typeof design === 'string' ? {} : { designFile: design.source ?? '' }) });
  const make = (ctx: Parameters<typeof builtinWorld>[1]) => builtinWorld({ scenario: scenario as BuiltinScenario, design }, ctx);
  const r = explore(make);
  const first = r.violations.find((x) => x.invariant === 'zone_spans_pfn') ?? r.violations[0] ?? null;
  const ordered = first ? [first, ...r.violations.filter((x) => x !== first)] : [];
  const world = make({ recorder: null });
  const tasks = world.tasks.map((t) => t.name);
  const replay = (schedule: readonly number[]): TraceStepView[] => {
    const steps: TraceStepView[] = [];
    replayEach(make, schedule, (w, step) => steps.push({ ...step, state: snapshot(w.machine as Machine) }));
    return steps;
  };
  const violations = ordered.map((v) => ({ invariant: v.invariant, message: v.message, violationStep: v.schedule.length, steps: replay(v.schedule) }));
  const shown = violations[0];
  return {
    scenario,
    design: designName,
    tasks,
    invariant: shown?.invariant ?? null,
    message: shown?.message ?? null,
    violationStep: shown?.violationStep ?? null,
    steps: shown?.steps ?? replay(sequential(make)),
    violations,
  };
}

/** Whether a design breaks any invariant on a built-in scenario (every interleaving): the verdict the timelines show beside it. */
export function labVerdict(scenario: string, design: string | Design): { scenario: string; design: string; verdict: 'ok' | 'violation'; invariants: string[]; interleavings: number } {
  const designName = typeof design === 'string' ? design : design.name;
  checkJob({ kind: 'verdict', scenario, design: designName, ...(typeof design === 'string' ? {} : { designFile: design.source ?? '' }) });
  const r = explore((ctx) => builtinWorld({ scenario: scenario as BuiltinScenario, design }, ctx));
  return { scenario, design: designName, verdict: r.violations.length ? 'violation' : 'ok', invariants: r.violations.map((v) => v.invariant), interleavings: r.interleavings };
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

/**
 * A scenario file played step by step: the state, zoneinfo and lsmem after each step, or its one-line error.
 * Its machine file is looked up only inside `machineDirs` (in order; by default the scenario's own
 * directory): never an absolute path, never a path that climbs out of them, so a posted scenario
 * cannot make the server read any file it names.
 */
export function labScenario(
  file: string,
  machineDirs: readonly string[] = [dirname(file)],
): { file: string; steps: { label: string; state: Snapshot; zoneinfo: string; lsmem: string }[]; error: string | null } {
  const steps: { label: string; state: Snapshot; zoneinfo: string; lsmem: string }[] = [];
  try {
    const { scenario, where, extraBoot } = prepareScenario(file);
    const machineFile = confinedMachine(scenario.machine, machineDirs, where.key('machine'));
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

/** A scenario's `machine:` resolved inside one of `dirs` (a real file, symlinks followed, that stays inside), else an InputError at `at`. */
function confinedMachine(machine: string, dirs: readonly string[], at: string): string {
  const shown = JSON.stringify(machine.length > 120 ? `${machine.slice(0, 120)}...` : machine);
  const only = 'the lab opens machine files from examples/ only (e.g. machine: qemu-2node.yaml)';
  if (isAbsolute(machine)) throw new InputError(`${at}: machine ${shown} is an absolute path; ${only}`);
  let inside = false;
  for (const d of dirs) {
    const root = realpathSync(d);
    const f = resolve(root, machine);
    if (!f.startsWith(root + sep)) continue;
    inside = true;
    if (!existsSync(f)) continue;
    const real = realpathSync(f);
    if (real.startsWith(root + sep) && statSync(real).isFile()) return real;
  }
  throw new InputError(inside ? `${at}: machine ${shown}: no such file in examples/; ${only}` : `${at}: machine ${shown} leaves examples/; ${only}`);
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

/** The time driver's timelines of a preset, the designs side by side on one axis; the phases drawn, each with its colour (the legend). */
export function labTimeline(
  preset: string,
  designs: readonly string[],
  userDesigns: readonly Design[] = [],
): { svg: string; totals: { design: string; totalMs: number }[]; phases: { phase: string; colour: string }[]; locked: boolean } {
  checkJob({ kind: 'timeline', preset, designs });
  const p = presetByName(preset);
  if (!p) throw new InputError(`lab: unknown preset ${preset}`);
  const results = designs.map((d) => timeRun(p, d, { userDesigns }));
  const present = new Set(results.flatMap((r) => r.segments.map((s) => s.phase)));
  const phases = [...Object.keys(PHASE_COLOURS).filter((k) => present.has(k)), ...[...present].filter((k) => !(k in PHASE_COLOURS)).sort()];
  return {
    svg: timelineSvg(results, { legend: false }),
    totals: results.map((r) => ({ design: r.design, totalMs: r.totalMs })),
    phases: phases.map((phase) => ({ phase, colour: PHASE_COLOURS[phase] ?? '#999' })),
    locked: results.some((r) => r.segments.some((s) => s.locked)),
  };
}

/** One API request's model work, as the server hands it to a worker. */
export type LabJob =
  /** `designFile`: the design file given to `mmsim serve` (its path, never one a request names), whose design `design` is. */
  | { readonly kind: 'trace'; readonly scenario: string; readonly design: string; readonly designFile?: string }
  | { readonly kind: 'verdict'; readonly scenario: string; readonly design: string; readonly designFile?: string }
  | { readonly kind: 'timeline'; readonly preset: string; readonly designs: readonly string[]; readonly designFile?: string }
  /** An example scenario, by its file name in `examplesDir`. */
  | { readonly kind: 'example'; readonly examplesDir: string; readonly name: string }
  /** A posted scenario, written to `file` in its own directory; `name` is what the page calls it. */
  | { readonly kind: 'upload'; readonly file: string; readonly name: string; readonly examplesDir: string }
  /** The scenario file given to `mmsim serve` (the user's own path; `name` is how they wrote it): its machine file beside it or in examples/. */
  | { readonly kind: 'file'; readonly file: string; readonly name: string; readonly examplesDir: string };

/** A job's answer: the HTTP status and its JSON text, or (an mmsim bug) the stack for the server's log only. */
export type LabReply = { readonly status: number; readonly body: string } | { readonly bug: string };

/** Timelines side by side in one request, at most. */
export const LAB_MAX_DESIGNS = 8;

/** The checks a job's names pass before any model work (cheap: the server runs them on its own thread); an InputError if one fails. */
export function checkJob(job: LabJob): void {
  if (job.kind === 'trace' || job.kind === 'verdict') {
    if (!(BUILTIN_SCENARIOS as readonly string[]).includes(job.scenario)) throw new InputError(`lab: unknown scenario ${job.scenario}; the built-in ones are ${BUILTIN_SCENARIOS.join(', ')}`);
    if (!DESIGNS.some((d) => d.name === job.design) && job.designFile === undefined) throw new InputError(`lab: unknown design ${job.design}`);
  } else if (job.kind === 'timeline') {
    if (!presetByName(job.preset)) throw new InputError(`lab: unknown preset ${job.preset}`);
    if (job.designs.length > LAB_MAX_DESIGNS) throw new InputError(`lab: ${job.designs.length} designs; the timelines show at most ${LAB_MAX_DESIGNS} side by side`);
  }
}

/** The design of `mmsim serve DESIGN.mjs`, loaded once per thread (the server checked it at its start). */
async function userDesign(job: { readonly design: string; readonly designFile?: string }): Promise<Design | null> {
  if (job.designFile === undefined) return null;
  const d = await loadDesignFile(job.designFile);
  if (d.name !== job.design) throw new InputError(`lab: unknown design ${job.design}`);
  return d;
}

/** Run a job: the JSON the page reads (status 200), `{ error }` with 400 for bad input, a scenario's error with 400 beside the steps it played. */
export async function labJob(job: LabJob): Promise<LabReply> {
  try {
    if (job.kind === 'trace') return { status: 200, body: JSON.stringify(labTrace(job.scenario, (await userDesign(job)) ?? job.design)) };
    if (job.kind === 'verdict') return { status: 200, body: JSON.stringify(labVerdict(job.scenario, (await userDesign(job)) ?? job.design)) };
    if (job.kind === 'timeline') {
      const user = job.designFile === undefined ? [] : [await loadDesignFile(job.designFile)];
      return { status: 200, body: JSON.stringify(labTimeline(job.preset, job.designs, user)) };
    }
    const [file, uploadDir] = job.kind === 'example' ? [join(job.examplesDir, job.name), null] : [job.file, dirname(job.file)];
    const r = labScenario(file, uploadDir === null ? [job.examplesDir] : [uploadDir, job.examplesDir]);
    const error = r.error === null ? null : job.kind === 'file' ? (r.error.split('\n')[0] ?? '') : withoutPaths(r.error, file, job.name, uploadDir, job.examplesDir);
    return { status: error === null ? 200 : 400, body: JSON.stringify({ ...r, file: job.name, error }) };
  } catch (e) {
    if (e instanceof InputError) return { status: 400, body: JSON.stringify({ error: e.message.split('\n')[0] }) };
    return { bug: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

/** A scenario's error as the page shows it: the file by its own name, machine files as examples/NAME, no path of this machine. */
function withoutPaths(message: string, file: string, name: string, uploadDir: string | null, examplesDir: string): string {
  let out = message.split('\n')[0] ?? '';
  const both = (p: string): string[] => [...new Set([p, existsSync(p) ? realpathSync(p) : p])];
  for (const f of both(file)) out = out.replaceAll(f, name);
  for (const d of both(examplesDir)) out = out.replaceAll(d + sep, 'examples/');
  for (const d of uploadDir === null ? [] : both(uploadDir)) out = out.replaceAll(d + sep, '');
  return out;
}
