// GET /v1/admin/report runs the shared/ report over the stored records: its JSON must equal
// `canvass report --format json` over the server's own export, for the same options.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, cleanup, enrolledDevice, mustCli, tempDir, RESTAURANT } from './harness.mjs';

after(cleanup);

test('the server report equals canvass report over the export, with filters and group-bys', async (t) => {
  const server = await startServer({ publish: [RESTAURANT] });
  t.after(() => server.stop());
  const kyiv = await enrolledDevice(server, 'Kyiv-Podil');
  const lviv = await enrolledDevice(server, 'Lviv-Rynok');
  await kyiv.recordMany(24, { tag: 'k' });
  await lviv.recordMany(12, { start: 5, tag: 'l' });
  await kyiv.mustRecord({}, { outcome: 'declined' });
  await lviv.mustRecord({}, { outcome: 'ignored', time: '2026-11-20T10:00:00Z' });
  await kyiv.mustCli(['push']);
  await lviv.mustCli(['push']);

  const exported = (await server.mustAdmin('GET', '/v1/admin/export?format=jsonl')).text;
  const input = path.join(tempDir('canvass-report-'), 'export.jsonl');
  fs.writeFileSync(input, exported);

  const cases = [
    { query: '', args: [] },
    { query: '&by=location', args: ['--by', 'location'] },
    { query: '&by=period:day&nonresponders=as_detractor&min_n=5',
      args: ['--by', 'period:day', '--nonresponders', 'as_detractor', '--min-n', '5'] },
    { query: '&where=location%3DLviv-Rynok', args: ['--where', 'location=Lviv-Rynok'] },
  ];
  for (const c of cases) {
    const served = await server.mustAdmin('GET', `/v1/admin/report?survey=restaurant${c.query}`);
    const cli = await mustCli(['report', '--survey', RESTAURANT, '--input', input, '--format', 'json', ...c.args]);
    const a = served.json;
    const b = JSON.parse(cli.stdout);
    // The report header names its input; everything computed must be identical.
    delete a.report?.input;
    delete b.report?.input;
    assert.deepEqual(a, b, `report${c.query}`);
  }
  const whole = (await server.mustAdmin('GET', '/v1/admin/report?survey=restaurant')).json;
  assert.equal(whole.offered, 38);
  assert.equal(whole.nps.n, 36);

  const missing = await server.admin('GET', '/v1/admin/report?survey=nope');
  assert.equal(missing.status, 404);
  const bad = await server.admin('GET', '/v1/admin/report?survey=restaurant&by=period:fortnight');
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /by/);
  const anonymous = await server.admin('GET', '/v1/admin/report?survey=restaurant', undefined, { token: null });
  assert.equal(anonymous.status, 401);
});

test('format=html: the same report as a self-contained page, with the same figures as format=json', async (t) => {
  const server = await startServer({ publish: [RESTAURANT] });
  t.after(() => server.stop());
  const kyiv = await enrolledDevice(server, 'Kyiv-Podil');
  const lviv = await enrolledDevice(server, '<script>alert(1)</script>');
  await kyiv.recordMany(20, { tag: 'k' });
  await lviv.recordMany(8, { start: 3, tag: 'l' });
  await kyiv.mustRecord({}, { outcome: 'declined' });
  await kyiv.mustCli(['push']);
  await lviv.mustCli(['push']);

  const json = (await server.mustAdmin('GET', '/v1/admin/report?survey=restaurant&by=location')).json;
  const page = await server.mustAdmin('GET', '/v1/admin/report?survey=restaurant&by=location&format=html');
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(page.headers['content-security-policy'], /default-src 'none'/);
  assert.match(page.headers['content-disposition'], /filename="restaurant-report\.html"/);
  const html = page.text;
  assert.ok(html.startsWith('<!DOCTYPE html>'), html.slice(0, 200));
  assert.ok(html.endsWith('</html>\n'));
  assert.ok(json.nps.n > 0);
  const figure = (name) => {
    // The exact value is in data-value (the text shows it rounded to one decimal).
    const m = html.match(new RegExp(`data-figure="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" data-value="([^"]*)"`));
    return m && m[1];
  };
  assert.equal(figure('nps.value'), String(json.nps.value));
  assert.equal(figure('nps.ci95.0'), String(json.nps.ci95[0]));
  assert.equal(figure('response_rate.value'), String(json.response_rate.value));
  const kyivGroup = json.groups.entries.find((e) => e.key.location === 'Kyiv-Podil');
  assert.equal(figure('groups.location=Kyiv-Podil.nps.value'), String(kyivGroup.nps.value));
  // The location tag from the second device is text on the page, never markup.
  assert.ok(!html.includes('<script'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));

  const bad = await server.admin('GET', '/v1/admin/report?survey=restaurant&format=pdf');
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /html/);
});
