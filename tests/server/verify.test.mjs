// `canvass-server verify` (native/server/verify_command.cpp): every stored record re-checked
// against its device's enrolled key and chain. A clean store verifies; a record altered in the
// database, one deleted from the middle of a chain, and a moved head are each reported with the
// device and seq, and the exit code says so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, cleanup, enrolledDevice, RESTAURANT, binary, run, describeRun } from './harness.mjs';

after(cleanup);

// Python's sqlite3 on the server's database (python3 is installed by toolchains/setup.sh).
function python(program, ...args) {
  const r = spawnSync('python3', ['-c', program, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python3: ${r.stderr}`);
}
const sql = (dbFile, statement) => python(`import sqlite3,sys
c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()`, dbFile, statement);

const verify = (dataDir) => run(binary('canvass-server'), ['verify', '--data', dataDir]);

test('verify passes a clean store and reports altered, missing and misplaced records', { timeout: 120000 }, async () => {
  const server = await startServer({ publish: [RESTAURANT] });
  const a = await enrolledDevice(server);
  const b = await enrolledDevice(server);
  await a.recordMany(5, { tag: 'va' });
  await b.recordMany(3, { tag: 'vb' });
  await a.mustPush();
  await b.mustPush();

  // While the server runs (it only reads).
  const clean = await verify(server.dataDir);
  assert.equal(clean.code, 0, describeRun(clean));
  assert.match(clean.stdout, /verified 8 records of 2 devices: all good/);
  await server.stop();

  const db = path.join(server.dataDir, 'canvass.db');
  // One byte of a's third record, inside the signed bytes.
  python(`import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
(e,) = c.execute("SELECT envelope FROM records WHERE device_id = ? AND seq = 3", (sys.argv[2],)).fetchone()
e = bytearray(e); e[40] ^= 1
c.execute("UPDATE records SET envelope = ? WHERE device_id = ? AND seq = 3", (bytes(e), sys.argv[2]))
c.commit()`, db, a.id);
  // b's second record gone from the middle of its chain.
  sql(db, `DELETE FROM records WHERE device_id = '${b.id}' AND seq = 2`);
  const bad = await verify(server.dataDir);
  assert.equal(bad.code, 1, describeRun(bad));
  assert.match(bad.stdout, new RegExp(`device ${a.id} seq 3: .*(signature|unreadable)`));
  assert.match(bad.stdout, new RegExp(`device ${b.id} seq 3: expected seq 2`));
  // Its hash changed, so the next record's prev_hash no longer matches: the chain breaks there.
  assert.match(bad.stdout, new RegExp(`device ${a.id} seq 4: prev_hash does not match`));
  assert.doesNotMatch(bad.stdout, new RegExp(`device ${a.id} seq [125]:`), 'the other records of a are fine');
  assert.match(bad.stdout, /verified 7 records of 2 devices: [1-9]\d* problem/);

  // A head moved back: the stored records beyond it are not covered by the chain head.
  sql(db, `UPDATE devices SET head_seq = 4 WHERE device_id = '${a.id}'`);
  const head = await verify(server.dataDir);
  assert.equal(head.code, 1);
  assert.match(head.stdout, new RegExp(`device ${a.id} seq 4: the device's head \\(seq 4\\) is not its last stored record \\(seq 5\\)`));

  const usage = await run(binary('canvass-server'), ['verify']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--data DIR is required/);
});
