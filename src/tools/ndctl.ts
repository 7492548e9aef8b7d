// ndctl and daxctl (pmem/ndctl v81) over a model machine: the subcommands that set NVDIMM
// namespaces and device-dax up, with their JSON (field names and order, -u sizes), messages and
// exit codes. ndctl: list (every v81 flag; -B -F -H -C refused as not modelled), create-namespace [-e NS] [-f] [-r REGION] [-m MODE]
// [-M MAP] [-s SIZE] [-a ALIGN], destroy-namespace NS|all [-f], disable-region / enable-region
// REGION|all, init-labels NMEM|all [-f]. daxctl: list [-M -u], reconfigure-device DEV|all
// -m system-ram|devdax [--no-online] [--no-movable], online-memory / offline-memory DEV|all.
// Leaves out sector/BTT mode.
import type { Task } from '../kernel/task.js';
import { type Machine } from '../kernel/machine.js';
import { availableExtents, DEFAULT_PFN_ALIGN, disableNamespace, enableNamespace, kmemBlocks, newNamespaceUuid, nvdimmRegions, pfnGeometry } from '../kernel/nvdimm.js';
import { type DaxDevice, type Namespace, type NamespaceMode, type NvdimmRegion } from '../kernel/nd.js';
import { hex, hexField, jsonc, size, type JsonC } from './json-c.js';
import { memparse } from '../formats/size.js';

export interface ToolResult {
  /** stdout and stderr as `2>&1` interleaves them. */
  readonly output: string;
  readonly exitCode: number;
}

/** Runs a kernel task to completion (the run driver); returns its result. */
export type RunTask = (task: Task<number>) => number;

export const ERRNO_TEXT: Readonly<Record<number, string>> = {
  1: 'Operation not permitted',
  6: 'No such device or address',
  12: 'Cannot allocate memory',
  16: 'Device or resource busy',
  22: 'Invalid argument',
  28: 'No space left on device',
};

/** Short and long options of one subcommand: name -> takes a value. */
type OptSpec = Readonly<Record<string, { readonly short?: string; readonly value: boolean }>>;

/** parse_options: "-RNDu", "-r region0", "--mode=devdax", "--mode devdax"; the rest are positional. */
export function parseOpts(args: readonly string[], spec: OptSpec): { opts: Map<string, string | true>; rest: string[] } | string {
  const opts = new Map<string, string | true>();
  const rest: string[] = [];
  const byShort = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([k, s]) => [s.short as string, k]),
  );
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const s = spec[name];
      if (!s) return `unknown option \`${name}'`;
      if (s.value) {
        const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) return `option \`${name}' requires a value`;
        opts.set(name, v);
      } else opts.set(name, true);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = byShort.get(a[j] as string);
        if (!name) return `unknown switch \`${a[j]}'`;
        if (spec[name]?.value) {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) return `switch \`${a[j]}' requires a value`;
          opts.set(name, v);
          break;
        }
        opts.set(name, true);
      }
    } else rest.push(a);
  }
  return { opts, rest };
}

export function daxJson(m: Machine, d: DaxDevice, human: boolean, mappings: boolean): JsonC {
  const bytes = d.end + 1 - d.start;
  const blocks = kmemBlocks(m, d);
  const online = blocks.filter((id) => m.blocks.get(id)?.state === 'online');
  return {
    chardev: d.dev,
    size: size(bytes, human),
    target_node: d.targetNode,
    align: size(d.align, human),
    mode: d.mode,
    ...(d.mode === 'system-ram'
      ? { online_memblocks: online.length, total_memblocks: blocks.length, movable: online.length > 0 && online.every((id) => m.blocks.get(id)?.validZones === 'Movable') }
      : {}),
    ...(mappings ? { mappings: [{ page_offset: hex(0), start: hex(d.start), end: hex(d.end), size: size(bytes, human) }] } : {}),
  };
}

/** util_namespace_to_json's flags (ndctl/json.c, v81): -u, -X (UTIL_JSON_DAX | UTIL_JSON_DAX_DEVS), -v. */
interface NsJsonFlags {
  readonly human: boolean;
  readonly dax: boolean;
  readonly verbose: boolean;
}

