// Browser tests of the widget's loading (docs/widget.md, Start-up phases and Caching): the phases
// it marks on the page's performance timeline, the content-hashed files served `immutable`, and
// a returning visitor whose first question needs no network: every Canvass request before the
// question is on screen is answered by the browser's cache, and the survey's refresh goes out
// after it. Headless Debian chromium against a real canvass-server serving the wasm build's site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, freePort, cleanup, repoRoot, WEBSITE } from '../server/harness.mjs';
import { launchChromium } from './browser.mjs';

const siteDir = path.resolve(repoRoot, process.env.CANVASS_SITE_DIR || 'build/wasm/site');
const PHASES = ['loader', 'glue', 'wasm', 'webgl', 'font-atlas', 'gl-objects', 'survey-ready',
  'first-question', 'first-question-total'];

let server;
let browser;

before(async () => {
  if (!fs.existsSync(path.join(siteDir, 'canvass/canvass-widget.wasm'))) {
    throw new Error(`${siteDir} has no widget build: run cmake --build --preset wasm (or set CANVASS_SITE_DIR)`);
  }
  const port = await freePort();
  server = await startServer({ port, publish: [WEBSITE], webOrigins: [`http://127.0.0.1:${port}`],
    extraArgs: ['--static', siteDir] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await cleanup();
});

// Loads the embed demo and waits for the 0..10 buttons of the first question in a drawn frame.
// Returns every request the page sent (CDP: wall time, URL, whether the browser's cache answered,
// the response's headers) and the wall time of the widget's first-question mark.
async function load(page, cdp) {
  const requests = new Map();
  const onSent = (e) => requests.set(e.requestId, { url: e.request.url, at: e.wallTime * 1000, cached: false });
  const onCached = (e) => { if (requests.has(e.requestId)) requests.get(e.requestId).cached = true; };
  const onResponse = (e) => {
    const r = requests.get(e.requestId);
    if (!r) return;
    r.status = e.response.status;
    r.headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    if (e.response.fromDiskCache || e.response.fromMemoryCache || e.response.fromPrefetchCache) r.cached = true;
  };
  cdp.on('Network.requestWillBeSent', onSent);
  cdp.on('Network.requestServedFromCache', onCached);
  cdp.on('Network.responseReceived', onResponse);
  try {
    await page.goto(`${server.url}/embed-demo.html?corner=0&lang=en`);
    // The 0..10 buttons of a drawn frame, as the widget's DOM mirror of it (semantics.js) shows them.
    await page.waitForFunction(() => document.querySelectorAll('[data-canvass-item^="nps:"]').length >= 11,
      null, { timeout: 60000, polling: 20 });
    const timeline = await page.evaluate(() => ({
      origin: performance.timeOrigin,
      measures: Object.fromEntries(performance.getEntriesByType('measure')
        .filter((e) => e.name.startsWith('canvass:')).map((e) => [e.name.slice(8), e.duration])),
      question: performance.getEntriesByName('canvass:first-question', 'mark')[0]?.startTime,
    }));
    // Let the refresh that follows the first question go out, so that it is seen.
    await page.waitForTimeout(1500);
    return { requests: [...requests.values()], ...timeline,
      questionAt: timeline.question === undefined ? undefined : timeline.origin + timeline.question };
  } finally {
    cdp.off('Network.requestWillBeSent', onSent);
    cdp.off('Network.requestServedFromCache', onCached);
    cdp.off('Network.responseReceived', onResponse);
  }
}

test('cold and warm loads: the phases are marked; a warm first question needs no network', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');

    const cold = await load(page, cdp);
    for (const phase of PHASES) {
      assert.ok(Number.isFinite(cold.measures[phase]) && cold.measures[phase] >= 0,
        `cold: the phase ${phase} is measured (${JSON.stringify(cold.measures)})`);
    }
    assert.ok(cold.measures['first-question-total'] >= cold.measures['survey-ready'],
      'the first question comes after the survey is ready');
    // The widget's files come from the content-hashed folder, cached for a year; the loader for minutes.
    const widgetFiles = cold.requests.filter((r) => /\/canvass\/v-[0-9a-f]{16}\//.test(r.url));
    const names = widgetFiles.map((r) => path.basename(new URL(r.url).pathname)).sort();
    for (const f of ['canvas.js', 'canvass-widget.js', 'canvass-widget.wasm', 'font.ttf', 'semantics.js', 'widget.js']) {
      assert.ok(names.includes(f), `cold: ${f} from the hashed folder (${names})`);
    }
    for (const r of widgetFiles) {
      assert.equal(r.headers?.['cache-control'], 'public, max-age=31536000, immutable', r.url);
    }
    const loaderReq = cold.requests.find((r) => new URL(r.url).pathname === '/canvass.js');
    assert.equal(loaderReq?.headers?.['cache-control'], 'public, max-age=300');
    assert.ok(cold.requests.some((r) => r.url.includes('/v1/web/enroll')), 'cold: the device enrolls');

    await page.goto('about:blank');
    const warm = await load(page, cdp);
    assert.ok(Number.isFinite(warm.questionAt), 'warm: the first question is marked');
    // The shop's own page and script are the shop's business; everything of Canvass before the
    // first question is on screen comes from the browser's cache, with no round trip.
    const shop = new Set(['/embed-demo.html', '/embed-demo.js']);
    const before = warm.requests.filter((r) => r.at < warm.questionAt && !shop.has(new URL(r.url).pathname));
    assert.ok(before.length >= 6, `warm: the widget's files are asked for (${before.map((r) => r.url)})`);
    const network = before.filter((r) => !r.cached);
    assert.deepEqual(network.map((r) => `${r.url} ${r.status}`), [],
      'warm: no request reaches the network before the first question');
    assert.ok(!before.some((r) => r.url.includes('/v1/')), 'warm: no API call before the first question');
    // Stale-while-revalidate: the cached survey is refreshed once it is on screen.
    assert.ok(warm.requests.some((r) => r.url.includes('/v1/surveys') && r.at >= warm.questionAt),
      'warm: the survey is refreshed after the first question');
  } finally {
    await context.close();
  }
});
