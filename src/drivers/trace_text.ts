// An explore violation as a reviewer reads it: pfns in hex (as the kernel prints them), each
// task named once with what it is ("B = memunmap_pages(pmem1, [0x108000-0x110000))"), a task's
// uninterrupted steps under the same locks on one line, runs of the same step (a span search's
// struct page reads) collapsed to their first and last pfn, a violation no interleaving was
// needed for marked as such, and a paragraph per invariant: what the kernel prints, and the fix.
// Pure text: `mmsim explore`, `--replay` and `compare` print it, so a replay shows the same text.

/** A task of a world, as the trace names it. */
export interface TaskInfo {
  readonly name: string;
  /** A short label for trace lines ("A"); the name where absent. */
  readonly label?: string;
  /** What the task is: the kernel call it runs ("memunmap_pages(pmem1, [0x108000-0x110000))"). */
  readonly call?: string;
}

/** One step as the trace shows it (the driver's TraceStep). */
export interface TextStep {
  readonly task: number;
  readonly name: string;
  readonly op: string;
  readonly held: readonly string[];
  /** The kernel function that performed the step, where the task named it. */
  readonly fn?: string;
}

export const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The pfns of a step's description in hex: "struct page 1081344" -> "struct page 0x108000",
 * "mem_section of pfn N", "memmap [a, b)" -> "memmap [0x..-0x..)". Section numbers
 * (mem_section[32]), node ids and page counts stay decimal, as the kernel prints them.
 */
export function hexPfns(what: string): string {
  // A search describes the same few thousand steps in every interleaving: each is rewritten once.
  let out = HEXED.get(what);
  if (out === undefined) {
    if (HEXED.size >= 1 << 16) HEXED.clear();
    out = what
      .replace(/\b(struct page|pfn) (\d+)\b/g, (_m, w: string, n: string) => `${w} ${hex(Number(n))}`)
      .replace(/\bmemmap \[(\d+), (\d+)\)/g, (_m, a: string, b: string) => `memmap [${hex(Number(a))}-${hex(Number(b))})`);
    HEXED.set(what, out);
  }
  return out;
}

/** hexPfns's answers so far. */
const HEXED = new Map<string, string>();

/** The lock operations (a step that takes or drops a lock starts a new line). */
const LOCK_OPS = new Set([
  'down_read',
  'up_read',
  'down_write',
  'up_write',
  'mutex_lock',
  'mutex_unlock',
  'spin_lock_irqsave',
  'spin_unlock_irqrestore',
  'write_seqlock',
  'write_sequnlock',
  'read_seqbegin',
  'read_seqretry',
]);

export const isLockOp = (op: string): boolean => LOCK_OPS.has(op.split(' ')[0] ?? '');
const sameHeld = (a: TextStep, b: TextStep): boolean => a.held.length === b.held.length && a.held.every((h, i) => h === b.held[i]);
/** A step's description with its one hex number taken out, or null (no number, or more than one). */
function template(op: string): { shape: string; n: number } | null {
  const nums = op.match(/0x[0-9a-f]+/g);
  if (!nums || nums.length !== 1) return null;
  return { shape: op.replace(/0x[0-9a-f]+/, '#'), n: parseInt(nums[0].slice(2), 16) };
}

/** The shortest run of the same step that is collapsed. */
const MIN_RUN = 3;

/** Where the run of the same step starting at i ends (exclusive): same task, fn, locks, description but its number. */
function runEnd(trace: readonly TextStep[], i: number): number {
  const a = trace[i] as TextStep;
  const t = template(a.op);
  if (!t) return i + 1;
  let j = i + 1;
  for (; j < trace.length; j++) {
    const b = trace[j] as TextStep;
    if (b.task !== a.task || b.fn !== a.fn || !sameHeld(a, b) || template(b.op)?.shape !== t.shape) break;
  }
  return j;
}

/** The name a trace line gives a task. */
function who(tasks: readonly TaskInfo[], st: TextStep): string {
  return tasks[st.task]?.label ?? st.name;
}

const holds = (st: TextStep): string => (st.held.length ? `  [holds ${st.held.join(', ')}]` : '');
const range = (a: number, b: number): string => (a === b ? `${a + 1}` : `${a + 1}–${b + 1}`);
const line = (a: number, b: number, text: string): string => `  ${range(a, b).padStart(7)}  ${text}`;

