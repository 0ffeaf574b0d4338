// What the browser tests share: Debian's chromium launched headless with WebGL through
// SwiftShader, polling a page until it reaches a state, and clicking the items a wasm app
// reports (its items(): rectangles in CSS pixels of the viewport).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { sleep } from '../server/harness.mjs';

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
}

// Evaluates `fn` in the page every 100 ms until `predicate` holds for its value, and returns it;
// fails naming `what` and the last value after `timeout` ms.
export async function waitFor(page, fn, predicate, what, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate(fn).catch(() => undefined);
    if (last && predicate(last)) return last;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; last ${JSON.stringify(last)?.slice(0, 800)}`);
}

// The dashboard's item `id` once it is on screen.
export async function waitDashboardItem(page, id, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let items = [];
  while (Date.now() < deadline) {
    items = await page.evaluate(() => window.canvassDashboard?.items() ?? []);
    const it = items.find((i) => i.id === id);
    if (it) return it;
    await sleep(100);
  }
  assert.fail(`no item '${id}' on screen; items: ${items.map((i) => i.id).join(' ')}`);
}

// Clicks the centre of the dashboard's item `id`.
export async function clickDashboardItem(page, id) {
  const it = await waitDashboardItem(page, id);
  await page.mouse.click(it.x + it.w / 2, it.y + it.h / 2);
}
