// NVDIMM namespaces and device-dax as the kernel sets them up (drivers/nvdimm/pfn_devs.c
// nd_pfn_init and __nvdimm_setup_pfn, drivers/nvdimm/pmem.c, drivers/dax/pmem.c, device.c and
// kmem.c; 5.3-6.18): a region per NVDIMM range, a label-less region's one raw namespace or
// label-defined namespaces, fsdax / devdax with the info block, memmap reservation (--map=dev) and
// alignment padding, the dev_pagemap each mode maps, and dax/kmem adding the device's whole
// memory blocks as "System RAM (kmem)". Leaves out BTT/sector mode, namespace labels' on-media
// format, multi-interleave regions and the NFIT's flush hints.
import type { DaxDevice, Namespace, NamespaceMode, NvdimmRegion } from './nd.js';
import type { Task } from './task.js';
import { addMemoryResource, EBUSY, EINVAL, removeMemory } from './memory_hotplug.js';
import { type Machine } from './machine.js';
import { memremapPages, memunmapPages, pgmapAddress } from './memremap.js';
import { VmemAltmap, type DevPagemap } from './dev_pagemap.js';
import type { Bytes, Nid, PhysAddr } from '../units.js';

const SZ_8K = 8192;
/** MAX_STRUCT_PAGE_SIZE: the per-page memmap reservation of --map=dev (64 bytes per 4 KiB). */
export const MAX_STRUCT_PAGE_SIZE = 64;
/** The interleave-set alignment QEMU's NFIT gives a region (ndctl shows it as "align"). */
export const REGION_ALIGN = 16 * 2 ** 20;
/** PMD_SIZE on x86_64: the default pfn/dax alignment (nd_pfn_default_alignment). */
export const DEFAULT_PFN_ALIGN = 2 * 2 ** 20;

/** The machine's NVDIMM regions, one per pmem range (created on first use). */
export { rawNamespace };

export function nvdimmRegions(m: Machine): NvdimmRegion[] {
  if (m.nvdimm) return m.nvdimm;
  m.nvdimm = [];
  for (const p of m.state.spec.pmem) nvdimmRegionAdd(m, p.nid, p.base, p.size, p.labels ?? false);
  return m.nvdimm;
}

/**
 * A region for an NVDIMM (at boot from the NFIT, or hot-added: acpi_nfit_notify -> a new region
 * on the nd bus) with its raw namespace enabled (label-less) or none until labels are written.
 */
export function nvdimmRegionAdd(m: Machine, nid: Nid, start: PhysAddr, size: Bytes, labelArea: boolean): NvdimmRegion {
  const regions = m.nvdimm ?? nvdimmRegions(m);
  const i = regions.length;
  const r: NvdimmRegion = {
    id: i,
    dev: `region${i}`,
    nid,
    start,
    size,
    align: REGION_ALIGN,
    labelArea,
    labelled: false,
    enabled: true,
    namespaces: [],
    // QEMU's NFIT: vendor 0x8086 and serial 0x00123456 as ndctl prints them, handle 1 + i.
    dimm: { dev: `nmem${i}`, id: '8680-56341200', handle: `0x${(i + 1).toString(16)}`, physId: `${i}` },
    isetId: '0x2468ac00123456',
  };
  r.namespaces.push(rawNamespace(r));
  regions.push(r);
  return r;
}

/** A label-less region's one namespace: raw, the whole region, /dev/pmemN. */
function rawNamespace(r: NvdimmRegion): Namespace {
  return {
    dev: `namespace${r.id}.0`,
    index: 0,
    start: r.start,
    size: r.size,
    mode: 'raw',
    map: 'dev',
    uuid: null,
    align: 0,
    dataOffset: 0,
    endTrunc: 0,
    pgmap: null,
    dax: null,
    blockdev: pmemName(r, 0),
    enabled: true,
  };
}

/** nvdimm_namespace_disk_name: pmem<region> for index 0, pmem<region>.<index> after. */
function pmemName(r: { id: number }, index: number): string {
  return index === 0 ? `pmem${r.id}` : `pmem${r.id}.${index}`;
}

/** Free space of a labelled region: [start, end) gaps between its namespaces. */
export function availableExtents(r: NvdimmRegion): { start: PhysAddr; size: Bytes }[] {
  if (!r.labelled) return [];
  const used = r.namespaces.filter((n) => n.size > 0).sort((a, b) => a.start - b.start);
  const out: { start: PhysAddr; size: Bytes }[] = [];
  let at = r.start;
  for (const n of used) {
    if (n.start > at) out.push({ start: at, size: n.start - at });
    at = Math.max(at, n.start + n.size);
  }
  if (at < r.start + r.size) out.push({ start: at, size: r.start + r.size - at });
  return out;
}

