// Stopping and crashing the server (SQLite): SIGTERM is a clean stop and a restart keeps the
// organisation, the token and the data; `kill -9` in the middle of a push loses nothing that a
// receipt covered, and the device's next push completes the rest with nothing stored twice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  storedPrefix, startServer, cleanup, enrolledDevice, restaurantAnswers, assertExactlySeqs, describeRun,
  describeResponse, pool, RESTAURANT, sleep,
} from './harness.mjs';
import * as wire from './wire.mjs';

const RECORDS = Number(process.env.CANVASS_CRASH_RECORDS || 300);

after(cleanup);

async function lastSeqs(server) {
  return new Map((await server.devices()).map((d) => [d.device_id, d.last_seq]));
}

// Starts the pushes, waits until the server has stored at least `threshold` more records of these
// devices, then kills the server with SIGKILL. Returns the push results.
async function killDuringPush(server, devices, { maxBatch, threshold }) {
  const base = await lastSeqs(server);
  let finished = 0;
  const pushes = devices.map((d) => d.push({ maxBatch, timeout: 120000 }).then((r) => { finished += 1; return r; }));
  const deadline = Date.now() + 60000;
  for (;;) {
    const now = await lastSeqs(server);
    const progress = devices.reduce((s, d) => s + (now.get(d.id) - base.get(d.id)), 0);
    if (progress >= threshold) break;
    assert.ok(finished < devices.length, 'the pushes finished before the server could be killed: raise CANVASS_CRASH_RECORDS');
    assert.ok(Date.now() < deadline, `no progress to kill at: ${progress} records stored in 60 s`);
    await sleep(5);
  }
  const runningAtKill = devices.length - finished;
  await server.kill();
  assert.ok(runningAtKill > 0, 'at least one push was still running when the server was killed');
  return Promise.all(pushes);
}

test('SIGTERM stops the server (exit 0); a restart keeps keys, token, surveys and records', { timeout: 120000 }, async () => {
  const s1 = await startServer({ publish: [RESTAURANT] });
  const token = s1.token;
  const d = await enrolledDevice(s1);
  await d.recordMany(5, { tag: 'term' });
  await d.mustPush();
  const before = await s1.exportRecords();
  const stopped = await s1.stop();
  assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM: exit 0\n${s1.stderr}`);
  const s2 = await startServer({ dataDir: s1.dataDir, port: s1.port });
  try {
    assert.equal(s2.token, token, 'the initial admin token is kept');
    assert.deepEqual(await s2.exportRecords(), before, 'the records are kept');
    const surveys = (await s2.mustAdmin('GET', '/v1/admin/surveys')).json.surveys;
    assert.ok(surveys.some((x) => x.survey_id === 'restaurant'), 'the published survey is kept');
    // The device's receipts still verify: the organisation key is the same one.
    await d.recordMany(2, { start: 5, tag: 'term' });
    await d.mustPush();
    assertExactlySeqs(await s2.exportRecords(), d.id, 7);
  } finally {
    await s2.stop();
  }
});

test('SIGTERM during a push: a clean exit 0, and nothing a receipt covered is lost', { timeout: 300000 }, async (t) => {
  let server = await startServer({ publish: [RESTAURANT] });
  const { dataDir, port } = server;
  try {
    const d = await enrolledDevice(server);
    const n = Math.max(60, Math.round(RECORDS / 3));
    await d.recordMany(n, { tag: 'sigterm' });
    const base = await lastSeqs(server);
    let pushDone = false;
    const push = d.push({ maxBatch: 1, timeout: 120000 }).then((r) => { pushDone = true; return r; });
    const deadline = Date.now() + 60000;
    while ((await lastSeqs(server)).get(d.id) - base.get(d.id) < 10) {
      if (pushDone) assert.fail(`the push ended before the stop\n${describeRun(await push)}`);
      assert.ok(Date.now() < deadline, 'no progress in 60 s');
      await sleep(5);
    }
    const t0 = Date.now();
    const stopped = await server.stop(20000);
    t.diagnostic(`stopped in ${Date.now() - t0} ms`);
    assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM during a push: exit 0\n${server.stderr}`);
    assert.ok(Date.now() - t0 < 10000, 'the server stops within 10 s');
    const p = await push;
    assert.ok(p.code === 0 || p.code === 3, `the push ends (exit 0 or 3)\n${describeRun(p)}`);
    const st = await d.status();
    server = await startServer({ dataDir, port });
    const stored = storedPrefix(await server.exportRecords(), d.id, 'after SIGTERM:');
    assert.ok(stored >= st.acked_seq, `acked ${st.acked_seq}, stored ${stored}`);
    await d.mustPush();
    assertExactlySeqs(await server.exportRecords(), d.id, n);
  } finally {
    await server.stop();
  }
});

