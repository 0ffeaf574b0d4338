// The closed loop end to end (DESIGN.md §6, docs/protocol.md "Cases" and "Webhooks"): a real
// canvass-server with SQLite, devices driven by the real CLI, users of three roles, and a local
// HTTP listener as the webhook receiver that verifies every signature with node:crypto and the
// independent BLAKE2b of wire.mjs (never the server's own code).
//
// A detractor who consents and leaves a phone number opens a case at the device's location; the
// location's staff see the phone, others do not; the case walks open -> contacted ->
// root_cause_found -> resolved with notes and a category, refusing skips and steps back; every
// step reaches the receiver as a signed event; an overdue case is escalated once to the managers;
// a receiver that is down gets the event after a retry; a tampered body does not verify.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startServer, cleanup, enrolledDevice, restaurantAnswers, assertRefused, describeResponse, sleep,
  RESTAURANT, SHOP, freePort, cli, describeRun, until, parseJsonl,
} from './harness.mjs';
import * as wire from './wire.mjs';

const PHONE = 'Olena Petrenko, +380 67 123 45 67';
const PASSWORD = 'correct horse battery';

// ---------------------------------------------------------------------------------------------
// The webhook receiver: records every request with its raw body; answers 204, or `status`.

class Receiver {
  constructor() {
    this.requests = [];
    this.status = 204;
    this.sockets = new Set();
  }

  async listen(port = 0) {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let json;
        try { json = JSON.parse(body.toString('utf8')); } catch { json = undefined; }
        this.requests.push({ path: req.url, method: req.method, headers: req.headers, body, json });
        res.writeHead(this.status);
        res.end();
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  // Down: nothing listens on the port any more (connections are refused).
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  url(path) { return `http://127.0.0.1:${this.port}${path}`; }

  events(path, pred = () => true) {
    return this.requests.filter((r) => r.path === path && r.json && pred(r.json));
  }

  async waitFor(path, pred, what, timeout = 20000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.events(path, pred);
      if (found.length > 0) return found[found.length - 1];
      if (Date.now() > deadline) {
        assert.fail(`the receiver got no ${what} on ${path} within ${timeout} ms; it got: ` +
          JSON.stringify(this.requests.map((r) => [r.path, r.headers['x-canvass-event'], r.json?.id])));
      }
      await sleep(100);
    }
  }
}

// What a receiver does: Ed25519 over ('canvass/webhook/v1' || BLAKE2b-256(body)) with the
// organisation's public signing key.
function verifies(req, orgKey, body = req.body) {
  const sig = req.headers['x-canvass-signature'];
  if (typeof sig !== 'string' || !/^[0-9a-f]{128}$/.test(sig)) return false;
  return wire.verifyTagged('canvass/webhook/v1', body, Buffer.from(sig, 'hex'), orgKey);
}

// Whether a text holds any part of PHONE. Not a bare '380': times and hex hashes contain it by
// chance.
function holdsContact(text) {
  return ['+380', '123 45 67', 'Petrenko'].some((part) => text.includes(part));
}

function assertSignedEvent(req, orgKey, type) {
  assert.equal(req.method, 'POST');
  assert.match(String(req.headers['content-type']), /^application\/json/);
  assert.equal(req.headers['x-canvass-event'], type, 'X-Canvass-Event');
  assert.equal(req.json.type, type, 'the body names the event type');
  assert.match(String(req.headers['x-canvass-delivery']), /^.+\/\d+@wh-[0-9a-f]+$/, 'X-Canvass-Delivery');
  assert.ok(verifies(req, orgKey), `${type}: the signature must verify with the organisation key`);
  // Never the contact details, in any event.
  assert.ok(!holdsContact(req.body.toString('utf8')), `${type} carries the contact details: ${req.body}`);
}

// ---------------------------------------------------------------------------------------------

let server;
let receiver;
let orgKey;
const tokens = {};

async function login(srv, user, password = PASSWORD) {
  const r = await srv.admin('POST', '/v1/admin/login', { user, password }, { token: null });
  assert.equal(r.status, 200, `login ${user}: ${describeResponse(r)}`);
  return r.json.token;
}

async function addUser(srv, name, role, locations) {
  const r = await srv.admin('POST', '/v1/admin/users', { name, role, locations, password: PASSWORD });
  assert.equal(r.status, 201, `add user ${name}: ${describeResponse(r)}`);
}

