// The memmap reader verify spawns: a Python script for drgn (Debian's python3-drgn, run with the
// system /usr/bin/python3) that reads the kernel's zones, mem_sections, memory blocks and struct
// pages from a QEMU ELF memory dump and the release's debug vmlinux, and prints JSON. The page-flags
// layout it decodes with comes from the kernel's own facts (the build's config and its DWARF), not
// from mmsim's model of it.
import { spawnSync } from 'node:child_process';
import { runChild } from './child.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { MemmapBlock, MemmapView, PageLink, PageRun } from '../kernel/memmap_view.js';
import type { Pfn } from '../units.js';

export const MEMMAP_READER = String.raw`#!/usr/bin/python3
# mmsim's memmap reader: the kernel's own zones, mem_sections, memory blocks and struct pages from
# a QEMU dump-guest-memory ELF dump (paging=false; guest booted nokaslr with -device vmcoreinfo),
# read with drgn (Debian python3-drgn 0.0.22) and the release's debug vmlinux; prints JSON.
# usage: reader.py CORE VMLINUX CONFIG DETAIL.json
#   DETAIL.json: [[start, end], ...] pfn ranges whose struct pages are reported field by field;
#   elsewhere only (state, node, zone) is reported.
import json
import struct
import sys
import time

from drgn import Program, cast
from drgn.helpers.linux.xarray import xa_for_each

t0 = time.time()
core, vmlinux, config_path, detail_path = sys.argv[1:5]
config = {}
with open(config_path) as f:
    for line in f:
        if line.startswith('CONFIG_') and '=' in line:
            k, v = line.rstrip('\n').split('=', 1)
            config[k] = v
with open(detail_path) as f:
    detail = sorted((int(a), int(b)) for a, b in json.load(f))

prog = Program()
prog.set_core_dump(core)
# A paging=false dump holds physical memory only: map the kernel image (nokaslr: phys_base 0,
# __START_KERNEL_map 0xffffffff80000000) so drgn can walk swapper_pg_dir from it.
prog.add_memory_segment(0xffffffff80000000, 1 << 30, lambda a, c, off, phys: prog.read(off, c, True), False)
prog.load_debug_info([vmlinux])
release = prog['init_uts_ns'].name.release.string_().decode()

page_t = prog.type('struct page')
PAGE_SZ = page_t.size
PAGE_SHIFT = 12
SECTION_SIZE_BITS = 27
PFN_SECTION_SHIFT = SECTION_SIZE_BITS - PAGE_SHIFT
PAGES_PER_SECTION = 1 << PFN_SECTION_SHIFT
vmemmap = prog['vmemmap_base'].value_()

# page->flags layout, from the kernel's own facts: NODES_SHIFT from the build's config, ZONES_SHIFT
# from MAX_NR_ZONES (order_base_2), no section field with SPARSEMEM_VMEMMAP (page-flags-layout.h).
max_nr_zones = prog.constant('__MAX_NR_ZONES').value_()
zones_shift = max(0, (max_nr_zones - 1).bit_length())
nodes_shift = int(config.get('CONFIG_NODES_SHIFT', '0')) if config.get('CONFIG_NUMA') == 'y' else 0
sections_width = 0 if config.get('CONFIG_SPARSEMEM_VMEMMAP') == 'y' else 64 - SECTION_SIZE_BITS  # classic: not expected here
nodes_pgoff = 64 - sections_width - nodes_shift
zones_pgoff = nodes_pgoff - zones_shift
nr_pageflags = prog.constant('__NR_PAGEFLAGS').value_()
fmask = (1 << nr_pageflags) - 1
flag_names = {}
for n, v in prog.type('enum pageflags').enumerators:  # the first name of a bit, not its aliases
    if v < nr_pageflags and v not in flag_names:
        flag_names[v] = n
off_ref = page_t.member('_refcount').offset
off_map = page_t.member('_mapcount').offset
off_link = 8  # lru.next / compound_head / pgmap: the word after page->flags in every 6.x layout


folio_t = prog.type('struct folio')
if folio_t.has_member('_folio_order'):  # 6.1 to 6.5: page[1].compound_order
    order_off = folio_t.member('_folio_order').offset - PAGE_SZ
elif page_t.has_member('compound_order'):  # before folios
    order_off = page_t.member('compound_order').offset
else:  # 6.6 and later: the low byte of folio->_flags_1 (the first tail's flags word)
    order_off = folio_t.member('_flags_1').offset - PAGE_SZ
pg_head = prog.constant('PG_head').value_()


def order_of_head(raw, i):
    # The order of the compound page headed at record i, from its first tail.
    j = (i + 1) * PAGE_SZ + order_off
    return raw[j] if j < len(raw) else None


zones = []
nr_zones = prog.type('pg_data_t').member('node_zones').type.length
for nid in range(prog['nr_node_ids'].value_()):
    pgdat = prog['node_data'][nid]
    if not pgdat:
        continue
    for z in range(nr_zones):
        zone = pgdat.node_zones[z]
        zones.append({'nid': nid, 'zone': zone.name.string_().decode(), 'start_pfn': zone.zone_start_pfn.value_(),
                      'spanned': zone.spanned_pages.value_(), 'present': zone.present_pages.value_(),
                      'managed': zone.managed_pages.counter.value_()})

letters = [('SECTION_MARKED_PRESENT_BIT', 'P'), ('SECTION_HAS_MEM_MAP_BIT', 'M'), ('SECTION_IS_ONLINE_BIT', 'O'),
           ('SECTION_IS_EARLY_BIT', 'E'), ('SECTION_TAINT_ZONE_DEVICE_BIT', 'D')]
bits = {}
for name, _ in letters + [('SECTION_MAP_LAST_BIT', '')]:
    try:
        bits[name] = prog.constant(name).value_()
    except LookupError:
        pass
ms = prog['mem_section']
per_root = 4096 // prog.type('struct mem_section').size
max_sec = 1 << (46 - SECTION_SIZE_BITS)  # MAX_PHYSMEM_BITS 46 with 4-level paging (la57=off)
sections = []
usage_of = {}
for root in range(max_sec // per_root):
    r = ms[root]
    if not r:
        continue
    for i in range(per_root):
        smm = r[i].section_mem_map.value_()
        if not smm:
            continue
        nr = root * per_root + i
        state = ''.join(ch for b, ch in letters if b in bits and smm & (1 << bits[b]))
        sections.append([nr, state])
        if 'M' in state and r[i].usage:
            usage_of[nr] = r[i].usage.value_()

# Each pageblock's migratetype: its NR_PAGEBLOCK_BITS in the section's usage->pageblock_flags, the
# low bits (PB_migrate .. PB_migrate_end) as get_pfnblock_flags_mask reads them; names from the
# DWARF's enum migratetype. pageblock_order 9 (x86_64 HUGETLB_PAGE_ORDER).
PAGEBLOCK_NR = 512
nr_pb_bits = prog.constant('NR_PAGEBLOCK_BITS').value_()
mt_mask = (1 << (prog.constant('PB_migrate_end').value_() + 1)) - 1
mt_names = {}
for n, v in prog.type('enum migratetype').enumerators:
    if n not in ('MIGRATE_PCPTYPES', 'MIGRATE_TYPES'):  # counts, not types (MIGRATE_HIGHATOMIC shares 3)
        mt_names.setdefault(v, n)
pb_off = prog.type('struct mem_section_usage').member('pageblock_flags').offset
pb_per_section = PAGES_PER_SECTION // PAGEBLOCK_NR
pb_bytes = (pb_per_section * nr_pb_bits + 63) // 64 * 8
pageblocks = []
for nr in sorted(usage_of):
    words = struct.unpack('<%dQ' % (pb_bytes // 8), prog.read(usage_of[nr] + pb_off, pb_bytes))
    for j in range(pb_per_section):
        bit = j * nr_pb_bits
        mt = words[bit // 64] >> (bit % 64) & mt_mask
        name = mt_names.get(mt, str(mt))
        pfn = (nr << PFN_SECTION_SHIFT) + j * PAGEBLOCK_NR
        if pageblocks and pageblocks[-1][1] == pfn and pageblocks[-1][2] == name:
            pageblocks[-1][1] = pfn + PAGEBLOCK_NR
        else:
            pageblocks.append([pfn, pfn + PAGEBLOCK_NR, name])

blocks = []
mb_t = prog.type('struct memory_block')
has_nvp = any(m.name == 'nr_vmemmap_pages' for m in mb_t.members)
old_states = {1: 'online', 2: 'going-offline', 4: 'offline', 8: 'going-online'}


def state_name(o):
    if o.type_.kind.name == 'ENUM':
        names = {v: n for n, v in o.type_.enumerators}
        n = names.get(o.value_())
        return n[4:].lower().replace('_', '-') if n else str(o.value_())
    return old_states.get(o.value_(), str(o.value_()))


for idx, entry in xa_for_each(prog['memory_blocks'].address_of_()):
    mb = cast('struct memory_block *', entry)
    if has_nvp:
        nvp = mb.nr_vmemmap_pages.value_()
    else:
        nvp = mb.altmap.free.value_() if mb.altmap else 0
    blocks.append({'id': idx, 'start_section': mb.start_section_nr.value_(), 'state': state_name(mb.state),
                   'nid': mb.nid.value_(), 'zone': mb.zone.name.string_().decode() if mb.zone else None,
                   'nr_vmemmap_pages': nvp})

# Struct pages: every pfn of every section with a memmap, run-length encoded.
ZERO = bytes(PAGE_SZ)
POISON = b'\xff' * PAGE_SZ
t1 = time.time()
runs = []
cur = None
di = 0
for nr, state in sections:
    if 'M' not in state:
        continue
    base = nr << PFN_SECTION_SHIFT
    addr = vmemmap + base * PAGE_SZ
    try:
        raw = prog.read(addr, PAGE_SZ * PAGES_PER_SECTION)
    except Exception as e:  # noqa: BLE001 (a memmap the dump does not hold)
        print(json.dumps({'error': f'section {nr}: memmap at {addr:#x} unreadable ({e})'}))
        sys.exit(3)
    for i in range(PAGES_PER_SECTION):
        pfn = base + i
        while di < len(detail) and detail[di][1] <= pfn:
            di += 1
        o = i * PAGE_SZ
        rec = raw[o:o + PAGE_SZ]
        if rec == ZERO:
            key = ('zero',)
        elif rec == POISON:
            key = ('poison',)
        else:
            fl, link = struct.unpack_from('<QQ', raw, o)
            nid = fl >> nodes_pgoff & ((1 << nodes_shift) - 1)
            zid = fl >> zones_pgoff & ((1 << zones_shift) - 1)
            if di < len(detail) and detail[di][0] <= pfn:
                ref, = struct.unpack_from('<i', raw, o + off_ref)
                mc, = struct.unpack_from('<i', raw, o + off_map)
                page_addr = vmemmap + pfn * PAGE_SZ
                if link & 1:
                    lk, head = 'tail', ((link - 1) - vmemmap) // PAGE_SZ
                else:
                    lk, head = ('null' if link == 0 else 'self' if link == page_addr + 8 else 'ptr'), None
                flags = fl & fmask
                order = order_of_head(raw, i) if flags & (1 << pg_head) else None
                key = ('init', nid, zid, flags, ref, mc, lk, head, order)
            else:
                key = ('init', nid, zid)
        if cur is not None and cur[2] == key and cur[1] == pfn:
            cur[1] += 1
        else:
            if cur is not None:
                runs.append(cur)
            cur = [pfn, pfn + 1, key]
if cur is not None:
    runs.append(cur)

print(json.dumps({
    'release': release,
    'struct_page_bytes': PAGE_SZ,
    'vmemmap_base': hex(vmemmap),
    'layout': {'nodes_pgoff': nodes_pgoff, 'nodes_shift': nodes_shift, 'zones_pgoff': zones_pgoff, 'zones_shift': zones_shift,
               'nr_pageflags': nr_pageflags, 'flag_names': {str(k): v for k, v in sorted(flag_names.items())},
               'offsets': {'refcount': off_ref, 'mapcount': off_map, 'link': off_link}},
    'zones': zones,
    'sections': sections,
    'blocks': blocks,
    'runs': [[a, b, *k] for a, b, k in runs],
    'pageblocks': pageblocks,
    'seconds': {'load': round(t1 - t0, 2), 'scan': round(time.time() - t1, 2)},
}))
`;

