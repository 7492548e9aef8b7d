// Designs for `mmsim explore` and `mmsim compare`: a base (a kernel release or another design),
// the features that differ from it, and replacements of named steps of the model
// (kernel/steps.ts). docs/designs.md lists the built-in ones with the kernel code each models.
// User designs are ES modules (`--design FILE`) exporting the same shape as their default.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { kernelFeaturesSchema, profileForOption, type KernelFeatures, type KernelProfile } from '../profiles/profile.js';
import { STEP_DOCS, type StepApi, type StepOverrides } from '../kernel/steps.js';
import { type DesignSteps } from '../kernel/machine.js';
import { initDevicePages, memmapInitZoneDevice, memremapPagesKernel, memunmapPagesKernel, pagemapRange } from '../kernel/memremap.js';
import { pfnEnd, pfnFirst } from '../kernel/dev_pagemap.js';
import {
  addMemoryResource,
  archAddMemory,
  memmapInitRange,
  movePfnRangeToZone,
  offlinePages,
  onlinePages,
  removePfnRangeFromZone,
  shrinkPgdatSpan,
  shrinkZoneSpan,
  sparseAddSection,
  updatePgdatSpan,
} from '../kernel/memory_hotplug.js';
import { compactionScannerKernel, kpageflagsReaderKernel, memoryFailureKernel, setZoneContiguousKernel, testPagesInAZoneKernel } from '../kernel/walkers.js';
import { type Machine } from '../kernel/machine.js';
import type { Resume, Task, Yield } from '../kernel/task.js';
import { LockMisuse, Mutex, PercpuRwSem, SeqLock, SpinLock } from '../kernel/locks.js';

export interface Design {
  readonly name: string;
  readonly summary: string;
  /** A kernel release (5.3, 6.1, 6.18) or the name of another design this one changes. */
  readonly base: string;
  readonly features: Partial<KernelFeatures>;
  readonly steps: StepOverrides;
  /** The file a user design came from. */
  readonly source?: string;
  /**
   * Where namespace probes run (the time driver): on a CPU of the device's node (5.1's NUMA
   * aware async_schedule, the default) or on any CPU (before 5.1).
   */
  readonly asyncProbe?: 'node-local' | 'unbound';
}

type InitArgs = Parameters<DesignSteps['memmap_init_zone_device']>;

/**
 * seqlock-after-unlock's memmap_init_zone_device: mem_hotplug_done first, then the zone span
 * seqlock's write side (zone_span_writelock, include/linux/memory_hotplug.h: write_seqlock, a
 * spinlock) around the whole loop. Between the two, B can take mem_hotplug_lock and search.
 */
function* seqlockAfterUnlockInit(api: StepApi<DesignSteps['memmap_init_zone_device']>, m: Machine, zone: InitArgs[1], p: InitArgs[2], refcount: number): Task<void> {
  yield { op: 'up_write', lock: m.memHotplugLock };
  const seq = m.seqlockOf(zone);
  yield { op: 'write_seqlock', lock: seq };
  yield* api.initDeviceRange(m, zone, api.pfnFirst(p), api.pfnEnd(p), p, refcount);
  yield { op: 'write_sequnlock', lock: seq };
}

/**
 * seqlock-whole's: zone_span_writelock taken before mem_hotplug_done (still under
 * mem_hotplug_lock, so no window) and held across the whole loop, its cond_resched included: a
 * sleep under a spinlock at the first pageblock, and every other writer of the zone's span
 * (shrink_zone_span, move_pfn_range_to_zone, both under pgdat_resize_lock's spin_lock_irqsave)
 * spins with IRQs off until the loop ends.
 */
function* seqlockWholeInit(api: StepApi<DesignSteps['memmap_init_zone_device']>, m: Machine, zone: InitArgs[1], p: InitArgs[2], refcount: number): Task<void> {
  const seq = m.seqlockOf(zone);
  yield { op: 'write_seqlock', lock: seq };
  yield { op: 'up_write', lock: m.memHotplugLock };
  yield* api.initDeviceRange(m, zone, api.pfnFirst(p), api.pfnEnd(p), p, refcount);
  yield { op: 'write_sequnlock', lock: seq };
}

/**
 * seqlock-per-pageblock's: as seqlock-whole, but the write side is dropped around each
 * pageblock's cond_resched (zone_span_writeunlock; cond_resched(); zone_span_writelock), so no
 * sleep under the spinlock — and between two pageblocks a shrink_zone_span can run its search
 * over the pageblocks not yet initialised.
 */
