// The NVDIMM subsystem's objects as the model keeps them (drivers/nvdimm/nd.h, drivers/dax/
// dax-private.h): regions, namespaces and device-dax instances.
import type { DevPagemap } from './dev_pagemap.js';
import type { MemoryGroup } from './memory.js';
import type { Bytes, Nid, PhysAddr } from '../units.js';

export type NamespaceMode = 'raw' | 'fsdax' | 'devdax';

/** A device-dax instance (drivers/dax): its range, its mode and, in system-ram mode, kmem's memory. */
export interface DaxDevice {
  readonly dev: string;
  readonly regionId: number;
  readonly start: PhysAddr;
  /** Inclusive. */
  readonly end: PhysAddr;
  readonly align: number;
  readonly targetNode: Nid;
  mode: 'devdax' | 'system-ram';
  /** kmem: the memory-block-aligned range added, its static group. */
  kmem: { readonly start: PhysAddr; readonly size: Bytes; readonly group: MemoryGroup } | null;
}

export interface Namespace {
  readonly dev: string;
  readonly index: number;
  readonly start: PhysAddr;
  readonly size: Bytes;
  mode: NamespaceMode;
  map: 'dev' | 'mem';
  uuid: string | null;
  align: number;
  /** fsdax / devdax geometry: data offset and end truncation (nd_pfn_init). */
  dataOffset: number;
  endTrunc: number;
  pgmap: DevPagemap | null;
  dax: DaxDevice | null;
  /** The pmemN block device (raw and fsdax). */
  blockdev: string | null;
  enabled: boolean;
}

export interface NvdimmRegion {
  readonly id: number;
  readonly dev: string;
  readonly nid: Nid;
  readonly start: PhysAddr;
  readonly size: Bytes;
  readonly align: number;
  /** The DIMM has a label area (QEMU label-size > 0). */
  readonly labelArea: boolean;
  /** Labels initialised (ndctl init-labels): namespaces come from labels, not the raw one. */
  labelled: boolean;
  enabled: boolean;
  readonly namespaces: Namespace[];
  readonly dimm: { readonly dev: string; readonly id: string; readonly handle: string; readonly physId: string };
  readonly isetId: string;
}
