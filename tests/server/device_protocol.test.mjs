// The device protocol (docs/protocol.md, "Device protocol") against a real canvass-server with
// SQLite: enrollment, survey bundles, pushes and receipts, replays, and every refusal — each one
// checked for its status, a specific message, and that nothing was stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import {
  startServer, cleanup, enrolledDevice, Device, restaurantAnswers, assertRefused, assertExactlySeqs,
  countFor, describeRun, describeResponse, RESTAURANT,
} from './harness.mjs';
import * as wire from './wire.mjs';

const WEB_ORIGIN = 'https://shop.example';
let server;
let orgKey; // organisation signing key (raw 32 bytes), from an enrollment answer

before(async () => {
  server = await startServer({ publish: [RESTAURANT], webOrigins: [WEB_ORIGIN], extraArgs: ['--test-clock'] });
  // The organisation key every receipt, certificate and bundle must verify with.
  const { res } = await rawEnroll(await server.enrollCode('Kyiv-Podil'));
  assert.equal(res.status, 200, `enrollment: ${describeResponse(res)}`);
  orgKey = Buffer.from(res.json.org_sign_key, 'hex');
});

after(async () => {
  if (server) {
    const r = await server.stop();
    assert.equal(r.code, 0, `SIGTERM must stop the server with exit 0 (got ${JSON.stringify(r)})\n${server.stderr}`);
  }
  await cleanup();
});

// ---------------------------------------------------------------------------------------------
// Helpers.

async function deviceCount(id) {
  return countFor(await server.exportRecords(), id);
}

function verifyReceipt(buf, deviceId, lastEnvelope, what = 'receipt') {
  let rc;
  try {
    rc = wire.parseReceipt(buf);
  } catch (e) {
    assert.fail(`${what}: not a canonical SignedMessage/SyncReceipt (${e.message}): ${buf.toString('hex').slice(0, 200)}`);
  }
  assert.ok(wire.verifyTagged('canvass/receipt/v1', rc.body, rc.signature, orgKey), `${what}: the signature does not verify with the organisation key`);
  assert.equal(rc.deviceId, deviceId, `${what}: names another device`);
  const last = wire.parseEnvelope(lastEnvelope);
  assert.equal(rc.lastSeq, last.record.seq, `${what}: last_seq`);
  assert.equal(rc.headHash.toString('hex'), last.hash.toString('hex'), `${what}: head_hash is not the hash of the batch's last record`);
  assert.ok(Math.abs(rc.serverTimeMs - Date.now()) < 24 * 3600e3, `${what}: server_time_ms ${rc.serverTimeMs} is not now`);
  return rc;
}

async function rawEnroll(code, key = wire.newDeviceKey(), extra = {}) {
  const res = await server.fetch('/v1/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ protocol: 1, code, public_key: key.publicRaw.toString('hex'), ...extra }),
  });
  return { res, key };
}

async function surveyVersion(deviceId, surveyId = 'restaurant') {
  const r = await server.fetch(`/v1/surveys?device=${encodeURIComponent(deviceId)}`);
  assert.equal(r.status, 200, describeResponse(r));
  const b = r.json.bundles.find((x) => x.survey_id === surveyId);
  assert.ok(b, `no ${surveyId} bundle for ${deviceId}: ${r.text}`);
  return Buffer.from(b.version, 'hex');
}

// A device made entirely here: key from node:crypto, records encoded and signed by wire.mjs.
class JsDevice {
  constructor(enrollAnswer, key) {
    this.id = enrollAnswer.device_id;
    this.location = enrollAnswer.location;
    this.key = key;
    this.head = wire.ZERO_HASH;
    this.seq = 0;
  }
  draft(i, over = {}) {
    return {
      surveyId: 'restaurant', surveyVersion: this.version, deviceId: this.id, seq: this.seq + 1,
      prevHash: this.head, deviceTimeMs: Date.now(), outcome: 'completed',
      answers: restaurantAnswers(i, 'js'), tags: { location: this.location, channel: 'kiosk' }, ...over,
    };
  }
  sign(rec, opts) {
    const bytes = wire.encodeRecord(rec, opts);
    return { envelope: wire.signRecord(bytes, this.key.privateKey), hash: wire.hash256(bytes) };
  }
  // Appends n records to the local chain and returns their envelopes.
  next(n) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const { envelope, hash } = this.sign(this.draft(this.seq));
      this.seq += 1;
      this.head = hash;
      out.push(envelope);
    }
    return out;
  }
  batch(envelopes, over = {}) {
    return wire.buildBatch({ deviceId: this.id, envelopes, ...over });
  }
}

async function jsDevice(location = 'Kyiv-Podil') {
  const code = await server.enrollCode(location);
  const { res, key } = await rawEnroll(code);
  assert.equal(res.status, 200, describeResponse(res));
  const d = new JsDevice(res.json, key);
  d.version = await surveyVersion(d.id);
  return d;
}

function flipByteAt(buf, offset) {
  const b = Buffer.from(buf);
  b[offset] ^= 0x20;
  return b;
}

// ---------------------------------------------------------------------------------------------
// Enrollment and survey bundles.

