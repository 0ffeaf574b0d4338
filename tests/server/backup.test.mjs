// Backup and restore (`canvass-server backup` / `restore`, docs/operations.md): a backup taken
// while the server runs and devices push restores into a server that holds the same keys and
// records — a resent batch gets the byte-identical receipt, the export is identical, devices go
// on pushing — and restore refuses to overwrite a data directory or to use a damaged file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  storedPrefix, startServer, cleanup, enrolledDevice, run, binary, tempDir, describeRun, describeResponse,
  assertExactlySeqs, RESTAURANT,
} from './harness.mjs';

after(cleanup);

function serverCli(args) {
  return run(binary('canvass-server'), args, { timeout: 120000 });
}

async function mustServerCli(args) {
  const r = await serverCli(args);
  assert.equal(r.code, 0, `expected exit 0\n${describeRun(r)}`);
  return r;
}

test('a backup taken online restores to a server with the same keys, records and receipts', async () => {
  const a = await startServer({ publish: [RESTAURANT] });
  const device = await enrolledDevice(a);
  await device.recordMany(6);
  const batch = await device.batch();
  const receipt = await a.postRecords(batch);
  assert.equal(receipt.status, 200, describeResponse(receipt));

  // A second device pushes in small batches while the backup runs.
  const busy = await enrolledDevice(a);
  await busy.recordMany(40, { tag: 'busy' });
  const busyAll = await busy.batch();  // all 40, before receipts let the device drop them
  const pushing = busy.push({ maxBatch: 2, timeout: 120000 });

  const dir = tempDir('canvass-backup-');
  const file = path.join(dir, 'canvass.backup');
  const b = await mustServerCli(['backup', '--data', a.dataDir, '--out', file]);
  assert.match(b.stdout, /SQLite database \(\d+ records\)/, describeRun(b));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'the backup holds secret keys: owner only');
  assert.deepEqual(fs.readdirSync(dir), ['canvass.backup'], 'no temporary file is left behind');
  const pushed = await pushing;
  assert.equal(pushed.code, 0, describeRun(pushed));

  // Restore refuses a non-empty directory without --force, and changes nothing.
  const before = fs.readFileSync(path.join(a.dataDir, 'keys', 'org-sign.key'));
  const refused = await serverCli(['restore', '--data', a.dataDir, '--in', file]);
  assert.equal(refused.code, 1, describeRun(refused));
  assert.match(refused.stderr, /not empty.*--force/s, describeRun(refused));
  assert.deepEqual(fs.readFileSync(path.join(a.dataDir, 'keys', 'org-sign.key')), before);

  const restoredDir = path.join(tempDir('canvass-restored-'), 'data');
  await mustServerCli(['restore', '--data', restoredDir, '--in', file]);
  for (const k of ['org-sign.key', 'org-box.key', 'customer.key']) {
    const st = fs.statSync(path.join(restoredDir, 'keys', k));
    assert.equal(st.mode & 0o777, 0o600, `restored key ${k} must be owner-only`);
  }
  const r = await startServer({ dataDir: restoredDir });

  // The resent batch is already stored: the identical receipt, byte for byte.
  const again = await r.postRecords(batch);
  assert.equal(again.status, 200, describeResponse(again));
  assert.ok(again.buf.equals(receipt.buf), 'a restored server must answer a resent batch with the identical receipt');

  // The busy device's records in the backup are a prefix of its log, and it goes on from there.
  const restoredExport = await r.exportRecords();
  const k = storedPrefix(restoredExport, busy.id, 'restored');
  assert.ok(k <= 40, `at most the 40 records pushed, got ${k}`);
  const rest = await r.postRecords(busyAll);
  assert.equal(rest.status, 200, `the device's unacknowledged records go on to the restored server: ${describeResponse(rest)}`);
  assertExactlySeqs(await r.exportRecords(), busy.id, 40, 'after the resend');

  // With every record on both, the exports are identical.
  const exportA = await a.mustAdmin('GET', '/v1/admin/export?format=jsonl');
  const exportR = await r.mustAdmin('GET', '/v1/admin/export?format=jsonl');
  assert.equal(exportR.text, exportA.text, 'the restored server exports what the original exports');
  assert.equal((await r.devices()).length, 2);
  await r.stop();

  // --force replaces a stopped server's data directory; the original then serves the backup's
  // state (the busy device's later records are not in it, and it resends them).
  await a.stop();
  await mustServerCli(['restore', '--data', a.dataDir, '--in', file, '--force']);
  const a2 = await startServer({ dataDir: a.dataDir });
  assert.equal(storedPrefix(await a2.exportRecords(), busy.id, 'forced restore'), k);
  const replay = await a2.postRecords(batch);
  assert.ok(replay.buf.equals(receipt.buf), 'identical receipt after a forced restore');
  await a2.stop();
});