/** nd_pfn_init's geometry for a namespace [start, start + size): data offset and end truncation; null when it cannot fit. */
export function pfnGeometry(start: PhysAddr, size: Bytes, map: 'dev' | 'mem', pfnAlign: number): { dataOffset: number; endTrunc: number } | null {
  const align = Math.max(pfnAlign, DEFAULT_PFN_ALIGN); // memremap_compat_align
  if (start % DEFAULT_PFN_ALIGN !== 0) return null; // "start %pa misaligned"
  const npfns = (size - SZ_8K) / 4096;
  const endTrunc = start + size - Math.floor((start + size) / align) * align;
  const dataOffset = map === 'dev' ? Math.ceil((start + SZ_8K + MAX_STRUCT_PAGE_SIZE * npfns) / align) * align - start : Math.ceil((start + SZ_8K) / align) * align - start;
  if (dataOffset >= size) return null; // "unable to satisfy requested alignment"
  return { dataOffset, endTrunc };
}

/** The dev_pagemap fsdax (pmem) or devdax (dax_pmem) maps: the namespace less end_trunc, an altmap with --map=dev. */
function namespacePgmap(m: Machine, r: NvdimmRegion, ns: Namespace, name: string): DevPagemap {
  const page = m.pageBytes;
  const start = ns.start;
  const end = ns.start + ns.size - ns.endTrunc - 1;
  const altmap = ns.map === 'dev' ? new VmemAltmap(start / page, SZ_8K / page, (ns.dataOffset - SZ_8K) / page) : null;
  // dev_dax_probe: vmemmap_shift = order_base_2(align / PAGE_SIZE) when align > PAGE_SIZE (5.17+).
  const shift = ns.mode === 'devdax' && m.state.profile.features.compoundDevmaps && ns.align > page ? Math.ceil(Math.log2(ns.align / page)) : 0;
  return { name, type: ns.mode === 'fsdax' ? 'fsdax' : 'generic', start, end, altmap, vmemmapShift: shift, address: pgmapAddress(m), nid: r.nid, initialisedTo: 0, live: true };
}

/**
 * Set a namespace up in a mode: the pfn/dax info block and geometry, then memremap_pages (which
 * runs memmap_init_zone_device after mem_hotplug_lock). 0 or -errno.
 */
export function* enableNamespace(m: Machine, r: NvdimmRegion, ns: Namespace, mode: NamespaceMode, map: 'dev' | 'mem', align: number): Task<number> {
  ns.mode = mode;
  ns.map = map;
  if (mode === 'raw') {
    ns.blockdev = pmemName(r, ns.index);
    ns.enabled = true;
    return 0;
  }
  const g = pfnGeometry(ns.start, ns.size, map, align);
  if (!g) return -EINVAL;
  ns.align = Math.max(align, DEFAULT_PFN_ALIGN);
  ns.dataOffset = g.dataOffset;
  ns.endTrunc = g.endTrunc;
  if (mode === 'fsdax') {
    ns.blockdev = pmemName(r, ns.index);
    ns.pgmap = namespacePgmap(m, r, ns, ns.blockdev);
  } else {
    ns.blockdev = null;
    ns.dax = {
      dev: `dax${r.id}.${ns.index}`,
      regionId: r.id,
      start: ns.start + g.dataOffset,
      end: ns.start + ns.size - g.endTrunc - 1,
      align: ns.align,
      targetNode: r.nid,
      mode: 'devdax',
      kmem: null,
    };
    ns.pgmap = namespacePgmap(m, r, ns, ns.dax.dev);
    m.resourcesDax.set(ns.dax.dev, { start: ns.dax.start, end: ns.dax.end });
  }
  ns.enabled = true;
  const rc = yield* memremapPages(m, ns.pgmap);
  if (rc !== 0) {
    ns.pgmap = null;
    ns.dax = null;
  }
  return rc;
}

/** Tear a namespace's mode down (devdax must not be in system-ram mode): memunmap_pages. */
export function* disableNamespace(m: Machine, ns: Namespace): Task<number> {
  if (ns.dax?.mode === 'system-ram') return -EBUSY;
  if (ns.pgmap?.live) {
    const rc = yield* memunmapPages(m, ns.pgmap);
    if (rc !== 0) return rc;
  }
  if (ns.dax) m.resourcesDax.delete(ns.dax.dev);
  ns.pgmap = null;
  ns.dax = null;
  ns.blockdev = null;
  ns.enabled = false;
  return 0;
}