/**
 * A region's numa_node (acpi_nfit's pxm_to_online_node, 6.1): its proximity node when online,
 * else the first online node (numa_map_to_online_node with every distance equal, as in a QEMU
 * guest without -numa dist); its target_node is the proximity node itself.
 */
function regionNumaNode(m: Machine, r: NvdimmRegion): number {
  const online = m.state.nodes.filter((n) => n.online).map((n) => n.nodeId);
  return online.includes(r.nid) ? r.nid : (online[0] ?? r.nid);
}

/**
 * util_namespace_to_json (ndctl/json.c, v81) for an enabled namespace. A devdax namespace names
 * its first device-dax instance (`chardev`) unless -X asks for the whole daxregion object
 * (create-namespace always does). -v adds numa_node and target_node (raw_uuid only where the
 * namespace has its own uuid, which mmsim's label-less namespaces have not).
 */
function namespaceJson(m: Machine, r: NvdimmRegion, ns: Namespace, flags: NsJsonFlags): JsonC {
  const { human } = flags;
  const usable = ns.size - ns.dataOffset - ns.endTrunc;
  // "state":"disabled" (an idle namespace, with -i or -c), then -v's nodes.
  const verbose = { ...(ns.enabled ? {} : { state: 'disabled' }), ...(flags.verbose ? { numa_node: regionNumaNode(m, r), target_node: r.nid } : {}) };
  if (ns.mode === 'raw') {
    return { dev: ns.dev, mode: 'raw', size: size(ns.size, human), ...(ns.uuid ? { uuid: ns.uuid } : {}), sector_size: 512, blockdev: ns.blockdev ?? undefined, ...verbose };
  }
  if (ns.mode === 'fsdax') {
    return { dev: ns.dev, mode: 'fsdax', map: ns.map, size: size(usable, human), uuid: ns.uuid ?? undefined, sector_size: 512, align: ns.align, blockdev: ns.blockdev ?? undefined, ...verbose };
  }
  const d = ns.dax;
  return {
    dev: ns.dev,
    mode: 'devdax',
    map: ns.map,
    size: size(usable, human),
    uuid: ns.uuid ?? undefined,
    ...(d && flags.dax ? { daxregion: { id: d.regionId, size: size(usable, human), align: d.align, devices: [daxJson(m, d, human, false)] } } : {}),
    ...(d && !flags.dax ? { chardev: d.dev } : {}),
    align: ns.align,
    ...verbose,
  };
}

/** region_to_json (ndctl/list.c, v81). */
function regionJson(m: Machine, r: NvdimmRegion, human: boolean, verbose: boolean, withDimms: boolean, namespaces: JsonC[] | null): JsonC {
  const avail = availableExtents(r);
  const total = avail.reduce((s, e) => s + e.size, 0);
  const max = avail.reduce((s, e) => Math.max(s, e.size), 0);
  return {
    dev: r.dev,
    size: size(r.size, human),
    align: size(r.align, human),
    available_size: size(total, human),
    max_available_extent: size(max, human),
    type: 'pmem',
    ...(verbose ? { numa_node: regionNumaNode(m, r), target_node: r.nid } : {}),
    ...(r.labelled ? { iset_id: hexField(r.isetId, human) } : {}),
    ...(withDimms ? { mappings: [{ dimm: r.dimm.dev, offset: hexField(0, human), length: hexField(r.size, human), position: 0 }] } : {}),
    ...(r.enabled ? {} : { state: 'disabled' }),
    persistence_domain: 'unknown',
    ...(namespaces && namespaces.length ? { namespaces } : {}),
  };
}

/** util_display_json_array: one element prints alone with -u, else the array. */
export function display(items: JsonC[], human: boolean): string {
  if (items.length === 1 && human) return jsonc(items[0] as JsonC) + '\n';
  return jsonc(items) + '\n';
}

