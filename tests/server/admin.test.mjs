// The admin API and `canvass admin` against a real canvass-server with SQLite: tokens, survey
// publishing, devices, exports (JSON Lines and CSV), quarantine, /healthz and /metrics, passwords.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, cleanup, enrolledDevice, restaurantAnswers, assertRefused, assertExactlySeqs, cli,
  describeRun, describeResponse, metricSum, tempDir, freePort, RESTAURANT, parseJsonl, run, binary,
} from './harness.mjs';
import * as wire from './wire.mjs';

let server;
const restaurantVersion = wire.hash256(fs.readFileSync(RESTAURANT)).toString('hex');

before(async () => {
  server = await startServer({ publish: [RESTAURANT] });
});

after(async () => {
  if (server) await server.stop();
  await cleanup();
});

function writeJson(obj, name = 'survey.json') {
  const file = path.join(tempDir('canvass-survey-'), name);
  fs.writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2));
  return file;
}

function smallSurvey(over = {}) {
  return {
    format: 'canvass.survey/1', id: 'admin-test', revision: 1, languages: ['en', 'ru'],
    title: { en: 'Quick question', ru: 'Быстрый вопрос' },
    questions: [
      { id: 'recommend', kind: 'nps', text: { en: 'Would you recommend us?', ru: 'Порекомендуете нас?' } },
      { id: 'reason', kind: 'text', required: false, text: { en: 'Why?', ru: 'Почему?' } },
    ],
    ...over,
  };
}

// ---------------------------------------------------------------------------------------------

test('the server says where it listens, answers /healthz, and keeps the admin token private', async () => {
  assert.match(server.stdout, new RegExp(`listening on http://127\\.0\\.0\\.1:${server.port}\\b`), `stdout: ${server.stdout}`);
  const h = await server.fetch('/healthz');
  assert.equal(h.status, 200, describeResponse(h));
  assert.equal(h.json.status, 'ok', h.text);
  assert.equal(h.json.store, 'sqlite', h.text);
  const tokenFile = path.join(server.dataDir, 'initial-admin-token');
  assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600, 'initial-admin-token must be mode 0600');
  assert.ok(server.token.length >= 16, 'the admin token is long enough to be a secret');
});

test('admin calls without a token or with a wrong one are refused (401)', async () => {
  const calls = [
    ['GET', '/v1/admin/devices'], ['GET', '/v1/admin/export'], ['GET', '/v1/admin/export?format=csv'],
    ['GET', '/v1/admin/quarantine'], ['GET', '/v1/admin/surveys'],
    ['POST', '/v1/admin/enroll-codes', { location: 'X', channel: 'kiosk', ttl_hours: 1 }],
    ['POST', '/v1/admin/surveys', smallSurvey({ id: 'never-published' })],
    ['POST', '/v1/admin/devices/dev-x/revoke'],
  ];
  const wrong = server.token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'));
  for (const [method, p, body] of calls) {
    assertRefused(await server.admin(method, p, body, { token: null }), 401, null, `${method} ${p} without a token:`);
    assertRefused(await server.admin(method, p, body, { token: wrong }), 401, null, `${method} ${p} with a wrong token:`);
    assertRefused(await server.admin(method, p, body, { token: '' }), 401, null, `${method} ${p} with an empty token:`);
  }
  const basic = await server.fetch('/v1/admin/devices', { headers: { Authorization: `Basic ${server.token}` } });
  assertRefused(basic, 401, null, 'not a Bearer token:');
  const surveys = await server.mustAdmin('GET', '/v1/admin/surveys');
  assert.ok(!surveys.json.surveys.some((s) => s.survey_id === 'never-published'), 'nothing was published without a token');
  const r = await cli(['admin', '--server', server.url, '--token', wrong, 'devices']);
  assert.equal(r.code, 1, `CLI with a wrong token: exit 1\n${describeRun(r)}`);
  assert.match(r.stderr, /401/, describeRun(r));
});

