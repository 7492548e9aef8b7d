// lsmem(1) of util-linux 2.42 development (commit 39465c78) over a sysfs view: the options as
// getopt_long(3) parses them, lsmem's block reading, merging and summary, and the libsmartcols
// table output it prints (human, raw, key="value" pairs, JSON). Errors are one line on stderr.
import type { SysfsFirmwareMemoryBlock, SysfsMemory, SysfsMemoryBlock } from '../formats/sysfs-memory.js';

export interface LsmemResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Exit code of every error (lsmem itself exits with 1; mmsim's CLI convention is 2). */
export const LSMEM_ERROR_EXIT = 2;

/** What `lsmem --version` prints after "lsmem from ". */
export const LSMEM_PACKAGE_STRING = 'util-linux 2.43-devel';

const PROG = 'lsmem';
/** The sysfs directory lsmem reads, under the --sysroot prefix. */
export const PATH_SYS_MEMORY = '/sys/devices/system/memory';

// ---------------------------------------------------------------------------------------------
// Columns and zones

const COL_RANGE = 0;
const COL_SIZE = 1;
const COL_STATE = 2;
const COL_REMOVABLE = 3;
const COL_BLOCK = 4;
const COL_NODE = 5;
const COL_ZONES = 6;
const COL_CONFIG = 7;
const COL_MEMMAP = 8;

interface ColumnDesc {
  readonly name: string;
  /** Width hint: >= 1 is an absolute width. */
  readonly whint: number;
  readonly right: boolean;
  readonly help: string;
}

/** lsmem's coldescs[], in column-id order. */
export const LSMEM_COLUMNS: readonly ColumnDesc[] = [
  { name: 'RANGE', whint: 0, right: false, help: 'start and end address of the memory range' },
  { name: 'SIZE', whint: 5, right: true, help: 'size of the memory range' },
  { name: 'STATE', whint: 0, right: true, help: 'online status of the memory range' },
  { name: 'REMOVABLE', whint: 0, right: true, help: 'memory is removable' },
  { name: 'BLOCK', whint: 0, right: true, help: 'memory block number or blocks range' },
  { name: 'NODE', whint: 0, right: true, help: 'numa node of memory' },
  { name: 'ZONES', whint: 0, right: true, help: 'valid zones for the memory range' },
  { name: 'CONFIGURED', whint: 0, right: true, help: 'configuration status of the memory range' },
  { name: 'MEMMAP-ON-MEMORY', whint: 0, right: true, help: 'memmap-on-memory status of the memory range' },
];

/** Size of lsmem's columns[] array: each column may be given twice. */
const MAX_COLUMNS = LSMEM_COLUMNS.length * 2;

const ZONE_UNKNOWN = 7;
const ZONE_NAMES: readonly string[] = ['DMA', 'DMA32', 'Normal', 'Highmem', 'Movable', 'Device', 'None', 'Unknown'];
const MAX_NR_ZONES = 8;

const STATE_ONLINE = 0;
const STATE_OFFLINE = 1;
const STATE_GOING_OFFLINE = 2;
const STATE_UNKNOWN = 3;

const U64 = (1n << 64n) - 1n;

/** An lsmem error: the process would end here with `message` on stderr. */
class LsmemExit extends Error {
  constructor(readonly result: LsmemResult) {
    super(result.stderr);
  }
}

/** Models warnx()/errx(): "lsmem: MESSAGE" and the error exit. */
function fail(message: string): never {
  throw new LsmemExit({ stdout: '', stderr: `${PROG}: ${message}\n`, exitCode: LSMEM_ERROR_EXIT });
}

/** Models c_tolower() over a string (ASCII only, as c_strcasecmp compares). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

// ---------------------------------------------------------------------------------------------
// Option parsing

interface LongOption {
  readonly name: string;
  /** 0 no_argument, 1 required_argument, 2 optional_argument. */
  readonly hasArg: 0 | 1 | 2;
  /** The short option letter, or a key for long-only options. */
  readonly val: string;
}

const LONGOPTS: readonly LongOption[] = [
  { name: 'all', hasArg: 0, val: 'a' },
  { name: 'annotate', hasArg: 2, val: 'annotate' },
  { name: 'bytes', hasArg: 0, val: 'b' },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'json', hasArg: 0, val: 'J' },
  { name: 'noheadings', hasArg: 0, val: 'n' },
  { name: 'output', hasArg: 1, val: 'o' },
  { name: 'output-all', hasArg: 0, val: 'output-all' },
  { name: 'pairs', hasArg: 0, val: 'P' },
  { name: 'raw', hasArg: 0, val: 'r' },
  { name: 'split', hasArg: 1, val: 'S' },
  { name: 'summary', hasArg: 2, val: 'summary' },
  { name: 'sysroot', hasArg: 1, val: 's' },
  { name: 'version', hasArg: 0, val: 'V' },
];