test('enrollment answers a certificate signed by the organisation key, with the device key', async () => {
  const code = await server.enrollCode('Kyiv-Podil');
  const { res, key } = await rawEnroll(code);
  assert.equal(res.status, 200, describeResponse(res));
  const a = res.json;
  for (const f of ['device_id', 'location', 'channel', 'certificate', 'org_sign_key', 'org_box_key']) {
    assert.equal(typeof a[f], 'string', `enroll answer lacks ${f}: ${res.text}`);
  }
  assert.equal(a.location, 'Kyiv-Podil');
  assert.equal(a.channel, 'kiosk');
  assert.match(a.org_sign_key, /^[0-9a-f]{64}$/);
  assert.match(a.org_box_key, /^[0-9a-f]{64}$/);
  assert.equal(a.org_sign_key, orgKey.toString('hex'), 'one organisation key for every enrollment');
  const cert = wire.parseCertificate(Buffer.from(a.certificate, 'hex'));
  assert.ok(wire.verifyTagged('canvass/device/v1', cert.body, cert.signature, orgKey), 'certificate signature');
  assert.equal(cert.deviceId, a.device_id);
  assert.equal(cert.location, 'Kyiv-Podil');
  assert.equal(cert.channel, 'kiosk');
  assert.equal(cert.web, false);
  assert.deepEqual(cert.devicePublicKey, key.publicRaw);
  assert.ok(cert.validFromMs <= Date.now() + 60e3 && cert.validUntilMs > Date.now(), 'certificate validity covers now');
  // The location's survey bundles come with the certificate (DESIGN §4), the same as /v1/surveys.
  const listed = await server.fetch(`/v1/surveys?device=${a.device_id}`);
  assert.equal(listed.status, 200, describeResponse(listed));
  assert.ok(Array.isArray(a.bundles) && a.bundles.length > 0, `no bundles in the enroll answer: ${res.text}`);
  assert.deepEqual(a.bundles, listed.json.bundles, 'enroll bundles = /v1/surveys bundles');
});

test('a device gets the signed survey bundles of its location, with an ETag', async () => {
  const d = await jsDevice();
  const r = await server.fetch(`/v1/surveys?device=${d.id}`);
  assert.equal(r.status, 200, describeResponse(r));
  const b = r.json.bundles.find((x) => x.survey_id === 'restaurant');
  assert.ok(b, r.text);
  const bundle = wire.parseBundle(Buffer.from(b.bundle, 'hex'));
  assert.ok(wire.verifyTagged('canvass/survey/v1', bundle.body, bundle.signature, orgKey), 'bundle signature');
  assert.equal(bundle.surveyId, 'restaurant');
  assert.equal(b.version, wire.hash256(bundle.definitionJson).toString('hex'), 'version = BLAKE2b-256(definition_json)');
  assert.equal(b.version, wire.hash256(fs.readFileSync(RESTAURANT)).toString('hex'),
    'published with --publish, the definition is the file\'s bytes');
  const etag = r.headers.etag;
  assert.ok(etag, 'no ETag header');
  const again = await server.fetch(`/v1/surveys?device=${d.id}`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304, describeResponse(again));
});

test('the CLI device enrolls, records, pushes, and its log is emptied by the receipt', async () => {
  const d = await enrolledDevice(server);
  let st = await d.status();
  assert.equal(st.pending, 0);
  assert.equal(st.head_seq, 0);
  assert.equal(st.acked_seq, 0);
  assert.equal(st.server, server.url);
  await d.recordMany(5, { tag: 'cli' });
  st = await d.status();
  assert.deepEqual([st.pending, st.head_seq, st.acked_seq], [5, 5, 0], JSON.stringify(st));
  const body = await d.batch();
  const parsed = wire.parseBatch(body);
  assert.equal(parsed.protocol, 1);
  assert.equal(parsed.deviceId, d.id);
  assert.deepEqual(parsed.envelopes.map((e) => wire.parseEnvelope(e).record.seq), [1, 2, 3, 4, 5]);
  await d.mustPush({ maxBatch: 2 }); // three batches
  st = await d.status();
  assert.deepEqual([st.pending, st.head_seq, st.acked_seq], [0, 5, 5], JSON.stringify(st));
  const records = await server.exportRecords();
  assertExactlySeqs(records, d.id, 5);
  const mine = records.filter((r) => r.device === d.id).sort((a, b) => a.seq - b.seq);
  mine.forEach((r, i) => assert.deepEqual(r.answers, restaurantAnswers(i, 'cli'), `answers of seq ${r.seq}`));
  // The whole batch again is a replay of what is stored: its receipt names the 5th record.
  const res = await server.postRecords(body);
  assert.equal(res.status, 200, describeResponse(res));
  verifyReceipt(res.buf, d.id, parsed.envelopes[4]);
  assert.equal(await deviceCount(d.id), 5);
});