test('the test clock is not there without --test-clock (404, time unmoved), nor in a --config file', async () => {
  const before = Date.now();
  const r = await server.admin('POST', '/v1/test/clock', { advance_ms: 86400000 });
  assertRefused(r, 404, /no endpoint POST \/v1\/test\/clock/, 'without --test-clock:');
  // The server's time is still the real one: a code for 1 hour expires an hour from now, not a day.
  const code = await server.mustAdmin('POST', '/v1/admin/enroll-codes', { location: 'Kyiv-Podil', ttl_hours: 1 }, 201);
  assert.ok(code.json.expires_ms <= Date.now() + 3600000 + 1000, code.text);
  assert.ok(code.json.expires_ms >= before + 3600000 - 1000, code.text);
  const conf = writeJson('test-clock = on\n', 'canvass.conf');
  await assert.rejects(startServer({ extraArgs: ['--config', conf] }), /unknown key 'test-clock'/);
  const help = await run(binary('canvass-server'), ['--help']);
  assert.match(help.stdout, /--test-clock +TEST ONLY/, 'the help says it is for tests');
});

test('admin answers carry Cache-Control: no-store', async () => {
  for (const p of ['/v1/admin/devices', '/v1/admin/export', '/v1/admin/quarantine', '/v1/admin/surveys']) {
    const r = await server.mustAdmin('GET', p);
    assert.match(String(r.headers['cache-control']), /no-store/, `${p}: Cache-Control ${r.headers['cache-control']}`);
  }
});

test('publish refuses an invalid survey with a message naming the field, and publishes nothing', async () => {
  const badKind = smallSurvey({ id: 'bad-kind' });
  badKind.questions[0].kind = 'npx';
  const noTitle = smallSurvey({ id: 'no-title' });
  delete noTitle.title;
  const typo = smallSurvey({ id: 'typo' });
  typo.questions[1].requried = true;
  const badShowIf = smallSurvey({ id: 'bad-show-if' });
  badShowIf.questions[1].show_if = { question: 'nosuch', equals: 3 };
  const cases = [
    [badKind, /questions\[0\]\.kind/],
    [noTitle, /title/],
    [typo, /requried/],
    [badShowIf, /questions\[1\]\.show_if/],
    ['{"format": "canvass.survey/1", "id": ', /JSON|byte|parse/i],
  ];
  for (const [survey, field] of cases) {
    const body = typeof survey === 'string' ? survey : JSON.stringify(survey);
    assertRefused(await server.admin('POST', '/v1/admin/surveys', body), 400, field, `publish ${body.slice(0, 60)}:`);
    const r = await server.adminCli(['publish', writeJson(survey)]);
    assert.equal(r.code, 1, `CLI publish of an invalid survey: exit 1\n${describeRun(r)}`);
    assert.match(r.stderr, field, describeRun(r));
  }
  const list = (await server.mustAdmin('GET', '/v1/admin/surveys')).json.surveys;
  for (const id of ['bad-kind', 'no-title', 'typo', 'bad-show-if']) {
    assert.ok(!list.some((s) => s.survey_id === id), `${id} must not be published`);
  }
});