function* seqlockPerPageblockInit(api: StepApi<DesignSteps['memmap_init_zone_device']>, m: Machine, zone: InitArgs[1], p: InitArgs[2], refcount: number): Task<void> {
  const seq = m.seqlockOf(zone);
  yield { op: 'write_seqlock', lock: seq };
  yield { op: 'up_write', lock: m.memHotplugLock };
  const loop = api.initDeviceRange(m, zone, api.pfnFirst(p), api.pfnEnd(p), p, refcount);
  let resume: Resume;
  for (;;) {
    const r = loop.next(resume);
    if (r.done) break;
    if (r.value.op === 'might_sleep') {
      yield { op: 'write_sequnlock', lock: seq };
      resume = yield r.value;
      yield { op: 'write_seqlock', lock: seq };
    } else resume = yield r.value;
  }
  yield { op: 'write_sequnlock', lock: seq };
}

export const DESIGNS: readonly Design[] = [
  {
    name: 'v4.19',
    summary:
      'Linux 4.19: the device memmap initialised under mem_hotplug_lock (memmap_init_zone), then a pass outside it for page->pgmap; its own release path and span shrinking; namespaces probed on any CPU (NUMA-aware async probing came in 5.1)',
    base: '4.19',
    features: {},
    steps: {},
    asyncProbe: 'unbound',
  },
  { name: 'v5.3', summary: 'vanilla 5.3', base: '5.3', features: {}, steps: {} },
  {
    name: 'serialize',
    summary: "v5.3 plus the 2019 patch (v3 01/11): the whole device memmap, the altmap's reserve and memmap pfns included, gets page->pgmap under mem_hotplug_lock",
    base: 'v5.3',
    features: { zoneDeviceInitUnderLock: true },
    steps: {},
  },
  {
    name: 'seqlock-after-unlock',
    summary:
      "v5.3 with the reviewer's zone span seqlock taken after mem_hotplug_done: write_seqlock around the whole memmap_init_zone_device loop, cond_resched per pageblock inside it (was 'seqlock')",
    base: 'v5.3',
    features: {},
    steps: { memmap_init_zone_device: seqlockAfterUnlockInit },
  },
  {
    name: 'seqlock-whole',
    summary: "v5.3 with the reviewer's zone span seqlock taken before mem_hotplug_done and held across the whole memmap_init_zone_device loop, cond_resched per pageblock inside it",
    base: 'v5.3',
    features: {},
    steps: { memmap_init_zone_device: seqlockWholeInit },
  },
  {
    name: 'seqlock-per-pageblock',
    summary: "v5.3 with the reviewer's zone span seqlock taken before mem_hotplug_done and dropped around each pageblock's cond_resched in memmap_init_zone_device",
    base: 'v5.3',
    features: {},
    steps: { memmap_init_zone_device: seqlockPerPageblockInit },
  },
  {
    name: 'seqlock',
    summary: 'the old name of seqlock-after-unlock (kept so that earlier command lines run unchanged)',
    base: 'seqlock-after-unlock',
    features: {},
    steps: {},
  },
  {
    name: 'no-shrink',
    summary:
      'the 5.5 state: spans shrink at offline with pfn_to_online_page (feee6b298916), ZONE_DEVICE never shrinks, no "only holes" loop, update_pgdat_span (00d6c019b5bc), memunmap reads pfn_first (77e080e7680e), try_offline_node fixed (2c91f8fc6c99)',
    base: 'v5.3',
    features: {
      shrinkAtOffline: true,
      poisonAtOffline: true,
      memunmapReadsPfnFirst: true,
      tryOfflineNode: 'spans-and-blocks',
      shrinkHoleLoop: false,
      pgdatSpan: 'update-pgdat-span',
    },
    steps: {},
  },
  { name: '6.1', summary: "Linux 6.1 (the QEMU oracle's kernel)", base: '6.1', features: {}, steps: {} },
  { name: 'current', summary: 'Linux 6.18', base: '6.18', features: {}, steps: {} },
];