export function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** `ndctl ARGS` over the machine. */
export function ndctl(m: Machine, args: readonly string[], run: RunTask): ToolResult {
  const regions = nvdimmRegions(m);
  const [cmd, ...rest] = args;
  let out = '';
  const fail = (msg: string, code = 1): ToolResult => ({ output: out + msg + '\n', exitCode: code });
  switch (cmd) {
    case 'list':
      return ndctlList(m, regions, rest);
    case 'create-namespace': {
      const p = parseOpts(rest, {
        reconfig: { short: 'e', value: true },
        force: { short: 'f', value: false },
        region: { short: 'r', value: true },
        mode: { short: 'm', value: true },
        map: { short: 'M', value: true },
        size: { short: 's', value: true },
        align: { short: 'a', value: true },
      });
      if (typeof p === 'string') return fail(`  Error: ${p}`, 129);
      const mode = (p.opts.get('mode') ?? 'fsdax') as string;
      if (mode !== 'fsdax' && mode !== 'devdax' && mode !== 'raw') return fail(`Error: invalid mode '${mode}': expected fsdax, devdax or raw`);
      const map = (p.opts.get('map') ?? 'dev') as string;
      if (map !== 'dev' && map !== 'mem') return fail(`Error: invalid map location '${map}': expected dev or mem`);
      const alignText = p.opts.get('align');
      const align = typeof alignText === 'string' ? memparse(alignText) : DEFAULT_PFN_ALIGN;
      if (align === null) return fail(`Error: invalid align '${String(alignText)}'`);
      const reconfig = p.opts.get('reconfig');
      let r: NvdimmRegion | undefined;
      let ns: Namespace | undefined;
      if (typeof reconfig === 'string') {
        for (const x of regions) {
          const n = x.namespaces.find((y) => y.dev === reconfig);
          if (n) {
            r = x;
            ns = n;
          }
        }
        if (!r || !ns) return fail(`Error: namespace not found: ${reconfig}`);
        if (ns.enabled && !p.opts.has('force')) return fail(`Error: ${ns.dev} is active, specify --force for re-configuration`);
        // Checked before anything is torn down: a request that cannot fit changes nothing.
        if (mode !== 'raw' && !pfnGeometry(ns.start, ns.size, map, align)) return fail(`Error: ${ns.dev}: unable to satisfy requested alignment`);
        const rc = run(disableNamespace(m, ns));
        if (rc !== 0) return fail(`Error: failed to disable ${ns.dev}: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}`);
      } else {
        const want = p.opts.get('region');
        r = regions.find((x) => want === undefined || x.dev === want);
        if (!r) return fail(`Error: region not found: ${String(want)}`);
        if (!r.labelled) return fail(`Error: create namespace: ${r.dev}: no labels, reconfigure ${r.namespaces[0]?.dev ?? 'the namespace'} with -e instead`);
        const extents = availableExtents(r);
        const sizeText = p.opts.get('size');
        const largest = extents.reduce<{ start: number; size: number } | null>((b, e) => (!b || e.size > b.size ? e : b), null);
        const bytes = typeof sizeText === 'string' ? memparse(sizeText) : (largest?.size ?? 0);
        if (bytes === null) return fail(`Error: invalid size '${String(sizeText)}'`);
        if (bytes % r.align !== 0) return fail(`Error: create namespace: ${r.dev}: align setting is ${hex(r.align)} size ${hex(bytes)} is misaligned`);
        const ext = extents.find((e) => e.size >= bytes && bytes > 0);
        if (!ext) return fail(`Error: create namespace: ${r.dev}: ${ERRNO_TEXT[28]}`);
        const index = Math.max(-1, ...r.namespaces.map((n) => n.index)) + 1;
        const dev = `namespace${r.id}.${index}`;
        if (mode !== 'raw' && !pfnGeometry(ext.start, bytes, map, align)) return fail(`Error: ${dev}: unable to satisfy requested alignment`);
        ns = { dev, index, start: ext.start, size: bytes, mode: 'raw', map: 'dev', uuid: null, align: 0, dataOffset: 0, endTrunc: 0, pgmap: null, dax: null, blockdev: null, enabled: false };
        r.namespaces.push(ns);
      }
      const serial = m.uuidSerial;
      ns.uuid = mode === 'raw' && !r.labelled ? null : newNamespaceUuid(m);
      const rc = run(enableNamespace(m, r, ns, mode, map, align));
      if (rc !== 0) {
        // A namespace this command made goes again (its label is not written).
        if (typeof reconfig !== 'string') {
          r.namespaces.splice(r.namespaces.indexOf(ns), 1);
          m.uuidSerial = serial;
        }
        return fail(`failed to reconfigure namespace: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}`);
      }
      return { output: jsonc(namespaceJson(m, r, ns, { human: true, dax: true, verbose: false })) + '\n', exitCode: 0 };
    }
    case 'destroy-namespace': {
      const p = parseOpts(rest, { force: { short: 'f', value: false } });
      if (typeof p === 'string') return fail(`  Error: ${p}`, 129);
      const which = p.rest[0];
      if (!which) return fail('Error: <namespace> required (a name or all)', 129);
      let destroyed = 0;
      for (const r of regions) {
        for (const ns of [...r.namespaces]) {
          if ((which !== 'all' && ns.dev !== which) || ns.size === 0 || !ns.enabled) continue;
          if (!p.opts.has('force')) {
            out += `${ns.dev} is active, specify --force for namespace destruction\n`;
            continue;
          }
          const rc = run(disableNamespace(m, ns));
          if (rc !== 0) {
            out += `destroy-namespace: ${ns.dev}: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}\n`;
            continue;
          }
          ns.mode = 'raw';
          ns.uuid = null;
          // A label-less namespace stays (disabled, raw); a labelled one loses its label.
          if (r.labelled) r.namespaces.splice(r.namespaces.indexOf(ns), 1);
          destroyed++;
        }
      }
      out += `destroyed ${plural(destroyed, 'namespace')}\n`;
      return { output: out, exitCode: destroyed ? 0 : 1 };
    }
    case 'disable-region':
    case 'enable-region': {
      const which = rest.find((a) => !a.startsWith('-'));
      if (!which) return fail('Error: <region> required (a name or all)', 129);
      let n = 0;
      for (const r of regions) {
        if (which !== 'all' && r.dev !== which) continue;
        if (cmd === 'disable-region') {
          if (!r.enabled) continue;
          for (const ns of r.namespaces) {
            if (!ns.enabled) continue;
            const rc = run(disableNamespace(m, ns));
            if (rc !== 0) return fail(`disable-region: ${r.dev}: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}`);
          }
          r.enabled = false;
        } else {
          if (r.enabled) continue;
          r.enabled = true;
          if (!r.labelled) {
            const ns0 = r.namespaces[0];
            if (ns0) run(enableNamespace(m, r, ns0, 'raw', 'dev', DEFAULT_PFN_ALIGN));
          }
        }
        n++;
      }
      return { output: `${cmd === 'disable-region' ? 'disabled' : 'enabled'} ${plural(n, 'region')}\n`, exitCode: 0 };
    }
    case 'init-labels': {
      const which = rest.find((a) => !a.startsWith('-'));
      if (!which) return fail('Error: <nmem> required (a name or all)', 129);
      let n = 0;
      for (const r of regions) {
        if (which !== 'all' && r.dimm.dev !== which) continue;
        if (r.enabled) return fail(`${r.dimm.dev}: regions active, abort label write\ninitialized 0 nmems`);
        if (!r.labelArea) continue;
        r.labelled = true;
        r.namespaces.splice(0, r.namespaces.length);
        n++;
      }
      return { output: `initialized ${plural(n, 'nmem')}\n`, exitCode: 0 };
    }
    default:
      return fail(`ndctl: '${cmd ?? ''}' is not an ndctl command mmsim models; see: mmsim ndctl --help`, 1);
  }
}

