// The SMS channel: POST /v1/channels/sms from a gateway with a shared secret. A reply whose first
// word is 0..10 becomes a signed NPS record (channel sms, customer = pseudonymous key of the
// number); anything else is ignored by the documented rule, never crashes, stores nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cleanup, RESTAURANT } from './harness.mjs';

const SECRET = 'sms-gateway-secret-0123456789';
after(cleanup);

test('SMS replies: scores are recorded, wrong secrets and non-scores are refused or ignored', async (t) => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const server = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant'] });
  t.after(() => server.stop());
  const sms = (body, secret = SECRET) => server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(secret ? { 'X-Canvass-Sms-Secret': secret } : {}) },
    body: JSON.stringify(body),
  });

  const wrong = await sms({ from: '+380671234567', text: '9' }, 'not-the-secret');
  assert.equal(wrong.status, 401);
  assert.match(wrong.json.message, /secret/i);
  assert.equal((await sms({ from: '+380671234567', text: '9' }, null)).status, 401);

  const nine = await sms({ from: '+380 67 123-45-67', text: '9' });
  assert.equal(nine.status, 200, nine.text);
  assert.equal(nine.json.status, 'recorded');
  const three = await sms({ from: '+380671234567', text: '3, waited forty minutes' });
  assert.equal(three.json.status, 'recorded');

  for (const text of ['thanks!', 'eleven', '11', '10/10', '', '   ', '🙂', 'x'.repeat(900)]) {
    const r = await sms({ from: '+380501112233', text });
    assert.equal(r.status, 200, `${JSON.stringify(text)}: ${r.text}`);
    assert.equal(r.json.status, 'ignored', JSON.stringify(text));
  }
  for (const body of ['{', '[]', '{"from": 5, "text": "9"}', '{"text": "9"}']) {
    const r = await server.fetch('/v1/channels/sms', {
      method: 'POST', headers: { 'X-Canvass-Sms-Secret': SECRET }, body,
    });
    assert.equal(r.status, 400, body);
  }

  const records = await server.exportRecords();
  assert.equal(records.length, 2, 'exactly the two scored replies are stored');
  assert.deepEqual(records.map((r) => r.answers.recommend), [9, 3]);
  assert.equal(records[1].answers.reason, 'waited forty minutes');
  for (const r of records) {
    assert.equal(r.tags.channel, 'sms');
    assert.equal(r.device, 'dev-sms-gateway');
    assert.match(r.customer, /^[0-9a-f]{64}$/);
    // Its digits, not a bare '380' (hex keys and times contain that by chance).
    assert.ok(!/\+380|671234567|67 123|501112233/.test(JSON.stringify(r)), 'the number is never stored');
  }
  assert.equal(records[0].customer, records[1].customer, 'one number, one customer key');
  assert.deepEqual(records.map((r) => r.seq), [1, 2], 'one signed chain for the gateway');
});

test('the SMS channel is off unless configured', async (t) => {
  delete process.env.CANVASS_SMS_SECRET;
  const server = await startServer({ publish: [RESTAURANT] });
  t.after(() => server.stop());
  const r = await server.fetch('/v1/channels/sms', {
    method: 'POST', headers: { 'X-Canvass-Sms-Secret': SECRET }, body: '{"from": "+380671234567", "text": "9"}',
  });
  assert.equal(r.status, 404);
  assert.match(r.json.message, /sms/i);
});
