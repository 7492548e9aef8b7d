// A QEMU x86 command line read as the machine its guest boots on (`mmsim machine --from-qemu`),
// and QEMU's placement of memory devices in its device-memory region (a scenario's `add` without
// a start). What QEMU does is read in QEMU's sources (qemu/qemu, the 6.2-7.2 era files the search
// index holds; the oracle runs QEMU 7.2.22 with Debian's SeaBIOS 1.16):
// - hw/i386/pc_piix.c pc_init1: max_ram_below_4g defaults to 3.5 GiB; when ram_size is at least
//   that, gigabyte_align lowers the split to 3 GiB; ram_size >= lowmem splits RAM at lowmem and
//   the rest goes from 4 GiB, else all of it lies below 4 GiB.
// - hw/i386/pc_q35.c pc_q35_init: lowmem is 2 GiB when ram_size >= 0xb0000000 (2.75 GiB), else
//   0xb0000000; max-ram-below-4g (default 4 GiB) caps it; the same split.
// - hw/i386/pc.c pc_get_device_memory_range: the device-memory region starts at the end of the
//   RAM above 4 GiB (4 GiB when none) rounded up to 1 GiB, and is maxmem - ram + 1 GiB per slot.
// - hw/i386/acpi-build.c build_srat: node i takes the next node_mem[i] bytes of guest RAM in
//   order (node 0 from 0, with the 640 KiB-1 MiB hole cut out and counted as its), RAM past the
//   below-4G size continuing at 4 GiB; the device-memory region is hot-pluggable on the last node.
// - hw/mem/memory-device.c memory_device_get_free_addr: a device without addr= goes to the first
//   place from the region's base, past every plugged device it overlaps (in address order), its
//   end aligned up to the device's alignment (memory-backend-ram: QEMU_VMALLOC_ALIGN, 2 MiB on an
//   x86_64 Linux host; a file backend: its page size, 4 KiB on a plain file, or align=).
// The firmware's e820 is SeaBIOS's (src/fw/paravirt.c, malloc.c): usable [0, 0x9fc00), the EBDA
// [0x9fc00, 0xa0000) and [0xf0000, 0x100000) reserved, low RAM up to below_4g less what SeaBIOS
// keeps at its top for the ACPI and SMBIOS tables, the BIOS ROM [0xfffc0000, 4 GiB), on q35 the
// MMCONFIG window [0xb0000000, 0xc0000000) and the ICH9 RCRB [0xfed1c000, 0xfed20000), RAM above
// 4 GiB, and (QEMU 7.1+, AMD CPU models, which TCG's default and `max` CPUs are) the HyperTransport
// hole [0xfd00000000, 0x10000000000). How much SeaBIOS keeps at the top of low RAM depends on its
// table sizes; measured on QEMU 7.2.22 (docs/fidelity.md): 0x20000 (the ACPI tables, padded to
// ACPI_BUILD_TABLE_SIZE), plus 0x1000 when nvdimm=on with a device-memory region (the NVDIMM DSM
// page), plus 0x1000 when the SMBIOS tables outgrow the F segment (sockets + RAM e820 entries >= 6).
import { InputError } from '../errors.js';
import { memparse } from './size.js';
import { memblockFromE820 } from './dmesg.js';
import type { E820Entry, MemblockRegion } from '../kernel/machine_spec.js';

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const FOUR_G = 4 * GiB;
/** QEMU_VMALLOC_ALIGN (include/qemu/osdep.h): anonymous RAM blocks on x86_64 Linux hosts. */
export const QEMU_RAM_BACKEND_ALIGN = 2 * MiB;
/** A file backend's page size on a plain (not hugetlbfs) file. */
export const QEMU_FILE_BACKEND_ALIGN = 4 * KiB;

interface Backend {
  readonly id: string;
  readonly kind: 'ram' | 'file' | 'memfd';
  readonly size: number;
  readonly align: number;
}

/** A memory device on the command line (pc-dimm, nvdimm, virtio-mem), placed by QEMU at start. */
export interface QemuMemoryDevice {
  readonly driver: 'pc-dimm' | 'nvdimm' | 'virtio-mem';
  readonly id: string;
  readonly node: number;
  /** Where QEMU placed it (addr= / memaddr=, or the first fit). */
  readonly start: number;
  /** The region's size: the backend's, less label-size for an NVDIMM. */
  readonly size: number;
  readonly labelSize: number;
  /** virtio-mem: requested-size (plugged at start). */
  readonly requested: number;
}

