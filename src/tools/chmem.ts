// util-linux chmem (sys-utils/chmem.c @ 39465c78) over a sysfs tree: sets memory blocks online/offline
// by writing memoryN/state, with chmem's messages, verbose output and exit codes.
import { closeSync, constants, openSync, readdirSync, readFileSync, writeSync, accessSync } from 'node:fs';
import { join } from 'node:path';

export interface ChmemResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The files chmem reads and writes: the real filesystem, or a machine's sysfs served by the model
 * (where a write to memoryN/state runs the kernel's online or offline and fails with its errno).
 */
export interface SysfsFiles {
  /** The file's bytes, or the errno name (ENOENT, EACCES, ...) of the failed read. */
  read(path: string): Buffer | { errno: string };
  /** '' when the write succeeded, else the errno name the write(2) or open(2) failed with. */
  write(path: string, text: string): string;
  exists(path: string): boolean;
  /** The names in a directory, or null if it cannot be read. */
  readdir(path: string): string[] | null;
}

/** The real filesystem (a live /sys, or a tree under --sysroot). */
export const nodeSysfsFiles: SysfsFiles = {
  read(path) {
    try {
      return readFileSync(path);
    } catch (e) {
      return { errno: errnoOf(e) };
    }
  },
  write(path, text) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY);
    } catch (e) {
      return errnoOf(e);
    }
    try {
      writeSync(fd, text);
      return '';
    } catch (e) {
      return errnoOf(e);
    } finally {
      closeSync(fd);
    }
  },
  exists(path) {
    try {
      accessSync(path, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  },
  readdir(path) {
    try {
      return readdirSync(path);
    } catch {
      return null;
    }
  },
};

const PROG = 'chmem';
const PATH_SYS_MEMORY = '/sys/devices/system/memory';
const PATH_SYS_MEMCONFIG = '/sys/firmware/memory';
const EXIT_SUCCESS = 0;
const EXIT_FAILURE = 1;
const CHMEM_EXIT_SOMEOK = 64;
const U64 = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;

const ZONE_MOVABLE = 4;
const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'Highmem', 'Movable', 'Device'] as const;

const CMD_ENABLE = 0;
const CMD_DISABLE = 1;
const CMD_CONFIGURE = 2;
const CMD_DECONFIGURE = 3;
const CMD_NONE = 4;

const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ERANGE: 'Numerical result out of range',
  ENOMEM: 'Cannot allocate memory',
  EAGAIN: 'Resource temporarily unavailable',
  ENXIO: 'No such device or address',
  ENODEV: 'No such device',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
};

/** Thrown to end the run the way exit()/err()/errx() do. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface Desc {
  prefix: string;
  dirs: string[];
  memconfigDirs: string[];
  memmapOnMemory: number;
  blockSize: bigint;
  start: bigint;
  end: bigint;
  size: bigint;
  useBlocks: boolean;
  isSize: boolean;
  verbose: boolean;
  haveZones: boolean;
  haveMemconfig: boolean;
}

/** Output streams plus the err()/warn() family of libc (err.h). */
class Io {
  constructor(readonly fs: SysfsFiles) {}
  stdout = '';
  stderr = '';
  errno = 'ENOENT';
  // warnx()
  warnx(msg: string): void {
    this.stderr += `${PROG}: ${msg}\n`;
  }
  // warn()
  warn(msg: string): void {
    this.stderr += `${PROG}: ${msg}: ${strerror(this.errno)}\n`;
  }
  // errx()
  errx(code: number, msg: string): never {
    this.warnx(msg);
    throw new Exit(code);
  }
  // err()
  err(code: number, msg: string): never {
    this.warn(msg);
    throw new Exit(code);
  }
  // errtryhelp() from c.h
  tryHelp(code: number): never {
    this.stderr += `Try '${PROG} --help' for more information.\n`;
    throw new Exit(code);
  }
}

// strerror()
function strerror(code: string): string {
  return code === '' ? 'Success' : (STRERROR[code] ?? 'Unknown error');
}

// errno of a failed Node fs call
function errnoOf(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  return 'EIO';
}

// C string view of a buffer: text up to the first NUL
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

// isspace() in the C locale
function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && ' \t\n\v\f\r'.includes(ch);
}

// isdigit() in the C locale
function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

// digit value of ch in base, or -1
function digitVal(ch: string | undefined, base: number): number {
  if (ch === undefined) return -1;
  const c = ch.toLowerCase();
  let v = -1;
  if (c >= '0' && c <= '9') v = c.charCodeAt(0) - 48;
  else if (c >= 'a' && c <= 'z') v = c.charCodeAt(0) - 87;
  return v >= 0 && v < base ? v : -1;
}

interface StrtoResult {
  value: bigint;
  end: number;
  erange: boolean;
}