/** The optstring "abhJno:PrS:s:V": letter -> takes an argument. */
const SHORTOPTS: ReadonlyMap<string, boolean> = new Map([
  ['a', false],
  ['b', false],
  ['h', false],
  ['J', false],
  ['n', false],
  ['o', true],
  ['P', false],
  ['r', false],
  ['S', true],
  ['s', true],
  ['V', false],
]);

/** lsmem's excl[]: options that cannot be combined, rows in ASCII order. */
const EXCLUSIVE: readonly (readonly string[])[] = [
  ['J', 'P', 'r'],
  ['S', 'a'],
];

/** lsmem's state after its getopt_long() loop and the checks that follow it. */
export interface LsmemOptions {
  readonly listAll: boolean;
  readonly bytes: boolean;
  readonly json: boolean;
  readonly pairs: boolean;
  readonly raw: boolean;
  readonly noheadings: boolean;
  readonly wantTable: boolean;
  readonly wantSummary: boolean;
  readonly annotate: boolean;
  /** The last -o/--output argument. */
  readonly output?: string;
  /** Columns set by --output-all (empty if not given). */
  readonly presetColumns: readonly number[];
  /** The last -S/--split argument. */
  readonly split?: string;
  /** The last -s/--sysroot argument. */
  readonly sysroot?: string;
}

/** Models glibc getopt_long() with permutation: calls `onOption` per option, returns the non-options. */
function getoptLong(argv: readonly string[], onOption: (val: string, arg: string | undefined) => void): string[] {
  const nonOptions: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] ?? '';
    i++;
    if (arg === '--') {
      nonOptions.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const nextchar = arg.slice(2);
      const eq = nextchar.indexOf('=');
      const name = eq < 0 ? nextchar : nextchar.slice(0, eq);
      let found: LongOption | undefined = LONGOPTS.find((o) => o.name === name);
      if (!found) {
        const ambiguous = new Set<LongOption>();
        for (const o of LONGOPTS) {
          if (!o.name.startsWith(name)) continue;
          if (!found) found = o;
          else if (found.hasArg !== o.hasArg || found.val !== o.val) {
            ambiguous.add(found);
            ambiguous.add(o);
          }
        }
        if (ambiguous.size > 0) {
          const list = LONGOPTS.filter((o) => ambiguous.has(o))
            .map((o) => ` '--${o.name}'`)
            .join('');
          fail(`option '--${nextchar}' is ambiguous; possibilities:${list}`);
        }
      }
      if (!found) fail(`unrecognized option '--${nextchar}'`);
      let optarg: string | undefined;
      if (eq >= 0) {
        if (found.hasArg === 0) fail(`option '--${found.name}' doesn't allow an argument`);
        optarg = nextchar.slice(eq + 1);
      } else if (found.hasArg === 1) {
        if (i >= argv.length) fail(`option '--${found.name}' requires an argument`);
        optarg = argv[i];
        i++;
      }
      onOption(found.val, optarg);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const c = arg[k] ?? '';
        const takesArg = SHORTOPTS.get(c);
        if (takesArg === undefined) fail(`invalid option -- '${c}'`);
        if (!takesArg) {
          onOption(c, undefined);
          continue;
        }
        let optarg: string;
        if (k + 1 < arg.length) optarg = arg.slice(k + 1);
        else {
          if (i >= argv.length) fail(`option requires an argument -- '${c}'`);
          optarg = argv[i] ?? '';
          i++;
        }
        onOption(c, optarg);
        break;
      }
      continue;
    }
    nonOptions.push(arg);
  }
  return nonOptions;
}

/** Models err_exclusive_options() from optutils.h. */
function checkExclusive(c: string, status: string[]): void {
  EXCLUSIVE.forEach((row, e) => {
    if (!row.includes(c)) return;
    const seen = status[e] ?? '';
    if (seen === '') status[e] = c;
    else if (seen !== c) {
      const longName = (v: string): string => LONGOPTS.find((o) => o.val === v)?.name ?? v;
      fail(`options --${longName(seen)} and --${longName(c)} cannot be combined`);
    }
  });
}

