// Where an explore trace's preemption point lies in a kernel tree: the function, file and line a
// delay goes at to widen the window on real hardware or under QEMU (explore --reproducer). Keyed
// on the kernel version and on how the trace names the point: the preempted task's kernel call,
// the last lock operation it did before it was preempted and the locks it still held then.
//
// Every line below was read in the tree named by `tree` (not from memory); a point with no entry
// has no known location, and the reproducer says so rather than guess one.

/** A preemption point of a trace, in one kernel tree. */
export interface PreemptSite {
  /** The kernel version (major.minor) whose tree the lines were read in. */
  readonly kernel: string;
  /** The tree the lines were read in. */
  readonly tree: string;
  /** The preemption point as a trace names it. */
  readonly match: {
    /** The preempted task's call ("memremap_pages(pmem0, ...)" names memremap_pages). */
    readonly call: string;
    /** The last lock operation the preempted task did before it was preempted. */
    readonly afterLockOp: string;
    /** The locks it held when preempted. */
    readonly holding: readonly string[];
  };
  /** The point in words. */
  readonly where: string;
  readonly file: string;
  /** The kernel function the delay goes in. */
  readonly function: string;
  /** The delay goes after this line (1-based) ... */
  readonly line: number;
  /** ... whose text is the last of these (the lines up to it, verbatim, tabs and all) ... */
  readonly before: readonly string[];
  /** ... and before these. */
  readonly after: readonly string[];
  /** The file-scope declarations (the parameter) go after this line ... */
  readonly declLine: number;
  readonly declBefore: readonly string[];
  readonly declAfter: readonly string[];
  /** ... with these headers added (what the tree's file does not include yet). */
  readonly includes: readonly string[];
  /**
   * A `struct device *` in scope at the point, where there is one: the delay can then be limited
   * to one device by name (the preempted task's; the other task may run the same code).
   */
  readonly device?: string;
}

const TREE_53 = 'Linux 5.3 (the Awik84/linux-5.3 mirror: "Linux 5.3 base" plus commits in drivers/net and net/ only; mm/ as in v5.3)';

export const PREEMPT_SITES: readonly PreemptSite[] = [
  {
    kernel: '5.3',
    tree: TREE_53,
    // seed-2019's zone_spans_pfn trace: A = memremap_pages is preempted after up_write
    // mem_hotplug_lock (mem_hotplug_done), holding nothing, in the memmap_init_zone_device pass
    // that 5.3 runs outside the hotplug lock; B's shrink_zone_span then runs.
    match: { call: 'memremap_pages', afterLockOp: 'up_write mem_hotplug_lock', holding: [] },
    where: "after mem_hotplug_done() and its error check, before memmap_init_zone_device(): the device pages' memmap is not initialised yet, and the hotplug lock is free",
    file: 'mm/memremap.c',
    function: 'devm_memremap_pages',
    // mm/memremap.c:305-313 in 5.3: mem_hotplug_done(); if (error) goto err_add_memory; a blank
    // line, the comment "Initialization of the pages has been deferred ...", then
    // memmap_init_zone_device(...) at :313.
    line: 307,
    before: ['\tmem_hotplug_done();', '\tif (error)', '\t\tgoto err_add_memory;'],
    after: ['', '\t/*', '\t * Initialization of the pages has been deferred until now in order'],
    // mm/memremap.c:11-16 in 5.3: the last three #includes, a blank line, pgmap_array, SECTION_MASK.
    declLine: 13,
    declBefore: ['#include <linux/types.h>', '#include <linux/wait_bit.h>', '#include <linux/xarray.h>'],
    declAfter: ['', 'static DEFINE_XARRAY(pgmap_array);', '#define SECTION_MASK ~((1UL << PA_SECTION_SHIFT) - 1)'],
    includes: ['#include <linux/delay.h>', '#include <linux/moduleparam.h>'],
    // devm_memremap_pages(struct device *dev, ...): nd_pmem's pmem_attach_disk passes the probed
    // pfn device (drivers/nvdimm/pmem.c:410 and :422 in 5.3), so dev_name(dev) is "pfnN.M".
    device: 'dev',
  },
];

/** The kernel version a release names ("5.3.0+" -> "5.3"), or null. */
export function kernelVersionOf(release: string): string | null {
  const m = /^v?(\d+)\.(\d+)(?:$|[.+-])/.exec(release);
  return m ? `${m[1]}.${m[2]}` : null;
}

/** The site of a preemption point in a kernel version's tree, or null (none known). */
export function preemptSite(kernel: string, call: string, afterLockOp: string | null, holding: readonly string[]): PreemptSite | null {
  const fn = /^[A-Za-z_]\w*/.exec(call)?.[0] ?? '';
  return (
    PREEMPT_SITES.find(
      (s) => s.kernel === kernel && s.match.call === fn && s.match.afterLockOp === afterLockOp && s.match.holding.length === holding.length && s.match.holding.every((h, i) => h === holding[i]),
    ) ?? null
  );
}
