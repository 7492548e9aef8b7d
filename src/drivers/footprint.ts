// What each scheduler step touched, for the explore driver's partial-order reduction and state
// hashing. The world's Machine is wrapped so that every read and write of shared state a
// task makes between two yields is recorded as a named resource: the memmap per section, the
// sparse section table, zone and node spans and counts, node online state, the pgmap list and
// each pgmap's liveness, progress and node (three resources), other machine fields
// (conservatively: any use of a Map or Set field is a write), and the lock a yield operates on. Two steps are dependent when one writes a resource
// the other reads or writes. The printk log is output nothing reads back, so it is no resource.
// Task-private state (a pgmap's altmap, used only by the tasks that own the pgmap) is covered by
// the tasks' observation chains. A pageblock's first struct page's state (none, poisoned, zeroed,
// stale, initialised: what MemmapStore.stateOf answers and the poisoned-read checker judges) is
// a resource of its own, `pagecat:N`, written only by a step that changes it: a blind read of
// that page (a walker's) and stateOf of it read that, not the pageblock's contents. Leaves out: objects a task reaches other than through the
// machine (a world that hands tasks shared objects of its own must wrap them too).
import type { Machine } from '../kernel/machine.js';
import type { DevPagemap } from '../kernel/dev_pagemap.js';
import type { Lock } from '../kernel/locks.js';
import type { Yield } from '../kernel/task.js';
import type { PageState } from '../memmap/store.js';

export type Access = 'r' | 'w';
/** Resources a step touched, each read or written (a write covers a read). */
export type Footprint = ReadonlyMap<string, Access>;

/** A footprint that conflicts with every other: a step of a world that was not wrapped. */
export const EVERYTHING: Footprint = new Map([['*', 'w']]);

/**
 * Whether two steps of different tasks fail to commute: one writes what the other touches. A
 * resource named `family:*` stands for every resource of the family (the whole section table).
 * A footprint must not change once made: the `family:*` resources of each are looked up once.
 */
export function dependent(a: Footprint, b: Footprint): boolean {
  // Two steps clash only on resources of a family both touch (the same name, or `family:*` and a
  // name of the family): no family in common, nothing to look up.
  if (a.has('*') || b.has('*')) return true;
  if ((familiesOf(a) & familiesOf(b)) === 0) return false;
  return clashOnKeys(a, b, wildcardsOf(a), wildcardsOf(b));
}

/**
 * Each footprint's families (a resource's name up to its first colon, or all of it), one bit each
 * of 31 by a hash of the name: kept on the map under a symbol, as its wildcards are.
 */
const FAMILIES = Symbol('resource families');
type WithFamilies = Footprint & { [FAMILIES]?: number };

function familiesOf(fp: Footprint): number {
  let f = (fp as WithFamilies)[FAMILIES];
  if (f === undefined) {
    f = 0;
    for (const k of fp.keys()) {
      const end = k.indexOf(':');
      let h = 0;
      for (let i = 0, n = end < 0 ? k.length : end; i < n; i++) h = (Math.imul(h, 31) + k.charCodeAt(i)) | 0;
      f |= 1 << ((h >>> 0) % 31);
    }
    (fp as WithFamilies)[FAMILIES] = f;
  }
  return f;
}

/** dependent where `b` is a map still growing (a union of footprints): its `family:*` resources read afresh. */
export function dependentOnGrowing(a: Footprint, b: Footprint): boolean {
  return clash(a, b, wildcardsOf(a), wildcardsIn(b));
}

type Wildcards = readonly (readonly [string, Access])[];

function clash(a: Footprint, b: Footprint, wa: Wildcards, wb: Wildcards): boolean {
  if (a.has('*') || b.has('*')) return true;
  return clashOnKeys(a, b, wa, wb);
}

/** clash once neither footprint is EVERYTHING. */
function clashOnKeys(a: Footprint, b: Footprint, wa: Wildcards, wb: Wildcards): boolean {
  // Keys and lookups, not entries: this runs for every pair of steps compared, and each entry would be an array made.
  const small = a.size <= b.size ? a : b;
  const big = small === a ? b : a;
  for (const k of small.keys()) {
    const y = big.get(k);
    if (y !== undefined && (y === 'w' || small.get(k) === 'w')) return true;
  }
  return wildcardClash(wa, b) || wildcardClash(wb, a);
}

