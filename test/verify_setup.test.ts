// mmsim verify --setup without the network: the 6.12 ABI chosen from apt-cache's names, the cache's
// layout read back per series, and set-up run against stand-in apt-cache / apt-get scripts (first on
// PATH): a cached release fetches nothing; a -dbg package that cannot be fetched is one line.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { asKernelSeries, GUEST_STAMP, installedGuest, newest612, verifySetup } from '../src/verify/setup.js';

describe('the 6.12 ABI: the newest linux-image-6.12.<n>+deb12-cloud-amd64-unsigned', () => {
  it('compares n as a number, not as text', () => {
    const names = [
      'linux-image-6.12.99+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
      'linux-image-6.12.118+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
      'linux-image-6.12.107+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
    ].join('\n');
    expect(newest612(names)).toBe('linux-image-6.12.118+deb12-cloud-amd64-unsigned');
  });
  it('takes only the cloud unsigned image of bookworm (+deb12), none is null', () => {
    const names = [
      'linux-image-6.12.200+deb12-cloud-amd64-unsigned-dbg - debug',
      'linux-image-6.12.201+deb12-amd64-unsigned - Linux 6.12 for 64-bit PCs',
      'linux-image-6.12.202+deb13-cloud-amd64-unsigned - trixie',
      'linux-image-6.12.5+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
    ].join('\n');
    expect(newest612(names)).toBe('linux-image-6.12.5+deb12-cloud-amd64-unsigned');
    expect(newest612('')).toBeNull();
  });
  it('a --kernel value is a series only when it is exactly 6.1 or 6.12', () => {
    expect(asKernelSeries('6.1')).toBe('6.1');
    expect(asKernelSeries('6.12')).toBe('6.12');
    expect(asKernelSeries('6.1.0')).toBeUndefined();
    expect(asKernelSeries('./6.12')).toBeUndefined();
  });
});

describe('the cache per series', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mmsim-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (release: string, files: string[]): void => putFiles(dir, release, files);

  it('release names 6.1, release-6.12 names 6.12; vmlinux and config are null until fetched', () => {
    put('6.1.0-9-cloud-amd64', ['vmlinuz', 'initrd.cpio.gz']);
    writeFileSync(join(dir, 'release'), '6.1.0-9-cloud-amd64\n');
    expect(installedGuest(dir)).toEqual({
      release: '6.1.0-9-cloud-amd64',
      vmlinuz: join(dir, '6.1.0-9-cloud-amd64', 'vmlinuz'),
      initrd: join(dir, '6.1.0-9-cloud-amd64', 'initrd.cpio.gz'),
      vmlinux: null,
      config: null,
    });
    expect(installedGuest(dir, '6.12')).toBeNull();
    put('6.12.7+deb12-cloud-amd64', ['vmlinuz', 'initrd.cpio.gz', 'vmlinux.zst', 'config']);
    writeFileSync(join(dir, 'release-6.12'), '6.12.7+deb12-cloud-amd64\n');
    const g = installedGuest(dir, '6.12');
    expect(g?.release).toBe('6.12.7+deb12-cloud-amd64');
    expect(g?.vmlinux).toBe(join(dir, '6.12.7+deb12-cloud-amd64', 'vmlinux.zst'));
    expect(g?.config).toBe(join(dir, '6.12.7+deb12-cloud-amd64', 'config'));
  });
  it('a release whose initramfs is missing is not set up', () => {
    put('6.1.0-9-cloud-amd64', ['vmlinuz']);
    writeFileSync(join(dir, 'release'), '6.1.0-9-cloud-amd64\n');
    expect(installedGuest(dir)).toBeNull();
  });
});

