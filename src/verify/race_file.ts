// `mmsim verify --race FILE.scenario.yaml --kernel IMAGE`: a scenario file's concurrent block as
// concurrent guest loops (verify/race_loops.ts) on a real kernel under QEMU, against mmsim
// explore's verdict for the same file, kernel release and config. The guest is the scenario's
// machine as `verify --qemu` builds it (verify.ts qemuArgs); the steps before the block run once,
// in order, through the same guest steps (guest_steps.ts); the loops run in the guest, and the
// host answers their requests to plug and unplug pc-dimms over QMP while they run.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { loadMachineYaml } from '../formats/machine-yaml.js';
import { expandBlocks, type ScenarioStep } from '../formats/scenario.js';
import { bootMachineFile, prepareScenario, readText } from '../drivers/run.js';
import { checkImage, haveQemu, judge, modelVerdict, readRaceConsole, type RaceOptions, type RaceResult } from './race.js';
import { actionText, raceLoops, raceLoopsShell, type RaceDimm, type RaceLoop } from './race_loops.js';
import { GuestSteps } from './guest_steps.js';
import { buildBuiltinInitrd } from './setup.js';
import { machineCmdline, qemuArgs } from './verify.js';
import { Vm } from './vm.js';

/** Whether --race names a scenario file (a path, or a .yaml name) rather than a built-in scenario. */
export function isScenarioFile(name: string): boolean {
  return /\.ya?ml$/.test(name) || name.includes('/');
}

function requireFile(file: string): void {
  if (!existsSync(file))
    throw new InputError(`verify --race ${file}: no such file; give a scenario file with a concurrent block (e.g. examples/concurrent-online-remove.scenario.yaml) or a built-in scenario`);
}

/** A scenario file's loops, before anything starts: the file read, its block found and translated (errors name file:line:col). */
export function scenarioRaceLoops(file: string, design: string): { loops: RaceLoop[]; steps: readonly ScenarioStep[]; at: number; machineFile: string; blockBytes: number; cmdline: string } {
  requireFile(file);
  const { scenario, where, machineFile } = prepareScenario(file);
  const at = scenario.steps.findIndex((st) => 'concurrent' in st);
  if (at < 0) throw new InputError(`${file}: no concurrent block; verify --race runs a scenario's \`concurrent: [ ... ]\` step as guest loops`);
  const after = scenario.steps.findIndex((st, i) => i > at && !('expect' in st) && !('print' in st));
  if (after >= 0) throw new InputError(`${where(after)}: verify --race stops at the concurrent block, as explore does; move this step before it`);
  // The model's memory block size for this release (the guest's is checked against it after boot).
  const blockBytes = bootMachineFile(machineFile, design).blockBytes;
  return { loops: raceLoops(scenario.steps, at, blockBytes, where, where.op), steps: scenario.steps, at, machineFile, blockBytes, cmdline: scenario.cmdline };
}

