// Running canvass-server as a service (issue 12; docs/operations.md): the access log, HEAD where
// GET is, JSON bodies on the refusals the HTTP library makes itself, X-Forwarded-For only from a
// trusted proxy, and the --config file with its precedence and its errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, cleanup, enrolledDevice, restaurantAnswers, binary, run, request, describeRun,
  describeResponse, tempDir, until, repoRoot, RESTAURANT,
} from './harness.mjs';
import * as wire from './wire.mjs';

after(cleanup);

// The logfmt lines of the server's stdout with msg=request, as objects.
function accessLines(server) {
  return server.stdout.split('\n').filter((l) => l.includes(' msg=request ')).map((l) => {
    const o = {};
    for (const m of l.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) o[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
    return o;
  });
}

test('one access log line per request: a push, a refused push, an admin call; never a query', async () => {
  const server = await startServer({ publish: [RESTAURANT] });
  try {
    const device = await enrolledDevice(server, 'Kyiv-Podil');
    await device.mustRecord(restaurantAnswers(1));
    await device.mustPush();
    const junk = wire.buildBatch({ deviceId: device.id, envelopes: [crypto.randomBytes(100)] });
    assert.equal((await server.postRecords(junk)).status, 400);
    await server.mustAdmin('GET', '/v1/admin/devices?limit=5');
    const lines = await until(() => {
      const all = accessLines(server);
      return all.filter((l) => l.path === '/v1/records').length >= 2 && all.some((l) => l.path === '/v1/admin/devices') ? all : null;
    }, 'the access log lines');
    const pushes = lines.filter((l) => l.path === '/v1/records');
    const ok = pushes.find((l) => l.status === '200');
    assert.ok(ok, JSON.stringify(pushes));
    assert.equal(ok.method, 'POST');
    assert.equal(ok.device, device.id);
    assert.equal(ok.client, '127.0.0.1');
    assert.equal(ok.level, 'info');
    assert.match(ok.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Number(ok.bytes) > 0 && Number(ok.ms) >= 0, JSON.stringify(ok));
    const refused = pushes.find((l) => l.status === '400');
    assert.ok(refused, JSON.stringify(pushes));
    assert.equal(refused.device, device.id);
    assert.equal(refused.error, 'corruption');
    const admin = lines.find((l) => l.path === '/v1/admin/devices');
    assert.equal(admin.user, 'admin');
    assert.ok(!server.stdout.includes('limit=5'), 'no query string in the log');
    assert.ok(!server.stdout.includes(server.token), 'no token in the log');
  } finally {
    await server.stop();
  }
});

test('HEAD is answered wherever GET is; 413 and other library refusals carry the JSON body', async () => {
  const server = await startServer({ publish: [RESTAURANT], extraArgs: ['--static', path.join(repoRoot, 'build/native')] });
  try {
    for (const p of ['/healthz', '/metrics', '/CMakeCache.txt']) {
      const get = await server.fetch(p);
      const head = await server.fetch(p, { method: 'HEAD' });
      assert.equal(get.status, 200, `GET ${p}: ${describeResponse(get)}`);
      assert.equal(head.status, 200, `HEAD ${p}`);
      assert.equal(head.buf.length, 0, `HEAD ${p} has no body`);
    }
    assert.equal((await server.fetch('/nothing-here', { method: 'HEAD' })).status, 404);
    const big = await server.postRecords(Buffer.alloc(9 << 20));
    assert.equal(big.status, 413);
    assert.equal(big.json?.error, 'too_large', describeResponse(big));
    assert.match(big.json.message, /8 MiB/);
  } finally {
    await server.stop();
  }
});

test('X-Forwarded-For is believed only from --trusted-proxy', async () => {
  const server = await startServer({ extraArgs: ['--trusted-proxy', '127.0.0.2'] });
  try {
    const headers = { 'X-Forwarded-For': '203.0.113.9, 198.51.100.4' };
    await request(`${server.url}/healthz`, { headers });  // from 127.0.0.1: not a proxy
    await request(`${server.url}/metrics`, { headers, from: '127.0.0.2' });  // from the proxy
    const lines = await until(() => {
      const all = accessLines(server);
      return all.some((l) => l.path === '/metrics') ? all : null;
    }, 'the access log lines');
    assert.equal(lines.find((l) => l.path === '/healthz').client, '127.0.0.1');
    assert.equal(lines.find((l) => l.path === '/metrics').client, '198.51.100.4',
      'the last address the trusted proxy heard from');
  } finally {
    await server.stop();
  }
});

test('--config: keys as the options, the command line wins, errors name file and line', async () => {
  const dir = tempDir('canvass-config-');
  const conf = path.join(dir, 'canvass.conf');
  fs.writeFileSync(conf, [
    '# a comment',
    `publish = ${RESTAURANT}   # a trailing comment`,
    `publish = ${path.join(repoRoot, 'examples/shop-checkout.json')}`,
    'web-location = web-from-config',
    'access-log = off',
    '',
  ].join('\n'));
  const server = await startServer({ extraArgs: ['--config', conf, '--web-location', 'from-flag'] });
  try {
    const surveys = (await server.mustAdmin('GET', '/v1/admin/surveys')).json.surveys.map((s) => s.survey_id).sort();
    assert.deepEqual(surveys, ['restaurant', 'shop-checkout']);
    await server.fetch('/healthz');
    assert.equal(accessLines(server).length, 0, 'access-log = off from the file');
  } finally {
    await server.stop();
  }
  const version = await run(binary('canvass-server'), ['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^canvass-server \d+\.\d+\.\d+\n$/);

  const bad = path.join(dir, 'bad.conf');
  for (const [text, pattern] of [
    ['listen = 127.0.0.1:0\ncolour = blue\n', /bad\.conf:2: unknown key 'colour'/],
    ['listen\n', /bad\.conf:1: expected "key = value"/],
    ['data =\n', /bad\.conf:1: data needs a value/],
    ['listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n', /bad\.conf:2: listen is given twice/],
  ]) {
    fs.writeFileSync(bad, text);
    const r = await run(binary('canvass-server'), ['--config', bad, '--data', path.join(dir, 'never')]);
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, pattern, describeRun(r));
    assert.ok(!fs.existsSync(path.join(dir, 'never')), 'nothing created');
  }
  const missing = await run(binary('canvass-server'), ['--config', path.join(dir, 'nope.conf')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.conf/);
  // Options are checked before anything is created: a survey that does not parse, a missing site.
  const survey = path.join(dir, 'broken.json');
  fs.writeFileSync(survey, '{"format": "canvass.survey/1"}');
  for (const [args, pattern] of [
    [['--publish', survey], /--publish .*broken\.json: id: is missing/],
    [['--static', path.join(dir, 'no-site')], /--static .*no-site: no such folder/],
  ]) {
    const r = await run(binary('canvass-server'), ['--data', path.join(dir, 'never'), ...args]);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, pattern, describeRun(r));
    assert.ok(!fs.existsSync(path.join(dir, 'never')), 'nothing created');
  }
});
