// Accessibility of the survey widget (docs/widget.md, "Semantics"): what a screen reader gets,
// read from Chromium's own accessibility tree over CDP (Accessibility.getFullAXTree), for the
// embed demo page and the kiosk, and answering through the DOM mirror — element.click() on a
// radio, and Space on a focused one — which must store exactly one record with that score in the
// server's export; and axe-core's WCAG 2.1 A/AA rules on both pages in English and Ukrainian.
// Real canvass-server, real headless chromium (tests/browser/browser.mjs).
//
//   CANVASS_SITE_DIR  the site the wasm build made (default build/wasm/site)
//   CANVASS_BIN_DIR   canvass-server and canvass (default build/native/native)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startServer, freePort, tempDir, cleanup, repoRoot, sleep } from '../server/harness.mjs';
import { launchChromium, waitFor } from './browser.mjs';

const siteDir = path.resolve(repoRoot, process.env.CANVASS_SITE_DIR || 'build/wasm/site');
// axe-core from tests/browser/package-lock.json (npm ci --prefix tests/browser).
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// An NPS question with end labels, then an optional reason, in English, Ukrainian and Russian.
const TEXT = {
  en: 'How likely are you to recommend us?',
  uk: 'Наскільки ймовірно, що ви порадите нас?',
  ru: 'Насколько вероятно, что вы нас порекомендуете?',
};
const LOW = { en: 'Not at all likely', uk: 'Зовсім малоймовірно', ru: 'Совсем маловероятно' };
const HIGH = { en: 'Extremely likely', uk: 'Дуже ймовірно', ru: 'Очень вероятно' };
const SURVEY = {
  format: 'canvass.survey/1',
  id: 'a11y',
  revision: 1,
  languages: ['en', 'uk', 'ru'],
  fallback_language: 'en',
  title: { en: 'Your opinion', uk: 'Ваша думка', ru: 'Ваше мнение' },
  thanks: { en: 'Thank you!', uk: 'Дякуємо!', ru: 'Спасибо!' },
  questions: [
    { id: 'recommend', kind: 'nps', text: TEXT, min_label: LOW, max_label: HIGH },
    { id: 'reason', kind: 'text', required: false,
      text: { en: 'Why that score?', uk: 'Чому така оцінка?', ru: 'Почему такая оценка?' } },
  ],
};
// A required single choice: Next without an answer gives a validation message.
const CHOICE = {
  format: 'canvass.survey/1',
  id: 'a11y-choice',
  revision: 1,
  languages: ['en', 'uk'],
  fallback_language: 'en',
  title: { en: 'Your visit', uk: 'Ваш візит' },
  questions: [
    { id: 'visit', kind: 'single_choice', required: true,
      text: { en: 'When did you come?', uk: 'Коли ви прийшли?' },
      choices: [{ id: 'lunch', text: { en: 'Lunch', uk: 'Обід' } },
        { id: 'dinner', text: { en: 'Dinner', uk: 'Вечеря' } }] },
  ],
};
const CLOSE = { en: 'Close', uk: 'Закрити', ru: 'Закрыть' };
const LANGUAGES = ['English', 'Українська', 'Русский'];

let server;
let browser;

