// The HTML report (`canvass report --format html`, docs/report.md) in headless Debian chromium:
// every data-figure on the page must equal the JSON report's value at its path, the page must
// load nothing from anywhere and run nothing, and it must print to A4. The screenshot and PDF go
// to tests/artifacts/. Only the native CLI is needed: CTest registers this file with the native
// build (browser_report_html).
//
//   CANVASS_BIN_DIR   canvass (default build/native/native)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cleanup, mustCli, tempDir, repoRoot, RESTAURANT } from '../server/harness.mjs';
import { launchChromium } from './browser.mjs';

const artifacts = path.join(repoRoot, 'tests/artifacts');

let dir;
let browser;
const files = {};

async function report(input, format, by, out) {
  const args = ['report', '--survey', RESTAURANT, '--input', input, '--format', format];
  for (const b of by) args.push('--by', b);
  await mustCli([...args, '--out', out]);
  return out;
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  dir = tempDir('canvass-report-html-');
  files.demo = path.join(dir, 'demo.jsonl');
  await mustCli(['demo-data', '--survey', RESTAURANT, '--count', '3000', '--seed', '7', '--out', files.demo]);
  files.html = await report(files.demo, 'html', ['location'], path.join(dir, 'report.html'));
  files.json = await report(files.demo, 'json', ['location'], path.join(dir, 'report.json'));
  // The trend chart's figures (trend.*) are those of the same selection per week.
  files.trend = await report(files.demo, 'json', ['period:week'], path.join(dir, 'trend.json'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await cleanup();
});

// A page on a file:// URL, recording every request it makes and every console error.
async function open(file) {
  const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, requests, errors };
}

// Splits on `sep`, as the C++ test does; ids and keys have '.', ',', '=' and '%' percent-encoded.
const decode = (s) => decodeURIComponent(s);

// The value at a data-figure path (docs/report.md, "HTML") in a JSON report, or undefined.
function resolve(json, figure) {
  let at = json;
  for (const raw of figure.split('.')) {
    if (at === undefined || at === null) return undefined;
    if (!Array.isArray(at) && typeof at === 'object' && Array.isArray(at.entries) && raw.includes('=')) {
      const want = raw.split(',').map((part) => {
        const eq = part.indexOf('=');
        return [decode(part.slice(0, eq)), decode(part.slice(eq + 1))];
      });
      at = at.entries.find((e) => want.every(([k, v]) => k in e.key && (e.key[k] ?? '') === v));
      continue;
    }
    const segment = decode(raw);
    if (Array.isArray(at)) {
      at = at.length && typeof at[0] === 'object' && at[0] !== null
        ? at.find((item) => item.id === segment)
        : at[Number(segment)];
    } else {
      at = at[segment];
    }
  }
  return at;
}

function figuresOf(page) {
  return page.$$eval('[data-figure]', (els) => els.map((e) => ({
    figure: e.getAttribute('data-figure'),
    value: e.hasAttribute('data-value') ? e.getAttribute('data-value') : e.textContent,
    text: e.textContent,
    graphic: e.hasAttribute('data-graphic'),
  })));
}