/** The kernel's own version of each step. */
export const KERNEL_STEPS: DesignSteps = {
  add_memory_resource: addMemoryResource,
  arch_add_memory: archAddMemory,
  sparse_add_section: sparseAddSection,
  move_pfn_range_to_zone: movePfnRangeToZone,
  memmap_init_range: memmapInitRange,
  online_pages: onlinePages,
  offline_pages: offlinePages,
  remove_pfn_range_from_zone: removePfnRangeFromZone,
  shrink_zone_span: shrinkZoneSpan,
  update_pgdat_span: updatePgdatSpan,
  shrink_pgdat_span: shrinkPgdatSpan,
  memremap_pages: memremapPagesKernel,
  pagemap_range: pagemapRange,
  memmap_init_zone_device: memmapInitZoneDevice,
  memunmap_pages: memunmapPagesKernel,
  compaction: compactionScannerKernel,
  kpageflags_read: kpageflagsReaderKernel,
  memory_failure: memoryFailureKernel,
  set_zone_contiguous: setZoneContiguousKernel,
  test_pages_in_a_zone: testPagesInAZoneKernel,
};

/** A design resolved: its profile and the steps the model calls. */
export interface ResolvedDesign {
  readonly design: Design;
  readonly profile: KernelProfile;
  readonly steps: Partial<DesignSteps>;
  /** Base chain, the design first, ending in the kernel release. */
  readonly chain: readonly string[];
}

/** Resolve a design (or a kernel release) against the built-ins and the user designs loaded. */
export function resolveDesign(nameOrDesign: string | Design, user: readonly Design[] = [], seen: Set<string> = new Set()): ResolvedDesign {
  const all = [...user, ...DESIGNS];
  const design = typeof nameOrDesign === 'string' ? all.find((d) => d.name === nameOrDesign) : nameOrDesign;
  if (!design) {
    const profile = profileForOption(nameOrDesign as string);
    return {
      design: { name: nameOrDesign as string, summary: `Linux ${nameOrDesign as string}`, base: nameOrDesign as string, features: {}, steps: {} },
      profile,
      steps: {},
      chain: [profile.release.release],
    };
  }
  seen.add(design.name);
  const baseOf = (d: Design): ResolvedDesign => {
    const b = all.find((x) => x.name === d.base && x !== d);
    if (!b) {
      const profile = profileForOption(d.base);
      return { design: d, profile, steps: {}, chain: [d.base] };
    }
    if (seen.has(b.name)) throw new InputError(`design ${d.name}: its base ${b.name} leads back to itself`);
    return resolveDesign(b, user, seen);
  };
  const base = baseOf(design);
  const steps: Partial<DesignSteps> = { ...base.steps };
  for (const key of Object.keys(design.steps) as (keyof DesignSteps)[]) {
    const over = design.steps[key];
    if (!over) continue;
    const api = {
      base: base.steps[key] ?? KERNEL_STEPS[key],
      initDeviceRange: initDevicePages,
      pfnFirst: (p: Parameters<typeof pfnFirst>[0]) => pfnFirst(p, 4096),
      pfnEnd: (p: Parameters<typeof pfnEnd>[0]) => pfnEnd(p, 4096),
    };
    // Each override is bound to its own key's api; the cast joins the two step types. A user
    // design's step runs guarded: what it throws or yields wrongly is that file's error.
    const call = (...args: unknown[]): unknown => (over as (a: unknown, ...r: unknown[]) => unknown)(api, ...args);
    const file = design.source;
    (steps as Record<string, unknown>)[key] = file === undefined ? call : (...args: unknown[]) => guardedStep(file, key, () => call(...args));
  }
  const profile: KernelProfile = { ...base.profile, basis: `${base.profile.basis} (design ${design.name})`, features: { ...base.profile.features, ...design.features } };
  return { design, profile, steps, chain: [design.name, ...base.chain] };
}

/** The kernel's lock operations and the lock each takes. */
const LOCK_OPS: Readonly<Record<string, abstract new (...a: never[]) => object>> = {
  down_read: PercpuRwSem,
  up_read: PercpuRwSem,
  down_write: PercpuRwSem,
  up_write: PercpuRwSem,
  mutex_lock: Mutex,
  mutex_unlock: Mutex,
  spin_lock_irqsave: SpinLock,
  spin_unlock_irqrestore: SpinLock,
  write_seqlock: SeqLock,
  write_sequnlock: SeqLock,
  read_seqbegin: SeqLock,
  read_seqretry: SeqLock,
};

