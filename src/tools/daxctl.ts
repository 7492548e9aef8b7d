// daxctl v81 over the model machine (daxctl/list.c, daxctl/device.c): list, reconfigure-device,
// online-memory and offline-memory of device-dax instances, driving dax/kmem through kernel tasks;
// options parsed and JSON printed as ndctl's shared util code does (tools/ndctl.ts).
import { EBUSY, offlineBlock, onlineBlock } from '../kernel/memory_hotplug.js';
import type { Machine } from '../kernel/machine.js';
import type { DaxDevice, Namespace, NvdimmRegion } from '../kernel/nd.js';
import { daxKmemProbe, daxKmemRemove, kmemBlocks, nvdimmRegions } from '../kernel/nvdimm.js';
import { jsonc } from './json-c.js';
import { daxJson, display, ERRNO_TEXT, parseOpts, plural, type RunTask, type ToolResult } from './ndctl.js';

function daxDevices(m: Machine): { r: NvdimmRegion; ns: Namespace; d: DaxDevice }[] {
  return nvdimmRegions(m).flatMap((r) => r.namespaces.filter((ns) => ns.dax).map((ns) => ({ r, ns, d: ns.dax as DaxDevice })));
}

/** `daxctl ARGS` over the machine. */
export function daxctl(m: Machine, args: readonly string[], run: RunTask): ToolResult {
  const [cmd, ...rest] = args;
  const fail = (msg: string, code = 1): ToolResult => ({ output: msg + '\n', exitCode: code });
  const pick = (which: string | undefined) => daxDevices(m).filter((x) => which === 'all' || x.d.dev === which);
  switch (cmd) {
    case 'list': {
      const p = parseOpts(rest, { mappings: { short: 'M', value: false }, human: { short: 'u', value: false }, devices: { short: 'D', value: false } });
      if (typeof p === 'string') return fail(`  Error: ${p}`, 129);
      const human = p.opts.has('human');
      // list_display: nothing at all when no device matched.
      const devs = daxDevices(m).map((x) => daxJson(m, x.d, human, p.opts.has('mappings')));
      return { output: devs.length ? display(devs, human) : '', exitCode: 0 };
    }
    case 'reconfigure-device': {
      const p = parseOpts(rest, {
        mode: { short: 'm', value: true },
        'no-online': { short: 'N', value: false },
        'no-movable': { value: false },
        force: { short: 'f', value: false },
        human: { short: 'u', value: false },
      });
      if (typeof p === 'string') return fail(`  Error: ${p}`, 129);
      const mode = p.opts.get('mode');
      if (mode !== 'system-ram' && mode !== 'devdax') return fail(`Error: invalid mode '${String(mode)}': expected system-ram or devdax`);
      const devs = pick(p.rest[0]);
      if (!p.rest[0] || !devs.length) return fail(`error: no device matches '${p.rest[0] ?? ''}'`);
      let done = 0;
      let err = '';
      for (const { r, ns, d } of devs) {
        if (d.mode === mode) {
          done++;
          continue;
        }
        if (mode === 'system-ram') {
          const rc = run(daxKmemProbe(m, ns));
          if (rc !== 0) {
            err += `${d.dev}: failed to reconfigure: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}\n`;
            continue;
          }
          if (!p.opts.has('no-online')) {
            const type = p.opts.has('no-movable') ? 'online' : 'online_movable';
            for (const id of kmemBlocks(m, d)) run(onlineBlock(m, id, type));
          }
        } else {
          // daxctl offlines the memory first; a block that will not go offline keeps the mode.
          const busy = kmemBlocks(m, d).filter((id) => m.blocks.get(id)?.state === 'online' && run(offlineBlock(m, id)) !== 0);
          if (busy.length) {
            err += `${d.dev}: failed to offline memory: ${ERRNO_TEXT[EBUSY]}\n`;
            continue;
          }
          const rc = run(daxKmemRemove(m, r, ns));
          if (rc !== 0) {
            err += `${d.dev}: failed to reconfigure: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}\n`;
            continue;
          }
        }
        done++;
      }
      const human = p.opts.has('human');
      const json = devs.filter((x) => x.d.mode === mode).map((x) => daxJson(m, x.d, human, false));
      return { output: err + (json.length ? jsonc(json) + '\n' : '') + `reconfigured ${plural(done, 'device')}\n`, exitCode: err ? 1 : 0 };
    }
    case 'online-memory':
    case 'offline-memory': {
      const p = parseOpts(rest, { 'no-movable': { value: false } });
      if (typeof p === 'string') return fail(`  Error: ${p}`, 129);
      const devs = pick(p.rest[0]).filter((x) => x.d.mode === 'system-ram');
      let done = 0;
      let err = '';
      for (const { d } of devs) {
        let ok = true;
        for (const id of kmemBlocks(m, d)) {
          const b = m.blocks.get(id);
          if (cmd === 'online-memory' && b?.state === 'offline') ok = run(onlineBlock(m, id, p.opts.has('no-movable') ? 'online' : 'online_movable')) === 0 && ok;
          if (cmd === 'offline-memory' && b?.state === 'online') ok = run(offlineBlock(m, id)) === 0 && ok;
        }
        if (ok) done++;
        else err += `${d.dev}: failed to ${cmd === 'online-memory' ? 'online' : 'offline'} memory: ${ERRNO_TEXT[EBUSY]}\n`;
      }
      return { output: `${err}${cmd === 'online-memory' ? 'onlined' : 'offlined'} memory for ${plural(done, 'device')}\n`, exitCode: err ? 1 : 0 };
    }
    default:
      return fail(`daxctl: '${cmd ?? ''}' is not a daxctl command mmsim models; see: mmsim daxctl --help`, 1);
  }
}
