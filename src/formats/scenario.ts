// Scenario files: a machine, a kernel, and steps (hot-add memory, online/offline blocks, sysfs
// writes, chmem, expect zone and block states, print views). YAML validated with zod; errors name file:line:col.
import { addr, parseYaml, yamlPosition } from './yaml-common.js';
import { z } from 'zod';
import { InputError, quote } from '../errors.js';

/** The views `mmsim run --print` and a scenario's print step can show. */
export const RUN_VIEWS = ['zoneinfo', 'blocks', 'dmesg', 'lsmem', 'iomem', 'json', 'nodes', 'memmap'] as const;
export type RunView = (typeof RUN_VIEWS)[number];

/** Memory block ids [first, last] (inclusive), as a scenario names them. */
export interface BlockRange {
  readonly first: number;
  readonly last: number;
}

/**
 * "32", "32-35" or [32, 33]: memory block ids, kept as ranges (a range of 10^8 blocks costs
 * nothing until a machine has checked it: drivers/run.ts blockIdsIn).
 */
const blocks = z.union([z.number().int().nonnegative(), z.string(), z.array(z.number().int().nonnegative())]).transform((v, ctx): BlockRange[] => {
  const safe = (n: number): boolean => Number.isSafeInteger(n);
  if (typeof v === 'number' || Array.isArray(v)) {
    const ids = typeof v === 'number' ? [v] : v;
    if (!ids.every(safe)) {
      ctx.addIssue({ code: 'custom', message: 'expected block ids below 2^53' });
      return z.NEVER;
    }
    return ids.map((id) => ({ first: id, last: id }));
  }
  const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'expected a block id or range such as 32 or 32-39' });
    return z.NEVER;
  }
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (!safe(a) || !safe(b) || b < a) {
    ctx.addIssue({ code: 'custom', message: `expected a block range FIRST-LAST with FIRST <= LAST, both below 2^53, not ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return [{ first: a, last: b }];
});

/** How many block ids the ranges name (with repeats). */
export function blockCount(ranges: readonly BlockRange[]): number {
  return ranges.reduce((n, r) => n + (r.last - r.first + 1), 0);
}

/** The block ids of the ranges, in order; only for ranges a machine has checked (drivers/run.ts blockIdsIn). */
export function expandBlocks(ranges: readonly BlockRange[]): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let id = r.first; id <= r.last; id++) out.push(id);
  return out;
}

const zoneName = z.enum(['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device']);

/**
 * Hot-add [start, start + size) on node: by an ACPI memory device (dimm: one add_memory, a static
 * memory group), by the virtio-mem device `name` (one add per memory block, a dynamic group), or
 * as an NVDIMM (nvdimm: a new region with its raw namespace; no System RAM until kmem).
 */
const addStep = z
  .object({
    add: z
      .object({
        node: z.number().int().nonnegative(),
        /** Where the device goes; without it, where QEMU would place it (formats/qemu.ts memoryDeviceFreeAddr). */
        start: addr.optional(),
        size: addr,
        device: z.enum(['dimm', 'virtio-mem', 'nvdimm']).default('dimm'),
        /** nvdimm: the DIMM has a label area. */
        labels: z.boolean().optional(),
        name: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/, 'expected a device name such as virtio0')
          .default('virtio0'),
        /** virtio-mem: the device's whole memory region (QEMU memaddr and size); default the first plug. */
        region: z.object({ start: addr, size: addr }).strict().optional(),
        errno: z.number().int().optional(),
      })
      .strict(),
  })
  .strict();
const removeStep = z.object({ remove: z.object({ start: addr, size: addr, errno: z.number().int().optional() }).strict() }).strict();
const onlineStep = z.object({ online: z.object({ blocks, type: z.enum(['online', 'online_kernel', 'online_movable']).default('online'), errno: z.number().int().optional() }).strict() }).strict();
const offlineStep = z.object({ offline: z.object({ blocks, errno: z.number().int().optional() }).strict() }).strict();

const step = z.union([
  addStep,
  removeStep,
  onlineStep,
  offlineStep,
  /**
   * Hotplug operations that run concurrently, each as its own task: mmsim run runs them one after
   * the other in the order given, mmsim explore over every interleaving.
   */
  z.object({ concurrent: z.array(z.union([addStep, removeStep, onlineStep, offlineStep])).min(2) }).strict(),
  /** A write to a file under /sys/devices/system/memory (e.g. memory36/state), as `echo value > file`. */
  z.object({ write: z.object({ path: z.string().min(1), value: z.string(), errno: z.number().int().optional() }).strict() }).strict(),
  /** util-linux chmem over the machine: its arguments, and the exit code expected (default 0). */
  z.object({ chmem: z.object({ args: z.string().min(1), exit: z.number().int().default(0) }).strict() }).strict(),
  /** ndctl (v81) over the machine's NVDIMMs: its arguments, and the exit code expected (default 0). */
  z.object({ ndctl: z.object({ args: z.string().min(1), exit: z.number().int().default(0) }).strict() }).strict(),
  /** daxctl (v81) over the machine's device-dax instances. */
  z.object({ daxctl: z.object({ args: z.string().min(1), exit: z.number().int().default(0) }).strict() }).strict(),
  z
    .object({
      expect: z
        .object({
          node: z.number().int().nonnegative(),
          /** The node is online (node_states[N_ONLINE]: in /proc/zoneinfo and /sys/devices/system/node). */
          online: z.boolean().optional(),
          zone: zoneName.optional(),
          spanned: z.number().int().nonnegative().optional(),
          present: z.number().int().nonnegative().optional(),
          managed: z.number().int().nonnegative().optional(),
          start_pfn: z.number().int().nonnegative().optional(),
        })
        .strict(),
    })
    .strict(),
  z.object({ print: z.enum(RUN_VIEWS) }).strict(),
]);

const schema = z
  .object({
    name: z.string().default('scenario'),
    machine: z.string(),
    kernel: z.union([z.string(), z.number()]).transform(String).optional(),
    /** Kernel command-line options added to the machine's (e.g. memory_hotplug.memmap_on_memory=1). */
    cmdline: z.string().default(''),
    /**
     * Blocks that hold unmovable pages once onlined to a kernel zone (offline gives EBUSY), beside
     * the one the model pins itself (the first block into a CPU node's empty ZONE_NORMAL).
     */
    unmovable: z.array(z.number().int().nonnegative()).default([]),
    /** CONFIG_DEBUG_VM (with DEBUG_VM_PGFLAGS) and page_init_poisoning: fresh memmaps are 0xff. */
    debug_vm: z.boolean().default(false),
    steps: z.array(step).min(1),
  })
  .strict();

/** A scenario as written: an add step may leave its start to QEMU's placement. */
export type RawScenario = z.infer<typeof schema>;
type RawStep = RawScenario['steps'][number];
type Placed<S> = S extends { add: infer A } ? { add: Omit<A, 'start'> & { start: number } } : S;
type PlacedStep<S> = S extends { concurrent: (infer C)[] } ? { concurrent: Placed<C>[] } : Placed<S>;
/** A scenario with every add step's start known. */
export type ScenarioStep = PlacedStep<RawStep>;
export type Scenario = Omit<RawScenario, 'steps'> & { steps: ScenarioStep[] };
type RawAdd = Extract<RawStep, { add: unknown }>['add'];
type RawRemove = Extract<RawStep, { remove: unknown }>['remove'];

/**
 * Places the add steps without a start (in step order: each add and remove changes what is
 * plugged) and returns each add's start; called only when some add has none.
 */
export type AddPlacer = (raw: RawScenario) => { add(a: RawAdd, at: string): number; remove(r: RawRemove): void };

export interface LoadedScenario {
  readonly scenario: Scenario;
  /** "file:line:col" of step i, for messages; `where.key(k)` of a top-level key; `where.op(i, j)` of operation j of the concurrent block at step i. */
  readonly where: ((i: number) => string) & { readonly key: (k: string) => string; readonly op: (i: number, j: number) => string };
}

export function loadScenario(file: string, text: string, placer?: AddPlacer): LoadedScenario {
  const { doc, lc, data } = parseYaml(file, text);
  const r = schema.safeParse(data);
  if (!r.success) {
    const top = r.error.issues[0];
    // A step whose kind is known but whose value is wrong: the option that got deepest says why.
    let issue = top;
    let path: PropertyKey[] = [...(top?.path ?? [])];
    while (issue?.code === 'invalid_union') {
      const deepest = issue.errors.flat().reduce<(typeof issue.errors)[number][number] | undefined>((best, e) => (e.path.length > (best?.path.length ?? 1) ? e : best), undefined);
      if (!deepest) break;
      path = [...path, ...deepest.path];
      issue = deepest;
    }
    const p = yamlPosition(doc, lc, path);
    const msg = issue?.code === 'invalid_union' ? 'expected one step: add, remove, online, offline, concurrent, write, chmem, ndctl, daxctl, expect or print' : (issue?.message ?? 'invalid scenario');
    throw new InputError(`${file}:${p.line}:${p.col}: ${msg}${path.length ? ` (at ${path.map((k) => (typeof k === 'string' && !/^[A-Za-z0-9_]+$/.test(k) ? quote(k) : String(k))).join('.')})` : ''}`);
  }
  const at = (path: (string | number)[]): string => {
    const p = yamlPosition(doc, lc, path);
    return `${file}:${p.line}:${p.col}`;
  };
  const where = Object.assign((i: number) => at(['steps', i]), { key: (k: string) => at([k]), op: (i: number, j: number) => at(['steps', i, 'concurrent', j]) });
  const raw = r.data;
  const adds = (st: RawStep): RawAdd[] => ('add' in st ? [st.add] : 'concurrent' in st ? st.concurrent.flatMap((c) => ('add' in c ? [c.add] : [])) : []);
  const needs = raw.steps.some((st) => adds(st).some((a) => a.start === undefined));
  const p = needs ? placer?.(raw) : undefined;
  const place = (a: RawAdd, path: (string | number)[]): Placed<{ add: RawAdd }>['add'] => {
    const here = at(path);
    if (a.start === undefined && a.device === 'virtio-mem') throw new InputError(`${here}: a virtio-mem add needs its start (the next block the device plugs)`);
    if (a.start !== undefined) {
      p?.add(a, here);
      return { ...a, start: a.start };
    }
    if (!p) throw new InputError(`${here}: expected "start" (no machine to place the device in)`);
    return { ...a, start: p.add(a, here) };
  };
  const steps: ScenarioStep[] = raw.steps.map((st, i): ScenarioStep => {
    if ('add' in st) return { add: place(st.add, ['steps', i, 'add']) };
    if ('remove' in st) p?.remove(st.remove);
    if ('concurrent' in st) {
      return {
        concurrent: st.concurrent.map((c, j) => {
          if ('add' in c) return { add: place(c.add, ['steps', i, 'concurrent', j, 'add']) };
          if ('remove' in c) p?.remove(c.remove);
          return c;
        }),
      };
    }
    return st;
  });
  return { scenario: { ...raw, steps }, where };
}

/** The JSON Schema of scenario files. */
export function scenarioJsonSchema(): object {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}