/** What is wrong with a value a design's step yielded (null: it is one of the kernel's yields, kernel/task.ts). */
function yieldProblem(y: unknown): string | null {
  if (typeof y !== 'object' || y === null) return `${y === null ? 'null' : typeof y}, not a yield object`;
  const v = y as Record<string, unknown>;
  const op = v['op'];
  if (typeof op !== 'string') return 'an object without an op';
  const lock = LOCK_OPS[op];
  if (lock) {
    if (!(v['lock'] instanceof lock)) return `${op} without a ${lock.name} (take the machine's, e.g. m.memHotplugLock)`;
    return op === 'read_seqretry' && typeof v['start'] !== 'number' ? 'read_seqretry without the start read_seqbegin returned' : null;
  }
  switch (op) {
    case 'might_sleep':
      return typeof v['where'] === 'string' ? null : 'might_sleep without where (a string)';
    case 'access':
      if (v['blind'] !== undefined && typeof v['blind'] !== 'boolean') return 'access with blind not true or false';
      return (v['kind'] === 'read' || v['kind'] === 'write') && typeof v['what'] === 'string' ? null : "access without kind ('read' or 'write') and what (a string)";
    case 'set_pfnblock_flags': {
      // `in`, not a read: explore records reads of a zone's span as the task's (footprint.ts).
      const zone = v['zone'];
      if (!(typeof zone === 'object' && zone !== null && 'zoneStartPfn' in zone && Number.isSafeInteger(v['pfn']))) return 'set_pfnblock_flags without a zone and a pfn';
      const count = (k: string): boolean => v[k] === undefined || (Number.isSafeInteger(v[k]) && (v[k] as number) > 0);
      return count('nr') && count('stride') ? null : 'set_pfnblock_flags with nr or stride not a positive whole number';
    }
    case 'work':
      return typeof v['work'] === 'string' && Number.isSafeInteger(v['nrPages']) && Number.isSafeInteger(v['node']) ? null : 'work without work, nrPages and node';
    default:
      return `an unknown op ${JSON.stringify(op)}`;
  }
}

/** A text on one line: control characters (newlines) escaped. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
}

/** An exception's message on one line. */
function messageOf(e: unknown): string {
  try {
    return oneLine(e instanceof Error ? e.message : String(e));
  } catch {
    return 'a value that cannot be shown';
  }
}

/**
 * A user design's step, run so that its own failures are its file's errors (exit 2), never
 * mmsim's: what it throws is "design FILE: step S threw: message", and what it yields must be
 * one of the kernel's yields. Errors mmsim's own code raised as InputError pass unchanged.
 */
function* guardedStep(file: string, key: string, start: () => unknown): Task<unknown> {
  const threw = (e: unknown): Error => (e instanceof InputError ? e : new InputError(`design ${file}: step ${key} threw: ${messageOf(e)}`));
  let it: unknown;
  try {
    it = start();
  } catch (e) {
    throw threw(e);
  }
  if (typeof it !== 'object' || it === null || typeof (it as { next?: unknown }).next !== 'function') {
    throw new InputError(`design ${file}: step ${key} did not return a generator; write it as function* (api, ...args) { ... }`);
  }
  const gen = it as Generator<unknown, unknown, Resume>;
  let resume: Resume;
  for (;;) {
    let r: IteratorResult<unknown, unknown>;
    try {
      r = gen.next(resume);
    } catch (e) {
      throw threw(e);
    }
    if (r.done) return r.value;
    const problem = yieldProblem(r.value);
    if (problem) throw new InputError(`design ${file}: step ${key} yielded ${problem}; yield the kernel's operations (kernel/task.ts) or yield* api.base(...)`);
    try {
      resume = yield r.value as Yield;
    } catch (e) {
      // The scheduler throws a lock the step released without holding it back into the step.
      if (e instanceof LockMisuse) throw new InputError(`design ${file}: step ${key} yielded ${(r.value as Yield).op}: ${messageOf(e)}`);
      throw e;
    }
  }
}

/** The design's kernel profile with its features applied; an unknown name is one clear error. */
export function designProfile(name: string): { design: Design; profile: KernelProfile } {
  const r = resolveDesign(name);
  return { design: r.design, profile: r.profile };
}

/** Whether a string names a design file rather than a built-in design. */
export function isDesignFile(arg: string): boolean {
  return /\.(m?js)$/.test(arg) || arg.includes('/');
}

