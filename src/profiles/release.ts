// Kernel release strings (`uname -r`, the "Linux version" dmesg line) and what they say about
// the upstream version a distribution kernel is built from.
import { InputError } from '../errors.js';

export type Distro = 'vanilla' | 'debian' | 'ubuntu' | 'rhel' | 'fedora' | 'suse' | 'arch' | 'proxmox' | 'firecracker';

export interface KernelRelease {
  /** The release as given, e.g. "5.10.0-21-amd64". */
  readonly release: string;
  readonly major: number;
  readonly minor: number;
  /**
   * The upstream stable sublevel the kernel is built from. Debian and Ubuntu keep ".0" in the
   * release and name the real sublevel in the build string ("Debian 5.10.162-1"); it is taken
   * from there when known.
   */
  readonly sublevel: number;
  /** Whether `sublevel` is known (false for "5.10.0-21-amd64" without its build string). */
  readonly sublevelKnown: boolean;
  readonly distro: Distro;
  /** The distro or local suffix after the version: "-21-amd64", ".el8.x86_64", "-1-default". */
  readonly suffix: string;
}

/** A version as one comparable number: 5.10.162 -> 5010162. */
export function versionCode(major: number, minor: number, sublevel = 0): number {
  return major * 1_000_000 + minor * 1_000 + Math.min(sublevel, 999);
}

export function releaseCode(r: KernelRelease): number {
  return versionCode(r.major, r.minor, r.sublevel);
}

function detectDistro(release: string, build: string): Distro {
  if (/-amd64$|-arm64$|-686(-pae)?$|\.deb\d+/.test(release) || /\bSMP (?:PREEMPT\S* )?Debian\b/.test(build)) return 'debian';
  if (/-generic$|-lowlatency$/.test(release) || /-Ubuntu\b/.test(build)) return 'ubuntu';
  if (/\.el\d+/.test(release)) return 'rhel';
  if (/\.fc\d+/.test(release)) return 'fedora';
  if (/-default$|-lp\d+|-preempt$/.test(release)) return 'suse';
  if (/-arch\d+-\d+$/.test(release)) return 'arch';
  if (/-pve$/.test(release)) return 'proxmox';
  if (/-fc-v\d+/.test(release)) return 'firecracker';
  return 'vanilla';
}

/**
 * Parses a release string, optionally with the rest of the "Linux version" line (`build`),
 * which for Debian and Ubuntu names the upstream stable version.
 */
export function parseRelease(release: string, build = ''): KernelRelease {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(release.trim());
  if (!m) {
    throw new InputError(`kernel release "${release}": expected MAJOR.MINOR[.SUBLEVEL][suffix], e.g. 6.1 or 5.10.0-21-amd64`);
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  let sublevel = m[3] === undefined ? 0 : Number(m[3]);
  let sublevelKnown = m[3] !== undefined;
  const suffix = m[4] ?? '';
  const distro = detectDistro(release.trim(), build);
  // Debian: "#1 SMP Debian 5.10.162-1 (2023-01-21)"; "... Debian 6.1.15-1".
  // Ubuntu: "(Ubuntu 5.8.0-55.62~20.04.1-generic 5.8.18)" names the upstream version last.
  // The compiler's version ("gcc-10 (Debian 10.2.1-6)") also says "Debian": take the match
  // whose major.minor is the kernel's.
  const up = [...build.matchAll(/\bDebian (\d+)\.(\d+)\.(\d+)/g), ...build.matchAll(/\(Ubuntu [^ ]+ (\d+)\.(\d+)\.(\d+)\)/g)].find((x) => Number(x[1]) === major && Number(x[2]) === minor);
  if (up) {
    sublevel = Number(up[3]);
    sublevelKnown = true;
  } else if ((distro === 'debian' || distro === 'ubuntu') && sublevel === 0 && /^-/.test(suffix)) {
    // "5.10.0-21-amd64" alone does not say which 5.10.y it is.
    sublevelKnown = false;
  }
  return { release: release.trim(), major, minor, sublevel, sublevelKnown, distro, suffix };
}
