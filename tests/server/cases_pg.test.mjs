// The closed loop on PostgreSQL with two canvass-server instances sharing one database (as
// postgres.test.mjs sets them up): the same records pushed to both at once open each case exactly
// once, each case.opened event reaches the receiver once although both instances run a sender,
// both instances sweep for overdue cases and each is escalated once, and a case opened through one
// instance is handled through the other. Also runs the Catch2 case-store contract
// ([postgres-cases], hidden from the plain unit run) against this PostgreSQL. If PostgreSQL is not
// installed these tests FAIL, they are never skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  startServer, startPostgres, cleanup, Device, restaurantAnswers, describeResponse, describeRun,
  run, binDir, tempDir, sleep, until, RESTAURANT,
} from './harness.mjs';
import * as wire from './wire.mjs';

const PASSWORD = 'correct horse battery';
let pg;
let A;
let B;
let orgKey;
const received = [];
let receiver;

before(async () => {
  pg = await startPostgres();
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ headers: req.headers, body, json: JSON.parse(body.toString('utf8')) });
      // A receiver that takes its time, as real ones do: while one instance waits for this
      // answer, the other must not send the same delivery.
      setTimeout(() => {
        res.writeHead(204);
        res.end();
      }, 250);
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const dirA = path.join(tempDir('canvass-pgcase-a-'), 'data');
  const dirB = path.join(tempDir('canvass-pgcase-b-'), 'data');
  const first = await startServer({ dataDir: dirA, db: pg.url, publish: [RESTAURANT] });
  await first.stop();
  fs.cpSync(dirA, dirB, { recursive: true });
  // A short SLA (1.8 s) on both: both sweep for the same overdue cases.
  const args = ['--case-sla-hours', '0.0005', '--webhook-retry-seconds', '0.5'];
  A = await startServer({ dataDir: dirA, db: pg.url, extraArgs: args });
  B = await startServer({ dataDir: dirB, db: pg.url, extraArgs: args });
  const hook = await A.mustAdmin('POST', '/v1/admin/webhooks', { url: `http://127.0.0.1:${receiver.address().port}/hook` }, 201);
  orgKey = Buffer.from(hook.json.org_sign_key, 'hex');
  const r = await B.admin('POST', '/v1/admin/users', { name: 'olena', role: 'staff', locations: ['Kyiv-Podil'], password: PASSWORD });
  assert.equal(r.status, 201, describeResponse(r));
}, { timeout: 120000 });

after(async () => {
  for (const s of [A, B]) if (s) await s.stop();
  if (receiver) await new Promise((resolve) => receiver.close(resolve));
  await cleanup();
});

const ofType = (type, caseId) => received.filter((q) => q.json.type === type && q.json.case.id === caseId);

test('the case-store contract holds on PostgreSQL', { timeout: 120000 }, async () => {
  await pg.psql('CREATE DATABASE unit');
  const unit = path.resolve(binDir, '../tests/canvass_unit_tests');
  assert.ok(fs.existsSync(unit), `${unit} is missing: build the native target first`);
  const r = await run(unit, ['[postgres-cases]', '--use-colour', 'no', '--reporter', 'compact'], {
    env: { ...process.env, CANVASS_TEST_PG_URL: pg.url.replace(/\/canvass$/, '/unit') },
    timeout: 100000,
  });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /Passed 1 test case/, describeRun(r));
});

test('records pushed to both instances at once open each case once, with one case.opened each', { timeout: 180000 }, async () => {
  const DEVICES = 4;
  const PER = 3;
  const devices = [];
  for (let i = 0; i < DEVICES; i++) {
    const code = await (i % 2 ? A : B).enrollCode('Kyiv-Podil');
    devices.push(await new Device().enroll(i % 2 ? B : A, code));
  }
  for (const [i, d] of devices.entries()) {
    for (let k = 0; k < PER; k++) {
      await d.mustRecord({ ...restaurantAnswers(i * 10 + k, 'pg'), recommend: k, contact: { consent: true, details: `+380 44 000 00 ${i}${k}` } });
    }
  }
  const bodies = await Promise.all(devices.map((d) => d.batch()));
  const results = await Promise.all(devices.map(async (d, i) => Promise.all([
    A.postRecords(bodies[i]), B.postRecords(bodies[i]), d.push(),
  ])));
  results.forEach(([ra, rb, push], i) => {
    assert.equal(ra.status, 200, `device ${i} via A: ${describeResponse(ra)}`);
    assert.equal(rb.status, 200, `device ${i} via B: ${describeResponse(rb)}`);
    assert.equal(push.code, 0, describeRun(push));
  });
  const ids = devices.flatMap((d) => Array.from({ length: PER }, (_, k) => `${d.id}.${k + 1}`));
  for (const s of [A, B]) {
    const listed = await until(async () => {
      const r = await s.mustAdmin('GET', '/v1/admin/cases?limit=1000');
      const mine = r.json.cases.filter((c) => ids.includes(c.id));
      return mine.length === ids.length ? mine : null;
    }, `${s.url}: every case listed`);
    assert.deepEqual(listed.map((c) => c.id).sort(), [...ids].sort(), 'each case once');
  }
  await until(async () => ids.every((id) => ofType('case.opened', id).length >= 1), 'a case.opened for every case');
  await sleep(3000);  // both senders keep running: nothing may arrive twice
  for (const id of ids) {
    const evs = ofType('case.opened', id);
    assert.equal(evs.length, 1, `${id}: exactly one case.opened, got ${evs.length}`);
    assert.ok(wire.verifyTagged('canvass/webhook/v1', evs[0].body, Buffer.from(evs[0].headers['x-canvass-signature'], 'hex'), orgKey),
      `${id}: the signature verifies`);
  }
  // Both instances swept for the same overdue cases: each escalated once.
  await until(async () => ids.every((id) => ofType('case.escalated', id).length >= 1), 'a case.escalated for every case');
  await sleep(3000);
  for (const id of ids) assert.equal(ofType('case.escalated', id).length, 1, `${id}: escalated once`);

  // Opened through A's projection or B's, handled through either: staff log in at A, act at B.
  const login = await A.admin('POST', '/v1/admin/login', { user: 'olena', password: PASSWORD }, { token: null });
  assert.equal(login.status, 200, describeResponse(login));
  const token = login.json.token;
  const one = await B.admin('GET', `/v1/admin/cases/${ids[0]}`, undefined, { token });
  assert.equal(one.status, 200, describeResponse(one));
  assert.equal(one.json.contact, '+380 44 000 00 00', 'both instances open the contact with the shared key');
  for (const [s, state, extra] of [[B, 'contacted'], [A, 'root_cause_found', { category: 'staff' }], [B, 'resolved']]) {
    const r = await s.admin('POST', `/v1/admin/cases/${ids[0]}/state`, { state, ...extra }, { token });
    assert.equal(r.status, 200, describeResponse(r));
  }
  const refused = await A.admin('POST', `/v1/admin/cases/${ids[0]}/state`, { state: 'contacted' }, { token });
  assert.equal(refused.status, 409, describeResponse(refused));
  await until(async () => ofType('case.state_changed', ids[0]).length === 3, 'three case.state_changed events');
  assert.deepEqual(ofType('case.state_changed', ids[0]).map((q) => q.json.case.state).sort(),
    ['contacted', 'resolved', 'root_cause_found']);
});