/** util_nsmode (ndctl/filter.c, v81): a --mode filter's namespace mode; sector (BTT) is never modelled. */
const NS_MODES: Readonly<Record<string, NamespaceMode | 'sector'>> = { memory: 'fsdax', fsdax: 'fsdax', sector: 'sector', safe: 'sector', dax: 'devdax', devdax: 'devdax', raw: 'raw' };

/** util_region_filter / util_dimm_filter: "all", a number (the id) or the device name; space-separated lists. */
function identMatches(ident: string | true | undefined, id: number, dev: string): boolean {
  if (typeof ident !== 'string') return true;
  return ident.split(' ').some((name) => {
    if (name === '' || name === 'all') return name === 'all';
    const n = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(name) ? Number(name.startsWith('0') && !/^0x/i.test(name) && name.length > 1 ? parseInt(name, 8) : name) : null;
    return n !== null ? n === id : name === dev;
  });
}

/** ndctl_dimm_get_id: the N of nmemN. */
function nmemId(r: NvdimmRegion): number {
  return Number(/\d+$/.exec(r.dimm.dev)?.[0] ?? -1);
}

/**
 * cmd_list (ndctl/list.c, v81) over ndctl_filter_walk (ndctl/filter.c): every flag of v81's list.
 * -B, -F, -H and -C (and -v twice or more, which turns -B on) need bus, firmware, health and
 * capability data mmsim does not model: they stop with a one-line message instead of guessing.
 */