function wildcardClash(families: Wildcards, b: Footprint): boolean {
  for (const [family, x] of families) for (const [j, y] of b) if (j.startsWith(family) && (x === 'w' || y === 'w')) return true;
  return false;
}

/**
 * Each footprint's `family:*` resources (the family with its colon, and the access); most have
 * none. Kept on the map itself under a symbol (a WeakMap's look-up cost more than the scan it saved).
 */
const WILDCARDS = Symbol('family:* resources');
const NO_WILDCARDS: Wildcards = [];
type Tagged = Footprint & { [WILDCARDS]?: Wildcards };

function wildcardsOf(fp: Footprint): Wildcards {
  let w = (fp as Tagged)[WILDCARDS];
  if (w === undefined) {
    w = wildcardsIn(fp);
    (fp as Tagged)[WILDCARDS] = w;
  }
  return w;
}

function wildcardsIn(fp: Footprint): Wildcards {
  let found: [string, Access][] | null = null;
  // k ends with ':*' (checked by char code).
  for (const k of fp.keys()) if (k.charCodeAt(k.length - 1) === 42 && k.charCodeAt(k.length - 2) === 58) (found ??= []).push([k.slice(0, -1), fp.get(k) as Access]);
  return found ?? NO_WILDCARDS;
}

/** A 64-bit string hash (two independent 32-bit FNV-1a style lanes), as 16 hex digits. */
export function hash64(s: string): string {
  hashLanes(s);
  return (LANES[0] >>> 0).toString(16).padStart(8, '0') + (LANES[1] >>> 0).toString(16).padStart(8, '0');
}

/** hash64's two lanes of the last hashLanes call. */
const LANES: [number, number] = [0, 0];

/** hash64's lanes, left in LANES (no string made). */
function hashLanes(s: string): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  LANES[0] = h1;
  LANES[1] = h2;
}