// glibc strtoumax()/strtoimax(): value, index just past the number, and whether it overflowed
function strto(str: string, base: number, signed: boolean): StrtoResult {
  let i = 0;
  while (isSpace(str[i])) i++;
  let neg = false;
  if (str[i] === '+' || str[i] === '-') {
    neg = str[i] === '-';
    i++;
  }
  if ((base === 0 || base === 16) && str[i] === '0' && (str[i + 1] === 'x' || str[i + 1] === 'X') && digitVal(str[i + 2], 16) >= 0) {
    i += 2;
    base = 16;
  } else if (base === 0) {
    base = str[i] === '0' ? 8 : 10;
  }
  const first = i;
  let v = 0n;
  let over = false;
  for (let d = digitVal(str[i], base); d >= 0; d = digitVal(str[++i], base)) {
    v = v * BigInt(base) + BigInt(d);
    if (v > U64) over = true;
  }
  if (i === first) {
    return { value: 0n, end: 0, erange: false };
  }
  if (signed) {
    const lim = neg ? I64_MAX + 1n : I64_MAX;
    if (over || v > lim) return { value: neg ? -(I64_MAX + 1n) : I64_MAX, end: i, erange: true };
    return { value: neg ? -v : v, end: i, erange: false };
  }
  if (over) return { value: U64, end: i, erange: true };
  return { value: neg ? -v & U64 : v, end: i, erange: false };
}

// ul_strtou64() (lib/strutils.c): 0 on success, else the errno name
function ulStrtou64(str: string, base: number): { rc: string; value: bigint } {
  if (str === '') return { rc: 'EINVAL', value: 0n };
  const s = strto(str, base, true);
  let r: StrtoResult;
  if (s.value < 0n) {
    r = { ...s, erange: true };
  } else {
    r = strto(str, base, false);
  }
  if (r.erange) return { rc: 'ERANGE', value: 0n };
  if (r.end === 0 || r.end !== str.length) return { rc: 'EINVAL', value: 0n };
  return { rc: '', value: r.value };
}

// str2unum_or_err() (strtou64_or_err / strtox64_or_err)
function str2unumOrErr(io: Io, str: string, base: number, msg: string): bigint {
  const { rc, value } = ulStrtou64(str, base);
  if (rc === '') return value;
  if (rc === 'ERANGE') {
    io.errno = rc;
    io.err(EXIT_FAILURE, `${msg}: '${str}'`);
  }
  return io.errx(EXIT_FAILURE, `${msg}: '${str}'`);
}

// do_scale_by_power()
function scaleByPower(x: bigint, base: bigint, power: number): bigint | null {
  while (power--) {
    if (U64 / base < x) return null;
    x *= base;
  }
  return x;
}

// ul_parse_size() / strtosize(): bytes, or the errno name on failure
function parseSize(str: string): { rc: string; value: bigint } {
  if (str === '') return { rc: 'EINVAL', value: 0n };
  let p = 0;
  while (isSpace(str[p])) p++;
  if (str[p] === '-') return { rc: 'EINVAL', value: 0n };
  const first = strto(str, 0, false);
  if (first.end === 0 || (first.erange && (first.value === U64 || first.value === 0n))) {
    return { rc: first.erange ? 'ERANGE' : 'EINVAL', value: 0n };
  }
  let x = first.value;
  if (first.end === str.length) return { rc: '', value: x };
  p = first.end;
  let base = 1024n;
  let frac = 0n;
  let fracZeros = 0;
  for (;;) {
    const c1 = str[p + 1];
    const c2 = str[p + 2];
    if (c1 === 'i' && (c2 === 'B' || c2 === 'b') && p + 3 === str.length) {
      base = 1024n;
      break;
    }
    if ((c1 === 'B' || c1 === 'b') && p + 2 === str.length) {
      base = 1000n;
      break;
    }
    if (c1 === undefined) break;
    if (frac === 0n && p < str.length && str[p] === '.') {
      p += 1;
      while (str[p] === '0') {
        p++;
        fracZeros++;
      }
      if (isDigit(str[p])) {
        const f = strto(str.slice(p), 0, false);
        if (f.end === 0 || (f.erange && (f.value === U64 || f.value === 0n))) {
          return { rc: f.erange ? 'ERANGE' : 'EINVAL', value: 0n };
        }
        frac = f.value;
        p += f.end;
      }
      if (p >= str.length) return { rc: 'EINVAL', value: 0n };
      continue;
    }
    return { rc: 'EINVAL', value: 0n };
  }
  const ch = str[p] ?? '';
  let pwr = ch === '' ? 0 : 'KMGTPEZY'.indexOf(ch) + 1;
  if (pwr === 0 && ch !== '') pwr = 'kmgtpezy'.indexOf(ch) + 1;
  if (pwr === 0) return { rc: 'EINVAL', value: 0n };
  const scaled = scaleByPower(x, base, pwr);
  let rc = '';
  if (scaled === null) rc = 'ERANGE';
  else x = scaled;
  if (frac !== 0n) {
    const fracBase = scaleByPower(1n, base, pwr) ?? 1n;
    let fracDiv = 10n;
    let fracPoz = 1n;
    while (fracDiv < frac) {
      if (fracDiv <= U64 / 10n) fracDiv *= 10n;
      else frac /= 10n;
    }
    for (let i = 0; i < fracZeros; i++) {
      if (fracDiv <= U64 / 10n) fracDiv *= 10n;
      else frac /= 10n;
    }
    do {
      const seg = frac % 10n;
      const segDiv = fracDiv / fracPoz;
      frac /= 10n;
      fracPoz *= 10n;
      if (seg !== 0n && segDiv / seg !== 0n) x = (x + fracBase / (segDiv / seg)) & U64;
    } while (frac !== 0n);
  }
  if (rc !== '') return { rc, value: 0n };
  return { rc: '', value: x };
}