const as = (name) => ({ token: tokens[name] });

async function casesOf(srv, query = '', token = srv.token) {
  const r = await srv.admin('GET', `/v1/admin/cases${query}`, undefined, { token });
  assert.equal(r.status, 200, describeResponse(r));
  return r.json.cases;
}

async function caseOfDevice(srv, deviceId, seq) {
  return until(async () => (await casesOf(srv)).find((c) => c.device === deviceId && c.seq === seq),
    `a case for ${deviceId} seq ${seq}`);
}

function detractor(i, details = PHONE) {
  return { ...restaurantAnswers(i, 'case'), recommend: 3, contact: { consent: true, details } };
}

before(async () => {
  receiver = await new Receiver().listen();
  server = await startServer({ publish: [RESTAURANT, SHOP], extraArgs: ['--webhook-retry-seconds', '0.5'] });
  const hook = await server.mustAdmin('POST', '/v1/admin/webhooks', { url: receiver.url('/main') }, 201);
  orgKey = Buffer.from(hook.json.org_sign_key, 'hex');
  await addUser(server, 'olena', 'staff', ['Kyiv-Podil']);
  await addUser(server, 'taras', 'staff', ['Lviv-Rynok']);
  await addUser(server, 'maria', 'manager', ['Kyiv-Podil']);
  for (const name of ['olena', 'taras', 'maria']) tokens[name] = await login(server, name);
}, { timeout: 120000 });

after(async () => {
  if (server) await server.stop();
  if (receiver) await receiver.close().catch(() => {});
  await cleanup();
});

// The device's org_sign_key (from /v1/enroll) and the webhook list's are one key.
test('the webhook key is the organisation key devices get at enrollment', async () => {
  const code = await server.enrollCode('Kyiv-Podil');
  const r = await server.fetch('/v1/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ protocol: 1, code, public_key: wire.newDeviceKey().publicRaw.toString('hex') }),
  });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.org_sign_key, orgKey.toString('hex'));
});

let opened;  // the case of the first test, walked through the workflow below

test('a detractor who consents and leaves a phone number opens a case and a signed case.opened event', { timeout: 60000 }, async () => {
  const d = await enrolledDevice(server, 'Kyiv-Podil');
  await d.mustRecord(detractor(1));
  await d.mustPush();
  opened = await caseOfDevice(server, d.id, 1);
  assert.equal(opened.id, `${d.id}.1`, 'the case id is derived from (device, seq)');
  assert.equal(opened.location, 'Kyiv-Podil');
  assert.equal(opened.state, 'open');
  assert.equal(opened.survey, 'restaurant');
  assert.equal(opened.question, 'recommend');
  assert.equal(opened.metric, 'nps');
  assert.equal(opened.score, 3);
  assert.equal(opened.has_contact, true);
  assert.equal(opened.assignee, null, 'unassigned, visible to all staff of the location');
  const day = 24 * 3600 * 1000;
  assert.equal(opened.due_ms - opened.opened_ms, day, 'due 24 h after opening by default');
  assert.ok(!('contact' in opened), 'lists never carry contact details');

  const ev = await receiver.waitFor('/main', (j) => j.type === 'case.opened' && j.case.id === opened.id, 'case.opened');
  assertSignedEvent(ev, orgKey, 'case.opened');
  assert.equal(ev.json.case.location, 'Kyiv-Podil');
  assert.equal(ev.json.case.score, 3);
  assert.equal(ev.json.case.due_ms, opened.due_ms);
  assert.equal(ev.json.case.state, 'open');
  assert.equal(ev.headers['x-canvass-delivery'].split('@')[0], `${opened.id}/1`);
});

test('a promoter, a detractor without consent and a low CSAT without a contact question open no case', { timeout: 60000 }, async () => {
  const d = await enrolledDevice(server, 'Kyiv-Podil');
  await d.mustRecord({ ...restaurantAnswers(2, 'p'), recommend: 10 });                                // 1: promoter
  await d.mustRecord({ ...restaurantAnswers(3, 'n'), recommend: 2, contact: { consent: false } });   // 2: no consent
  await d.mustRecord({ ...restaurantAnswers(4, 'n'), recommend: 0 });                                 // 3: no contact answer
  await d.mustRecord({ satisfied: 1 }, { survey: 'shop-checkout' });                                  // 4: no contact question
  await d.mustRecord(detractor(5));                                                                   // 5: the barrier
  await d.mustPush();
  // The projection takes a device's records in seq order: once seq 5 has a case, 1-4 were seen.
  await caseOfDevice(server, d.id, 5);
  const mine = (await casesOf(server)).filter((c) => c.device === d.id);
  assert.deepEqual(mine.map((c) => c.seq), [5], `only the consenting detractor has a case: ${JSON.stringify(mine)}`);
  assert.equal(receiver.events('/main', (j) => j.type === 'case.opened' && j.case.device === d.id).length <= 1, true);
});