/** Models lsmem's usage(). */
function usage(): string {
  const opts = [
    ' -a, --all                 list each individual memory block',
    '     --annotate[=<when>]   annotate columns with a tooltip (always|never|auto)',
    ' -b, --bytes               print SIZE in bytes, not in human readable format',
    ' -J, --json                use JSON output format',
    " -n, --noheadings          don't print headings",
    ' -o, --output <list>       output columns',
    '     --output-all          output all columns',
    ' -P, --pairs               use key="value" output format',
    ' -r, --raw                 use raw output format',
    ' -S, --split <list>        split ranges by specified columns',
    ' -s, --sysroot <dir>       use the specified directory as system root',
    '     --summary[=<when>]    print summary information (always|never|only)',
  ];
  return [
    '',
    'Usage:',
    ` ${PROG} [options]`,
    '',
    'List the ranges of available memory with their online status.',
    '',
    'Options:',
    ...opts,
    '',
    `${' -h, --help'.padEnd(27)}display this help`,
    `${' -V, --version'.padEnd(27)}display version`,
    '',
    'Available output columns:',
    ...LSMEM_COLUMNS.map((c) => ` ${c.name.padStart(10)}  ${c.help}`),
    '',
    `For more details see ${PROG}(1).`,
    '',
  ].join('\n');
}

/**
 * Models lsmem's main() up to (not including) opening sysfs: the getopt_long() loop, "bad usage",
 * --annotate and the --summary=only exclusivity check. Returns the options, or the result when
 * lsmem ends here (--help, --version, an error).
 */
export function parseLsmemArgs(argv: readonly string[]): LsmemOptions | LsmemResult {
  try {
    return parseOrThrow(argv);
  } catch (e) {
    if (e instanceof LsmemExit) return e.result;
    throw e;
  }
}

/** Models main()'s getopt_long() loop and its post-checks; throws LsmemExit where lsmem exits. */
function parseOrThrow(argv: readonly string[]): LsmemOptions {
  let listAll = false,
    bytes = false,
    json = false,
    pairs = false,
    raw = false,
    noheadings = false;
  let wantTable = true,
    wantSummary = true;
  let output: string | undefined, split: string | undefined, sysroot: string | undefined;
  let annotateArg: string | undefined;
  let presetColumns: number[] = [];
  const exclStatus: string[] = [];
  const nonOptions = getoptLong(argv, (c, optarg) => {
    checkExclusive(c, exclStatus);
    switch (c) {
      case 'a':
        listAll = true;
        break;
      case 'b':
        bytes = true;
        break;
      case 'J':
        json = true;
        wantSummary = false;
        break;
      case 'n':
        noheadings = true;
        break;
      case 'o':
        output = optarg;
        break;
      case 'output-all':
        presetColumns = LSMEM_COLUMNS.map((_, id) => id);
        break;
      case 'P':
        pairs = true;
        wantSummary = false;
        break;
      case 'r':
        raw = true;
        wantSummary = false;
        break;
      case 's':
        sysroot = optarg;
        break;
      case 'S':
        split = optarg;
        break;
      case 'summary':
        if (optarg === undefined) wantTable = false;
        else if (optarg === 'never') wantSummary = false;
        else if (optarg === 'only') wantTable = false;
        else if (optarg === 'always') wantSummary = true;
        else fail('unsupported --summary argument');
        break;
      case 'annotate':
        annotateArg = optarg;
        break;
      case 'h':
        throw new LsmemExit({ stdout: usage(), stderr: '', exitCode: 0 });
      case 'V':
        throw new LsmemExit({ stdout: `${PROG} from ${LSMEM_PACKAGE_STRING}\n`, stderr: '', exitCode: 0 });
    }
  });
  if (nonOptions.length > 0) fail('bad usage');
  // annotationwanted(): "auto" (and no argument) means "if stdout is a terminal", which a string never is.
  if (annotateArg !== undefined && !['never', 'always', 'auto'].includes(annotateArg)) {
    fail(`invalid argument of --annotate: ${annotateArg}`);
  }
  if (!wantTable && !wantSummary) fail('options --{raw,json,pairs} and --summary=only are mutually exclusive');
  return {
    listAll,
    bytes,
    json,
    pairs,
    raw,
    noheadings,
    wantTable,
    wantSummary,
    annotate: annotateArg === 'always',
    presetColumns,
    ...(output !== undefined ? { output } : {}),
    ...(split !== undefined ? { split } : {}),
    ...(sysroot !== undefined ? { sysroot } : {}),
  };
}

/** Models column_name_to_id(): `rest` is the list from this name on, as warnx() prints it. */
function columnNameToId(rest: string, namesz: number): number {
  const name = asciiLower(rest.slice(0, namesz));
  const id = LSMEM_COLUMNS.findIndex((c) => asciiLower(c.name) === name);
  if (id < 0) fail(`unknown column: ${rest}`);
  return id;
}