before(async () => {
  if (!fs.existsSync(path.join(siteDir, 'canvass/canvass-widget.wasm'))) {
    throw new Error(`${siteDir} has no widget build: run cmake --build --preset wasm (or set CANVASS_SITE_DIR)`);
  }
  const dir = tempDir('canvass-a11y-');
  const file = path.join(dir, 'a11y.json');
  fs.writeFileSync(file, JSON.stringify(SURVEY, null, 2));
  const choice = path.join(dir, 'a11y-choice.json');
  fs.writeFileSync(choice, JSON.stringify(CHOICE, null, 2));
  const port = await freePort();
  server = await startServer({
    port, publish: [file, choice], webOrigins: [`http://127.0.0.1:${port}`], extraArgs: ['--static', siteDir],
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await cleanup();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  return { context, page };
}

const state = (page) => page.evaluate(() => window.handle.state());

const waitState = (page, predicate, what, timeout = 20000) =>
  waitFor(page, () => window.handle.state(), predicate, what, timeout);

async function openEmbed(page, lang) {
  await page.goto(`${server.url}/embed-demo.html?lang=${lang}&corner=0&survey=a11y`);
  await page.waitForFunction(() => window.inline, null, { timeout: 30000 });
  await page.evaluate(async () => { window.handle = await window.inline; });
  return waitState(page, (s) => s.question === 'recommend', 'the first question');
}

async function openKiosk(page, lang, survey = 'a11y') {
  const code = await server.enrollCode('Kyiv-Podil');
  await page.goto(`${server.url}/kiosk/index.html?survey=${survey}&code=${code}&fullscreen=0&sw=0&lang=${lang}`);
  await page.waitForFunction(() => window.kiosk, null, { timeout: 30000 });
  await page.evaluate(async () => { window.handle = await window.kiosk; });
  return waitState(page, (s) => s.screen === 'attract', 'the attract screen');
}

// Chromium's accessibility tree as {nodes, byId, children(node), find(role, name)}: what a screen
// reader is given, after the page's ARIA and the browser's own rules.
async function axTree(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const live = nodes.filter((n) => !n.ignored);
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const role = (n) => n.role?.value;
    const name = (n) => n.name?.value ?? '';
    const prop = (n, p) => n.properties?.find((x) => x.name === p)?.value?.value;
    // Descendants through ignored nodes (generic <div>s are often ignored).
    const descendants = (n) => {
      const out = [];
      const walk = (id) => {
        const c = byId.get(id);
        if (!c) return;
        if (!c.ignored) out.push(c);
        for (const k of c.childIds || []) walk(k);
      };
      for (const k of n.childIds || []) walk(k);
      return out;
    };
    return {
      live, role, name, prop, descendants,
      all: (r, nm) => live.filter((n) => role(n) === r && (nm === undefined || name(n) === nm)),
    };
  } finally {
    await cdp.detach();
  }
}

// Polls the accessibility tree until `check` returns no problem (a string names the problem).
async function waitAx(page, check, timeout = 20000) {
  const deadline = Date.now() + timeout;
  let problem;
  while (Date.now() < deadline) {
    const ax = await axTree(page);
    problem = check(ax);
    if (!problem) return ax;
    await sleep(200);
  }
  assert.fail(`accessibility tree: ${problem}`);
}

// The 0..10 question as a screen reader must get it, in `lang`.
function npsProblem(ax, lang, { close }) {
  if (!ax.all('heading', TEXT[lang]).length) return `no heading '${TEXT[lang]}'`;
  const groups = ax.all('radiogroup', TEXT[lang]);
  if (groups.length !== 1) {
    return `no radiogroup named by the question; radiogroups: ${JSON.stringify(ax.all('radiogroup').map(ax.name))}`;
  }
  const radios = ax.descendants(groups[0]).filter((n) => ax.role(n) === 'radio');
  const names = radios.map(ax.name);
  const expected = Array.from({ length: 11 }, (_, i) => String(i));
  if (JSON.stringify(names) !== JSON.stringify(expected)) return `radios in the group: ${JSON.stringify(names)}`;
  const description = groups[0].description?.value ?? '';
  if (!description.includes(LOW[lang]) || !description.includes(HIGH[lang])) {
    return `the group's description '${description}' lacks the end labels`;
  }
  for (const l of LANGUAGES) if (!ax.all('button', l).length) return `no language button '${l}'`;
  if (close && !ax.all('button', CLOSE[lang]).length) return `no button '${CLOSE[lang]}'`;
  return null;
}

async function exportedFor(device) {
  return (await server.exportRecords()).filter((r) => r.device === device);
}

for (const lang of ['en', 'uk']) {
  test(`embed demo (${lang}): the question, its 0..10 radio group, end labels, languages and Close`, async () => {
    const { context, page } = await newPage();
    try {
      await openEmbed(page, lang);
      const ax = await waitAx(page, (t) => npsProblem(t, lang, { close: true }));
      // The mirror says which language it speaks; each language's button speaks its own.
      assert.equal(await page.evaluate(() => document.querySelector('.canvass-sem').lang), lang);
      assert.equal(await page.evaluate(() => document.querySelector('[data-canvass-item="lang:uk"]').lang), 'uk');
      // The language in use is the pressed one.
      const pressed = ax.all('button').filter((n) => ax.prop(n, 'pressed') === 'true').map(ax.name);
      assert.deepEqual(pressed, [{ en: 'English', uk: 'Українська' }[lang]]);
      // The new screen was announced through the live region.
      const live = await page.evaluate(() => document.querySelector('[aria-live=polite]').textContent);
      assert.equal(live, `${{ en: 'Question', uk: 'Питання' }[lang]} 1 ${{ en: 'of', uk: 'з' }[lang]} 2: ${TEXT[lang]}`);
      // The DOM changes only when the tree does: the pointer moving over the 0..10 row redraws the
      // canvas (hover) many times, and the mirror not once.
      await page.evaluate(() => {
        window.mutations = 0;
        new MutationObserver((list) => { window.mutations += list.length; })
          .observe(document.querySelector('.canvass-sem'), { subtree: true, childList: true, attributes: true, characterData: true });
      });
      const row = await page.evaluate(() => {
        const r = document.querySelector('[data-canvass-item="nps:0"]').getBoundingClientRect();
        const e = document.querySelector('[data-canvass-item="nps:10"]').getBoundingClientRect();
        return { x0: r.left + 5, x1: e.right - 5, y: r.top + r.height / 2 };
      });
      for (let i = 0; i <= 20; i++) {
        await page.mouse.move(row.x0 + ((row.x1 - row.x0) * i) / 20, row.y);
        await sleep(25);
      }
      await sleep(300);
      assert.equal(await page.evaluate(() => window.mutations), 0, 'the mirror changed while the tree did not');
      // Each update of the mirror counts itself on its root (data-renders): a few for the whole
      // page so far, not one a frame.
      const renders = Number(await page.evaluate(() => document.querySelector('.canvass-sem').dataset.renders));
      assert.ok(renders >= 1 && renders <= 10, `the mirror was updated ${renders} times`);
    } finally {
      await context.close();
    }
  });
}

test('embed demo: element.click() on the mirrored radio answers once; Close records it', async () => {
  const { context, page } = await newPage();
  try {
    const s = await openEmbed(page, 'en');
    await waitAx(page, (t) => npsProblem(t, 'en', { close: true }));
    await page.evaluate(() => document.querySelector('[data-canvass-item="nps:9"]').click());
    await waitState(page, (st) => st.question === 'reason', 'the reason question');
    // The reason's text field is the real <input>, named by its question.
    await waitAx(page, (t) => (t.all('textbox', 'Why that score?').length ? null : 'no textbox named by the question'));
    await page.evaluate(() => document.querySelector('[data-canvass-item="close"]').click());
    const closed = await waitState(page, (st) => st.screen === 'closed', 'the closed widget');
    assert.equal(closed.outcome, 'declined');
    await page.evaluate(() => window.handle.sync());
    const mine = await exportedFor(s.device_id);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(mine[0].answers.recommend, 9);
    assert.equal(mine[0].outcome, 'declined');
  } finally {
    await context.close();
  }
});

test('kiosk: attract and question screens in the accessibility tree; Space on a focused radio answers once', async () => {
  const { context, page } = await newPage();
  try {
    const s = await openKiosk(page, 'en');
    await waitAx(page, (t) => {
      if (!t.all('heading', 'Your opinion').length) return 'no title heading';
      if (!t.all('button', 'Start').length) return 'no Start button';
      for (const l of LANGUAGES) if (!t.all('button', l).length) return `no language button '${l}'`;
      return null;
    });
    // Start through the mirror, with Enter on the focused button.
    await page.focus('[data-canvass-item="start"]');
    await page.keyboard.press('Enter');
    await waitState(page, (st) => st.question === 'recommend', 'the NPS question');
    await waitAx(page, (t) => npsProblem(t, 'en', { close: false }));
    // Arrow keys move between the radios without answering; Space answers.
    await page.focus('[data-canvass-item="nps:6"]');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.canvassItem), 'nps:7');
    // The focus is visible: the canvas draws its ring on the focused mirror item.
    await waitState(page, (st) => st.focus === 'nps:7', 'the focus ring on nps:7');
    assert.equal((await state(page)).question, 'recommend', 'an arrow key must not answer');
    await page.keyboard.press('Space');
    await waitState(page, (st) => st.question === 'reason', 'the reason question');
    // The focus went on to the new screen's heading, not to the top of the page.
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Why that score?');
    await page.evaluate(() => document.querySelector('[data-canvass-item="next"]').click());
    const done = await waitState(page, (st) => st.screen === 'thanks', 'the thank-you screen');
    assert.equal(done.outcome, 'completed');
    await page.evaluate(() => window.handle.sync());
    const mine = await exportedFor(s.device_id);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(mine[0].answers.recommend, 7);
    assert.equal(mine[0].outcome, 'completed');
  } finally {
    await context.close();
  }
});