test('staff of another location can neither list nor open the case; the location\'s staff see the phone', async () => {
  assert.ok(opened, 'needs the case of the first test');
  // Lviv staff.
  const other = await server.admin('GET', `/v1/admin/cases/${opened.id}`, undefined, as('taras'));
  assertRefused(other, 404, /no case .* at your locations/, 'another location\'s staff:');
  assert.ok(!holdsContact(other.text), other.text);
  assert.ok(!(await casesOf(server, '', tokens.taras)).some((c) => c.id === opened.id), 'not in their list');
  assertRefused(await server.admin('GET', '/v1/admin/cases?location=Kyiv-Podil', undefined, as('taras')),
    403, /does not work at location/);
  assertRefused(await server.admin('POST', `/v1/admin/cases/${opened.id}/state`, { state: 'contacted' }, as('taras')),
    404, /no case/, 'nor change it:');
  // Kyiv staff: the list has the case without contact, the case itself the unsealed details.
  const list = await server.admin('GET', '/v1/admin/cases', undefined, as('olena'));
  assert.equal(list.status, 200, describeResponse(list));
  assert.ok(list.json.cases.some((c) => c.id === opened.id));
  assert.ok(!holdsContact(list.text), `a list never holds contact details: ${list.text}`);
  const one = await server.admin('GET', `/v1/admin/cases/${opened.id}`, undefined, as('olena'));
  assert.equal(one.status, 200, describeResponse(one));
  assert.equal(one.json.contact, PHONE, 'the contact details, unsealed on the server');
  assert.equal(one.json.next_state, 'contacted');
  // The owner too; not the export, which never holds details in clear.
  assert.equal((await server.mustAdmin('GET', `/v1/admin/cases/${opened.id}`)).json.contact, PHONE);
  const exported = await server.mustAdmin('GET', '/v1/admin/export?format=jsonl');
  assert.ok(!holdsContact(exported.text), 'the export holds no contact details');
});