test('publish lists every version, limits a survey to its locations, and old versions stay accepted', async () => {
  const v1File = writeJson(smallSurvey(), 'v1.json');
  const v1 = wire.hash256(fs.readFileSync(v1File)).toString('hex');
  await server.mustAdminCli(['publish', v1File, '--locations', 'Shop-1,Shop-2']);
  let list = (await server.mustAdmin('GET', '/v1/admin/surveys')).json.surveys;
  const mine = list.filter((s) => s.survey_id === 'admin-test');
  assert.equal(mine.length, 1, JSON.stringify(list));
  assert.equal(mine[0].version, v1, 'the version is BLAKE2b-256 of the published bytes');
  assert.equal(mine[0].revision, 1);
  assert.ok(Number.isFinite(mine[0].published_ms));
  const rest = list.find((s) => s.survey_id === 'restaurant');
  assert.equal(rest?.version, restaurantVersion, JSON.stringify(list));

  const inShop = await enrolledDevice(server, 'Shop-2');
  const elsewhere = await enrolledDevice(server, 'Kyiv-Podil');
  const ids = async (d) => (await server.fetch(`/v1/surveys?device=${d.id}`)).json.bundles.map((b) => b.survey_id);
  assert.ok((await ids(inShop)).includes('admin-test'), 'a device of Shop-2 gets the survey');
  assert.ok(!(await ids(elsewhere)).includes('admin-test'), 'a device elsewhere does not');
  assert.ok((await ids(elsewhere)).includes('restaurant'), 'a survey published for all locations reaches every device');
  const noSurvey = await elsewhere.record({ recommend: 5 }, { survey: 'admin-test' });
  assert.equal(noSurvey.code, 1, `a device cannot record a survey it was not given\n${describeRun(noSurvey)}`);

  await inShop.mustRecord({ recommend: 9, reason: 'версия 1' }, { survey: 'admin-test' });
  // Revision 2 is published while the device still holds a record made under revision 1.
  const v2File = writeJson(smallSurvey({ revision: 2, title: { en: 'One question', ru: 'Один вопрос' } }), 'v2.json');
  const v2 = wire.hash256(fs.readFileSync(v2File)).toString('hex');
  const r2 = await server.admin('POST', '/v1/admin/surveys?locations=Shop-1,Shop-2', fs.readFileSync(v2File));
  assert.equal(r2.status, 201, describeResponse(r2));
  assert.equal(r2.json.survey_id, 'admin-test');
  assert.equal(r2.json.version, v2);
  assert.equal(r2.json.revision, 2);
  list = (await server.mustAdmin('GET', '/v1/admin/surveys')).json.surveys.filter((s) => s.survey_id === 'admin-test');
  assert.deepEqual(list.map((s) => s.version).sort(), [v1, v2].sort(), 'both versions are listed');
  const bundles = (await server.fetch(`/v1/surveys?device=${inShop.id}`)).json.bundles.filter((b) => b.survey_id === 'admin-test');
  assert.deepEqual(bundles.map((b) => b.version), [v2], 'devices get the latest version only');
  await inShop.mustPush(); // fetches v2 and sends the v1 record
  await inShop.mustRecord({ recommend: 10 }, { survey: 'admin-test' });
  await inShop.mustPush();
  const recs = (await server.exportRecords()).filter((r) => r.device === inShop.id).sort((a, b) => a.seq - b.seq);
  assert.deepEqual(recs.map((r) => r.survey_version), [v1, v2], 'the old record is accepted under v1, the new one is v2');
});

test('devices lists every enrolled device with its location, channel, state and last seq', async () => {
  const d = await enrolledDevice(server, 'Lviv-Rynok');
  await d.recordMany(3, { tag: 'devlist' });
  await d.mustPush();
  const out = await server.mustAdminCli(['devices']);
  const list = JSON.parse(out.stdout).devices;
  const me = list.find((x) => x.device_id === d.id);
  assert.ok(me, `devices lists ${d.id}: ${out.stdout}`);
  assert.equal(me.location, 'Lviv-Rynok');
  assert.equal(me.channel, 'kiosk');
  assert.equal(me.web, false);
  assert.equal(me.revoked, false);
  assert.equal(me.last_seq, 3);
  assert.ok(Math.abs(me.enrolled_ms - Date.now()) < 3600e3, JSON.stringify(me));
  const viaHttp = await server.devices();
  assert.deepEqual(viaHttp.find((x) => x.device_id === d.id), me, 'CLI prints the server\'s JSON');
});