/** The default export of a design file, before its steps are checked one by one. */
const designFileSchema = z.strictObject({
  name: z.string().regex(/^[\w.+-]+$/, 'expected a word such as my-design'),
  base: z.string().min(1),
  summary: z.string().optional(),
  features: kernelFeaturesSchema.partial().optional(),
  steps: z.record(z.string(), z.unknown()).optional(),
  asyncProbe: z.enum(['node-local', 'unbound']).optional(),
});

/** One line for the first thing wrong with a design file's export. */
function designFileProblem(path: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const at = (issue?.path ?? []).map(String);
  const where = at.length ? `${at.join('.')}: ` : '';
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    if (at[0] === 'features') return `${path}: unknown feature ${keys}; a design sets features of KernelFeatures (src/profiles/profile.ts): ${Object.keys(kernelFeaturesSchema.shape).join(', ')}`;
    return `${path}: unknown key ${keys} in the default export; expected \`export default { name, base, summary, features, steps }\``;
  }
  return `${path}: ${where}${oneLine(issue?.message ?? 'invalid')}; expected \`export default { name, base, summary, features, steps }\``;
}

/** Load a user design: an ES module whose default export is { name, base, summary?, features?, steps?, asyncProbe? }. */
export async function loadDesignFile(path: string): Promise<Design> {
  const full = resolve(path);
  if (!existsSync(full)) throw new InputError(`${path}: no such design file`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(full).href)) as { default?: unknown };
  } catch (e) {
    throw new InputError(`${path}: cannot load the design module: ${oneLine(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e))}`);
  }
  const d = mod.default;
  const where = `${path}: expected \`export default { name, base, summary, features, steps }\``;
  if (!d || typeof d !== 'object') throw new InputError(`${where}; the module has no default export`);
  let parsed: z.infer<typeof designFileSchema>;
  try {
    const r = designFileSchema.safeParse(d);
    if (!r.success) throw new InputError(designFileProblem(path, r.error));
    parsed = r.data;
  } catch (e) {
    // A getter of the export that throws is the file's error too.
    if (e instanceof InputError) throw e;
    throw new InputError(`${where}; reading its default export threw: ${messageOf(e)}`);
  }
  const steps = parsed.steps ?? {};
  for (const [k, v] of Object.entries(steps)) {
    if (!(k in STEP_DOCS)) throw new InputError(`${path}: step ${k} is not one a design may replace (${Object.keys(STEP_DOCS).join(', ')}); mmsim designs lists them`);
    if (typeof v !== 'function') throw new InputError(`${path}: step ${k} must be a generator function (function* (api, ...args) { ... })`);
  }
  if (DESIGNS.some((b) => b.name === parsed.name)) throw new InputError(`${path}: name ${parsed.name} is a built-in design's; give the design a name of its own (its base may be ${parsed.name})`);
  const design: Design = {
    name: parsed.name,
    summary: parsed.summary ?? `user design from ${path}`,
    base: parsed.base,
    features: parsed.features ?? {},
    steps,
    source: path,
    ...(parsed.asyncProbe ? { asyncProbe: parsed.asyncProbe } : {}),
  };
  resolveDesign(design); // an unknown base or a loop is reported now
  return design;
}

/** How two designs differ: base chain, kernel features and replaced steps, one line each. */
export function diffDesigns(a: ResolvedDesign, b: ResolvedDesign): string[] {
  const out: string[] = [];
  if (a.profile.release.release !== b.profile.release.release) out.push(`kernel: ${a.chain.at(-1)} | ${b.chain.at(-1)}`);
  const fa = a.profile.features as unknown as Record<string, unknown>;
  const fb = b.profile.features as unknown as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
    const x = JSON.stringify(fa[k]);
    const y = JSON.stringify(fb[k]);
    if (x !== y) out.push(`feature ${k}: ${x} | ${y}`);
  }
  for (const k of Object.keys(STEP_DOCS) as (keyof DesignSteps)[]) {
    const x = stepOwner(a, k);
    const y = stepOwner(b, k);
    if (x !== y) out.push(`step ${k}: ${x} | ${y}`);
  }
  return out;
}

/** Which design in the chain replaced a step ("kernel" when none did). */
export function stepOwner(r: ResolvedDesign, k: keyof DesignSteps): string {
  if (!r.steps[k]) return 'kernel';
  let d: Design | undefined = r.design;
  const all = [...DESIGNS];
  while (d) {
    if (d.steps[k]) return d.source ? `${d.name} (${d.source})` : d.name;
    const base: string = d.base;
    d = all.find((x) => x.name === base);
  }
  return 'design';
}