test('records made by an independent encoder (wire.mjs) are accepted and exported as signed', async () => {
  const d = await jsDevice();
  const envs = d.next(3);
  const res = await server.postRecords(d.batch(envs));
  assert.equal(res.status, 200, describeResponse(res));
  const rc = verifyReceipt(res.buf, d.id, envs[2]);
  assert.equal(rc.headHash.toString('hex'), d.head.toString('hex'));
  const mine = (await server.exportRecords()).filter((r) => r.device === d.id).sort((a, b) => a.seq - b.seq);
  assert.equal(mine.length, 3);
  mine.forEach((r, i) => {
    assert.deepEqual(r.answers, restaurantAnswers(i, 'js'));
    assert.equal(r.survey, 'restaurant');
    assert.equal(r.survey_version, d.version.toString('hex'));
    assert.equal(r.outcome, 'completed');
  });
});

// ---------------------------------------------------------------------------------------------
// Replays.

test('replaying an accepted batch returns the byte-identical receipt and stores nothing twice', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(3, { tag: 'replay' });
  const body = await d.batch();
  const first = await server.postRecords(body);
  assert.equal(first.status, 200, describeResponse(first));
  verifyReceipt(first.buf, d.id, wire.parseBatch(body).envelopes[2]);
  await server.advanceClock(30); // a later server_time_ms would show if the receipt were made anew
  const second = await server.postRecords(body);
  assert.equal(second.status, 200, describeResponse(second));
  assert.equal(second.buf.toString('hex'), first.buf.toString('hex'), 'a replay must get the identical receipt');
  assert.equal(await deviceCount(d.id), 3);
  // The device pushes the same records itself (its receipt is the replay's), then more.
  await d.mustPush();
  let st = await d.status();
  assert.deepEqual([st.pending, st.acked_seq], [0, 3], JSON.stringify(st));
  await d.recordMany(2, { start: 3, tag: 'replay' });
  await d.mustPush();
  // The old batch once more, now that the stored head is further on.
  const third = await server.postRecords(body);
  assert.equal(third.status, 200, describeResponse(third));
  assert.equal(third.buf.toString('hex'), first.buf.toString('hex'), 'a replay behind the head gets the identical receipt');
  assertExactlySeqs(await server.exportRecords(), d.id, 5);
  st = await d.status();
  assert.deepEqual([st.pending, st.head_seq, st.acked_seq], [0, 5, 5], JSON.stringify(st));
});

test('a batch overlapping what is stored stores only the new records', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(2, { tag: 'overlap' });
  const firstTwo = await d.batch();
  await d.recordMany(3, { start: 2, tag: 'overlap' });
  const all = await d.batch(); // seqs 1..5
  assert.equal((await server.postRecords(firstTwo)).status, 200);
  const res = await server.postRecords(all);
  assert.equal(res.status, 200, describeResponse(res));
  verifyReceipt(res.buf, d.id, wire.parseBatch(all).envelopes[4]);
  assertExactlySeqs(await server.exportRecords(), d.id, 5);
});

// ---------------------------------------------------------------------------------------------
// Tampered records.

test('a record with one altered byte is refused (400, signature) and nothing of its batch is stored', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(4, { tag: 'tamper' });
  const body = await d.batch();
  // Change one character of record 3's text answer: the record still decodes, its hash changes.
  const at = body.indexOf(Buffer.from('tamper-2:'));
  assert.ok(at > 0, 'the reason text of record 3 is in the batch');
  const layout = wire.batchLayout(body);
  assert.ok(at > layout[2].recordStart && at < layout[2].signatureStart, 'the byte is inside record 3');
  const tampered = flipByteAt(body, at); // 't' -> 'T'
  wire.parseEnvelope(wire.parseBatch(tampered).envelopes[2]); // still a well-formed record
  const res = await server.postRecords(tampered);
  assertRefused(res, 400, /signature/i, 'altered record byte:');
  assert.equal(await deviceCount(d.id), 0, 'records 1 and 2 of the refused batch must not be stored');
  const st = await d.status();
  assert.deepEqual([st.pending, st.acked_seq], [4, 0], JSON.stringify(st));
  // The genuine records still go through afterwards.
  await d.mustPush();
  assertExactlySeqs(await server.exportRecords(), d.id, 4);
});

test('a record with an altered signature byte is refused (400, signature)', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(2, { tag: 'sig' });
  const body = await d.batch();
  const layout = wire.batchLayout(body);
  const res = await server.postRecords(flipByteAt(body, layout[1].signatureStart + 10));
  assertRefused(res, 400, /signature/i, 'altered signature:');
  // A signature made by another key over the genuine record.
  const other = wire.newDeviceKey();
  const parsed = wire.parseBatch(body);
  const forged = wire.signRecord(wire.parseEnvelope(parsed.envelopes[0]).recordBytes, other.privateKey);
  const res2 = await server.postRecords(wire.buildBatch({ deviceId: d.id, envelopes: [forged, parsed.envelopes[1]] }));
  assertRefused(res2, 400, /signature/i, 'signature by another key:');
  assert.equal(await deviceCount(d.id), 0);
  assert.equal((await d.status()).acked_seq, 0);
});

