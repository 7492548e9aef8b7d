// ndctl and daxctl (pmem/ndctl v81) over a model machine: the subcommands that set NVDIMM
// namespaces and device-dax up, with their JSON (field names and order, -u sizes), messages and
// exit codes. ndctl: list [-R -N -D -u -i], create-namespace [-e NS] [-f] [-r REGION] [-m MODE]
// [-M MAP] [-s SIZE] [-a ALIGN], destroy-namespace NS|all [-f], disable-region / enable-region
// REGION|all, init-labels NMEM|all [-f]. daxctl: list [-M -u], reconfigure-device DEV|all
// -m system-ram|devdax [--no-online] [--no-movable], online-memory / offline-memory DEV|all.
// Leaves out sector/BTT mode, namespace and region filters other than by name, and --verbose.
import type { Task } from '../kernel/task.js';
import { type Machine } from '../kernel/machine.js';
import { availableExtents, DEFAULT_PFN_ALIGN, disableNamespace, enableNamespace, kmemBlocks, newNamespaceUuid, nvdimmRegions, pfnGeometry } from '../kernel/nvdimm.js';
import { type DaxDevice, type Namespace, type NvdimmRegion } from '../kernel/nd.js';
import { hex, jsonc, size, type JsonC } from './json-c.js';
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

/** util_namespace_to_json for an enabled namespace. */
function namespaceJson(m: Machine, ns: Namespace, human: boolean): JsonC {
  const usable = ns.size - ns.dataOffset - ns.endTrunc;
  if (ns.mode === 'raw') {
    return { dev: ns.dev, mode: 'raw', size: size(ns.size, human), ...(ns.uuid ? { uuid: ns.uuid } : {}), sector_size: 512, blockdev: ns.blockdev ?? undefined };
  }
  if (ns.mode === 'fsdax') {
    return { dev: ns.dev, mode: 'fsdax', map: ns.map, size: size(usable, human), uuid: ns.uuid ?? undefined, sector_size: 512, align: ns.align, blockdev: ns.blockdev ?? undefined };
  }
  const d = ns.dax;
  return {
    dev: ns.dev,
    mode: 'devdax',
    map: ns.map,
    size: size(usable, human),
    uuid: ns.uuid ?? undefined,
    ...(d ? { daxregion: { id: d.regionId, size: size(usable, human), align: d.align, devices: [daxJson(m, d, human, false)] } } : {}),
    align: ns.align,
  };
}

function regionJson(r: NvdimmRegion, human: boolean, withDimms: boolean, namespaces: JsonC[] | null): JsonC {
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
    ...(withDimms ? { mappings: [{ dimm: r.dimm.dev, offset: hex(0), length: hex(r.size), position: 0 }] } : {}),
    ...(r.labelled ? { iset_id: r.isetId } : {}),
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

function activeNamespaces(r: NvdimmRegion): Namespace[] {
  return r.namespaces.filter((n) => n.enabled && n.size > 0);
}

/** `ndctl ARGS` over the machine. */
export function ndctl(m: Machine, args: readonly string[], run: RunTask): ToolResult {
  const regions = nvdimmRegions(m);
  const [cmd, ...rest] = args;
  let out = '';
  const fail = (msg: string, code = 1): ToolResult => ({ output: out + msg + '\n', exitCode: code });
  switch (cmd) {
    case 'list': {
      const p = parseOpts(rest, {
        regions: { short: 'R', value: false },
        namespaces: { short: 'N', value: false },
        dimms: { short: 'D', value: false },
        human: { short: 'u', value: false },
        idle: { short: 'i', value: false },
      });
      if (typeof p === 'string') return fail(`  Error: ${p}`, 129);
      const human = p.opts.has('human');
      const wantR = p.opts.has('regions');
      const wantD = p.opts.has('dimms');
      // With no list flag ndctl lists namespaces.
      const wantN = p.opts.has('namespaces') || (!wantR && !wantD);
      const nsOf = (r: NvdimmRegion): JsonC[] => activeNamespaces(r).map((n) => namespaceJson(m, n, human));
      // list_display: the arrays that got an entry; more than one kind makes a platform object
      // (namespaces nest in their regions when regions are listed), else one array (one
      // element alone with -u).
      const dimms = wantD ? regions.map((r) => ({ dev: r.dimm.dev, id: r.dimm.id, handle: r.dimm.handle, phys_id: r.dimm.physId })) : [];
      const rs = wantR ? regions.map((r) => regionJson(r, human, wantD, wantN ? nsOf(r) : null)) : [];
      const nss = wantN ? regions.flatMap(nsOf) : [];
      const kinds = [dimms, rs, nss].filter((a) => a.length).length;
      if (kinds > 1) {
        const platform: Record<string, JsonC> = {};
        if (dimms.length) platform['dimms'] = dimms;
        if (rs.length) platform['regions'] = rs;
        else if (nss.length) platform['namespaces'] = nss;
        return { output: jsonc(platform) + '\n', exitCode: 0 };
      }
      const one = dimms.length ? dimms : rs.length ? rs : nss;
      return { output: one.length ? display(one, human) : '', exitCode: 0 };
    }
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
      return { output: jsonc(namespaceJson(m, ns, true)) + '\n', exitCode: 0 };
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
