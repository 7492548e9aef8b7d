// npm run -s bench:memmap -- --json
// Dense struct page init in TypeScript against a C reference writing the same records in the
// same order (byte-identical before any ratio is printed), memset bandwidth, dense init on
// 1..N worker threads, and extent-mode boots of a 64 GiB and a 64 TiB machine (16 nodes, holes,
// reserved ranges, ZONE_MOVABLE, deferred ranges; the 64 GiB one checked equal to dense).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archFor } from '../dist/arch/index.js';
import { loadMachineYaml } from '../dist/formats/machine-yaml.js';
import { memmapBoot } from '../dist/kernel/memmap_init.js';
import { DenseMemmap } from '../dist/memmap/dense.js';
import { ExtentMemmap } from '../dist/memmap/extent.js';
import { DeferredInitPool } from '../dist/memmap/parallel.js';
import { pageWriterFor } from '../dist/kernel/memmap_source.js';
import { freeAreaInit } from '../dist/kernel/mm_init.js';
import { profileForOption } from '../dist/profiles/profile.js';

const here = dirname(fileURLToPath(import.meta.url));
const json = process.argv.includes('--json');
const log = (s) => {
  if (!json) process.stderr.write(s + '\n');
};

const KERNEL = '6.18';
const PPS = 32768;
const SECTIONS = 256; // 8 Mi pages, 512 MiB of struct pages
const NPAGES = PPS * SECTIONS;
const ZONE = 2;
const NID = 0;

function machine(totalGiB, nodes = 16) {
  // Nodes above 4 GiB, each `per` long: the last must end within x86_64's 46-bit physical address
  // space (4-level paging), so the 64 TiB machine's nodes are 4 TiB - 256 MiB each.
  const per = Math.min((totalGiB * 2 ** 30) / nodes, (2 ** 46 - 4 * 2 ** 30) / nodes);
  const lines = ['cmdline: "movablecore=10%"', 'reserved:', '  - { start: 0x1000000, size: 64M }', 'nodes:'];
  for (let n = 0; n < nodes; n++) {
    const base = n === 0 ? 0 : 4 * 2 ** 30 + n * per;
    const mem =
      n === 0
        ? `[{ start: 0x1000, end: 0x9f000 }, { start: 0x100000, end: 0xbff00000 }, { start: 4G, end: ${4 * 2 ** 30 + per} }]`
        : `[{ start: ${base}, end: ${base + per / 2} }, { start: ${base + per / 2 + 2 ** 28}, end: ${base + per} }]`;
    lines.push(`  - { nid: ${n}, cpus: 4, memory: ${mem} }`);
  }
  return lines.join('\n') + '\n';
}

function bootState(yaml) {
  const { spec } = loadMachineYaml('bench', yaml);
  const profile = profileForOption(KERNEL);
  return freeAreaInit(archFor(spec, profile), profile, spec);
}

// 1. Dense init, one thread.
const probe = bootState(machine(64));
const writer = pageWriterFor(probe);
const geometry = { pagesPerSection: PPS, writer, seed: 1 };
const dense = new DenseMemmap(geometry);
for (let nr = 0; nr < SECTIONS; nr++) dense.populateSection(nr, 'stale');
let best = Infinity;
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint();
  dense.initRange(0, NPAGES, ZONE, NID);
  best = Math.min(best, Number(process.hrtime.bigint() - t0));
}
const tsNs = best / NPAGES;
log(`dense init: ${tsNs.toFixed(3)} ns/page`);

// 2. The C reference, same records, same order.
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-bench-'));
const exe = join(tmp, 'memmap_ref');
execFileSync('gcc', ['-O2', '-o', exe, join(here, 'memmap_ref.c')]);
const s = writer.serialize([[ZONE, NID]]);
const tmpl = s.templates[0][2].map((w) => `0x${w.toString(16)}`);
const out = join(tmp, 'c.bin');
const c = JSON.parse(execFileSync(exe, [String(NPAGES), '0', String(s.recordBytes), String(s.lruOffset), String(s.baseLo), String(s.baseHi), ...tmpl, out], { encoding: 'utf8' }));
const hash = (bufs) => {
  const h = createHash('sha256');
  for (const b of bufs) h.update(b);
  return h.digest('hex');
};
const tsHash = hash([...Array(SECTIONS).keys()].map((nr) => new Uint8Array(dense.sections.get(nr).records)));
const cHash = hash([readFileSync(out)]);
rmSync(tmp, { recursive: true, force: true });
if (tsHash !== cHash) {
  process.stderr.write(`bench: the TypeScript and C memmaps differ (sha256 ${tsHash} vs ${cHash}); no ratios printed\n`);
  process.exit(1);
}
log(`C reference: ${c.ns_per_page.toFixed(3)} ns/page, memset ${c.memset_ns_per_page.toFixed(3)} ns/page (memmaps identical)`);