test(`kill -9 during a push of ${RECORDS} records loses nothing a receipt covered`, { timeout: 600000 }, async (t) => {
  let server = await startServer({ publish: [RESTAURANT] });
  const { dataDir, port } = server;
  try {
    const d = await enrolledDevice(server);
    await d.recordMany(RECORDS, { tag: 'crash' });
    const everything = await d.batch({ max: 500 });
    assert.equal(wire.parseBatch(everything).envelopes.length, Math.min(RECORDS, 500));

    for (let round = 1; round <= 2; round++) {
      const [push] = await killDuringPush(server, [d], { maxBatch: 2, threshold: 20 });
      assert.equal(push.code, 3, `round ${round}: the push lost its server mid-way: exit 3\n${describeRun(push)}`);
      const st = await d.status();
      assert.equal(st.head_seq, RECORDS);
      assert.equal(st.pending, RECORDS - st.acked_seq, JSON.stringify(st));
      server = await startServer({ dataDir, port });
      const stored = storedPrefix(await server.exportRecords(), d.id, `round ${round}, after the restart:`);
      assert.ok(stored >= st.acked_seq,
        `round ${round}: the device holds a receipt up to seq ${st.acked_seq} but only ${stored} records survived the crash`);
      assert.ok(stored < RECORDS, `round ${round}: the kill came before the end (stored ${stored})`);
      assert.equal((await lastSeqs(server)).get(d.id), stored, 'devices.last_seq agrees with the export');
      t.diagnostic(`round ${round}: killed with ${stored} of ${RECORDS} stored, device acked ${st.acked_seq}`);
    }

    await d.mustPush({ maxBatch: 50 });
    const st = await d.status();
    assert.deepEqual([st.pending, st.head_seq, st.acked_seq], [0, RECORDS, RECORDS], JSON.stringify(st));
    const records = (await server.exportRecords()).filter((r) => r.device === d.id).sort((a, b) => a.seq - b.seq);
    assertExactlySeqs(records, d.id, RECORDS, 'final:');
    records.forEach((r, k) => assert.deepEqual(r.answers, restaurantAnswers(k, 'crash'), `seq ${r.seq}`));
    // The stored chain is byte for byte the device's: the whole log replays as already stored.
    const replay = await server.postRecords(everything);
    assert.equal(replay.status, 200, describeResponse(replay));
    const rc = wire.parseReceipt(replay.buf);
    const envs = wire.parseBatch(everything).envelopes;
    assert.equal(rc.lastSeq, envs.length);
    assert.deepEqual(rc.headHash, wire.parseEnvelope(envs[envs.length - 1]).hash);
  } finally {
    await server.stop();
  }
});

test('kill -9 while several devices push at once: every receipted record survives, none twice', { timeout: 600000 }, async (t) => {
  const PER_DEVICE = Math.max(40, Math.round(RECORDS / 4));
  let server = await startServer({ publish: [RESTAURANT] });
  const { dataDir, port } = server;
  try {
    const devices = [];
    for (let i = 0; i < 4; i++) devices.push(await enrolledDevice(server));
    await pool(devices, 4, (d, i) => d.recordMany(PER_DEVICE, { tag: `multi${i}` }));
    const pushes = await killDuringPush(server, devices, { maxBatch: 3, threshold: 30 });
    pushes.forEach((p, i) => assert.ok(p.code === 0 || p.code === 3, `device ${i}: exit 0 or 3\n${describeRun(p)}`));
    const statuses = await Promise.all(devices.map((d) => d.status()));
    server = await startServer({ dataDir, port });
    const records = await server.exportRecords();
    devices.forEach((d, i) => {
      const stored = storedPrefix(records, d.id, `device ${i}:`);
      assert.ok(stored >= statuses[i].acked_seq, `device ${i}: receipt up to ${statuses[i].acked_seq}, stored ${stored}`);
      t.diagnostic(`device ${i}: ${stored} of ${PER_DEVICE} stored at the kill, acked ${statuses[i].acked_seq}, push exit ${pushes[i].code}`);
    });
    const again = await Promise.all(devices.map((d) => d.push()));
    again.forEach((p, i) => assert.equal(p.code, 0, `device ${i}\n${describeRun(p)}`));
    const final = await server.exportRecords();
    devices.forEach((d, i) => {
      assertExactlySeqs(final, d.id, PER_DEVICE, `device ${i}, final:`);
      final.filter((r) => r.device === d.id).sort((a, b) => a.seq - b.seq)
        .forEach((r, k) => assert.deepEqual(r.answers, restaurantAnswers(k, `multi${i}`)));
    });
    for (const d of devices) assert.equal((await d.status()).pending, 0);
  } finally {
    await server.stop();
  }
});
