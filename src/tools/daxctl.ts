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
      // What goes to stderr, in device order; failed: a device's own error (exit 1).
      let stderr = '';
      let failed = false;
      // do_xaction_device's saved_rc where a device's reconfig returned an errno (set by the policy check only).
      let savedRc = 0;
      for (const { r, ns, d } of devs) {
        // reconfig_mode_system_ram (daxctl/device.c v81), before anything else: daxctl onlines the
        // memory itself (or not at all) and refuses, unless --force, when
        // daxctl_dev_will_auto_online_memory finds auto_online_blocks starting with "online"
        // (online, online_kernel, online_movable).
        if (mode === 'system-ram' && (p.opts.has('no-online') || !p.opts.has('no-movable')) && !p.opts.has('force') && m.boot.autoOnlineBlocks.startsWith('online')) {
          stderr += `${d.dev}: error: kernel policy will auto-online memory, aborting\n`;
          savedRc = -EBUSY;
          continue;
        }
        if (d.mode === mode) {
          // reconfig_mode_devdax -> disable_system_ram_device: no memory to give back, a message
          // and rc 1, which do_reconfig lists and counts like a change.
          if (mode === 'devdax') stderr += `${d.dev} was already in devdax mode\n`;
          done++;
          continue;
        }
        if (mode === 'system-ram') {
          const rc = run(daxKmemProbe(m, ns));
          if (rc !== 0) {
            stderr += `${d.dev}: failed to reconfigure: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}\n`;
            failed = true;
            continue;
          }
          if (!p.opts.has('no-online')) {
            // dev_online_memory (daxctl/device.c v81): blocks something else onlined first (the
            // kernel's auto-online policy, reached here only with --force) draw the race warning.
            const ids = kmemBlocks(m, d);
            const numOn = ids.filter((id) => m.blocks.get(id)?.state === 'online').length;
            if (numOn) stderr += `${d.dev}:\n${DAX_RACE_WARNING}`;
            if (numOn === ids.length) stderr += `${d.dev}: all memory sections (${numOn}) already online\n`;
            else {
              if (numOn > 0) stderr += `${d.dev}: ${numOn} memory section${numOn === 1 ? '' : 's'} already online\n`;
              const type = p.opts.has('no-movable') ? 'online' : 'online_movable';
              for (const id of ids) if (m.blocks.get(id)?.state !== 'online') run(onlineBlock(m, id, type));
            }
          }
        } else {
          // daxctl offlines the memory first; a block that will not go offline keeps the mode.
          const busy = kmemBlocks(m, d).filter((id) => m.blocks.get(id)?.state === 'online' && run(offlineBlock(m, id)) !== 0);
          if (busy.length) {
            stderr += `${d.dev}: failed to offline memory: ${ERRNO_TEXT[EBUSY]}\n`;
            failed = true;
            continue;
          }
          const rc = run(daxKmemRemove(m, r, ns));
          if (rc !== 0) {
            stderr += `${d.dev}: failed to reconfigure: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}\n`;
            failed = true;
            continue;
          }
        }
        done++;
      }
      const human = p.opts.has('human');
      const json = devs.filter((x) => x.d.mode === mode).map((x) => daxJson(m, x.d, human, false));
      // cmd_reconfig_device: "error reconfiguring devices: <strerror>" when the saved rc is an errno; run_builtin exits with rc & 0xff.
      const summary = (savedRc < 0 ? `error reconfiguring devices: ${ERRNO_TEXT[-savedRc] ?? `errno ${-savedRc}`}\n` : '') + `reconfigured ${plural(done, 'device')}\n`;
      return { output: stderr + (json.length ? jsonc(json) + '\n' : '') + summary, exitCode: savedRc < 0 ? savedRc & 0xff : failed ? 1 : 0 };
    }
    case 'online-memory':
    case 'offline-memory':
      return xline(m, cmd === 'online-memory', rest, run);
    default:
      return fail(`daxctl: '${cmd ?? ''}' is not a daxctl command mmsim models; see: mmsim daxctl --help`, 1);
  }
}