// strtosize_or_err()
function strtosizeOrErr(io: Io, str: string, msg: string): bigint {
  const { rc, value } = parseSize(str);
  if (rc === '') return value;
  io.errno = rc;
  return io.err(EXIT_FAILURE, `${msg}: '${str}'`);
}

// size_to_human_string(SIZE_SUFFIX_1LETTER, bytes)
function sizeToHuman(bytes: bigint): string {
  let exp = 0;
  for (exp = 10; exp <= 60; exp += 10) if (bytes < 1n << BigInt(exp)) break;
  exp -= 10;
  const c = 'BKMGTPE'[exp / 10] ?? 'B';
  let dec = exp ? bytes >> BigInt(exp) : bytes;
  let frac = exp ? bytes % (1n << BigInt(exp)) : 0n;
  if (frac !== 0n) {
    if (frac >= U64 / 1000n) frac = ((frac / 1024n) * 1000n) / (1n << BigInt(exp - 10));
    else frac = (frac * 1000n) / (1n << BigInt(exp));
    frac = ((frac + 50n) / 100n) * 10n;
    if (frac === 100n) {
      dec++;
      frac = 0n;
    }
  }
  if (frac !== 0n) {
    let s = `${dec}.${frac.toString().padStart(2, '0')}`;
    if (s.endsWith('0')) s = s.slice(0, -1);
    return s + c;
  }
  return `${dec}${c}`;
}

// ul_path_read_buffer(): content without one trailing newline, or null when it cannot be read
function readBuffer(io: Io, path: string, bufsz: number): string | null {
  const data = io.fs.read(path);
  if ('errno' in data) {
    io.errno = data.errno;
    return null;
  }
  let s = data.subarray(0, bufsz - 1).toString('latin1');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  return s;
}

// ul_path_write_string(): open O_WRONLY (no truncation) and write; 0 or a negative errno
function writeString(io: Io, path: string, str: string): number {
  const errno = io.fs.write(path, str);
  if (errno === '') return 0;
  io.errno = errno;
  return -1;
}

// ul_path_access(F_OK)
function exists(io: Io, path: string): boolean {
  return io.fs.exists(path);
}

// ul_path_readf_s32(): 0 and the value, or nonzero on failure
function readS32(io: Io, path: string): { rc: number; value: number } {
  const s = readBuffer(io, path, 64);
  if (s === null) return { rc: -1, value: 0 };
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m?.[1]) return { rc: -1, value: 0 };
  return { rc: 0, value: Number.parseInt(m[1], 10) };
}

// path of a file under /sys/devices/system/memory
function memPath(desc: Desc, rel: string): string {
  return join(desc.prefix, PATH_SYS_MEMORY, rel);
}

// path of a file under /sys/firmware/memory
function confPath(desc: Desc, rel: string): string {
  return join(desc.prefix, PATH_SYS_MEMCONFIG, rel);
}

// zone_name_to_id()
function zoneNameToId(name: string): number {
  const lower = name.toLowerCase();
  return ZONE_NAMES.findIndex((z) => z.toLowerCase() === lower);
}

// strcasestr() != NULL
function caseContains(hay: string, needle: string): boolean {
  return hay.toLowerCase().includes(needle.toLowerCase());
}

// strncmp(a, b, n) == 0
function strnEq(a: string, b: string, n: number): boolean {
  return cstr(a).slice(0, n) === cstr(b).slice(0, n);
}

// idxtostr()
function idxtostr(desc: Desc, idx: bigint): string {
  const start = (idx * desc.blockSize) & U64;
  const end = (start + desc.blockSize - 1n) & U64;
  const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
  return `Memory Block ${idx} (0x${hex(start)}-0x${hex(end)})`;
}