// 3. Worker threads: the same range as deferred chunks.
const speedup = {};
const maxThreads = Math.max(2, availableParallelism());
let t1 = 0;
for (let n = 1; n <= maxThreads; n++) {
  // Threads are started once, like the kernel's padata threads; a warm-up run comes first.
  const pool = new DeferredInitPool(n);
  let bt = Infinity;
  for (let r = 0; r < 4; r++) {
    const d = new DenseMemmap(geometry);
    for (let nr = 0; nr < SECTIONS; nr++) d.populateSection(nr, 'stale');
    const t0 = process.hrtime.bigint();
    await pool.run(d, [{ nid: NID, zone: ZONE, start: 0, end: NPAGES }]);
    if (r > 0) bt = Math.min(bt, Number(process.hrtime.bigint() - t0));
  }
  await pool.close();
  if (n === 1) t1 = bt;
  speedup[String(n)] = Number((t1 / bt).toFixed(3));
  log(`${n} worker(s): ${(bt / NPAGES).toFixed(3)} ns/page, speedup ${speedup[String(n)]}`);
}

// 4. Extent-mode boots.
function extentBoot(totalGiB) {
  const t0 = process.hrtime.bigint();
  const st = bootState(machine(totalGiB));
  const store = new ExtentMemmap({ pagesPerSection: st.sparse.pagesPerSection, writer: pageWriterFor(st), seed: 1 });
  memmapBoot(st, store, { poison: false, runDeferred: true });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, st, store };
}
// Best of three each (the first run also warms the JIT; GC after the dense runs is noise).
const bestOf = (gib) => [extentBoot(gib), extentBoot(gib), extentBoot(gib)].reduce((x, y) => (y.ms < x.ms ? y : x));
const g = bestOf(64);
const t = bestOf(65536);
log(`extent boot: 64 GiB ${g.ms.toFixed(1)} ms, 64 TiB ${t.ms.toFixed(1)} ms`);

// The 64 GiB extent boot equals the dense one, every pfn of every present section.
const dst = bootState(machine(64));
const dstore = new DenseMemmap({ pagesPerSection: dst.sparse.pagesPerSection, writer: pageWriterFor(dst), seed: 1 });
memmapBoot(dst, dstore, { poison: false, runDeferred: true });
const a = new Uint8Array(writer.recordBytes);
const b = new Uint8Array(writer.recordBytes);
for (const sec of dst.sparse.sections.values()) {
  const base = sec.sectionNr * dst.sparse.pagesPerSection;
  for (let pfn = base; pfn < base + dst.sparse.pagesPerSection; pfn++) {
    dstore.readRecord(pfn, a);
    g.store.readRecord(pfn, b);
    if (Buffer.compare(a, b) !== 0 || dstore.stateOf(pfn) !== g.store.stateOf(pfn)) {
      process.stderr.write(`bench: extent and dense 64 GiB boots differ at pfn 0x${pfn.toString(16)}\n`);
      process.exit(1);
    }
  }
}
log('64 GiB: extent equals dense on every pfn');

const result = {
  ts_ns_per_page: Number(tsNs.toFixed(4)),
  c_ns_per_page: c.ns_per_page,
  memset_ns_per_page: c.memset_ns_per_page,
  ts_vs_c: Number((c.ns_per_page / tsNs).toFixed(4)),
  speedup_by_threads: speedup,
  extent_ms_64g: Number(g.ms.toFixed(2)),
  extent_ms_64t: Number(t.ms.toFixed(2)),
};
process.stdout.write(JSON.stringify(result) + '\n');