/** A QEMU command line as mmsim reads it. */
export interface QemuConfig {
  readonly machine: 'pc' | 'q35';
  readonly nvdimm: boolean;
  readonly maxRamBelow4g: number | null;
  readonly ramBytes: number;
  readonly slots: number;
  readonly maxmem: number;
  readonly cpus: number;
  readonly sockets: number;
  readonly coresPerSocket: number;
  /** Each -numa node in order: its id, memory and CPU indexes. */
  readonly nodes: readonly { readonly nid: number; readonly mem: number; readonly cpus: readonly number[] }[];
  readonly devices: readonly QemuMemoryDevice[];
  readonly append: string;
  readonly kvm: boolean;
  readonly amdHole: boolean;
}

/** Split a command line the way a POSIX shell splits words (quotes and backslashes; no expansion). */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new InputError(`--from-qemu: unterminated ' quote at column ${i + 1}`);
      cur += s.slice(i + 1, j);
      have = true;
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        cur += s[j];
      }
      if (j >= s.length) throw new InputError(`--from-qemu: unterminated " quote at column ${i + 1}`);
      have = true;
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      if (s[i + 1] !== '\n') cur += s[i + 1];
      have = true;
      i++;
    } else if (/\s/.test(c)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** QEMU's key=value,... option syntax (",," is a comma in a value); the first bare word is `implied`. */
function keyval(opt: string, value: string, implied: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] === ',' && value[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (value[i] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += value[i];
  }
  parts.push(cur);
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0 && p !== '') out.set(implied, p);
      else if (p !== '') out.set(p, 'on');
      return;
    }
    out.set(p.slice(0, eq), p.slice(eq + 1));
  });
  if (out.size === 0) throw new InputError(`--from-qemu: ${opt} needs a value`);
  return out;
}

/** A QEMU size: a number of bytes with an optional K/M/G/T suffix (b for bytes); `defaultUnit` when none. */
function qemuSize(opt: string, s: string | undefined, defaultUnit = 1): number {
  if (s === undefined) throw new InputError(`--from-qemu: ${opt}: expected a size`);
  const t = s.trim();
  const bare = /^\d+$/.test(t);
  const v = bare ? Number(t) * defaultUnit : memparse(t.replace(/[bB]$/, ''));
  if (v === null || !Number.isSafeInteger(v) || v < 0) throw new InputError(`--from-qemu: ${opt}: expected a size such as 2G, 512M or 1073741824, not ${JSON.stringify(s)}`);
  return v;
}

function intOf(opt: string, s: string | undefined): number {
  if (s === undefined || !/^\d+$/.test(s.trim())) throw new InputError(`--from-qemu: ${opt}: expected a whole number, not ${JSON.stringify(s ?? '')}`);
  return Number(s.trim());
}