// chmem_memmap_enabled()
function memmapEnabled(desc: Desc): boolean {
  return desc.memmapOnMemory === 0 || desc.memmapOnMemory === 1;
}

// index from a "memoryN" name (strtou64_or_err(name + 6))
function nameIndex(io: Io, name: string): bigint {
  return str2unumOrErr(io, name.slice(6), 10, 'Failed to parse index');
}

// chmem_set_memmap_on_memory()
function setMemmapOnMemory(io: Io, desc: Desc, name: string): number {
  const index = nameIndex(io, name);
  const rc = writeString(io, confPath(desc, `${name}/memmap_on_memory`), String(desc.memmapOnMemory));
  if (rc) io.warn(`${idxtostr(desc, index)} memmap-on-memory failed`);
  return rc;
}

// chmem_config()
function chmemConfig(io: Io, desc: Desc, name: string, configure: boolean): number {
  const index = nameIndex(io, name);
  const str = idxtostr(desc, index);
  const cfg = readS32(io, confPath(desc, `${name}/config`));
  if (cfg.rc) return cfg.rc;
  const memmap = readS32(io, confPath(desc, `${name}/memmap_on_memory`));
  if (memmap.rc) return memmap.rc;
  if (cfg.value) {
    if (configure) {
      let rc = 0;
      if (memmapEnabled(desc) && memmap.value !== desc.memmapOnMemory) {
        if (!desc.isSize || desc.verbose) io.stdout += `${str} must be deconfigured before using -m option\n`;
        rc = -1;
      } else if (desc.isSize) {
        rc = -1;
      } else if (desc.verbose) {
        io.stdout += `${str} already configured\n`;
      }
      return rc;
    }
    const state = readBuffer(io, memPath(desc, `${name}/state`), 8192);
    if (state !== null && state.length > 0 && strnEq('online', state, 6)) {
      if (!desc.isSize || desc.verbose) io.stdout += `${str} must be offline before deconfiguration\n`;
      return -1;
    }
  } else if (memmapEnabled(desc)) {
    const rc = setMemmapOnMemory(io, desc, name);
    if (rc) return rc;
  } else if (!configure) {
    if (desc.isSize) return -1;
    if (desc.verbose) io.stdout += `${str} already deconfigured\n`;
    return 0;
  }
  const rc = writeString(io, confPath(desc, `${name}/config`), configure ? '1' : '0');
  if (rc) {
    if (!desc.isSize) io.warn(configure ? `${str} configure failed` : `${str} deconfigure failed`);
    else if (desc.verbose) io.stdout += configure ? `${str} configure failed\n` : `${str} deconfigure failed\n`;
  } else if (desc.verbose) {
    io.stdout += configure ? `${str} configured\n` : `${str} deconfigured\n`;
  }
  return rc;
}

// chmem_configured()
function chmemConfigured(io: Io, desc: Desc, name: string): boolean {
  const r = readS32(io, confPath(desc, `${name}/config`));
  return r.rc === 0 && r.value !== 0;
}

// the state string written for an enable/disable with a zone (shared head of chmem_onoff_*)
function onoffFor(enable: boolean, zoneId: number): string {
  if (enable && zoneId >= 0) return zoneId === ZONE_MOVABLE ? 'online_movable' : 'online_kernel';
  return enable ? 'online' : 'offline';
}

// chmem_onoff_size()
function onoffSize(io: Io, desc: Desc, enable: boolean, zoneId: number): number {
  let size = desc.size;
  let onoff = onoffFor(enable, zoneId);
  const dirs = desc.haveMemconfig ? desc.memconfigDirs : desc.dirs;
  const ndirs = dirs.length;
  let line = '';
  for (let i = enable ? 0 : ndirs - 1; i >= 0 && i < ndirs && size; i += enable ? 1 : -1) {
    const name = dirs[i] ?? '';
    const index = nameIndex(io, name);
    let rc = 0;
    if (enable && desc.haveMemconfig && !chmemConfigured(io, desc, name)) {
      rc = chmemConfig(io, desc, name, enable);
      if (rc) continue;
    } else {
      const st = readBuffer(io, memPath(desc, `${name}/state`), 8192);
      if (st !== null) line = st;
      if (st !== null && st.length > 0) {
        if (strnEq(onoff, line, 6)) continue;
      } else if (!enable) {
        continue;
      }
    }
    if (desc.haveZones) {
      const vz = readBuffer(io, memPath(desc, `${name}/valid_zones`), 8192);
      if (vz !== null) line = vz;
      if (zoneId >= 0) {
        if (zoneMismatch(line, zoneId, enable)) continue;
      } else if (enable) {
        onoff = caseContains(cstr(line), 'Movable') ? 'online_movable' : 'online';
      }
    }
    const str = idxtostr(desc, index);
    rc = writeString(io, memPath(desc, `${name}/state`), onoff);
    if (rc !== 0 && desc.verbose) io.stdout += enable ? `${str} enable failed\n` : `${str} disable failed\n`;
    else if (rc === 0 && desc.verbose) io.stdout += enable ? `${str} enabled\n` : `${str} disabled\n`;
    if (!rc && !enable && desc.haveMemconfig) {
      rc = chmemConfig(io, desc, name, enable);
      if (rc) continue;
    }
    if (rc === 0) size--;
  }
  if (size) {
    const human = sizeToHuman(((desc.size - size) * desc.blockSize) & U64);
    io.warnx(enable ? `Could only enable ${human} of memory` : `Could only disable ${human} of memory`);
  }
  return size === 0n ? 0 : size === desc.size ? -1 : 1;
}

