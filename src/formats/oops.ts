// A kernel's serial console read for what its debugging checks print: each "kernel BUG at
// FILE:LINE!", "WARNING: CPU: N PID: N at FILE:LINE", "BUG: ..." (might_sleep's "sleeping
// function called from invalid context", a page fault) and "Oops:", with the lines that belong to
// it — the page dump before it (dump_page: "page:... is uninitialized and poisoned", "page dumped
// because: VM_BUG_ON_PAGE(expr)", bad_range's "page 0x... outside node N zone ..."), the RIP and
// the call trace's function names (lines marked "?" are the unwinder's guesses and are left out).
// Formats: lib/bug.c report_bug and __warn (kernel/panic.c), mm/debug.c __dump_page,
// arch/x86/kernel/dumpstack.c show_trace_log_lvl, as in 4.19, 5.3 and 6.1.

export type OopsKind = 'BUG' | 'WARN' | 'Oops';

export interface KernelReport {
  readonly kind: OopsKind;
  /** The header line ("kernel BUG at mm/page_alloc.c:535!"). */
  readonly headline: string;
  /** "mm/page_alloc.c:535" where the header names one. */
  readonly where?: string;
  /** The failed check's expression ("VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn))"), or the BUG: line's text. */
  readonly expression?: string;
  /** The function RIP was in ("set_pfnblock_flags_mask"). */
  readonly rip?: string;
  /** The call trace's function names, innermost first. */
  readonly calls: readonly string[];
  /** The printk time of the header line, seconds since boot (null without timestamps). */
  readonly time: number | null;
  /** The report's lines, timestamps removed. */
  readonly lines: readonly string[];
}

const STAMP = /^\[\s*(\d+\.\d+)\]\s?/;
const HEADERS: readonly [RegExp, OopsKind][] = [
  [/kernel BUG at (\S+:\d+)!/, 'BUG'],
  [/^WARNING: CPU: \d+ PID: \d+ at (\S+:\d+) /, 'WARN'],
  [/^BUG: /, 'BUG'],
  [/^Oops: /, 'Oops'],
  [/^general protection fault/, 'Oops'],
  [/^invalid opcode: /, 'Oops'],
];
/** Lines dump_page and bad_range print before the BUG they lead to. */
const PRELUDE = /^(page:|page dumped because: |flags: |raw: |page 0x[0-9a-f]+ outside node |-+\[ cut here \]-+|\s*(anon|file|ksm)|memcg:)/;
/**
 * What another CPU prints while this one holds die_lock: dump_page's lines and report_bug's
 * "kernel BUG at" come before die() takes the lock (x86 do_error_trap, lib/bug.c in 4.19, 5.3,
 * 6.1), so they can land inside another CPU's Oops. (PRELUDE's "anon"/"file" lines are left out:
 * a call trace line can start with them.)
 */