test('staff walk the case to resolved with notes and a category; skips and steps back are refused (409)', { timeout: 60000 }, async () => {
  assert.ok(opened, 'needs the case of the first test');
  const path = `/v1/admin/cases/${opened.id}`;
  const step = (body, who = 'olena') => server.admin('POST', `${path}/state`, body, as(who));

  assertRefused(await step({ state: 'resolved' }), 409, /one step at a time.*next state is contacted/, 'open -> resolved:');
  assertRefused(await step({ state: 'root_cause_found', category: 'price' }), 409, /next state is contacted/);
  assertRefused(await step({ state: 'open' }), 409, /already/);
  assertRefused(await step({ state: 'done' }), 400, /state:/);

  let r = await step({ state: 'contacted', note: 'Called her, she was kept waiting 40 minutes' });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.state, 'contacted');
  let ev = await receiver.waitFor('/main', (j) => j.type === 'case.state_changed' && j.case.id === opened.id && j.case.state === 'contacted', 'contacted');
  assertSignedEvent(ev, orgKey, 'case.state_changed');
  assert.equal(ev.json.from, 'open');
  assert.equal(ev.json.by, 'olena');
  assert.ok(!ev.body.toString().includes('40 minutes'), 'events do not carry note texts');

  assertRefused(await step({ state: 'open' }), 409, /cannot go back/, 'contacted -> open:');
  assertRefused(await step({ state: 'root_cause_found' }), 400, /category/, 'root cause without a category:');
  assertRefused(await step({ state: 'root_cause_found', category: 'the weather' }), 400, /not on the list/);

  r = await step({ state: 'root_cause_found', category: 'wait time', note: 'Two waiters were ill' });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.category, 'wait time');
  ev = await receiver.waitFor('/main', (j) => j.type === 'case.state_changed' && j.case.id === opened.id && j.case.state === 'root_cause_found', 'root_cause_found');
  assertSignedEvent(ev, orgKey, 'case.state_changed');
  assert.equal(ev.json.from, 'contacted');
  assert.equal(ev.json.case.category, 'wait time');

  r = await server.admin('POST', `${path}/notes`, { text: 'Offered a free dessert next visit' }, as('maria'));
  assert.equal(r.status, 201, describeResponse(r));
  r = await step({ state: 'resolved', note: 'Told her what we changed; she was glad' });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.state, 'resolved');
  assert.ok(r.json.resolved_ms > 0);
  ev = await receiver.waitFor('/main', (j) => j.type === 'case.state_changed' && j.case.id === opened.id && j.case.state === 'resolved', 'resolved');
  assertSignedEvent(ev, orgKey, 'case.state_changed');
  assert.equal(ev.json.from, 'root_cause_found');

  assertRefused(await step({ state: 'resolved' }), 409, /nothing follows resolved/);
  assertRefused(await server.admin('PUT', `${path}/category`, { category: 'price' }, as('olena')), 409, /resolved/);
  const done = (await server.admin('GET', path, undefined, as('olena'))).json;
  assert.equal(done.state, 'resolved');
  assert.equal(done.next_state, null);
  assert.deepEqual(done.notes.map((n) => [n.author, n.text]), [
    ['olena', 'Called her, she was kept waiting 40 minutes'],
    ['olena', 'Two waiters were ill'],
    ['maria', 'Offered a free dessert next visit'],
    ['olena', 'Told her what we changed; she was glad'],
  ]);
  assert.ok(done.notes.every((n) => n.time_ms >= opened.opened_ms));
  // Each change is one revision, and each event is numbered by it.
  const revisions = receiver.events('/main', (j) => j.case?.id === opened.id).map((q) => q.json.case.revision);
  assert.deepEqual([...new Set(revisions)].sort((a, b) => a - b), [1, 2, 3, 4, 5]);
  assert.equal((await casesOf(server, '?state=resolved')).filter((c) => c.id === opened.id).length, 1);
  assert.equal((await casesOf(server, '?state=open')).filter((c) => c.id === opened.id).length, 0);
});

test('canvass admin cases lists the cases a token may see', async () => {
  assert.ok(opened, 'needs the case of the first test');
  const r = await server.mustAdminCli(['cases', '--state', 'resolved', '--location', 'Kyiv-Podil']);
  const cases = JSON.parse(r.stdout).cases;
  assert.ok(cases.some((c) => c.id === opened.id), r.stdout);
  assert.ok(cases.every((c) => c.state === 'resolved' && c.location === 'Kyiv-Podil'), r.stdout);
  const staff = await cli(['admin', '--server', server.url, '--token', tokens.taras, 'cases']);
  assert.equal(staff.code, 0, describeRun(staff));
  assert.ok(!JSON.parse(staff.stdout).cases.some((c) => c.id === opened.id), 'not another location\'s');
  const other = await cli(['admin', '--server', server.url, '--token', tokens.taras, 'cases', '--location', 'Київ, Поділ']);
  assert.equal(other.code, 1, describeRun(other));
  assert.match(other.stderr, /403 forbidden: taras does not work at location 'Київ, Поділ'/);
});

test('assignment: staff take a case themselves; managers assign staff of that location only', async () => {
  const d = await enrolledDevice(server, 'Kyiv-Podil');
  await d.mustRecord(detractor(6));
  await d.mustPush();
  const c = await caseOfDevice(server, d.id, 1);
  const path = `/v1/admin/cases/${c.id}/assignee`;
  assertRefused(await server.admin('PUT', path, { assignee: 'maria' }, as('olena')), 403, /themselves/);
  let r = await server.admin('PUT', path, { assignee: 'olena' }, as('olena'));
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.assignee, 'olena');
  assert.ok((await casesOf(server, '?assignee=me', tokens.olena)).some((x) => x.id === c.id));
  assertRefused(await server.admin('PUT', path, { assignee: 'taras' }, as('maria')), 400, /not a user at location/);
  r = await server.admin('PUT', path, { assignee: null }, as('maria'));
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.assignee, null);
  // The owner behind the admin password or initial token takes any case ("Take it" answered
  // 400 "'admin' is not a user at location", issue 13), and gives it back.
  r = await server.admin('PUT', path, { assignee: 'admin' });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.assignee, 'admin');
  r = await server.admin('PUT', path, { assignee: 'olena' });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.assignee, 'olena', 'the owner assigns staff of the location');
  r = await server.admin('PUT', path, { assignee: null });
  assert.equal(r.json.assignee, null);
  const ev = await receiver.waitFor('/main', (j) => j.type === 'case.assigned' && j.case.id === c.id && j.by === 'maria', 'case.assigned');
  assertSignedEvent(ev, orgKey, 'case.assigned');
});