test('properly signed but non-canonical or foreign records are refused (400), nothing stored', async () => {
  const d = await jsDevice();
  assert.equal((await server.postRecords(d.batch(d.next(2)))).status, 200);
  // Answers not sorted by question id: a second spelling of a record, refused even though signed.
  const unsorted = d.sign(d.draft(2), { unsorted: true });
  assert.notDeepEqual(wire.parseEnvelope(unsorted.envelope).recordBytes,
    wire.encodeRecord(wire.parseEnvelope(unsorted.envelope).record), 'the test record really is unsorted');
  assertRefused(await server.postRecords(d.batch([unsorted.envelope])), 400, null, 'unsorted answers:');
  // A record naming another device inside this device's batch.
  const foreign = d.sign(d.draft(2, { deviceId: 'dev-someone-else' }));
  assertRefused(await server.postRecords(d.batch([foreign.envelope])), 400, /device/i, 'record of another device:');
  // Trailing bytes after a record, signed.
  const good = wire.encodeRecord(d.draft(2));
  const trailing = wire.signRecord(Buffer.concat([good, Buffer.from([0])]), d.key.privateKey);
  assertRefused(await server.postRecords(d.batch([trailing])), 400, null, 'trailing byte:');
  // A device time no clock gives (past the year 9999, or before the year 0000): the export could
  // not write it in a form `canvass report` reads. A clock reset to 1970 is still accepted (below).
  for (const deviceTimeMs of [253402300800000, -62167219200001]) {
    const far = d.sign(d.draft(2, { deviceTimeMs }));
    assertRefused(await server.postRecords(d.batch([far.envelope])), 400, /device time outside the years 0000-9999/,
      `device time ${deviceTimeMs}:`);
  }
  assert.equal(await deviceCount(d.id), 2);
  // The device's chain is intact: its real next record is accepted.
  const envs = d.next(1);
  const res = await server.postRecords(d.batch(envs));
  assert.equal(res.status, 200, describeResponse(res));
  verifyReceipt(res.buf, d.id, envs[0]);
  assertExactlySeqs(await server.exportRecords(), d.id, 3);
  // A tablet whose clock fell back to 1970 loses nothing: its records are stored as they are.
  const epoch = d.sign(d.draft(3, { deviceTimeMs: 0 }));
  d.seq += 1;
  d.head = epoch.hash;
  const r0 = await server.postRecords(d.batch([epoch.envelope]));
  assert.equal(r0.status, 200, describeResponse(r0));
  const stored = await server.exportRecords();
  assertExactlySeqs(stored, d.id, 4);
  assert.equal(stored.find((r) => r.device === d.id && r.seq === 4).time, '1970-01-01T00:00:00Z');
});

test('records of one device in another device\'s batch are refused (400)', async () => {
  const a = await enrolledDevice(server);
  const b = await enrolledDevice(server);
  await b.recordMany(2, { tag: 'b' });
  const bBody = wire.parseBatch(await b.batch());
  const res = await server.postRecords(wire.buildBatch({ deviceId: a.id, envelopes: bBody.envelopes }));
  assertRefused(res, 400, null, 'batch of A carrying B\'s records:');
  assert.equal(await deviceCount(a.id), 0);
  assert.equal(await deviceCount(b.id), 0);
});

// ---------------------------------------------------------------------------------------------
// Chain continuity: gaps, unordered batches, wrong prev_hash, forks.

test('a batch with a gap is refused (422, names the expected seq), nothing stored', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(3, { tag: 'gap' });
  await d.mustPush();
  await d.recordMany(3, { start: 3, tag: 'gap' }); // seqs 4..6
  const body = wire.parseBatch(await d.batch());
  assert.deepEqual(body.envelopes.map((e) => wire.parseEnvelope(e).record.seq), [4, 5, 6]);
  const res = await server.postRecords(wire.buildBatch({ deviceId: d.id, envelopes: body.envelopes.slice(1) }));
  assertRefused(res, 422, /gap|missing|expect/i, 'gap:');
  assert.match(res.json.message, /\b4\b/, `the message names the expected seq 4: ${res.text}`);
  assertExactlySeqs(await server.exportRecords(), d.id, 3);
  // A fresh device whose first batch starts at seq 2.
  const f = await enrolledDevice(server);
  await f.recordMany(2, { tag: 'gap1' });
  const fb = wire.parseBatch(await f.batch());
  const res2 = await server.postRecords(wire.buildBatch({ deviceId: f.id, envelopes: fb.envelopes.slice(1) }));
  assertRefused(res2, 422, /gap|missing|expect/i, 'gap at the start:');
  assert.match(res2.json.message, /\b1\b/, `the message names the expected seq 1: ${res2.text}`);
  assert.equal(await deviceCount(f.id), 0);
  // Both devices still sync normally.
  await d.mustPush();
  await f.mustPush();
  assertExactlySeqs(await server.exportRecords(), d.id, 6);
  assertExactlySeqs(await server.exportRecords(), f.id, 2);
});

test('records that are not consecutive inside a batch are refused (400)', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(3, { tag: 'hole' });
  const b = wire.parseBatch(await d.batch());
  const holed = wire.buildBatch({ deviceId: d.id, envelopes: [b.envelopes[0], b.envelopes[2]] });
  assertRefused(await server.postRecords(holed), 400, /seq|consecutive|missing|order/i, 'records 1, 3:');
  const swapped = wire.buildBatch({ deviceId: d.id, envelopes: [b.envelopes[1], b.envelopes[0], b.envelopes[2]] });
  const res = await server.postRecords(swapped);
  assert.ok(res.status === 400 || res.status === 422, `records 2, 1, 3: ${describeResponse(res)}`);
  assert.ok(res.json?.message, res.text);
  assert.equal(await deviceCount(d.id), 0);
});

