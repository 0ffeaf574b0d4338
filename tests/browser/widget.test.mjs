// Browser end-to-end tests of the survey widget: headless Debian chromium driven by playwright-core
// against a real canvass-server (tests/server/harness.mjs) that serves the wasm build's site.
// Clicks land on real pixels: the rectangles come from the widget's items(), which the ImGui UI
// records every frame. Screenshots go to tests/artifacts/.
//
//   CANVASS_SITE_DIR  the site the wasm build made (default build/wasm/site)
//   CANVASS_BIN_DIR   canvass-server and canvass (default build/native/native)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, freePort, tempDir, cleanup, repoRoot, WEBSITE, assertExactlySeqs, sleep,
} from '../server/harness.mjs';
import { launchChromium } from './browser.mjs';

const siteDir = path.resolve(repoRoot, process.env.CANVASS_SITE_DIR || 'build/wasm/site');
const artifacts = path.join(repoRoot, 'tests/artifacts');

// A short series survey: NPS, then the reason, in Russian and English.
const QUICK = {
  format: 'canvass.survey/1',
  id: 'quick',
  revision: 1,
  languages: ['ru', 'en'],
  fallback_language: 'en',
  title: { ru: 'Как вам у нас?', en: 'How was it?' },
  thanks: { ru: 'Спасибо!', en: 'Thank you!' },
  questions: [
    { id: 'recommend', kind: 'nps',
      text: { ru: 'Порекомендуете ли вы нас друзьям?', en: 'Would you recommend us?' } },
    { id: 'reason', kind: 'text', required: false,
      text: { ru: 'Почему вы так оценили?', en: 'Why that score?' } },
  ],
};

// Choices: single with "other", then multi.
const CHOICES = {
  format: 'canvass.survey/1',
  id: 'choices',
  revision: 1,
  languages: ['en', 'ru'],
  title: { en: 'Your visit', ru: 'Ваш визит' },
  questions: [
    { id: 'visit', kind: 'single_choice', allow_other: true, text: { en: 'When did you come?', ru: 'Когда вы пришли?' },
      choices: [{ id: 'lunch', text: { en: 'Lunch', ru: 'Обед' } }, { id: 'dinner', text: { en: 'Dinner', ru: 'Ужин' } }] },
    { id: 'liked', kind: 'multi_choice', text: { en: 'What did you like?', ru: 'Что понравилось?' },
      choices: [{ id: 'food', text: { en: 'Food', ru: 'Еда' } }, { id: 'staff', text: { en: 'Staff', ru: 'Персонал' } },
        { id: 'music', text: { en: 'Music', ru: 'Музыка' } }] },
  ],
};

// A website on another origin that embeds the widget: http://localhost:PORT is another origin
// than the server's http://127.0.0.1:PORT, and both are loopback, so Chrome's local-network
// access checks stay out of the way.
let SHOP_ORIGIN;

let server;
let browser;

before(async () => {
  if (!fs.existsSync(path.join(siteDir, 'canvass/canvass-widget.wasm'))) {
    throw new Error(`${siteDir} has no widget build: run cmake --build --preset wasm (or set CANVASS_SITE_DIR)`);
  }
  fs.mkdirSync(artifacts, { recursive: true });
  const dir = tempDir('canvass-browser-');
  const quick = path.join(dir, 'quick.json');
  fs.writeFileSync(quick, JSON.stringify(QUICK, null, 2));
  const choices = path.join(dir, 'choices.json');
  fs.writeFileSync(choices, JSON.stringify(CHOICES, null, 2));
  const port = await freePort();
  SHOP_ORIGIN = `http://localhost:${port}`;
  server = await startServer({
    port, publish: [quick, choices, WEBSITE], webOrigins: [`http://127.0.0.1:${port}`, SHOP_ORIGIN],
    extraArgs: ['--static', siteDir],
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await cleanup();
});

async function newPage({ serviceWorkers = 'block' } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1024, height: 720 }, deviceScaleFactor: 2, serviceWorkers,
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  // Chromium reports what the page's Content-Security-Policy blocked on the console.
  page.cspViolations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) page.cspViolations.push(m.text());
  });
  return { context, page };
}