test('kiosk in Ukrainian: the question screen reads in Ukrainian', async () => {
  const { context, page } = await newPage();
  try {
    await openKiosk(page, 'uk');
    await waitAx(page, (t) => (t.all('button', 'Почати').length ? null : 'no Start button in Ukrainian'));
    await page.evaluate(() => document.querySelector('[data-canvass-item="start"]').click());
    await waitState(page, (st) => st.question === 'recommend', 'the NPS question');
    await waitAx(page, (t) => npsProblem(t, 'uk', { close: false }));
    assert.equal(await page.evaluate(() => document.querySelector('.canvass-sem').lang), 'uk');
  } finally {
    await context.close();
  }
});

// axe-core's WCAG 2.1 A and AA rules on the page as it is now; fails listing each violation with
// the elements it found.
async function assertNoAxeViolations(page, what) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.map((v) => ({
      id: v.id, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

for (const lang of ['en', 'uk']) {
  test(`axe-core: no WCAG 2.1 A/AA violations on the embed demo and the kiosk (${lang})`, async () => {
    const { context, page } = await newPage();
    try {
      await openEmbed(page, lang);
      await waitAx(page, (t) => npsProblem(t, lang, { close: true }));
      await assertNoAxeViolations(page, `embed demo, ${lang}, first question`);
    } finally {
      await context.close();
    }
    // The kiosk in a context of its own: the embed's device log (same origin) must not be reused.
    const { context: kioskContext, page: kiosk } = await newPage();
    try {
      const page = kiosk;
      await openKiosk(page, lang);
      await waitAx(page, (t) => (t.all('button', { en: 'Start', uk: 'Почати' }[lang]).length ? null : 'no Start button'));
      await assertNoAxeViolations(page, `kiosk, ${lang}, attract screen`);
      await page.evaluate(() => document.querySelector('[data-canvass-item="start"]').click());
      await waitState(page, (st) => st.question === 'recommend', 'the NPS question');
      await waitAx(page, (t) => npsProblem(t, lang, { close: false }));
      await assertNoAxeViolations(page, `kiosk, ${lang}, NPS question`);
      await page.evaluate(() => document.querySelector('[data-canvass-item="nps:3"]').click());
      await waitState(page, (st) => st.question === 'reason', 'the reason question');
      await waitAx(page, (t) => (t.all('textbox').length ? null : 'no textbox'));
      await assertNoAxeViolations(page, `kiosk, ${lang}, text question`);
    } finally {
      await kioskContext.close();
    }
  });
}

test('kiosk: a validation message is announced, the group marked invalid; checkboxes and radios answer', async () => {
  const { context, page } = await newPage();
  try {
    const s = await openKiosk(page, 'en', 'a11y-choice');
    await page.evaluate(() => document.querySelector('[data-canvass-item="start"]').click());
    await waitState(page, (st) => st.question === 'visit', 'the choice question');
    await waitAx(page, (t) => {
      const group = t.all('radiogroup', 'When did you come?');
      if (group.length !== 1) return 'no radiogroup named by the question';
      const names = t.descendants(group[0]).filter((n) => t.role(n) === 'radio').map(t.name);
      return JSON.stringify(names) === '["Lunch","Dinner"]' ? null : `radios ${JSON.stringify(names)}`;
    });
    // Next with nothing chosen: the message goes to the alert region, the group is invalid.
    await page.evaluate(() => document.querySelector('[data-canvass-item="next"]').click());
    const invalid = await waitState(page, (st) => st.error !== '', 'the validation message');
    assert.equal(invalid.question, 'visit');
    await waitAx(page, (t) => {
      const alert = t.all('alert')[0];
      const text = alert ? t.descendants(alert).filter((n) => t.role(n) === 'StaticText').map(t.name).join('') : '';
      if (text !== invalid.error) return `alert region says '${text}', not '${invalid.error}'`;
      const group = t.all('radiogroup', 'When did you come?')[0];
      return t.prop(group, 'invalid') === 'true' ? null : 'the radiogroup is not invalid';
    });
    await page.evaluate(() => document.querySelector('[data-canvass-item="choice:dinner"]').click());
    await waitAx(page, (t) => (t.all('radio', 'Dinner').some((n) => t.prop(n, 'checked') === 'true')
      ? null : 'Dinner is not checked'));
    await page.evaluate(() => document.querySelector('[data-canvass-item="next"]').click());
    await waitState(page, (st) => st.screen === 'thanks', 'the thank-you screen');
    await page.evaluate(() => window.handle.sync());
    const mine = await exportedFor(s.device_id);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.deepEqual(mine[0].answers.visit, ['dinner']);
  } finally {
    await context.close();
  }
});

test('prefers-contrast: more draws the high-contrast theme, and follows the setting live', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, contrast: 'more' });
  const page = await context.newPage();
  try {
    await openEmbed(page, 'en');
    assert.equal((await state(page)).theme, 'high-contrast');
    await waitAx(page, (t) => npsProblem(t, 'en', { close: true }));
    await assertNoAxeViolations(page, 'embed demo, high contrast');
    await page.emulateMedia({ contrast: 'no-preference' });
    await waitState(page, (st) => st.theme === 'standard', 'the standard theme');
    await page.emulateMedia({ contrast: 'more' });
    await waitState(page, (st) => st.theme === 'high-contrast', 'the high-contrast theme again');
    await page.screenshot({ path: path.join(repoRoot, 'tests/artifacts/embed-high-contrast.png') });
  } finally {
    await context.close();
  }
});

