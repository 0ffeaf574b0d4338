// The SMS channel: POST /v1/channels/sms from a gateway with a shared secret. A reply whose first
// word is 0..10 becomes a signed NPS record (channel sms, customer = pseudonymous key of the
// number); anything else is ignored by the documented rule, never crashes, stores nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, cleanup, run, binary, tempDir, describeRun, assertRefused, repoRoot, RESTAURANT,
} from './harness.mjs';

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

  for (const text of ['thanks!', 'eleven', '11', '7/8', '', '   ', '🙂', 'x'.repeat(900)]) {
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

// The parse rule of docs/protocol.md ("The rule for the text"): one row per example of its table.
// [text, score or null (ignored), the stored reason or undefined]
const PARSE_TABLE = [
  ['9', 9, undefined],
  ['0', 0, undefined],
  ['10', 10, undefined],
  ['  7  ', 7, undefined],
  ['10!!!', 10, undefined],
  ['9/10', 9, undefined],
  ['9 / 10', 9, undefined],
  ['10/10', 10, undefined],
  ['9/10 great staff', 9, 'great staff'],
  ['3 - cold soup', 3, 'cold soup'],
  ['3, waited forty minutes', 3, 'waited forty minutes'],
  ['7. Good coffee', 7, 'Good coffee'],
  ['8 — швидко і смачно', 8, 'швидко і смачно'],
  ['5:)', 5, undefined],
  ['11', null],
  ['100', null],
  ['9.5', null],
  ['3-4', null],
  ['9 10', null],
  ['7/8', null],
  ['9am', null],
  ['-3', null],
  ['Score: 9', null],
  ['thanks!', null],
  ['', null],
];

test('the parse rule: each row of the table in docs/protocol.md', async (t) => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const server = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant'] });
  t.after(() => server.stop());
  const docs = fs.readFileSync(path.join(repoRoot, 'docs', 'protocol.md'), 'utf8');
  let expectedRecords = 0;
  for (const [i, [text, score, reason]] of PARSE_TABLE.entries()) {
    // The table in the docs has this row (so the docs and the test cannot drift apart).
    assert.ok(docs.includes(`| \`${JSON.stringify(text)}\` |`), `docs/protocol.md has no row for ${JSON.stringify(text)}`);
    const r = await server.fetch('/v1/channels/sms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Canvass-Sms-Secret': SECRET },
      body: JSON.stringify({ from: '+380671234567', text, message_id: `row-${i}` }),
    });
    assert.equal(r.status, 200, `${JSON.stringify(text)}: ${r.text}`);
    assert.equal(r.json.status, score === null ? 'ignored' : 'recorded', `${JSON.stringify(text)}: ${r.text}`);
    if (score !== null) expectedRecords += 1;
  }
  const records = await server.exportRecords();
  const scored = PARSE_TABLE.filter(([, score]) => score !== null);
  assert.equal(records.length, expectedRecords);
  assert.deepEqual(records.map((r) => r.answers.recommend), scored.map(([, score]) => score));
  assert.deepEqual(records.map((r) => r.answers.reason), scored.map(([, , reason]) => reason));
});

test('idempotency: the gateway message id (JSON and form) and, without one, the one-hour retry window', async (t) => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const server = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant'] });
  t.after(() => server.stop());
  const json = (body) => server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Canvass-Sms-Secret': SECRET },
    body: JSON.stringify(body),
  });
  const first = await json({ from: '+380671234567', text: '9', message_id: 'SM-retry-1' });
  assert.equal(first.json.status, 'recorded', first.text);
  for (let i = 0; i < 3; i++) {
    const again = await json({ from: '+380671234567', text: '9', message_id: 'SM-retry-1' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.status, 'duplicate', again.text);
    assert.match(again.json.detail, /SM-retry-1.*seq 1.*nothing new/, again.text);
  }
  // Gateways retry in parallel too: ten at once, one record.
  const burst = await Promise.all(Array.from({ length: 10 }, () => json({ from: '+380501112233', text: '4', message_id: 'SM-burst' })));
  assert.deepEqual(burst.map((r) => r.status), Array(10).fill(200));
  assert.equal(burst.filter((r) => r.json.status === 'recorded').length, 1, burst.map((r) => r.text).join('\n'));
  // Another id with the same text is another message.
  assert.equal((await json({ from: '+380671234567', text: '9', message_id: 'SM-retry-2' })).json.status, 'recorded');

  // The form post's MessageSid is the same kind of id.
  const form = (params) => server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Canvass-Sms-Secret': SECRET },
    body: new URLSearchParams(params).toString(),
  });
  const sid = { From: '+380671234567', Body: '6 slow', MessageSid: 'SM0123456789abcdef' };
  assert.equal((await form(sid)).json.status, 'recorded');
  assert.equal((await form(sid)).json.status, 'duplicate');

  // Without an id: the same text from the same number (however written) is one message.
  const noId = await json({ from: '+380 93 000 11 22', text: '2 rude' });
  assert.equal(noId.json.status, 'recorded', noId.text);
  const retry = await json({ from: '093 000 11 22', text: '2 rude' });
  assert.equal(retry.json.status, 'duplicate', retry.text);
  assert.match(retry.json.detail, /within the hour/);
  assert.equal((await json({ from: '+380930001122', text: '3 rude' })).json.status, 'recorded');

  const records = await server.exportRecords();
  assert.deepEqual(records.map((r) => r.answers.recommend), [9, 4, 9, 6, 2, 3]);
  const dbRows = await run('sqlite3', [path.join(server.dataDir, 'canvass.db'),
    'SELECT channel, message_id, seq FROM inbound_messages ORDER BY seq']);
  assert.equal(dbRows.code, 0, describeRun(dbRows));
  const rows = dbRows.stdout.trim().split('\n');
  assert.equal(rows.length, 6, dbRows.stdout);
  assert.deepEqual(rows.slice(0, 4), ['sms|SM-retry-1|1', 'sms|SM-burst|2', 'sms|SM-retry-2|3', 'sms|SM0123456789abcdef|4']);
  assert.match(rows[4], /^sms\|auto:[0-9a-f]{64}\|5$/, 'a derived id holds no phone number');
});

