// Checks the tests' own JavaScript codec (wire.mjs) against tests/golden/vectors.txt, so that a
// failure in the server suites can be trusted to be the server's, not the codec's. Needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './harness.mjs';
import * as wire from './wire.mjs';

const vectors = Object.fromEntries(
  fs.readFileSync(path.join(repoRoot, 'tests/golden/vectors.txt'), 'utf8')
    .split('\n')
    .filter((l) => /^[a-z]/.test(l))
    .map((l) => {
      const i = l.indexOf(' = ');
      return [l.slice(0, i), l.slice(i + 3)];
    }),
);
const hex = (k) => Buffer.from(vectors[k], 'hex');

test('BLAKE2b-256 matches the golden vectors', () => {
  assert.equal(wire.hash256(Buffer.from('abc')).toString('hex'), vectors['blake2b256.abc']);
  assert.equal(wire.hash256(hex('record.full.bytes')).toString('hex'), vectors['record.full.hash']);
  const restaurant = fs.readFileSync(path.join(repoRoot, 'examples/restaurant.json'));
  assert.equal(wire.hash256(restaurant).toString('hex'), vectors['survey.restaurant.version']);
  // Lengths around the 128-byte block boundary.
  for (const n of [0, 127, 128, 129, 256, 257]) assert.equal(wire.hash256(Buffer.alloc(n, 7)).length, 32);
});

test('records and envelopes decode and re-encode byte for byte', () => {
  const env = wire.parseEnvelope(hex('record.full.envelope'));
  assert.deepEqual(env.recordBytes, hex('record.full.bytes'));
  assert.equal(env.signature.toString('hex'), vectors['record.full.signature']);
  assert.ok(wire.verifyTagged('canvass/record/v1', env.recordBytes, env.signature, hex('device.sign.public')));
  assert.ok(!wire.verifyTagged('canvass/receipt/v1', env.recordBytes, env.signature, hex('device.sign.public')));
  assert.equal(env.record.surveyId, 'restaurant');
  assert.equal(env.record.seq, 7);
  assert.equal(env.record.answers.reason, 'Долго ждали заказ — чекали 40 хвилин');
  assert.deepEqual(wire.encodeRecord(env.record), env.recordBytes);
  let prev = null;
  for (const k of ['chain.1.envelope', 'chain.2.envelope', 'chain.3.envelope']) {
    const e = wire.parseEnvelope(hex(k));
    if (prev) assert.deepEqual(e.record.prevHash, prev);
    assert.ok(wire.verifyTagged('canvass/record/v1', e.recordBytes, e.signature, hex('device.sign.public')));
    assert.deepEqual(wire.encodeRecord(e.record), e.recordBytes);
    prev = e.hash;
  }
  assert.equal(prev.toString('hex'), vectors['chain.head']);
});

test('signed messages: receipt, certificate, bundle verify with the organisation key', () => {
  const org = hex('org.sign.public');
  const receipt = wire.parseReceipt(hex('receipt.signed'));
  assert.equal(receipt.deviceId, 'dev-kiosk-01');
  assert.ok(wire.verifyTagged('canvass/receipt/v1', receipt.body, receipt.signature, org));
  const cert = wire.parseCertificate(hex('certificate.signed'));
  assert.equal(cert.location, 'Kyiv-Podil');
  assert.ok(wire.verifyTagged('canvass/device/v1', cert.body, cert.signature, org));
  const bundle = wire.parseBundle(hex('bundle.signed'));
  assert.equal(bundle.surveyId, 'restaurant');
  assert.ok(wire.verifyTagged('canvass/survey/v1', bundle.body, bundle.signature, org));
});

test('a JavaScript-made key signs records the codec verifies', () => {
  const key = wire.newDeviceKey();
  const bytes = wire.encodeRecord({
    surveyId: 's', surveyVersion: Buffer.alloc(32, 1), deviceId: 'd', seq: 1, prevHash: wire.ZERO_HASH,
    deviceTimeMs: Date.now(), outcome: 'completed', answers: { b: 1, a: 'x', c: { importance: 1, satisfaction: 4 } },
    tags: { location: 'L' },
  });
  const env = wire.parseEnvelope(wire.signRecord(bytes, key.privateKey));
  assert.deepEqual(Object.keys(env.record.answers), ['a', 'b', 'c']);
  assert.ok(wire.verifyTagged('canvass/record/v1', env.recordBytes, env.signature, key.publicRaw));
  const batch = wire.buildBatch({ deviceId: 'd', envelopes: [wire.signRecord(bytes, key.privateKey)] });
  assert.equal(wire.parseBatch(batch).envelopes.length, 1);
  assert.equal(wire.batchLayout(batch)[0].recordLength, bytes.length);
});
