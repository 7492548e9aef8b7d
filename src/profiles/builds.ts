// Distribution kernel builds whose boot footprint was measured: what boot's memblock model
// (kernel/setup.ts) needs that no boot log states. A build is named by its full release string
// (`uname -r`); the numbers are the build's own (its vmlinux layout and config), read from the
// running kernel, never from the outputs they are used to predict.

/** The kernel image of one build (physical addresses with nokaslr; sizes in bytes). */
export interface BuildImage {
  /** _text. */
  readonly start: number;
  /** __end_of_kernel_reserve (= __bss_stop on x86_64): setup_arch reserves [_text, here). */
  readonly end: number;
  /** _brk_end - _brk_start at reserve_brk: the early page-table buffer plus DMI's share (firmware-dependent). */
  readonly brk: number;
  /** The "Memory:" line's sections: _etext-_stext, _edata-_sdata, __end_rodata-__start_rodata, __init_end-__init_begin, __bss_stop-__bss_start. */
  readonly code: number;
  readonly rwdata: number;
  readonly rodata: number;
  readonly init: number;
  readonly bss: number;
  /** Given back after mem_init: the text/rodata and rodata/data gaps, initmem, SMP alternatives, unused decrypted bss. */
  readonly freedLater: number;
}

export interface KernelBuild {
  /** Release strings (uname -r) of builds with this footprint. */
  readonly releases: readonly string[];
  readonly image: BuildImage;
  /** roundup(sizeof(pg_data_t), PAGE_SIZE): the "NODE_DATA(n) allocated" size. */
  readonly nodeDataBytes: number;
  /** pcpu_embed_first_chunk: pages kept per unit (static + reserved + dynamic) and the unit size. */
  readonly percpuUnitPages: number;
  readonly percpuUnitBytes: number;
  /** The sizes pcpu_alloc_first_chunk allocates for the static and the dynamic chunk (they depend on the build only). */
  readonly percpuChunkAllocs: readonly number[];
  /** INIT_PGD_PAGE_COUNT: 12 with CONFIG_RANDOMIZE_MEMORY, else 6 (arch/x86/mm/init.c). */
  readonly pgtBufPages: number;
  /** CONFIG_LOG_BUF_SHIFT. */
  readonly logBufShift: number;
  /** mem_section_usage_size() + usemap_size(): bytes of usemap per present section. */
  readonly usemapBytesPerSection: number;
  readonly evidence: string;
}

const DEBIAN_6_1_192_CLOUD: KernelBuild = {
  releases: ['6.1.0-56-cloud-amd64', '6.1.0-57-cloud-amd64'],
  image: {
    start: 0x1000000,
    end: 0x3800000,
    brk: 0x11000,
    code: 0xe01ef2,
    rwdata: 0x245e00,
    rodata: 0x827000,
    init: 0x28d000,
    bss: 0x54f000,
    // [PFN_ALIGN(_etext), __start_rodata) 0x1fe000 + [PFN_ALIGN(__end_rodata), _sdata) 0x1d9000 + initmem 0x28d000
    // + [__smp_locks, __smp_locks_end) 0x9000 + [__start_bss_decrypted_unused, __end_bss_decrypted) 0x1fd000.
    freedLater: 0x1fe000 + 0x1d9000 + 0x28d000 + 0x9000 + 0x1fd000,
  },
  nodeDataBytes: 0x2b000,
  percpuUnitPages: 61,
  percpuUnitBytes: 0x200000,
  percpuChunkAllocs: [144, 256, 264, 64, 144, 896, 904, 224],
  pgtBufPages: 12,
  logBufShift: 17,
  usemapBytesPerSection: 56,
  evidence:
    'Debian 6.1.0-57-cloud-amd64 (6.1.192-3) under QEMU 7.2 pc, -cpu max, TCG, nokaslr: /proc/kallsyms (_text, _etext, __start_rodata, ' +
    '__end_rodata, _sdata, _edata, __init_begin, __init_end, __smp_locks*, __bss_*, __end_of_kernel_reserve), memblock=debug (reserve_brk ' +
    '[0x3800000-0x3810fff], pcpu and usemap sizes), NODE_DATA and percpu lines; -56 (6.1.192-2) has the same config (diffed) and source version',
};

const DEBIAN_6_12_118_CLOUD: KernelBuild = {
  releases: ['6.12.118+deb12-cloud-amd64'],
  image: {
    start: 0x1000000,
    end: 0x3c00000,
    brk: 0x11000,
    code: 0x1000000,
    rwdata: 0x272d00,
    rodata: 0xaa9000,
    init: 0x3ee000,
    bss: 0x52a000,
    // _etext == __start_rodata (no text/rodata gap) + [PFN_ALIGN(__end_rodata), _sdata) 0x157000 + initmem 0x3ee000
    // + [__smp_locks, __smp_locks_end) 0xa000 + [__start_bss_decrypted_unused, __end_bss_decrypted) 0x1fb000.
    freedLater: 0x157000 + 0x3ee000 + 0xa000 + 0x1fb000,
  },
  nodeDataBytes: 0x2a980,
  percpuUnitPages: 66,
  percpuUnitBytes: 0x200000,
  percpuChunkAllocs: [200, 256, 264, 64, 200, 896, 904, 224],
  pgtBufPages: 12,
  logBufShift: 17,
  usemapBytesPerSection: 56,
  evidence:
    "Debian 6.12.118+deb12-cloud-amd64 (6.12.118-1~deb12u1) under QEMU 7.2 pc, -cpu max,la57=off, TCG, nokaslr: the -dbg package's System.map (_text, _etext, " +
    '__start_rodata, __end_rodata, _sdata, _edata, __init_begin, __init_end, __smp_locks*, __bss_*, __start_bss_decrypted_unused, __end_of_kernel_reserve), ' +
    'memblock=debug (reserve_brk [0x3c00000-0x3c10fff], NODE_DATA [mem 0x3ffd5680-0x3fffffff], pcpu_alloc_first_chunk sizes, 448 bytes of usemap for 8 sections), ' +
    'the config (RANDOMIZE_MEMORY=y, LOG_BUF_SHIFT=17) and the "Freeing" lines (rodata/data gap 1372K, SMP alternatives 40K, decrypted 2028K, initmem 4024K)',
};

const BUILDS: readonly KernelBuild[] = [DEBIAN_6_1_192_CLOUD, DEBIAN_6_12_118_CLOUD];

/** The measured build of this release string, if any. */
export function kernelBuildFor(release: string): KernelBuild | null {
  return BUILDS.find((b) => b.releases.includes(release)) ?? null;
}
