// Benchmark (a program, not a test): what a visitor's browser loads before the first question is
// on screen, and how long that takes — the Canvass embed widget beside a SurveyJS 2.5.38 page
// (survey-core + survey-js-ui from npm, tests/browser/package.json) with the same single 0..10
// question, in headless chromium over loopback, in the same run.
//
//   node tests/browser/bench-load.mjs [runs] [--network slow4g]   (default 11; after the wasm build)
//   CANVASS_SITE_DIR   the wasm build's site (default build/wasm/site)
//   CANVASS_BEFORE_SITE, CANVASS_BEFORE_BIN   optional: an earlier build's site and canvass-server,
//                      measured as "canvass-before" in the same run (before/after comparisons)
//
// --network slow4g: Chromium's "Slow 4G" emulation (CDP Network.emulateNetworkConditions: 150 ms
// round trip, 1.6 Mbit/s down, 750 kbit/s up), applied to both pages, cold and warm.
// Besides the times and bytes it prints, for Canvass, the start-up phases the widget marks on the
// page's performance timeline (`canvass:*` measures, docs/widget.md), and for both pages the main
// thread's blocking time before the first question (the sum of long tasks beyond 50 ms) and the
// requests made.
//
// Cold: a fresh browser context (empty HTTP cache, no IndexedDB: the widget enrolls on the web
// channel). Warm: the same context loads the page again (HTTP cache and, for Canvass, the enrolled
// device and its cached survey). Bytes are the encoded bytes over the wire: Brotli once the server
// has built it (seconds after the first request for a file; gzip until then), and the bench prints
// what the widget's files weigh in gzip and in Brotli. "Drawn" is when the question's 0..10 buttons exist on screen:
// SurveyJS's rating items in the DOM, Canvass's nps buttons of a drawn frame in the DOM mirror of
// its semantics tree (the page updates it at the animation frame after the frame is drawn). Both servers gzip what they serve.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { launchChromium } from './browser.mjs';
import { startServer, freePort, cleanup, repoRoot, WEBSITE } from '../server/harness.mjs';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) || 11);
const network = args.includes('--network') ? args[args.indexOf('--network') + 1] : null;
const NETWORKS = {
  slow4g: { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 },
};
if (network && !NETWORKS[network]) throw new Error(`--network: one of ${Object.keys(NETWORKS)}`);
const siteDir = path.resolve(repoRoot, process.env.CANVASS_SITE_DIR || 'build/wasm/site');
const surveyCore = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/survey-core');
const surveyUi = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules/survey-js-ui');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Long tasks from the page's start (the observer goes in before any of its scripts).
const LONGTASKS = `window.__longtasks = [];
try {
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longtasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: true });
} catch (e) { /* no longtask timing */ }`;

async function load(page, cdp, url, ready) {
  let bytes = 0;
  let requests = 0;
  const onDone = (e) => { bytes += e.encodedDataLength; };
  const onSent = (e) => { if (!e.request.url.startsWith('data:')) requests += 1; };
  cdp.on('Network.loadingFinished', onDone);
  cdp.on('Network.requestWillBeSent', onSent);
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 120000, polling: 10 });
  const ms = Date.now() - t0;
  const seen = requests;
  cdp.off('Network.loadingFinished', onDone);
  cdp.off('Network.requestWillBeSent', onSent);
  const { phases, blocking } = await page.evaluate(() => ({
    phases: Object.fromEntries(performance.getEntriesByType('measure')
      .filter((e) => e.name.startsWith('canvass:')).map((e) => [e.name.slice(8), e.duration])),
    blocking: (window.__longtasks || []).reduce((sum, d) => sum + Math.max(0, d - 50), 0),
  }));
  return { bytes, ms, requests: seen, phases, blocking };
}