// chmem_config_size()
function configSize(io: Io, desc: Desc, configure: boolean): number {
  if (!desc.haveMemconfig) {
    io.stdout += configure ? 'Cannot configure. Use -e instead.\n' : 'Cannot deconfigure. Use -d instead.\n';
    return -1;
  }
  let size = desc.size;
  const n = desc.memconfigDirs.length;
  for (let i = configure ? 0 : n - 1; i >= 0 && i < n && size; i += configure ? 1 : -1) {
    if (chmemConfig(io, desc, desc.memconfigDirs[i] ?? '', configure) === 0) size--;
  }
  if (size) {
    const human = sizeToHuman(((desc.size - size) * desc.blockSize) & U64);
    io.stdout += configure ? `Could only configure ${human} of memory\n` : `Could only deconfigure ${human} of memory\n`;
  }
  return size === 0n ? 0 : size === desc.size ? -1 : 1;
}

// chmem_config_range()
function configRange(io: Io, desc: Desc, configure: boolean): number {
  if (!desc.haveMemconfig) {
    io.stdout += configure ? 'Cannot configure. Use -e instead.\n' : 'Cannot deconfigure. Use -d instead.\n';
    return -1;
  }
  const total = (desc.end - desc.start + 1n) & U64;
  let todo = total;
  for (const name of desc.memconfigDirs) {
    const index = nameIndex(io, name);
    if (index < desc.start) continue;
    if (index > desc.end) break;
    if (chmemConfig(io, desc, name, configure) === 0) todo--;
  }
  return todo === 0n ? 0 : todo === total ? -1 : 1;
}

// chmem_onoff_range()
function onoffRange(io: Io, desc: Desc, enable: boolean, zoneId: number): number {
  const total = (desc.end - desc.start + 1n) & U64;
  let todo = total;
  let onoff = onoffFor(enable, zoneId);
  const dirs = desc.haveMemconfig ? desc.memconfigDirs : desc.dirs;
  let line = '';
  for (const name of dirs) {
    const index = nameIndex(io, name);
    if (index < desc.start) continue;
    if (index > desc.end) break;
    if (enable && desc.haveMemconfig && !chmemConfigured(io, desc, name)) {
      if (chmemConfig(io, desc, name, enable)) continue;
    }
    const str = idxtostr(desc, index);
    const st = readBuffer(io, memPath(desc, `${name}/state`), 8192);
    if (st !== null) line = st;
    if (st !== null && st.length > 0) {
      if (strnEq(onoff, line, 6)) {
        if (desc.verbose) io.stdout += enable ? `${str} already enabled\n` : `${str} already disabled\n`;
        todo--;
        continue;
      }
    } else if (!enable) {
      if (desc.verbose) io.stdout += `${str} already disabled\n`;
      todo--;
      continue;
    }
    if (desc.haveZones) {
      const vz = readBuffer(io, memPath(desc, `${name}/valid_zones`), 8192);
      if (vz !== null) line = vz;
      if (zoneId >= 0) {
        if (zoneMismatch(line, zoneId, enable)) {
          io.warnx(`${str} ${enable ? 'enable' : 'disable'} failed: Zone mismatch`);
          continue;
        }
      } else if (enable) {
        onoff = caseContains(cstr(line), 'Movable') ? 'online_movable' : 'online';
      }
    }
    let rc = writeString(io, memPath(desc, `${name}/state`), onoff);
    if (rc !== 0) io.warn(enable ? `${str} enable failed` : `${str} disable failed`);
    else if (desc.verbose) io.stdout += enable ? `${str} enabled\n` : `${str} disabled\n`;
    if (!rc && !enable && desc.haveMemconfig) {
      rc = chmemConfig(io, desc, name, enable);
      if (rc) continue;
    }
    if (rc === 0) todo--;
  }
  return todo === 0n ? 0 : todo === total ? -1 : 1;
}

