// `npm run fidelity`: every log in ../shared/data/dmesg booted from its own lines, and
// every memory-layout line its manifest lists compared byte for byte, in order.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { dmesgLines } from '../formats/dmesg.js';
import { parseYaml } from '../formats/yaml-common.js';
import { boot, loadMachine } from '../drivers/run.js';
import { exitQuietlyOnEpipe } from './stdout.js';

const manifestSchema = z.object({
  log: z.string(),
  kernel: z.string().nullable(),
  derived: z.array(z.number().int().positive()),
  inputs: z.array(z.object({ line: z.number().int(), why: z.string() })).nullable(),
  left_out: z.array(z.object({ line: z.number().int(), why: z.string() })).nullable(),
});

export type Manifest = z.infer<typeof manifestSchema>;

export interface FidelityResult {
  readonly log: string;
  readonly matched: number;
  readonly total: number;
  /** Manifest lines mmsim did not reproduce in order: "line N: text". */
  readonly missing: string[];
  /** Lines mmsim printed that the log does not have (or has out of order). */
  readonly extra: string[];
  /** Lines listed in the errata file, with their reason, that are not required. */
  readonly errata: string[];
}

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function sharedDataDir(): string {
  return process.env['MMSIM_SHARED_DATA'] ?? join(projectRoot, '..', 'shared', 'data');
}

export function loadManifests(): Manifest[] {
  const dir = join(projectRoot, 'fidelity', 'manifests');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => manifestSchema.parse(parseYaml(join(dir, f), readFileSync(join(dir, f), 'utf8')).data));
}

/** errata.yaml: log lines judged to be transcription errors, with the reason. */
function loadErrata(): Map<string, Map<number, string>> {
  const file = join(projectRoot, 'fidelity', 'errata.yaml');
  const out = new Map<string, Map<number, string>>();
  if (!existsSync(file)) return out;
  const data = z
    .array(z.object({ log: z.string(), line: z.number().int(), why: z.string() }))
    .nullable()
    .parse(parseYaml(file, readFileSync(file, 'utf8')).data);
  for (const e of data ?? []) {
    const m = out.get(e.log) ?? new Map<number, string>();
    m.set(e.line, e.why);
    out.set(e.log, m);
  }
  return out;
}

export function checkLog(m: Manifest, errata: Map<number, string> = new Map()): FidelityResult {
  const path = join(sharedDataDir(), 'dmesg', m.log);
  const logLines = dmesgLines(readFileSync(path, 'utf8'));
  const loaded = loadMachine({ fromDmesg: path, ...(m.kernel !== null ? { kernel: m.kernel } : {}) });
  const out = boot(loaded).log.lines();
  const inputs = new Set((m.inputs ?? []).map((x) => x.line));
  // Walk mmsim's lines against the log in order: each must be found after the previous match.
  const matchedAt = new Set<number>();
  const extra: string[] = [];
  let cursor = 0;
  for (const line of out) {
    let j = cursor;
    while (j < logLines.length && logLines[j]?.text !== line) j++;
    if (j >= logLines.length) {
      extra.push(line);
      continue;
    }
    matchedAt.add(j + 1);
    cursor = j + 1;
  }
  const required = m.derived.filter((n) => !inputs.has(n) && !errata.has(n));
  const missing = required.filter((n) => !matchedAt.has(n)).map((n) => `line ${n}: ${logLines[n - 1]?.text ?? ''}`);
  return {
    log: m.log,
    matched: required.length - missing.length,
    total: required.length,
    missing,
    extra,
    errata: [...errata].map(([n, why]) => `line ${n}: ${why}`),
  };
}

export function runFidelity(write: (s: string) => void): boolean {
  const dir = join(sharedDataDir(), 'dmesg');
  if (!existsSync(dir)) {
    write(`fidelity: ${dir} is missing (an older checkout of shared/?); nothing to compare\n`);
    return false;
  }
  const errata = loadErrata();
  let ok = true;
  for (const m of loadManifests()) {
    const r = checkLog(m, errata.get(m.log));
    const good = r.missing.length === 0 && r.extra.length === 0;
    ok &&= good;
    write(`${good ? 'ok  ' : 'FAIL'} ${r.matched}/${r.total} ${r.log}\n`);
    for (const x of r.missing) write(`       missing ${x}\n`);
    for (const x of r.extra) write(`       extra   ${x}\n`);
    for (const x of r.errata) write(`       errata  ${x}\n`);
    if (!good) write(`       reproduce: node dist/cli/main.js boot --from-dmesg ${join(dir, m.log)}${m.kernel ? ` --kernel ${m.kernel}` : ''} --print dmesg\n`);
  }
  return ok;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  exitQuietlyOnEpipe();
  process.exitCode = runFidelity((s) => process.stdout.write(s)) ? 0 : 1;
}
