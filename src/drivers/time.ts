// The time driver: a discrete-event simulation over the same kernel tasks as run and explore.
// Each task runs on a simulated CPU of a node and keeps its own clock; the driver always steps
// the runnable task with the earliest clock (ties: the lower task id), so lock operations happen
// in time order with the scheduler's kernel semantics; a task that waited for a lock resumes at
// its release plus a hand-off. A `work` yield costs time from the cost model (presets.ts): the
// pages at the CPU's per-page rate for where the memmap lives (remote x remoteFactor), or the
// bytes over the node's bandwidth shared by the tasks working on that node, whichever is
// longer; with `poison`, page_init_poison's memset of each added section's memmap. A task that
// waits for a spinlock or a seqlock (write_seqlock, read_seqbegin) spins: its CPU is busy for the
// wait, a `spin-wait` phase (`spin-wait-irqs-off` while it holds a spin_lock_irqsave lock). Leaves out:
// CPU frequency and turbo, cache effects beyond write-allocate, vmemmap population (page
// allocation for the memmap of map=mem ranges), interrupts.
import type { Machine } from '../kernel/machine.js';
import { machineSpec } from '../kernel/machine_spec.js';
import { bootMachine } from './run.js';
import { memremapPages, memunmapPages, pgmapAddress } from '../kernel/memremap.js';
import { VmemAltmap, type DevPagemap } from '../kernel/dev_pagemap.js';
import { pfnGeometry } from '../kernel/nvdimm.js';
import { padataChunks, padataHelper, padataJob } from '../kernel/padata.js';
import { resolveDesign, type Design, type ResolvedDesign } from '../designs/designs.js';
import { scenarioWorld } from './scenario_world.js';
import { InputError } from '../errors.js';
import type { CostModel, Preset } from './presets.js';
import { Scheduler } from './scheduler.js';
import type { Task, Yield } from '../kernel/task.js';

const GiB = 2 ** 30;

/** One bar of the timeline. */
export interface Segment {
  readonly task: number;
  readonly startNs: number;
  readonly endNs: number;
  readonly phase: string;
  /** Locks the task held during it. */
  readonly locked: boolean;
}

export interface TimeTask {
  readonly name: string;
  /** The node whose CPU runs it, and the node its memmap lives on. */
  readonly cpuNode: number;
  readonly cpu: number;
  readonly memNode: number;
  /** Where the memmap it writes lives; default: as the preset's workload says. */
  readonly memmapIn?: 'dram' | 'pmem';
  /** A task that writes no memmap (an unplug): it takes no share of the node's bandwidth. */
  readonly noMemmapWrites?: boolean;
}

export interface TimeResult {
  readonly design: string;
  readonly preset: string;
  readonly totalMs: number;
  readonly perNodeMs: number[];
  readonly lockWaitMs: number;
  readonly lockHoldMs: Record<string, number>;
  readonly phases: Record<string, number>;
  readonly tasks: readonly TimeTask[];
  readonly segments: readonly Segment[];
  /** The kernel's timing lines, from the simulated clock. */
  readonly dmesg: readonly string[];
}

export interface TimeOptions {
  /** Deferred init threads per node (padata); default the preset's. */
  readonly threads?: number;
  /** Namespace alignment (device-dax compound page size); default the preset's. */
  readonly alignBytes?: number;
  /** Cost model overrides. */
  readonly cost?: Partial<CostModel>;
  /** User designs a name may refer to. */
  readonly userDesigns?: readonly Design[];
  /**
   * page_init_poison (CONFIG_DEBUG_VM; unless vm_debug=- in 5.3-6.18, mm/debug.c; always in 4.19's
   * sparse_add_one_section): every section's new
   * memmap is memset to 0xff when it is added, a bandwidth-bound pass over the memmap bytes.
   */
  readonly poison?: boolean;
}

interface Spawned {
  readonly task: TimeTask;
  readonly gen: Task<unknown>;
}

