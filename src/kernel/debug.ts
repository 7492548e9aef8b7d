// The CONFIG_DEBUG_VM analogue for hotplug: checkers the drivers call after every task step.
// Each reports in the kernel's own words. Zone spans are checked where the kernel checks them
// (bad_range / page_outside_zone_boundaries on online pages), not as a global predicate.
import { pageblockPfnOutside, type Yield } from './task.js';
import type { TaskId } from './locks.js';
import { zoneForDevice } from './memory_hotplug.js';
import { type Machine } from './machine.js';
import { pagePgmap } from './memremap.js';
import { pfnEnd, pfnFirst } from './dev_pagemap.js';

/** What a checker may ask of the driver running the tasks: which locks a task holds. */
export interface LockInspector {
  /** The task holds a spinlock (or a seqlock's write side): IRQs off, it must not sleep. */
  holdsSpinlock(task: TaskId): boolean;
}

export interface Violation {
  readonly task: TaskId;
  /** The kernel's own words. */
  readonly message: string;
  /** False for what the kernel only warns about or does not notice (the task goes on); default true (a BUG). */
  readonly fatal?: boolean;
  /** Found by a checker that judges the whole state (not the step's own yield). */
  readonly whole?: boolean;
}

/**
 * A checker runs after every step. One that judges the whole state rather than the step's own
 * yield names the resources it reads (prefixes of the explore recorder's names), so that the
 * explore driver's reduction treats every step that writes them as visible.
 */
export type Checker = ((s: LockInspector, task: TaskId, y: Yield) => Violation | null) & {
  readonly reads?: readonly string[];
  /** The same checker over the recorder's wrapped machine: run when this one fires, to record what it read. */
  capture?: Checker;
  /**
   * A whole-state checker's key of everything it reads, where it can give one cheaply: the same
   * key, the same answer (but for the task named), so memoizedChecker runs it once per key. Null
   * when it cannot say.
   */
  readonly stateKey?: () => string | null;
};

/** The checker run once per state key (Checker.stateKey); a checker without one is returned as it is. */
export function memoizedChecker(c: Checker): Checker {
  const key = c.stateKey;
  if (!key) return c;
  let lastKey: string | null = null;
  let last: Violation | null = null;
  const memo = (s: LockInspector, task: TaskId, y: Yield): Violation | null => {
    const k = key();
    if (k === null || k !== lastKey) {
      last = c(s, task, y);
      lastKey = k;
      return last;
    }
    return last && { ...last, task };
  };
  return Object.assign(memo, { reads: c.reads, stateKey: key, ...(c.capture ? { capture: c.capture } : {}) });
}

/** might_sleep with a spinlock held (irqs off): "BUG: sleeping function called from invalid context". */
export function mightSleepChecker(s: LockInspector, t: TaskId, y: Yield): Violation | null {
  const sleeps = y.op === 'might_sleep' || y.op === 'mutex_lock' || y.op === 'down_read' || y.op === 'down_write';
  if (!sleeps || !s.holdsSpinlock(t)) return null;
  const where = y.op === 'might_sleep' ? y.where : y.op;
  return { task: t, message: `BUG: sleeping function called from invalid context at ${where}`, fatal: false };
}

/** The memory pfns of a block: all of a hot-added one, the memblock ranges of a boot one. */
function memoryOf(m: Machine, id: number, start: number, end: number): [number, number][] {
  if (m.hotAdded.has(id)) return [[start, end]];
  return m.state.regions.map((r) => [Math.max(r.start, start), Math.min(r.end, end)] as [number, number]).filter(([s, e]) => s < e);
}

/** A whole-state checker with the resources it reads (see Checker). */
function withReads(c: (s: LockInspector, task: TaskId, y: Yield) => Violation | null, reads: readonly string[]): Checker {
  return Object.assign(c, { reads });
}

/** The online blocks' memory per (node, zone): its hull. */
interface ZoneHull {
  readonly nid: number;
  readonly zone: string;
  start: number;
  end: number;
}

/** A block's memory hull (a block object is hot-added or from boot for its whole life, and its memory with it). */
const blockHull = new WeakMap<object, [number, number]>();

/** What an online block (section online too) adds to its (node, zone)'s hull; null for any other block. */
interface Member {
  readonly key: string;
  readonly nid: number;
  readonly zone: string;
  readonly start: number;
  readonly end: number;
}

