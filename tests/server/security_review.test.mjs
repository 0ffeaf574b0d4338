// The second security review's findings (docs/security.md, "Review 2"), each reproduced against a
// real canvass-server and asserted to fail now, with exact counts: records stored, cases opened,
// cache entries, quarantine bytes. The location rule runs on SQLite and on a real PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, startPostgres, cleanup, enrolledDevice, restaurantAnswers, assertRefused, countFor,
  describeResponse, describeRun, request, metricSum, tempDir, until, RESTAURANT,
} from './harness.mjs';
import * as wire from './wire.mjs';

const WEB_ORIGIN = 'https://shop.example';
let pg;

before(async () => { pg = await startPostgres(); }, { timeout: 120000 });
after(async () => {
  await pg?.stop();
  await cleanup();
});

// A device made here (wire.mjs): it signs whatever records a test wants, as a hostile device
// would. `web`: enrolled through the public web channel.
async function jsDevice(server, { location = 'Kyiv-Podil', web = false } = {}) {
  const key = wire.newDeviceKey();
  const body = JSON.stringify({
    protocol: 1, public_key: key.publicRaw.toString('hex'),
    ...(web ? {} : { code: await server.enrollCode(location) }),
  });
  const res = await server.fetch(web ? '/v1/web/enroll' : '/v1/enroll', {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', ...(web ? { Origin: WEB_ORIGIN } : {}) },
  });
  assert.equal(res.status, 200, describeResponse(res));
  const bundle = res.json.bundles.find((b) => b.survey_id === 'restaurant');
  return {
    id: res.json.device_id, location: res.json.location, key, seq: 0, head: wire.ZERO_HASH,
    version: bundle ? Buffer.from(bundle.version, 'hex') : crypto.randomBytes(32),
  };
}

// The envelopes of n records after the device's head (the head moves on unless `fork`).
function records(d, n, over = {}, { fork = false, from } = {}) {
  let seq = from ? from.seq : d.seq;
  let head = from ? from.head : d.head;
  const out = [];
  for (let i = 0; i < n; i++) {
    const rec = {
      surveyId: 'restaurant', surveyVersion: d.version, deviceId: d.id, seq: seq + 1, prevHash: head,
      deviceTimeMs: Date.now(), outcome: 'completed', answers: restaurantAnswers(seq), tags: {}, ...over,
    };
    const bytes = wire.encodeRecord(rec);
    out.push(wire.signRecord(bytes, d.key.privateKey));
    seq += 1;
    head = wire.hash256(bytes);
  }
  if (!fork) Object.assign(d, { seq, head });
  return out;
}

const push = (server, d, envelopes, opts = {}) => request(`${server.url}/v1/records`, {
  method: 'POST', headers: { 'Content-Type': 'application/octet-stream' },
  body: wire.buildBatch({ deviceId: d.id, envelopes }), ...opts,
});

// A detractor who asked to be called back: a case, unless the record is refused.
const detractor = (i) => ({
  answers: { ...restaurantAnswers(i), recommend: 2, contact: { consent: true } },
  sealedContact: crypto.randomBytes(64),
});

async function casesOf(server, deviceId) {
  const r = await server.mustAdmin('GET', '/v1/admin/cases?limit=1000');
  return r.json.cases.filter((c) => c.id.startsWith(`${deviceId}.`));
}

function rssKiB(server) {
  const status = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]);
}

// ---------------------------------------------------------------------------------------------
// Finding 2: a device chose its location.

