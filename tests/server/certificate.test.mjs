// A device whose certificate was not signed by this organisation is refused: the device row of
// another organisation's server, copied into this server's database (what an attacker with write
// access to the disk, or a botched migration, would produce), must not be trusted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, cleanup, enrolledDevice, RESTAURANT } from './harness.mjs';

after(cleanup);

test('a device certified by another organisation is refused (403), nothing stored', async (t) => {
  const ours = await startServer({ publish: [RESTAURANT] });
  const theirs = await startServer({ publish: [RESTAURANT] });
  t.after(() => Promise.all([ours.stop(), theirs.stop()]));

  const foreign = await enrolledDevice(theirs, 'Elsewhere');
  await foreign.recordMany(3);
  // Copy the foreign device's row (its certificate signed by the other server's key) into ours.
  execFileSync('sqlite3', [path.join(ours.dataDir, 'canvass.db'),
    `ATTACH '${path.join(theirs.dataDir, 'canvass.db')}' AS theirs;
     INSERT INTO devices SELECT * FROM theirs.devices WHERE device_id = '${foreign.id}';`]);
  assert.ok((await ours.devices()).some((d) => d.device_id === foreign.id), 'row copied');

  const body = await foreign.batch();
  const r = await ours.postRecords(body);
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.message, /certificate/);
  assert.match(r.json.message, /organisation/);
  assert.equal((await ours.exportRecords()).length, 0);

  // The same batch is fine at the organisation that certified the device.
  assert.equal((await theirs.postRecords(body)).status, 200);
});