/** A machine of the preset under a design: nodes with their DRAM, the ZONE_DEVICE tasks or the deferred-init helpers. */
function buildTasks(preset: Preset, r: ResolvedDesign, opts: TimeOptions): { spawned: Spawned[]; names: Map<number, string>; pagesOf: Map<number, number> } {
  const w = preset.workload;
  const spawned: Spawned[] = [];
  const names = new Map<number, string>();
  const pagesOf = new Map<number, number>();
  if (w.kind === 'deferred') {
    const threads = Math.max(1, Math.min(opts.threads ?? w.threads, preset.cpusPerNode));
    const nrPages = w.perNodeBytes / 4096;
    const section = (128 * 2 ** 20) / 4096;
    for (let nid = 0; nid < preset.nodes; nid++) {
      const { nworks, chunks } = padataChunks(nrPages, threads, section, section);
      const job = padataJob(nid, chunks);
      for (let k = 0; k < nworks; k++) spawned.push({ task: { name: k === 0 ? `pgdatinit${nid}` : `pgdatinit${nid} helper ${k}`, cpuNode: nid, cpu: k, memNode: nid }, gen: padataHelper(job) });
      pagesOf.set(nid, nrPages);
    }
    return { spawned, names, pagesOf };
  }
  // ZONE_DEVICE: one namespace per node right above the DRAM of all nodes, memremapped by its probe.
  const dram = preset.dramBytesPerNode;
  let cursor = 4 * GiB + preset.nodes * dram;
  cursor = Math.ceil(cursor / GiB) * GiB;
  const nsStart: number[] = [];
  const unplugStart: number[] = [];
  for (let nid = 0; nid < preset.nodes; nid++) {
    if (w.unplugBytes) {
      unplugStart.push(cursor);
      cursor += w.unplugBytes;
    }
    nsStart.push(cursor);
    cursor += w.perNodeBytes;
  }
  // Node n: DRAM [4G + n*dram, ...) (node 0 also the low 3 GiB); namespaces after all DRAM.
  const nodes = Array.from({ length: preset.nodes }, (_, nid) => ({
    nid,
    cpus: preset.cpusPerNode,
    memory:
      nid === 0
        ? [
            { start: 0x100000, end: 0xc0000000 },
            { start: 4 * GiB, end: 4 * GiB + dram },
          ]
        : [{ start: 4 * GiB + nid * dram, end: 4 * GiB + (nid + 1) * dram }],
  }));
  // Booted with its DRAM memmap, as the kernel is: 5.3's shrink_pgdat_span then stops at the
  // node's first RAM page. Without it (every DRAM struct page absent) its loops read on through
  // the other nodes' memory to the node's own namespace, millions of reads that cost no time.
  const m = bootMachine({ spec: machineSpec(nodes), profile: r.profile }, { steps: r.steps });
  const state = m.state;
  m.initChunkPages = state.sparse.pagesPerSection;
  const align = opts.alignBytes ?? w.alignBytes;
  const namespace = (nid: number, start: number, size: number, name: string): DevPagemap => {
    const geo = pfnGeometry(start, size, w.map, align);
    if (!geo) throw new Error(`time: ${preset.name}: no namespace geometry for ${size} bytes at ${start}`);
    return {
      name,
      type: w.devdax ? 'generic' : 'fsdax',
      start,
      end: start + size - geo.endTrunc - 1,
      altmap: w.map === 'dev' ? new VmemAltmap(start / 4096, 2, geo.dataOffset / 4096 - 2) : null,
      vmemmapShift: w.devdax && r.profile.features.compoundDevmaps && align > 4096 ? Math.log2(align / 4096) : 0,
      address: pgmapAddress(m),
      nid,
      initialisedTo: 0,
      live: true,
    };
  };
  for (let nid = 0; nid < preset.nodes; nid++) {
    const start = nsStart[nid] as number;
    const p = namespace(nid, start, w.perNodeBytes, w.devdax ? `dax${nid}.0` : `pmem${nid}`);
    // The probe's CPU: on the namespace's node (5.1+), else where the probing was queued (node 0).
    const cpuNode = r.design.asyncProbe === 'unbound' ? 0 : nid;
    spawned.push({ task: { name: `probe ${p.name}`, cpuNode, cpu: r.design.asyncProbe === 'unbound' ? nid : 0, memNode: nid }, gen: memremapPages(m, p) });
    names.set(spawned.length - 1, p.name);
    pagesOf.set(spawned.length - 1, (p.end + 1 - start) / 4096 - (p.altmap?.offset ?? 0));
  }
  // The unplugs: each node's small namespace mapped now (untimed), destroyed by a task on the
  // node's last CPU while the probes run.
  if (w.unplugBytes) {
    for (let nid = 0; nid < preset.nodes; nid++) {
      const b = namespace(nid, unplugStart[nid] as number, w.unplugBytes, w.devdax ? `dax${nid}.1` : `pmem${nid}.1`);
      const setup = new Scheduler([]);
      setup.spawn(`memremap ${b.name}`, memremapPages(m, b));
      setup.runInOrder();
      if (setup.result(0) !== 0) throw new Error(`time: ${preset.name}: mapping ${b.name} failed (${String(setup.result(0))})`);
      spawned.push({ task: { name: `memunmap ${b.name}`, cpuNode: nid, cpu: preset.cpusPerNode - 1, memNode: nid, noMemmapWrites: true }, gen: memunmapPages(m, b) });
    }
  }
  return { spawned, names, pagesOf };
}