test('roles: only the owner edits users, webhooks and the root-cause list; others get 403 with a reason', async () => {
  for (const [method, p, body] of [
    ['GET', '/v1/admin/users'], ['POST', '/v1/admin/users', { name: 'x1', role: 'owner', password: PASSWORD }],
    ['GET', '/v1/admin/webhooks'], ['PUT', '/v1/admin/case-categories', { categories: ['x'] }],
    ['GET', '/v1/admin/devices'], ['GET', '/v1/admin/export'], ['POST', '/v1/admin/enroll-codes', { location: 'X' }],
  ]) {
    // A manager gets the export of their locations (tested below); staff never.
    for (const who of p === '/v1/admin/export' ? ['olena'] : ['olena', 'maria']) {
      assertRefused(await server.admin(method, p, body, as(who)), 403, /owner role/, `${who}: ${method} ${p}:`);
    }
  }
  // Managers (and the owner) are told whom a case may be given to: the users of its location.
  assert.ok(opened, 'needs the case of the first test');
  const forManager = await server.admin('GET', `/v1/admin/cases/${opened.id}`, undefined, as('maria'));
  assert.deepEqual([...forManager.json.assignees].sort(), ['maria', 'olena']);
  assert.deepEqual([...(await server.mustAdmin('GET', `/v1/admin/cases/${opened.id}`)).json.assignees].sort(), ['maria', 'olena']);
  const forStaff = await server.admin('GET', `/v1/admin/cases/${opened.id}`, undefined, as('olena'));
  assert.equal(forStaff.json.assignees, undefined, 'staff take a case themselves: no list');
  const me = await server.admin('GET', '/v1/admin/me', undefined, as('maria'));
  assert.deepEqual(me.json, { name: 'maria', role: 'manager', locations: ['Kyiv-Podil'] });
  assert.deepEqual((await server.mustAdmin('GET', '/v1/admin/me')).json, { name: 'admin', role: 'owner', locations: [] });
  // Everyone reads the list; the owner edits it.
  const list = await server.admin('GET', '/v1/admin/case-categories', undefined, as('olena'));
  assert.deepEqual(list.json.categories, ['price', 'staff', 'product quality', 'wait time', 'cleanliness', 'other']);
  const edited = await server.mustAdmin('PUT', '/v1/admin/case-categories', { categories: ['price', 'staff', 'noise'] });
  assert.deepEqual(edited.json.categories, ['price', 'staff', 'noise']);
  assert.deepEqual((await server.admin('GET', '/v1/admin/case-categories', undefined, as('olena'))).json.categories, ['price', 'staff', 'noise']);
  assertRefused(await server.admin('PUT', '/v1/admin/case-categories', { categories: ['a', 'a'] }), 400, /twice/);
  await server.mustAdmin('PUT', '/v1/admin/case-categories', { categories: ['price', 'staff', 'product quality', 'wait time', 'cleanliness', 'other'] });
});

