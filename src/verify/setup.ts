// `mmsim verify --setup`: what a fresh Debian 12 machine needs to run a real kernel under QEMU —
// Debian's qemu-system-x86, busybox-static, kmod, ndctl and daxctl; two kernels, each resolved at
// run time, never pinned (Debian retires old ABIs): 6.1, the package behind linux-image-cloud-amd64,
// and 6.12, the newest linux-image-6.12.<n>+deb12-cloud-amd64-unsigned (bookworm-security);
// downloaded and unpacked (never installed), with the debug vmlinux of the -dbg package
// (zstd-compressed) and the build's config; and per kernel an initramfs with busybox, the hotplug /
// nvdimm / dax / virtio-mem / fw_cfg modules in dependency order, ndctl, daxctl and chmem with their
// libraries, the agent. What is cached for the resolved release is not fetched again.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { GUEST_AGENT, GUEST_INIT, GUEST_MODULES, GUEST_REPORT } from './guest.js';

/** Where set-up keeps the kernels and initramfs: $MMSIM_CACHE or ~/.cache/mmsim/verify. */
export function cacheDir(): string {
  return process.env['MMSIM_CACHE'] ?? join(homedir(), '.cache', 'mmsim', 'verify');
}

/** The kernel series set-up fetches: Debian bookworm's own 6.1 and its 6.12 from bookworm-security. */
export type KernelSeries = '6.1' | '6.12';
export const KERNEL_SERIES: readonly KernelSeries[] = ['6.1', '6.12'];

/** `v` when it names a series (exactly 6.1 or 6.12), else undefined. */
export function asKernelSeries(v: string): KernelSeries | undefined {
  return KERNEL_SERIES.find((s) => s === v);
}

export interface GuestKernel {
  /** The exact release (uname -r) of the kernel set up. */
  readonly release: string;
  readonly vmlinuz: string;
  readonly initrd: string;
  /** The debug vmlinux of the release's -dbg package, zstd-compressed (vmlinux.zst), or null. */
  readonly vmlinux: string | null;
  /** The build's config (the package's /boot/config-<release>), or null. */
  readonly config: string | null;
}

/** The cache file that names a series' release: `release` for 6.1 (as before 6.12 came), `release-6.12`. */
function releaseFile(dir: string, series: KernelSeries): string {
  return join(dir, series === '6.1' ? 'release' : `release-${series}`);
}

/** The kernel and initramfs set-up made for a series, or null. */
export function installedGuest(dir = cacheDir(), series: KernelSeries = '6.1'): GuestKernel | null {
  const f = releaseFile(dir, series);
  if (!existsSync(f)) return null;
  const release = readFileSync(f, 'utf8').trim();
  const at = (name: string): string | null => (existsSync(join(dir, release, name)) ? join(dir, release, name) : null);
  const vmlinuz = at('vmlinuz');
  const initrd = at('initrd.cpio.gz');
  return vmlinuz && initrd ? { release, vmlinuz, initrd, vmlinux: at('vmlinux.zst'), config: at('config') } : null;
}

/**
 * The newest `linux-image-6.12.<n>+deb12-cloud-amd64-unsigned` among package names (one a line,
 * as `apt-cache search --names-only` prints them, descriptions after " - "), by n as a number
 * (6.12.118 is newer than 6.12.99); null when there is none.
 */
export function newest612(names: string): string | null {
  let best: { pkg: string; n: number } | null = null;
  for (const line of names.split('\n')) {
    const pkg = line.split(' ')[0] ?? '';
    const m = /^linux-image-6\.12\.(\d+)\+deb12-cloud-amd64-unsigned$/.exec(pkg);
    if (m && (best === null || Number(m[1]) > best.n)) best = { pkg, n: Number(m[1]) };
  }
  return best?.pkg ?? null;
}

