// `mmsim verify --setup`: what a fresh Debian 12 machine needs to run a real kernel under QEMU —
// Debian's qemu-system-x86, busybox-static, kmod, ndctl and daxctl; the kernel package behind
// linux-image-cloud-amd64 at its current ABI (resolved, never pinned: Debian retires old ABIs),
// downloaded and unpacked (never installed); and an initramfs with busybox, the hotplug / nvdimm /
// dax / virtio-mem modules in dependency order, ndctl, daxctl and chmem with their libraries, the agent.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { GUEST_AGENT, GUEST_INIT, GUEST_MODULES, GUEST_REPORT } from './guest.js';

/** Where set-up keeps the kernel and initramfs: $MMSIM_CACHE or ~/.cache/mmsim/verify. */
export function cacheDir(): string {
  return process.env['MMSIM_CACHE'] ?? join(homedir(), '.cache', 'mmsim', 'verify');
}

export interface GuestKernel {
  /** The exact release (uname -r) of the kernel set up. */
  readonly release: string;
  readonly vmlinuz: string;
  readonly initrd: string;
  /** The release's debug vmlinux, zstd-compressed (vmlinux.zst), or null when not fetched. */
  readonly vmlinux: string | null;
  /** The release's build config (config-<release> from its package), or null. */
  readonly config: string | null;
}

/** The kernel and initramfs set-up made, or null. */
export function installedGuest(dir = cacheDir()): GuestKernel | null {
  const f = join(dir, 'release');
  if (!existsSync(f)) return null;
  const release = readFileSync(f, 'utf8').trim();
  const vmlinuz = join(dir, release, 'vmlinuz');
  const initrd = join(dir, release, 'initrd.cpio.gz');
  const vmlinux = join(dir, release, 'vmlinux.zst');
  const config = join(dir, release, 'config');
  return existsSync(vmlinuz) && existsSync(initrd) ? { release, vmlinuz, initrd, vmlinux: existsSync(vmlinux) ? vmlinux : null, config: existsSync(config) ? config : null } : null;
}

function sh(cmd: string, args: readonly string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) throw new InputError(`verify --setup: cannot run ${cmd} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install it or run on Debian 12`);
  if (r.status !== 0) throw new InputError(`verify --setup: ${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? ''}`);
  return r.stdout;
}

const HOST_TOOLS = ['qemu-system-x86_64', 'busybox', 'ndctl', 'daxctl', 'chmem', 'modprobe', 'depmod', 'cpio', 'dpkg-deb', 'apt-get'];

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

/** Install the host packages (as root), fetch and unpack the current cloud kernel, build the initramfs. */
export function verifySetup(log: (s: string) => void, dir = cacheDir()): GuestKernel {
  if (HOST_TOOLS.some((t) => !have(t))) {
    if (process.getuid?.() !== 0)
      throw new InputError(
        `verify --setup: missing ${HOST_TOOLS.filter((t) => !have(t)).join(', ')}; run as root (it installs Debian packages) or install qemu-system-x86 busybox-static cpio kmod ndctl daxctl xz-utils zstd`,
      );
    log('installing qemu-system-x86 busybox-static cpio kmod ndctl daxctl xz-utils zstd\n');
    sh('apt-get', ['update', '-q']);
    sh('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'qemu-system-x86', 'busybox-static', 'cpio', 'kmod', 'ndctl', 'daxctl', 'util-linux', 'xz-utils', 'zstd']);
  }
  // The ABI package behind the meta package, whatever Debian ships today.
  const deps = sh('apt-cache', ['depends', 'linux-image-cloud-amd64']);
  const pkg = /Depends: (linux-image-\d[^\s]*)/.exec(deps)?.[1];
  if (!pkg) throw new InputError('verify --setup: apt-cache found no linux-image-<abi> behind linux-image-cloud-amd64; run apt-get update');
  const release = pkg.replace(/^linux-image-/, '').replace(/-unsigned$/, '');
  mkdirSync(join(dir, release), { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'mmsim-setup-'));
  try {
    log(`kernel ${release}: downloading ${pkg}\n`);
    sh('apt-get', ['download', pkg], { cwd: work });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new InputError(`verify --setup: apt-get download ${pkg} left no .deb`);
    const kroot = join(work, 'k');
    sh('dpkg-deb', ['-x', join(work, deb), kroot]);
    sh('depmod', ['-b', kroot, release]);
    log('building the initramfs\n');
    const root = join(work, 'root');
    buildRootfs(kroot, release, root);
    const cpio = execFileSync('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1'], { cwd: root, maxBuffer: 1 << 30 });
    writeFileSync(join(dir, release, 'initrd.cpio.gz'), cpio);
    copyFileSync(join(kroot, 'boot', `vmlinuz-${release}`), join(dir, release, 'vmlinuz'));
    writeFileSync(join(dir, 'release'), release + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const g = installedGuest(dir);
  if (!g) throw new InputError(`verify --setup: ${dir} is incomplete after set-up`);
  log(`ready: ${g.release} (${dir})\n`);
  return g;
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