const FOREIGN = /^(page:[0-9a-f]+ |raw: |head: |flags: |page dumped because: |page 0x[0-9a-f]+ outside node |-+\[ cut here \]-+|memcg:|kernel BUG at \S+:\d+!)/;
/** The lines an Oops prints under die_lock: from oops_begin's first line to oops_exit's end trace (or the panic). */
const DIE_START = /^(BUG: unable to handle |BUG: kernel NULL pointer dereference|general protection fault|invalid opcode: |Oops: )/;
const DIE_END = /^(---\[ end trace|Kernel panic - not syncing)/;
const INVALID_OPCODE = /^(Oops: )?invalid opcode: /;
const BUG_AT = /^kernel BUG at \S+:\d+!/;

function headerOf(line: string): { kind: OopsKind; where?: string } | null {
  for (const [re, kind] of HEADERS) {
    const m = re.exec(line);
    if (m) return { kind, ...(m[1] !== undefined ? { where: m[1] } : {}) };
  }
  return null;
}

/**
 * The kernel reports in a console log, in the order their first lines were printed. An Oops is
 * the lines printed under die_lock; another CPU's dump_page and "kernel BUG at" lines inside it
 * are that CPU's, and its BUG's own Oops ("invalid opcode") comes after, or never (oops=panic).
 */
export function parseKernelReports(text: string): KernelReport[] {
  const raw = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const lines = raw.map((l) => l.replace(STAMP, ''));
  const times = raw.map((l) => {
    const m = STAMP.exec(l);
    return m ? Number(m[1]) : null;
  });
  // The die_lock blocks: the lines each owns (another CPU's dump lines inside it are not its).
  const owner: number[] = lines.map(() => -1);
  const blocks: number[][] = [];
  let open = -1;
  lines.forEach((l, i) => {
    if (open >= 0) {
      if (FOREIGN.test(l)) return;
      // Another report's first line where this Oops never printed its end: it ended there.
      if (!headerOf(l) || /^Oops: /.test(l)) {
        owner[i] = open;
        blocks[open]?.push(i);
        if (DIE_END.test(l)) open = -1;
        return;
      }
      open = -1;
    }
    if (DIE_START.test(l)) {
      open = blocks.length;
      owner[i] = open;
      blocks.push([i]);
    }
  });
  // dump_page's lines (and the cut-here line) before a report's first line, not those of an Oops
  // printing meanwhile; up to the previous report or any other line.
  const preludeOf = (i: number): number[] => {
    const out: number[] = [];
    for (let j = i - 1; j >= 0; j--) {
      const l = lines[j] ?? '';
      if (owner[j] !== -1) continue;
      if (headerOf(l) || !PRELUDE.test(l)) break;
      out.unshift(j);
    }
    return out;
  };
  const found: { header: number; lines: number[] }[] = [];
  // Each "kernel BUG at" takes the first "invalid opcode" Oops after it that no earlier one took
  // (in line order, so one pointer: an Oops before this BUG line is before every later one too).
  const opcodes = blocks.map((blk, k) => ({ k, start: blk[0] ?? -1 })).filter((b) => INVALID_OPCODE.test(lines[b.start] ?? ''));
  const claimed = new Set<number>();
  let next = 0;
  const blockOf = (i: number): number => owner[i] ?? -1;
  lines.forEach((l, i) => {
    if (!BUG_AT.test(l)) return;
    while (next < opcodes.length && (opcodes[next]?.start ?? 0) < i) next++;
    const b = opcodes[next++]?.k;
    if (b !== undefined) claimed.add(b);
    found.push({ header: i, lines: [...preludeOf(i), i, ...(b !== undefined ? (blocks[b] ?? []) : [])] });
  });
  lines.forEach((l, i) => {
    const b = blockOf(i);
    if (b >= 0) {
      // An Oops is a report of its own unless a "kernel BUG at" took it.
      if (blocks[b]?.[0] === i && !claimed.has(b)) found.push({ header: i, lines: blocks[b] ?? [] });
      return;
    }
    if (BUG_AT.test(l) || !headerOf(l) || FOREIGN.test(l)) return;
    // A WARN, might_sleep's "BUG:" line and the like (no die_lock): up to its end trace, the next
    // report or the panic.
    let end = i + 1;
    for (; end < lines.length; end++) {
      const e = lines[end] ?? '';
      if (/^---\[ end trace/.test(e)) {
        end++;
        break;
      }
      if (headerOf(e) || blockOf(end) >= 0 || /^Kernel panic - not syncing/.test(e)) {
        while (end > i + 1 && PRELUDE.test(lines[end - 1] ?? '')) end--;
        break;
      }
    }
    const own: number[] = [];
    for (let k = i; k < end; k++) own.push(k);
    found.push({ header: i, lines: [...preludeOf(i), ...own] });
  });
  found.sort((a, b) => a.header - b.header);
  return found.map(({ header, lines: idx }) => {
    const line = lines[header] ?? '';
    const h = headerOf(line) ?? { kind: 'Oops' as const };
    const body = idx.map((k) => lines[k] ?? '');
    const because = body.map((l) => /^page dumped because: (.*)$/.exec(l)?.[1]).find((x) => x !== undefined);
    const badRange = body.find((l) => /^page 0x[0-9a-f]+ outside node /.test(l));
    const bugText = /^BUG: (.*)$/.exec(line)?.[1];
    const expression = because ?? badRange ?? bugText;
    const rip = body.map((l) => /^RIP: [0-9a-f]+:([\w.]+)\+0x/.exec(l)?.[1]).find((x) => x !== undefined);
    const calls: string[] = [];
    let inTrace = false;
    for (const l of body) {
      if (/^Call Trace:/.test(l)) {
        inTrace = true;
        continue;
      }
      if (!inTrace) continue;
      const m = /^\s*(\?\s+)?([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+/.exec(l);
      if (m) {
        if (!m[1]) calls.push(m[2] as string);
      } else if (/^\s*<\/?(IRQ|EOI|TASK|NMI)>/.test(l)) continue;
      else if (calls.length) inTrace = false;
    }
    return {
      kind: h.kind,
      headline: line,
      ...(h.where !== undefined ? { where: h.where } : {}),
      ...(expression !== undefined ? { expression } : {}),
      ...(rip !== undefined ? { rip } : {}),
      calls,
      time: times[header] ?? null,
      lines: body,
    };
  });
}