test('users: names are unique, passwords long, a deleted user\'s sessions end', async () => {
  assertRefused(await server.admin('POST', '/v1/admin/users', { name: 'olena', role: 'staff', locations: ['Kyiv-Podil'], password: PASSWORD }), 409, /exists/);
  assertRefused(await server.admin('POST', '/v1/admin/users', { name: 'ivan', role: 'staff', locations: ['Kyiv-Podil'], password: 'short' }), 400, /at least 10/);
  assertRefused(await server.admin('POST', '/v1/admin/users', { name: 'ivan', role: 'staff', password: PASSWORD }), 400, /locations/);
  assertRefused(await server.admin('POST', '/v1/admin/users', { name: 'admin', role: 'owner', password: PASSWORD }), 400, /admin/);
  assertRefused(await server.admin('POST', '/v1/admin/users', { name: 'Ivan K', role: 'staff', locations: ['x'], password: PASSWORD }), 400, /name/);
  await addUser(server, 'ivan', 'staff', ['Kyiv-Podil']);
  const listed = (await server.mustAdmin('GET', '/v1/admin/users')).json.users;
  assert.ok(listed.some((u) => u.name === 'ivan' && u.role === 'staff'));
  assert.ok(!JSON.stringify(listed).includes('argon2'), 'password hashes never leave the server');
  assertRefused(await server.admin('POST', '/v1/admin/login', { user: 'ivan', password: 'wrong password!' }, { token: null }), 401, /wrong user name or password/);
  const t = await login(server, 'ivan');
  assert.equal((await server.admin('GET', '/v1/admin/cases', undefined, { token: t })).status, 200);
  const moved = await server.mustAdmin('PUT', '/v1/admin/users/ivan', { locations: ['Lviv-Rynok'] });
  assert.deepEqual(moved.json.locations, ['Lviv-Rynok']);
  assert.equal((await server.admin('GET', `/v1/admin/cases/${opened.id}`, undefined, { token: t })).status, 404,
    'a new location list applies at once');
  assert.equal((await server.admin('DELETE', '/v1/admin/users/ivan')).status, 204);
  assertRefused(await server.admin('GET', '/v1/admin/cases', undefined, { token: t }), 401, /./, 'a deleted user\'s session:');
  assertRefused(await server.admin('DELETE', '/v1/admin/users/ivan'), 404, /no user/);
});

test('a receiver that is down gets the event after a retry; the delivery list shows the attempts', { timeout: 60000 }, async () => {
  assert.ok(opened, 'needs the case of the first test');
  const port = receiver.port;
  await receiver.close();
  const r = await server.admin('POST', `/v1/admin/cases/${opened.id}/notes`, { text: 'Sent her a voucher' }, as('olena'));
  assert.equal(r.status, 201, describeResponse(r));
  const eventId = `${opened.id}/${r.json.revision}`;
  const failing = await until(async () => {
    const ds = (await server.mustAdmin('GET', '/v1/admin/webhooks/deliveries')).json.deliveries;
    return ds.find((d) => d.event === eventId && d.attempts >= 1 && d.state === 'pending');
  }, 'a failed first attempt');
  assert.equal(failing.last_status, 0);
  assert.match(failing.last_error, /no answer/);
  await receiver.listen(port);
  const ev = await receiver.waitFor('/main', (j) => j.id === eventId, 'the retried case.note_added');
  assertSignedEvent(ev, orgKey, 'case.note_added');
  assert.equal(ev.headers['x-canvass-delivery'], `${eventId}@${failing.webhook}`, 'a retry keeps the delivery id');
  const delivered = await until(async () => {
    const ds = (await server.mustAdmin('GET', '/v1/admin/webhooks/deliveries?state=delivered')).json.deliveries;
    return ds.find((d) => d.event === eventId);
  }, 'delivered');
  assert.ok(delivered.attempts >= 2, `attempts ${delivered.attempts}`);
  assert.equal(delivered.last_status, 204);
});

test('a receiver answering 500 is retried too', { timeout: 60000 }, async () => {
  receiver.status = 500;
  const r = await server.admin('POST', `/v1/admin/cases/${opened.id}/notes`, { text: 'Called again' }, as('olena'));
  const eventId = `${opened.id}/${r.json.revision}`;
  await until(async () => receiver.events('/main', (j) => j.id === eventId).length >= 2, 'two attempts');
  receiver.status = 204;
  await until(async () => {
    const ds = (await server.mustAdmin('GET', '/v1/admin/webhooks/deliveries?state=delivered')).json.deliveries;
    return ds.find((d) => d.event === eventId);
  }, 'delivered after the 500s');
  const failed = (await server.mustAdmin('GET', '/v1/admin/webhooks/deliveries?state=failed')).json.deliveries;
  assert.ok(!failed.some((d) => d.event === eventId));
});

test('a tampered body or a foreign key fails verification in the receiver', () => {
  const ev = receiver.events('/main', (j) => j.type === 'case.opened')[0];
  assert.ok(ev, 'needs a received case.opened');
  assert.ok(verifies(ev, orgKey), 'the original verifies');
  const tampered = Buffer.from(ev.body);
  const at = tampered.indexOf('"score":3');
  assert.ok(at > 0, ev.body.toString());
  tampered[at + 8] = '9'.charCodeAt(0);  // a detractor made a promoter
  assert.ok(!verifies(ev, orgKey, tampered), 'a changed score must not verify');
  assert.ok(!verifies(ev, orgKey, Buffer.concat([ev.body, Buffer.from(' ')])), 'an appended byte must not verify');
  assert.ok(!verifies(ev, wire.newDeviceKey().publicRaw), 'another key must not verify');
});

