// mmsim's machine file: YAML validated with zod; every error names file:line:column.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { addr, parseYaml, yamlPosition } from './yaml-common.js';
import { parseKconfig } from '../kernel/kconfig.js';
import { z } from 'zod';
import { InputError, quote } from '../errors.js';
import { cpusLimitError, nidLimitError, pmemOverlap, rangeLimitError } from '../kernel/limits.js';
import { DEFAULT_CONFIG, NO_BOOT_MEMORY, type BootMemory, type KernelImage, type MachineSpec, type MemblockRegion, type ReservedRange, type E820Entry } from '../kernel/machine_spec.js';
import { parseCmdline } from './cmdline.js';

const range = z
  .object({
    start: addr,
    size: addr.optional(),
    end: addr.optional(),
    hotpluggable: z.boolean().default(false),
    mirror: z.boolean().default(false),
  })
  .strict();

const reservedRange = z.object({ start: addr, size: addr.optional(), end: addr.optional() }).strict();

const schema = z
  .object({
    name: z.string().default('machine'),
    kernel: z.union([z.string(), z.number()]).transform(String).optional(),
    arch: z.enum(['x86_64', 'arm64', 'i386', 's390x']).default('x86_64'),
    hypervisor: z.string().nullable().default(null),
    cmdline: z.string().default(''),
    config: z
      .object({
        nodesShift: z.number().int().min(0).max(10).default(DEFAULT_CONFIG.nodesShift),
        deferredStructPageInit: z.boolean().default(DEFAULT_CONFIG.deferredStructPageInit),
        zoneDevice: z.boolean().default(DEFAULT_CONFIG.zoneDevice),
        autoOnlineBlocks: z.enum(['offline', 'online', 'online_kernel', 'online_movable']).default(DEFAULT_CONFIG.autoOnlineBlocks),
        pageBytes: z.union([z.literal(4096), z.literal(16384), z.literal(65536)]).default(DEFAULT_CONFIG.pageBytes),
        /** x86_64: 5-level paging in use (CONFIG_X86_5LEVEL and a CPU with LA57): physical addresses up to 2^52, not 2^46. */
        la57: z.boolean().default(DEFAULT_CONFIG.la57),
        lowmemBytes: addr.nullable().default(DEFAULT_CONFIG.lowmemBytes),
        rzmBytes: addr.nullable().default(DEFAULT_CONFIG.rzmBytes),
        numa: z.boolean().nullable().default(DEFAULT_CONFIG.numa),
        kconfig: z.string().optional(),
      })
      .strict()
      .default({ ...DEFAULT_CONFIG, kconfig: undefined }),
    dmaReservePages: z.number().int().nonnegative().optional(),
    memoryBlockBytes: addr.optional(),
    memoryBlocks: z
      .array(
        z
          .object({
            id: z.number().int().nonnegative(),
            state: z.enum(['online', 'offline', 'going-offline']).optional(),
            removable: z.boolean().optional(),
            validZones: z.string().optional(),
            physDevice: z.number().int().nonnegative().optional(),
            nodes: z.array(z.number().int().nonnegative()).optional(),
          })
          .strict(),
      )
      .optional(),
    reserved: z.array(reservedRange).optional(),
    /**
     * The kernel image as the kernel reserves it (kernel/setup.ts): _text (start), __end_of_kernel_reserve
     * (end), the brk bytes used, the "Memory:" line's section sizes and the bytes freed after boot.
     */
    image: z
      .object({
        start: addr.default(0x1000000),
        end: addr.optional(),
        brk: addr.optional(),
        code: addr,
        rwdata: addr,
        rodata: addr,
        init: addr,
        bss: addr,
        freedLater: addr.optional(),
      })
      .strict()
      .optional(),
    /** The initrd the boot loader loaded (its start, where known, and size). */
    initrd: z.object({ start: addr.optional(), size: addr }).strict().optional(),
    /** The swiotlb bounce buffer's size (0: none); by default 64 MiB when memory reaches above 4 GiB. */
    swiotlb: addr.optional(),
    /**
     * The firmware memory map as the kernel's e820 table holds it after its early edits, for
     * /proc/iomem: types as e820__print_table prints them (usable, reserved, ACPI data, ACPI NVS, ...).
     */
    e820: z.array(z.object({ start: addr, size: addr.optional(), end: addr.optional(), type: z.string().min(1) }).strict()).optional(),
    nodes: z
      .array(
        z
          .object({
            nid: z.number().int().nonnegative(),
            cpus: z.number().int().nonnegative().default(0),
            memory: z.array(range).default([]),
            /** NVDIMM ranges; `labels: true` when the DIMM has a label area (namespaces by label after ndctl init-labels). */
            pmem: z
              .array(
                z
                  .object({
                    start: addr,
                    size: addr.optional(),
                    end: addr.optional(),
                    labels: z.boolean().optional(),
                    /** A namespace configured before this boot (mode, map, align), probed at boot. */
                    namespace: z
                      .object({ mode: z.enum(['raw', 'fsdax', 'devdax']), map: z.enum(['dev', 'mem']).default('dev'), align: addr.optional() })
                      .strict()
                      .optional(),
                  })
                  .strict(),
              )
              .default([]),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

function endOf(start: number, size: number | undefined, end: number | undefined): number | null {
  if (size !== undefined && end === undefined) return start + size;
  if (end !== undefined && size === undefined) return end;
  return null;
}

/** Parse and validate a machine file; the kernel release it names (if any) is returned alongside. */
export function loadMachineYaml(file: string, text: string): { spec: MachineSpec; kernel: string | null } {
  const { doc, lc, data } = parseYaml(file, text);
  const at = (path: readonly PropertyKey[], msg: string): InputError => {
    const p = yamlPosition(doc, lc, path);
    return new InputError(`${file}:${p.line}:${p.col}: ${msg}`);
  };
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path ?? [];
    const where = path.length ? ` (at ${path.map((k) => (typeof k === 'string' && !/^[A-Za-z0-9_]+$/.test(k) ? quote(k) : String(k))).join('.')})` : '';
    let msg = issue?.message ?? 'invalid machine';
    if (issue?.code === 'invalid_type') msg = `expected ${issue.expected}${where}`;
    else if (issue?.code === 'unrecognized_keys') msg = `unknown key ${issue.keys.map((k) => quote(k)).join(', ')}${where}`;
    else msg = `${msg}${where}`;
    throw at(path, msg);
  }
  const m = result.data;
  // config.kconfig names a kernel .config, relative to the machine file (read first: it can set the limits).
  let kconfig: ReadonlyMap<string, string> | null = null;
  if (m.config.kconfig !== undefined) {
    const path = isAbsolute(m.config.kconfig) ? m.config.kconfig : join(dirname(file), m.config.kconfig);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw at(['config', 'kconfig'], `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of a kernel .config`);
    }
    kconfig = parseKconfig(text, path);
  }
  // The limits of the machine's arch and config (kernel/limits.ts), checked as each value is
  // read and before anything is sized by it.
  const limits = { arch: m.arch, config: { ...m.config, kconfig } };
  const memory: MemblockRegion[] = [];
  const located: { ni: number; ri: number; i: number; start: number; end: number }[] = [];
  const seen = new Set<number>();
  let cpus = 0;
  m.nodes.forEach((node, ni) => {
    if (seen.has(node.nid)) throw at(['nodes', ni, 'nid'], `node ${node.nid} is given twice; each nid once`);
    const nidError = nidLimitError(limits, node.nid);
    if (nidError) throw at(['nodes', ni, 'nid'], nidError);
    seen.add(node.nid);
    cpus += node.cpus;
    const cpusError = cpusLimitError(limits, cpus);
    if (cpusError) throw at(['nodes', ni, 'cpus'], ni > 0 ? `${cpusError} (the CPUs of nodes ${m.nodes[0]?.nid} to ${node.nid} together)` : cpusError);
    node.memory.forEach((r, ri) => {
      const end = endOf(r.start, r.size, r.end);
      if (end === null) throw at(['nodes', ni, 'memory', ri], 'expected exactly one of "size" or "end" (end is exclusive)');
      if (end <= r.start) throw at(['nodes', ni, 'memory', ri], 'expected a non-empty range: end must be above start');
      const rangeError = rangeLimitError(limits, r.start, end);
      if (rangeError) throw at(['nodes', ni, 'memory', ri], `memory ${rangeError}`);
      located.push({ ni, ri, i: located.length, start: r.start, end });
      memory.push({ base: r.start, size: end - r.start, nid: node.nid, hotpluggable: r.hotpluggable, mirror: r.mirror });
    });
  });
  // Overlaps, in address order (O(ranges log ranges)): of an overlapping pair, the later-listed range is named.
  let reach: (typeof located)[number] | undefined;
  for (const r of [...located].sort((x, y) => x.start - y.start || x.i - y.i)) {
    if (reach && r.start < reach.end) {
      const [a, b] = reach.i < r.i ? [reach, r] : [r, reach];
      throw at(
        ['nodes', b.ni, 'memory', b.ri],
        `memory range [0x${b.start.toString(16)}, 0x${b.end.toString(16)}) overlaps [0x${a.start.toString(16)}, 0x${a.end.toString(16)}); ranges must not overlap`,
      );
    }
    if (!reach || r.end > reach.end) reach = r;
  }
  if (memory.length === 0) throw at(['nodes'], 'expected at least one node with memory');
  const pmem = m.nodes.flatMap((node, ni) =>
    node.pmem.map((r, ri) => {
      const end = endOf(r.start, r.size, r.end);
      if (end === null || end <= r.start) throw at(['nodes', ni, 'pmem', ri], 'expected a non-empty range with exactly one of "size" or "end"');
      const rangeError = rangeLimitError(limits, r.start, end);
      if (rangeError) throw at(['nodes', ni, 'pmem', ri], `pmem ${rangeError}`);
      const ns = r.namespace ? { mode: r.namespace.mode, map: r.namespace.map, ...(r.namespace.align !== undefined ? { align: r.namespace.align } : {}) } : undefined;
      return { base: r.start, size: end - r.start, nid: node.nid, ...(r.labels !== undefined ? { labels: r.labels } : {}), ...(ns ? { namespace: ns } : {}) };
    }),
  );
  // An NVDIMM range is neither RAM nor another NVDIMM's range: name the pmem entry that overlaps.
  const pmemAt = m.nodes.flatMap((node, ni) => node.pmem.map((_r, ri) => ['nodes', ni, 'pmem', ri] as const));
  const overlap = pmemOverlap(
    located.map((r) => ({ start: r.start, end: r.end })),
    pmem.map((p) => ({ start: p.base, end: p.base + p.size })),
  );
  if (overlap) throw at(pmemAt[overlap.pmemIndex] ?? ['nodes'], overlap.message);
  const reserved: ReservedRange[] | null = m.reserved
    ? m.reserved.map((r, i) => {
        const end = endOf(r.start, r.size, r.end);
        if (end === null || end <= r.start) throw at(['reserved', i], 'expected a non-empty range with exactly one of "size" or "end"');
        return { base: r.start, size: end - r.start };
      })
    : null;
  const e820: E820Entry[] | undefined = m.e820?.map((r, i) => {
    const end = endOf(r.start, r.size, r.end);
    if (end === null || end <= r.start) throw at(['e820', i], 'expected a non-empty range with exactly one of "size" or "end"');
    return { start: r.start, end, type: r.type };
  });
  const bootMemory = machineBootMemory(m.image, m.initrd, m.swiotlb, memory, m.cmdline, at);
  const { boot, error } = parseCmdline(m.cmdline);
  if (error) throw at(['cmdline'], error.message);
  const { kconfig: _k, ...configRest } = m.config;
  void _k;
  const spec: MachineSpec = {
    name: m.name,
    arch: m.arch,
    hypervisor: m.hypervisor,
    memory,
    pmem,
    reserved,
    bootMemory,
    ...(e820 ? { e820 } : {}),
    dmaReservePages: m.dmaReservePages ?? null,
    nodes: m.nodes.map((n) => ({ nid: n.nid, cpus: n.cpus })),
    boot,
    config: { ...configRest, kconfig },
    memLimitApplied: false,
    ...(m.memoryBlocks ? { observedBlocks: m.memoryBlocks } : {}),
    ...(m.memoryBlockBytes !== undefined ? { observedBlockBytes: m.memoryBlockBytes } : {}),
  };
  return { spec, kernel: m.kernel ?? null };
}

/** The image, initrd and swiotlb keys as boot's memblock model reads them, checked against the machine's memory. */
function machineBootMemory(
  image: z.infer<typeof schema>['image'],
  initrd: z.infer<typeof schema>['initrd'],
  swiotlb: number | undefined,
  memory: readonly MemblockRegion[],
  cmdline: string,
  at: (path: readonly PropertyKey[], msg: string) => InputError,
): BootMemory {
  const inRam = (s: number, e: number): boolean => memory.some((r) => r.base <= s && e <= r.base + r.size);
  let img: KernelImage | null = null;
  if (image) {
    const sections = image.code + image.rwdata + image.rodata + image.init + image.bss;
    if (image.end !== undefined && image.end - image.start < sections) {
      throw at(['image', 'end'], `expected end at least start + the sections' sizes (0x${(image.start + sections).toString(16)}): [_text, __end_of_kernel_reserve) holds them all`);
    }
    const end = image.end ?? image.start + sections;
    if (!inRam(image.start, end + (image.brk ?? 0))) throw at(['image'], `the image [0x${image.start.toString(16)}, 0x${end.toString(16)}) and its brk must lie in one memory range of the machine`);
    if (image.freedLater !== undefined && image.freedLater > end - image.start)
      throw at(['image', 'freedLater'], "expected at most the image size (end - start): only the image's own pages are freed");
    img = {
      start: image.start,
      end: image.end ?? null,
      brk: image.brk ?? null,
      code: image.code,
      rwdata: image.rwdata,
      rodata: image.rodata,
      init: image.init,
      bss: image.bss,
      freedLater: image.freedLater ?? null,
    };
  }
  if (initrd?.start !== undefined && !inRam(initrd.start, initrd.start + initrd.size)) {
    throw at(['initrd'], `the initrd [0x${initrd.start.toString(16)}, 0x${(initrd.start + initrd.size).toString(16)}) must lie in one memory range of the machine`);
  }
  if (initrd && initrd.size === 0) throw at(['initrd', 'size'], 'expected a size above 0 (leave initrd: out for none)');
  return {
    ...NO_BOOT_MEMORY,
    image: img,
    initrd: initrd ? { base: initrd.start ?? null, size: initrd.size } : null,
    swiotlb: swiotlb === undefined ? null : swiotlb === 0 ? 'none' : { size: swiotlb },
    cmdlineBytes: cmdline.length,
  };
}

/**
 * The JSON Schema of a machine file, for editors (the shape as written in YAML: addresses and
 * sizes are numbers or strings such as "0x100000000" or "64G").
 */
export function machineJsonSchema(): object {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}