async function measure(browser, url, ready) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, serviceWorkers: 'block' });
  await context.addInitScript(LONGTASKS);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (network) await cdp.send('Network.emulateNetworkConditions', NETWORKS[network]);
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
const beforeSite = process.env.CANVASS_BEFORE_SITE;
let before = null;
if (beforeSite) {
  const bport = await freePort();
  before = await startServer({ port: bport, publish: [WEBSITE], webOrigins: [`http://127.0.0.1:${bport}`],
    extraArgs: ['--static', path.resolve(beforeSite)],
    bin: process.env.CANVASS_BEFORE_BIN && path.join(path.resolve(process.env.CANVASS_BEFORE_BIN), 'canvass-server') });
}
const sj = await surveyJsServer();
const browser = await launchChromium();
const rows = {};
try {
  const pages = [
    // The 0..10 buttons of a drawn frame, as the widget's DOM mirror of it (semantics.js) shows them.
    ['canvass', `${server.url}/embed-demo.html?corner=0&lang=en`,
      () => document.querySelectorAll('[data-canvass-item^="nps:"]').length >= 11],
    ...(before ? [['canvass-before', `${before.url}/embed-demo.html?corner=0&lang=en`,
      () => document.querySelectorAll('[data-canvass-item^="nps:"]').length >= 11]] : []),
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
      const f = fig[name][kind] = {
        bytes: median(rs.map((r) => r[kind].bytes)), ms: median(rs.map((r) => r[kind].ms)),
        requests: median(rs.map((r) => r[kind].requests)), blocking: median(rs.map((r) => r[kind].blocking)),
      };
      console.log(`${name} ${kind}: ${(f.bytes / 1024).toFixed(1)} KB over the wire in ${f.requests} ` +
        `requests, ${f.ms} ms to the first question, ${f.blocking.toFixed(0)} ms of long tasks beyond ` +
        `50 ms (medians of ${runs}${network ? `, network ${network}` : ''})`);
      const names = [...new Set(rs.flatMap((r) => Object.keys(r[kind].phases)))];
      if (names.length) {
        console.log(`  phases (ms, median): ${names.map((n) => `${n} ${median(rs.map((r) => r[kind].phases[n] ?? 0)).toFixed(1)}`).join(', ')}`);
      }
    }
  }
  for (const kind of ['cold', 'warm']) {
    if (fig['canvass-before']) {
      console.log(`ratio ${kind} (before): bytes ${(100 * fig['canvass-before'][kind].bytes / fig.surveyjs[kind].bytes).toFixed(0)}%, ` +
        `time ${(100 * fig['canvass-before'][kind].ms / fig.surveyjs[kind].ms).toFixed(0)}% of SurveyJS`);
    }
    console.log(`ratio ${kind}: bytes ${(100 * fig.canvass[kind].bytes / fig.surveyjs[kind].bytes).toFixed(0)}%, ` +
      `time ${(100 * fig.canvass[kind].ms / fig.surveyjs[kind].ms).toFixed(0)}% of SurveyJS`);
  }
  const loader = fs.readFileSync(path.join(siteDir, 'canvass.js'));
  console.log(`loader canvass.js: ${loader.length} bytes, ${zlib.gzipSync(loader, { level: 9 }).length} bytes gzip`);
  // What the widget's files weigh as the server sends them to a browser that accepts br (HTTPS).
  const hashed = fs.readdirSync(path.join(siteDir, 'canvass')).find((f) => /^v-[0-9a-f]{16}$/.test(f));
  if (hashed) {
    const files = fs.readdirSync(path.join(siteDir, 'canvass', hashed)).map((f) => path.join(siteDir, 'canvass', hashed, f));
    let gz = zlib.gzipSync(loader, { level: 9 }).length;
    let br = zlib.brotliCompressSync(loader, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    for (const f of files) {
      const b = fs.readFileSync(f);
      gz += zlib.gzipSync(b, { level: 9 }).length;
      br += zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 24 } }).length;
    }
    console.log(`loader + widget files (${hashed}): ${(gz / 1024).toFixed(1)} KB gzip, ${(br / 1024).toFixed(1)} KB Brotli`);
  }
} finally {
  await browser.close();
  sj.srv.close();
  await cleanup();
}