test('restore refuses a damaged or truncated backup and leaves nothing behind', async () => {
  const a = await startServer({ publish: [RESTAURANT] });
  const device = await enrolledDevice(a);
  await device.recordMany(3);
  await device.mustPush();
  const dir = tempDir('canvass-backup-');
  const file = path.join(dir, 'canvass.backup');
  await mustServerCli(['backup', '--data', a.dataDir, '--out', file]);
  await a.stop();
  const good = fs.readFileSync(file);

  const damaged = Buffer.from(good);
  damaged[Math.floor(damaged.length / 2)] ^= 0x40;
  fs.writeFileSync(path.join(dir, 'damaged'), damaged);
  fs.writeFileSync(path.join(dir, 'truncated'), good.subarray(0, good.length - 100));
  fs.writeFileSync(path.join(dir, 'other'), 'not a backup at all');
  for (const [name, pattern] of [['damaged', /damaged|checksum/], ['truncated', /truncated/], ['other', /not a canvass-server backup/]]) {
    const target = path.join(tempDir('canvass-restored-'), 'data');
    const r = await serverCli(['restore', '--data', target, '--in', path.join(dir, name)]);
    assert.equal(r.code, 1, `${name}: ${describeRun(r)}`);
    assert.match(r.stderr, pattern, `${name}: ${describeRun(r)}`);
    assert.ok(!fs.existsSync(target), `${name}: nothing may be created before the file is checked`);
  }

  const usage = await serverCli(['backup', '--data', a.dataDir]);
  assert.equal(usage.code, 2, describeRun(usage));
  const missing = await serverCli(['backup', '--data', path.join(dir, 'nowhere'), '--out', path.join(dir, 'x')]);
  assert.equal(missing.code, 1, describeRun(missing));
  assert.match(missing.stderr, /missing/);
});

test('backup into a missing folder says so, and an existing backup is replaced only with --force', async () => {
  const a = await startServer({ publish: [RESTAURANT] });
  const device = await enrolledDevice(a);
  await device.recordMany(2);
  await device.mustPush();
  const dir = tempDir('canvass-backup-');

  const nowhere = path.join(dir, 'no', 'such', 'folder');
  const missing = await serverCli(['backup', '--data', a.dataDir, '--out', path.join(nowhere, 'x.backup')]);
  assert.equal(missing.code, 1, describeRun(missing));
  assert.match(missing.stderr, new RegExp(`no such folder: ${nowhere}`), describeRun(missing));
  assert.doesNotMatch(missing.stderr, /VACUUM|unable to open/, describeRun(missing));
  assert.ok(!fs.existsSync(path.join(dir, 'no')), 'nothing is created');

  const file = path.join(dir, 'canvass.backup');
  fs.writeFileSync(file, 'an older backup');
  const refused = await serverCli(['backup', '--data', a.dataDir, '--out', file]);
  assert.equal(refused.code, 1, describeRun(refused));
  assert.match(refused.stderr, /already exists.*--force/s, describeRun(refused));
  assert.equal(fs.readFileSync(file, 'utf8'), 'an older backup', 'the existing file is untouched');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['canvass.backup'], 'no temporary file is left');

  const forced = await mustServerCli(['backup', '--data', a.dataDir, '--out', file, '--force']);
  assert.match(forced.stdout, /SQLite database \(2 records\)/, describeRun(forced));
  assert.equal(fs.readFileSync(file).subarray(0, 8).toString('latin1'), 'CNVSBAK1', 'replaced by a backup');
  await a.stop();
});