/** dev_online_memory's warning (daxctl/device.c v81) when some of a device's blocks were already online. */
const DAX_RACE_WARNING =
  '  WARNING: detected a race while onlining memory\n' +
  '  Some memory may not be in the expected zone. It is\n' +
  '  recommended to disable any other onlining mechanisms,\n' +
  '  and retry. If onlining is to be left to other agents,\n' +
  '  use the --no-online option to suppress this warning\n';

/** ENXIO: do_xaction_device's rc when no device matched, and do_xline's for a devdax-mode device. */
const ENXIO = 6;

/**
 * daxctl online-memory / offline-memory DEVICE (daxctl/device.c v81, cmd_online_memory ->
 * do_xaction_device -> do_xline -> dev_online_memory / dev_offline_memory): rc starts at -ENXIO
 * and each matching device sets it, so a device that does not exist (or "all" with none) ends
 * in "error onlining memory: No such device or address", "onlined memory for 0 devices" and exit
 * (-ENXIO) & 0xff = 250 (util/main.c run_builtin). A devdax-mode device: "memory operations are
 * not applicable in devdax mode" (-ENXIO). All blocks already in the state asked for: a message
 * and rc 1, the device not counted; dev_online_memory warns of a race when any block was online.
 */
function xline(m: Machine, online: boolean, rest: readonly string[], run: RunTask): ToolResult {
  const p = parseOpts(rest, online ? { 'no-movable': { value: false } } : {});
  if (typeof p === 'string') return { output: `  Error: ${p}\n`, exitCode: 129 };
  const device = p.rest[0];
  // parse_device_options: usage_with_options exits 129 (the usage text is not reproduced).
  if (device === undefined) return { output: `specify a device to ${online ? 'online' : 'offline'} memory for, or "all"\n`, exitCode: 129 };
  if (p.rest.length > 1)
    return {
      output: p.rest
        .slice(1)
        .map((x) => `unknown extra parameter "${x}"\n`)
        .join(''),
      exitCode: 129,
    };
  let rc = -ENXIO;
  let processed = 0;
  let out = '';
  const what = (n: number): string => `${n} memory section${n === 1 ? '' : 's'}`;
  for (const { d } of daxDevices(m).filter((x) => device === 'all' || x.d.dev === device)) {
    if (d.mode !== 'system-ram') {
      out += `${d.dev}: memory operations are not applicable in devdax mode\n`;
      rc = -ENXIO;
      continue;
    }
    const ids = kmemBlocks(m, d);
    const numOn = ids.filter((id) => m.blocks.get(id)?.state === 'online').length;
    if (online) {
      if (numOn) {
        out +=
          `${d.dev}:\n  WARNING: detected a race while onlining memory\n  Some memory may not be in the expected zone. It is\n` +
          '  recommended to disable any other onlining mechanisms,\n  and retry. If onlining is to be left to other agents,\n  use the --no-online option to suppress this warning\n';
      }
      if (numOn === ids.length) {
        out += `${d.dev}: all memory sections (${numOn}) already online\n`;
        rc = 1;
        continue;
      }
      if (numOn) out += `${d.dev}: ${what(numOn)} already online\n`;
    } else {
      const numOff = ids.length - numOn;
      if (numOff === ids.length) {
        out += `${d.dev}: all memory sections (${numOff}) already offline\n`;
        rc = 1;
        continue;
      }
      if (numOff) out += `${d.dev}: ${what(numOff)} already offline\n`;
    }
    let ok = true;
    for (const id of ids) {
      const b = m.blocks.get(id);
      if (online && b?.state === 'offline') ok = run(onlineBlock(m, id, p.opts.has('no-movable') ? 'online' : 'online_movable')) === 0 && ok;
      if (!online && b?.state === 'online') ok = run(offlineBlock(m, id)) === 0 && ok;
    }
    if (!ok) {
      out += `${d.dev}: failed to ${online ? 'online' : 'offline'} memory: ${ERRNO_TEXT[EBUSY]}\n`;
      rc = -EBUSY;
      continue;
    }
    rc = 0;
    processed++;
  }
  if (rc < 0) out += `error ${online ? 'onlining' : 'offlining'} memory: ${ERRNO_TEXT[-rc] ?? `errno ${-rc}`}\n`;
  out += `${online ? 'onlined' : 'offlined'} memory for ${plural(processed, 'device')}\n`;
  return { output: out, exitCode: rc & 0xff };
}