// filter() + scandir(..., versionsort): the memoryN entries of a directory in numeric order
function scanMemoryDirs(io: Io, dir: string): string[] | null {
  const names = io.fs.readdir(dir);
  if (names === null) return null;
  const keep = names.filter((n) => n.startsWith('memory') && /^[0-9]+$/.test(n.slice(6)));
  return keep.sort((a, b) => {
    const x = BigInt(a.slice(6));
    const y = BigInt(b.slice(6));
    return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
}

// read_conf(): runs before have_memconfig is known, so (as upstream) it scans nothing
function readConf(io: Io, desc: Desc): void {
  if (!desc.haveMemconfig) return;
  const dirs = scanMemoryDirs(io, join(desc.prefix, PATH_SYS_MEMCONFIG));
  if (!dirs || dirs.length === 0) io.err(EXIT_FAILURE, `Failed to read ${PATH_SYS_MEMCONFIG}`);
  desc.memconfigDirs = dirs;
}

// read_info()
function readInfo(io: Io, desc: Desc): void {
  const fail = (): never => io.err(EXIT_FAILURE, `Failed to read ${PATH_SYS_MEMORY}`);
  const dir = join(desc.prefix, PATH_SYS_MEMORY);
  const dirs = scanMemoryDirs(io, dir);
  if (dirs === null) {
    io.errno = exists(io, dir) ? 'ENOTDIR' : 'ENOENT';
    return fail();
  }
  if (dirs.length === 0) {
    io.errno = '';
    return fail();
  }
  desc.dirs = dirs;
  const line = readBuffer(io, memPath(desc, 'block_size_bytes'), 128);
  if (line === null) fail();
  const r = strto(line ?? '', 16, false);
  if (r.erange) {
    io.errno = 'ERANGE';
    fail();
  }
  desc.blockSize = r.value;
  readConf(io, desc);
}

// x % block_size guarded against a zero block size (C would trap)
function alignedTo(io: Io, desc: Desc, x: bigint): boolean {
  if (desc.blockSize === 0n) {
    io.errno = 'EINVAL';
    io.err(EXIT_FAILURE, `Failed to read ${PATH_SYS_MEMORY}`);
  }
  return x % desc.blockSize === 0n;
}

// parse_single_param()
function parseSingleParam(io: Io, desc: Desc, str: string): void {
  if (desc.useBlocks) {
    desc.start = str2unumOrErr(io, str, 10, 'Failed to parse block number');
    desc.end = desc.start;
    return;
  }
  desc.isSize = true;
  desc.size = strtosizeOrErr(io, str, 'Failed to parse size');
  if (isDigit(str[str.length - 1])) desc.size = (desc.size * 1024n * 1024n) & U64;
  if (!alignedTo(io, desc, desc.size)) {
    io.errx(EXIT_FAILURE, `Size must be aligned to memory block size (${sizeToHuman(desc.blockSize)})`);
  }
  desc.size /= desc.blockSize;
}

// parse_range_param()
function parseRangeParam(io: Io, desc: Desc, start: string, end: string): void {
  if (desc.useBlocks) {
    desc.start = str2unumOrErr(io, start, 10, 'Failed to parse start');
    desc.end = str2unumOrErr(io, end, 10, 'Failed to parse end');
    return;
  }
  if (start.length < 2 || start[1] !== 'x') io.errx(EXIT_FAILURE, `Invalid start address format: ${start}`);
  if (end.length < 2 || end[1] !== 'x') io.errx(EXIT_FAILURE, `Invalid end address format: ${end}`);
  desc.start = str2unumOrErr(io, start, 16, 'Failed to parse start address');
  desc.end = str2unumOrErr(io, end, 16, 'Failed to parse end address');
  if (!alignedTo(io, desc, desc.start) || !alignedTo(io, desc, (desc.end + 1n) & U64)) {
    io.errx(EXIT_FAILURE, 'Start address and (end address + 1) must be aligned to memory block size ' + `(${sizeToHuman(desc.blockSize)})`);
  }
  desc.start /= desc.blockSize;
  desc.end /= desc.blockSize;
}

// parse_parameter()
function parseParameter(io: Io, desc: Desc, param: string): void {
  const split = param.split('-').filter((w) => w !== '');
  if (split.length < 1 || split.length > 2) io.errx(EXIT_FAILURE, `Invalid parameter: ${param}`);
  if (split.length === 1) parseSingleParam(io, desc, split[0] ?? '');
  else parseRangeParam(io, desc, split[0] ?? '', split[1] ?? '');
  if (desc.start > desc.end) io.errx(EXIT_FAILURE, `Invalid range: ${param}`);
}

// usage()
function usage(io: Io): never {
  const help = (o: string, d: string): string => `${o.padEnd(26)}${d}\n`;
  io.stdout +=
    '\nUsage:\n' +
    ` ${PROG} [options] [SIZE|RANGE|BLOCKRANGE]\n` +
    '\nSet a particular size or range of memory online or offline.\n' +
    '\nOptions:\n' +
    ' -e, --enable             enable memory\n' +
    ' -d, --disable            disable memory\n' +
    ' -b, --blocks             use memory blocks\n' +
    ' -z, --zone <name>        select memory zone (see below)\n' +
    ' -c, --configure          configure range\n' +
    ' -g, --deconfigure        deconfigure range\n' +
    ' -m, --memmap-on-memory   select memmap-on-memory\n' +
    ' -s, --sysroot <dir>      use the specified directory as system root\n' +
    ' -v, --verbose            verbose output\n' +
    help(' -h, --help', 'display this help') +
    help(' -V, --version', 'display version') +
    '\nSupported zones:\n' +
    ZONE_NAMES.map((z) => ` ${z}\n`).join('') +
    '\nFor more details see chmem(8).\n';
  throw new Exit(EXIT_SUCCESS);
}

interface LongOpt {
  name: string;
  hasArg: boolean;
  val: string;
}

const LONGOPTS: readonly LongOpt[] = [
  { name: 'blocks', hasArg: false, val: 'b' },
  { name: 'disable', hasArg: false, val: 'd' },
  { name: 'enable', hasArg: false, val: 'e' },
  { name: 'help', hasArg: false, val: 'h' },
  { name: 'verbose', hasArg: false, val: 'v' },
  { name: 'version', hasArg: false, val: 'V' },
  { name: 'zone', hasArg: true, val: 'z' },
  { name: 'configure', hasArg: false, val: 'c' },
  { name: 'deconfigure', hasArg: false, val: 'g' },
  { name: 'memmap-on-memory', hasArg: true, val: 'm' },
  { name: 'sysroot', hasArg: true, val: 's' },
];
const SHORTOPTS = 'bcdeghm:s:vVz:';
const EXCL: readonly string[][] = [
  ['d', 'e', 'g', 'm'],
  ['c', 'd', 'e', 'g'],
];

interface ParsedOpt {
  c: string;
  arg: string | undefined;
}

// getopt_long() with GNU permutation: the options in order, then the operands; usage errors end the run
function* getoptLong(io: Io, argv: readonly string[], operands: string[]): Generator<ParsedOpt> {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      return;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const nm = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const exact = LONGOPTS.find((o) => o.name === nm);
      const cands = exact ? [exact] : LONGOPTS.filter((o) => o.name.startsWith(nm));
      if (cands.length > 1) {
        io.stderr += `${PROG}: option '--${nm}' is ambiguous; possibilities:` + cands.map((o) => ` '--${o.name}'`).join('') + '\n';
        io.tryHelp(EXIT_FAILURE);
      }
      const o = cands[0];
      if (!o) {
        io.warnx(`unrecognized option '--${nm}'`);
        io.tryHelp(EXIT_FAILURE);
      }
      if (!o.hasArg) {
        if (eq >= 0) {
          io.warnx(`option '--${o.name}' doesn't allow an argument`);
          io.tryHelp(EXIT_FAILURE);
        }
        yield { c: o.val, arg: undefined };
      } else if (eq >= 0) {
        yield { c: o.val, arg: a.slice(eq + 1) };
      } else {
        if (i + 1 >= argv.length) {
          io.warnx(`option '--${o.name}' requires an argument`);
          io.tryHelp(EXIT_FAILURE);
        }
        yield { c: o.val, arg: argv[++i] };
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j] ?? '';
        const k = ch === ':' ? -1 : SHORTOPTS.indexOf(ch);
        if (k < 0) {
          io.warnx(`invalid option -- '${ch}'`);
          io.tryHelp(EXIT_FAILURE);
        }
        if (SHORTOPTS[k + 1] !== ':') {
          yield { c: ch, arg: undefined };
          continue;
        }
        if (j + 1 < a.length) {
          yield { c: ch, arg: a.slice(j + 1) };
          break;
        }
        if (i + 1 >= argv.length) {
          io.warnx(`option requires an argument -- '${ch}'`);
          io.tryHelp(EXIT_FAILURE);
        }
        yield { c: ch, arg: argv[++i] };
        break;
      }
      continue;
    }
    operands.push(a);
  }
}