function memberOf(m: Machine, id: number): Member | null {
  const b = m.blocks.get(id);
  if (!b || b.state !== 'online' || !b.validZones || b.validZones === 'none') return null;
  if (!m.state.sparse.runOf(b.startSectionNr)?.online) return null;
  let own = blockHull.get(b);
  if (!own) {
    const mem = memoryOf(m, b.id, b.startPfn, b.startPfn + b.nrPages);
    own = [Math.min(...mem.map(([x]) => x)), Math.max(...mem.map(([, y]) => y))];
    blockHull.set(b, own);
  }
  return { key: `${b.nid} ${b.validZones}`, nid: b.nid, zone: b.validZones, start: own[0], end: own[1] };
}

/** A sorted multiset of numbers in an array: the index of the first element not below x. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedInsert(a: number[], x: number): void {
  a.splice(lowerBound(a, x), 0, x);
}

function sortedDelete(a: number[], x: number): void {
  const i = lowerBound(a, x);
  if (a[i] === x) a.splice(i, 1);
}

/**
 * The online blocks grouped by node and zone, kept as each (node, zone)'s sorted starts and ends of
 * its members' memory, so that the hull is the first start and the last end. Built by one walk of
 * the blocks; after that caught up from Machine.blockLog, a block touched since at a time: O(log
 * blocks) a change instead of a walk of all blocks. A section taken offline without a block change
 * (offline_pages does it before the block goes offline) leaves its block in until the block's own
 * change: the hulls are then a superset, which the quick pass may use (a superset inside the
 * spans means the real hulls are) but not refuse on: it rebuilds first.
 */
class OnlineHulls {
  /** The blocksEpoch the members are caught up to, and the sparse epoch as well when built by a walk. */
  private epoch = -1;
  private built = '';
  private readonly members = new Map<number, Member>();
  private readonly zones = new Map<string, { nid: number; zone: string; starts: number[]; ends: number[] }>();
  /** Walks of all blocks so far (the tests count them). */
  walks = 0;

  private add(id: number, x: Member): void {
    this.members.set(id, x);
    let z = this.zones.get(x.key);
    if (!z) this.zones.set(x.key, (z = { nid: x.nid, zone: x.zone, starts: [], ends: [] }));
    sortedInsert(z.starts, x.start);
    sortedInsert(z.ends, x.end);
  }

  private drop(id: number): void {
    const x = this.members.get(id);
    if (!x) return;
    this.members.delete(id);
    const z = this.zones.get(x.key);
    if (!z) return;
    sortedDelete(z.starts, x.start);
    sortedDelete(z.ends, x.end);
  }

  /** One walk of every block: the exact members now. */
  rebuild(m: Machine): void {
    this.walks++;
    this.members.clear();
    this.zones.clear();
    for (const id of m.blocks.keys()) {
      const x = memberOf(m, id);
      if (x) this.add(id, x);
    }
    this.epoch = m.blocksEpoch;
    this.built = `${m.blocksEpoch} ${m.state.sparse.epoch}`;
  }

  /** Exact as of now: built by a walk at the current blocks and sections. */
  exact(m: Machine): boolean {
    return this.built === `${m.blocksEpoch} ${m.state.sparse.epoch}`;
  }

  /** Up to the machine's blocksEpoch: by the blocks logged since, or (the log does not reach back, or a world put back to another history) a walk. */
  sync(m: Machine): void {
    if (this.epoch === m.blocksEpoch) return;
    const log = m.blockLog;
    let i = log.length - 1;
    while (i >= 0 && (log[i] as { epoch: number }).epoch !== this.epoch) i--;
    if (i < 0 || log[log.length - 1]?.epoch !== m.blocksEpoch) return this.rebuild(m);
    for (const { id } of log.slice(i + 1)) {
      this.drop(id);
      const x = memberOf(m, id);
      if (x) this.add(id, x);
    }
    this.epoch = m.blocksEpoch;
  }

  hulls(): ZoneHull[] {
    const out: ZoneHull[] = [];
    for (const z of this.zones.values()) if (z.starts.length) out.push({ nid: z.nid, zone: z.zone, start: z.starts[0] as number, end: z.ends[z.ends.length - 1] as number });
    return out;
  }
}

/** Each machine's hull index, shared by its zoneSpanCheckers (the run driver makes one a step); the tests count its walks. */
export const onlineHullsOf = new WeakMap<Machine, OnlineHulls>();