test('device lists come in pages (limit, after, next), and the CLI follows them', async () => {
  const mine = [];
  for (let i = 0; i < 3; i++) mine.push((await enrolledDevice(server, 'Odesa-Port')).id);
  const all = (await server.mustAdmin('GET', '/v1/admin/devices')).json;
  assert.equal(all.next, undefined, 'the default page (1000) holds them all: no next');
  const ids = all.devices.map((d) => d.device_id);
  assert.ok(ids.length >= 3);
  assert.deepEqual([...ids].sort(), ids, 'in device id order');
  const seen = [];
  let after = '';
  for (let pages = 0; ; pages++) {
    assert.ok(pages <= ids.length, 'paging ends');
    const page = (await server.mustAdmin('GET', `/v1/admin/devices?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`)).json;
    assert.ok(page.devices.length <= 2, 'at most limit devices');
    seen.push(...page.devices.map((d) => d.device_id));
    if (!page.next) break;
    assert.equal(page.next, page.devices.at(-1).device_id, 'next names the last device of the page');
    after = page.next;
  }
  assert.deepEqual(seen, ids, 'the pages together are the whole list, each device once');
  for (const bad of ['0', '10001', 'x', '-1', '2.5']) {
    assertRefused(await server.admin('GET', `/v1/admin/devices?limit=${bad}`), 400, /limit: 1 to 10000/, `limit=${bad}:`);
  }
  const cli = JSON.parse((await server.mustAdminCli(['devices'])).stdout).devices.map((d) => d.device_id);
  assert.deepEqual(cli, ids, 'the CLI lists every device');
  // Revocations page the same way.
  await server.mustAdmin('POST', `/v1/admin/devices/${mine[0]}/revoke`, undefined, 204);
  await server.mustAdmin('POST', `/v1/admin/devices/${mine[1]}/revoke`, undefined, 204);
  const revoked = [];
  for (let after = '', pages = 0; ; pages++) {
    assert.ok(pages < 100, 'revocation paging ends');
    const page = (await server.fetch(`/v1/revocations?limit=1${after ? `&after=${encodeURIComponent(after)}` : ''}`)).json;
    assert.ok(page.revoked.length <= 1);
    revoked.push(...page.revoked.map((r) => r.device_id));
    if (!page.next) break;
    after = page.next;
  }
  assert.ok(revoked.includes(mine[0]) && revoked.includes(mine[1]) && !revoked.includes(mine[2]),
    JSON.stringify(revoked));
  assert.equal(new Set(revoked).size, revoked.length, 'each revoked device once');
});

test('export as JSON Lines: one line per record, with the interchange fields', async () => {
  const d = await enrolledDevice(server, 'Kyiv-Podil');
  const a1 = { ...restaurantAnswers(1, 'exp'), reason: 'Долго ждали заказ — чекали 40 хвилин' };
  await d.mustRecord(a1, { time: '2026-11-22T10:00:00Z', tags: { staff: 'олена' } });
  await d.mustRecord({}, { outcome: 'declined', time: '2026-11-22T10:05:00.250Z' });
  await d.mustRecord({ recommend: 3 }, { outcome: 'partial' });
  await d.mustPush();

  const viaCli = parseJsonl((await server.mustAdminCli(['export', '--format', 'jsonl'])).stdout);
  const viaHttp = await server.exportRecords();
  const key = (r) => `${r.device}#${r.seq}`;
  assert.deepEqual(viaCli.map(key).sort(), viaHttp.map(key).sort(), 'CLI and HTTP export the same records');
  const total = (await server.devices()).reduce((s, x) => s + x.last_seq, 0);
  assert.equal(viaHttp.length, total, 'one line per stored record (sum of last_seq over devices)');
  assert.equal(new Set(viaHttp.map(key)).size, viaHttp.length, 'no record twice');

  const mine = viaHttp.filter((r) => r.device === d.id).sort((a, b) => a.seq - b.seq);
  assertExactlySeqs(viaHttp, d.id, 3);
  for (const r of mine) {
    for (const f of ['survey', 'survey_version', 'device', 'seq', 'time', 'outcome', 'tags', 'answers']) {
      assert.ok(f in r, `export line lacks ${f}: ${JSON.stringify(r)}`);
    }
    assert.equal(r.survey, 'restaurant');
    assert.equal(r.survey_version, restaurantVersion);
    assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    assert.equal(typeof r.tags, 'object');
  }
  assert.equal(mine[0].time, '2026-11-22T10:00:00Z');
  assert.equal(mine[0].outcome, 'completed');
  assert.deepEqual(mine[0].answers, a1);
  assert.equal(mine[0].tags.staff, 'олена');
  assert.equal(mine[1].time, '2026-11-22T10:05:00.250Z');
  assert.equal(mine[1].outcome, 'declined');
  assert.deepEqual(mine[1].answers, {});
  assert.equal(mine[2].outcome, 'partial');
  assert.deepEqual(mine[2].answers, { recommend: 3 });
});

