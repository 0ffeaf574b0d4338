// Two canvass-server instances on one real PostgreSQL 15 (DESIGN.md §6: stateless instances behind
// a load balancer, uniqueness of (device, seq) enforced by the database). Devices push the same
// batches to both instances at once; every record must be stored exactly once, and both instances
// must export the same data. PostgreSQL is started by the tests (harness.startPostgres); if it is
// not installed these tests FAIL, they are never skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, startPostgres, cleanup, Device, restaurantAnswers, assertRefused, assertExactlySeqs,
  describeRun, describeResponse, pool, tempDir, RESTAURANT, sleep,
} from './harness.mjs';
import * as wire from './wire.mjs';

const DB_PASSWORD = 'S3cret-db-pw';
let pg;
let A;
let B;

before(async () => {
  pg = await startPostgres();
  // A creates the organisation (keys, admin token) on its first start; B runs from a copy of the
  // same data directory, as a second instance of one deployment would.
  const dirA = path.join(tempDir('canvass-pg-a-'), 'data');
  const dirB = path.join(tempDir('canvass-pg-b-'), 'data');
  const first = await startServer({ dataDir: dirA, db: pg.url, publish: [RESTAURANT] });
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, `SIGTERM: exit 0\n${first.stderr}`);
  fs.cpSync(dirA, dirB, { recursive: true });
  A = await startServer({ dataDir: dirA, db: pg.url });
  // B's URL carries a password (trust authentication ignores it): it must never reach a client.
  B = await startServer({ dataDir: dirB, db: pg.url.replace('postgres@', `postgres:${DB_PASSWORD}@`) });
}, { timeout: 120000 });

after(async () => {
  for (const s of [A, B]) if (s) await s.stop();
  await cleanup();
});

// A device enrolled through `via` with a code made on the other instance (codes live in the
// shared database).
async function device(via, other, location = 'Kyiv-Podil') {
  const code = await other.enrollCode(location);
  return new Device().enroll(via, code);
}

const sortRecords = (rs) => [...rs].sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.seq - b.seq));

async function assertSameExports(ids, n) {
  const [ea, eb] = await Promise.all([A.exportRecords(), B.exportRecords()]);
  const mineA = sortRecords(ea.filter((r) => ids.includes(r.device)));
  const mineB = sortRecords(eb.filter((r) => ids.includes(r.device)));
  for (const id of ids) {
    assertExactlySeqs(mineA, id, n, 'instance A:');
    assertExactlySeqs(mineB, id, n, 'instance B:');
  }
  assert.deepEqual(mineA, mineB, 'both instances export the same records');
  assert.deepEqual(sortRecords(ea), sortRecords(eb), 'both instances export the same data');
  return mineA;
}

test('both instances are healthy and report the PostgreSQL store', async () => {
  for (const s of [A, B]) {
    const h = await s.fetch('/healthz');
    assert.equal(h.status, 200, describeResponse(h));
    assert.match(String(h.json.store), /postgres/i, h.text);
  }
});