function ndctlList(m: Machine, regions: readonly NvdimmRegion[], args: readonly string[]): ToolResult {
  const p = parseOpts(args, {
    bus: { short: 'b', value: true },
    region: { short: 'r', value: true },
    dimm: { short: 'd', value: true },
    namespace: { short: 'n', value: true },
    mode: { short: 'm', value: true },
    type: { short: 't', value: true },
    'numa-node': { short: 'U', value: true },
    buses: { short: 'B', value: false },
    dimms: { short: 'D', value: false },
    firmware: { short: 'F', value: false },
    health: { short: 'H', value: false },
    regions: { short: 'R', value: false },
    namespaces: { short: 'N', value: false },
    'device-dax': { short: 'X', value: false },
    capabilities: { short: 'C', value: false },
    idle: { short: 'i', value: false },
    configured: { short: 'c', value: false },
    'media-errors': { short: 'M', value: false },
    human: { short: 'u', value: false },
    verbose: { short: 'v', value: false },
  });
  if (typeof p === 'string') return { output: `  Error: ${p}\n`, exitCode: 129 };
  if (p.rest.length) return { output: p.rest.map((a) => `  Error: unknown parameter "${a}"\n`).join('') + '\n usage: ndctl list [<options>]\n', exitCode: 129 };
  // OPT_INCR: every -v (also inside "-vv" or "-Rv") and --verbose counts.
  const verbose = args.reduce((n, a) => n + (a === '--verbose' ? 1 : /^-[^-]/.test(a) ? [...a.slice(1)].filter((c) => c === 'v').length : 0), 0);
  const o = p.opts;
  const str = (k: string): string | undefined => {
    const v = o.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  let listBuses = o.has('buses');
  let listDimms = o.has('dimms');
  let listRegions = o.has('regions');
  let listNamespaces = o.has('namespaces');
  let dax = o.has('device-dax');
  let mode = str('mode');
  const flags = (): number => Number(listBuses) + Number(listDimms) + Number(listRegions) + Number(listNamespaces);
  if (flags() === 0) {
    listBuses = str('bus') !== undefined;
    listRegions = str('region') !== undefined;
    listDimms = str('dimm') !== undefined;
    if (dax && mode === undefined) mode = 'dax';
  }
  // The -v levels fall through (3 -> 2 -> 1) as in cmd_list, NDCTL_LIST_LINT unset.
  if (verbose >= 2) {
    listDimms = true;
    listBuses = true;
    listRegions = true;
  }
  if (verbose >= 1) {
    listNamespaces = true;
    dax = true;
  }
  if (flags() === 0) listNamespaces = true;
  const unmodelled = [
    [listBuses, '--buses (-B, also turned on by -vv)'],
    [o.has('firmware') || verbose >= 3, '--firmware (-F)'],
    [o.has('health') || verbose >= 3, '--health (-H)'],
    [o.has('capabilities') || verbose >= 3, '--capabilities (-C)'],
  ] as const;
  for (const [on, what] of unmodelled) if (on) return { output: `mmsim: ndctl list ${what}: the bus, firmware, health and capability data it prints are not modelled\n`, exitCode: 2 };
  const idle = o.has('idle') || verbose >= 3;
  const configured = o.has('configured');
  const human = o.has('human');
  const type = str('type');
  if (type !== undefined && type !== 'pmem' && type !== 'blk') return { output: `  Error: unknown type "${type}" must be "pmem" or "blk"\n`, exitCode: 234 };
  const nsMode = mode === undefined ? undefined : NS_MODES[mode.toLowerCase()];
  if (mode !== undefined && nsMode === undefined) return { output: `  Error: invalid mode: '${mode}'\n`, exitCode: 234 };
  const numaText = str('numa-node');
  let numa: number | null = null;
  if (numaText !== undefined && numaText !== 'all') {
    numa = /^-?(0x[0-9a-f]+|\d+)$/i.test(numaText) ? Number(numaText) : NaN;
    if (Number.isNaN(numa)) return { output: `  Error: invalid numa_node: '${numaText}'\n`, exitCode: 234 };
  }
  const busOk = identMatches(str('bus'), 0, 'ndbus0') || str('bus') === 'ACPI.NFIT';
  const nsIdent = str('namespace');
  const nsOk = (r: NvdimmRegion, ns: Namespace): boolean => {
    if (nsIdent === undefined) return true;
    return nsIdent.split(' ').some((name) => {
      if (name === 'all' || name === ns.dev) return true;
      const mm = /^(-?\d+)\.(-?\d+)/.exec(name);
      return mm !== null && Number(mm[1]) === r.id && Number(mm[2]) === ns.index;
    });
  };
  const regionOk = (r: NvdimmRegion): boolean =>
    identMatches(str('region'), r.id, r.dev) && identMatches(str('dimm'), nmemId(r), r.dimm.dev) && (nsIdent === undefined || r.namespaces.some((ns) => nsOk(r, ns)));
  const shown = (ns: Namespace): boolean => (ns.enabled && ns.size > 0) || idle || (configured && ns.size > 0);
  const dimms: JsonC[] = [];
  const rs: JsonC[] = [];
  let nss: JsonC[] = [];
  let lastNss: JsonC[] = [];
  if (busOk) {
    if (listDimms) {
      for (const r of regions) {
        if (!identMatches(str('dimm'), nmemId(r), r.dimm.dev) || !identMatches(str('region'), r.id, r.dev)) continue;
        if (numa !== null && regionNumaNode(m, r) !== numa) continue;
        dimms.push({ dev: r.dimm.dev, id: r.dimm.id, handle: r.dimm.handle, phys_id: r.dimm.physId });
      }
    }
    for (const r of regions) {
      if (!regionOk(r)) continue;
      if (numa !== null && regionNumaNode(m, r) !== numa) continue;
      if (type === 'blk') continue;
      if (listRegions && !configured && !idle && !r.enabled) continue;
      const mine: JsonC[] = [];
      if (listNamespaces) {
        for (const ns of r.namespaces) {
          if (!nsOk(r, ns)) continue;
          if (nsMode !== undefined && nsMode !== ns.mode) continue;
          if (!shown(ns)) continue;
          mine.push(namespaceJson(m, r, ns, { human, dax, verbose: verbose > 0 }));
        }
      }
      if (listRegions) {
        rs.push(regionJson(m, r, human, verbose > 0, listDimms, mine));
        // filter_region starts a new namespace array for every region listed.
        lastNss = mine;
      } else nss = nss.concat(mine);
    }
  }
  if (listRegions) nss = lastNss;
  // list_display: more than one kind makes a platform object (namespaces only when no regions
  // hold them), else the one array (one element alone with -u).
  const kinds = [dimms, rs, nss].filter((a) => a.length).length;
  if (kinds > 1) {
    const platform: Record<string, JsonC> = {};
    if (dimms.length) platform['dimms'] = dimms;
    if (rs.length) platform['regions'] = rs;
    if (nss.length && !rs.length) platform['namespaces'] = nss;
    return { output: jsonc(platform) + '\n', exitCode: 0 };
  }
  const one = dimms.length ? dimms : rs.length ? rs : nss;
  return { output: one.length ? display(one, human) : '', exitCode: 0 };
}