/** Run a preset under a design: the simulated timeline and its totals. */
export function timeRun(preset: Preset, design: string | Design, opts: TimeOptions = {}): TimeResult {
  const r = resolveDesign(design, opts.userDesigns ?? []);
  const { spawned, names, pagesOf } = buildTasks(preset, r, opts);
  return simulate(preset, r, spawned, names, pagesOf, opts);
}

/**
 * A scenario file's concurrent block timed on a published machine's cost model (the steps
 * before the block set the stage untimed, as mmsim explore does); each operation is a task on a
 * CPU of the node its memory belongs to.
 */
export function timeScenario(file: string, preset: Preset, design: string | Design, opts: TimeOptions = {}): TimeResult {
  const r = resolveDesign(design, opts.userDesigns ?? []);
  const w = scenarioWorld(file, r.design, 'debug_vm', opts.userDesigns ?? [], { recorder: null });
  if (opts.poison) throw new InputError("time: --poison applies to the presets' namespaces, not to a scenario file");
  const m = w.machine as Machine;
  m.pageInitPoisoning = false;
  const spawned: Spawned[] = w.tasks.map((t, i) => {
    const node = w.taskNodes?.[i] ?? 0;
    return { task: { name: t.name, cpuNode: node, cpu: i, memNode: node, memmapIn: 'dram' as const }, gen: t.task };
  });
  return simulate({ ...preset, name: `${preset.name} (${file})`, nodes: m.state.nodes.length }, r, spawned, new Map(), new Map(), opts);
}

