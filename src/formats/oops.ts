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
];
/** Lines dump_page and bad_range print before the BUG they lead to. */
const PRELUDE = /^(page:|page dumped because: |flags: |raw: |page 0x[0-9a-f]+ outside node |-+\[ cut here \]-+|\s*(anon|file|ksm)|memcg:)/;

function headerOf(line: string): { kind: OopsKind; where?: string } | null {
  for (const [re, kind] of HEADERS) {
    const m = re.exec(line);
    if (m) return { kind, ...(m[1] !== undefined ? { where: m[1] } : {}) };
  }
  return null;
}

/** The kernel reports in a console log, in order. */
export function parseKernelReports(text: string): KernelReport[] {
  const raw = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const lines = raw.map((l) => l.replace(STAMP, ''));
  const times = raw.map((l) => {
    const m = STAMP.exec(l);
    return m ? Number(m[1]) : null;
  });
  const out: KernelReport[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const h = headerOf(line);
    if (!h) {
      i++;
      continue;
    }
    let start = i;
    while (start > 0 && PRELUDE.test(lines[start - 1] ?? '')) start--;
    let end = i + 1;
    for (; end < lines.length; end++) {
      const l = lines[end] ?? '';
      if (/^---\[ end trace/.test(l)) {
        end++;
        break;
      }
      // "Oops: 0000 [#1]" after "BUG: unable to handle page fault" belongs to that report.
      if (headerOf(l) && !/^Oops: /.test(l)) {
        // The next report's page dump is its own.
        while (end > i + 1 && PRELUDE.test(lines[end - 1] ?? '')) end--;
        break;
      }
      if (/^Kernel panic - not syncing/.test(l)) break;
    }
    const body = lines.slice(start, end);
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
    out.push({
      kind: h.kind,
      headline: line,
      ...(h.where !== undefined ? { where: h.where } : {}),
      ...(expression !== undefined ? { expression } : {}),
      ...(rip !== undefined ? { rip } : {}),
      calls,
      time: times[i] ?? null,
      lines: body,
    });
    i = end;
  }
  return out;
}