describe('verify --setup against stand-in apt tools', () => {
  let dir: string;
  let bin: string;
  let path: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mmsim-setup-test-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
    // apt-cache: 6.1.0-9 behind the meta package, 6.12.7 and 6.12.10 in the lists.
    writeFileSync(
      join(bin, 'apt-cache'),
      `#!/bin/sh\ncase "$1" in depends) echo "linux-image-cloud-amd64"; echo "  Depends: linux-image-6.1.0-9-cloud-amd64";; search) echo "linux-image-6.12.7+deb12-cloud-amd64-unsigned - x"; echo "linux-image-6.12.10+deb12-cloud-amd64-unsigned - x";; esac\n`,
    );
    // apt-get: every call logged; no package can be downloaded.
    writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "$*" >> ${join(dir, 'apt-get.log')}\necho "E: Unable to locate package $2" >&2\nexit 100\n`);
    chmodSync(join(bin, 'apt-cache'), 0o755);
    chmodSync(join(bin, 'apt-get'), 0o755);
    path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path ?? ''}`;
  });
  afterEach(() => {
    process.env['PATH'] = path;
    rmSync(dir, { recursive: true, force: true });
  });

  const cache = (): string => join(dir, 'cache');
  const put = (release: string, files: string[]): void => putFiles(cache(), release, files);
  const all = ['vmlinuz', 'initrd.cpio.gz', 'config', 'guest.stamp', 'vmlinux.zst'];

  it('the releases resolved are cached whole: nothing is fetched, and the release files name them', () => {
    put('6.1.0-9-cloud-amd64', all);
    put('6.12.10+deb12-cloud-amd64', all);
    const log: string[] = [];
    const g = verifySetup((s) => log.push(s), cache());
    expect(g.map((k) => k.release)).toEqual(['6.1.0-9-cloud-amd64', '6.12.10+deb12-cloud-amd64']);
    expect(existsSync(join(dir, 'apt-get.log'))).toBe(false);
    expect(readFileSync(join(cache(), 'release'), 'utf8')).toBe('6.1.0-9-cloud-amd64\n');
    expect(readFileSync(join(cache(), 'release-6.12'), 'utf8')).toBe('6.12.10+deb12-cloud-amd64\n');
    expect(log.join('')).toContain('kernel 6.12 (6.12.10+deb12-cloud-amd64): cached, nothing to fetch');
  });
  it('--kernel 6.12 sets up that series alone', () => {
    put('6.12.10+deb12-cloud-amd64', all);
    expect(verifySetup(() => undefined, cache(), ['6.12']).map((k) => k.release)).toEqual(['6.12.10+deb12-cloud-amd64']);
    expect(existsSync(join(cache(), 'release'))).toBe(false);
  });
  it('a -dbg package that cannot be fetched fails in one line, naming it; no release file is written and no work directory is left', () => {
    put(
      '6.12.10+deb12-cloud-amd64',
      all.filter((f) => f !== 'vmlinux.zst'),
    );
    let err: unknown;
    try {
      verifySetup(() => undefined, cache(), ['6.12']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^verify --setup: apt-get download linux-image-6\.12\.10\+deb12-cloud-amd64-dbg failed \(exit 100\): E: Unable to locate package/);
    expect(readFileSync(join(dir, 'apt-get.log'), 'utf8')).toBe('download linux-image-6.12.10+deb12-cloud-amd64-dbg\n');
    expect(existsSync(join(cache(), 'release-6.12'))).toBe(false);
    expect(readdirNames(cache())).toEqual(['6.12.10+deb12-cloud-amd64']);
  });
  it('an initramfs built from another guest (its stamp differs) is rebuilt: the image is fetched again', () => {
    put('6.1.0-9-cloud-amd64', all);
    writeFileSync(join(cache(), '6.1.0-9-cloud-amd64', 'guest.stamp'), 'older\n');
    expect(() => verifySetup(() => undefined, cache(), ['6.1'])).toThrow(/apt-get download linux-image-6\.1\.0-9-cloud-amd64 failed/);
  });
});

/** A release's directory in a cache with stand-in files (guest.stamp holds this build's stamp). */
function putFiles(cache: string, release: string, files: string[]): void {
  mkdirSync(join(cache, release), { recursive: true });
  for (const f of files) writeFileSync(join(cache, release, f), f === 'guest.stamp' ? GUEST_STAMP + '\n' : 'x');
}

function readdirNames(d: string): string[] {
  return readdirSync(d).sort();
}