test('a batch whose prev_hash differs from the stored head is refused (409) and quarantined', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(2, { tag: 'head' });
  await d.mustPush();
  const twin = d.clone();
  await d.recordMany(1, { start: 2, tag: 'headA' }); // seq 3 (A)
  await d.mustPush();
  await twin.recordMany(2, { start: 2, tag: 'headB' }); // seqs 3 (B), 4 (B)
  const tb = wire.parseBatch(await twin.batch());
  const four = wire.parseEnvelope(tb.envelopes[1]);
  assert.equal(four.record.seq, 4);
  const before = (await server.exportRecords()).filter((r) => r.device === d.id);
  const res = await server.postRecords(wire.buildBatch({ deviceId: d.id, envelopes: [tb.envelopes[1]] }));
  assertRefused(res, 409, /prev|head|fork|chain/i, 'wrong prev_hash:');
  const after = (await server.exportRecords()).filter((r) => r.device === d.id);
  assert.deepEqual(after, before, 'stored records unchanged');
  const q = (await server.quarantine()).filter((e) => e.device_id === d.id);
  assert.ok(q.some((e) => e.seq === 4), `seq 4 of ${d.id} in quarantine: ${JSON.stringify(q)}`);
});

test('a fork (same device and seq, different hash) is refused (409), quarantined, and never stored', async () => {
  const d = await enrolledDevice(server);
  const twin = d.clone(); // the same key and the same empty log: a cloned tablet
  await d.recordMany(2, { tag: 'forkA' });
  await twin.recordMany(2, { tag: 'forkB' });
  const twinBody = await twin.batch();
  const twinEnvelopes = wire.parseBatch(twinBody).envelopes.map((e) => e.toString('hex'));
  await d.mustPush();
  const before = (await server.exportRecords()).filter((r) => r.device === d.id);
  assert.equal(before.length, 2);
  const res = await server.postRecords(twinBody);
  assertRefused(res, 409, /fork|differ|hash|conflict/i, 'fork:');
  const cliPush = await twin.push();
  assert.equal(cliPush.code, 1, `the twin's push is refused by the server: exit 1\n${describeRun(cliPush)}`);
  assert.match(cliPush.stderr, /409/, `stderr has the server's status\n${describeRun(cliPush)}`);
  assert.match(cliPush.stderr, /fork|differ|hash|conflict/i, `stderr has the server's message\n${describeRun(cliPush)}`);
  const after = (await server.exportRecords()).filter((r) => r.device === d.id);
  assert.deepEqual(after, before, 'stored records unchanged');
  after.sort((a, b) => a.seq - b.seq).forEach((r, i) => assert.deepEqual(r.answers, restaurantAnswers(i, 'forkA')));
  const st = await twin.status();
  assert.deepEqual([st.pending, st.acked_seq], [2, 0], `the twin keeps its records: ${JSON.stringify(st)}`);
  const q = (await server.quarantine()).filter((e) => e.device_id === d.id);
  assert.ok(q.some((e) => e.seq === 1), `seq 1 of ${d.id} in quarantine: ${JSON.stringify(q)}`);
  for (const e of q) {
    assert.ok(typeof e.reason === 'string' && e.reason.length > 0, `quarantine reason: ${JSON.stringify(e)}`);
    assert.ok(Number.isFinite(e.received_ms), `quarantine received_ms: ${JSON.stringify(e)}`);
    assert.ok(twinEnvelopes.includes(e.envelope), `quarantined envelope is one the twin sent: ${JSON.stringify(e).slice(0, 300)}`);
  }
  // The admin CLI shows the same list.
  const cliQ = JSON.parse((await server.mustAdminCli(['quarantine'])).stdout);
  assert.ok(cliQ.quarantine.some((e) => e.device_id === d.id && e.seq === 1), 'admin quarantine (CLI)');
  // The genuine device is not blocked by its twin's fork.
  await d.recordMany(1, { start: 2, tag: 'forkA' });
  await d.mustPush();
  assertExactlySeqs(await server.exportRecords(), d.id, 3);
});

// ---------------------------------------------------------------------------------------------
// Unknown and revoked devices.