function simulate(preset: Preset, r: ResolvedDesign, spawned: Spawned[], names: Map<number, string>, pagesOf: Map<number, number>, opts: TimeOptions): TimeResult {
  const cost: CostModel = { ...preset.cost, ...opts.cost };
  const s = new Scheduler([], null, false);
  for (const x of spawned) s.spawn(x.task.name, x.gen);
  const n = spawned.length;
  const clock = new Array<number>(n).fill(0);
  const released = new Map<string, number>();
  /** Which task released each lock last: a spinner re-taking its own lock hands it to nobody. */
  const releasedBy = new Map<string, number>();
  /** spin_lock_irqsave locks each task holds (IRQs off while any is held). */
  const irqsOff = new Map<number, number>();
  const acquiredAt = new Map<string, number>();
  const lockHold: Record<string, number> = {};
  let lockWait = 0;
  const segments: Segment[] = [];
  const phases: Record<string, number> = {};
  const initSpan = new Map<number, { start: number; end: number }>();
  const working = (t: number): boolean => !s.isDone(t) && s.runnable(t);
  for (;;) {
    let t = -1;
    for (let i = 0; i < n; i++) if (working(i) && (t < 0 || (clock[i] as number) < (clock[t] as number))) t = i;
    if (t < 0) {
      const stuck = spawned.filter((_, i) => !s.isDone(i)).map((x) => x.task.name);
      if (stuck.length) throw new Error(`time: deadlock: ${stuck.join(', ')} cannot run`);
      break;
    }
    const y = s.pendingOf(t);
    if (y?.op === 'access') {
      // A struct page read costs no time and touches no lock, clock or other task's state: t stays
      // the task to step (earliest clock, lowest id) for as long as reads are what it yields, so
      // they are stepped here without choosing again (the shrink loops read millions of pfns).
      do s.step(t);
      while (s.pendingOf(t)?.op === 'access');
      continue;
    }
    const task = (spawned[t] as Spawned).task;
    if (y && 'lock' in y && (isAcquire(y) || y.op === 'read_seqbegin')) {
      const spins = isSpinning(y);
      const rel = spins && releasedBy.get(y.lock.name) === t ? undefined : released.get(y.lock.name);
      const from = clock[t] as number;
      if (rel !== undefined && rel > from) {
        lockWait += rel - from;
        clock[t] = rel;
        if (spins) {
          // Spinning: the CPU is busy the whole wait (IRQs off under a spin_lock_irqsave lock).
          const phase = (irqsOff.get(t) ?? 0) > 0 ? 'spin-wait-irqs-off' : 'spin-wait';
          segments.push({ task: t, startNs: from, endNs: rel, phase, locked: s.heldBy(t).length > 0 });
          phases[phase] = (phases[phase] ?? 0) + (rel - from);
        }
      }
    }
    s.step(t);
    const now = clock[t] as number;
    if (y?.op === 'spin_lock_irqsave') irqsOff.set(t, (irqsOff.get(t) ?? 0) + 1);
    else if (y?.op === 'spin_unlock_irqrestore') irqsOff.set(t, (irqsOff.get(t) ?? 1) - 1);
    if (y && 'lock' in y) {
      if (isAcquire(y)) acquiredAt.set(`${y.lock.name}/${t}`, now);
      else if (y.op === 'read_seqbegin' || y.op === 'read_seqretry') {
        // A reader holds nothing.
      } else {
        const since = acquiredAt.get(`${y.lock.name}/${t}`);
        if (since !== undefined) lockHold[y.lock.name] = (lockHold[y.lock.name] ?? 0) + (now - since);
        released.set(y.lock.name, now + cost.lockHandoffNs);
        releasedBy.set(y.lock.name, t);
      }
    } else if (y?.op === 'work') {
      // Tasks sharing the node's bandwidth: those on it not finished (a helper between two chunks
      // is waiting for the job's lock a moment, not leaving the memory bus idle).
      const active = spawned.filter((x, i) => i !== t && !s.isDone(i) && !x.task.noMemmapWrites && x.task.memNode === task.memNode).length + 1;
      const dur = workNs(cost, y, task, active, preset);
      segments.push({ task: t, startNs: now, endNs: now + dur, phase: y.work, locked: s.heldBy(t).length > 0 });
      phases[y.work] = (phases[y.work] ?? 0) + dur;
      if (y.work === 'memmap-init-zone-device') {
        const sp = initSpan.get(t);
        initSpan.set(t, { start: sp?.start ?? now, end: now + dur });
      }
      clock[t] = now + dur;
    } else if (y?.op === 'might_sleep' && y.where.startsWith('__add_pages')) {
      const locked = s.heldBy(t).length > 0;
      segments.push({ task: t, startNs: now, endNs: now + cost.perSectionNs, phase: 'add-sections', locked });
      clock[t] = now + cost.perSectionNs;
      phases['add-sections'] = (phases['add-sections'] ?? 0) + cost.perSectionNs;
      if (opts.poison) {
        // The memset of the section's memmap (64 bytes per page, written with write-allocate).
        const w = preset.workload;
        const gbs = w.kind === 'zone-device' && w.map === 'dev' ? cost.pmemGBs : cost.dramGBs;
        const active = spawned.filter((x, i) => i !== t && !s.isDone(i) && !x.task.noMemmapWrites && x.task.memNode === task.memNode).length + 1;
        const dur = (((128 * 2 ** 20) / 4096) * cost.bytesPerPage * active) / gbs;
        segments.push({ task: t, startNs: now + cost.perSectionNs, endNs: now + cost.perSectionNs + dur, phase: 'page-init-poison', locked });
        clock[t] = now + cost.perSectionNs + dur;
        phases['page-init-poison'] = (phases['page-init-poison'] ?? 0) + dur;
      }
    }
  }
  const perNode = new Array<number>(preset.nodes).fill(0);
  // A node is done when its memmap is: an unplug's end counts for the total, not for its node.
  spawned.forEach((x, i) => (perNode[x.task.memNode] = x.task.noMemmapWrites ? (perNode[x.task.memNode] as number) : Math.max(perNode[x.task.memNode] as number, clock[i] as number)));
  const total = Math.max(...clock);
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  // The kernel's own timing lines where the profile prints them.
  const dmesg: string[] = [];
  const kind = r.profile.features.zoneDeviceInitLine;
  for (const [t, span] of initSpan) {
    const nm = names.get(t) ?? '';
    const nr = pagesOf.get(t) ?? 0;
    const took = Math.round((span.end - span.start) / 1e6);
    if (kind === 'dev-name') dmesg.push(`${nm} initialised, ${nr} pages in ${took}ms`);
    else if (kind === 'func') dmesg.push(`memmap_init_zone_device initialised ${nr} pages in ${took}ms`);
  }
  if (preset.workload.kind === 'deferred') {
    const newFormat = r.profile.release.major > 5 || (r.profile.release.major === 5 && r.profile.release.minor >= 9);
    perNode.forEach((v, nid) =>
      dmesg.push(newFormat ? `node ${nid} deferred pages initialised in ${Math.round(v / 1e6)}ms` : `node ${nid} initialised, ${pagesOf.get(nid) ?? 0} pages in ${Math.round(v / 1e6)}ms`),
    );
  }
  return {
    design: r.design.name,
    preset: preset.name,
    totalMs: ms(total),
    perNodeMs: perNode.map(ms),
    lockWaitMs: ms(lockWait),
    lockHoldMs: Object.fromEntries(Object.entries(lockHold).map(([k, v]) => [k, ms(v)])),
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, ms(v)])),
    tasks: spawned.map((x) => x.task),
    segments,
    dmesg,
  };
}