test('every figure on the page is the JSON report\'s value at its data-figure path', async () => {
  const json = JSON.parse(fs.readFileSync(files.json, 'utf8'));
  const trend = JSON.parse(fs.readFileSync(files.trend, 'utf8'));
  const { page, url, requests, errors } = await open(files.html);
  try {
    const figures = await figuresOf(page);
    assert.ok(figures.length > 150, `only ${figures.length} figures on the page`);
    const mismatches = [];
    for (const { figure, value } of figures) {
      const expected = figure.startsWith('trend.')
        ? resolve(trend.groups, figure.slice('trend.'.length))
        : resolve(json, figure);
      if (expected === undefined || expected === null || typeof expected === 'object') {
        mismatches.push(`${figure}: no scalar at this path in the JSON (page shows ${value})`);
      } else if (String(expected) !== value) {
        mismatches.push(`${figure}: page ${value}, JSON ${expected}`);
      }
    }
    assert.deepEqual(mismatches, [], 'figures that differ from the JSON');
    // A number shown as text is the exact figure rounded to one decimal.
    const misread = figures.filter((f) => !f.graphic && f.text !== f.value && /^-?[0-9.]+$/.test(f.value))
      .filter((f) => !(Math.abs(Number(f.text) - Number(f.value)) <= 0.05 + 1e-9 && /^[+-]?[0-9]+(\.[0-9])?$/.test(f.text)))
      .map((f) => `${f.figure}: shows ${f.text} for ${f.value}`);
    assert.deepEqual(misread, [], 'shown numbers that are not the figure rounded to one decimal');

    // The figures a manager looks for are there, and shown (not only in attributes).
    const shown = new Set(figures.filter((f) => !f.graphic).map((f) => f.figure));
    const drawn = new Set(figures.filter((f) => f.graphic).map((f) => f.figure));
    for (const f of ['nps.value', 'nps.ci95.0', 'nps.ci95.1', 'nps.n', 'nps.silent', 'nps.bounds.0',
      'nps.bounds.1', 'response_rate.value', 'response_rate.ci95.0', 'csi.index.value', 'csi.score.value',
      'loyalty.loyalty_rate.value', 'report.nonresponders', 'report.selected',
      'csi.attributes.price.importance.value', 'csi.attributes.price.promoters_pct',
      'csi.attributes.price.neutrals_pct', 'csi.attributes.price.critics_pct',
      'csi.attributes.price.index.value', 'csi.attributes.price.mean.value', 'csi.attributes.price.quadrant',
      'groups.location=airport.nps.value', 'groups.location=airport.nps.ci95.0', 'groups.location=airport.rank.position']) {
      assert.ok(shown.has(f), `${f} is not shown on the page`);
    }
    for (let point = 0; point <= 10; point++) {
      assert.ok(drawn.has(`questions.recommend.counts.${point}`), `no bar for score ${point}`);
    }
    for (const entry of trend.groups.entries) {
      assert.ok(drawn.has(`trend.period:week=${entry.key['period:week']}.nps.value`), `no trend point for ${entry.key['period:week']}`);
    }
    for (const entry of json.groups.entries) {
      assert.ok(drawn.has(`groups.location=${entry.key.location}.nps.value`), `no bar for ${entry.key.location}`);
    }

    // Readable as it is: the NPS card shows the value; charts are inline SVG; no "NaN"/"null".
    const card = page.locator('#card-nps .big [data-figure="nps.value"]');
    assert.equal(await card.getAttribute('data-value'), String(json.nps.value));
    assert.ok(Math.abs(Number(await card.textContent()) - json.nps.value) <= 0.05, await card.textContent());
    assert.ok((await card.boundingBox()).height > 0);
    assert.equal(await page.locator('svg').count(), 4);
    assert.equal(await page.locator('#distribution rect.det').count(), 7);
    assert.equal(await page.locator('#trend path.band').count(), 1);
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /\bNaN\b|\bnull\b|\bundefined\b|Infinity/);
    assert.match(text, /How was your visit\?/);

    // Nothing but the page itself was requested; nothing complained (a CSP violation would).
    assert.deepEqual(requests, [url]);
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('script, link, img, iframe, object, embed').count(), 0);

    // Print: A4, charts and cards kept whole on a page.
    await page.emulateMedia({ media: 'print' });
    const breaks = await page.$$eval('section.chart, .card', (els) => els.map((e) => getComputedStyle(e).breakInside));
    assert.ok(breaks.length >= 6);
    assert.ok(breaks.every((b) => b === 'avoid'), `break-inside: ${breaks}`);
    await page.emulateMedia({ media: 'screen' });
    await page.screenshot({ path: path.join(artifacts, 'report-html.png'), fullPage: true });
    const pdf = await page.pdf({ path: path.join(artifacts, 'report-html.pdf'), preferCSSPageSize: true, printBackground: true });
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    // A4 is 595 x 842 points (chromium writes 594.96 x 841.92), on every page.
    const boxes = [...pdf.toString('latin1').matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)];
    assert.ok(boxes.length >= 2, `${boxes.length} pages`);
    for (const [, w, h] of boxes) {
      assert.ok(Math.abs(w - 595) < 1 && Math.abs(h - 842) < 1, `page ${w} x ${h} points is not A4`);
    }
    assert.deepEqual(requests, [url], 'printing loaded something');
  } finally {
    await page.close();
  }
});

test('tag values from devices are shown as text: no markup, no script, no request', async () => {
  // Offers from a device whose location tag is markup that would load an image and run a script.
  const hostile = '<img src="x.png" onerror="window.__pwned=1"><script>window.__pwned=2</script>';
  const lines = fs.readFileSync(files.demo, 'utf8').split('\n').filter(Boolean).slice(0, 600)
    .map((l) => l.replace('"location":"airport"', `"location":${JSON.stringify(hostile)}`));
  const input = path.join(dir, 'hostile.jsonl');
  fs.writeFileSync(input, lines.join('\n') + '\n');
  const html = await report(input, 'html', ['location'], path.join(dir, 'hostile.html'));
  const json = JSON.parse(fs.readFileSync(await report(input, 'json', ['location'], path.join(dir, 'hostile.json')), 'utf8'));
  assert.ok(json.groups.entries.some((e) => e.key.location === hostile), 'the input has the hostile tag');

  const { page, url, requests, errors } = await open(html);
  try {
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(requests, [url]);
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('script, img').count(), 0);
    // The value is on the page as text, and its figures resolve to its group in the JSON.
    assert.ok((await page.locator('#groups').innerText()).includes(hostile.slice(0, 20)) ||
      (await page.locator('#groups text').allTextContents()).some((t) => t.startsWith('<img src=')));
    const figures = await figuresOf(page);
    const ours = figures.filter((f) => f.figure.startsWith('groups.location=%3Cimg') ||
      f.figure.startsWith('groups.location=<img'));
    assert.ok(ours.length > 0, 'no figure of the hostile group');
    for (const { figure, value } of ours) {
      assert.equal(String(resolve(json, figure)), value, figure);
    }
  } finally {
    await page.close();
  }
});