// err_exclusive_options() (include/optutils.h)
function checkExclusive(io: Io, c: string, status: string[]): void {
  const optName = (x: string): string => {
    const lo = LONGOPTS.find((o) => o.val === x);
    return lo ? `--${lo.name}` : `-${x}`;
  };
  EXCL.forEach((group, e) => {
    if (!group.includes(c)) return;
    const st = status[e] ?? '';
    if (st === '') status[e] = c;
    else if (st !== c) io.errx(EXIT_FAILURE, `options ${optName(st)} and ${optName(c)} cannot be combined`);
  });
}

// atoi()
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m?.[1] ? Number.parseInt(m[1], 10) | 0 : 0;
}

// main(): `root` is the system root used unless --sysroot names another
/**
 * The zone test of chmem_size and chmem_range: enabling needs the zone among valid_zones,
 * disabling needs valid_zones to start with it (case-insensitive).
 */
function zoneMismatch(line: string, zoneId: number, enable: boolean): boolean {
  const zn = ZONE_NAMES[zoneId] ?? '';
  return enable ? !caseContains(cstr(line), zn) : cstr(line).slice(0, zn.length).toLowerCase() !== zn.toLowerCase();
}

export function chmem(root: string, argv: readonly string[], fs: SysfsFiles = nodeSysfsFiles): ChmemResult {
  const io = new Io(fs);
  let exitCode: number;
  try {
    exitCode = chmemMain(io, root, argv);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    exitCode = e.code;
  }
  return { stdout: io.stdout, stderr: io.stderr, exitCode };
}