/** The kernel's zones as the reader found them. */
export interface KernelZone {
  readonly nid: number;
  readonly zone: string;
  readonly start_pfn: number;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
}

export interface KernelMemmap {
  readonly release: string;
  readonly zones: readonly KernelZone[];
  readonly view: MemmapView;
  readonly seconds: { readonly load: number; readonly scan: number };
}

const PYTHON = '/usr/bin/python3';

/** Run the reader on a dump; `detail` are the pfn ranges reported field by field. */
export async function readKernelMemmap(core: string, vmlinux: string, config: string, detail: readonly (readonly [Pfn, Pfn])[], dir: string): Promise<KernelMemmap> {
  if (!existsSync(PYTHON)) throw new InputError('verify --memmap: no /usr/bin/python3; install python3 and python3-drgn (Debian)');
  const probe = spawnSync(PYTHON, ['-c', 'import drgn'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new InputError("verify --memmap: /usr/bin/python3 cannot import drgn; install Debian's python3-drgn (apt-get install python3-drgn)");
  const script = join(dir, 'memmap_reader.py');
  const detailFile = join(dir, 'memmap_detail.json');
  writeFileSync(script, MEMMAP_READER);
  writeFileSync(detailFile, JSON.stringify(detail));
  const r = await runChild(PYTHON, [script, core, vmlinux, config, detailFile]);
  const lastErr = (r.stderr || '').trim().split('\n').slice(-1)[0] ?? '';
  if (r.status !== 0) {
    const msg = /^\{"error"/.test(r.stdout) ? String((JSON.parse(r.stdout) as { error: unknown }).error) : lastErr;
    throw new InputError(
      `verify --memmap: drgn could not read the dump ${core} (${msg || `exit ${r.status}`}); the guest must boot with nokaslr and -device vmcoreinfo, and the vmlinux must be the guest's release`,
    );
  }
  return parseReaderOutput(r.stdout, lastErr);
}

const int = z.number().int();
const count = int.nonnegative();
const pfn = count;
/** A run: [start, end, 'zero' | 'poison'], [start, end, 'init', nid, zid] or, in a detail range, with flags, _refcount, _mapcount, link, head, order. */
const runSchema = z.union([
  z.tuple([pfn, pfn, z.enum(['zero', 'poison'])]),
  z.tuple([pfn, pfn, z.literal('init'), count, count]),
  z.tuple([pfn, pfn, z.literal('init'), count, count, count, int, int, z.enum(['null', 'self', 'tail', 'ptr']), pfn.nullable(), count.nullable()]),
]);
const readerSchema = z.object({
  release: z.string(),
  layout: z.object({ flag_names: z.record(z.string().regex(/^\d+$/), z.string()) }),
  zones: z.array(z.object({ nid: count, zone: z.string(), start_pfn: pfn, spanned: count, present: count, managed: int })),
  sections: z.array(z.tuple([count, z.string().regex(/^[PMOED]*$/)])),
  blocks: z.array(z.object({ id: count, state: z.string(), nid: int, zone: z.string().nullable(), nr_vmemmap_pages: count })),
  runs: z.array(runSchema),
  pageblocks: z.array(z.tuple([pfn, pfn, z.string()])),
  seconds: z.object({ load: z.number(), scan: z.number() }).optional(),
});

/** The reader's JSON document, checked field by field: a malformed one is one line naming the first bad field. */
export function parseReaderOutput(stdout: string, lastErr = ''): KernelMemmap {
  let j: unknown;
  try {
    j = JSON.parse(stdout);
  } catch {
    throw new InputError(`verify --memmap: the memmap reader printed no JSON${lastErr ? ` (${lastErr})` : ''}`);
  }
  const p = readerSchema.safeParse(j);
  if (!p.success) {
    const issue = p.error.issues[0];
    const where = issue ? issue.path.map(String).join('.') : '';
    throw new InputError(`verify --memmap: the memmap reader printed an unexpected document: ${where || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  const d = p.data;
  const flagNames = new Map(Object.entries(d.layout.flag_names).map(([k, v]) => [Number(k), v] as [number, string]));
  const zoneNames: string[] = [];
  for (const zn of d.zones) if (!zoneNames.includes(zn.zone)) zoneNames.push(zn.zone);
  const runs: PageRun[] = d.runs.map((x) => {
    if (x[2] !== 'init') return { start: x[0], end: x[1], state: x[2], nid: null, zone: null, detail: null };
    const detail = x.length === 11 ? { flags: x[5], refcount: x[6], mapcount: x[7], link: x[8] as PageLink, head: x[9], order: x[10] } : null;
    return { start: x[0], end: x[1], state: 'init', nid: x[3], zone: x[4], detail };
  });
  const blocks: MemmapBlock[] = d.blocks.map((b) => ({ id: b.id, state: b.state, nid: b.nid, zone: b.zone, nrVmemmapPages: b.nr_vmemmap_pages }));
  const sections = new Map(d.sections.map(([nr, st]) => [nr, st] as [number, string]));
  const pageblocks = d.pageblocks.map(([start, end, migratetype]) => ({ start, end, migratetype }));
  return { release: d.release, zones: d.zones, view: { sections, blocks, runs, flagNames, zoneNames, pageblocks }, seconds: d.seconds ?? { load: 0, scan: 0 } };
}
