// The SMS channel on PostgreSQL with two canvass-server instances sharing one database (as
// postgres.test.mjs sets them up): a gateway that retries the same message through both at once
// gets one record, the rest "duplicate"; the message ids live in the inbound_messages table of the
// schema migration; and the Catch2 inbound-message contract ([postgres-inbound], hidden from the
// plain unit run) holds on this PostgreSQL. If PostgreSQL is not installed these tests FAIL, they
// are never skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, startPostgres, cleanup, describeRun, run, binDir, tempDir, RESTAURANT,
} from './harness.mjs';

const SECRET = 'sms-gateway-secret-0123456789';
let pg;
let A;
let B;

before(async () => {
  process.env.CANVASS_SMS_SECRET = SECRET;
  pg = await startPostgres();
  const dirA = path.join(tempDir('canvass-pgsms-a-'), 'data');
  const dirB = path.join(tempDir('canvass-pgsms-b-'), 'data');
  const first = await startServer({ dataDir: dirA, db: pg.url, publish: [RESTAURANT] });
  await first.stop();
  fs.cpSync(dirA, dirB, { recursive: true });
  const args = ['--sms-survey', 'restaurant'];
  A = await startServer({ dataDir: dirA, db: pg.url, extraArgs: args });
  B = await startServer({ dataDir: dirB, db: pg.url, extraArgs: args });
}, { timeout: 120000 });

after(async () => {
  for (const s of [A, B]) if (s) await s.stop();
  await cleanup();
});

function sms(server, body) {
  return server.fetch('/v1/channels/sms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Canvass-Sms-Secret': SECRET },
    body: JSON.stringify(body),
  });
}

test('a message retried through two instances at once is stored once', { timeout: 120000 }, async () => {
  for (let m = 0; m < 5; m++) {
    const body = { from: m % 2 ? '067 123 45 67' : '+380 67 123 45 67', text: `${m + 3} round ${m}`, message_id: `SM-pg-${m}` };
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => sms(i % 2 ? B : A, body)));
    assert.deepEqual(answers.map((r) => r.status), Array(8).fill(200), answers.map((r) => r.text).join('\n'));
    const statuses = answers.map((r) => r.json.status).sort();
    assert.deepEqual(statuses, ['duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'recorded'],
      answers.map((r) => r.text).join('\n'));
  }
  // Without an id: the same text from the same number (two spellings), through both: one record.
  const noId = await Promise.all([
    sms(A, { from: '+380931112233', text: '1 never again' }),
    sms(B, { from: '093 111 22 33', text: '1 never again' }),
  ]);
  assert.deepEqual(noId.map((r) => r.json.status).sort(), ['duplicate', 'recorded'], noId.map((r) => r.text).join('\n'));

  const records = await A.exportRecords();
  assert.equal(records.length, 6);
  assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4, 5, 6], 'one unbroken gateway chain');
  assert.deepEqual(records.map((r) => r.answers.recommend), [3, 4, 5, 6, 7, 1]);
  assert.equal(new Set(records.slice(0, 5).map((r) => r.customer)).size, 1, 'both spellings are one customer');
  const rows = await pg.psql('SELECT channel, message_id, seq FROM inbound_messages ORDER BY seq');
  const lines = rows.stdout.trim().split('\n');
  assert.equal(lines.length, 6, rows.stdout);
  assert.deepEqual(lines.slice(0, 5).map((l) => l.replace(/\|\d+$/, '')), [0, 1, 2, 3, 4].map((m) => `sms|SM-pg-${m}`));
  assert.match(lines[5], /^sms\|auto:[0-9a-f]{64}\|6$/);
  const version = await pg.psql('SELECT version FROM schema_version');
  assert.equal(version.stdout.trim(), '4', 'the inbound_messages migration ran');
});

test('the inbound-message store contract holds on PostgreSQL', { timeout: 120000 }, async () => {
  await pg.psql('CREATE DATABASE unit_inbound');
  const unit = path.resolve(binDir, '../tests/canvass_unit_tests');
  assert.ok(fs.existsSync(unit), `${unit} is missing: build the native target first`);
  const r = await run(unit, ['[postgres-inbound]', '--use-colour', 'no', '--reporter', 'compact'], {
    env: { ...process.env, CANVASS_TEST_PG_URL: pg.url.replace(/\/canvass$/, '/unit_inbound') },
    timeout: 100000,
  });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /Passed 1 test case/, describeRun(r));
});
