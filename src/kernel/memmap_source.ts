// The struct page layout of a booted machine (kernel/page_layout.ts for its arch, kernel
// version and config) as the PageRecordSource the memmap backends write through.
import type { BootState } from './mm_init.js';
import {
  decodePageFlags,
  defaultPageConfig,
  pageFlagBits,
  pageFlagsField,
  pageFlagsLayout,
  pageConfigFromKconfig,
  initSinglePageRecord,
  structPageLayout,
  type PageConfig,
  type PageLayoutVersion,
} from './page_layout.js';
import { releaseCode, versionCode } from '../profiles/release.js';
import { makePageWriter, type PageRecordSource, type PageWriter } from '../memmap/page_writer.js';

/** The struct page layout modelled for a kernel: v5.3 up to 6.0, 6.1 up to 6.11, 6.12 up to 6.17, 6.18 on. */
export function pageLayoutVersionFor(state: BootState): PageLayoutVersion {
  const code = releaseCode(state.profile.release);
  if (code >= versionCode(6, 18)) return '6.18';
  if (code >= versionCode(6, 12)) return '6.12';
  if (code >= versionCode(6, 1)) return '6.1';
  return 'v5.3';
}

/** The machine's struct page config: its kernel .config when given, else the arch defaults with the machine's NODES_SHIFT. */
export function pageConfigFor(state: BootState): PageConfig {
  let c = configs.get(state);
  if (!c) {
    const k = state.spec.config.kconfig;
    // The machine's own config options (NODES_SHIFT) override the arch's distro defaults.
    const base = k ? pageConfigFromKconfig(k, pageLayoutVersionFor(state), state.arch) : { ...defaultPageConfig(state.arch, pageLayoutVersionFor(state)), nodesShift: state.spec.config.nodesShift };
    const code = releaseCode(state.profile.release);
    c = { ...base, orderInFlags1: code >= versionCode(6, 6) };
    configs.set(state, c);
  }
  return c;
}

const configs = new WeakMap<BootState, PageConfig>();

/**
 * vmemmap base of x86_64 without KASLR (nokaslr): __VMEMMAP_BASE_L4, or __VMEMMAP_BASE_L5 with
 * 5-level paging (arch/x86/include/asm/pgtable_64_types.h); other arches print the 4-level base.
 */
export function vmemmapBaseFor(state: BootState): bigint {
  return state.arch.name === 'x86_64' && state.spec.config.la57 ? 0xffd4000000000000n : 0xffffea0000000000n;
}

export function pageRecordSourceFor(state: BootState): PageRecordSource {
  const cfg = pageConfigFor(state);
  const sp = structPageLayout(cfg);
  const lru = sp.fields.get('lru');
  const base = vmemmapBaseFor(state);
  return {
    recordBytes: sp.size,
    lruOffset: lru?.offset ?? 8,
    pgReservedBit: pageFlagBits(cfg).get('PG_reserved') ?? 0,
    pageTypeOffset: sp.fields.get('page_type')?.offset ?? 48,
    vmemmapBase: base,
    writeRecord: (dv, off, pfn, zone, nid) => initSinglePageRecord(dv, off, pfn, zone, nid, cfg, base),
  };
}

const writers = new WeakMap<BootState, PageWriter>();

/** The machine's PageWriter (one per booted machine). */
export function pageWriterFor(state: BootState): PageWriter {
  let w = writers.get(state);
  if (!w) {
    w = makePageWriter(pageRecordSourceFor(state));
    writers.set(state, w);
  }
  return w;
}

/** decode_page_flags and the zone and node fields of a flags word. */
export function decodePageFlagsFor(state: BootState, flags: bigint): { names: string; zone: string; nid: number } {
  const cfg = pageConfigFor(state);
  const layout = pageFlagsLayout(cfg);
  const zoneIdx = Number(pageFlagsField(flags, layout, 'zone'));
  const nid = layout.nodesWidth ? Number(pageFlagsField(flags, layout, 'node')) : -1;
  return { names: decodePageFlags(flags, cfg), zone: state.zoneNames[zoneIdx] ?? `zone ${zoneIdx}`, nid };
}