/** Models string_add_to_idarray() (and string_to_idarray()) over lsmem's fixed-size arrays. */
function addToIdArray(list: string, ary: readonly number[], arysz: number): number[] {
  const invalid = (): never => fail(`failed to parse column list: '${list}'`);
  if (list === '' || ary.length > arysz) invalid();
  const adding = list.startsWith('+');
  const items = adding ? list.slice(1) : list;
  const result = adding ? [...ary] : [];
  const room = arysz - result.length;
  if (items === '') invalid();
  let begin: number | null = null;
  let n = 0;
  for (let p = 0; p < items.length; p++) {
    if (n >= room) fail(`too many columns specified, the limit is ${arysz - 1} columns`);
    if (begin === null) begin = p;
    let end: number | null = null;
    if (items[p] === ',') end = p;
    if (p + 1 === items.length) end = p + 1;
    if (end === null) continue;
    if (end <= begin) invalid();
    result.push(columnNameToId(items.slice(begin), end - begin));
    n++;
    begin = null;
    if (end === items.length) break;
  }
  return result;
}

/** The columns and splitting policy lsmem settles on before reading sysfs. */
export interface LsmemColumns {
  /** Column ids in output order (columns[] of lsmem.c). */
  readonly columns: readonly number[];
  readonly split: SplitPolicy;
}

interface SplitPolicy {
  readonly state: boolean;
  readonly node: boolean;
  readonly removable: boolean;
  readonly zones: boolean;
  readonly memmap: boolean;
  readonly config: boolean;
}

/** Models set_split_policy(). */
function splitPolicy(ids: readonly number[]): SplitPolicy {
  return {
    state: ids.includes(COL_STATE),
    node: ids.includes(COL_NODE),
    removable: ids.includes(COL_REMOVABLE),
    zones: ids.includes(COL_ZONES),
    memmap: ids.includes(COL_MEMMAP),
    config: ids.includes(COL_CONFIG),
  };
}

/**
 * Models main()'s default columns, -o/LSMEM_COLUMNS and --split handling. Returns the columns,
 * or the result when lsmem ends here (unknown column).
 */
export function resolveLsmemColumns(opts: LsmemOptions, env: LsmemEnv = {}): LsmemColumns | LsmemResult {
  try {
    return resolveColumnsOrThrow(opts, env);
  } catch (e) {
    if (e instanceof LsmemExit) return e.result;
    throw e;
  }
}

/** Models main()'s column and split parsing; throws LsmemExit where lsmem exits. */
function resolveColumnsOrThrow(opts: LsmemOptions, env: LsmemEnv): LsmemColumns {
  let columns: number[] = [...opts.presetColumns];
  if (columns.length === 0) columns = [COL_RANGE, COL_SIZE, COL_STATE, COL_REMOVABLE, COL_BLOCK];
  const outarg = opts.output ?? env['LSMEM_COLUMNS'];
  if (outarg !== undefined) columns = addToIdArray(outarg, columns, MAX_COLUMNS);
  let split: SplitPolicy;
  if (opts.split !== undefined) {
    const ids = asciiLower(opts.split) === 'none' ? [] : addToIdArray(opts.split, [], LSMEM_COLUMNS.length);
    split = splitPolicy(ids);
  } else split = splitPolicy(columns);
  return { columns, split };
}

/** Environment variables lsmem reads (LSMEM_COLUMNS). */
export type LsmemEnv = Readonly<Record<string, string | undefined>>;

// ---------------------------------------------------------------------------------------------
// Reading the blocks

interface MemoryBlock {
  index: bigint;
  count: bigint;
  state: number;
  node: number;
  zones: number[];
  removable: boolean;
  config: boolean;
  memmapOnMemory: boolean;
}

interface LsmemInfo {
  readonly blockSize: bigint;
  readonly memOnline: bigint;
  readonly memOffline: bigint;
  readonly blocks: readonly MemoryBlock[];
  readonly haveNodes: boolean;
  readonly haveZones: boolean;
  readonly haveMemconfig: boolean;
}

/** Models ul_path_read_s32() (fscanf "%d") on a file's contents; null when it fails. */
function scanS32(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m?.[1] !== undefined ? Number.parseInt(m[1], 10) : null;
}

/** Models strtoumax(buf, NULL, 16); null on overflow (ERANGE). */
function strtoumaxHex(text: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]*)/.exec(text);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0n;
  const v = BigInt(`0x${digits}`);
  if (v > U64) return null;
  return m?.[1] === '-' ? -v & U64 : v;
}

