// What the lab's browser tests share (test/lab.test.ts, test/lab_serve.test.ts): Debian's Chromium
// driven by playwright-core (never a downloaded browser), the state hook lab/src/types.ts exposes,
// and screenshots kept as test artifacts under test-artifacts/lab/ (gitignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
// The hook's type and its window.__mmsimLab declaration, from the page's own source.
import type { LabHook } from '../lab/src/types.js';
import { root } from './helpers.js';

export type { LabHook };

export const SHOTS = join(root, 'test-artifacts', 'lab');

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A screenshot kept as a test artifact: test-artifacts/lab/NAME.png. */
export async function shot(page: Page, name: string): Promise<string> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Wait for the page's load number `n` (1: the first) to be shown. */
export async function loaded(page: Page, n: number, timeout = 180_000): Promise<void> {
  await page.waitForFunction((k) => window.__mmsimLab?.ready === true && window.__mmsimLab.loads >= k, n, { timeout });
}

/** The page's hook now. */
export function hookOf(page: Page): Promise<LabHook> {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.__mmsimLab)) as LabHook);
}