/** "0-3:5:7-8" (a -numa node's cpus=, also given as several cpus= keys): CPU indexes. */
function cpuList(opt: string, s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(':')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new InputError(`--from-qemu: ${opt}: expected cpus=A or cpus=A-B, not ${JSON.stringify(s)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 4096) throw new InputError(`--from-qemu: ${opt}: bad CPU range ${JSON.stringify(part)}`);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/**
 * memory_device_get_free_addr (hw/mem/memory-device.c): the first address from `base` at which a
 * device of `size` overlaps none of `used` (each overlapped device moves it past that device's end,
 * aligned up to `align`), or an InputError naming why QEMU refuses.
 */
export function memoryDeviceFreeAddr(region: { start: number; end: number }, used: readonly { start: number; size: number }[], size: number, align: number, what: string): number {
  if (size % align !== 0) throw new InputError(`${what}: backend memory size must be multiple of 0x${align.toString(16)} (QEMU refuses it)`);
  let addr = region.start;
  for (const d of [...used].sort((a, b) => a.start - b.start)) {
    if (d.start < addr + size && addr < d.start + d.size) addr = alignUp(d.start + d.size, align);
  }
  if (addr + size > region.end) {
    throw new InputError(
      `${what}: could not find position in guest address space for memory device (the device-memory region is [0x${region.start.toString(16)}, 0x${region.end.toString(16)}); give a start)`,
    );
  }
  return addr;
}

/** The slots and maxmem `mmsim verify` gives QEMU for a machine with `ramBytes` of RAM and `hotBytes` hot-added: 8 slots, maxmem at least 16 GiB. */
export function verifyHotplugSizing(ramBytes: number, hotBytes: number): { slots: number; maxmem: number } {
  return { slots: 8, maxmem: Math.max(16 * GiB, Math.ceil((ramBytes + hotBytes + GiB) / GiB) * GiB) };
}

/** Below and above 4 GiB: pc_init1 (pc_piix.c) and pc_q35_init (pc_q35.c). */
export function ramSplit(machine: 'pc' | 'q35', ramBytes: number, maxRamBelow4g: number | null): { below: number; above: number } {
  let lowmem: number;
  if (machine === 'pc') {
    const max = maxRamBelow4g ?? 0xe0000000;
    lowmem = max;
    // gigabyte_align (every pc machine type since 2.0... that the index's pc_piix.c keeps true)
    if (ramBytes >= max && lowmem > 0xc0000000) lowmem = 0xc0000000;
  } else {
    lowmem = ramBytes >= 0xb0000000 ? 0x80000000 : 0xb0000000;
    const max = maxRamBelow4g ?? FOUR_G;
    if (lowmem > max) lowmem = max;
  }
  return ramBytes >= lowmem ? { below: lowmem, above: ramBytes - lowmem } : { below: ramBytes, above: 0 };
}

/** pc_get_device_memory_range (hw/i386/pc.c): [ROUND_UP(end of RAM above 4G, 1G), + maxmem - ram + 1 GiB per slot). */
export function deviceMemoryRegion(aboveBytes: number, ramBytes: number, maxmem: number, slots: number): { start: number; end: number } {
  const start = alignUp(FOUR_G + aboveBytes, GiB);
  return { start, end: start + (maxmem - ramBytes) + slots * GiB };
}

/** Read a QEMU command line (the options that shape guest memory; the others are passed over). */
export function parseQemuArgs(text: string): QemuConfig {
  const words = shellWords(text);
  if (words[0] !== undefined && !words[0].startsWith('-')) words.shift(); // the program name
  let machine: 'pc' | 'q35' = 'pc';
  let nvdimm = false;
  let maxRamBelow4g: number | null = null;
  let ramBytes = 128 * MiB; // QEMU's default -m for pc and q35
  let slots = 0;
  let maxmem = 0;
  let smp: Map<string, string> | null = null;
  let append = '';
  let kvm = false;
  let cpuModel = '';
  const backends = new Map<string, Backend>();
  const numa: { nid: number | null; memdev: string | null; mem: number | null; cpus: number[] }[] = [];
  const numaCpu: { node: number; socket: number | null }[] = [];
  const devs: Map<string, string>[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    const opt = w.replace(/^--/, '-');
    const takes = (): string => {
      const v = words[i + 1];
      if (v === undefined) throw new InputError(`--from-qemu: ${w} needs a value`);
      i++;
      return v;
    };
    if (opt === '-machine' || opt === '-M') {
      const kv = keyval(opt, takes(), 'type');
      const type = kv.get('type');
      if (type !== undefined) {
        if (/^(pc|pc-i440fx-[\d.]+)$/.test(type)) machine = 'pc';
        else if (/^(q35|pc-q35-[\d.]+)$/.test(type)) machine = 'q35';
        else throw new InputError(`--from-qemu: -machine ${type}: mmsim reads the x86 pc (i440fx) and q35 machines only`);
      }
      if (kv.has('nvdimm')) nvdimm = /^(on|yes|true)$/.test(kv.get('nvdimm') ?? '');
      if (kv.has('max-ram-below-4g')) maxRamBelow4g = qemuSize('-machine max-ram-below-4g', kv.get('max-ram-below-4g'));
      if (/^(kvm)/.test(kv.get('accel') ?? '')) kvm = true;
    } else if (opt === '-m') {
      const kv = keyval(opt, takes(), 'size');
      ramBytes = qemuSize('-m', kv.get('size') ?? String(ramBytes / MiB), MiB);
      if (kv.has('slots')) slots = intOf('-m slots', kv.get('slots'));
      if (kv.has('maxmem')) maxmem = qemuSize('-m maxmem', kv.get('maxmem'), MiB);
    } else if (opt === '-smp') {
      smp = keyval(opt, takes(), 'cpus');
    } else if (opt === '-numa') {
      const kv = keyval(opt, takes(), 'type');
      const type = kv.get('type') ?? 'node';
      if (type === 'node') {
        const cpus = [...kv.entries()].filter(([k]) => k === 'cpus').flatMap(([, v]) => cpuList('-numa node cpus', v));
        numa.push({
          nid: kv.has('nodeid') ? intOf('-numa node nodeid', kv.get('nodeid')) : null,
          memdev: kv.get('memdev') ?? null,
          mem: kv.has('mem') ? qemuSize('-numa node mem', kv.get('mem'), MiB) : null,
          cpus,
        });
      } else if (type === 'cpu') {
        numaCpu.push({
          node: intOf('-numa cpu node-id', kv.get('node-id')),
          socket: kv.has('socket-id') ? intOf('-numa cpu socket-id', kv.get('socket-id')) : null,
        });
      }
    } else if (opt === '-object') {
      const kv = keyval(opt, takes(), 'qom-type');
      const type = kv.get('qom-type') ?? '';
      const m = /^memory-backend-(ram|file|memfd)$/.exec(type);
      if (m) {
        const id = kv.get('id');
        if (!id) throw new InputError(`--from-qemu: -object ${type} needs an id=`);
        const kind = m[1] as Backend['kind'];
        const size = qemuSize(`-object ${id} size`, kv.get('size'));
        const align = kv.has('align') ? qemuSize(`-object ${id} align`, kv.get('align')) : kind === 'file' ? QEMU_FILE_BACKEND_ALIGN : QEMU_RAM_BACKEND_ALIGN;
        backends.set(id, { id, kind, size, align });
      }
    } else if (opt === '-device') {
      const kv = keyval(opt, takes(), 'driver');
      if (/^(pc-dimm|nvdimm|virtio-mem|virtio-mem-pci)$/.test(kv.get('driver') ?? '')) devs.push(kv);
    } else if (opt === '-append') {
      append = takes();
    } else if (opt === '-enable-kvm') {
      kvm = true;
    } else if (opt === '-accel') {
      if (/^kvm/.test(takes())) kvm = true;
    } else if (opt === '-cpu') {
      cpuModel = takes().split(',')[0] ?? '';
    } else if (
      /^-(kernel|initrd|drive|serial|chardev|qmp|monitor|display|netdev|name|bios|boot|cdrom|hda|hdb|nic|net|vga|rtc|global|L|D|d|uuid|smbios|fw_cfg|pidfile|mon|trace|k|usbdevice|incoming|loadvm|runas|sandbox|msg|overcommit|parallel|audiodev|blockdev|iscsi|fsdev|virtfs|spice|vnc|watchdog-action|action|plugin|icount|semihosting-config|add-fd)$/.test(
        opt,
      )
    ) {
      if (i + 1 < words.length) i++; // an option with a value that does not shape memory
    }
  }
  // -smp: cpus=N or the topology (QEMU 6.2+ machine types prefer cores when only cpus= is given).
  let cpus = 1;
  let sockets = 1;
  let coresPerSocket = 1;
  if (smp) {
    const n = (k: string): number | null => (smp?.has(k) ? intOf(`-smp ${k}`, smp.get(k)) : null);
    const given = n('cpus');
    const s = n('sockets');
    const d = n('dies') ?? 1;
    const c = n('cores');
    const t = n('threads') ?? 1;
    const max = n('maxcpus');
    const total = max ?? given ?? (s ?? 1) * d * (c ?? 1) * t;
    if (s !== null && c !== null) {
      sockets = s;
      coresPerSocket = d * c * t;
    } else if (s !== null) {
      sockets = s;
      coresPerSocket = Math.max(1, Math.floor(total / (s * d * t))) * d * t;
    } else if (c !== null) {
      coresPerSocket = d * c * t;
      sockets = Math.max(1, Math.floor(total / coresPerSocket));
    } else {
      sockets = 1;
      coresPerSocket = total;
    }
    cpus = given ?? sockets * coresPerSocket;
    if (cpus < 1) throw new InputError('--from-qemu: -smp: expected at least one CPU');
  }
  if (maxmem && maxmem < ramBytes) throw new InputError(`--from-qemu: -m: maxmem (${maxmem}) is below the RAM size (${ramBytes}); QEMU refuses it`);
  if (maxmem > ramBytes && slots === 0) throw new InputError('--from-qemu: -m: maxmem needs slots= (QEMU refuses it)');
  if (slots > 0 && maxmem === 0) maxmem = ramBytes;
  // -numa nodes: ids (in order when not given), memory from memdev= or mem=.
  const nodes: { nid: number; mem: number; cpus: number[] }[] = [];
  const seen = new Set<number>();
  for (const [k, n] of numa.entries()) {
    const nid = n.nid ?? k;
    if (seen.has(nid)) throw new InputError(`--from-qemu: -numa node nodeid=${nid} is given twice`);
    seen.add(nid);
    let mem = 0;
    if (n.memdev !== null) {
      const b = backends.get(n.memdev);
      if (!b) throw new InputError(`--from-qemu: -numa node memdev=${n.memdev}: no -object memory-backend-* with that id`);
      mem = b.size;
    } else if (n.mem !== null) mem = n.mem;
    nodes.push({ nid, mem, cpus: [...n.cpus] });
  }
  if (nodes.length) {
    const sum = nodes.reduce((s, n) => s + n.mem, 0);
    if (sum !== ramBytes) throw new InputError(`--from-qemu: the -numa nodes hold ${sum} bytes but -m gives ${ramBytes}; QEMU requires them equal`);
    // -numa cpu,node-id=N,socket-id=S: every CPU of the socket.
    for (const c of numaCpu) {
      const node = nodes.find((n) => n.nid === c.node);
      if (!node) throw new InputError(`--from-qemu: -numa cpu node-id=${c.node}: no such -numa node`);
      if (c.socket === null) throw new InputError('--from-qemu: -numa cpu: give socket-id= (mmsim maps whole sockets)');
      for (let i = c.socket * coresPerSocket; i < Math.min(cpus, (c.socket + 1) * coresPerSocket); i++) node.cpus.push(i);
    }
    // A CPU no node names: x86_get_default_cpu_node_id, its socket modulo the number of nodes.
    const named = new Set(nodes.flatMap((n) => n.cpus));
    for (let i = 0; i < cpus; i++) {
      if (named.has(i)) continue;
      const node = nodes[Math.floor(i / coresPerSocket) % nodes.length];
      node?.cpus.push(i);
    }
  }
  const split = ramSplit(machine, ramBytes, maxRamBelow4g);
  const region = deviceMemoryRegion(split.above, ramBytes, maxmem || ramBytes, slots);
  // Memory devices on the command line, realized in order, each at addr= or the first fit.
  const devices: QemuMemoryDevice[] = [];
  const nodeIds = nodes.map((n) => n.nid);
  for (const kv of devs) {
    const driver = kv.get('driver') === 'pc-dimm' ? 'pc-dimm' : kv.get('driver') === 'nvdimm' ? 'nvdimm' : 'virtio-mem';
    const id = kv.get('id') ?? `${driver}${devices.length}`;
    const what = `--from-qemu: -device ${driver},id=${id}`;
    if (driver === 'nvdimm' && !nvdimm) throw new InputError(`${what}: nvdimm is not enabled (QEMU refuses it): add nvdimm=on to -machine`);
    if (maxmem <= ramBytes && slots === 0) throw new InputError(`${what}: memory devices need -m slots=N,maxmem=SIZE`);
    const b = backends.get(kv.get('memdev') ?? '');
    if (!b) throw new InputError(`${what}: memdev=${kv.get('memdev') ?? ''} names no -object memory-backend-*`);
    const node = kv.has('node') ? intOf(`${what} node`, kv.get('node')) : 0;
    if (nodeIds.length && !nodeIds.includes(node)) throw new InputError(`${what}: node=${node} is no -numa node`);
    const labelSize = driver === 'nvdimm' && kv.has('label-size') ? qemuSize(`${what} label-size`, kv.get('label-size')) : 0;
    const size = b.size - labelSize;
    let align = b.align;
    let requested = 0;
    if (driver === 'virtio-mem') {
      const block = kv.has('block-size') ? qemuSize(`${what} block-size`, kv.get('block-size')) : 2 * MiB;
      align = Math.max(align, block);
      requested = kv.has('requested-size') ? qemuSize(`${what} requested-size`, kv.get('requested-size')) : 0;
    }
    const hintKey = driver === 'virtio-mem' ? 'memaddr' : 'addr';
    let start: number;
    if (kv.has(hintKey)) {
      start = qemuSize(`${what} ${hintKey}`, kv.get(hintKey));
      if (start % align) throw new InputError(`${what}: address must be aligned to 0x${align.toString(16)} bytes`);
      if (start < region.start || start + size > region.end) throw new InputError(`${what}: [0x${start.toString(16)}, +0x${size.toString(16)}) lies outside the device-memory region`);
      const clash = devices.find((d) => d.start < start + size && start < d.start + d.size);
      if (clash) throw new InputError(`${what}: address range conflicts with memory device id='${clash.id}'`);
    } else {
      start = memoryDeviceFreeAddr(region, devices, size, align, what);
    }
    devices.push({ driver, id, node, start, size, labelSize, requested });
  }
  const intelModel =
    /^(host|Skylake|Cascadelake|Icelake|Sapphire|Broadwell|Haswell|IvyBridge|SandyBridge|Westmere|Nehalem|Penryn|Conroe|Cooperlake|Snowridge|Denverton|core2duo|coreduo|pentium|n270|kvm64|kvm32|486)/i.test(
      cpuModel,
    );
  const amdHole = !intelModel && !(kvm && (cpuModel === '' || cpuModel === 'max'));
  return {
    machine,
    nvdimm,
    maxRamBelow4g,
    ramBytes,
    slots,
    maxmem: maxmem || ramBytes,
    cpus,
    sockets,
    coresPerSocket,
    nodes,
    devices,
    append,
    kvm,
    amdHole,
  };
}

/** The e820 table the guest's firmware (SeaBIOS) hands over, before the kernel's own edits. */
export function qemuE820(q: QemuConfig): E820Entry[] {
  const split = ramSplit(q.machine, q.ramBytes, q.maxRamBelow4g);
  const hasDeviceMemory = q.maxmem > q.ramBytes || q.slots > 0;
  const ramEntries = split.above > 0 ? 2 : 1;
  const top = 0x20000 + (q.nvdimm && hasDeviceMemory ? 0x1000 : 0) + (q.sockets + ramEntries >= 6 ? 0x1000 : 0);
  const out: E820Entry[] = [];
  const add = (start: number, end: number, type: string): void => {
    if (end > start) out.push({ start, end, type });
  };
  add(0, Math.min(0x9fc00, split.below), 'usable');
  add(0x9fc00, 0xa0000, 'reserved');
  add(0xf0000, 0x100000, 'reserved');
  add(0x100000, split.below - top, 'usable');
  add(Math.max(0x100000, split.below - top), split.below, 'reserved');
  if (q.machine === 'q35') {
    add(0xb0000000, 0xc0000000, 'reserved');
    add(0xfed1c000, 0xfed20000, 'reserved');
  }
  add(0xfffc0000, FOUR_G, 'reserved');
  add(FOUR_G, FOUR_G + split.above, 'usable');
  if (q.amdHole) add(0xfd00000000, 0x10000000000, 'reserved');
  return out;
}

/** SRAT memory affinity as build_srat (hw/i386/acpi-build.c) writes it: the nodes' RAM in order. */
export function qemuSrat(q: QemuConfig): { start: number; end: number; nid: number; hotplug: boolean }[] {
  const split = ramSplit(q.machine, q.ramBytes, q.maxRamBelow4g);
  const out: { start: number; end: number; nid: number; hotplug: boolean }[] = [];
  let linear = 0; // offset into guest RAM
  for (const [i, n] of q.nodes.entries()) {
    const from = linear;
    const to = linear + n.mem;
    linear = to;
    const piece = (a: number, b: number): void => {
      if (b > a) out.push({ start: a, end: b, nid: n.nid, hotplug: false });
    };
    // Below 4G: [from, min(to, below)), the 640K-1M hole cut out (node 0 keeps [0, 640K)).
    const lo = Math.min(to, split.below);
    if (from < lo) {
      if (i === 0 || from < 0x100000) {
        piece(from, Math.min(lo, 0xa0000));
        piece(Math.max(from, 0x100000), lo);
      } else piece(from, lo);
    }
    if (to > split.below) piece(FOUR_G + Math.max(0, from - split.below), FOUR_G + (to - split.below));
  }
  if (q.nodes.length && (q.maxmem > q.ramBytes || q.slots > 0)) {
    const r = deviceMemoryRegion(split.above, q.ramBytes, q.maxmem, q.slots);
    out.push({ start: r.start, end: r.end, nid: q.nodes[q.nodes.length - 1]?.nid ?? 0, hotplug: true });
  }
  return out;
}

/**
 * The kernel's early edits of the firmware's table (arch/x86/kernel/setup.c): trim_bios_range
 * makes page 0 reserved (e820__range_update) and drops RAM in [0xa0000, 0x100000).
 */
export const KERNEL_EARLY_E820_EDITS: readonly { start: number; end: number; kind: 'to-reserved' | 'remove' }[] = [
  { start: 0, end: 0x1000, kind: 'to-reserved' },
  { start: 0xa0000, end: 0x100000, kind: 'remove' },
];

/** The machine a QEMU guest's kernel sees: memblock.memory by node, CPUs per node, NVDIMMs. */
export interface QemuMachine {
  readonly config: QemuConfig;
  readonly e820: readonly E820Entry[];
  readonly memory: readonly MemblockRegion[];
  readonly nodes: readonly { readonly nid: number; readonly cpus: number }[];
  readonly pmem: readonly { readonly start: number; readonly size: number; readonly nid: number; readonly labels: boolean }[];
}

export function qemuMachine(q: QemuConfig): QemuMachine {
  const e820 = qemuE820(q);
  const srat = qemuSrat(q);
  const memory = memblockFromE820(e820, KERNEL_EARLY_E820_EDITS, srat, q.nodes.length === 0);
  const nodes = q.nodes.length ? [...q.nodes].sort((a, b) => a.nid - b.nid).map((n) => ({ nid: n.nid, cpus: n.cpus.length })) : [{ nid: 0, cpus: q.cpus }];
  const pmem = q.devices.filter((d) => d.driver === 'nvdimm').map((d) => ({ start: d.start, size: d.size, nid: d.node, labels: d.labelSize > 0 }));
  return { config: q, e820, memory, nodes, pmem };
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** The machine file (mmsim's machine YAML) for a QEMU command line. */
export function qemuMachineYaml(m: QemuMachine, source: string): string {
  const q = m.config;
  const lines: string[] = [];
  lines.push(`# From the QEMU command line: ${source.replace(/\s+/g, ' ').trim()}`);
  lines.push(`# QEMU ${q.machine}, ${q.ramBytes / MiB} MiB RAM, ${q.cpus} CPU(s); the e820 map is SeaBIOS's as QEMU 7.2 guests show it (docs/fidelity.md).`);
  lines.push(`name: qemu-${q.machine}`);
  lines.push(`hypervisor: ${q.kvm ? 'KVM' : 'null'}`);
  // The kernel's e820 table after its early edits, as /proc/iomem shows it.
  const edited: E820Entry[] = [];
  for (const e of m.e820) {
    if (e.type === 'usable' && e.start < 0x1000) {
      edited.push({ start: e.start, end: 0x1000, type: 'reserved' });
      if (e.end > 0x1000) edited.push({ start: 0x1000, end: e.end, type: e.type });
    } else edited.push(e);
  }
  lines.push('e820:');
  for (const e of edited) lines.push(`  - { start: ${hex(e.start)}, end: ${hex(e.end)}, type: ${e.type} }`);
  if (q.append.trim()) lines.push(`cmdline: ${JSON.stringify(q.append.trim())}`);
  lines.push('nodes:');
  for (const n of m.nodes) {
    lines.push(`  - nid: ${n.nid}`);
    lines.push(`    cpus: ${n.cpus}`);
    const mem = m.memory.filter((r) => r.nid === n.nid);
    lines.push(`    memory:${mem.length ? '' : ' []'}`);
    for (const r of mem) lines.push(`      - { start: ${hex(r.base)}, end: ${hex(r.base + r.size)} }`);
    const pm = m.pmem.filter((p) => p.nid === n.nid);
    if (pm.length) {
      lines.push('    pmem:');
      for (const p of pm) lines.push(`      - { start: ${hex(p.start)}, size: ${hex(p.size)}${p.labels ? ', labels: true' : ''} }`);
    }
  }
  const later = q.devices.filter((d) => d.driver !== 'nvdimm');
  if (later.length) {
    lines.push('# Memory devices the guest adds itself (the ACPI memory device driver or virtio-mem), as scenario steps:');
    for (const d of later) {
      if (d.driver === 'pc-dimm') lines.push(`#   - add: { node: ${d.node}, start: ${hex(d.start)}, size: ${hex(d.size)} }   # -device pc-dimm,id=${d.id}`);
      else if (d.requested > 0)
        lines.push(`#   - add: { node: ${d.node}, start: ${hex(d.start)}, size: ${hex(d.requested)}, device: virtio-mem, name: ${d.id}, region: { start: ${hex(d.start)}, size: ${hex(d.size)} } }`);
      else lines.push(`#   virtio-mem ${d.id} on node ${d.node}: region { start: ${hex(d.start)}, size: ${hex(d.size)} }, nothing plugged at start (requested-size=0)`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * QEMU's placement of a scenario's hot-added devices on a machine file's guest, as `mmsim verify`
 * starts it (verify/verify.ts qemuArgs): the device-memory region after the RAM above 4 GiB, sized
 * by verifyHotplugSizing; the boot NVDIMMs and virtio-mem regions in it from the start; each
 * pc-dimm (a memory-backend-ram: 2 MiB alignment) or NVDIMM (a file: 4 KiB) at the first fit,
 * and a removed pc-dimm's range free again (device_del).
 */
export function qemuAddPlacer(
  spec: { readonly memory: readonly { readonly base: number; readonly size: number; readonly nid: number }[]; readonly pmem: readonly { readonly base: number; readonly size: number }[] },
  steps: readonly unknown[],
): {
  add(a: { start?: number; size: number; device: 'dimm' | 'virtio-mem' | 'nvdimm'; region?: { start: number; size: number } }, at: string): number;
  remove(r: { start: number; size: number }): void;
} {
  const aboveEnd = spec.memory.reduce((e, r) => (r.base + r.size > FOUR_G ? Math.max(e, r.base + r.size) : e), FOUR_G);
  const nids = [...new Set(spec.memory.map((r) => r.nid))];
  const ram = nids.reduce((s, nid) => s + Math.ceil(spec.memory.filter((r) => r.nid === nid).reduce((t, r) => t + r.size, 0) / (128 * MiB)) * 128 * MiB, 0);
  const hot = steps.reduce<number>((s, st) => s + (st !== null && typeof st === 'object' && 'add' in st ? ((st as { add: { size: number } }).add.size ?? 0) : 0), 0);
  const { slots, maxmem } = verifyHotplugSizing(ram, hot);
  const region = deviceMemoryRegion(aboveEnd - FOUR_G, ram, maxmem, slots);
  const used: { start: number; size: number; dimm: boolean }[] = spec.pmem.map((p) => ({ start: p.base, size: p.size, dimm: false }));
  const virtio = new Set<string>();
  return {
    add(a, at) {
      if (a.device === 'virtio-mem') {
        const r = a.region ?? (a.start !== undefined ? { start: a.start, size: a.size } : null);
        const key = r ? `${r.start}` : '';
        if (r && !virtio.has(key)) {
          virtio.add(key);
          used.push({ start: r.start, size: r.size, dimm: false });
        }
        return a.start ?? 0;
      }
      const start = a.start ?? memoryDeviceFreeAddr(region, used, a.size, a.device === 'dimm' ? QEMU_RAM_BACKEND_ALIGN : QEMU_FILE_BACKEND_ALIGN, at);
      used.push({ start, size: a.size, dimm: a.device === 'dimm' });
      return start;
    },
    remove(r) {
      const i = used.findIndex((u) => u.dimm && u.start === r.start && u.size === r.size);
      if (i >= 0) used.splice(i, 1);
    },
  };
}