test('the same batches pushed to both instances at once are stored exactly once', { timeout: 300000 }, async (t) => {
  const t0 = Date.now();
  const phase = (what) => t.diagnostic(`${what}: ${Date.now() - t0} ms`);
  const DEVICES = 6;
  const devices = [];
  for (let i = 0; i < DEVICES; i++) devices.push(i % 2 ? await device(B, A) : await device(A, B));

  // Round 1: 50 records each; the same body to A and B at once, while the device pushes it too.
  phase('enrolled');
  await pool(devices, DEVICES, (d, i) => d.recordMany(50, { tag: `pg${i}` }));
  phase('recorded 50 each');
  let bodies = await Promise.all(devices.map((d) => d.batch()));
  let results = await Promise.all(devices.map(async (d, i) => {
    const [ra, rb, ra2, push] = await Promise.all([
      A.postRecords(bodies[i]), B.postRecords(bodies[i]), A.postRecords(bodies[i]), d.push(),
    ]);
    return { ra, rb, ra2, push };
  }));
  results.forEach(({ ra, rb, ra2, push }, i) => {
    for (const r of [ra, rb, ra2]) assert.equal(r.status, 200, `device ${i}, round 1: ${describeResponse(r)}`);
    assert.equal(rb.buf.toString('hex'), ra.buf.toString('hex'), `device ${i}: A and B give the identical receipt`);
    assert.equal(ra2.buf.toString('hex'), ra.buf.toString('hex'), `device ${i}: a replay gives the identical receipt`);
    assert.equal(push.code, 0, `device ${i} push\n${describeRun(push)}`);
    const rc = wire.parseReceipt(ra.buf);
    assert.equal(rc.lastSeq, 50);
    assert.deepEqual(rc.headHash, wire.parseEnvelope(wire.parseBatch(bodies[i]).envelopes[49]).hash);
  });
  phase('round 1 pushed');
  await assertSameExports(devices.map((d) => d.id), 50);
  phase('round 1 checked');

  // Round 2: 25 more; the device pushes in small batches to its own instance while the whole body
  // goes to both instances (overlapping batches).
  await pool(devices, DEVICES, (d, i) => d.recordMany(25, { start: 50, tag: `pg${i}` }));
  bodies = await Promise.all(devices.map((d) => d.batch()));
  results = await Promise.all(devices.map(async (d, i) => {
    const [ra, rb, push] = await Promise.all([
      A.postRecords(bodies[i]), B.postRecords(bodies[i]), d.push({ maxBatch: 7 }),
    ]);
    return { ra, rb, push };
  }));
  results.forEach(({ ra, rb, push }, i) => {
    for (const r of [ra, rb]) assert.equal(r.status, 200, `device ${i}, round 2: ${describeResponse(r)}`);
    assert.equal(rb.buf.toString('hex'), ra.buf.toString('hex'), `device ${i}: identical receipts`);
    assert.equal(push.code, 0, `device ${i} push --max-batch 7\n${describeRun(push)}`);
  });
  phase('round 2 pushed');
  await assertSameExports(devices.map((d) => d.id), 75);

  // Round 3: 25 more; a prefix to A and the whole to B at once, then the whole to A, then push.
  await pool(devices, DEVICES, (d, i) => d.recordMany(25, { start: 75, tag: `pg${i}` }));
  bodies = await Promise.all(devices.map((d) => d.batch()));
  results = await Promise.all(devices.map(async (d, i) => {
    const envs = wire.parseBatch(bodies[i]).envelopes;
    const prefix = wire.buildBatch({ deviceId: d.id, envelopes: envs.slice(0, 15) });
    const [ra, rb] = await Promise.all([A.postRecords(prefix), B.postRecords(bodies[i])]);
    const ra2 = await A.postRecords(bodies[i]);
    const push = await d.push();
    return { ra, rb, ra2, push };
  }));
  results.forEach(({ ra, rb, ra2, push }, i) => {
    for (const r of [ra, rb, ra2]) assert.equal(r.status, 200, `device ${i}, round 3: ${describeResponse(r)}`);
    assert.equal(wire.parseReceipt(ra.buf).lastSeq, 90);
    assert.equal(ra2.buf.toString('hex'), rb.buf.toString('hex'), `device ${i}: identical receipts for the same batch`);
    assert.equal(push.code, 0, `device ${i}\n${describeRun(push)}`);
  });
  phase('round 3 pushed');
  const all = await assertSameExports(devices.map((d) => d.id), 100);
  // The content is what each device recorded.
  for (const [i, d] of devices.entries()) {
    const mine = all.filter((r) => r.device === d.id);
    mine.forEach((r, k) => assert.deepEqual(r.answers, restaurantAnswers(k, `pg${i}`), `device ${i} seq ${r.seq}`));
  }
  for (const [i, d] of devices.entries()) {
    const st = await d.status();
    assert.deepEqual([st.pending, st.head_seq, st.acked_seq], [0, 100, 100], `device ${i}: ${JSON.stringify(st)}`);
  }
  for (const s of [A, B]) {
    const list = await s.devices();
    for (const d of devices) assert.equal(list.find((x) => x.device_id === d.id)?.last_seq, 100, `${s.url} last_seq of ${d.id}`);
    const q = (await s.quarantine()).filter((e) => devices.some((d) => d.id === e.device_id));
    assert.deepEqual(q, [], 'identical batches are never mistaken for forks');
  }
});