// Every item a finger can press is at least 44 x 44 CSS px (WCAG 2.5.5's size, which the design
// asks for: DESIGN.md §8), on the screens a customer sees.
async function assertTargets(page, what) {
  const items = await page.evaluate(() => window.handle.items());
  assert.ok(items.length > 0, `${what}: no items`);
  const small = items.filter((i) => !i.id.startsWith('field:') && (i.w < 43.95 || i.h < 43.95));
  assert.deepEqual(small.map((i) => `${i.id} ${i.w}x${i.h}`), [], `${what}: targets under 44 CSS px`);
}

test('touch targets are at least 44 CSS px on the customer\'s screens (embed and kiosk)', async () => {
  const { context, page } = await newPage();
  try {
    await openEmbed(page, 'uk');
    await assertTargets(page, 'embed, 0..10 question');
    await page.evaluate(() => document.querySelector('[data-canvass-item="nps:4"]').click());
    await waitState(page, (st) => st.question === 'reason', 'the reason question');
    await assertTargets(page, 'embed, text question');
  } finally {
    await context.close();
  }
  const { context: kioskContext, page: kiosk } = await newPage();
  try {
    await openKiosk(kiosk, 'en', 'a11y-choice');
    await assertTargets(kiosk, 'kiosk, attract');
    await kiosk.evaluate(() => document.querySelector('[data-canvass-item="start"]').click());
    await waitState(kiosk, (st) => st.question === 'visit', 'the choice question');
    await assertTargets(kiosk, 'kiosk, choice question');
  } finally {
    await kioskContext.close();
  }
});