async function locationRule(server, what) {
  const kiosk = await jsDevice(server, { location: 'Kyiv-Podil' });
  // Tagged with another location: refused, nothing stored, no case.
  const forged = await push(server, kiosk, records(kiosk, 1, { ...detractor(1), tags: { location: 'Lviv-Center' } }, { fork: true }));
  assertRefused(forged, 403, /location 'Lviv-Center'.*enrolled for 'Kyiv-Podil'/, `${what} forged location:`);
  // The same detractor without the tag, and one tagged with its own location: stored, at Kyiv.
  const honest = await push(server, kiosk, [
    ...records(kiosk, 1, detractor(2)),
    ...records(kiosk, 1, { ...detractor(3), tags: { location: 'Kyiv-Podil', staff: 'olena' } }),
  ]);
  assert.equal(honest.status, 200, `${what} ${describeResponse(honest)}`);
  const exported = await server.exportRecords();
  assert.equal(countFor(exported, kiosk.id), 2, `${what} exactly the two honest records are stored`);
  for (const r of exported.filter((x) => x.device === kiosk.id)) {
    assert.equal(r.tags.location, 'Kyiv-Podil', `${what} exported at the device's location`);
    assert.equal(r.tags.channel, 'kiosk', `${what} exported with the device's channel`);
  }
  const cases = await until(async () => {
    const c = await casesOf(server, kiosk.id);
    return c.length === 2 ? c : null;
  }, `${what} two cases`);
  assert.deepEqual(cases.map((c) => c.location), ['Kyiv-Podil', 'Kyiv-Podil'], `${what} cases at the device's location`);
  // Each case is an event in the log, once (docs/operations.md, Logs), without contact details.
  const opened = await until(() => {
    const lines = server.stdout.split('\n').filter((l) => l.includes('msg="case opened"') && l.includes(kiosk.id));
    return lines.length === 2 ? lines : null;
  }, `${what} two "case opened" lines`);
  for (const l of opened) assert.match(l, /level=info .*location=Kyiv-Podil .*score=2/);

  // A survey published for Lviv only is refused from Kyiv (before: stored and counted at Lviv).
  const lvivOnly = fs.readFileSync(RESTAURANT, 'utf8').replace('"id": "restaurant"', '"id": "lviv-only"');
  assert.notEqual(lvivOnly, fs.readFileSync(RESTAURANT, 'utf8'));
  await server.mustAdmin('POST', '/v1/admin/surveys?locations=Lviv-Center', lvivOnly, 201);
  const elsewhere = await push(server, kiosk, records(kiosk, 1, { surveyId: 'lviv-only' }, { fork: true }));
  assertRefused(elsewhere, 403, /survey 'lviv-only' is not published for location 'Kyiv-Podil'/, `${what} survey of another location:`);

  // The web channel: its records are at the web channel's location, whatever the page says.
  const web = await jsDevice(server, { web: true });
  assert.equal(web.location, 'web');
  const page = await push(server, web, records(web, 1, { ...detractor(4), tags: { location: 'Lviv-Center', channel: 'kiosk' } }, { fork: true }));
  assertRefused(page, 403, /location 'Lviv-Center'/, `${what} web page's location:`);
  const plain = await push(server, web, records(web, 1, { tags: { channel: 'kiosk', segment: 'new' } }));
  assert.equal(plain.status, 200, `${what} ${describeResponse(plain)}`);
  const webRecords = (await server.exportRecords()).filter((x) => x.device === web.id);
  assert.equal(webRecords.length, 1);
  assert.deepEqual(webRecords[0].tags, { channel: 'web', location: 'web', segment: 'new' },
    `${what} a web record is counted at the web channel's location and channel`);
  // The statistics the dashboard reads hold no cell at Lviv-Center.
  const stats = await server.mustAdmin('GET', '/v1/admin/report?survey=restaurant&by=location&format=json');
  assert.ok(!stats.text.includes('Lviv-Center'), `${what} no figures at Lviv-Center: ${stats.text.slice(0, 400)}`);
  assert.equal(metricSum(await server.metrics(), 'canvass_records_refused_total') >= 3, true);
}

test('a device never chooses its location (SQLite)', async () => {
  const server = await startServer({ publish: [RESTAURANT], webOrigins: [WEB_ORIGIN] });
  try {
    await locationRule(server, 'sqlite:');
  } finally {
    await server.stop();
  }
});

test('a device never chooses its location (PostgreSQL)', async () => {
  const server = await startServer({ db: pg.url, publish: [RESTAURANT], webOrigins: [WEB_ORIGIN] });
  try {
    await locationRule(server, 'postgresql:');
  } finally {
    await server.stop();
  }
});