/** Models zone_name_to_id(). */
function zoneNameToId(name: string): number {
  const i = ZONE_NAMES.findIndex((z) => asciiLower(z) === asciiLower(name));
  return i < 0 ? ZONE_UNKNOWN : i;
}

/** Models memory_block_read_attrs() for memory<index>. */
function readBlockAttrs(
  index: number,
  sys: SysfsMemoryBlock | undefined,
  fw: SysfsFirmwareMemoryBlock | undefined,
  info: { haveNodes: boolean; haveZones: boolean; haveMemconfig: boolean },
): MemoryBlock {
  const blk: MemoryBlock = {
    index: BigInt(index),
    count: 1n,
    state: STATE_UNKNOWN,
    node: 0,
    zones: [],
    removable: false,
    config: false,
    memmapOnMemory: false,
  };
  if (info.haveMemconfig) {
    blk.config = scanS32(fw?.config) === 1;
    blk.memmapOnMemory = scanS32(fw?.memmapOnMemory) === 1;
    blk.state = STATE_OFFLINE;
    if (!blk.config) return blk;
  }
  blk.removable = scanS32(sys?.removable) === 1;
  const state = sys?.state ?? '';
  if (state === 'offline') blk.state = STATE_OFFLINE;
  else if (state === 'online') blk.state = STATE_ONLINE;
  else if (state === 'going-offline') blk.state = STATE_GOING_OFFLINE;
  if (info.haveNodes) {
    if (!sys) fail(`Failed to open memory${index}`);
    blk.node = sys.nodes[0] ?? -1;
  }
  if (info.haveZones && sys?.validZones) {
    blk.zones = sys.validZones
      .split(' ')
      .filter((t) => t !== '')
      .slice(0, MAX_NR_ZONES)
      .map(zoneNameToId);
  }
  return blk;
}

/** Models is_mergeable(): can `blk` extend `curr`? */
function isMergeable(curr: MemoryBlock | undefined, blk: MemoryBlock, listAll: boolean, split: SplitPolicy, info: LsmemInfoFlags): boolean {
  if (!curr || listAll) return false;
  if (curr.index + curr.count !== blk.index) return false;
  if (split.state && curr.state !== blk.state) return false;
  if (split.removable && curr.removable !== blk.removable) return false;
  if (split.node && info.haveNodes && curr.node !== blk.node) return false;
  if (split.zones && info.haveZones) {
    if (curr.zones.length !== blk.zones.length) return false;
    for (let i = 0; i < curr.zones.length; i++) {
      if (curr.zones[i] === ZONE_UNKNOWN || curr.zones[i] !== blk.zones[i]) return false;
    }
  }
  if (split.config && curr.config !== blk.config) return false;
  if (split.memmap && curr.memmapOnMemory !== blk.memmapOnMemory) return false;
  return true;
}

type LsmemInfoFlags = Pick<LsmemInfo, 'haveNodes' | 'haveZones' | 'haveMemconfig'>;

/** Models read_basic_info() followed by read_info(). */
function readInfo(view: SysfsMemory, prefix: string | undefined, listAll: boolean, split: SplitPolicy): LsmemInfo {
  const abs = (path: string): string => (prefix !== undefined ? `${prefix}/${path.slice(1)}` : path);
  if (view.blocks.length === 0) fail(`Failed to read ${abs(PATH_SYS_MEMORY)}`);
  const flags: LsmemInfoFlags = {
    haveNodes: view.blocks.some((b) => b.nodes.length > 0),
    haveZones: view.blocks.some((b) => b.validZones !== undefined),
    haveMemconfig: (view.firmwareBlocks?.length ?? 0) > 0,
  };
  if (view.blockSizeBytes === '') fail('failed to read memory block size');
  const blockSize = strtoumaxHex(view.blockSizeBytes);
  if (blockSize === null) fail('failed to read memory block size: Numerical result out of range');

  const byIndex = new Map(view.blocks.map((b) => [b.index, b]));
  const dirs: { index: number; fw?: SysfsFirmwareMemoryBlock }[] = flags.haveMemconfig
    ? (view.firmwareBlocks ?? []).map((fw) => ({ index: fw.index, fw }))
    : view.blocks.map((b) => ({ index: b.index }));
  let memOnline = 0n,
    memOffline = 0n;
  const blocks: MemoryBlock[] = [];
  for (const d of dirs) {
    const blk = readBlockAttrs(d.index, byIndex.get(d.index), d.fw, flags);
    if (blk.state === STATE_ONLINE) memOnline = (memOnline + blockSize) & U64;
    else memOffline = (memOffline + blockSize) & U64;
    const curr = blocks[blocks.length - 1];
    if (curr && isMergeable(curr, blk, listAll, split, flags)) curr.count++;
    else blocks.push(blk);
  }
  return { blockSize, memOnline, memOffline, blocks, ...flags };
}