/** bad_range: the memory pages of every online block lie inside the span of the zone they are in. */
export function zoneSpanChecker(m: Machine): Checker {
  // A quick pass first: while every (node, zone)'s hull of online memory lies in its zone's span
  // and every such zone in its node's, no block breaks either. Otherwise the walk below finds the
  // first block that does, as it always did.
  const index = onlineHullsOf.get(m) ?? new OnlineHulls();
  onlineHullsOf.set(m, index);
  const inSpans = (hulls: readonly ZoneHull[]): boolean =>
    hulls.every((h) => {
      const zone = m.node(h.nid).zones.find((z) => z.name === h.zone);
      if (!zone) return true;
      const zs = zone.zoneStartPfn;
      const ze = zs + zone.spannedPages;
      if (h.start < zs || h.end > ze) return false;
      const node = m.node(h.nid);
      return spansInFlux(m, h.nid) || (zs >= node.nodeStartPfn && ze <= node.nodeStartPfn + node.nodeSpannedPages);
    });
  const quiet = (): boolean => {
    index.sync(m);
    if (inSpans(index.hulls())) return true;
    if (index.exact(m)) return false;
    index.rebuild(m);
    return inSpans(index.hulls());
  };
  return withReads(
    (_s, task) => {
      if (quiet()) return null;
      for (const b of m.blocks.values()) {
        if (b.state !== 'online' || !b.validZones || b.validZones === 'none') continue;
        // Only online pages are checked (pfn_to_online_page): offline_pages takes the sections
        // offline before the span shrinks.
        if (!m.state.sparse.runOf(b.startSectionNr)?.online) continue;
        const zone = m.node(b.nid).zones.find((z) => z.name === b.validZones);
        if (!zone) continue;
        const zs = zone.zoneStartPfn;
        const ze = zs + zone.spannedPages;
        for (const [s, e] of memoryOf(m, b.id, b.startPfn, b.startPfn + b.nrPages)) {
          if (s < zs || e > ze) {
            const pfn = s < zs ? s : e - 1;
            return { task, message: `page 0x${pfn.toString(16)} outside node ${b.nid} zone ${zone.name} [ 0x${zs.toString(16)} - 0x${ze.toString(16)} ]` };
          }
        }
        const node = m.node(b.nid);
        // Zone and node spans change together under pgdat_resize_lock (before 5.14) or only under
        // mem_hotplug_lock held for writing (5.14+): judge them when those are free.
        if (spansInFlux(m, b.nid)) continue;
        if (zs < node.nodeStartPfn || ze > node.nodeStartPfn + node.nodeSpannedPages) {
          return { task, message: `zone ${zone.name} [ 0x${zs.toString(16)} - 0x${ze.toString(16)} ] outside node ${b.nid} span` };
        }
      }
      return null;
    },
    ['m.blocks', 'm.hotAdded', 'mem_section', 'zone:', 'node:', 'lock:'],
  );
}

/**
 * A hotplug writer is between updates of spans or counts that readers see together: it holds
 * pgdat_resize_lock (before 5.14) or mem_hotplug_lock for writing, or it is between a zone's
 * span and its node's (Machine.spanUpdates). The last is no lock: 6.1's memory_block_online
 * (drivers/base/memory.c) calls mhp_init_memmap_on_memory, whose move_pfn_range_to_zone grows
 * the zone (resize_zone_range) and then the node (resize_pgdat_range), before online_pages takes
 * mem_hotplug_lock (later kernels take it first: "mm/memory_hotplug: add missing mem_hotplug_lock",
 * memmapOnMemoryForce in the profiles). The step that ends the update writes the node's span,
 * which this checker reads: explore sees it.
 */
function spansInFlux(m: Machine, nid: number): boolean {
  const resize = m.pgdatResizeLock.get(nid);
  return (resize !== undefined && resize.owner !== null) || m.memHotplugLock.writer !== null || m.spanUpdates.has(nid);
}

/**
 * present and managed pages: a node's present is its zones' sum; managed never exceeds present.
 * Judged outside mem_hotplug_lock's write side (get_online_mems readers never see the middle).
 */
export function pageCountChecker(m: Machine): Checker {
  return withReads(
    (_s, task) => {
      if (m.memHotplugLock.writer !== null) return null;
      for (const node of m.state.nodes) {
        const sum = node.zones.reduce((n, z) => n + z.presentPages, 0);
        if (sum !== node.nodePresentPages) {
          return { task, message: `node ${node.nodeId}: node_present_pages ${node.nodePresentPages} != sum of zone present_pages ${sum}` };
        }
        for (const z of node.zones) {
          if (z.presentPages < 0 || (z.managedPages !== null && (z.managedPages < 0 || z.managedPages > z.presentPages))) {
            return { task, message: `node ${node.nodeId} zone ${z.name}: managed ${z.managedPages} / present ${z.presentPages} out of range` };
          }
        }
      }
      return null;
    },
    ['zone:', 'node:', 'lock:mem_hotplug_lock'],
  );
}