/** Wait until QEMU has no device `id` under /machine/peripheral (its eject finished). */
async function peripheralGone(vm: Vm, id: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const list = (await vm.qmp.cmd('qom-list', { path: '/machine/peripheral' })) as { name: string }[];
    if (!list.some((p) => p.name === id)) return;
    if (Date.now() > end) throw new Error(`${id} still plugged ${timeoutMs / 1000} s after its device_del`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A step written with errno: the kernel is to refuse it (the guest's notes say it did). */
function refusalExpected(st: ScenarioStep): boolean {
  const op = 'add' in st ? st.add : 'remove' in st ? st.remove : 'online' in st ? st.online : 'offline' in st ? st.offline : 'write' in st ? st.write : null;
  return op?.errno !== undefined;
}

/** The exit code a tool step expects. */
function toolExit(st: ScenarioStep): number {
  return 'ndctl' in st ? st.ndctl.exit : 'daxctl' in st ? st.daxctl.exit : 'chmem' in st ? st.chmem.exit : 0;
}

/** Whether the steps before the block or the loops plug a pc-dimm (a remove of one needs its add first). */
const needsDimmHotplug = (steps: readonly ScenarioStep[], loops: readonly RaceLoop[]): boolean =>
  steps.some((st) => 'add' in st && st.add.device === 'dimm') || loops.some((l) => [...l.forward, ...l.inverse].some((a) => a.kind !== 'state'));

/** Run a scenario file's concurrent block as guest loops and compare with explore (the result has the built-in scenarios' shape). */
export async function verifyRaceFile(o: RaceOptions, log: (s: string) => void): Promise<RaceResult> {
  const file = o.scenario;
  if (o.sequential || o.zoneSteps || o.guard === false || o.walkers?.length)
    throw new InputError('verify --race FILE: --sequential, --zone-steps, --no-guard and --walker go with the built-in scenarios');
  if (!Number.isFinite(o.seconds) || o.seconds <= 0) throw new InputError(`verify --race: --seconds ${o.seconds}: expected a positive number of seconds such as 30`);
  requireFile(file);
  const { release } = checkImage(o.kernel);
  const design = release.replace(/\+$/, '');
  const { loops, steps, at, machineFile, blockBytes, cmdline } = scenarioRaceLoops(file, design);
  if (!haveQemu()) throw new InputError('verify --race: no qemu-system-x86_64 on PATH; install qemu-system-x86 (or run mmsim verify --setup as root)');
  // The model first: explore of the same file under the image's release and --config.
  const model = modelVerdict(file, release, o.config, false);
  const { spec } = loadMachineYaml(machineFile, readText(machineFile));
  const flat = steps.flatMap((st) => ('concurrent' in st ? st.concurrent : [st]));
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-race-'));
  const t0 = performance.now();
  let vm: Vm | null = null;
  try {
    const initrd = join(dir, 'initrd.cpio.gz');
    buildBuiltinInitrd(initrd);
    const append = ['oops=panic', machineCmdline(machineFile), cmdline, o.kernelArgs ?? ''].filter(Boolean).join(' ');
    log(`booting ${release} (${o.kernel}${o.kernelArgs ? `, ${o.kernelArgs}` : ''}) under QEMU (TCG) as ${machineFile}\n`);
    vm = await Vm.start(dir, qemuArgs(spec, flat, dir), { vmlinuz: o.kernel, initrd }, append, 180_000);
    const v = vm;
    const bootSeconds = (performance.now() - t0) / 1000;
    const sh = async (cmd: string): Promise<{ out: string; rc: number }> => v.agent.run(cmd, 300_000);
    const image = `Linux ${release} (${o.kernel})`;
    if (needsDimmHotplug(steps.slice(0, at), loops) && (await sh('[ -d /sys/firmware/acpi/hotplug/memory ]')).rc !== 0)
      throw new InputError(
        `verify --race: ${image} has no ACPI memory hotplug (no /sys/firmware/acpi/hotplug/memory: built without CONFIG_ACPI_HOTPLUG_MEMORY), so QEMU's pc-dimms cannot be plugged or unplugged in it; rebuild it with CONFIG_ACPI_HOTPLUG_MEMORY=y and CONFIG_MEMORY_HOTREMOVE=y`,
      );
    const guestBlock = parseInt((await sh('cat /sys/devices/system/memory/block_size_bytes')).out.trim(), 16);
    if (guestBlock !== blockBytes)
      throw new InputError(`verify --race: ${image} has memory blocks of ${guestBlock} bytes, the model's ${release} of ${blockBytes}: the loops' block ids would not match`);
    const guestSteps = new GuestSteps({
      vm: v,
      sh,
      dir,
      stepMs: 120_000,
      blockBytes: () => blockBytes,
      nextRegion: () => spec.pmem.length + steps.slice(0, at).filter((st) => 'add' in st && st.add.device === 'nvdimm').length,
      blockIds: (ranges) => expandBlocks(ranges),
      steps,
    });
    // The steps before the block, once, in order, as verify --qemu runs them.
    const { where } = prepareScenario(file);
    for (const [i, st] of steps.slice(0, at).entries()) {
      const r = await guestSteps.run(st, where(i));
      const why = r === null || refusalExpected(st) ? null : (r.notes[0] ?? (r.rc !== undefined && r.rc !== toolExit(st) ? `exit ${r.rc}` : null));
      if (why) throw new InputError(`${where(i)}: verify --race: this step did not go as asked on ${image} (${why}), so the loops would not start from the scenario's state`);
    }
    // A re-added dimm must come back offline, as the steps' own add left it (they online it where they mean to).
    if (loops.some((l) => l.inverse.some((a) => a.kind === 'plug')) && (await sh('grep -qv offline /sys/devices/system/memory/auto_online_blocks')).rc === 0)
      throw new InputError(
        `verify --race: ${image} onlines hot-added memory itself (auto_online_blocks is not offline), so a loop's device_add would not give back the offline blocks its steps started from; boot it with memhp_default_state=offline`,
      );
    // The host's half of the loops: device_del / device_add when a loop asks, one QMP command at a time.
    const dimmAt = new Map<number, RaceDimm>();
    for (const l of loops) for (const a of [...l.forward, ...l.inverse]) if (a.kind !== 'state') dimmAt.set(a.dimm.start, a.dimm);
    const backends = new Set(guestSteps.dimms.values());
    const unplugged = new Set<string>();
    const failures: string[] = [];
    let chain: Promise<void> = Promise.resolve();
    const request = (kind: string, start: number): void => {
      chain = chain
        .then(async () => {
          const d = dimmAt.get(start);
          if (!d) throw new Error(`no pc-dimm at 0x${start.toString(16)}`);
          let id = guestSteps.dimms.get(start);
          if (kind === 'unplug') {
            if (!id) throw new Error(`device_del: no pc-dimm plugged at 0x${start.toString(16)}`);
            await v.qmp.cmd('device_del', { id });
            unplugged.add(id);
            return;
          }
          id ??= guestSteps.newId('dimm');
          // The last device_del of this id must be over before it is added again: the id gone from
          // QEMU's /machine/peripheral (waiting for DEVICE_DELETED instead let a device_add through
          // while the id was still there: "Duplicate device ID" at the third replug on Debian's 6.1).
          if (unplugged.has(id)) {
            await peripheralGone(v, id, 60_000);
            unplugged.delete(id);
          }
          await guestSteps.qmpPlugDimm(id, d.node, d.start, d.size, !backends.has(id));
          backends.add(id);
        })
        .catch((e: unknown) => {
          if (!v.exited) failures.push(`host ${kind} 0x${start.toString(16)}: ${e instanceof Error ? e.message : String(e)}`);
        });
    };
    const cycles: Record<string, number> = Object.fromEntries(loops.map((l) => [l.name, 0]));
    const start = 'mmsim-race: loops start';
    const bound = o.cycles ?? null;
    log(`loops (${loops.map((l) => `${l.name} ${l.op}`).join(', ')}) for ${o.seconds} s${bound === null ? '' : ` or ${bound} cycles`}\n`);
    const c = await v.agent.runUntilGone(`echo "${start}" > /dev/kmsg; ${raceLoopsShell(loops, o.seconds, bound)}; echo "mmsim-race: loops done" > /dev/kmsg`, (o.seconds + 300) * 1000, (text) => {
      for (const m of text.matchAll(/@@CYCLE (\w+) (\d+)/g)) cycles[m[1] as string] = Number(m[2]);
      for (const m of text.matchAll(/@@REQ \w+ (plug|unplug) (0x[0-9a-f]+)/g)) request(m[1] as string, Number(m[2]));
      for (const m of text.matchAll(/@@FAIL (.*)/g)) failures.push((m[1] as string).trim());
    });
    const cyclesToFirst = c.gone ? { ...cycles } : null;
    if (c.timedOut) throw new InputError(`verify --race: the guest loops did not end within ${o.seconds + 300} s of their ${o.seconds} s bound`);
    if (c.gone) for (let i = 0; i < 50 && !v.exited; i++) await new Promise((r) => setTimeout(r, 100));
    else await chain;
    const text = existsSync(join(dir, 'console.log')) ? readFileSync(join(dir, 'console.log'), 'utf8') : '';
    if (o.keep) log(`kept ${dir}\n`);
    const { violations, times } = readRaceConsole(text, start, t0, bootSeconds);
    const total = Object.values(cycles).reduce((s, n) => s + n, 0);
    const verdict = judge(
      violations.map((x) => x.invariant),
      model,
      `${total} cycles (${o.seconds} s bound${o.cycles !== undefined ? `, ${o.cycles} cycles a loop` : ''})`,
    );
    return {
      scenario: file,
      kernel: o.kernel,
      release,
      ...(o.kernelArgs ? { kernelArgs: o.kernelArgs } : {}),
      config: o.config,
      mode: 'concurrent',
      loops: loops.map((l) => ({ name: l.name, at: l.at, op: l.op, forward: l.forward.map(actionText).join(', '), inverse: l.inverse.map(actionText).join(', ') })),
      bound: { seconds: o.seconds, cycles: o.cycles ?? null },
      namespaces: [],
      real: {
        violations,
        ...times,
        cyclesToFirst: violations.length ? cyclesToFirst : null,
        cycles,
        zoneSteps: [],
        ...(failures.length ? { failures } : {}),
      },
      model,
      ...verdict,
    };
  } finally {
    if (vm) await vm.close();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
