// The CLI as an operator uses it (docs/operations.md): `canvass admin login` keeps a session in
// the user's config directory (0600 in a 0700 folder) that later admin commands use for that
// server only, and `logout` ends it on the server; `canvass device record` names every answer it
// refuses with the reason, and says when and why a record becomes partial.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, cleanup, cli, tempDir, describeRun, enrolledDevice, restaurantAnswers, RESTAURANT,
} from './harness.mjs';

after(cleanup);

const PASSWORD = 'correct horse battery';

test('admin login keeps a private session that later commands use; logout ends it', async (t) => {
  const server = await startServer({ publish: [RESTAURANT] });
  t.after(() => server.stop());
  await server.mustAdmin('POST', '/v1/admin/password', { password: PASSWORD }, 204);
  const config = tempDir('canvass-config-');
  const env = { XDG_CONFIG_HOME: config, CANVASS_TOKEN: '' };
  const file = path.join(config, 'canvass', 'session.json');

  // No token and no session: the message says how to get one.
  const none = await cli(['admin', '--server', server.url, 'devices'], { env });
  assert.equal(none.code, 2, describeRun(none));
  assert.match(none.stderr, /canvass admin login --server/, describeRun(none));

  const wrong = await cli(['admin', 'login', '--server', server.url], { env, input: 'not the password\n' });
  assert.equal(wrong.code, 1, describeRun(wrong));
  assert.match(wrong.stderr, /401.*wrong password/, describeRun(wrong));
  assert.ok(!fs.existsSync(file), 'a failed login keeps nothing');

  const login = await cli(['admin', 'login', '--server', `${server.url}/`], { env, input: `${PASSWORD}\n` });
  assert.equal(login.code, 0, describeRun(login));
  assert.match(login.stdout, new RegExp(`logged in to ${server.url} as admin; session kept in ${file}`));
  assert.doesNotMatch(login.stdout + login.stderr, new RegExp(PASSWORD), 'the password is never echoed');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  const session = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(session.server, server.url);
  assert.match(session.token, /^[0-9a-f]{64}$/);

  // Later commands: no --token, and --server may be left out.
  const devices = await cli(['admin', '--server', server.url, 'devices'], { env });
  assert.equal(devices.code, 0, describeRun(devices));
  assert.deepEqual(JSON.parse(devices.stdout), { devices: [] });
  const code = await cli(['admin', 'enroll-code', '--location', 'Kyiv-Podil'], { env });
  assert.equal(code.code, 0, describeRun(code));
  assert.match(code.stdout.trim(), /^\S+$/);
  // The token is never sent to another server.
  const elsewhere = await cli(['admin', '--server', 'http://127.0.0.1:9', 'devices'], { env });
  assert.equal(elsewhere.code, 2, describeRun(elsewhere));
  assert.match(elsewhere.stderr, /needs --token/, describeRun(elsewhere));

  const logout = await cli(['admin', 'logout'], { env });
  assert.equal(logout.code, 0, describeRun(logout));
  assert.match(logout.stdout, /logged out of/);
  assert.ok(!fs.existsSync(file), 'logout deletes the session file');
  const ended = await server.admin('GET', '/v1/admin/devices', undefined, { token: session.token });
  assert.equal(ended.status, 401, 'the session is over on the server, not only on this disk');
  const again = await cli(['admin', 'logout'], { env });
  assert.equal(again.code, 1, describeRun(again));
  assert.match(again.stderr, /not logged in/);

  // Without XDG_CONFIG_HOME: ~/.config/canvass; with --user: that user's session.
  const home = tempDir('canvass-home-');
  const homeEnv = { XDG_CONFIG_HOME: '', HOME: home, CANVASS_TOKEN: '' };
  const adminLogin = await cli(['admin', 'login', '--server', server.url], { env: homeEnv, input: `${PASSWORD}\n` });
  assert.equal(adminLogin.code, 0, describeRun(adminLogin));
  const made = await cli(['admin', '--server', server.url, 'cases'], { env: homeEnv });
  assert.equal(made.code, 0, describeRun(made));
  const token = JSON.parse(fs.readFileSync(path.join(home, '.config', 'canvass', 'session.json'), 'utf8')).token;
  const user = await server.admin('POST', '/v1/admin/users',
    { name: 'olena', role: 'staff', locations: ['Kyiv-Podil'], password: 'olena password 1' }, { token });
  assert.equal(user.status, 201, user.text);
  const olena = await cli(['admin', 'login', '--server', server.url, '--user', 'olena'], { env: homeEnv, input: 'olena password 1\n' });
  assert.equal(olena.code, 0, describeRun(olena));
  assert.match(olena.stdout, /as olena/);
  const cases = await cli(['admin', 'cases'], { env: homeEnv });
  assert.equal(cases.code, 0, describeRun(cases));
  const forbidden = await cli(['admin', 'devices'], { env: homeEnv });
  assert.equal(forbidden.code, 1, 'a staff session is a staff session');
  assert.match(forbidden.stderr, /403/, describeRun(forbidden));
});

test('device record names each refused answer and says why a record is partial', async (t) => {
  const server = await startServer({ publish: [RESTAURANT] });
  t.after(() => server.stop());
  const device = await enrolledDevice(server);

  // contact is shown only to detractors (show_if recommend 0..6).
  const hidden = await device.record({ ...restaurantAnswers(0), recommend: 9, contact: { consent: true, details: 'Olena +380...' } });
  assert.equal(hidden.code, 1, describeRun(hidden));
  assert.match(hidden.stderr, /'contact' is not asked: show_if shows it only when 'recommend' is 0\.\.6, and 'recommend' is 9/, describeRun(hidden));

  // staff after an unanswered required price: named, with the question it waits for.
  const after = await device.record({ recommend: 8, staff: { importance: 1, satisfaction: 4 } });
  assert.equal(after.code, 1, describeRun(after));
  assert.match(after.stderr, /'staff' comes after required question 'price', which has no answer/, describeRun(after));

  // Two refused answers: both named.
  const two = await device.record({ recommend: 8, staff: { importance: 1, satisfaction: 4 }, place: { importance: 1, satisfaction: 4 } });
  assert.match(two.stderr, /'place' comes after.*'staff' comes after|'staff'.*'place'/s, describeRun(two));

  // Leaving the CSI answers out: recorded, as partial, and said so.
  const partial = await device.record({ recommend: 8, reason: 'ok' });
  assert.equal(partial.code, 0, describeRun(partial));
  assert.match(partial.stdout, /\(partial\)/);
  assert.match(partial.stderr, /outcome partial: required question 'price' \(csi_attribute\) has no answer.*importance.*satisfaction/, describeRun(partial));
  const told = await device.record({ recommend: 8 }, { outcome: 'completed' });
  assert.equal(told.code, 1, describeRun(told));
  assert.match(told.stderr, /--outcome completed, but question 'price' needs an answer \(csi_attribute, required\)/);
  // A complete one says nothing on stderr.
  const complete = await device.record(restaurantAnswers(3));
  assert.equal(complete.code, 0, describeRun(complete));
  assert.equal(complete.stderr, '');
  assert.match(complete.stdout, /\(completed\)/);
});