/**
 * dax/kmem probe: unbind device_dax (memunmap_pages), then add the device's range rounded in to
 * whole memory blocks (start up, end down) with add_memory_driver_managed into a static group,
 * under its "daxX.Y" resource. 0 or -errno.
 */
export function* daxKmemProbe(m: Machine, ns: Namespace): Task<number> {
  const dax = ns.dax;
  if (!dax || dax.mode !== 'devdax') return -EINVAL;
  if (ns.pgmap?.live) {
    const rc = yield* memunmapPages(m, ns.pgmap);
    if (rc !== 0) return rc;
  }
  ns.pgmap = null;
  const bb = m.blockBytes;
  const start = Math.ceil(dax.start / bb) * bb;
  const end = Math.floor((dax.end + 1) / bb) * bb;
  if (end <= start) return -EINVAL; // "rejecting DAX region ... for lack of memory blocks"
  const group = m.registerGroup(dax.targetNode, false, Math.ceil((end - start) / m.pageBytes));
  yield { op: 'mutex_lock', lock: m.deviceHotplugLock };
  const rc = yield* m.step('add_memory_resource', addMemoryResource)(m, dax.targetNode, start, end - start, { group, memmapOnMemory: false, resource: 'System RAM (kmem)', parent: dax.dev });
  yield { op: 'mutex_unlock', lock: m.deviceHotplugLock };
  if (rc !== 0) {
    m.groups.delete(group.id);
    return rc;
  }
  m.resourcesDax.set(dax.dev, { start, end: end - 1 });
  dax.mode = 'system-ram';
  dax.kmem = { start, size: end - start, group };
  return 0;
}

/** dax/kmem remove then device_dax probe: the memory must be offline; remove_memory, then memremap_pages again. */
export function* daxKmemRemove(m: Machine, r: NvdimmRegion, ns: Namespace): Task<number> {
  const dax = ns.dax;
  if (!dax?.kmem) return -EINVAL;
  const rc = yield* removeMemory(m, dax.kmem.start, dax.kmem.size);
  if (rc !== 0) return rc;
  m.groups.delete(dax.kmem.group.id);
  dax.kmem = null;
  dax.mode = 'devdax';
  m.resourcesDax.set(dax.dev, { start: dax.start, end: dax.end });
  ns.pgmap = namespacePgmap(m, r, ns, dax.dev);
  return yield* memremapPages(m, ns.pgmap);
}

/**
 * The namespaces a machine's NVDIMMs bring configured into this boot, as the probes the nvdimm
 * bus schedules for them (async_schedule_dev_domain: a work item on the node of each device, so
 * the probes of different nodes run in parallel): one task per namespace, with its node.
 */
export function bootNamespaceProbes(m: Machine): { readonly name: string; readonly nid: Nid; readonly task: Task<number> }[] {
  const out: { name: string; nid: Nid; task: Task<number> }[] = [];
  nvdimmRegions(m).forEach((r, i) => {
    const cfg = m.state.spec.pmem[i]?.namespace;
    const ns = r.namespaces[0];
    if (!cfg || !ns || cfg.mode === 'raw') return;
    if (r.labelArea) {
      // The label on the media defines the namespace: the whole region.
      r.labelled = true;
    }
    ns.uuid = newNamespaceUuid(m);
    out.push({
      name: `${cfg.mode === 'devdax' ? 'dax_pmem' : 'nd_pmem'} probe ${ns.dev} (node ${r.nid})`,
      nid: r.nid,
      task: enableNamespace(m, r, ns, cfg.mode, cfg.map, cfg.align ?? DEFAULT_PFN_ALIGN),
    });
  });
  return out;
}

/** A namespace's uuid: from the machine's seeded sequence, as libuuid would give a fresh one. */
export function newNamespaceUuid(m: Machine): string {
  let x = (Math.imul(m.uuidSerial++ + 1, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  let hexs = '';
  for (let i = 0; i < 8; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    hexs += x.toString(16).padStart(8, '0').slice(0, 4);
  }
  const h = hexs.split('');
  h[12] = '4';
  h[16] = ((parseInt(h[16] as string, 16) & 3) | 8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** The memory block ids of a kmem range. */
export function kmemBlocks(m: Machine, dax: DaxDevice): number[] {
  if (!dax.kmem) return [];
  const first = dax.kmem.start / m.blockBytes;
  return Array.from({ length: dax.kmem.size / m.blockBytes }, (_, i) => first + i);
}