// main() body
function chmemMain(io: Io, root: string, argv: readonly string[]): number {
  const desc: Desc = {
    prefix: root,
    dirs: [],
    memconfigDirs: [],
    memmapOnMemory: -1,
    blockSize: 0n,
    start: 0n,
    end: 0n,
    size: 0n,
    useBlocks: false,
    isSize: false,
    verbose: false,
    haveZones: false,
    haveMemconfig: false,
  };
  let cmd = CMD_NONE;
  let zone: string | undefined;
  const operands: string[] = [];
  const exclStatus: string[] = ['', ''];
  for (const { c, arg } of getoptLong(io, argv, operands)) {
    checkExclusive(io, c, exclStatus);
    switch (c) {
      case 'd':
        cmd = CMD_DISABLE;
        break;
      case 'e':
        cmd = CMD_ENABLE;
        break;
      case 'b':
        desc.useBlocks = true;
        break;
      case 'v':
        desc.verbose = true;
        break;
      case 'z':
        zone = arg;
        break;
      case 'c':
        cmd = CMD_CONFIGURE;
        break;
      case 'g':
        cmd = CMD_DECONFIGURE;
        break;
      case 'm':
        desc.memmapOnMemory = atoi(arg ?? '');
        break;
      case 's':
        desc.prefix = arg ?? '';
        break;
      case 'h':
        return usage(io);
      case 'V':
        io.stdout += `${PROG} from util-linux 2.43-devel\n`;
        return EXIT_SUCCESS;
      default:
        io.tryHelp(EXIT_FAILURE);
    }
  }
  if (argv.length === 0 || operands.length !== 1 || cmd === CMD_NONE) {
    io.warnx('bad usage');
    io.tryHelp(EXIT_FAILURE);
  }
  if (!exists(io, join(desc.prefix, PATH_SYS_MEMORY))) {
    io.errno = 'ENOENT';
    io.err(EXIT_FAILURE, `cannot open ${PATH_SYS_MEMORY}`);
  }
  readInfo(io, desc);
  parseParameter(io, desc, operands[0] ?? '');
  const first = desc.dirs[0] ?? '';
  if (exists(io, confPath(desc, first))) desc.haveMemconfig = true;
  if (exists(io, memPath(desc, `${first}/valid_zones`))) desc.haveZones = true;
  else if (zone !== undefined) io.warnx('zone ignored, no valid_zones sysfs attribute present');
  let zoneId = -1;
  if (zone !== undefined && desc.haveZones) {
    zoneId = zoneNameToId(zone);
    if (zoneId === -1) {
      io.warnx(`unknown memory zone: ${zone}`);
      io.tryHelp(EXIT_FAILURE);
    }
  }
  let rc: number;
  if (desc.isSize) {
    rc = cmd === CMD_ENABLE ? onoffSize(io, desc, true, zoneId) : cmd === CMD_DISABLE ? onoffSize(io, desc, false, zoneId) : configSize(io, desc, cmd === CMD_CONFIGURE);
  } else {
    rc = cmd === CMD_ENABLE ? onoffRange(io, desc, true, zoneId) : cmd === CMD_DISABLE ? onoffRange(io, desc, false, zoneId) : configRange(io, desc, cmd === CMD_CONFIGURE);
  }
  return rc === 0 ? EXIT_SUCCESS : rc < 0 ? EXIT_FAILURE : CHMEM_EXIT_SOMEOK;
}
