// `mmsim serve FILE` end to end: the built CLI started on a scenario file of the user's (here a
// temporary directory's, named relative to the command's working directory), one server and one
// Debian Chromium for the file. The page opens that file through GET /api/file (which names no
// path), shows its error as one line with file:line:col in a banner, and plays it again from disk
// when asked: the banner is gone once the file is fixed. A design file given to serve is checked
// before the server starts: a bad one is its one-line error, exit 2. Screenshots in test-artifacts/lab/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { cliPath } from './helpers.js';
import { hookOf, launchChromium, loaded, shot } from './lab_browser.js';

let dir: string;
let server: ChildProcess;
let url: string;
let browser: Browser;

// Line 5, column 5: the step's key, "onlin" (a typo of online).
const BAD = '# dimm, cut short\nmachine: qemu-2node.yaml\nsteps:\n  - add: { node: 1, start: 4G, size: 1G }\n  - onlin: { blocks: 32-39, type: online_movable }\n';
const GOOD = BAD.replace('onlin:', 'online:');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lab-serve-test-'));
  writeFileSync(join(dir, 'mine.scenario.yaml'), BAD);
  server = spawn(process.execPath, [cliPath, 'serve', 'mine.scenario.yaml', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((ok, fail) => {
    let out = '';
    server.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /mmsim lab: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) ok(m[1] as string);
    });
    server.once('exit', (code) => fail(new Error(`mmsim serve exited ${code}`)));
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
});

describe('mmsim serve FILE', () => {
  it('opens the scenario file given on the command line: its error as file:line:col in the banner, cleared when the fixed file is played again', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(url);
    await loaded(page, 1);
    await expect(page.textContent('#error-message')).resolves.toMatch(/^mine\.scenario\.yaml:5:5: expected one step: add, remove, online/);
    await expect(page.textContent('#open-file')).resolves.toBe('mine.scenario.yaml');
    await shot(page, 'serve-file-error');
    writeFileSync(join(dir, 'mine.scenario.yaml'), GOOD);
    await page.click('#open-file');
    await loaded(page, 2);
    expect(await page.locator('#error').count()).toBe(0);
    await expect(page.textContent('#title')).resolves.toBe('mine.scenario.yaml');
    // boot and two steps; the machine file was found in examples/ (none beside the scenario).
    expect((await hookOf(page)).stepCount).toBe(2);
    await page.click('#last');
    await expect(page.textContent('#lsmem')).resolves.toMatch(/0x0000000100000000-0x000000013fffffff +1G online/);
    await shot(page, 'serve-file-fixed');
    await page.close();
  }, 120_000);

  it('a bad design file given to serve is its one-line error, exit 2, before any server starts', () => {
    writeFileSync(join(dir, 'broken.mjs'), 'export default { name: "broken", base: "v5.3", colour: 1 };\n');
    const r = spawnSync(process.execPath, [cliPath, 'serve', 'broken.mjs', '--port', '0'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', 'mmsim: broken.mjs: unknown key "colour" in the default export; expected `export default { name, base, summary, features, steps }`\n']);
    const missing = spawnSync(process.execPath, [cliPath, 'serve', 'missing.mjs', '--port', '0'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect([missing.status, missing.stderr]).toEqual([2, 'mmsim: missing.mjs: no such design file\n']);
  });
});