/** The image package and release of a series, as apt's lists have them today. */
function resolveKernel(series: KernelSeries): { pkg: string; release: string } {
  let pkg: string | null;
  if (series === '6.1') {
    // The ABI package behind the meta package, whatever Debian ships today.
    pkg = /Depends: (linux-image-\d[^\s]*)/.exec(sh('apt-cache', ['depends', 'linux-image-cloud-amd64']))?.[1] ?? null;
    if (!pkg) throw new InputError('verify --setup: apt-cache found no linux-image-<abi> behind linux-image-cloud-amd64; run apt-get update');
  } else {
    pkg = newest612(sh('apt-cache', ['search', '--names-only', '^linux-image-6\\.12\\.[0-9]+\\+deb12-cloud-amd64-unsigned$']));
    if (!pkg) throw new InputError('verify --setup: apt-cache knows no linux-image-6.12.<n>+deb12-cloud-amd64-unsigned; add bookworm-security to the apt sources and run apt-get update');
  }
  return { pkg, release: pkg.replace(/^linux-image-/, '').replace(/-unsigned$/, '') };
}

function sh(cmd: string, args: readonly string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) throw new InputError(`verify --setup: cannot run ${cmd} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install it or run on Debian 12`);
  if (r.status !== 0) throw new InputError(`verify --setup: ${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? ''}`);
  return r.stdout;
}

const HOST_TOOLS = ['qemu-system-x86_64', 'busybox', 'ndctl', 'daxctl', 'chmem', 'modprobe', 'depmod', 'cpio', 'dpkg-deb', 'apt-get', 'tar', 'zstd', 'crash'];