test('the CLI device refuses a location tag of another place, and imports only with --here', async () => {
  const server = await startServer({ publish: [RESTAURANT] });
  try {
    const device = await enrolledDevice(server, 'Kyiv-Podil');
    const r = await device.record(restaurantAnswers(1), { tags: { location: 'Lviv-Center' } });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /enrolled for 'Kyiv-Podil'.*enroll a device at 'Lviv-Center'/);
    const bad = await device.record(restaurantAnswers(1), { tags: { table: '5' } });
    assert.equal(bad.code, 1, describeRun(bad));
    assert.match(bad.stderr, /tag table: not a tag a device may be given \(allowed: segment, staff, receipt/);
    const file = path.join(tempDir('canvass-import-'), 'lines.jsonl');
    const line = (i, location) => JSON.stringify({
      survey: 'restaurant', time: '2026-11-22T10:00:00Z', outcome: 'completed',
      tags: { location, channel: 'web', staff: 'olena' }, answers: restaurantAnswers(i),
    });
    fs.writeFileSync(file, `${line(1, 'Kyiv-Podil')}\n${line(2, 'Lviv-Center')}\n`);
    const refused = await device.cli(['import', '--survey', 'restaurant', '--input', file]);
    assert.equal(refused.code, 1, describeRun(refused));
    assert.match(refused.stderr, /lines\.jsonl:2: .*location=Lviv-Center.*--here/);
    await device.mustCli(['import', '--here', '--survey', 'restaurant', '--input', file]);
    await device.mustPush();
    const mine = (await server.exportRecords()).filter((x) => x.device === device.id);
    assert.equal(mine.length, 2);
    for (const rec of mine) assert.deepEqual(rec.tags, { channel: 'kiosk', location: 'Kyiv-Podil', staff: 'olena' });
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Finding 3: anyone could block a device's sync by naming it.

test('junk batches naming a device neither spend its budget nor fill the limiter', async () => {
  const server = await startServer({ publish: [RESTAURANT] });
  try {
    const device = await enrolledDevice(server, 'Kyiv-Podil');
    const victim = { id: device.id };
    // 601 unsigned batches naming the real device, from another client (127.0.0.2): before, they
    // used the device's 600 a minute and its next honest push got 429.
    const junk = wire.buildBatch({ deviceId: victim.id, envelopes: [crypto.randomBytes(120)] });
    const statuses = new Map();
    for (let i = 0; i < 601; i++) {
      const r = await server.postRecords(junk, { from: '127.0.0.2' });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    assert.deepEqual([...statuses].sort(), [[400, 600], [429, 1]],
      'the address is refused after 600 refused pushes in a minute');
    // 2,000 made-up device ids from a third client: before, each took a slot of the table.
    for (let i = 0; i < 200; i++) {
      const made = wire.buildBatch({ deviceId: `dev-made-up-${i}`, envelopes: [crypto.randomBytes(64)] });
      await server.postRecords(made, { from: '127.0.0.3' });
    }
    // The device, from its own address, pushes at once.
    await device.mustRecord(restaurantAnswers(1));
    await device.mustRecord(restaurantAnswers(2));
    await device.mustPush();
    assert.equal(countFor(await server.exportRecords(), device.id), 2);
    // A new device enrolls and pushes too.
    const newcomer = await enrolledDevice(server, 'Kyiv-Podil');
    await newcomer.mustRecord(restaurantAnswers(3));
    await newcomer.mustPush();
    assert.equal(countFor(await server.exportRecords(), newcomer.id), 1);
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Finding 1: static files grew memory without limit, served past NUL and out of the folder.

test('static files: one spelling per file, no NUL, no symlink out of the folder, a bounded cache', async () => {
  const site = tempDir('canvass-site-');
  fs.mkdirSync(path.join(site, 'dashboard'));
  fs.writeFileSync(path.join(site, 'dashboard', 'index.html'), `<!doctype html><title>x</title>${'<p>dashboard</p>'.repeat(200)}`);
  fs.writeFileSync(path.join(site, 'canvass.js'), `// loader\n${'console.log("canvass");\n'.repeat(400)}`);
  const outside = path.join(tempDir('canvass-outside-'), 'secret.txt');
  fs.writeFileSync(outside, 'not for the web');
  fs.symlinkSync(outside, path.join(site, 'leak.txt'));
  fs.symlinkSync(path.join(site, 'canvass.js'), path.join(site, 'alias.js'));
  const server = await startServer({ extraArgs: ['--static', site] });
  try {
    const get = (raw) => request(server.url, { rawPath: raw, headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal((await get('/canvass.js')).status, 200);
    assert.equal((await get('/dashboard/')).status, 200);
    assert.equal((await get('/alias.js')).status, 200, 'a symlink inside the folder is served');
    const nul = await get('/dashboard/index.html%00.png');
    assert.equal(nul.status, 404, `NUL: ${describeResponse(nul)}`);
    assert.ok(!nul.text.includes('dashboard</p>'));
    assert.equal((await get('/leak.txt')).status, 404, 'a symlink out of the folder is not followed');
    for (const spelling of ['/./canvass.js', '//canvass.js', '/dashboard//index.html', '/x/../canvass.js', '/canvass.js/.', '/dashboard/.']) {
      assert.equal((await get(spelling)).status, 404, spelling);
    }
    // 3,000 distinct spellings (before: each a cache entry and a level-9 gzip; 60,000 took 400 MB).
    const before = rssKiB(server);
    for (let i = 0; i < 3000; i++) await get(`/${'./'.repeat(1 + (i % 50))}${'/'.repeat(i % 7)}canvass.js`);
    const grown = rssKiB(server) - before;
    const cached = metricSum(await server.metrics(), 'canvass_static_cache_files');
    assert.equal(cached, 3, 'one cache entry per file served gzipped (canvass.js, alias.js, dashboard/index.html)');
    // Under AddressSanitizer (the asan build's run of this suite) freed memory waits in ASan's
    // quarantine, so RSS says nothing there; the cache count above is the bound in every build.
    if (!/\/asan\//.test(process.env.CANVASS_BIN_DIR ?? '')) {
      assert.ok(grown < 8 * 1024, `RSS grew ${grown} KiB over 3,000 requests`);
    }
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Finding 4: formulas in the CSV export.

test('the CSV export neutralises formulas; JSON Lines keeps the text as it is', async () => {
  const server = await startServer({ publish: [RESTAURANT] });
  try {
    const device = await enrolledDevice(server, 'Kyiv-Podil');
    const formula = '=HYPERLINK("http://evil.example","click")';
    await device.mustRecord({ ...restaurantAnswers(1), reason: formula }, { tags: { staff: '@SUM(1+1)' } });
    await device.mustRecord({ ...restaurantAnswers(2), reason: '-1 plus tab' }, { tags: { staff: '+olena' } });
    await device.mustPush();
    const csv = (await server.mustAdmin('GET', '/v1/admin/export?format=csv')).text;
    assert.ok(csv.includes(`"'=HYPERLINK(""http://evil.example"",""click"")"`), csv);
    assert.ok(csv.includes("'@SUM(1+1)") && csv.includes("'+olena") && csv.includes("'-1 plus tab"), csv);
    assert.ok(!/(^|,)[=+@]/m.test(csv), `no cell starts a formula:\n${csv}`);
    const jsonl = await server.exportRecords();
    assert.ok(jsonl.some((r) => r.answers.reason === formula), 'JSON Lines unchanged');
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Finding 5: sessions could not be ended.

test('logout ends the session; a password change needs the current one and ends the others', async () => {
  const server = await startServer({ publish: [RESTAURANT] });
  try {
    const pw = 'correct horse battery staple';
    await server.mustAdmin('POST', '/v1/admin/password', { password: pw }, 204);
    const login = async (password = pw) => {
      const r = await server.admin('POST', '/v1/admin/login', { password }, { token: null });
      assert.equal(r.status, 200, describeResponse(r));
      return r.json.token;
    };
    const me = (token) => server.admin('GET', '/v1/admin/me', undefined, { token });
    const a = await login();
    const b = await login();
    assert.equal((await me(a)).status, 200);
    assert.equal((await server.admin('POST', '/v1/admin/logout', undefined, { token: a })).status, 204);
    assertRefused(await me(a), 401, null, 'after logout:');
    assert.equal((await me(b)).status, 200, 'another session goes on');

    const next = 'a new password, long enough';
    assertRefused(await server.admin('POST', '/v1/admin/password', { password: next }, { token: b }), 401, /current_password/, 'no current password:');
    assertRefused(await server.admin('POST', '/v1/admin/password', { password: next, current_password: 'wrong one!!' }, { token: b }), 401, /wrong/, 'wrong current password:');
    const c = await login();
    const changed = await server.admin('POST', '/v1/admin/password', { password: next, current_password: pw }, { token: b });
    assert.equal(changed.status, 204, describeResponse(changed));
    assert.equal((await me(b)).status, 200, 'the session that changed it goes on');
    assertRefused(await me(c), 401, null, 'another session of the account after the change:');
    await login(next);
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Finding 7: the initial admin token went to stdout (the journal, under systemd).

test('the initial admin token is written to its file only; its path is printed', async () => {
  const server = await startServer({});
  try {
    const token = server.token;
    assert.ok(token.length >= 32);
    assert.ok(!server.stdout.includes(token) && !server.stderr.includes(token), 'the token is not printed');
    assert.ok(server.stdout.includes(path.join(server.dataDir, 'initial-admin-token')), server.stdout);
    assert.equal(fs.statSync(path.join(server.dataDir, 'initial-admin-token')).mode & 0o777, 0o600);
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Finding 8: an anonymous web device could fill the disk through the quarantine.

test('the quarantine is bounded per device and in all', async () => {
  // 40 KiB a device, 60 KiB in all; each forked batch below holds 5 records of ~4.3 KiB.
  const server = await startServer({ publish: [RESTAURANT], webOrigins: [WEB_ORIGIN], extraArgs: ['--quarantine-kb', '40,60'] });
  try {
    const big = (i) => ({ answers: { ...restaurantAnswers(i), reason: `${i} ${'x'.repeat(4000)}` } });
    const forker = async () => {
      const d = await jsDevice(server, { web: true });
      const start = { seq: d.seq, head: d.head };
      assert.equal((await push(server, d, records(d, 1))).status, 200);
      return { d, start };
    };
    const fork = async ({ d, start }, i) => {
      const envelopes = records(d, 5, big(i), { fork: true, from: start });
      const r = await push(server, d, envelopes);
      return { r, bytes: envelopes.reduce((n, e) => n + e.length, 0) };
    };
    const one = await forker();
    const kept = [];
    for (let i = 0; i < 4; i++) {
      const { r, bytes } = await fork(one, i);
      assertRefused(r, 409, /fork|conflict|differ/i, `fork ${i}:`);
      kept.push(/quarantine is full/.test(r.json.message) ? 0 : bytes);
    }
    const each = kept[0];
    assert.ok(each > 20000 && each < 24000, `a forked batch is ~21.5 KiB (${each})`);
    assert.deepEqual(kept, [each, 0, 0, 0], 'one batch fits the 40 KiB of a device, the next do not');
    const two = await forker();
    const second = await fork(two, 10);
    assert.ok(!/quarantine is full/.test(second.r.json.message), 'a second device still has room in all');
    const three = await forker();
    const third = await fork(three, 20);
    assert.match(third.r.json.message, /quarantine is full/, 'past 60 KiB in all nothing more is kept');
    const rows = await server.quarantine();
    assert.equal(rows.length, 10, 'exactly two batches of five records are in quarantine');
    assert.equal(metricSum(await server.metrics(), 'canvass_records_refused_total') >= 5, true);
    assert.equal(server.stderr.split('quarantine full').length - 1, 1, `logged once a minute:\n${server.stderr}`);
  } finally {
    await server.stop();
  }
});