/** Waiting for it spins: a spinlock, a seqlock's write side (its spinlock) or a seqlock read while a writer is inside. */
function isSpinning(y: Yield): boolean {
  return y.op === 'spin_lock_irqsave' || y.op === 'write_seqlock' || y.op === 'read_seqbegin';
}

function isAcquire(y: Yield): boolean {
  return y.op === 'down_read' || y.op === 'down_write' || y.op === 'mutex_lock' || y.op === 'spin_lock_irqsave' || y.op === 'write_seqlock';
}

/** The cost of a work chunk: per-page CPU rate (remote x factor) or the node's shared bandwidth, the longer. */
function workNs(cost: CostModel, y: Extract<Yield, { op: 'work' }>, task: TimeTask, active: number, preset: Preset): number {
  const inPmem = task.memmapIn === 'pmem' || (task.memmapIn === undefined && preset.workload.kind === 'zone-device' && preset.workload.map === 'dev' && y.work.startsWith('memmap-init'));
  const perPage = inPmem ? cost.nsPerPagePmem : cost.nsPerPageDram;
  const remote = task.cpuNode !== y.node ? cost.remoteFactor : 1;
  const cpu = y.nrPages * perPage * remote;
  const gbs = inPmem ? cost.pmemGBs : cost.dramGBs;
  const bw = gbs > 0 ? (y.nrPages * cost.bytesPerPage * active) / gbs : 0;
  return Math.max(cpu, bw);
}

/** The timeline as an SVG figure: one row per simulated CPU, phases coloured, lock holds hatched, an axis in seconds, a legend. */
/** Each phase's colour in the timelines (Okabe-Ito; the lab's legend uses the same). */
export const PHASE_COLOURS: Readonly<Record<string, string>> = {
  'add-sections': '#cc79a7',
  'page-init-poison': '#d55e00',
  'memmap-init': '#e69f00',
  'memmap-init-zone-device': '#0072b2',
  'deferred-init': '#009e73',
  'spin-wait': '#f0e442',
  'spin-wait-irqs-off': '#cc0000',
};