// Opens the kiosk page, enrolled with a fresh code, and waits for its handle.
async function openKiosk(page, { survey = 'quick', sw = false, code, extra = '' } = {}) {
  code ??= await server.enrollCode('Kyiv-Podil');
  const url = `${server.url}/kiosk/index.html?survey=${survey}&code=${code}&fullscreen=0&sw=${sw ? 1 : 0}${extra}`;
  const response = await page.goto(url);
  assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self' 'wasm-unsafe-eval'/,
    'the kiosk page is served with its Content-Security-Policy');
  await waitHandle(page);
  await page.evaluate(() => window.handle.state());
  assert.deepEqual(page.cspViolations, [], 'the kiosk runs within its Content-Security-Policy');
}

async function waitHandle(page) {
  await page.waitForFunction(() => window.kiosk, null, { timeout: 30000 });
  await page.evaluate(async () => { window.handle = await window.kiosk; });
}

const state = (page) => page.evaluate(() => window.handle.state());

async function waitState(page, predicate, what, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await state(page);
    if (predicate(last)) return last;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}; last state ${JSON.stringify(last)}`);
}

// Clicks the centre of the item `id` as the widget reported it (CSS pixels of the viewport).
async function click(page, id, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let items = [];
  while (Date.now() < deadline) {
    items = await page.evaluate(() => window.handle.items());
    const it = items.find((i) => i.id === id);
    if (it) {
      await page.mouse.click(it.x + it.w / 2, it.y + it.h / 2);
      return it;
    }
    await sleep(50);
  }
  assert.fail(`no item '${id}' on screen; items: ${items.map((i) => i.id).join(' ')}`);
}

// One customer: start, NPS score, optional reason, done. Returns the state on the attract screen.
async function answerQuick(page, score, reason) {
  await waitState(page, (s) => s.screen === 'attract', 'the attract screen');
  await click(page, 'start');
  await waitState(page, (s) => s.question === 'recommend', 'the NPS question');
  await click(page, `nps:${score}`);
  await waitState(page, (s) => s.question === 'reason', 'the reason question');
  if (reason) {
    await click(page, 'field:text');
    await page.keyboard.type(reason);
  }
  await click(page, 'next');
  await waitState(page, (s) => s.screen === 'thanks' || s.screen === 'attract', 'the thank-you screen');
}

test('kiosk in Russian: NPS + reason, stored on the server as answered', async () => {
  const { context, page } = await newPage();
  try {
    await openKiosk(page);
    await waitState(page, (s) => s.screen === 'attract', 'the attract screen');
    await click(page, 'lang:ru');
    await waitState(page, (s) => s.language === 'ru', 'Russian');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-attract-ru.png') });
    await click(page, 'start');
    await waitState(page, (s) => s.question === 'recommend', 'the NPS question');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-nps-ru.png') });
    // Every NPS point is on screen and big enough to hit with a finger.
    const nps = (await page.evaluate(() => window.handle.items())).filter((i) => i.id.startsWith('nps:'));
    assert.equal(nps.length, 11, `NPS points: ${nps.map((i) => i.id)}`);
    for (const it of nps) assert.ok(it.w >= 44 && it.h >= 44, `${it.id} is ${it.w}x${it.h} CSS px`);
    await click(page, 'nps:9');
    await waitState(page, (s) => s.question === 'reason', 'the reason question');
    await click(page, 'field:text');
    await page.keyboard.type('Очень вкусно и быстро');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-reason-ru.png') });
    await click(page, 'next');
    const done = await waitState(page, (s) => s.screen === 'thanks', 'the thank-you screen');
    assert.equal(done.outcome, 'completed');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-thanks-ru.png') });

    const receipt = await page.evaluate(() => window.handle.sync());
    assert.equal(receipt.last_seq, 1);
    assert.equal(await page.evaluate(() => window.handle.pending()), 0);
    const records = (await server.exportRecords()).filter((r) => r.device === done.device_id);
    assert.equal(records.length, 1, JSON.stringify(records));
    assert.equal(records[0].outcome, 'completed');
    assert.equal(records[0].survey, 'quick');
    assert.equal(records[0].answers.recommend, 9);
    assert.equal(records[0].answers.reason, 'Очень вкусно и быстро');
    assert.equal(records[0].tags.channel, 'kiosk');
  } finally {
    await context.close();
  }
});

test('keyboard only: Tab, digits, Enter and the text field answer a survey', async () => {
  const { context, page } = await newPage();
  try {
    await openKiosk(page, { extra: '&lang=en' });
    await waitState(page, (s) => s.screen === 'attract', 'the attract screen');
    await page.focus('canvas.canvass-canvas');
    // Tab walks the items in reading order until it reaches Start; a ring marks the focus.
    const tabTo = async (id, { back = false } = {}) => {
      for (let i = 0; i < 30; i++) {
        if ((await state(page)).focus === id) return;
        await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
      }
      assert.fail(`Tab never reached '${id}'; items ${(await page.evaluate(() => window.handle.items())).map((i) => i.id)}`);
    };
    await tabTo('start');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-keyboard-focus.png') });
    await page.keyboard.press('Enter');
    await waitState(page, (s) => s.question === 'recommend', 'the NPS question');
    // Arrows move along the 0..10 row; a digit answers at once.
    await page.keyboard.press('ArrowRight');
    // The focus moves on the next frame, which a loaded machine may draw late.
    await waitState(page, (s) => /^nps:\d+$/.test(s.focus ?? ''), 'the focus on the 0..10 row');
    await page.keyboard.press('8');
    await waitState(page, (s) => s.question === 'reason', 'the reason question');
    // Past the widget's last item Tab goes on to the page: here the reason's <input>.
    for (let i = 0; i < 30 && !(await page.evaluate(() => document.activeElement?.classList.contains('canvass-input'))); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await page.evaluate(() => document.activeElement?.dataset.canvassField === 'text'),
      'Tab did not reach the reason field');
    await page.keyboard.type('Quick and tasty');
    // Back into the widget, to Next, and press it.
    await page.keyboard.press('Shift+Tab');
    await tabTo('next', { back: true });
    await page.keyboard.press(' ');
    const done = await waitState(page, (s) => s.screen === 'thanks', 'the thank-you screen');
    assert.equal(done.outcome, 'completed');
    await page.evaluate(() => window.handle.sync());
    const records = (await server.exportRecords()).filter((r) => r.device === done.device_id);
    assert.equal(records.length, 1, JSON.stringify(records));
    assert.equal(records[0].answers.recommend, 8);
    assert.equal(records[0].answers.reason, 'Quick and tasty');
    // Keys the widget does not use stay with the page.
    assert.equal(await page.evaluate(() => {
      const e = new KeyboardEvent('keydown', { key: 'a', cancelable: true, bubbles: true });
      document.querySelector('canvas.canvass-canvas').dispatchEvent(e);
      return e.defaultPrevented;
    }), false);
  } finally {
    await context.close();
  }
});

test('offline: three customers, a reload, back online: all three stored exactly once', async () => {
  const { context, page } = await newPage({ serviceWorkers: 'allow' });
  try {
    await openKiosk(page, { sw: true });
    // The service worker must control the page before the network goes away.
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 20000 });
    const { device_id: device } = await state(page);
    await context.setOffline(true);
    await answerQuick(page, 10, 'Всё отлично');
    await answerQuick(page, 3, '');
    await answerQuick(page, 7, 'Долго ждали');
    assert.equal(await page.evaluate(() => window.handle.pending()), 3);
    await page.screenshot({ path: path.join(artifacts, 'kiosk-offline.png') });

    await page.reload();  // offline: the service worker serves the kiosk, IndexedDB keeps the log
    await waitHandle(page);
    assert.equal(await page.evaluate(() => window.handle.pending()), 3);
    assert.equal((await server.exportRecords()).filter((r) => r.device === device).length, 0);

    await context.setOffline(false);  // the `online` event starts a sync
    const deadline = Date.now() + 30000;
    while (await page.evaluate(() => window.handle.pending()) > 0) {
      assert.ok(Date.now() < deadline, 'records still pending 30 s after coming back online');
      await sleep(200);
    }
    const records = await server.exportRecords();
    assertExactlySeqs(records, device, 3, 'after the offline session');
    const mine = records.filter((r) => r.device === device).sort((a, b) => a.seq - b.seq);
    assert.deepEqual(mine.map((r) => r.answers.recommend), [10, 3, 7]);
    assert.deepEqual(mine.map((r) => r.outcome), ['completed', 'completed', 'completed']);
    // A second sync sends nothing and changes nothing.
    await page.evaluate(() => window.handle.sync());
    assertExactlySeqs(await server.exportRecords(), device, 3, 'after a second sync');
  } finally {
    await context.close();
  }
});

test('a tampered survey bundle is refused and never shown', async () => {
  const { context, page } = await newPage();
  try {
    let tampered = 0;
    // Bundles come with the enrollment answer and from /v1/surveys: tamper with both.
    const tamper = async (route) => {
      const res = await route.fetch();
      const json = await res.json();
      for (const b of json.bundles || []) {
        // Flip one hex digit in the middle of the signed bytes (inside the survey definition).
        const i = Math.floor(b.bundle.length / 2);
        b.bundle = b.bundle.slice(0, i) + (b.bundle[i] === '0' ? '1' : '0') + b.bundle.slice(i + 1);
        tampered++;
      }
      await route.fulfill({ response: res, json });
    };
    await page.route('**/v1/enroll', tamper);
    await page.route('**/v1/surveys?*', tamper);
    await openKiosk(page);
    const s = await waitState(page, (st) => st.screen === 'error', 'the error screen');
    assert.ok(tampered > 0, 'the route never saw a bundle');
    assert.match(s.error, /refused/, s.error);
    assert.equal(s.survey, null, 'a refused bundle must not become the survey on offer');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-tampered-bundle.png') });
    const items = await page.evaluate(() => window.handle.items());
    assert.ok(!items.some((i) => i.id === 'start' || i.id.startsWith('nps:')), JSON.stringify(items));
  } finally {
    await context.close();
  }
});

test('website embed: web enrollment, closing the widget records declined', async () => {
  const { context, page } = await newPage();
  try {
    // Mounted into an element of the demo page; corner=0 keeps the corner panel from covering it.
    await page.goto(`${server.url}/embed-demo.html?lang=en&corner=0`);
    await page.waitForFunction(() => window.inline, null, { timeout: 30000 });
    await page.evaluate(async () => { window.handle = await window.inline; });
    const s = await waitState(page, (st) => st.question === 'recommend', 'the first question');
    assert.equal(s.language, 'en');
    assert.match(s.device_id, /^dev-/);
    await page.screenshot({ path: path.join(artifacts, 'embed-demo.png') });
    await click(page, 'close');
    const closed = await waitState(page, (st) => st.screen === 'closed', 'the closed widget');
    assert.equal(closed.outcome, 'declined');
    await page.evaluate(() => window.handle.sync());
    const records = (await server.exportRecords()).filter((r) => r.device === s.device_id);
    assert.ok(records.some((r) => r.outcome === 'declined' && r.survey === 'website-nps'),
      JSON.stringify(records));
    const devices = await server.devices();
    assert.equal(devices.find((d) => d.device_id === s.device_id)?.web, true);

    // The survey's cap_days (90): the same browser is not asked again, and nothing is recorded.
    const again = await page.evaluate(async () => {
      const el = document.createElement('div');
      el.style.height = '300px';
      document.body.appendChild(el);
      const h = await Canvass.mount(el, { survey: 'website-nps', mode: 'embed' });
      const st = h.state();
      h.unmount();
      return st;
    });
    assert.equal(again.screen, 'closed');
    assert.match(again.not_offered, /frequency cap/);
    await page.evaluate(() => window.handle.sync());
    assert.equal((await server.exportRecords()).filter((r) => r.device === s.device_id).length,
      records.length, 'a visitor who was not asked must leave no record');
  } finally {
    await context.close();
  }
});

test('a host page cannot set location or channel: web records are the web channel\'s', async () => {
  // Security review 2, finding 2: the embed passed options.tags from the host page into records,
  // so a page could file its answers (and cases) under any location.
  const { context, page } = await newPage();
  try {
    // A page of the server's origin with nothing but the loader (the embed demo mounts a widget
    // of its own, whose records would carry no host tags).
    await page.goto(`${server.url}/healthz`);
    await page.addScriptTag({ url: `${server.url}/canvass.js` });
    await page.waitForFunction(() => window.Canvass, null, { timeout: 30000 });
    await page.evaluate(async () => {
      const el = document.createElement('div');
      el.style.cssText = 'width: 480px; height: 360px';
      document.body.prepend(el);
      window.handle = await Canvass.mount(el, {
        survey: 'website-nps', mode: 'embed', force: true,
        tags: { location: 'Lviv-Center', channel: 'kiosk', segment: 'vip', table: '7' },
      });
    });
    const s = await waitState(page, (st) => st.question === 'recommend', 'the first question');
    await click(page, 'close');
    await waitState(page, (st) => st.screen === 'closed', 'the closed widget');
    await page.evaluate(() => window.handle.sync());
    const records = (await server.exportRecords()).filter((r) => r.device === s.device_id);
    assert.ok(records.length >= 1, 'the declined offer is stored');
    for (const r of records) {
      assert.deepEqual(r.tags, { channel: 'web', location: 'web', segment: 'vip' },
        'location and channel come from the certificate; only allowed host tags pass');
    }
  } finally {
    await context.close();
  }
});

test('kiosk idle reset records partial, then the staff panel shows what waits for sync', async () => {
  const { context, page } = await newPage();
  try {
    await openKiosk(page, { extra: '&idle=2&pin=2468' });
    await waitState(page, (s) => s.screen === 'attract', 'the attract screen');
    await context.setOffline(true);  // keep the record in the log so that staff see it waiting
    await click(page, 'start');
    await waitState(page, (s) => s.question === 'recommend', 'the NPS question');
    await click(page, 'nps:6');
    await waitState(page, (s) => s.question === 'reason', 'the reason question');
    // Nobody touches the kiosk for 2 s: back to attract, recorded as partial, no thank-you.
    const s = await waitState(page, (st) => st.screen === 'attract', 'the idle reset', 20000);
    assert.equal(s.outcome, 'partial');
    assert.equal(await page.evaluate(() => window.handle.pending()), 1);

    await click(page, 'staff');
    await waitState(page, (st) => st.screen === 'pin', 'the PIN pad');
    for (const d of '2468') await click(page, `pin:${d}`);
    await click(page, 'pin:ok');
    await waitState(page, (st) => st.screen === 'staff', 'the staff panel');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-staff-panel.png') });
    await context.setOffline(false);
    await click(page, 'staff:sync');
    const deadline = Date.now() + 30000;
    while (await page.evaluate(() => window.handle.pending()) > 0) {
      assert.ok(Date.now() < deadline, 'staff sync did not empty the log');
      await sleep(200);
    }
    const records = (await server.exportRecords()).filter((r) => r.device === s.device_id);
    assert.equal(records.length, 1);
    assert.equal(records[0].outcome, 'partial');
    assert.equal(records[0].answers.recommend, 6);
    await click(page, 'staff:back');
    await waitState(page, (st) => st.screen === 'attract', 'the attract screen again');
  } finally {
    await context.close();
  }
});

test('private mode (no IndexedDB): staff type the enrollment code; answers are sent at once', async () => {
  const { context, page } = await newPage();
  try {
    await page.addInitScript(() => { delete window.indexedDB; });
    const code = await server.enrollCode('Kyiv-Podil');
    await page.goto(`${server.url}/kiosk/index.html?survey=choices&fullscreen=0&sw=0&lang=en`);
    await waitHandle(page);
    await waitState(page, (s) => s.screen === 'enroll', 'the enrollment screen');
    const st = await state(page);
    assert.equal(st.persistent, false, 'without IndexedDB the log must say it is not persistent');
    await click(page, 'field:enroll');
    await page.keyboard.type(code);
    await click(page, 'enroll');
    await waitState(page, (s) => s.screen === 'attract', 'the attract screen after enrollment');
    await click(page, 'start');
    await waitState(page, (s) => s.question === 'visit', 'the single choice');
    await click(page, 'choice:dinner');
    await click(page, 'next');
    await waitState(page, (s) => s.question === 'liked', 'the multi choice');
    await click(page, 'choice:food');
    await click(page, 'choice:music');
    await page.screenshot({ path: path.join(artifacts, 'kiosk-choices.png') });
    await click(page, 'next');
    const done = await waitState(page, (s) => s.screen === 'thanks', 'the thank-you screen');
    // Sent at once: the record reaches the server without anyone calling sync().
    const deadline = Date.now() + 20000;
    let mine = [];
    while (Date.now() < deadline) {
      mine = (await server.exportRecords()).filter((r) => r.device === done.device_id);
      if (mine.length) break;
      await sleep(200);
    }
    assert.equal(mine.length, 1, 'the record was not sent at once');
    assert.deepEqual(mine[0].answers.visit, ['dinner']);
    assert.deepEqual(mine[0].answers.liked, ['food', 'music']);
  } finally {
    await context.close();
  }
});

test('a reload mid-survey resumes at the same question, and the offer is recorded once', async () => {
  const { context, page } = await newPage();
  try {
    await openKiosk(page, { extra: '&lang=ru' });
    await waitState(page, (s) => s.screen === 'attract', 'the attract screen');
    await click(page, 'start');
    await click(page, 'nps:8');
    await waitState(page, (s) => s.question === 'reason', 'the reason question');
    await page.reload();
    await waitHandle(page);
    const s = await waitState(page, (st) => st.question === 'reason', 'the resumed reason question');
    await click(page, 'field:text');
    await page.keyboard.type('После перезагрузки');
    await click(page, 'next');
    await waitState(page, (st) => st.screen === 'thanks', 'the thank-you screen');
    await page.evaluate(() => window.handle.sync());
    const mine = (await server.exportRecords()).filter((r) => r.device === s.device_id);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(mine[0].outcome, 'completed');
    assert.equal(mine[0].answers.recommend, 8);
    assert.equal(mine[0].answers.reason, 'После перезагрузки');
  } finally {
    await context.close();
  }
});

test('embed on another origin: the loader, module, wasm and API work cross-origin (CORS)', async () => {
  const { context, page } = await newPage();
  try {
    // The demo page from http://localhost:PORT, the loader and API from http://127.0.0.1:PORT.
    await page.goto(`${SHOP_ORIGIN}/embed-demo.html?corner=0&lang=ru&server=${encodeURIComponent(server.url)}`);
    await page.waitForFunction(() => window.inline, null, { timeout: 30000 });
    await page.evaluate(async () => { window.handle = await window.inline; });
    const s = await waitState(page, (st) => st.question === 'recommend', 'the first question');
    await click(page, 'nps:10');
    await waitState(page, (st) => st.question !== 'recommend', 'the next question');
    await click(page, 'close');
    await waitState(page, (st) => st.screen === 'closed', 'the closed widget');
    await page.evaluate(() => window.handle.sync());
    const mine = (await server.exportRecords()).filter((r) => r.device === s.device_id);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(mine[0].outcome, 'declined');
    assert.equal(mine[0].answers.recommend, 10);
  } finally {
    await context.close();
  }
});