test('numbers are normalised to E.164 with the --sms-region default before the customer key', async (t) => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const ua = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant'] });
  t.after(() => ua.stop());
  const send = (server, from, id) => server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Canvass-Sms-Secret': SECRET },
    body: JSON.stringify({ from, text: '8', message_id: id }),
  });
  const spellings = ['+380 67 123 45 67', '067 123 45 67', '0671234567', '+38 (067) 123-45-67', '00380671234567'];
  for (const [i, from] of spellings.entries()) {
    const r = await send(ua, from, `e164-${i}`);
    assert.equal(r.json?.status, 'recorded', `${from}: ${r.text}`);
  }
  assert.equal((await send(ua, '+48 601 234 567', 'e164-pl')).json.status, 'recorded');
  for (const [i, bad] of ['abc', '12', '+380 67'].entries()) {
    assertRefused(await send(ua, bad, `bad-${i}`), 400, /not a phone number.*UA/);
  }
  const records = await ua.exportRecords();
  assert.equal(records.length, spellings.length + 1);
  const keys = new Set(records.slice(0, spellings.length).map((r) => r.customer));
  assert.equal(keys.size, 1, 'every spelling of one number is one customer');
  assert.notEqual(records[spellings.length].customer, records[0].customer, 'another number, another customer');

  // With --sms-region PL the national spelling is read as a Polish number.
  const pl = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant', '--sms-region', 'PL'] });
  t.after(() => pl.stop());
  assert.equal((await send(pl, '601 234 567', 'pl-1')).json.status, 'recorded');
  assert.equal((await send(pl, '+48601234567', 'pl-2')).json.status, 'recorded');
  const plRecords = await pl.exportRecords();
  assert.equal(plRecords[0].customer, plRecords[1].customer);

  const wrong = await run(binary('canvass-server'), ['--data', tempDir('canvass-sms-'), '--sms-survey', 'restaurant', '--sms-region', 'XX']);
  assert.equal(wrong.code, 2, describeRun(wrong));
  assert.match(wrong.stderr, /--sms-region: 'XX' is not a region/, describeRun(wrong));
});

function twilioSignature(secret, url, params) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return crypto.createHmac('sha1', secret).update(Buffer.from(data, 'utf8')).digest('base64');
}