test('an unknown device is refused (401), nothing stored', async () => {
  // A device of another organisation (another server, another data dir).
  const other = await startServer({ publish: [RESTAURANT] });
  try {
    const code = await other.enrollCode('Elsewhere');
    const stranger = await new Device().enroll(other, code);
    await stranger.recordMany(2, { tag: 'stranger' });
    const body = await stranger.batch();
    const res = await server.postRecords(body);
    assertRefused(res, 401, /unknown|not enrolled|device/i, 'unknown device:');
    assert.equal(await deviceCount(stranger.id), 0);
    const s = await server.fetch(`/v1/surveys?device=${encodeURIComponent(stranger.id)}`);
    assertRefused(s, 401, null, 'surveys for an unknown device:');
    // A key that never enrolled anywhere, with a made-up device id.
    const ghost = wire.newDeviceKey();
    const rec = wire.encodeRecord({
      surveyId: 'restaurant', surveyVersion: wire.hash256(fs.readFileSync(RESTAURANT)), deviceId: 'dev-ghost-000',
      seq: 1, prevHash: wire.ZERO_HASH, deviceTimeMs: Date.now(), answers: restaurantAnswers(0), tags: {},
    });
    const res2 = await server.postRecords(wire.buildBatch({ deviceId: 'dev-ghost-000', envelopes: [wire.signRecord(rec, ghost.privateKey)] }));
    assertRefused(res2, 401, /unknown|not enrolled|device/i, 'made-up device:');
    assert.equal(await deviceCount('dev-ghost-000'), 0);
    // The CLI says the server is unreachable (exit 3) when it is.
    await other.stop();
    const down = await stranger.push({ timeout: 60000 });
    assert.equal(down.code, 3, `push to a stopped server: exit 3\n${describeRun(down)}`);
    assert.equal((await stranger.status()).pending, 2);
  } finally {
    await other.stop();
  }
});

test('a revoked device is refused (403) on push and on survey fetch, nothing stored', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(1, { tag: 'rev' });
  await d.mustPush();
  await d.recordMany(2, { start: 1, tag: 'rev' });
  const body = await d.batch();
  await server.mustAdminCli(['revoke', d.id]);
  const res = await server.postRecords(body);
  assertRefused(res, 403, /revoked/i, 'revoked device:');
  const push = await d.push();
  assert.equal(push.code, 1, `push of a revoked device: exit 1\n${describeRun(push)}`);
  assert.match(push.stderr, /403/, describeRun(push));
  assert.match(push.stderr, /revoked/i, describeRun(push));
  assertRefused(await server.fetch(`/v1/surveys?device=${d.id}`), 403, /revoked/i, 'surveys of a revoked device:');
  assertExactlySeqs(await server.exportRecords(), d.id, 1);
  const st = await d.status();
  assert.deepEqual([st.pending, st.acked_seq], [2, 1], JSON.stringify(st));
  const rl = await server.fetch('/v1/revocations');
  assert.equal(rl.status, 200, describeResponse(rl));
  const entry = rl.json.revoked.find((x) => x.device_id === d.id);
  assert.ok(entry && Number.isFinite(entry.revoked_ms), `revocation list: ${rl.text}`);
  const dev = (await server.devices()).find((x) => x.device_id === d.id);
  assert.equal(dev.revoked, true, JSON.stringify(dev));
  assertRefused(await server.admin('POST', '/v1/admin/devices/dev-no-such-device/revoke'), 404, null, 'revoke unknown:');
});

// ---------------------------------------------------------------------------------------------
// Enrollment codes.

test('a reused enrollment code is refused (401, says it was used)', async () => {
  const code = await server.enrollCode('Kyiv-Podil');
  const first = await new Device().enroll(server, code);
  const countBefore = (await server.devices()).length;
  const second = new Device();
  const r = await second.cli(['enroll', '--server', server.url, '--code', code]);
  assert.equal(r.code, 1, `enroll with a used code: exit 1\n${describeRun(r)}`);
  assert.match(r.stderr, /401/, describeRun(r));
  const { res } = await rawEnroll(code);
  assertRefused(res, 401, /used/i, 'reused code:');
  assert.equal((await server.devices()).length, countBefore, 'no device was added');
  assert.ok((await server.devices()).some((x) => x.device_id === first.id));
});

test('an expired enrollment code is refused (401, says it expired); an unknown one too', async () => {
  let code;
  const viaCli = await server.adminCli(['enroll-code', '--location', 'Kyiv-Podil', '--ttl-hours', '0']);
  if (viaCli.code === 0) {
    code = viaCli.stdout.trim();
  } else {
    const r = await server.admin('POST', '/v1/admin/enroll-codes', { location: 'Kyiv-Podil', channel: 'kiosk', ttl_hours: 0 });
    assert.equal(r.status, 201, `enroll-codes with ttl_hours 0: ${describeResponse(r)}`);
    assert.ok(r.json.expires_ms <= Date.now() + 1000, r.text);
    code = r.json.code;
  }
  await server.advanceClock(20);
  const countBefore = (await server.devices()).length;
  const { res } = await rawEnroll(code);
  assertRefused(res, 401, /expired/i, 'expired code:');
  const cliEnroll = await new Device().cli(['enroll', '--server', server.url, '--code', code]);
  assert.equal(cliEnroll.code, 1, describeRun(cliEnroll));
  assert.match(cliEnroll.stderr, /401/, describeRun(cliEnroll));
  const unknown = await rawEnroll('no-such-code-000000');
  assertRefused(unknown.res, 401, /unknown|not|invalid/i, 'unknown code:');
  assert.equal((await server.devices()).length, countBefore, 'no device was added');
});