/** verify --memmap's reader runs on Debian's python3-drgn with the system python3. */
function haveDrgn(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import drgn'], { encoding: 'utf8' }).status === 0;
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

/** What the initramfs is built from besides the kernel's modules: a cached one built from other parts is rebuilt. */
export const GUEST_STAMP = createHash('sha256')
  .update([GUEST_INIT, GUEST_AGENT, GUEST_REPORT, GUEST_MODULES.join(' ')].join('\0'))
  .digest('hex')
  .slice(0, 16);

/** Bytes set-up may need on the cache's file system while it fetches one kernel: the -dbg package, its vmlinux unpacked, the compressed copy. */
export const SETUP_BYTES_PER_KERNEL = 1.2e9;

/** Free bytes for an unprivileged writer on the file system of `path` (an existing directory). */
function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** Write `path` whole or not at all: a temporary file beside it, renamed over it. */
function writeAtomic(path: string, data: Buffer | string): void {
  writeFileSync(path + '.tmp', data);
  renameSync(path + '.tmp', path);
}

/**
 * Install the host packages (as root) and, for each series, fetch what is not cached for its
 * current release: the image (vmlinuz, config, initramfs) and the -dbg package's vmlinux.
 */
export function verifySetup(log: (s: string) => void, dir = cacheDir(), series: readonly KernelSeries[] = KERNEL_SERIES): GuestKernel[] {
  if (HOST_TOOLS.some((t) => !have(t)) || !haveDrgn()) {
    const missing = [...HOST_TOOLS.filter((t) => !have(t)), ...(haveDrgn() ? [] : ['python3-drgn'])];
    if (process.getuid?.() !== 0)
      throw new InputError(
        `verify --setup: missing ${missing.join(', ')}; run as root (it installs Debian packages) or install qemu-system-x86 busybox-static cpio kmod ndctl daxctl xz-utils zstd python3-drgn crash`,
      );
    log('installing qemu-system-x86 busybox-static cpio kmod ndctl daxctl xz-utils zstd python3-drgn crash\n');
    sh('apt-get', ['update', '-q']);
    sh('apt-get', [
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      'qemu-system-x86',
      'busybox-static',
      'cpio',
      'kmod',
      'ndctl',
      'daxctl',
      'util-linux',
      'xz-utils',
      'zstd',
      'tar',
      'python3-drgn',
      'crash',
    ]);
  }
  mkdirSync(dir, { recursive: true });
  return series.map((s) => setupKernel(s, dir, log));
}

function setupKernel(series: KernelSeries, dir: string, log: (s: string) => void): GuestKernel {
  const { pkg, release } = resolveKernel(series);
  const kdir = join(dir, release);
  mkdirSync(kdir, { recursive: true });
  const stampFile = join(kdir, 'guest.stamp');
  const needImage = !['vmlinuz', 'initrd.cpio.gz', 'config'].every((f) => existsSync(join(kdir, f))) || !existsSync(stampFile) || readFileSync(stampFile, 'utf8').trim() !== GUEST_STAMP;
  const needDbg = !existsSync(join(kdir, 'vmlinux.zst'));
  if (needImage || needDbg) {
    const need = (needDbg ? SETUP_BYTES_PER_KERNEL : 0) + (needImage ? 0.2e9 : 0);
    const free = freeBytes(dir);
    if (free < need)
      throw new InputError(
        `verify --setup: ${dir} has ${(free / 1e9).toFixed(2)} GB free, kernel ${release} needs about ${(need / 1e9).toFixed(1)} GB while it is fetched; free some space or set MMSIM_CACHE`,
      );
    // The work directory on the cache's file system: the space checked is the space used.
    const work = mkdtempSync(join(dir, '.setup-'));
    try {
      if (needImage) fetchImage(pkg, release, kdir, work, log);
      if (needDbg) fetchVmlinux(release, kdir, work, log);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } else log(`kernel ${series} (${release}): cached, nothing to fetch\n`);
  writeAtomic(releaseFile(dir, series), release + '\n');
  const g = installedGuest(dir, series);
  if (!g?.vmlinux || !g.config) throw new InputError(`verify --setup: ${kdir} is incomplete after set-up`);
  log(`ready: ${series} = ${g.release} (${kdir})\n`);
  return g;
}

/** `apt-get download pkg` into work: the .deb's path. */
function download(pkg: string, work: string, log: (s: string) => void): string {
  log(`downloading ${pkg}\n`);
  const before = new Set(readdirSync(work));
  sh('apt-get', ['download', pkg], { cwd: work });
  const deb = readdirSync(work).find((f) => f.endsWith('.deb') && !before.has(f));
  if (!deb) throw new InputError(`verify --setup: apt-get download ${pkg} left no .deb`);
  return join(work, deb);
}

/** The image package: vmlinuz, the config, and the initramfs built from its modules. */
function fetchImage(pkg: string, release: string, kdir: string, work: string, log: (s: string) => void): void {
  const deb = download(pkg, work, log);
  const kroot = join(work, 'k');
  sh('dpkg-deb', ['-x', deb, kroot]);
  rmSync(deb);
  sh('depmod', ['-b', kroot, release]);
  log(`${release}: building the initramfs\n`);
  const root = join(work, 'root');
  buildRootfs(kroot, release, root);
  const cpio = execFileSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1'], { cwd: root, maxBuffer: 1 << 30 });
  writeAtomic(join(kdir, 'initrd.cpio.gz'), cpio);
  writeAtomic(join(kdir, 'vmlinuz'), readFileSync(join(kroot, 'boot', `vmlinuz-${release}`)));
  writeAtomic(join(kdir, 'config'), readFileSync(join(kroot, 'boot', `config-${release}`)));
  writeAtomic(join(kdir, 'guest.stamp'), GUEST_STAMP + '\n');
  rmSync(kroot, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
}

/** The -dbg package's vmlinux alone, zstd -3 compressed to vmlinux.zst. */
function fetchVmlinux(release: string, kdir: string, work: string, log: (s: string) => void): void {
  const deb = download(`linux-image-${release}-dbg`, work, log);
  const member = `./usr/lib/debug/boot/vmlinux-${release}`;
  log(`${release}: unpacking and compressing the debug vmlinux\n`);
  sh('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "$3"', 'sh', deb, work, member]);
  rmSync(deb);
  const vmlinux = join(work, member);
  sh('zstd', ['-3', '-q', '-f', '-o', join(kdir, 'vmlinux.zst.tmp'), vmlinux]);
  rmSync(vmlinux);
  renameSync(join(kdir, 'vmlinux.zst.tmp'), join(kdir, 'vmlinux.zst'));
}

/** The initramfs's common part: directories, busybox and its applets, the tools with their libraries, /init, the agent, the report. */
function baseRootfs(root: string, tools: readonly string[], release: string): void {
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'run', 'tmp', 'lib64', 'usr/bin', 'lib/x86_64-linux-gnu', `lib/modules/${release}`, 'etc/ndctl.conf.d', 'etc/daxctl.conf.d'])
    mkdirSync(join(root, d), { recursive: true });
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new InputError('verify --setup: no busybox; install busybox-static');
  copyFileSync(busybox, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  for (const a of sh(busybox, ['--list']).split('\n')) if (a && a !== 'busybox') symlinkSync('busybox', join(root, 'bin', a));
  // ndctl, daxctl (and util-linux's chmem) with the shared libraries ldd names.
  for (const tool of tools) {
    if (!have(tool)) throw new InputError(`verify: no ${tool} on this machine; install ${tool === 'chmem' ? 'util-linux' : tool} (or run mmsim verify --setup as root)`);
    const b = sh('sh', ['-c', `command -v ${tool}`]).trim();
    copyFileSync(b, join(root, 'usr/bin', tool));
    chmodSync(join(root, 'usr/bin', tool), 0o755);
    for (const line of sh('ldd', [b]).split('\n')) {
      const lib = /=> (\S+)/.exec(line)?.[1];
      if (lib && existsSync(lib)) copyFileSync(lib, join(root, 'lib/x86_64-linux-gnu', lib.split('/').pop() as string));
    }
  }
  copyFileSync('/lib64/ld-linux-x86-64.so.2', join(root, 'lib64/ld-linux-x86-64.so.2'));
  symlinkSync('../lib/x86_64-linux-gnu', join(root, 'usr/lib'));
  const put = (path: string, text: string): void => {
    writeFileSync(join(root, path), text);
    chmodSync(join(root, path), 0o755);
  };
  put('init', GUEST_INIT);
  put('bin/mmsim-agent', GUEST_AGENT);
  put('bin/mmsim-report', GUEST_REPORT);
  writeFileSync(join(root, 'etc/kver'), release + '\n');
}

/**
 * The initramfs for a kernel with everything built in (no modules: ../shared/kernels' images,
 * `mmsim verify --race`): busybox, ndctl and daxctl, the agent; written to `out`.
 */
export function buildBuiltinInitrd(out: string): void {
  if (!have('cpio')) throw new InputError('verify: no cpio on this machine; install cpio');
  const work = mkdtempSync(join(tmpdir(), 'mmsim-initrd-'));
  try {
    const root = join(work, 'root');
    baseRootfs(root, ['ndctl', 'daxctl'], 'builtin');
    writeFileSync(join(root, 'etc/modules.order'), '');
    writeFileSync(out, execFileSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1'], { cwd: root, maxBuffer: 1 << 30 }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function buildRootfs(kroot: string, release: string, root: string): void {
  baseRootfs(root, ['ndctl', 'daxctl', 'chmem'], release);
  // Modules and their dependencies from the kernel's own tree; -C /dev/null ignores the host's
  // modprobe.d (ndctl's package hides libnvdimm behind an install rule there).
  const order: string[] = [];
  for (const m of GUEST_MODULES) {
    for (const line of sh('modprobe', ['-C', '/dev/null', '-d', kroot, '-S', release, '--show-depends', m]).split('\n')) {
      const ko = /^insmod (\S+)/.exec(line)?.[1];
      if (!ko) continue;
      let rel = ko.slice(kroot.length);
      const dest = join(root, dirname(rel));
      mkdirSync(dest, { recursive: true });
      if (ko.endsWith('.xz')) {
        rel = rel.slice(0, -3);
        writeFileSync(join(root, rel), execFileSync('xz', ['-dc', ko], { maxBuffer: 1 << 28 }));
      } else if (ko.endsWith('.zst')) {
        rel = rel.slice(0, -4);
        writeFileSync(join(root, rel), execFileSync('zstd', ['-qdc', ko], { maxBuffer: 1 << 28 }));
      } else copyFileSync(ko, join(root, rel));
      if (!order.includes(rel)) order.push(rel);
    }
  }
  writeFileSync(join(root, 'etc/modules.order'), order.join('\n') + '\n');
  for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    const src = join(kroot, 'lib/modules', release, f);
    if (existsSync(src)) copyFileSync(src, join(root, 'lib/modules', release, f));
  }
  sh('depmod', ['-b', root, release]);
}