/**
 * The struct page's address as dump_page prints it (%px): on x86_64 vmemmap_base without KASLR
 * (0xffffea0000000000) plus pfn * sizeof(struct page); elsewhere the pfn, marked as such.
 */
function structPageAddress(m: Machine, pfn: number): string {
  if (m.state.arch.name !== 'x86_64') return `(pfn 0x${pfn.toString(16)})`;
  return (0xffffea0000000000n + BigInt(pfn) * BigInt(m.recordScratch.length)).toString(16);
}

/**
 * Reads of a poisoned struct page that fault before any PF_POISONED_CHECK (fs/proc/page.c read in
 * 4.19.1 and 5.3.0, fs/dax.c in 5.3.0): the function the fault's RIP is in, the address it faults
 * at, as a real kernel prints them ("BUG: unable to handle page fault for address: ..."), and how
 * the all-ones fields lead there. The checker reports the model's read so; verify --race names
 * such a report of a real kernel by the same invariant.
 */
export const POISONED_READ_FAULTS = [
  // 4.19.1 and 5.3.0 stable_page_flags ask PageSlab first (PF_NO_TAIL), with or without PGFLAGS:
  // seen on ../shared/kernels' 4.19.1, 5.3 and 5.3 PGFLAGS builds (verify --race --walker kpageflags).
  { fn: 'stable_page_flags', address: 'fffffffffffffffe', how: "PageSlab's compound_head() of its all-ones fields points at ~1" },
  // 5.3.0 dax_lock_page: READ_ONCE(page->mapping), then dax_mapping() (include/linux/dax.h) reads
  // mapping->host, the first member of struct address_space, at the all-ones address. From the
  // source only: ../shared's 5.3 builds have no CONFIG_MEMORY_FAILURE to run it.
  { fn: 'dax_lock_page', address: 'ffffffffffffffff', how: "dax_mapping() reads the all-ones page->mapping's host" },
] as const;

/** The first line x86 prints for a kernel-mode page fault at `address` (not below PAGE_SIZE), in the release's words. */
export function pageFaultLine(m: Machine, address: string): string {
  return m.state.profile.features.pageFaultLine === 'paging-request' ? `BUG: unable to handle kernel paging request at ${address}` : `BUG: unable to handle page fault for address: ${address}`;
}

/**
 * A task read a struct page nothing initialised. With CONFIG_DEBUG_VM_PGFLAGS, PF_POISONED_CHECK:
 * VM_BUG_ON_PAGE(PagePoisoned(p)), a BUG. Without it the read goes on with a false answer
 * (all-ones fields when page_init_poison poisoned the memmap, an earlier owner's bytes when
 * CONFIG_DEBUG_VM is off): reported, not fatal.
 */
export function poisonedReadChecker(m: Machine, pgflags = true): Checker {
  return (_s, task, y): Violation | null => {
    if (y.op !== 'access' || y.kind !== 'read') return null;
    const mm = /^struct page (\d+)$/.exec(y.what);
    if (!mm) return null;
    const pfn = Number(mm[1]);
    const st = m.store.stateOf(pfn);
    const fault = st === 'poisoned' ? POISONED_READ_FAULTS.find((f) => f.fn === y.fn) : undefined;
    if (fault) {
      return {
        task,
        message: `${pageFaultLine(m, fault.address)} (${fault.fn}: page:${structPageAddress(m, pfn)} pfn:0x${pfn.toString(16)} is uninitialized and poisoned, and ${fault.how} before PagePoisoned(p) is asked)`,
      };
    }
    if (st === 'poisoned') {
      if (pgflags) return { task, message: `page:${structPageAddress(m, pfn)} is uninitialized and poisoned; page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))` };
      return {
        task,
        message: `page:${structPageAddress(m, pfn)} pfn:0x${pfn.toString(16)} is uninitialized and poisoned: read as all-ones fields (no CONFIG_DEBUG_VM_PGFLAGS, so no VM_BUG_ON_PAGE(PagePoisoned(p)))`,
        fatal: false,
      };
    }
    if (st === 'stale' && !pgflags) {
      return {
        task,
        message: `page:${structPageAddress(m, pfn)} pfn:0x${pfn.toString(16)} was never initialised: read an earlier owner's bytes (CONFIG_DEBUG_VM off, nothing reported)`,
        fatal: false,
      };
    }
    return null;
  };
}

/**
 * set_pfnblock_flags_mask (6.18: get_pfnblock_bitmap_bitidx): the pageblock's pfn must lie in the
 * span of the zone its page links to, VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn)).
 */
