// The real inputs mutations start from, read in place: ../shared/data (dmesg logs, procfs
// zoneinfo, util-linux sysfs dumps) and the repository's examples/. Nothing is copied into the
// repository; the sysfs dumps are unpacked into the fuzz context's temporary directory.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FuzzContext } from './harness.js';
import type { TextSeed } from './mutate.js';

/** Every file of a directory matching `pattern`, sorted by name, as seeds. */
export function filesIn(dir: string | null, pattern: RegExp): TextSeed[] {
  if (dir === null || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
}

export function dmesgSeeds(ctx: FuzzContext): TextSeed[] {
  return filesIn(ctx.dataDir && join(ctx.dataDir, 'dmesg'), /\.txt$/);
}

export function zoneinfoSeeds(ctx: FuzzContext): TextSeed[] {
  return filesIn(ctx.dataDir && join(ctx.dataDir, 'procfs'), /zoneinfo\.txt$/);
}

/** The example machine files (examples/*.yaml that are not scenarios). */
export function machineSeeds(ctx: FuzzContext): TextSeed[] {
  return filesIn(join(ctx.root, 'examples'), /^(?!.*\.scenario\.yaml$).*\.yaml$/);
}

/**
 * The example scenarios, their machine path made absolute (examples/...), so that a mutated copy
 * written to a temporary directory boots the same machine.
 */
export function scenarioSeeds(ctx: FuzzContext): TextSeed[] {
  const examples = join(ctx.root, 'examples');
  return filesIn(examples, /\.scenario\.yaml$/).map((s) => ({ ...s, text: s.text.replace(/^machine: *(\S+)/m, (_all, p: string) => `machine: ${p.startsWith('/') ? p : join(examples, p)}`) }));
}

/** One entry of a sysfs tree: a file with its text, a directory, or a symbolic link. */
export type TreeEntry =
  { readonly path: string; readonly kind: 'file'; readonly text: string } | { readonly path: string; readonly kind: 'dir' } | { readonly path: string; readonly kind: 'link'; readonly target: string };

/** A sysfs dump in memory: its entries relative to the root, parents before children. */
export interface SysfsTree {
  readonly name: string;
  readonly entries: readonly TreeEntry[];
}

/** The files lsmem and mmsim read; the rest of a dump (uevent, power/, subsystem) is left out. */
const READ = /(^|\/)(block_size_bytes|auto_online_blocks|state|phys_index|removable|online|phys_device|valid_zones|config|memmap_on_memory)$|\/node\d+$|\/memory\d+$|\/memory$/;

function walk(dir: string, base: string, out: TreeEntry[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const rel = relative(base, p);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) {
      if (READ.test(rel)) out.push({ path: rel, kind: 'link', target: readlinkSync(p) });
    } else if (st.isDirectory()) {
      out.push({ path: rel, kind: 'dir' });
      walk(p, base, out);
    } else if (READ.test(rel)) out.push({ path: rel, kind: 'file', text: readFileSync(p, 'utf8') });
  }
}

/** The util-linux sysfs dumps (lsmem's x86_64-16g and s390-zvm-6g), unpacked under ctx.tmp and read into memory. */
export function sysfsSeeds(ctx: FuzzContext): SysfsTree[] {
  if (ctx.dataDir === null) return [];
  const dir = join(ctx.dataDir, 'util-linux', 'lsmem');
  if (!existsSync(dir)) return [];
  const out: SysfsTree[] = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.tar.bz2'))
    .sort()) {
    const name = f.replace(/\.tar\.bz2$/, '');
    const into = join(ctx.tmp, 'dumps');
    mkdirSync(into, { recursive: true });
    try {
      execFileSync('tar', ['--no-same-owner', '-C', into, '-jxf', join(dir, f)], { stdio: 'ignore' });
    } catch {
      continue; // no tar or bzip2 here: the generated trees still run
    }
    const root = join(into, name);
    if (!existsSync(root)) continue;
    const entries: TreeEntry[] = [];
    walk(root, root, entries);
    out.push({ name, entries });
  }
  return out;
}