/** A run of the same step on one line: "B's find_biggest_section_pfn reads struct pages 0x107fff…0x1007ff, every 0x200 pfns down (61 reads)". */
function runLine(trace: readonly TextStep[], tasks: readonly TaskInfo[], a: number, b: number): string {
  const steps = trace.slice(a, b + 1);
  const first = steps[0] as TextStep;
  const nums = steps.map((s) => (template(s.op) as { n: number }).n);
  const stride = (nums[1] as number) - (nums[0] as number);
  const even = stride !== 0 && nums.every((n, k) => k === 0 || n - (nums[k - 1] as number) === stride);
  const span = `${hex(nums[0] as number)}…${hex(nums.at(-1) as number)}`;
  const every = even ? `, every ${hex(Math.abs(stride))} pfns ${stride < 0 ? 'down' : 'up'}` : '';
  const subject = first.fn ? `${who(tasks, first)}'s ${first.fn}` : who(tasks, first);
  const access = /^(read|write) struct page 0x[0-9a-f]+$/.exec(first.op);
  if (access) return line(a, b, `${subject} ${access[1]}s struct pages ${span}${every} (${steps.length} ${access[1]}s)${holds(first)}`);
  const shape = (template(first.op) as { shape: string }).shape.replace('#', span);
  return line(a, b, `${subject}: ${shape}${every} (${steps.length} steps)${holds(first)}`);
}

/**
 * The trace's lines: a line per run of one task's steps under the same locks (a lock operation
 * starts a line; the last step, where the invariant breaks, has its own), runs of the same step
 * collapsed (runLine).
 */
export function traceLines(trace: readonly TextStep[], tasks: readonly TaskInfo[]): string[] {
  const out: string[] = [];
  const last = trace.length - 1;
  for (let i = 0; i < trace.length;) {
    const end = runEnd(trace, i);
    if (end - i >= MIN_RUN && end - 1 !== last) {
      out.push(runLine(trace, tasks, i, end - 1));
      i = end;
      continue;
    }
    const st = trace[i] as TextStep;
    let k = i + 1;
    while (k < trace.length && k !== last) {
      const nx = trace[k] as TextStep;
      // A task's first step ("start") goes on the line of what it does next.
      const alone = k === i + 1 && st.op === 'start';
      if (nx.task !== st.task || nx.fn !== st.fn || runEnd(trace, k) - k >= MIN_RUN) break;
      if (!alone && (isLockOp(nx.op) || !sameHeld(trace[k - 1] as TextStep, nx))) break;
      k++;
    }
    const group = trace.slice(i, k);
    const fn = st.fn ? ` (${st.fn})` : '';
    out.push(line(i, k - 1, `${who(tasks, st)}${fn}: ${group.map((s) => s.op).join('; ')}${holds(group.at(-1) as TextStep)}`));
    i = k;
  }
  return out;
}

/** Whether one task alone broke the invariant (no interleaving was needed). */
export function singleTask(trace: readonly TextStep[]): boolean {
  return trace.length > 0 && trace.every((s) => s.task === (trace[0] as TextStep).task);
}

/** Text wrapped at `width` columns, the first line after `first`, the rest indented by `indent`. */
export function wrap(text: string, first: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let cur = first;
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = indent + word;
    } else cur += (empty ? '' : ' ') + word;
    empty = false;
  }
  out.push(cur);
  return out;
}

/** An explore violation as `mmsim explore` prints it (and `--replay` of the saved one). */
export function violationText(v: { readonly invariant: string; readonly message: string; readonly trace: readonly TextStep[] }, tasks: readonly TaskInfo[], rerun: string): string {
  const alone = singleTask(v.trace);
  const lines = [`${v.invariant}: ${v.trace.length} steps${alone ? ', single task: no race needed' : ''}`];
  const seen = [...new Set(v.trace.map((s) => s.task))].sort((a, b) => a - b);
  for (const t of seen) {
    const info = tasks[t];
    if (info?.call) lines.push(`  ${info.label ?? info.name} = ${info.call}`);
  }
  lines.push(...traceLines(v.trace, tasks));
  lines.push(`  ${v.message}`);
  const why = explainInvariant(v.invariant);
  if (why) lines.push(...wrap(why, '  invariant: ', '    ', 130));
  lines.push(`  replay: ${rerun}`);
  return lines.join('\n') + '\n';
}

/**
 * One paragraph per invariant: what the kernel prints when it breaks (the check, its file and
 * line in 5.3 and 6.18) and the change that fixed it. Checked against the sources of 5.3
 * (Awik84/linux-5.3) and 6.18.2 (gfunkmonk/linux-6.18.2) and the 2019 patch mails.
 */