// ---------------------------------------------------------------------------------------------
// Sizes and cells

/** Models size_to_human_string(SIZE_SUFFIX_1LETTER, bytes) in the C locale. */
export function sizeToHumanString(bytes: bigint): string {
  let shft = 10;
  for (; shft <= 60; shft += 10) if (bytes < 1n << BigInt(shft)) break;
  const exp = shft - 10;
  const letter = 'BKMGTPE'[exp / 10] ?? 'E';
  let dec = exp ? bytes >> BigInt(exp) : bytes;
  let frac = exp ? bytes & ((1n << BigInt(exp)) - 1n) : 0n;
  if (frac) {
    if (frac >= U64 / 1000n) frac = ((frac / 1024n) * 1000n) / (1n << BigInt(exp - 10));
    else frac = (frac * 1000n) / (1n << BigInt(exp));
    frac = ((frac + 50n) / 100n) * 10n;
    if (frac === 100n) {
      dec++;
      frac = 0n;
    }
  }
  if (frac) {
    let s = `${dec}.${frac.toString().padStart(2, '0')}`;
    if (s.endsWith('0')) s = s.slice(0, -1);
    return `${s}${letter}`;
  }
  return `${dec}${letter}`;
}

/** Models the switch in add_scols_line(): a cell's text, null for no data. */
function cellText(id: number, blk: MemoryBlock, info: LsmemInfo, bytes: boolean): string | null {
  const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');
  const size = (blk.count * info.blockSize) & U64;
  switch (id) {
    case COL_RANGE: {
      const start = (blk.index * info.blockSize) & U64;
      return `0x${hex16(start)}-0x${hex16((start + size - 1n) & U64)}`;
    }
    case COL_SIZE:
      return bytes ? size.toString() : sizeToHumanString(size);
    case COL_STATE:
      return blk.state === STATE_ONLINE ? 'online' : blk.state === STATE_OFFLINE ? 'offline' : blk.state === STATE_GOING_OFFLINE ? 'on->off' : '?';
    case COL_REMOVABLE:
      return blk.state === STATE_ONLINE ? (blk.removable ? 'yes' : 'no') : null;
    case COL_BLOCK:
      return blk.count === 1n ? blk.index.toString() : `${blk.index}-${(blk.index + blk.count - 1n) & U64}`;
    case COL_NODE:
      return info.haveNodes ? String(blk.node) : null;
    case COL_ZONES:
      return info.haveZones ? blk.zones.map((z) => ZONE_NAMES[z] ?? 'Unknown').join('/') : null;
    case COL_CONFIG:
      return info.haveMemconfig ? (blk.config ? 'yes' : 'no') : null;
    case COL_MEMMAP:
      return info.haveMemconfig ? (blk.memmapOnMemory ? 'yes' : 'no') : null;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// libsmartcols output

type JsonType = 'string' | 'number' | 'boolean';

interface TableColumn {
  readonly desc: ColumnDesc;
  readonly jsonType: JsonType;
  width: number;
}

interface Table {
  readonly columns: TableColumn[];
  /** Per line, one cell per table column; null is a cell without data. */
  readonly lines: (string | null)[][];
  readonly format: 'human' | 'raw' | 'export' | 'json';
  readonly noheadings: boolean;
  readonly annotate: boolean;
  readonly name: string;
}

/** Models the cell encoding of ul_buffer_get_safe_data() for the (ASCII) data lsmem produces. */
function safeEncode(data: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what ul_buffer_get_safe_data escapes
  return data.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Models count_column_width() for non-terminal output. */
function countColumnWidth(tb: Table, ci: number): number {
  const cl = tb.columns[ci];
  if (!cl) return 0;
  let widthMin = tb.noheadings ? 0 : safeEncode(cl.desc.name).length;
  const noHeader = tb.noheadings;
  if (!widthMin) widthMin = 1;
  let widthMax = 0;
  for (const ln of tb.lines) widthMax = Math.max(widthMax, safeEncode(ln[ci] ?? '').length);
  let width = widthMax;
  if (width <= widthMin) width = widthMin;
  else if (cl.desc.whint >= 1 && width < cl.desc.whint && widthMin < cl.desc.whint) width = cl.desc.whint;
  if (widthMax === 0 && noHeader && widthMin === 1 && width <= 1) width = 0;
  return width;
}

/** Models ul_fputs_hyperlink() (an OSC 8 hyperlink). */
function hyperlink(uri: string, text: string): string {
  return `\x1b]8;;${uri}\x1b\\${text}\x1b]8;;\x1b\\`;
}

/** Models print_data() in the human format: one cell with its padding and separator. */
function printHumanCell(tb: Table, ci: number, data: string, isHeader: boolean): string {
  const cl = tb.columns[ci];
  if (!cl) return '';
  const isLast = ci === tb.columns.length - 1;
  const text = safeEncode(data);
  let len = text.length;
  let width = cl.width;
  if (isLast && len < width && !cl.desc.right) width = len;
  let out = '';
  if (text !== '') {
    if (cl.desc.right) {
      out += ' '.repeat(Math.max(0, width - len));
      len = width;
    }
    out += isHeader && tb.annotate && cl.desc.help ? hyperlink(cl.desc.help, text) : text;
  }
  if (isLast) return out;
  out += ' '.repeat(Math.max(0, width - len));
  return `${out} `;
}

/** Models fputs_nonblank(): raw output escapes blanks, backslashes and non-printables. */
function nonblank(data: string): string {
  let out = '';
  for (const b of Buffer.from(data, 'utf8')) {
    if (b === 0x20 || b === 0x09 || b === 0x5c || b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/** Models fputs_quoted(): pairs output quotes values and escapes shell-special characters. */
function quoted(data: string): string {
  let out = '"';
  for (const b of Buffer.from(data, 'utf8')) {
    if (b === 0x22 || b === 0x5c || b === 0x60 || b === 0x24 || b < 0x20 || b >= 0x7f) {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/** Models fputs_quoted_case_json(): a JSON string. */
function jsonQuoted(data: string): string {
  const short: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  let out = '"';
  for (const c of data) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code >= 0x20) out += c;
    else out += short[c] ?? `\\u00${code.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** Models lib/jsonwrt.c's pretty writer (ul_jsonwrt_*). */
class JsonWriter {
  out = '';
  private indent = 0;
  private afterClose = false;

  /** Models print_name(). */
  private printName(name: string | null): void {
    if (this.afterClose) this.out += name !== null ? ',\n' : ',';
    if (name !== null || !this.afterClose) this.out += '   '.repeat(this.indent);
    if (name !== null) this.out += jsonQuoted(asciiLower(name));
  }

  /** Models ul_jsonwrt_open() for objects and arrays. */
  open(name: string | null, type: 'object' | 'array'): void {
    this.printName(name);
    const ch = type === 'object' ? '{' : '[';
    this.out += name !== null ? `: ${ch}\n` : `${ch}\n`;
    this.indent++;
    this.afterClose = false;
  }

  /** Models ul_jsonwrt_close() for objects and arrays. */
  close(type: 'object' | 'array'): void {
    this.indent--;
    this.out += `\n${'   '.repeat(this.indent)}${type === 'object' ? '}' : ']'}`;
    if (this.indent === 0) this.out += '\n';
    this.afterClose = true;
  }

  /** Models ul_jsonwrt_value_open/close() around an already formatted value. */
  value(name: string, formatted: string): void {
    this.printName(name);
    this.out += `: ${formatted}`;
    this.afterClose = true;
  }
}

/** Models print_json_data(): a cell as a typed JSON value. */
function jsonValue(type: JsonType, data: string): string {
  switch (type) {
    case 'number':
      return data !== '' ? data : 'null';
    case 'boolean':
      return data === '' || data[0] === '0' || data[0] === 'N' || data[0] === 'n' ? 'false' : 'true';
    case 'string':
      return data !== '' ? jsonQuoted(data) : 'null';
  }
}

/** Models scols_print_table(): the whole table in its format. */
function printTable(tb: Table): string {
  if (tb.columns.length === 0) return '';
  if (tb.format === 'json') {
    const w = new JsonWriter();
    w.open(null, 'object');
    w.open(tb.name, 'array');
    for (const ln of tb.lines) {
      w.open(null, 'object');
      tb.columns.forEach((cl, ci) => w.value(cl.desc.name, jsonValue(cl.jsonType, ln[ci] ?? '')));
      w.close('object');
    }
    w.close('array');
    w.close('object');
    return w.out;
  }
  if (tb.lines.length === 0) return '';
  const rows: string[] = [];
  const sep = (ci: number): string => (ci < tb.columns.length - 1 ? ' ' : '');
  if (tb.format === 'human') {
    tb.columns.forEach((cl, ci) => (cl.width = countColumnWidth(tb, ci)));
    if (!tb.noheadings) rows.push(tb.columns.map((cl, ci) => printHumanCell(tb, ci, cl.desc.name, true)).join(''));
    for (const ln of tb.lines) rows.push(tb.columns.map((_, ci) => printHumanCell(tb, ci, ln[ci] ?? '', false)).join(''));
  } else if (tb.format === 'raw') {
    if (!tb.noheadings) rows.push(tb.columns.map((cl, ci) => nonblank(cl.desc.name) + sep(ci)).join(''));
    for (const ln of tb.lines) rows.push(tb.columns.map((_, ci) => nonblank(ln[ci] ?? '') + sep(ci)).join(''));
  } else {
    for (const ln of tb.lines) {
      rows.push(tb.columns.map((cl, ci) => `${cl.desc.name}=${quoted(ln[ci] ?? '')}${sep(ci)}`).join(''));
    }
  }
  return `${rows.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// lsmem

/** Models get_memmap_mode(). */
function memmapMode(param: string): string | null {
  if (param.startsWith('Y')) return 'yes';
  if (param.startsWith('N')) return 'no';
  if (param.startsWith('force')) return 'force';
  return null;
}

/** Models print_summary(). */
function printSummary(view: SysfsMemory, info: LsmemInfo, bytes: boolean): string {
  const line = (label: string, value: string): string => `${label.padEnd(32)} ${value.padStart(bytes ? 15 : 5)}\n`;
  const fmt = (v: bigint): string => (bytes ? v.toString() : sizeToHumanString(v));
  let out = line('Memory block size:', fmt(info.blockSize));
  out += line('Total online memory:', fmt(info.memOnline));
  out += line('Total offline memory:', fmt(info.memOffline));
  const mode = view.memmapOnMemoryParameter ? memmapMode(view.memmapOnMemoryParameter) : null;
  if (mode !== null) out += line('Memmap on memory parameter:', mode);
  return out;
}

/** Models skip_memconfig_column(). */
function skipColumn(id: number, haveMemconfig: boolean): boolean {
  return (id === COL_MEMMAP || id === COL_CONFIG) && !haveMemconfig;
}

/** lsmem's line number of err_oom() in add_scols_line(), which a misplaced cell reaches. */
const ADD_LINE_OOM = 'sys-utils/lsmem.c: 336: cannot allocate memory';

/** Models main() from the column setup on: builds, fills and prints the table and the summary. */
function run(view: SysfsMemory, opts: LsmemOptions, env: LsmemEnv): string {
  if (!opts.wantTable) {
    const info = readInfo(view, opts.sysroot, false, splitPolicy([]));
    return printSummary(view, info, opts.bytes);
  }
  const cols = resolveColumnsOrThrow(opts, env);
  const info = readInfo(view, opts.sysroot, opts.listAll, cols.split);
  const tableColumns: TableColumn[] = [];
  for (const id of cols.columns) {
    if (skipColumn(id, info.haveMemconfig)) continue;
    const desc = LSMEM_COLUMNS[id];
    if (!desc) continue;
    let jsonType: JsonType = 'string';
    if (opts.json) {
      if ((id === COL_SIZE && opts.bytes) || id === COL_NODE) jsonType = 'number';
      else if (id === COL_REMOVABLE) jsonType = 'boolean';
    }
    tableColumns.push({ desc, jsonType, width: 0 });
  }
  // add_scols_line() puts the i-th wanted column's text into cell i even when skipped columns
  // shift the table's columns; a cell past the table's end is an error.
  const lines = info.blocks.map((blk) => {
    const cells: (string | null)[] = tableColumns.map(() => null);
    cols.columns.forEach((id, i) => {
      if (skipColumn(id, info.haveMemconfig)) return;
      const str = cellText(id, blk, info, opts.bytes);
      if (str === null) return;
      if (i >= cells.length) fail(ADD_LINE_OOM);
      cells[i] = str;
    });
    return cells;
  });
  const format = opts.raw ? 'raw' : opts.pairs ? 'export' : opts.json ? 'json' : 'human';
  let out = printTable({
    columns: tableColumns,
    lines,
    format,
    noheadings: opts.noheadings,
    annotate: opts.annotate,
    name: 'memory',
  });
  if (opts.wantSummary) out += `\n${printSummary(view, info, opts.bytes)}`;
  return out;
}

/**
 * lsmem over a sysfs view. `argv` are lsmem's options (a --sysroot among them only names the
 * root in messages; the view is what is read). `env` supplies LSMEM_COLUMNS.
 */
export function lsmem(view: SysfsMemory, argv: readonly string[], env: LsmemEnv = {}): LsmemResult {
  try {
    const opts = parseOrThrow(argv);
    return { stdout: run(view, opts, env), stderr: '', exitCode: 0 };
  } catch (e) {
    if (e instanceof LsmemExit) return e.result;
    throw e;
  }
}
