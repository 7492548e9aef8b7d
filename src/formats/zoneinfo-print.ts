// /proc/zoneinfo of a booted machine (zoneinfo_show / zoneinfo_show_print, mm/vmstat.c) in the
// profile's layout. Modelled: spanned, present, start_pfn, the protection shape, and managed
// (with protection): boot's share where memblock.reserved is known (a machine's reserved: ranges, else
// boot's memblock model of kernel/setup.ts where its inputs are known), plus what hotplug onlined and
// offlined since (online_pages / offline_pages's adjust_managed_page_count). Everything else prints as 0.
import type { ZoneAtBoot } from '../kernel/machine.js';
import type { BootState } from '../kernel/mm_init.js';
import type { PglistData, Zone } from '../kernel/mmzone.js';
import { releaseCode, versionCode } from '../profiles/release.js';
import { renderZoneinfo, ZONEINFO_LAYOUTS, type ZoneinfoLayout, type ZoneinfoNode } from './zoneinfo-layouts.js';

/** The layout of the nearest modelled version at or below the profile's. */
export function zoneinfoLayoutFor(state: BootState): ZoneinfoLayout {
  const code = releaseCode(state.profile.release);
  if (code >= versionCode(6, 18)) return ZONEINFO_LAYOUTS['6.18'];
  if (code >= versionCode(6, 1)) return ZONEINFO_LAYOUTS['6.1'];
  return ZONEINFO_LAYOUTS['v5.3'];
}

/** sysctl_lowmem_reserve_ratio defaults by zone name (DMA 256, DMA32 256, Normal 32, others 0). */
const LOWMEM_RESERVE_RATIO: Record<string, number> = { DMA: 256, DMA32: 256, Normal: 32 };

/**
 * Pages a zone hands to the buddy allocator by the end of boot (memblock_free_all plus the
 * deferred threads): its memblock memory minus memblock.reserved, or boot's memblock model
 * (kernel/setup.ts: what memblock_free_all and the frees after mem_init leave). Null without either.
 */
export function runtimeManagedPages(state: BootState, zone: Zone, span: { zoneStartPfn: number; spannedPages: number } = zone): number | null {
  const reserved = state.spec.reserved;
  // Without given reserved ranges: boot's memblock model (kernel/setup.ts), where it applies.
  if (reserved === null && state.memblock) return span.spannedPages === 0 ? 0 : (state.memblock.managed.get(`${zone.nid}/${zone.zoneIdx}`) ?? 0);
  if (reserved === null || span.spannedPages === 0) return reserved === null ? null : 0;
  const page = 2 ** state.arch.pageShift;
  const zs = span.zoneStartPfn;
  const ze = zs + span.spannedPages;
  const res = [...reserved].sort((a, b) => a.base - b.base);
  let managed = 0;
  for (const r of state.regions) {
    if (r.nid !== zone.nid) continue;
    const s = Math.max(r.start, zs);
    const e = Math.min(r.end, ze);
    if (s >= e) continue;
    // Free pieces of [s, e) in bytes, then whole pages of each piece.
    let cursor = s * page;
    const end = e * page;
    for (const x of res) {
      if (x.base + x.size <= cursor || x.base >= end) continue;
      if (x.base > cursor) managed += Math.floor(x.base / page) - Math.ceil(cursor / page);
      cursor = Math.max(cursor, x.base + x.size);
    }
    if (cursor < end) managed += Math.floor(end / page) - Math.ceil(cursor / page);
  }
  return managed;
}

/**
 * setup_per_zone_lowmem_reserve: protection[j] of zone i = managed of zones i+1..j / ratio[i].
 * clearEmpty (6.1+; read in 6.18.2 mm/page_alloc.c, absent from v5.3, 5.4-6.0 unverified): a
 * zone with no managed pages of its own reserves nothing (`clear = !ratio ||
 * !zone_managed_pages(zone)`); a zone whose own count is unknown but has present pages is taken
 * to have some.
 */
function protection(node: PglistData, zone: Zone, managed: (z: Zone) => number | null, clearEmpty: boolean): number[] {
  const n = node.zones.length;
  const out: number[] = new Array<number>(n).fill(0);
  const own = managed(zone);
  if (clearEmpty && (own === 0 || (own === null && zone.presentPages === 0))) return out;
  const ratio = LOWMEM_RESERVE_RATIO[zone.name] ?? 0;
  let sum = 0;
  for (let j = zone.zoneIdx + 1; j < n; j++) {
    const upper = node.zones[j];
    const m = upper ? managed(upper) : 0;
    if (m === null) return new Array<number>(n).fill(0);
    sum += m;
    out[j] = ratio ? Math.floor(sum / ratio) : 0;
  }
  return out;
}

/**
 * zone_managed_pages as /proc/zoneinfo shows it: boot's share (runtimeManagedPages over the zone's
 * boot span; 0 for a zone with no memory at boot; null, unknown, without `reserved:`) plus the pages
 * hotplug freed to the buddy since (online_pages's adjust_managed_page_count; memmap_on_memory's
 * vmemmap pages are present but never managed) less those offline_pages took back. Without
 * bootZones (a state straight from boot) it is boot's share alone.
 */
export function zoneinfoManagedPages(state: BootState, zone: Zone, bootZones?: ReadonlyMap<Zone, ZoneAtBoot>): number | null {
  const atBoot = bootZones?.get(zone);
  if (!atBoot) return runtimeManagedPages(state, zone);
  const bootShare = atBoot.presentPages === 0 ? 0 : runtimeManagedPages(state, zone, atBoot);
  if (bootShare === null) return null;
  return bootShare + (zone.managedPages ?? 0) - (atBoot.managedPages ?? 0);
}

/** /proc/zoneinfo now; bootZones (Machine.bootZones) adds hotplug's managed pages to boot's. */
export function printBootZoneinfo(state: BootState, bootZones?: ReadonlyMap<Zone, ZoneAtBoot>): string {
  const layout = zoneinfoLayoutFor(state);
  const nrCpus = state.nodes.reduce((s, n) => s + (n.online ? n.cpus : 0), 0) || 1;
  const managedOf = (z: Zone): number | null => zoneinfoManagedPages(state, z, bootZones);
  const clearEmpty = releaseCode(state.profile.release) >= versionCode(6, 1);
  const nodes: ZoneinfoNode[] = state.nodes
    .filter((n) => n.online)
    .map((node) => ({
      id: node.nodeId,
      zones: node.zones.map((zone) => ({
        name: zone.name,
        fields: { spanned: zone.spannedPages, present: zone.presentPages, managed: managedOf(zone) ?? 0 },
        protection: protection(node, zone, managedOf, clearEmpty),
        pagesets: Array.from({ length: nrCpus }, (_, cpu) => ({ cpu, values: {}, threshold: 0 })),
        startPfn: zone.zoneStartPfn,
      })),
    }));
  return renderZoneinfo(layout, nodes);
}