const EXPLAIN: Record<string, string> = {
  zone_spans_pfn:
    'CONFIG_DEBUG_VM: VM_BUG_ON_PAGE(!zone_spans_pfn(page_zone(page), pfn), page) in set_pfnblock_flags_mask (mm/page_alloc.c:535 in 5.3; ' +
    '6.18: get_pfnblock_bitmap_bitidx, :374) dumps the page, then "kernel BUG at mm/page_alloc.c:535!", as in the 5.4-rc4 report ' +
    '(namespaces created and destroyed in a loop). Fixed for 5.4 by "mm/memory_hotplug: don\'t access uninitialized memmaps in ' +
    'shrink_zone_span()" (stable 4.13+): ZONE_DEVICE is no longer shrunk.',
  'poisoned struct page read':
    "A struct page still filled with page_init_poison's 0xff. With CONFIG_DEBUG_VM_PGFLAGS, PF_POISONED_CHECK (page_to_nid, " +
    'include/linux/mm.h:1088 in 5.3) dumps "page:<address> is uninitialized and poisoned" and "page dumped because: ' +
    'VM_BUG_ON_PAGE(PagePoisoned(p))", a BUG; without it nothing is printed and the fields read as all ones. /proc/kpageflags ' +
    "(stable_page_flags) Oopses either way: PageSlab's compound_head() of the all-ones page points at ~1; so does 5.3's " +
    "memory_failure (dax_lock_page reads the all-ones page->mapping's host). memunmap_pages' read " +
    "of its first page: fixed by 77e080e7680e (5.4-rc4, stable 5.0+, reads pfn_first); the span search's reads: by \"don't access " +
    'uninitialized memmaps in shrink_zone_span()" (5.4, pfn_to_online_page) and 5.5\'s shrinking at offline.',
  'stale struct page read':
    "CONFIG_DEBUG_VM off (a distribution kernel): no poison and no VM_BUG_ON, nothing is printed; the read returns an earlier owner's " +
    'bytes as node, zone and flags. The same reads as the poisoned-read invariant, fixed by the same changes.',
  might_sleep:
    'A sleeping call (cond_resched, mutex_lock, down_read) under a spinlock or with IRQs off: ___might_sleep (kernel/sched/core.c:6589 ' +
    'in 5.3; __might_resched in 6.18) prints "BUG: sleeping function called from invalid context at <file>:<line>", ' +
    '"in_atomic(): …, irqs_disabled(): …, pid: …, name: …", the locks held and a stack; a warning, the task goes on. No kernel fix: no kernel took a seqlock around the init loop.',
  bad_range:
    'CONFIG_DEBUG_VM: page_outside_zone_boundaries prints "page 0x<pfn> outside node <nid> zone <name> [ 0x<start> - 0x<end> ]" ' +
    "(mm/page_alloc.c:577 in 5.3, :592 in 6.18) and the caller's VM_BUG_ON_PAGE(bad_range(zone, page), page) is a BUG.",
  'zone outside node span':
    "The model's invariant: a zone's span lies inside its node's (both change under pgdat_resize_lock, or mem_hotplug_lock from 5.14). " + 'The kernel checks nothing and prints nothing.',
  'device page pgmap':
    "The model's invariant: each initialised device page's page->pgmap is its own pgmap. The kernel checks nothing and prints " +
    'nothing; a later get_dev_pagemap or put_page would follow the wrong pointer.',
  'device pages outside zone span':
    "The model's invariant with CONFIG_DEBUG_VM off: the pages memmap_init_zone_device initialised lie inside their zone's span. " +
    'The kernel prints nothing; with CONFIG_DEBUG_VM it is the zone_spans_pfn BUG, fixed the same way.',
  'page counts':
    "The model's invariant: a node's present pages are its zones' sum, and no zone manages more than it has present. The kernel " + 'checks nothing; /proc/zoneinfo shows the wrong counts.',
  deadlock:
    'Every task left waits for a lock another holds. Nothing is printed at once; after 120 s (the default) the hung task detector ' +
    '(kernel/hung_task.c) prints "INFO: task <comm>:<pid> blocked for more than 120 seconds." for each.',
};

/** The paragraph for an invariant (its key may name a task: "poisoned struct page read (memunmap B)"), or null. */
export function explainInvariant(invariant: string): string | null {
  return EXPLAIN[invariant] ?? EXPLAIN[invariant.replace(/ \(.*\)$/, '')] ?? null;
}