export function timelineSvg(results: readonly TimeResult[], opts: { readonly legend?: boolean } = {}): string {
  const rowH = 18;
  const left = 190;
  const width = 900;
  const colours = PHASE_COLOURS;
  const maxNs = Math.max(1, ...results.map((r) => r.totalMs * 1e6));
  const x = (ns: number): number => left + (ns / maxNs) * width;
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  let y = 30;
  for (const r of results) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${esc(`${r.preset} — design ${r.design}: ${(r.totalMs / 1000).toFixed(2)} s`)}</text>`);
    y += 10;
    r.tasks.forEach((t, i) => {
      const top = y + i * rowH;
      parts.push(`<text x="10" y="${top + 13}" font-size="11">${esc(`node ${t.cpuNode} cpu ${t.cpu}: ${t.name}`)}</text>`);
      // Merge touching segments of the same phase and lock state.
      const mine = r.segments.filter((s) => s.task === i);
      const merged: Segment[] = [];
      for (const s of mine) {
        const last = merged[merged.length - 1];
        if (last && last.phase === s.phase && last.locked === s.locked && Math.abs(last.endNs - s.startNs) < 1) merged[merged.length - 1] = { ...last, endNs: s.endNs };
        else merged.push(s);
      }
      for (const s of merged) {
        const w = Math.max(0.5, x(s.endNs) - x(s.startNs));
        parts.push(
          `<rect class="bar" data-task="${i}" data-start-ns="${Math.round(s.startNs)}" data-end-ns="${Math.round(s.endNs)}" data-phase="${s.phase}" x="${x(s.startNs).toFixed(2)}" y="${top + 2}" width="${w.toFixed(2)}" height="${rowH - 4}" fill="${colours[s.phase] ?? '#999'}"${s.locked ? ' stroke="#000" stroke-width="1" fill-opacity="0.55"' : ''}/>`,
        );
        if (s.locked) parts.push(`<rect x="${x(s.startNs).toFixed(2)}" y="${top + 2}" width="${w.toFixed(2)}" height="${rowH - 4}" fill="url(#held)"/>`);
      }
    });
    y += r.tasks.length * rowH + 30;
  }
  // Axis in seconds.
  const axisY = y;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${left + width}" y2="${axisY}" stroke="#000"/>`);
  const step = niceStep(maxNs / 1e9);
  for (let sec = 0; sec * 1e9 <= maxNs + 1; sec += step) {
    const px = x(sec * 1e9);
    parts.push(
      `<line x1="${px.toFixed(2)}" y1="${axisY}" x2="${px.toFixed(2)}" y2="${axisY + 5}" stroke="#000"/><text x="${px.toFixed(2)}" y="${axisY + 18}" font-size="11" text-anchor="middle">${+sec.toFixed(3)}</text>`,
    );
  }
  parts.push(`<text x="${left + width / 2}" y="${axisY + 34}" font-size="12" text-anchor="middle">time (s)</text>`);
  // Legend (unless the caller draws its own: the lab's lists the phases present).
  let lx = left;
  const ly = axisY + 52;
  if (opts.legend !== false) {
    for (const [phase, c] of [...Object.entries(colours), ['lock held', 'url(#held)']] as [string, string][]) {
      parts.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="12" fill="${c}" stroke="#000" stroke-width="0.5"/><text x="${lx + 18}" y="${ly}" font-size="11">${esc(phase)}</text>`);
      lx += 30 + phase.length * 6.5;
    }
  }
  const height = opts.legend === false ? axisY + 44 : ly + 20;
  const defs = `<defs><pattern id="held" patternUnits="userSpaceOnUse" width="6" height="6"><path d="M0,6 L6,0" stroke="#000" stroke-width="1"/></pattern></defs>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 30}" height="${height}" font-family="sans-serif">${defs}<rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>\n`;
}

function niceStep(totalS: number): number {
  const raw = totalS / 8;
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (raw <= m * pow) return m * pow;
  return 10 * pow;
}