test('a fork sent to both instances at once: exactly one side is stored, the other is a 409', { timeout: 120000 }, async () => {
  for (let round = 0; round < 5; round++) {
    const d = await device(A, B);
    const twin = d.clone();
    await d.recordMany(3, { tag: `forkA${round}` });
    await twin.recordMany(3, { tag: `forkB${round}` });
    const [bd, bt] = await Promise.all([d.batch(), twin.batch()]);
    const [ra, rb] = await Promise.all([A.postRecords(bd), B.postRecords(bt)]);
    const statuses = [ra.status, rb.status].sort();
    assert.deepEqual(statuses, [200, 409], `round ${round}: one accepted, one fork\nA: ${describeResponse(ra)}\nB: ${describeResponse(rb)}`);
    const [winner, winTag] = ra.status === 200 ? [bd, `forkA${round}`] : [bt, `forkB${round}`];
    assertRefused(ra.status === 409 ? ra : rb, 409, /fork|differ|hash|conflict/i);
    const mine = await assertSameExports([d.id], 3);
    mine.forEach((r, k) => assert.deepEqual(r.answers, restaurantAnswers(k, winTag), `round ${round}: the accepted side is stored`));
    for (const s of [A, B]) {
      const q = (await s.quarantine()).filter((e) => e.device_id === d.id);
      assert.ok(q.length >= 1, `round ${round}: ${s.url} shows the fork in quarantine`);
      const winnerEnvs = wire.parseBatch(winner).envelopes.map((e) => e.toString('hex'));
      for (const e of q) assert.ok(!winnerEnvs.includes(e.envelope), 'the accepted records are not in quarantine');
    }
  }
});

test('one enrollment code used at both instances at once enrolls exactly one device', async () => {
  for (let round = 0; round < 3; round++) {
    const code = await A.enrollCode('Kyiv-Podil');
    const before = (await A.devices()).length;
    const tries = Array.from({ length: 8 }, (_, i) => (i % 2 ? B : A).fetch('/v1/enroll', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ protocol: 1, code, public_key: wire.newDeviceKey().publicRaw.toString('hex') }),
    }));
    const results = await Promise.all(tries);
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `round ${round}: exactly one enrollment succeeds:\n${results.map(describeResponse).join('\n')}`);
    for (const r of results) if (r.status !== 200) assertRefused(r, 401, /used/i);
    assert.equal((await B.devices()).length, before + 1);
  }
});

test('when PostgreSQL is down the server answers 503 and stores nothing; it recovers when it is back', { timeout: 180000 }, async (t) => {
  const d = await device(A, B);
  await d.recordMany(5, { tag: 'down' });
  await d.mustPush();
  await d.recordMany(5, { start: 5, tag: 'down' });
  const body = await d.batch();
  await pg.pause();
  try {
    let h;
    const deadline = Date.now() + 20000;
    do {
      h = await A.fetch('/healthz');
      if (h.status === 503) break;
      await sleep(200);
    } while (Date.now() < deadline);
    assertRefused(h, 503, null, '/healthz with the database down:');
    const res = await A.postRecords(body);
    assertRefused(res, 503, null, 'push with the database down:');
    assert.equal(res.json.error, 'unavailable', res.text);
    const push = await d.push({ timeout: 90000 });
    assert.notEqual(push.code, 0, `push while the database is down must fail\n${describeRun(push)}`);
    t.diagnostic(`push with the database down: exit ${push.code}: ${push.stderr.trim()}`);
    assert.equal((await d.status()).pending, 5);
    assert.ok(A.running && B.running, 'the servers keep running');
    // What a client sees of the outage must not include the database password.
    const seen = [await B.fetch('/healthz'), await B.postRecords(body), await B.fetch(`/v1/surveys?device=${d.id}`),
      await B.fetch('/v1/enroll', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"protocol":1,"code":"x","public_key":"00"}' })];
    for (const r of seen) {
      assert.ok(!r.text.includes(DB_PASSWORD), `an answer to a client leaks the database password: ${describeResponse(r)}`);
    }
  } finally {
    if (!pg.running) await pg.start();
  }
  for (const s of [A, B]) {
    let h;
    const deadline = Date.now() + 30000;
    do {
      h = await s.fetch('/healthz');
      if (h.status === 200) break;
      await sleep(200);
    } while (Date.now() < deadline);
    assert.equal(h.status, 200, `${s.url} recovers after the database is back: ${describeResponse(h)}`);
  }
  await d.mustPush();
  await assertSameExports([d.id], 10);
});
