// The lab end to end in real Chromium (Debian's /usr/bin/chromium driven by playwright-core; .ci/run
// installs it), one browser and one server (in this process, started as `mmsim serve
// examples/designs/dont-shrink-zone-device.mjs` starts it) for the file. Each view's test asserts on
// what the page shows (DOM text, canvas pixels) against values worked from the scenario or the
// kernel, and keeps a screenshot in test-artifacts/lab/. The server answers on 127.0.0.1 only and
// refuses paths outside its root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { serveLab, type LabServer } from '../src/lab/server.js';
import { root } from './helpers.js';
import { hookOf, launchChromium, loaded, shot } from './lab_browser.js';

let lab: LabServer;
let browser: Browser;
const USER_DESIGN = join(root, 'examples', 'designs', 'dont-shrink-zone-device.mjs');

beforeAll(async () => {
  lab = await serveLab(join(root, 'dist', 'lab-app'), root, 0, null, { designFile: USER_DESIGN });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await lab?.close();
});

async function open(query: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${lab.url}${query}`);
  return page;
}

/** A raw GET (no URL normalisation by the client): status code. */
function rawGet(path: string): Promise<number> {
  const port = new URL(lab.url).port;
  return new Promise((ok, fail) => {
    const r = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    r.on('error', fail);
    r.end();
  });
}

/** The texts of the axis under the map: pfn and physical-address labels, left to right. */
async function axis(page: Page): Promise<{ pfn: string[]; phys: string[] }> {
  return {
    pfn: await page.locator('#axis text.pfn').allTextContents(),
    phys: await page.locator('#axis text.phys').allTextContents(),
  };
}

describe('mmsim serve', () => {
  it('listens on 127.0.0.1 only, with COOP/COEP; a path outside the static root is 404', async () => {
    const addr = lab.server.address();
    expect(typeof addr === 'object' && addr?.address).toBe('127.0.0.1');
    expect(await rawGet('/')).toBe(200);
    expect(await rawGet('/../package.json')).toBe(404);
    expect(await rawGet('/%2e%2e/package.json')).toBe(404);
    expect(await rawGet('/assets/../../package.json')).toBe(404);
    const res = await fetch(lab.url);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('the design file given on its command line is offered by name; no request can name a file to load', async () => {
    const c = (await (await fetch(`${lab.url}api/config`)).json()) as { designs: string[]; userDesign: { name: string } | null };
    expect(c.userDesign?.name).toBe('dont-shrink-zone-device');
    expect(c.designs).toContain('dont-shrink-zone-device');
    // A design named by path is refused before any work: only names (letters, digits, _ . + -).
    const r = await fetch(`${lab.url}api/trace?scenario=seed-2019&design=${encodeURIComponent('/tmp/x.mjs')}`);
    expect(r.status).toBe(400);
    const v = await fetch(`${lab.url}api/verdict?scenario=seed-2019&design=no-such-design`);
    expect([v.status, ((await v.json()) as { error: string }).error]).toEqual([400, 'lab: unknown design no-such-design']);
  });
});

describe('the lab in Chromium', () => {
  it("seed-2019 v5.3: at the violating step the Device zone bracket is drawn over the model's span, which no longer covers namespace A; the trace is scrolled to that step", async () => {
    const page = await open('?scenario=seed-2019&design=v5.3');
    await loaded(page, 1);
    await page.click('#last');
    await page.waitForFunction(() => window.__mmsimLab.step === window.__mmsimLab.stepCount && window.__mmsimLab.stepCount > 0);
    const h = await hookOf(page);
    // The model's own answer for that step, fetched independently of the page.
    const trace = (await (await fetch(`${lab.url}api/trace?scenario=seed-2019&design=v5.3`)).json()) as {
      violationStep: number;
      steps: { state: { nodes: { zones: { name: string; start: number; end: number }[] }[]; pgmaps: { name: string; start: number; end: number }[] } }[];
    };
    // docs/designs.md's table: v5.3 on seed-2019 breaks zone_spans_pfn at step 86.
    expect(trace.violationStep).toBe(86);
    expect(h.step).toBe(86);
    const zone = trace.steps[86]?.state.nodes[0]?.zones.find((z) => z.name === 'Device');
    const a = trace.steps[86]?.state.pgmaps.find((p) => p.name === 'pmem0');
    expect(zone && a).toBeTruthy();
    const x = (pfn: number): number => h.view.x0 + ((pfn - h.view.start) / (h.view.end - h.view.start)) * h.view.width;
    const bracket = h.zoneBrackets.find((b) => b.zone === 'Device');
    expect(bracket?.start).toBe(zone?.start);
    expect(bracket?.end).toBe(zone?.end);
    expect(bracket?.x0).toBeCloseTo(x(zone?.start as number), 6);
    expect(bracket?.x1).toBeCloseTo(x(zone?.end as number), 6);
    const drawnA = h.pgmaps.find((p) => p.name === 'pmem0');
    expect(drawnA?.x0).toBeCloseTo(x(a?.start as number), 6);
    // The span ends inside A: A's end lies right of the bracket's end.
    expect(bracket?.x1 as number).toBeLessThan(drawnA?.x1 as number);
    expect(bracket?.x1 as number).toBeGreaterThan(drawnA?.x0 as number);
    await expect(page.textContent('#violation')).resolves.toMatch(/VM_BUG_ON_PAGE\(!zone_spans_pfn/);
    // 86 rows do not fit the sequence box: the current (violating) row is scrolled into it and marked.
    const box = await page.locator('#sequence-box').boundingBox();
    const row = await page.locator('#seq-step-86').boundingBox();
    expect(await page.locator('#sequence-box').evaluate((b) => b.scrollTop)).toBeGreaterThan(0);
    expect(row && box && row.y >= box.y && row.y + row.height <= box.y + box.height).toBe(true);
    expect(await page.locator('#seq-step-86').getAttribute('class')).toBe('seq-row current bad');
    await shot(page, 'trace-seed-2019-v5.3-violation');
    await page.close();
  }, 240_000);

  it('every request shows its loading state; each violation of a design can be chosen; the trace names the locks held; the design dropdown re-runs', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // Hold the explore's answer back 1.5 s so the loading state can be seen.
    await page.route('**/api/trace?**', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto(`${lab.url}?scenario=seed-2019-subsection&design=v4.19`);
    // The page's own first request ("loading the lab") may still be listed above it.
    const row = page.locator('#loading .loading-row', { hasText: 'exploring seed-2019-subsection' });
    await row.waitFor();
    await expect(row.locator('.loading-label').textContent()).resolves.toBe('exploring seed-2019-subsection under v4.19 (every interleaving)');
    await expect(row.locator('.elapsed').textContent()).resolves.toMatch(/^\d+\.\d s$/);
    await shot(page, 'loading');
    await loaded(page, 1);
    expect(await page.locator('#loading .loading-row').count()).toBe(0);
    expect((await hookOf(page)).loading).toEqual([]);
    await page.unroute('**/api/trace?**');
    // docs/designs.md: 4.19 on seed-2019-subsection refuses A; B alone breaks two invariants, a
    // poisoned read (5 steps) and node 0 ending before its DMA32 zone (13 steps).
    await expect(page.locator('#violation-select option').allTextContents()).resolves.toEqual(['1. poisoned struct page read (memunmap B) (5 steps)', '2. zone outside node span (13 steps)']);
    await expect(page.textContent('#violation-name')).resolves.toBe('poisoned struct page read (memunmap B)');
    await page.selectOption('#violation-select', '1');
    await expect(page.textContent('#violation-name')).resolves.toBe('zone outside node span');
    expect((await hookOf(page)).stepCount).toBe(13);
    await page.click('#last');
    await expect(page.textContent('#violation')).resolves.toBe('zone DMA32 [ 0x1000 - 0x44000 ] outside node 0 span');
    // 4.19's __remove_zone: pgdat_resize_lock, then shrink_zone_span's zone_span_writelock, all
    // under devm_memremap_pages_release's mem_hotplug_begin: step 4 holds the three.
    await page.click('#seq-step-4');
    await expect(page.textContent('#seq-step-4 .seq-locks')).resolves.toBe('mem_hotplug_lock, node 0 pgdat_resize_lock, node 0 zone Device span_seqlock');
    await expect(page.textContent('#seq-step-1 .seq-locks')).resolves.toBe('');
    await expect(page.textContent('#step-label')).resolves.toMatch(/^step 4 of 13: 4\. memunmap B: write_seqlock node 0 zone Device span_seqlock$/);
    await shot(page, 'trace-violations-locks');
    // The dropdown re-runs the scenario under the design chosen: serialize breaks one invariant there (docs/designs.md).
    await page.selectOption('#design', 'serialize');
    await loaded(page, 2);
    await expect(page.textContent('#title')).resolves.toBe('seed-2019-subsection under serialize: 1 invariant broken');
    await expect(page.locator('#violation-select option').count()).resolves.toBe(1);
    // The command line's design file is in the list under its name and runs like a built-in one.
    await expect(page.locator('#design option[value="dont-shrink-zone-device"]').textContent()).resolves.toBe('dont-shrink-zone-device (file)');
    await expect(page.locator('#design option[value="dont-shrink-zone-device"]').getAttribute('title')).resolves.toMatch(/^\/.*\/examples\/designs\/dont-shrink-zone-device\.mjs: v5\.3, but /);
    await page.click('#open-seed-2019-hotplug');
    await loaded(page, 3);
    await page.selectOption('#design', 'dont-shrink-zone-device');
    await loaded(page, 4);
    await expect(page.textContent('#title')).resolves.toMatch(/^seed-2019-hotplug under dont-shrink-zone-device: /);
    await page.close();
  }, 240_000);

  it('the map: a pfn and physical-address axis, a fit to what changed at each step and back to the whole machine on each load; the legend is the colours drawn; zoneinfo shows the changed zones first', async () => {
    const page = await open('?scenario=dimm.scenario.yaml');
    await loaded(page, 1);
    // examples/qemu-2node.yaml: RAM up to 0x7ffdf000, so present sections (128 MiB, 0x8000 pfns)
    // [0, 0x80000); ticks every 0x20000 pfns (the power of two over a sixth of the view).
    expect(await axis(page)).toEqual({ pfn: ['0x0', '0x20000', '0x40000', '0x60000', '0x80000'], phys: ['0x0', '0x20000000', '0x40000000', '0x60000000', '0x80000000'] });
    // The legend's swatch for initialised struct pages is the colour the canvas has over node 1's RAM.
    const h0 = await hookOf(page);
    const px = h0.view.x0 + ((0x60000 - h0.view.start) / (h0.view.end - h0.view.start)) * h0.view.width;
    const rgb = await page.evaluate((x) => [...(document.querySelector('#map') as HTMLCanvasElement).getContext('2d')!.getImageData(Math.round(x), 119, 1, 1).data].slice(0, 3), px);
    const swatch = await page.locator('#legend li[data-key="memmap-initialized"] .swatch').getAttribute('data-colour');
    expect(rgb.map((c) => c.toString(16).padStart(2, '0')).join('')).toBe(swatch?.slice(1));
    expect(await page.locator('#legend li').allTextContents()).toContain('section online');
    await shot(page, 'map-dimm-boot');
    // Step 1 adds 1 GiB at 4 GiB: pfns [0x100000, 0x140000) changed; the view is that and an eighth
    // (0x8000) either side, ticks every 0x10000 but not within 120 px (0x9900 pfns here) of either end.
    await page.click('#next');
    await page.waitForFunction(() => window.__mmsimLab.step === 1);
    expect((await hookOf(page)).changed).toEqual({ start: 0x100000, end: 0x140000 });
    expect(await axis(page)).toEqual({
      pfn: ['0xf8000', '0x110000', '0x120000', '0x130000', '0x148000'],
      phys: ['0xf8000000', '0x110000000', '0x120000000', '0x130000000', '0x148000000'],
    });
    await expect(page.textContent('#changed-range')).resolves.toBe('changed at this step: 0x100000–0x140000');
    await shot(page, 'map-dimm-step1-fit');
    // Step 2 onlines memory32-39 movable: node 1's Movable zone gets 262144 pages (1 GiB / 4 KiB)
    // and its DMA32 zone's protection (lowmem_reserve: 262144 / ratio 256 = 1024,
    // setup_per_zone_lowmem_reserve) changes; node 0's zones do not. Those two come first, marked.
    await page.click('#next');
    await page.waitForFunction(() => window.__mmsimLab.step === 2);
    const zones = await page.locator('#zoneinfo .zone-block').evaluateAll((els) => els.map((e) => [e.getAttribute('data-zone'), e.classList.contains('changed')]));
    expect(zones.slice(0, 2)).toEqual([
      ['Node 1, zone DMA32', true],
      ['Node 1, zone Movable', true],
    ]);
    expect(zones.slice(2).every(([, changed]) => changed === false)).toBe(true);
    expect(zones.slice(2).map(([z]) => z)).toContain('Node 0, zone Normal');
    await expect(page.textContent('#zoneinfo .zone-block.changed[data-zone="Node 1, zone Movable"] pre')).resolves.toMatch(/spanned\s+262144/);
    // Inside a changed zone the lines that changed are marked: DMA32's protection line alone.
    await expect(page.locator('#zoneinfo .zone-block[data-zone="Node 1, zone DMA32"] mark.line-changed').allTextContents()).resolves.toEqual(['        protection: (0, 0, 0, 1024, 1024)\n']);
    await shot(page, 'zoneinfo-dimm-step2-changed-first');
    // A new load goes back to the whole machine.
    await page.selectOption('#example', 'dimm.scenario.yaml');
    await loaded(page, 2);
    expect((await axis(page)).pfn).toEqual(['0x0', '0x20000', '0x40000', '0x60000', '0x80000']);
    expect((await hookOf(page)).step).toBe(0);
    await page.close();
  }, 240_000);

  it('the timelines: each design with its total and its verdict beside it, a legend of exactly the phases drawn', async () => {
    // tatashin-2017's machine (seconds to time, where seed-2019's takes a minute on a loaded machine).
    const page = await open('?scenario=seed-2019&design=v4.19&timeline=v4.19,serialize&preset=tatashin-2017');
    await loaded(page, 1);
    await page.click('#tab-timeline');
    await page.waitForFunction(() => window.__mmsimLab.timelineShown && document.querySelectorAll('#timeline-designs td.verdict-cell:not(.pending)').length === 2, undefined, { timeout: 180_000 });
    // docs/designs.md: on seed-2019, v4.19 has a poisoned read of B's first page (no zone_spans_pfn); serialize is ok, exhaustively.
    const rows = await page
      .locator('#timeline-designs tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-design'), tr.querySelector('.verdict-cell')?.getAttribute('data-verdict')]));
    expect(rows).toEqual([
      ['v4.19', 'violation'],
      ['serialize', 'ok'],
    ]);
    await expect(page.textContent('#timeline-designs tr[data-design="v4.19"] .verdict-cell')).resolves.toMatch(/^violation: poisoned struct page read \(memunmap B\) \(\d+ interleavings\)$/);
    await expect(page.textContent('#timeline-designs tr[data-design="serialize"] .verdict-cell')).resolves.toMatch(/^ok: no invariant broken/);
    const drawn = await page.locator('#timeline svg rect.bar').evaluateAll((rs) => [...new Set(rs.map((r) => `${r.getAttribute('data-phase')} ${r.getAttribute('fill')}`))].sort());
    const legend = await page
      .locator('#phase-legend li[data-phase]:not([data-phase="lock held"])')
      .evaluateAll((ls) => ls.map((l) => `${l.getAttribute('data-phase')} ${l.querySelector('.swatch')?.getAttribute('data-colour')}`).sort());
    expect(drawn.length).toBeGreaterThan(0);
    expect(legend).toEqual(drawn);
    // tatashin-2017 is deferred init on 8 nodes: one phase, no lock held, and the legend says no more.
    expect(legend).toEqual(['deferred-init #009e73']);
    expect(await page.locator('#phase-legend li[data-phase="lock held"]').count()).toBe(0);
    await shot(page, 'timelines-verdicts');
    await page.close();
  }, 240_000);

  it('a scenario file from disk: its error as one line with file:line:col in a banner, gone at the next good load; a design file is refused in the page, never sent', async () => {
    const page = await open('?scenario=dimm.scenario.yaml');
    await loaded(page, 1);
    await page.click('#next');
    await expect(page.textContent('#lsmem')).resolves.toMatch(/RANGE +SIZE +STATE/);
    await page.setInputFiles('#file', { name: 'bad.scenario.yaml', mimeType: 'text/yaml', buffer: Buffer.from('machine: qemu-2node.yaml\nsteps:\n  - bogus: 1\n') });
    await loaded(page, 2);
    await expect(page.textContent('#error')).resolves.toMatch(/^bad\.scenario\.yaml:3:5: expected one step: add, remove/);
    await shot(page, 'file-picker-error-banner');
    await page.setInputFiles('#file', { name: 'good.scenario.yaml', mimeType: 'text/yaml', buffer: readFileSync(join(root, 'examples', 'dimm.scenario.yaml')) });
    await loaded(page, 3);
    expect(await page.locator('#error').count()).toBe(0);
    await expect(page.textContent('#title')).resolves.toBe('good.scenario.yaml');
    expect((await hookOf(page)).stepCount).toBe(7);
    const posts: string[] = [];
    page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())));
    await page.setInputFiles('#file', { name: 'mine.mjs', mimeType: 'text/javascript', buffer: Buffer.from('export default { name: "x", base: "v5.3" };\n') });
    await expect(page.textContent('#error-message')).resolves.toBe('mine.mjs: a design file is code that mmsim runs, so the lab loads one only from its command line: mmsim serve mine.mjs');
    expect(posts).toEqual([]);
    await page.close();
  }, 240_000);
});
