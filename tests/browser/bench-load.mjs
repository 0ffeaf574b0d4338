// Benchmark (a program, not a test): what a visitor's browser loads before the first question is
// on screen, and how long that takes — the Canvass embed widget beside a SurveyJS 2.5.38 page
// (survey-core + survey-js-ui from npm, tests/browser/package.json) with the same single 0..10
// question, in headless chromium over loopback, in the same run.
//
//   node tests/browser/bench-load.mjs [runs]      (default 11; after the wasm build)
//   CANVASS_SITE_DIR   the wasm build's site (default build/wasm/site)
//
// Cold: a fresh browser context (empty HTTP cache, no IndexedDB: the widget enrolls on the web
// channel). Warm: the same context loads the page again (HTTP cache and, for Canvass, the enrolled
// device and its cached survey). Bytes are the encoded (gzip) bytes over the wire. "Drawn" is when
// the question's 0..10 buttons exist on screen: SurveyJS's rating items in the DOM, Canvass's nps
// buttons in the last drawn frame (handle.items()). Both servers gzip what they serve.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { launchChromium } from './browser.mjs';
import { startServer, freePort, cleanup, repoRoot, WEBSITE } from '../server/harness.mjs';

const runs = Number(process.argv[2] || 11);
const siteDir = path.resolve(repoRoot, process.env.CANVASS_SITE_DIR || 'build/wasm/site');
const surveyCore = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/survey-core');
const surveyUi = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/survey-js-ui');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function load(page, cdp, url, ready) {
  let bytes = 0;
  const onDone = (e) => { bytes += e.encodedDataLength; };
  cdp.on('Network.loadingFinished', onDone);
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 120000, polling: 10 });
  const ms = Date.now() - t0;
  cdp.off('Network.loadingFinished', onDone);
  return { bytes, ms };
}

async function measure(browser, url, ready) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const cold = await load(page, cdp, url, ready);
  await page.goto('about:blank');
  const warm = await load(page, cdp, url, ready);
  await context.close();
  return { cold, warm };
}

// SurveyJS's page and files, gzipped like any production server would.
async function surveyJsServer() {
  const page = `<!doctype html><meta charset="utf-8"><link rel="stylesheet" href="survey-core.min.css">
<script src="survey.core.min.js"></script><script src="survey-js-ui.min.js"></script>
<div id="s"></div><script>
const json = {pages: [{elements: [{type: 'rating', name: 'recommend', rateMin: 0, rateMax: 10,
  title: 'How likely are you to recommend us to a friend or colleague?'}]}]};
new Survey.Model(json).render(document.getElementById('s'));
</script>`;
  const files = {
    '/': ['text/html', Buffer.from(page)],
    '/survey-core.min.css': ['text/css', fs.readFileSync(path.join(surveyCore, 'survey-core.min.css'))],
    '/survey.core.min.js': ['text/javascript', fs.readFileSync(path.join(surveyCore, 'survey.core.min.js'))],
    '/survey-js-ui.min.js': ['text/javascript', fs.readFileSync(path.join(surveyUi, 'survey-js-ui.min.js'))],
  };
  const gz = Object.fromEntries(Object.entries(files).map(([k, [t, b]]) => [k, [t, zlib.gzipSync(b, { level: 9 })]]));
  const port = await freePort();
  const srv = http.createServer((req, res) => {
    const f = gz[req.url.split('?')[0]];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f[0], 'Content-Encoding': 'gzip', 'Cache-Control': 'max-age=3600' });
    res.end(f[1]);
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  return { srv, url: `http://127.0.0.1:${port}/` };
}

const port = await freePort();
const server = await startServer({ port, publish: [WEBSITE], webOrigins: [`http://127.0.0.1:${port}`],
  extraArgs: ['--static', siteDir] });
const sj = await surveyJsServer();
const browser = await launchChromium();
const rows = {};
try {
  const pages = [
    ['canvass', `${server.url}/embed-demo.html?corner=0&lang=en`, () => {
      if (!window.inline) return false;
      window.inline.then((h) => { window.__h = h; });
      return !!(window.__h && window.__h.items().some((i) => i.id.startsWith('nps:')));
    }],
    ['surveyjs', sj.url, () => document.querySelectorAll('.sd-rating__item, .sd-rating-item').length >= 11],
  ];
  // Interleaved, so that both pages see the same machine load.
  for (let i = 0; i < runs; i++) {
    for (const [name, url, ready] of pages) (rows[name] ??= []).push(await measure(browser, url, ready));
  }
  const fig = {};
  for (const [name, rs] of Object.entries(rows)) {
    fig[name] = {};
    for (const kind of ['cold', 'warm']) {
      fig[name][kind] = { bytes: median(rs.map((r) => r[kind].bytes)), ms: median(rs.map((r) => r[kind].ms)) };
      console.log(`${name} ${kind}: ${(fig[name][kind].bytes / 1024).toFixed(1)} KB over the wire, ` +
        `${fig[name][kind].ms} ms to the first question (median of ${runs})`);
    }
  }
  for (const kind of ['cold', 'warm']) {
    console.log(`ratio ${kind}: bytes ${(100 * fig.canvass[kind].bytes / fig.surveyjs[kind].bytes).toFixed(0)}%, ` +
      `time ${(100 * fig.canvass[kind].ms / fig.surveyjs[kind].ms).toFixed(0)}% of SurveyJS`);
  }
  const loader = fs.readFileSync(path.join(siteDir, 'canvass.js'));
  console.log(`loader canvass.js: ${loader.length} bytes, ${zlib.gzipSync(loader, { level: 9 }).length} bytes gzip`);
} finally {
  await browser.close();
  sj.srv.close();
  await cleanup();
}