test('export as CSV starts with the UTF-8 BOM and keeps Cyrillic text intact', async () => {
  const d = await enrolledDevice(server, 'Київ-Поділ');
  const reason = 'Їжа смачна, але чекали довго — «дякую»';
  await d.mustRecord({ ...restaurantAnswers(2, 'csv'), reason }, { tags: { staff: 'Олена' } });
  await d.mustPush();
  const r = await server.mustAdmin('GET', '/v1/admin/export?format=csv');
  assert.deepEqual([...r.buf.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'CSV starts with EF BB BF');
  const text = r.buf.subarray(3).toString('utf8');
  assert.ok(!text.includes('\ufffd'), 'the CSV is valid UTF-8');
  assert.ok(text.includes('Їжа смачна, але чекали довго — «дякую»') || text.includes('"Їжа смачна, але чекали довго — «дякую»"'),
    `the Cyrillic answer is intact in the CSV:\n${text.slice(0, 2000)}`);
  assert.ok(text.includes('Олена'), 'the Cyrillic tag is intact');
  assert.ok(text.includes(d.id));
  const rows = parseCsv(text);
  const total = (await server.devices()).reduce((s, x) => s + x.last_seq, 0);
  assert.equal(rows.length, total + 1, 'a header row and one row per record');
  const viaCli = await server.mustAdminCli(['export', '--format', 'csv']);
  assert.deepEqual([...viaCli.stdoutBuf.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the CLI writes the BOM too');
  assert.ok(viaCli.stdout.includes(reason));
});

// RFC 4180: fields separated by commas, quoted with "" when they hold a comma, quote or newline.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  assert.ok(!quoted, 'the CSV ends inside a quoted field');
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('exports keep quotes, commas, newlines, tabs, backslashes and non-BMP text exactly', async () => {
  const d = await enrolledDevice(server);
  const reason = 'He said "fine", then left;\nsecond line\ttab \\ back — 🙂 ёЁ, «ок»';
  await d.mustRecord({ ...restaurantAnswers(4, 'esc'), reason }, { tags: { staff: 'O\'Neil, "Jr"' } });
  await d.mustPush();
  const line = (await server.exportRecords()).find((r) => r.device === d.id);
  assert.equal(line.answers.reason, reason, 'JSON Lines');
  assert.equal(line.tags.staff, 'O\'Neil, "Jr"');
  const csv = await server.mustAdmin('GET', '/v1/admin/export?format=csv');
  assert.deepEqual([...csv.buf.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const rows = parseCsv(csv.buf.subarray(3).toString('utf8'));
  const header = rows[0];
  rows.forEach((r, i) => assert.equal(r.length, header.length, `CSV row ${i} has ${r.length} cells, the header ${header.length}: ${JSON.stringify(r)}`));
  const total = (await server.devices()).reduce((sum, x) => sum + x.last_seq, 0);
  assert.equal(rows.length - 1, total, 'one CSV row per record (quoted newlines do not split rows)');
  const mine = rows.filter((r) => r.includes(d.id));
  assert.equal(mine.length, 1, `one row for ${d.id}`);
  assert.ok(mine[0].includes(reason), `the text answer survives CSV quoting: ${JSON.stringify(mine[0])}`);
  assert.ok(mine[0].includes('O\'Neil, "Jr"'), `the tag survives CSV quoting: ${JSON.stringify(mine[0])}`);
});

test('/metrics counts accepted and refused records', async () => {
  const m0 = await server.metrics();
  for (const name of ['canvass_records_accepted_total', 'canvass_batch_seconds', 'canvass_store_records']) {
    assert.ok(m0.includes(name), `/metrics lacks ${name}:\n${m0}`);
  }
  const d = await enrolledDevice(server);
  await d.recordMany(3, { tag: 'metrics' });
  await d.mustPush();
  const m1 = await server.metrics();
  assert.equal(metricSum(m1, 'canvass_records_accepted_total') - metricSum(m0, 'canvass_records_accepted_total'), 3,
    `accepted_total grows by the 3 records pushed:\n${m1}`);
  assert.ok(metricSum(m1, 'canvass_batch_seconds_count') > metricSum(m0, 'canvass_batch_seconds_count'),
    `canvass_batch_seconds_count grows:\n${m1}`);
  const stored = metricSum(m1, 'canvass_store_records');
  const total = (await server.devices()).reduce((s, x) => s + x.last_seq, 0);
  assert.equal(stored, total, 'canvass_store_records is the number of stored records');

  await d.recordMany(2, { start: 3, tag: 'metrics' });
  const body = await d.batch();
  const layout = wire.batchLayout(body);
  const bad = Buffer.from(body);
  bad[layout[0].signatureStart] ^= 1;
  assertRefused(await server.postRecords(bad), 400, /signature/i);
  const m2 = await server.metrics();
  const refused = metricSum(m2, 'canvass_records_refused_total') - metricSum(m1, 'canvass_records_refused_total');
  assert.ok(refused >= 1, `canvass_records_refused_total grows after a refused push:\n${m2}`);
  assert.match(m2, /canvass_records_refused_total\{reason="[^"]+"\}\s+[1-9]/, 'refusals are counted by reason');
  assert.equal(metricSum(m2, 'canvass_records_accepted_total'), metricSum(m1, 'canvass_records_accepted_total'),
    'a refused push accepts nothing');
});

test('quarantine via the CLI prints the server\'s JSON', async () => {
  const out = await server.mustAdminCli(['quarantine']);
  const q = JSON.parse(out.stdout);
  assert.ok(Array.isArray(q.quarantine), out.stdout);
});

test('the admin CLI: usage errors exit 2, an unreachable server exits 3', async () => {
  const usage = await cli(['admin', '--server', server.url, '--token', server.token, 'frobnicate']);
  assert.equal(usage.code, 2, describeRun(usage));
  const noLocation = await cli(['admin', '--server', server.url, '--token', server.token, 'enroll-code']);
  assert.equal(noLocation.code, 2, describeRun(noLocation));
  const port = await freePort();
  const down = await cli(['admin', '--server', `http://127.0.0.1:${port}`, '--token', 'x', 'devices'], { timeout: 60000 });
  assert.equal(down.code, 3, describeRun(down));
});

// Last: it retires the initial token.
test('setting a password retires the initial token; login gives a session; failures are rate limited', async () => {
  const initial = server.token;
  assertRefused(await server.admin('POST', '/v1/admin/password', { password: 'short' }), 400, /10|short|characters/i, 'short password:');
  const pw = 'correct horse battery staple';
  const set = await server.admin('POST', '/v1/admin/password', { password: pw });
  assert.equal(set.status, 204, describeResponse(set));
  assert.ok(!fs.existsSync(path.join(server.dataDir, 'initial-admin-token')), 'the initial token file is deleted');
  assertRefused(await server.admin('GET', '/v1/admin/devices', undefined, { token: initial }), 401, null, 'initial token after a password:');
  const login = await server.admin('POST', '/v1/admin/login', { password: pw }, { token: null });
  assert.equal(login.status, 200, describeResponse(login));
  const session = login.json.token;
  assert.ok(session && session !== initial);
  const list = await server.admin('GET', '/v1/admin/devices', undefined, { token: session });
  assert.equal(list.status, 200, describeResponse(list));
  const viaCli = await cli(['admin', '--server', server.url, '--token', session, 'devices']);
  assert.equal(viaCli.code, 0, describeRun(viaCli));
  for (let i = 1; i <= 5; i++) {
    assertRefused(await server.admin('POST', '/v1/admin/login', { password: `wrong ${i} password` }, { token: null }), 401, null, `wrong password ${i}:`);
  }
  assertRefused(await server.admin('POST', '/v1/admin/login', { password: 'wrong again password' }, { token: null }), 429, null, 'sixth failure in a minute:');
});