export function pageblockZoneChecker(m: Machine): Checker {
  return (_s, task, y): Violation | null => {
    if (y.op !== 'set_pfnblock_flags') return null;
    const z = y.zone;
    // A batch of pageblocks: the first outside the span is the one that trips it.
    const pfn = pageblockPfnOutside(y, z.zoneStartPfn, z.zoneStartPfn + z.spannedPages);
    if (pfn === null) return null;
    return {
      task,
      message: `page:${structPageAddress(m, pfn)} pfn:0x${pfn.toString(16)} node ${z.nid} zone ${z.name}; page dumped because: VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))`,
    };
  };
}

/** How many section starts devicePageChecker probes at most per pgmap. */
const PROBE_SECTIONS = 64;

/**
 * A device page — a pfn in [pfn_first, pfn_end) of a live pgmap — carries that pgmap once
 * memmap_init_zone_device has initialised it (checked at the first and last initialised pfn and
 * at section starts in between: all of them up to PROBE_SECTIONS, else PROBE_SECTIONS spread
 * evenly, so a check costs O(1) however large the namespace: a 92 GiB one has 736 sections).
 */
export function devicePageChecker(m: Machine): Checker {
  // What it reads: the pgmaps (their identity, liveness and init progress; the rest of a pgmap
  // is fixed when it is made) and the memmap (its store's epoch).
  const ids = new WeakMap<object, number>();
  let nextId = 0;
  const stateKey = (): string | null => {
    const epoch = m.store.epoch;
    if (epoch === undefined) return null;
    let k = `${epoch}`;
    for (const p of m.pgmaps) {
      let id = ids.get(p);
      if (id === undefined) ids.set(p, (id = ++nextId));
      k += `|${id}:${p.live ? 1 : 0}:${p.initialisedTo}`;
    }
    return k;
  };
  const c = withReads(
    (_s, task): Violation | null => {
      const pps = m.state.sparse.pagesPerSection;
      for (const p of m.pgmaps) {
        if (!p.live) continue;
        const first = pfnFirst(p, m.pageBytes);
        const to = Math.min(p.initialisedTo, pfnEnd(p, m.pageBytes));
        if (to <= first) continue;
        const probes = [first, to - 1];
        const lo = Math.ceil(first / pps);
        const sections = Math.ceil(to / pps) - lo;
        const spread = Math.min(sections, PROBE_SECTIONS);
        for (let i = 0; i < spread; i++) probes.push((lo + (spread === sections ? i : Math.floor((i * (sections - 1)) / (spread - 1)))) * pps);
        for (const pfn of probes) {
          const got = pagePgmap(m, pfn);
          if (got !== p.address) {
            return {
              task,
              message: `page:${structPageAddress(m, pfn)} pfn:0x${pfn.toString(16)} of ${p.name} has page->pgmap ${got === null ? 'with no memmap' : `0x${got.toString(16)}`}, not 0x${p.address.toString(16)}`,
            };
          }
        }
      }
      return null;
    },
    ['pgmaps', 'pgmap:', 'memmap:', 'mem_section'],
  );
  return Object.assign(c, { stateKey });
}

/**
 * The model's invariant where the kernel has no check (CONFIG_DEBUG_VM off): the pages
 * memmap_init_zone_device has initialised lie inside the span of their zone. Judged when no
 * hotplug writer is mid-update; a span that ends inside a live namespace stays wrong after.
 */
export function deviceSpanChecker(m: Machine): Checker {
  return withReads(
    (_s, task): Violation | null => {
      if (m.memHotplugLock.writer !== null) return null;
      for (const p of m.pgmaps) {
        if (!p.live) continue;
        const first = pfnFirst(p, m.pageBytes);
        const to = Math.min(p.initialisedTo, pfnEnd(p, m.pageBytes));
        if (to <= first) continue;
        const z = zoneForDevice(m, p.nid);
        const zs = z.zoneStartPfn;
        const ze = zs + z.spannedPages;
        if (first >= zs && to <= ze) continue;
        const pfn = first < zs ? first : Math.max(ze, first);
        return {
          task,
          message: `pfn 0x${pfn.toString(16)} of ${p.name} initialised for node ${z.nid} zone ${z.name} lies outside its span [ 0x${zs.toString(16)} - 0x${ze.toString(16)} ] (CONFIG_DEBUG_VM off: the kernel reports nothing)`,
        };
      }
      return null;
    },
    ['pgmaps', 'pgmap:', 'zone:', 'lock:mem_hotplug_lock'],
  );
}

export function hotplugCheckers(m: Machine): Checker[] {
  return [zoneSpanChecker(m), pageCountChecker(m), poisonedReadChecker(m), pageblockZoneChecker(m), devicePageChecker(m)];
}
