// The lab end to end in real Chromium (Debian's /usr/bin/chromium driven by playwright-core; .ci/run
// installs it): open seed-2019, step to the v5.3 counterexample's violating step and check, through
// the state hook the app exposes, that the Device zone bracket is drawn exactly over the model's
// zone span and no longer covers namespace A; open the timelines; a bad scenario file is one line
// with file:line:col. The server answers on 127.0.0.1 only and refuses paths outside its root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { serveLab, type LabServer } from '../src/lab/server.js';
import { root } from './helpers.js';

/** The state hook lab/src/main.tsx exposes to tests. */
declare global {
  interface Window {
    __mmsimLab: {
      ready: boolean;
      mode: string;
      step: number;
      stepCount: number;
      timelineShown: boolean;
      view: { start: number; end: number; x0: number; width: number };
      zoneBrackets: { nid: number; zone: string; start: number; end: number; x0: number; x1: number }[];
      pgmaps: { name: string; start: number; end: number; x0: number; x1: number }[];
    };
  }
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
let lab: LabServer;
let browser: Browser;
const shots = join(root, 'test-results');

beforeAll(async () => {
  lab = await serveLab(join(root, 'dist', 'lab-app'), root, 0, null);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  mkdirSync(shots, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await lab?.close();
});

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
});

describe('the lab in Chromium', () => {
  it("seed-2019 v5.3: at the violating step the Device zone bracket is drawn over the model's span, which no longer covers namespace A; the timelines open", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${lab.url}?scenario=seed-2019&design=v5.3`);
    await page.waitForFunction(() => window.__mmsimLab?.ready === true, undefined, { timeout: 180_000 });
    await page.click('#last');
    await page.waitForFunction(() => window.__mmsimLab.step === window.__mmsimLab.stepCount && window.__mmsimLab.stepCount > 0);
    const h = await page.evaluate(() => window.__mmsimLab);
    // The model's own answer for that step, fetched independently of the page.
    const trace = (await (await fetch(`${lab.url}api/trace?scenario=seed-2019&design=v5.3`)).json()) as {
      violationStep: number;
      steps: { state: { nodes: { zones: { name: string; start: number; end: number }[] }[]; pgmaps: { name: string; start: number; end: number }[] } }[];
    };
    expect(h.step).toBe(trace.violationStep);
    const zone = trace.steps[trace.violationStep]?.state.nodes[0]?.zones.find((z) => z.name === 'Device');
    const a = trace.steps[trace.violationStep]?.state.pgmaps.find((p) => p.name === 'pmem0');
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
    await page.screenshot({ path: join(shots, 'lab-seed-2019-v5.3-violation.png') });
    await page.click('#tab-timeline');
    await page.waitForFunction(() => window.__mmsimLab.timelineShown && document.querySelector('#timeline svg') !== null, undefined, { timeout: 180_000 });
    expect(await page.locator('#timeline svg rect.bar').count()).toBeGreaterThan(3);
    await page.screenshot({ path: join(shots, 'lab-timelines.png') });
    await page.close();
  }, 240_000);

  it("plays an example scenario with zoneinfo and lsmem, and shows a bad scenario file's error as one line with file:line:col", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${lab.url}?scenario=dimm.scenario.yaml`);
    await page.waitForFunction(() => window.__mmsimLab?.ready === true && window.__mmsimLab.mode === 'scenario', undefined, { timeout: 180_000 });
    await page.click('#next');
    await expect(page.textContent('#zoneinfo')).resolves.toMatch(/Node 0, zone +Normal/);
    await expect(page.textContent('#lsmem')).resolves.toMatch(/RANGE +SIZE +STATE/);
    await page.screenshot({ path: join(shots, 'lab-dimm-scenario.png') });
    await page.setInputFiles('#file', { name: 'bad.scenario.yaml', mimeType: 'text/yaml', buffer: Buffer.from('machine: ../examples/qemu-2node.yaml\nsteps:\n  - bogus: 1\n') });
    await page.waitForSelector('#error');
    await expect(page.textContent('#error')).resolves.toMatch(/^bad\.scenario\.yaml:3:5: expected one step: add, remove/);
    await page.close();
  }, 240_000);
});
