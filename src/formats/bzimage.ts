// An x86 bzImage's kernel version string (Documentation/x86/boot.rst, "The Real-Mode Kernel
// Header"): the setup header's "HdrS" magic at 0x202, and kernel_version at 0x20e, a 16-bit
// pointer to a NUL-terminated string at kernel_version + 0x200 ("5.3.0 (root@vm) #1 SMP ...").
// Its first word is the release `uname -r` prints.
import { InputError } from '../errors.js';

/** The offset of the setup header's magic and of its kernel_version field (boot.rst, protocol 2.00+). */
const HDRS_OFFSET = 0x202;
const KERNEL_VERSION_OFFSET = 0x20e;
const MAX_VERSION_BYTES = 256;

export interface BzImageVersion {
  /** The release (uname -r), e.g. "5.3.0" or "6.1.192". */
  readonly release: string;
  /** The whole version string. */
  readonly version: string;
}

/** The version string of a bzImage's bytes; `file` names it in errors. */
export function bzImageVersion(file: string, bytes: Uint8Array): BzImageVersion {
  const magic = String.fromCharCode(...bytes.subarray(HDRS_OFFSET, HDRS_OFFSET + 4));
  if (magic !== 'HdrS') throw new InputError(`${file}: not an x86 bzImage (no "HdrS" setup header at 0x202); give a kernel image such as arch/x86/boot/bzImage`);
  const ptr = (bytes[KERNEL_VERSION_OFFSET] ?? 0) | ((bytes[KERNEL_VERSION_OFFSET + 1] ?? 0) << 8);
  const at = ptr + 0x200;
  if (ptr === 0 || at >= bytes.length)
    throw new InputError(`${file}: the setup header's kernel_version (0x${ptr.toString(16)}) points outside the image; expected a bzImage of boot protocol 2.00 or later`);
  const end = bytes.indexOf(0, at);
  const text = String.fromCharCode(...bytes.subarray(at, end < 0 ? Math.min(bytes.length, at + MAX_VERSION_BYTES) : Math.min(end, at + MAX_VERSION_BYTES)));
  const release = /^(\d+\.\d+[^\s]*)/.exec(text)?.[1];
  if (!release) throw new InputError(`${file}: the kernel version string at 0x${at.toString(16)} is ${JSON.stringify(text.slice(0, 40))}; expected a release such as "5.3.0 (...)"`);
  return { release, version: text };
}