test('enrollment with a wrong protocol, a malformed key or malformed JSON is refused (400)', async () => {
  const code = await server.enrollCode('Kyiv-Podil');
  assertRefused((await rawEnroll(code, undefined, { protocol: 2 })).res, 400, /protocol/i, 'protocol 2:');
  const bad = await server.fetch('/v1/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ protocol: 1, code, public_key: 'zz' }),
  });
  assertRefused(bad, 400, /key/i, 'malformed key:');
  const garbage = await server.fetch('/v1/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"protocol": 1, "code": ',
  });
  assertRefused(garbage, 400, null, 'malformed JSON:');
  // None of these used the code up.
  const { res } = await rawEnroll(code);
  assert.equal(res.status, 200, `the code still works after refused attempts: ${describeResponse(res)}`);
});

test('web enrollment needs an allowed Origin and gives a web certificate', async () => {
  const key = wire.newDeviceKey();
  const body = JSON.stringify({ protocol: 1, public_key: key.publicRaw.toString('hex') });
  const ok = await server.fetch('/v1/web/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: WEB_ORIGIN }, body,
  });
  assert.equal(ok.status, 200, describeResponse(ok));
  assert.equal(ok.json.channel, 'web');
  const cert = wire.parseCertificate(Buffer.from(ok.json.certificate, 'hex'));
  assert.equal(cert.web, true);
  assert.deepEqual(cert.devicePublicKey, key.publicRaw);
  const evil = await server.fetch('/v1/web/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
    body: JSON.stringify({ protocol: 1, public_key: wire.newDeviceKey().publicRaw.toString('hex') }),
  });
  assert.ok(evil.status >= 400 && evil.status < 500, `an origin not in the allow-list is refused: ${describeResponse(evil)}`);
  assertRefused(evil, evil.status, /origin/i, 'foreign origin:');
});

// ---------------------------------------------------------------------------------------------
// Malformed bodies.

test('a body over the size limit (4 MiB) or with more than 500 records is refused (413)', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(1, { tag: 'big' });
  const body = await d.batch();
  const env = wire.parseBatch(body).envelopes[0];
  const huge = wire.buildBatch({ deviceId: d.id, envelopes: [Buffer.concat([env, Buffer.alloc(4 * 1024 * 1024)])] });
  assert.ok(huge.length > 4 * 1024 * 1024);
  assertRefused(await server.postRecords(huge), 413, null, 'body over 4 MiB:');
  assertRefused(await server.postRecords(huge, { chunked: true }), 413, null, 'chunked body over 4 MiB:');
  const many = wire.buildBatch({ deviceId: d.id, envelopes: Array(501).fill(env) });
  assert.ok(many.length < 4 * 1024 * 1024);
  assertRefused(await server.postRecords(many), 413, /500/, '501 records:');
  assert.equal(await deviceCount(d.id), 0);
  // The server is still fine and takes the real batch.
  await d.mustPush();
  assertExactlySeqs(await server.exportRecords(), d.id, 1);
});

test('a batch of exactly 500 records is accepted; 501 genuine records are refused (413)', { timeout: 120000 }, async () => {
  const d = await jsDevice();
  const envs = d.next(501);
  const over = await server.postRecords(d.batch(envs));
  assertRefused(over, 413, /500/, '501 records:');
  assert.equal(await deviceCount(d.id), 0);
  const res = await server.postRecords(d.batch(envs.slice(0, 500)));
  assert.equal(res.status, 200, describeResponse(res));
  verifyReceipt(res.buf, d.id, envs[499]);
  const last = await server.postRecords(d.batch(envs.slice(500)));
  assert.equal(last.status, 200, describeResponse(last));
  assertExactlySeqs(await server.exportRecords(), d.id, 501);
});

test('one enrollment code used by many devices at once enrolls exactly one', async () => {
  const code = await server.enrollCode('Kyiv-Podil');
  const before = (await server.devices()).length;
  const results = await Promise.all(Array.from({ length: 8 }, () => rawEnroll(code)));
  const statuses = results.map((r) => r.res.status).sort();
  assert.deepEqual(statuses, [200, 401, 401, 401, 401, 401, 401, 401], results.map((r) => describeResponse(r.res)).join('\n'));
  assert.equal((await server.devices()).length, before + 1);
});

test('truncated, garbage and empty bodies are refused (400)', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(3, { tag: 'trunc' });
  const body = await d.batch();
  const layout = wire.batchLayout(body);
  const cases = {
    'truncated in the last signature': body.subarray(0, body.length - 10),
    'truncated inside record 2': body.subarray(0, layout[1].recordStart + 20),
    'truncated in the header': body.subarray(0, 7),
    'n larger than the envelopes': Buffer.concat([body.subarray(0, layout[0].envelopeStart - 8),
      Buffer.from([4, 0, 0, 0]), body.subarray(layout[0].envelopeStart - 4)]),
    'a byte left over': Buffer.concat([body, Buffer.from([0])]),
    garbage: crypto.randomBytes(2000),
    'garbage after a valid header': Buffer.concat([body.subarray(0, 6), crypto.randomBytes(500)]),
    'wrong marker': Buffer.concat([Buffer.from([0x02]), body.subarray(1)]),
    'wrong batch version': Buffer.concat([Buffer.from([0x01, 0x02]), body.subarray(2)]),
    empty: Buffer.alloc(0),
    'zero records': wire.buildBatch({ deviceId: d.id, envelopes: [] }),
  };
  cases.garbage[0] = 0x7f;
  for (const [what, b] of Object.entries(cases)) {
    const res = await server.postRecords(b);
    assertRefused(res, 400, null, `${what}:`);
  }
  const t = await server.postRecords(cases['truncated in the last signature']);
  assert.match(t.json.message, /truncat|remain|short|end|incomplete|missing/i, `truncation is named: ${t.text}`);
  assert.equal(await deviceCount(d.id), 0);
  await d.mustPush();
  assertExactlySeqs(await server.exportRecords(), d.id, 3);
});