test('webhooks: only http(s) URLs; deleting one stops its deliveries', async () => {
  assertRefused(await server.admin('POST', '/v1/admin/webhooks', { url: 'ftp://example.com/x' }), 400, /http/);
  assertRefused(await server.admin('POST', '/v1/admin/webhooks', { url: 'http://user:pw@example.com/x' }), 400, /user/);
  const extra = await server.mustAdmin('POST', '/v1/admin/webhooks', { url: receiver.url('/extra') }, 201);
  assert.ok((await server.mustAdmin('GET', '/v1/admin/webhooks')).json.webhooks.some((w) => w.id === extra.json.id));
  assert.equal((await server.admin('DELETE', `/v1/admin/webhooks/${extra.json.id}`)).status, 204);
  assertRefused(await server.admin('DELETE', `/v1/admin/webhooks/${extra.json.id}`), 404, /no webhook/);
  const note = await server.admin('POST', `/v1/admin/cases/${opened.id}/notes`, { text: 'after the delete' }, as('olena'));
  // Not a sleep: the note's event reaches the webhook that stays, and once no delivery of it is
  // pending, a delivery to the deleted one would have been made.
  const eventId = `${opened.id}/${note.json.revision}`;
  await receiver.waitFor('/main', (j) => j.id === eventId, 'the note after the delete');
  await until(async () => !(await server.mustAdmin('GET', '/v1/admin/webhooks/deliveries?state=pending')).json.deliveries
    .some((d) => d.event === eventId), 'no delivery of the note pending');
  assert.equal(receiver.events('/extra').length, 0, 'a deleted webhook gets nothing');
});

// A second server with a short SLA (0.0005 h = 1.8 s): the overdue case is escalated, once.
test('an overdue case is escalated once to the location\'s managers (case.escalated)', { timeout: 90000 }, async () => {
  const fast = await startServer({ publish: [RESTAURANT], extraArgs: ['--case-sla-hours', '0.0005', '--test-clock'] });
  try {
    await fast.mustAdmin('POST', '/v1/admin/webhooks', { url: receiver.url('/fast') }, 201);
    for (const [name, role, locations] of [['maria', 'manager', ['Kyiv-Podil']], ['petro', 'manager', ['Kyiv-Podil', 'Lviv-Rynok']],
      ['oksana', 'manager', ['Lviv-Rynok']], ['olena', 'staff', ['Kyiv-Podil']]]) {
      await addUser(fast, name, role, locations);
    }
    const maria = await login(fast, 'maria');
    const d = await enrolledDevice(fast, 'Kyiv-Podil');
    await d.mustRecord(detractor(7));
    await d.mustPush();
    const c = await caseOfDevice(fast, d.id, 1);
    assert.equal(c.due_ms - c.opened_ms, 1800);
    await fast.advanceClock(1800);  // its deadline passes without waiting for it
    const ev = await receiver.waitFor('/fast', (j) => j.type === 'case.escalated' && j.case.id === c.id, 'case.escalated', 30000);
    assertSignedEvent(ev, Buffer.from((await fast.mustAdmin('GET', '/v1/admin/webhooks')).json.org_sign_key, 'hex'), 'case.escalated');
    assert.deepEqual([...ev.json.managers].sort(), ['maria', 'petro'], 'the managers of Kyiv-Podil, not Lviv\'s');
    assert.ok(ev.json.case.escalated_ms >= c.due_ms);
    const mine = await casesOf(fast, '?escalated=true', maria);
    assert.ok(mine.some((x) => x.id === c.id && x.overdue === true), 'the manager sees it among the escalated');
    assert.ok((await casesOf(fast, '?overdue=true', maria)).some((x) => x.id === c.id));
    // Several sweeps later, still one escalation. Not a sleep: a case opened after the first was
    // escalated is escalated by a later sweep; once its event is in and no delivery is pending, a
    // second escalation of the first would have arrived.
    await d.mustRecord(detractor(8));
    await d.mustPush();
    const later = await caseOfDevice(fast, d.id, 2);
    await fast.advanceClock(1800);
    await receiver.waitFor('/fast', (j) => j.type === 'case.escalated' && j.case.id === later.id, 'the later case.escalated', 30000);
    await until(async () => (await fast.mustAdmin('GET', '/v1/admin/webhooks/deliveries?state=pending')).json.deliveries.length === 0,
      'no delivery pending');
    assert.equal(receiver.events('/fast', (j) => j.type === 'case.escalated' && j.case.id === c.id).length, 1, 'escalated once');
    // Resolving it afterwards is still possible; a resolved case is no longer overdue.
    const olena = await login(fast, 'olena');
    for (const [state, extra] of [['contacted'], ['root_cause_found', { category: 'staff' }], ['resolved']]) {
      const r = await fast.admin('POST', `/v1/admin/cases/${c.id}/state`, { state, ...extra }, { token: olena });
      assert.equal(r.status, 200, describeResponse(r));
    }
    assert.ok(!(await casesOf(fast, '?overdue=true')).some((x) => x.id === c.id));
  } finally {
    await fast.stop();
  }
});

