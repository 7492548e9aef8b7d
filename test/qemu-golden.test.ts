// The Linux 6.1 kernel under QEMU (../shared/qemu-oracle, Debian 6.1.0-56-cloud-amd64): its
// boot report's memory-layout lines and zoneinfo spans, reproduced from its own SRAT and node
// range lines.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boot, loadMachine } from '../src/drivers/run.js';
import { parseZoneinfo, zoneField } from '../src/formats/zoneinfo.js';
import { printBootZoneinfo } from '../src/formats/zoneinfo-print.js';
import { memoryDevInit } from '../src/kernel/memory_block.js';
import { sharedData, unless } from './helpers.js';

const golden = join(sharedData, '..', 'qemu-oracle', 'golden', 'boot', 'steps.txt');

/** The lines of one "=== name" section of the first report in steps.txt. */
function section(text: string, name: string): string[] {
  const out: string[] = [];
  let on = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('=== ')) {
      if (on) break;
      on = line.startsWith(`=== ${name}`);
      continue;
    }
    if (line.startsWith('#####') && on) break;
    if (on) out.push(line);
  }
  return out;
}

const LAYOUT = /^(Zone ranges:|  \w+ +(empty|\[mem )|Movable zone start|  Node \d+: |Early memory node ranges|Initmem setup|On node \d+, zone|Built \d+ zonelists)/;

describe.skipIf(!existsSync(golden))(`QEMU 6.1 golden boot${unless(existsSync(golden), `no ${golden}`)}`, () => {
  const text = existsSync(golden) ? readFileSync(golden, 'utf8') : '';
  const dmesg = section(text, 'dmesg');
  const tmp = mkdtempSync(join(tmpdir(), 'mmsim-qemu-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const file = join(tmp, 'boot-dmesg.txt');
  writeFileSync(file, dmesg.join('\n') + '\n');
  const state = boot(loadMachine({ fromDmesg: file, kernel: '6.1.0-56-cloud-amd64' }));

  it('reproduces every memory-layout line of the report, in order', () => {
    const want = dmesg.filter((l) => LAYOUT.test(l) && !/^  node +\d+: /.test(l));
    expect(want.length).toBeGreaterThan(10);
    const ours = state.log.lines();
    let at = 0;
    for (const w of want) {
      const i = ours.indexOf(w, at);
      expect(i, `"${w}"`).toBeGreaterThanOrEqual(0);
      at = i + 1;
    }
  });

  it('gives the memory blocks of the report: state, phys_index, node, valid_zones, block size', () => {
    const head = text.split('\n').find((l) => l.startsWith('=== memory blocks')) ?? '';
    const mb = memoryDevInit(state);
    expect(head).toContain(`block_size_bytes=${mb.blockBytes.toString(16)} `);
    // The golden kernel runs with CONFIG_MHP_DEFAULT_ONLINE_TYPE offline, the config default.
    expect(head).toContain(`auto_online_blocks=${mb.autoOnlineBlocks})`);
    const ours = mb.blocks.map((b) => `memory${b.id} state=${b.state} phys_index=${b.id.toString(16).padStart(8, '0')} node=${b.nid} valid_zones=${b.validZones ?? '?'}`);
    expect(ours).toEqual(section(text, 'memory blocks'));
  });

  it('gives the zoneinfo spans, present pages and start_pfn of the report', () => {
    const real = parseZoneinfo(section(text, 'zoneinfo').join('\n') + '\n');
    const ours = parseZoneinfo(printBootZoneinfo(state));
    expect(ours.records.map((r) => `${r.node}/${r.zone}`)).toEqual(real.records.map((r) => `${r.node}/${r.zone}`));
    real.records.forEach((r, i) => {
      const o = ours.records[i];
      if (!o) return;
      for (const f of ['spanned', 'present', 'start_pfn']) expect(zoneField(o, f), `${r.node}/${r.zone} ${f}`).toBe(zoneField(r, f));
    });
  });
});