test('a wrong protocol version is refused (400, names the protocol)', async () => {
  const d = await enrolledDevice(server);
  await d.recordMany(1, { tag: 'proto' });
  const body = await d.batch();
  for (const v of [0, 2, 0xffffffff]) {
    const b = Buffer.from(body);
    b.writeUInt32LE(v, 2);
    assertRefused(await server.postRecords(b), 400, /protocol/i, `protocol ${v}:`);
  }
  assert.equal(await deviceCount(d.id), 0);
  assert.equal((await d.status()).pending, 1);
});

// ---------------------------------------------------------------------------------------------
// The CLI checks answers against the survey before it signs anything.

test('the device refuses answers its survey does not allow, and records nothing', async () => {
  const d = await enrolledDevice(server);
  const bad = [
    { ...restaurantAnswers(0), recommend: 11 },
    { ...restaurantAnswers(0), price: { importance: 1, satisfaction: 9 } },
    { ...restaurantAnswers(0), nosuch: 1 },
  ];
  for (const a of bad) {
    const r = await d.record(a);
    assert.equal(r.code, 1, `invalid answers ${JSON.stringify(a)}: exit 1\n${describeRun(r)}`);
    assert.ok(r.stderr.trim().length > 0, describeRun(r));
  }
  const unknownSurvey = await d.record(restaurantAnswers(0), { survey: 'no-such-survey' });
  assert.equal(unknownSurvey.code, 1, describeRun(unknownSurvey));
  const usage = await d.cli(['record', '--survey']);
  assert.equal(usage.code, 2, `usage error: exit 2\n${describeRun(usage)}`);
  const st = await d.status();
  assert.equal(st.head_seq, 0, JSON.stringify(st));
});

test('the web channel\'s surveys come before enrollment, to an allowed Origin only, signed by the organisation', async () => {
  const ok = await server.fetch('/v1/web/surveys', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: WEB_ORIGIN }, body: '{"protocol": 1}',
  });
  assert.equal(ok.status, 200, describeResponse(ok));
  assert.equal(ok.headers['access-control-allow-origin'], WEB_ORIGIN);
  assert.equal(ok.json.channel, 'web');
  assert.match(ok.json.org_sign_key, /^[0-9a-f]{64}$/);
  assert.match(ok.json.org_box_key, /^[0-9a-f]{64}$/);
  // The same organisation key and bundles as the enrollment answer of a web device.
  const key = wire.newDeviceKey();
  const enrolled = await server.fetch('/v1/web/enroll', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: WEB_ORIGIN },
    body: JSON.stringify({ protocol: 1, public_key: key.publicRaw.toString('hex') }),
  });
  assert.equal(enrolled.status, 200, describeResponse(enrolled));
  assert.equal(ok.json.org_sign_key, enrolled.json.org_sign_key);
  assert.equal(ok.json.org_box_key, enrolled.json.org_box_key);
  assert.equal(ok.json.location, enrolled.json.location);
  assert.deepEqual(ok.json.bundles.map((b) => b.survey_id).sort(), enrolled.json.bundles.map((b) => b.survey_id).sort());
  for (const b of ok.json.bundles) {
    const bundle = wire.parseBundle(Buffer.from(b.bundle, 'hex'));
    assert.ok(wire.verifyTagged('canvass/survey/v1', bundle.body, bundle.signature, Buffer.from(ok.json.org_sign_key, 'hex')),
      `${b.survey_id}: signed by the organisation key`);
  }
  const evil = await server.fetch('/v1/web/surveys', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' }, body: '{}',
  });
  assertRefused(evil, 403, /origin/i, 'foreign origin:');
  const none = await server.fetch('/v1/web/surveys', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assertRefused(none, 403, /origin/i, 'no origin:');
});

test('--test-clock: POST /v1/test/clock moves the server\'s time forward, for the owner only', async () => {
  const code = await server.mustAdmin('POST', '/v1/admin/enroll-codes', { location: 'Kyiv-Podil', ttl_hours: 1 }, 201);
  const moved = await server.advanceClock(0);
  assert.ok(Math.abs(moved - Date.now()) < 60000, `the test clock starts at the real time: ${moved}`);
  assertRefused(await server.admin('POST', '/v1/test/clock', { advance_ms: -1 }), 400, /forward/);
  assertRefused(await server.admin('POST', '/v1/test/clock', { advance_ms: 1 }, { token: null }), 401, /Bearer/);
  // An hour and a minute later the code has expired, without anyone waiting for it.
  await server.advanceClock(3660000);
  const { res } = await rawEnroll(code.json.code);
  assertRefused(res, 401, /expired/i, 'a code past its hour:');
});