test('Twilio-style form posts: From/Body/MessageSid, X-Twilio-Signature checked', async (t) => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const server = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant'] });
  t.after(() => server.stop());
  const url = `${server.url}/v1/channels/sms`;
  const post = (params, headers) => server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  const params = {
    ToCountry: 'UA', From: '+380671234567', To: '+380441234567', Body: '4 - холодний суп, чекали 40 хв',
    MessageSid: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', SmsSid: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    AccountSid: 'AC0000', NumMedia: '0',
  };
  const good = await post(params, { 'X-Twilio-Signature': twilioSignature(SECRET, url, params) });
  assert.equal(good.status, 200, good.text);
  assert.equal(good.json.status, 'recorded', good.text);

  // A signature over other parameters, with another secret, or over another URL: 401 with JSON.
  const tampered = { ...params, Body: '10' };
  assertRefused(await post(tampered, { 'X-Twilio-Signature': twilioSignature(SECRET, url, params) }), 401, /X-Twilio-Signature/);
  assertRefused(await post(params, { 'X-Twilio-Signature': twilioSignature('another-secret-0123456', url, params) }), 401, /X-Twilio-Signature/);
  assertRefused(await post(params, { 'X-Twilio-Signature': twilioSignature(SECRET, `${url}/other`, params) }), 401, /X-Twilio-Signature/);
  assertRefused(await post(params, {}), 401, /X-Twilio-Signature|X-Canvass-Sms-Secret/);
  // A gateway that does not sign may send the shared-secret header instead.
  const unsigned = { From: '067 123 45 67', Body: '10', MessageSid: 'SMbbbb' };
  assert.equal((await post(unsigned, { 'X-Canvass-Sms-Secret': SECRET })).json.status, 'recorded');
  assertRefused(await post({ From: '+380671234567' }, { 'X-Canvass-Sms-Secret': SECRET }), 400, /From and Body/);

  const records = await server.exportRecords();
  assert.equal(records.length, 2);
  assert.equal(records[0].answers.recommend, 4);
  assert.equal(records[0].answers.reason, 'холодний суп, чекали 40 хв');
  assert.equal(records[1].answers.recommend, 10);
  assert.equal(records[0].customer, records[1].customer, 'the form number is normalised like JSON');
});

test('limits: a cut reason says so in the record; every refusal, 413 included, is JSON', async (t) => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const server = await startServer({ publish: [RESTAURANT], extraArgs: ['--sms-survey', 'restaurant'] });
  t.after(() => server.stop());
  const send = (body) => server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Canvass-Sms-Secret': SECRET },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  // restaurant.json's reason takes 500 characters: 600 Cyrillic ones (1,200 bytes) are cut at 500.
  const long = 'щ'.repeat(600);
  const cut = await send({ from: '+380671234567', text: `2 ${long}`, message_id: 'long-1' });
  assert.equal(cut.json.status, 'recorded', cut.text);
  assert.match(cut.json.detail, /cut to 500 of 600 characters/);
  const fits = await send({ from: '+380671234567', text: `3 ${'ы'.repeat(500)}`, message_id: 'long-2' });
  assert.doesNotMatch(fits.json.detail, /cut/);
  const records = await server.exportRecords();
  assert.equal(records[0].answers.reason, 'щ'.repeat(500));
  assert.equal(records[0].tags.text_cut, '600', 'the record says the text was cut, and from what');
  assert.equal(records[1].answers.reason, 'ы'.repeat(500));
  assert.equal(records[1].tags.text_cut, undefined);

  assertRefused(await send({ from: '+380671234567', text: `9 ${'x'.repeat(2000)}` }), 413, /text: 2002 bytes, over the 2000/);
  assertRefused(await send({ from: '+380671234567', text: '9', pad: 'y'.repeat(20000) }), 413, /over 16 KiB/);
  assertRefused(await send({ from: '+380671234567', text: '9', message_id: 'x'.repeat(129) }), 400, /message id/);
  assertRefused(await send({ from: '+380671234567', text: '9', message_id: 'has space' }), 400, /message id/);
  assertRefused(await send('{"from": 5}'), 400, /body must be/);
  assert.equal((await server.exportRecords()).length, 2, 'nothing refused was stored');
});

test('start-up refuses an --sms-survey that is not published or has no NPS question', async () => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  const unpublished = await run(binary('canvass-server'), [
    '--data', path.join(tempDir('canvass-sms-'), 'data'), '--listen', '127.0.0.1:0', '--sms-survey', 'restaurant']);
  assert.equal(unpublished.code, 1, describeRun(unpublished));
  assert.match(unpublished.stderr, /SMS channel cannot record: survey 'restaurant' \(--sms-survey\) is not published/, describeRun(unpublished));
  assert.doesNotMatch(unpublished.stdout, /listening/);

  // restaurant.json without its NPS question (and the contact question that hangs on it).
  const survey = JSON.parse(fs.readFileSync(RESTAURANT, 'utf8'));
  survey.id = 'csi-only';
  survey.questions = survey.questions.filter((q) => q.kind !== 'nps' && q.kind !== 'contact');
  const file = path.join(tempDir('canvass-sms-'), 'csi-only.json');
  fs.writeFileSync(file, JSON.stringify(survey));
  const noNps = await run(binary('canvass-server'), [
    '--data', path.join(tempDir('canvass-sms-'), 'data'), '--listen', '127.0.0.1:0',
    '--publish', file, '--sms-survey', 'csi-only']);
  assert.equal(noNps.code, 1, describeRun(noNps));
  assert.match(noNps.stderr, /has no NPS question/, describeRun(noNps));
});
