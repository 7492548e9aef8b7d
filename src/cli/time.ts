// `mmsim time --preset P --design D [--threads N] [--align BYTES] [--json] [--svg FILE]`: the
// time driver over a published machine; prints total, per-node and per-phase times, lock hold
// and wait, and the kernel's timing lines from the simulated clock.
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.js';
import { isDesignFile, loadDesignFile, resolveDesign, type Design } from '../designs/designs.js';
import { PRESETS, presetByName } from '../drivers/presets.js';
import { timelineSvg, timeRun, timeScenario, type TimeResult } from '../drivers/time.js';
import { memparse } from '../formats/size.js';

export interface TimeCliOptions {
  readonly preset?: string;
  readonly design: string;
  readonly threads?: string;
  readonly align?: string;
  readonly json?: boolean;
  readonly svg?: string;
  readonly poison?: boolean;
}

export async function designFor(arg: string): Promise<{ design: Design | string; user: Design[] }> {
  if (isDesignFile(arg)) {
    const d = await loadDesignFile(arg);
    return { design: d, user: [d] };
  }
  try {
    resolveDesign(arg);
  } catch {
    throw new InputError(`--design ${arg}: expected a design (mmsim designs lists them), a kernel release such as 6.1, or a design file`);
  }
  return { design: arg, user: [] };
}

export async function timeFor(presetName: string, designArg: string, o: { threads?: string; align?: string; poison?: boolean }): Promise<TimeResult> {
  const preset = presetByName(presetName);
  if (!preset) throw new InputError(`time: unknown preset ${presetName}; the presets are ${PRESETS.map((p) => p.name).join(', ')}`);
  const { design, user } = await designFor(designArg);
  const threads = o.threads === undefined ? undefined : Number(o.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new InputError(`--threads ${o.threads}: expected a whole number of threads such as 13`);
  let alignBytes: number | undefined;
  if (o.align !== undefined) {
    const v = memparse(o.align);
    if (v === null || v < 4096) throw new InputError(`--align ${o.align}: expected a size such as 2M or 1G`);
    alignBytes = v;
  }
  return timeRun(preset, design, { ...(threads ? { threads } : {}), ...(alignBytes ? { alignBytes } : {}), ...(o.poison ? { poison: true } : {}), userDesigns: user });
}

/** A scenario file's concurrent block on a preset's cost model (default duyck-2018's). */
async function timeScenarioFile(file: string, presetName: string, o: TimeCliOptions): Promise<TimeResult> {
  const preset = presetByName(presetName);
  if (!preset) throw new InputError(`time: unknown preset ${presetName}; the presets are ${PRESETS.map((p) => p.name).join(', ')}`);
  const { design, user } = await designFor(o.design);
  return timeScenario(file, preset, design, { userDesigns: user, ...(o.poison ? { poison: true } : {}) });
}

/** The errno code of a failed fs call, for a message. */
function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'error';
}

/** --svg FILE must be writable where it is: checked before the run, not after it. */
function checkSvgPath(file: string): void {
  const dir = dirname(file);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new InputError(`--svg ${file}: cannot use the directory ${dir} (${codeOf(e)}); create it first or give a file in an existing directory`);
  }
  if (!isDir) throw new InputError(`--svg ${file}: ${dir} is not a directory; give a file in an existing directory`);
  try {
    if (statSync(file).isDirectory()) throw new InputError(`--svg ${file}: a directory; give a file name such as ${file.replace(/\/*$/, '')}/timeline.svg`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // Not there yet: it will be created.
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new InputError(`--svg ${file}: cannot write in ${dir} (${codeOf(e)}); give a file in a writable directory`);
  }
}

export async function timeCommand(scenario: string | undefined, o: TimeCliOptions, out: (s: string) => void): Promise<void> {
  const file = scenario && /\.ya?ml$/.test(scenario) ? scenario : null;
  const presetName = o.preset ?? (file ? 'duyck-2018' : scenario);
  if (!presetName) throw new InputError(`time: give --preset P (${PRESETS.map((p) => p.name).join(', ')}) or a scenario file`);
  if (o.svg) checkSvgPath(o.svg);
  const r = file ? await timeScenarioFile(file, presetName, o) : await timeFor(presetName, o.design, o);
  if (o.svg) {
    try {
      writeFileSync(o.svg, timelineSvg([r]));
    } catch (e) {
      throw new InputError(`--svg ${o.svg}: cannot write (${codeOf(e)}); give a writable file`);
    }
  }
  if (o.json) {
    out(
      JSON.stringify(
        { design: r.design, preset: r.preset, total_ms: r.totalMs, per_node_ms: r.perNodeMs, lock_wait_ms: r.lockWaitMs, lock_hold_ms: r.lockHoldMs, phases: r.phases, dmesg: r.dmesg },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  out(`${r.preset}, design ${r.design}: ${(r.totalMs / 1000).toFixed(3)} s\n`);
  r.perNodeMs.forEach((v, nid) => out(`  node ${nid}: ${(v / 1000).toFixed(3)} s\n`));
  for (const [k, v] of Object.entries(r.phases)) out(`  phase ${k}: ${(v / 1000).toFixed(3)} s of CPU time\n`);
  const brief: string[] = [];
  for (const [k, v] of Object.entries(r.lockHoldMs)) {
    if (v >= 1) out(`  ${k} held ${(v / 1000).toFixed(3)} s\n`);
    else brief.push(k);
  }
  if (brief.length) out(`  held under 1 ms: ${lockNamesByNode(brief).join(', ')}\n`);
  out(`  lock wait ${(r.lockWaitMs / 1000).toFixed(3)} s\n`);
  for (const l of r.dmesg) out(`  dmesg: ${l}\n`);
  if (o.svg) out(`  timeline: ${o.svg}\n`);
}

/**
 * Lock names with the nodes folded: "node 0 zone Device span_seqlock" and the same for nodes 1-3
 * become "node 0-3 zone Device span_seqlock" (nodes listed as ranges, in the order first seen).
 */
export function lockNamesByNode(names: readonly string[]): string[] {
  const byRest = new Map<string, number[]>();
  const out: (string | { rest: string })[] = [];
  for (const n of names) {
    const m = /^node (\d+) (.+)$/.exec(n);
    if (!m) {
      out.push(n);
      continue;
    }
    const rest = m[2] as string;
    const nids = byRest.get(rest);
    if (nids) nids.push(Number(m[1]));
    else {
      byRest.set(rest, [Number(m[1])]);
      out.push({ rest });
    }
  }
  const ranges = (nids: number[]): string => {
    const sorted = [...new Set(nids)].sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < sorted.length;) {
      let j = i;
      while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
      parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
      i = j + 1;
    }
    return parts.join(',');
  };
  return out.map((o) => (typeof o === 'string' ? o : `node ${ranges(byRest.get(o.rest) ?? [])} ${o.rest}`));
}