/** A deterministic string of a field's value (Maps and Sets by entries, bigints in hex). */
function stable(v: unknown, depth = 0): string {
  if (depth > 6) return '…';
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v.toString(16)}n`;
  // Functions and symbols (JSON.stringify gives undefined) hash by their source text or description.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  if (typeof v !== 'object') return JSON.stringify(v) ?? String(v);
  if (v instanceof Map) return `M{${[...v].map(([k, x]) => `${stable(k, depth + 1)}:${stable(x, depth + 1)}`).join(',')}}`;
  if (v instanceof Set) return `S{${[...v].map((x) => stable(x, depth + 1)).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map((x) => stable(x, depth + 1)).join(',')}]`;
  return `{${Object.keys(v)
    .map((k) => `${k}:${stable((v as Record<string, unknown>)[k], depth + 1)}`)
    .join(',')}}`;
}

/** Machine fields that never change after boot (or are per-step scratch), read without recording. */
const CONSTANT_FIELDS = new Set([
  'pageConfig',
  'pageFlagsLayout',
  'recordScratch',
  // Scratch like recordScratch: filled and read within one step, never across a yield.
  'recordScratchView',
  'bootReservedPages',
  'bootZones',
  'boot',
  'pageBytes',
  'blockBytes',
  'pagesPerBlock',
  'memHotplugLock',
  'deviceHotplugLock',
  'pgdatResizeLock',
  'zoneSpanSeqlock',
  // Bookkeeping that changes only in steps that also write the zone and node spans it marks
  // (resizeSpans, shrinkSpans), which are recorded: recording it too would only add conflicts.
  'spanUpdates',
]);
const CONSTANT_STATE = new Set([
  'arch',
  'profile',
  'spec',
  'regions',
  'zoneNames',
  'archZoneLowestPfn',
  'archZoneHighestPfn',
  'zoneMovablePfn',
  'movableZone',
  'nodes',
  'dmaReservePages',
  'totalPages',
  'memoryBlockBytes',
  'log',
]);
/**
 * State fields holding a number that steps read and set whole: each its own resource, read at a
 * get and written at a set, where another field's get counts as a write (the object it returns may
 * be changed through it). max_pfn: /proc/kpageflags' clamp reads it, x86 add_pages raises it (a
 * read, then a write only when it grows), so a walker stays independent of adds below it.
 */
const SCALAR_STATE: ReadonlyMap<string, string> = new Map([['maxPfn', 'max_pfn']]);
const SPARSE_READS = new Set(['runOf', 'subsectionMap', 'pfnValid', 'countValidPageblockPfns', 'nextValidPfn', 'presentSectionCount', 'sections', 'runs']);
const SPARSE_PURE = new Set(['pfnToSectionNr', 'subsectionBits', 'pagesPerSection', 'pagesPerSubsection', 'pageblockNrPages', 'fullSubsectionMap', 'arch', 'flatMaxPfn', 'digest', 'sectionDigest']);
const STORE_PFN_READS = new Set(['stateOf', 'readRecord']);
const STORE_RANGE_WRITES = new Set([
  'initRange',
  'initPagesRange',
  'zeroRange',
  'poisonRange',
  'setReservedRange',
  'setWordsRange',
  'setFlagsRange',
  'clearFlagsRange',
  'setPageTypeRange',
  'setCompoundRange',
]);
const STORE_PURE = new Set(['kind', 'geometry', 'runCount', 'digest']);

/**
 * What a step did to pageblocks' first struct pages' states, for explore's window checks of blind
 * reads: the blind read it performed (the pageblock, and the state it read), and each pageblock
 * whose state it changed (before, after).
 */
export interface StepWindow {
  readonly read?: { readonly pb: number; readonly state: PageState };
  readonly writes?: readonly (readonly [pb: number, before: PageState, after: PageState])[];
}

/** One replay's recorder: wraps the world's machine and collects each step's footprint and observations. */
export class Recorder {
  /**
   * Whether a blind struct page read (Yield `blind`, of a pageblock's first page) is left out of
   * its step's footprint: DPOR then judges it over its window instead (explore.ts). Off, it reads
   * `pagecat:N`, and only the steps that change that state are ordered against it.
   */
  blindReads = false;
  /** The step's StepWindow, made at its first blind read or state change (most steps have neither). */
  private window: { read?: StepWindow['read']; writes?: [number, PageState, PageState][] } | null = null;
  private cur: Map<string, Access> | null = null;
  private obs: string[] = [];
  /**
   * Whether steps' observations are kept (the content of each resource first touched, for the
   * tasks' observation chains): only state hashing reads them, and making them reads digests.
   */
  observing = true;
  private paused = 0;
  /** Resources written in this run, with how to read their content (null: no cheap content). */
  private readonly written = new Map<string, (() => string) | null>();
  private readonly contentOf = new Map<string, (() => string) | null>();
  private raw: Machine | null = null;
  /**
   * Each written resource's entry as of the last stateKey — hash64's lanes of "name=content", or
   * null for one without cheap content — and those written since. The entries are combined by
   * XOR, kept up to date as they change, so a state key costs the resources written since the
   * last one, not all of them.
   */
  private readonly cache = new Map<string, readonly [number, number] | null>();
  private readonly dirty = new Set<string>();
  private combined: [number, number] = [0, 0];
  private withoutContent = 0;
  /**
   * Each pageblock's first struct page's state as the steps recorded so far left it (taken at the
   * first write recorded since the world was put back), and the pageblocks the step being
   * recorded writes: where the step changed that state, it wrote `pagecat:N`.
   */
  private readonly pageState = new Map<number, PageState>();
  private readonly stepWrites = new Set<number>();

  /** Forget the run recorded so far (the world it watches was put back as it was made): record the next run afresh. */
  reset(): void {
    this.cur = null;
    this.obs = [];
    this.paused = 0;
    this.written.clear();
    this.contentOf.clear();
    this.cache.clear();
    this.dirty.clear();
    this.combined = [0, 0];
    this.withoutContent = 0;
    this.pageState.clear();
    this.stepWrites.clear();
  }

  /** Whether a world wrapped its machine with this recorder. */
  get instrumented(): boolean {
    return this.raw !== null;
  }

  /** Start recording a step. */
  begin(): void {
    this.cur = new Map();
    this.obs = [];
    this.window = null;
  }

  /** The window record of the step recorded last (undefined: it read blind nothing and changed no page state). */
  takeWindow(): StepWindow | undefined {
    const w = this.window;
    this.window = null;
    return w ?? undefined;
  }

  /** The step's footprint and its observations (content of each resource it read first). */
  end(): { fp: Footprint; obs: string } {
    if (this.stepWrites.size) this.pageStatesWritten();
    const fp = this.cur ?? new Map<string, Access>();
    this.cur = null;
    return { fp, obs: this.obs.join(';') };
  }

  /** What fn reads, apart from the step being recorded (a checker's inputs). */
  capture(fn: () => void): Footprint {
    const [cur, obs, paused] = [this.cur, this.obs, this.paused];
    this.cur = new Map();
    this.obs = [];
    this.paused = 0;
    try {
      fn();
      return this.cur;
    } finally {
      [this.cur, this.obs, this.paused] = [cur, obs, paused];
    }
  }

  /** Checkers run inside a step; what they read is not the task's. */
  pause(): void {
    this.paused++;
  }

  resume(): void {
    this.paused--;
  }

  /** Whether a step is being recorded now (the wrapped machine's accessors do nothing else when not). */
  get on(): boolean {
    return this.cur !== null && this.paused === 0;
  }

  read(res: string, content: (() => string) | null): void {
    if (!this.on) return;
    const cur = this.cur as Map<string, Access>;
    if (cur.has(res)) return;
    cur.set(res, 'r');
    this.contentOf.set(res, content);
    if (this.observing) this.obs.push(`${res}=${content ? content() : `?${this.written.has(res) ? 'w' : ''}`}`);
  }

  write(res: string, content: (() => string) | null): void {
    if (!this.on) return;
    const cur = this.cur as Map<string, Access>;
    if (this.observing && cur.get(res) === undefined) {
      // A first touch that writes also observes what was there (a read-modify-write).
      this.obs.push(`${res}=${content ? content() : '?'}`);
    }
    cur.set(res, 'w');
    this.written.set(res, content);
    this.contentOf.set(res, content);
    this.dirty.add(res);
  }

  /** A memmap write of pageblock `pb` by the step being recorded (before it is done): its first page's state before, if not known. */
  private pageStateWrite(pb: number): void {
    if (!this.on || !this.raw) return;
    if (!this.pageState.has(pb)) this.pageState.set(pb, this.raw.store.stateOf(pb * this.raw.state.sparse.pageblockNrPages));
    this.stepWrites.add(pb);
  }

  /** At the end of a step: `pagecat:N` written for each pageblock whose first page's state the step changed. */
  private pageStatesWritten(): void {
    const m = this.raw;
    const cur = this.cur;
    if (m && cur) {
      const n = m.state.sparse.pageblockNrPages;
      for (const pb of this.stepWrites) {
        const now = m.store.stateOf(pb * n);
        const before = this.pageState.get(pb) as PageState;
        if (now === before) continue;
        this.pageState.set(pb, now);
        ((this.window ??= {}).writes ??= []).push([pb, before, now]);
        // Written without an observation: the step's write of memmap:N observed the pageblock.
        const res = `pagecat:${pb}`;
        cur.set(res, 'w');
        const content = this.pageStateContent(pb);
        this.written.set(res, content);
        this.contentOf.set(res, content);
        this.dirty.add(res);
      }
    }
    this.stepWrites.clear();
  }

  /** The content of resource `pagecat:N`: pageblock N's first struct page's state. */
  pageStateContent(pb: number): () => string {
    const m = this.raw as Machine;
    const first = pb * m.state.sparse.pageblockNrPages;
    return () => m.store.stateOf(first);
  }

  /**
   * The resources a yield itself touches when performed: its lock, or what its checker reads (a
   * struct page read: the pageblock's memmap; only the first page's state where the read is
   * blind and of a pageblock's first page).
   */
  yieldFootprint(y: Yield): void {
    const pb = this.raw?.state.sparse.pageblockNrPages ?? 1;
    if ('lock' in y) {
      const l = y.lock;
      this.write(`lock:${l.name}`, () => lockState(l));
    } else if (y.op === 'set_pfnblock_flags') {
      const z = y.zone;
      this.read(`zone:${z.nid}/${z.name}:span`, () => `${z.zoneStartPfn}/${z.spannedPages}`);
    } else if (y.op === 'access' && y.kind === 'read') {
      const mm = /^struct page (\d+)$/.exec(y.what);
      if (!mm) return;
      const pfn = Number(mm[1]);
      const n = Math.floor(pfn / pb);
      if (y.blind && pfn % pb === 0 && this.raw) {
        (this.window ??= {}).read = { pb: n, state: this.raw.store.stateOf(pfn) };
        if (!this.blindReads) this.read(`pagecat:${n}`, this.pageStateContent(n));
      } else this.read(`memmap:${n}`, this.memmapContent(n));
    }
  }

  /** The content of memmap resource `sec` (one pageblock of struct pages). */
  private memmapContent(sec: number): (() => string) | null {
    const m = this.raw;
    if (!m?.store.digest) return null;
    const pps = m.state.sparse.pageblockNrPages;
    const store = m.store;
    return () => (store.digest as (s: number, e: number) => string)(sec * pps, (sec + 1) * pps);
  }

  /**
   * The global state as one hash: every resource written in this run by content (one without
   * cheap content makes the state unique, never matched), the machine's locks, and the tasks.
   */
  stateKey(tasks: string): string | null {
    const acc = this.combined;
    for (const res of this.dirty) {
      const old = this.cache.get(res);
      if (old === null) this.withoutContent--;
      else if (old) {
        acc[0] ^= old[0];
        acc[1] ^= old[1];
      }
      const c = this.written.get(res);
      if (!c) {
        this.cache.set(res, null);
        this.withoutContent++;
        continue;
      }
      hashLanes(`${res}=${c()}`);
      const entry = [LANES[0], LANES[1]] as const;
      this.cache.set(res, entry);
      acc[0] ^= entry[0];
      acc[1] ^= entry[1];
    }
    this.dirty.clear();
    if (this.withoutContent > 0) return null;
    const parts: string[] = [tasks, `${acc[0] >>> 0}:${acc[1] >>> 0}`];
    const m = this.raw;
    if (m) {
      parts.push(lockState(m.memHotplugLock), lockState(m.deviceHotplugLock));
      for (const l of m.pgdatResizeLock.values()) parts.push(lockState(l));
      for (const l of m.zoneSpanSeqlock.values()) parts.push(lockState(l));
    }
    return hash64(parts.join('\n'));
  }

  /** Wrap a machine: the tasks of the world use what this returns. */
  instrument(m: Machine): Machine {
    this.raw = m;
    // The proxies' handlers below are plain functions: they reach the recorder through this name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rec = this;
    // The memmap is one resource per pageblock: a span search reads one struct page per
    // subsection (a pageblock on x86_64) while memmap_init_zone_device writes pageblock by pageblock.
    const pb = m.state.sparse.pageblockNrPages;
    const sec = (pfn: number): number => Math.floor(pfn / pb);
    const pps = pb;
    const memmapRead = (s: number): void => rec.read(`memmap:${s}`, rec.memmapContent(s));
    const memmapWrite = (s: number): void => {
      rec.pageStateWrite(s);
      rec.write(`memmap:${s}`, rec.memmapContent(s));
    };
    // Each method's wrapper is made once; it records only while a step is being recorded.
    const storeWrapped = new Map<string, (...a: unknown[]) => unknown>();
    // The traps below make wrappers through these helpers: a trap holding the wrapper's closure
    // itself would allocate the variables it captures at every property read, the hits included.
    const wrapStore = (target: Machine['store'], key: string, fn: (...a: unknown[]) => unknown): ((...a: unknown[]) => unknown) => {
      const wrapped = (...args: unknown[]): unknown => {
        if (!rec.on) return fn.apply(target, args);
        const a0 = args[0] as number;
        const a1 = args[1] as number;
        const perSection = m.state.sparse.pagesPerSection / pb;
        // stateOf of a pageblock's first page reads only that page's state.
        if (key === 'stateOf' && a0 % pb === 0) rec.read(`pagecat:${a0 / pb}`, rec.pageStateContent(a0 / pb));
        else if (STORE_PFN_READS.has(key)) memmapRead(sec(a0));
        else if (key === 'hasMemmap') memmapRead(a0 * perSection);
        else if (STORE_RANGE_WRITES.has(key)) for (let s = sec(a0); s * pps < a1; s++) memmapWrite(s);
        else if (key === 'populateSections') for (let s = a0 * perSection; s < a1 * perSection; s++) memmapWrite(s);
        else if (key === 'populateSection' || key === 'depopulateSection') for (let s = a0 * perSection; s < (a0 + 1) * perSection; s++) memmapWrite(s);
        else throw new Error(`explore: the memmap store's ${key} is not classified as a read or a write (src/drivers/footprint.ts)`);
        return fn.apply(target, args);
      };
      storeWrapped.set(key, wrapped);
      return wrapped;
    };
    const store = new Proxy(m.store, {
      get(target, key) {
        // A method wrapped before: its wrapper, without reading the target (the common case).
        const known = typeof key === 'string' ? storeWrapped.get(key) : undefined;
        if (known) return known;
        const v: unknown = Reflect.get(target, key);
        if (typeof key !== 'string' || STORE_PURE.has(key) || typeof v !== 'function') return v;
        return wrapStore(target, key, v as (...a: unknown[]) => unknown);
      },
    });
    // The section table: one resource per section where a method names one (or a pfn), the whole
    // family (mem_section:*) where it walks them all.
    const sparseRaw = m.state.sparse;
    const secPps = sparseRaw.pagesPerSection;
    const sectionContent = (nr: number) => (): string => sparseRaw.sectionDigest(nr);
    const allContent = (): string => sparseRaw.digest();
    const sections = (key: string, args: readonly unknown[]): number[] | null => {
      const a0 = args[0] as number;
      const a1 = args[1] as number;
      switch (key) {
        case 'runOf':
        case 'subsectionMap':
        case 'editSubsections':
          return [a0];
        case 'pfnValid':
          return [Math.floor(a0 / secPps)];
        case 'updateSections':
        case 'removeSections':
        case 'setSectionsOnline': {
          const out: number[] = [];
          for (let n = a0; n < a1; n++) out.push(n);
          return out;
        }
        default:
          return null;
      }
    };
    const sparseWrapped = new Map<string, (...a: unknown[]) => unknown>();
    const wrapSparse = (target: typeof sparseRaw, key: string, fn: (...a: unknown[]) => unknown, isRead: boolean): ((...a: unknown[]) => unknown) => {
      const wrapped = (...args: unknown[]): unknown => {
        if (!rec.on) return fn.apply(target, args);
        const secs = sections(key, args);
        if (secs === null) {
          if (isRead) rec.read('mem_section:*', allContent);
          else rec.write('mem_section:*', allContent);
        } else {
          for (const n of secs) {
            if (isRead) rec.read(`mem_section:${n}`, sectionContent(n));
            else rec.write(`mem_section:${n}`, sectionContent(n));
          }
        }
        return fn.apply(target, args);
      };
      sparseWrapped.set(key, wrapped);
      return wrapped;
    };
    const sparse = new Proxy(sparseRaw, {
      get(target, key) {
        const known = typeof key === 'string' ? sparseWrapped.get(key) : undefined;
        if (known) return known;
        const v: unknown = Reflect.get(target, key);
        if (typeof key !== 'string' || SPARSE_PURE.has(key)) return v;
        const isRead = SPARSE_READS.has(key);
        if (typeof v !== 'function') {
          if (isRead) rec.read('mem_section:*', allContent);
          else rec.write('mem_section:*', allContent);
          return v;
        }
        return wrapSparse(target, key, v as (...a: unknown[]) => unknown, isRead);
      },
    });
    const stateRaw = m.state;
    const stateWrite = (key: string): void => rec.write(`state.${key}`, () => stable(Reflect.get(stateRaw, key)));
    // SCALAR_STATE's fields: a read at a get, a write at a set (recorded here, not by accessors on
    // the state object, which would slow every other read of it).
    const scalarContent = new Map([...SCALAR_STATE.keys()].map((k) => [k, (): string => String(Reflect.get(stateRaw, k))]));
    const state = new Proxy(stateRaw, {
      get(target, key) {
        if (key === 'sparse') return sparse;
        const v: unknown = Reflect.get(target, key);
        if (!rec.on || typeof key !== 'string' || CONSTANT_STATE.has(key)) return v;
        const scalar = SCALAR_STATE.get(key);
        if (scalar !== undefined) rec.read(scalar, scalarContent.get(key) as () => string);
        else stateWrite(key);
        return v;
      },
      set(target, key, value) {
        const scalar = typeof key === 'string' ? SCALAR_STATE.get(key) : undefined;
        if (rec.on && scalar !== undefined) rec.write(scalar, scalarContent.get(key as string) as () => string);
        return Reflect.set(target, key, value);
      },
    });
    for (const node of stateRaw.nodes) {
      track(node, ['nodeStartPfn', 'nodeSpannedPages'], `node:${node.nodeId}:span`, rec);
      track(node, ['nodePresentPages'], `node:${node.nodeId}:count`, rec);
      track(node, ['online'], `node:${node.nodeId}:online`, rec);
      for (const z of node.zones) {
        track(z, ['zoneStartPfn', 'spannedPages'], `zone:${z.nid}/${z.name}:span`, rec);
        track(z, ['presentPages', 'managedPages'], `zone:${z.nid}/${z.name}:count`, rec);
      }
    }
    // Who holds a lock, as checkers read it (lock operations themselves are the yields' writes).
    for (const l of [m.memHotplugLock, ...m.pgdatResizeLock.values()])
      track(
        l,
        ['writer', 'owner'].filter((f) => f in l),
        `lock:${l.name}`,
        rec,
      );
    const pgmapsRaw = m.pgmaps;
    for (const p of pgmapsRaw) rec.instrumentPgmap(p);
    const pgmapsContent = (): string => pgmapsRaw.map((p) => p.name).join(',');
    // A push that instruments what it adds (a new one at every read of `push`).
    const pushInstrumented =
      (target: DevPagemap[]) =>
      (...ps: DevPagemap[]): number => {
        for (const p of ps) rec.instrumentPgmap(p);
        return target.push(...ps);
      };
    const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin']);
    const pgmaps = new Proxy(pgmapsRaw, {
      get(target, key) {
        const v: unknown = Reflect.get(target, key);
        if (key === 'push') {
          rec.write('pgmaps', pgmapsContent);
          return pushInstrumented(target);
        }
        if (typeof key === 'string' && MUTATORS.has(key)) rec.write('pgmaps', pgmapsContent);
        else rec.read('pgmaps', pgmapsContent);
        if (typeof v !== 'function') return v;
        // Each array method bound once, not at every call.
        let b = bound.get(v);
        if (!b) bound.set(v, (b = (v as (...a: unknown[]) => unknown).bind(target)));
        return b;
      },
    });
    const bound = new Map<unknown, unknown>();
    // Each machine field's resource name and content, made once.
    const fields = new Map<string, readonly [string, () => string]>();
    const fieldOf = (key: string): readonly [string, () => string] => {
      let f = fields.get(key);
      if (!f) fields.set(key, (f = [`m.${key}`, () => stable(Reflect.get(m, key, m))]));
      return f;
    };
    return new Proxy(m, {
      get(target, key) {
        if (key === 'store') return store;
        if (key === 'state') return state;
        if (key === 'pgmaps') return pgmaps;
        const v: unknown = Reflect.get(target, key, target);
        if (!rec.on || typeof key !== 'string' || typeof v === 'function' || CONSTANT_FIELDS.has(key)) return v;
        const [res, content] = fieldOf(key);
        if (typeof v !== 'object' || v === null) rec.read(res, content);
        else rec.write(res, content);
        return v;
      },
      set(target, key, value) {
        if (typeof key === 'string') rec.write(...fieldOf(key));
        return Reflect.set(target, key, value, target);
      },
    });
  }

  /**
   * A pgmap's liveness, init progress, node and nr_range, each a resource of its own: a lookup
   * that reads `live` (get_dev_pagemap, memory_failure) commutes with memmap_init_zone_device's
   * progress writes, and pgmap_pfn_valid's read of nr_range (memory_failure, 5.12+) is dependent
   * with memremap_pages raising it after pagemap_range. migratetypeTo is read by no task or
   * checker (the memmap view only).
   */
  instrumentPgmap(p: DevPagemap): void {
    if (Object.getOwnPropertyDescriptor(p, 'live')?.get) return;
    for (const f of ['live', 'initialisedTo', 'nid', 'nrRange']) track(p, [f], `pgmap:${p.name}:${f}`, this);
  }
}

/** Replace plain fields of an object by accessors that record reads and writes of one resource. */
function track(obj: object, fields: readonly string[], res: string, rec: Recorder): void {
  // Each field's value in its own slot (the accessors run at every read of a span or count).
  const values = fields.map((f) => Reflect.get(obj, f) as unknown);
  const content = (): string => values.map((v) => stable(v)).join('/');
  for (const [i, f] of fields.entries()) {
    Object.defineProperty(obj, f, {
      configurable: true,
      enumerable: true,
      get: () => {
        if (rec.on) rec.read(res, content);
        return values[i];
      },
      set: (x: unknown) => {
        if (rec.on) rec.write(res, content);
        values[i] = x;
      },
    });
  }
}

/** A lock's state as a string (who holds it, who waits, the sequence). */
function lockState(l: Lock): string {
  const r = l as unknown as Record<string, unknown>;
  return `${l.name}:${stable(r['owner'])}/${stable(r['writer'])}/${stable(r['readers'])}/${stable(r['waitingWriters'])}/${stable(r['sequence'])}`;
}