test('--case-sla-hours refuses a value that is not a positive number', async () => {
  await assert.rejects(startServer({ extraArgs: ['--case-sla-hours', 'soon'] }), /case-sla-hours takes a positive number/);
  await assert.rejects(startServer({ port: await freePort(), extraArgs: ['--webhook-retry-seconds', '0'] }), /webhook-retry-seconds/);
});

test('managers get the report and the export of their locations; staff get neither (issue 13)', async () => {
  // Records at both locations, so that a leak would show.
  const kyiv = await enrolledDevice(server, 'Kyiv-Podil');
  const lviv = await enrolledDevice(server, 'Lviv-Rynok');
  await kyiv.mustRecord(restaurantAnswers(1, 'k'));
  await lviv.mustRecord(restaurantAnswers(2, 'l'));
  await kyiv.mustPush();
  await lviv.mustPush();
  const owner = parseJsonl((await server.mustAdmin('GET', '/v1/admin/export?format=jsonl')).text);
  assert.ok(owner.some((r) => r.tags.location === 'Lviv-Rynok') && owner.some((r) => r.tags.location === 'Kyiv-Podil'));

  const jsonl = await server.admin('GET', '/v1/admin/export?format=jsonl', undefined, as('maria'));
  assert.equal(jsonl.status, 200, describeResponse(jsonl));
  const mine = parseJsonl(jsonl.text);
  assert.equal(mine.length, owner.filter((r) => r.tags.location === 'Kyiv-Podil').length, 'every Kyiv record');
  assert.ok(mine.every((r) => r.tags.location === 'Kyiv-Podil'), 'and no other location\'s');
  assert.ok(!jsonl.text.includes(PHONE) && !jsonl.text.includes('sealed'), 'no contact details');
  const csv = await server.admin('GET', '/v1/admin/export?format=csv&location=Kyiv-Podil', undefined, as('maria'));
  assert.equal(csv.status, 200, describeResponse(csv));
  assert.ok(!csv.text.includes('Lviv-Rynok'));
  const html = await server.admin('GET', '/v1/admin/report?survey=restaurant&format=html&where=location%3DKyiv-Podil', undefined, as('maria'));
  assert.equal(html.status, 200, describeResponse(html));
  assert.match(html.headers['content-type'], /text\/html/);
  const json = await server.admin('GET', '/v1/admin/report?survey=restaurant&format=json', undefined, as('maria'));
  assert.equal(json.status, 200, describeResponse(json));
  assert.equal(json.json.offered, mine.filter((r) => r.survey === 'restaurant').length,
    'the report counts her locations only');

  assertRefused(await server.admin('GET', '/v1/admin/export?format=csv&location=Lviv-Rynok', undefined, as('maria')), 403, /maria does not work at location 'Lviv-Rynok'/);
  assertRefused(await server.admin('GET', '/v1/admin/report?survey=restaurant&where=location%3DLviv-Rynok', undefined, as('maria')), 403, /Lviv-Rynok/);
  assertRefused(await server.admin('GET', '/v1/admin/export', undefined, as('olena')), 403, /owner role/);
  assertRefused(await server.admin('GET', '/v1/admin/report?survey=restaurant', undefined, as('olena')), 403, /owner role/);
});
