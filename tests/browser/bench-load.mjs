// Benchmark (a program, not a test): bytes loaded and time to the first question of the Canvass
// widget in headless chromium, cold cache, optionally beside SurveyJS.
//
//   node tests/browser/bench-load.mjs [runs]
//   CANVASS_SITE_DIR   the wasm build's site (default build/wasm/site)
//   CANVASS_SURVEYJS_DIR  a folder with survey.core.min.js, survey-js-ui.min.js and
//                      survey-core.min.css (from the npm packages survey-core and survey-js-ui); when
//                      unset, SurveyJS is not measured. Canvass does not depend on SurveyJS.
//
// Prints one line per page: median bytes over the wire and median milliseconds from navigation to
// the first question on screen. Numbers from a loaded machine with SwiftShader are only good for
// comparing runs on the same machine.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, freePort, cleanup, repoRoot, WEBSITE } from '../server/harness.mjs';

const runs = Number(process.argv[2] || 3);
const siteDir = path.resolve(repoRoot, process.env.CANVASS_SITE_DIR || 'build/wasm/site');
const args = ['--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(browser, url, ready) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 120000, polling: 20 });
  const ms = Date.now() - t0;
  await context.close();
  return { bytes, ms };
}

async function surveyJsServer(dir) {
  const page = `<!doctype html><meta charset="utf-8"><link rel="stylesheet" href="survey-core.min.css">
<script src="survey.core.min.js"></script><script src="survey-js-ui.min.js"></script>
<div id="s"></div><script>
const json = {pages: [{elements: [{type: 'rating', name: 'recommend', rateMin: 0, rateMax: 10,
  title: 'How likely are you to recommend us to a friend or colleague?'}]}]};
new Survey.Model(json).render(document.getElementById('s'));
</script>`;
  const port = await freePort();
  const srv = http.createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page);
      return;
    }
    const f = path.join(dir, path.basename(req.url));
    if (!fs.existsSync(f)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f.endsWith('.css') ? 'text/css' : 'text/javascript' });
    res.end(fs.readFileSync(f));
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  return { srv, url: `http://127.0.0.1:${port}/` };
}

const port = await freePort();
const server = await startServer({ port, publish: [WEBSITE], webOrigins: [`http://127.0.0.1:${port}`],
  extraArgs: ['--static', siteDir] });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
try {
  const pages = [['canvass embed (website-nps)', `${server.url}/embed-demo.html?corner=0&lang=en`,
    () => {
      if (!window.inline) return false;
      window.inline.then((h) => { window.__h = h; });
      return !!(window.__h && window.__h.state().question);
    }]];
  if (process.env.CANVASS_SURVEYJS_DIR) {
    const sj = await surveyJsServer(process.env.CANVASS_SURVEYJS_DIR);
    pages.push(['surveyjs (one rating 0..10)', sj.url, () => document.querySelector('.sd-rating, .sv_q_rating')]);
  } else {
    console.log('surveyjs: not measured (set CANVASS_SURVEYJS_DIR, see the header of this file)');
  }
  for (const [name, url, ready] of pages) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await measure(browser, url, ready));
    console.log(`${name}: ${median(results.map((r) => r.bytes))} bytes, ` +
      `${median(results.map((r) => r.ms))} ms to the first question (median of ${runs})`);
  }
} finally {
  await browser.close();
  await cleanup();
}
