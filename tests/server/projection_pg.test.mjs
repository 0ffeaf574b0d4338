// The projection queue's contract on a real PostgreSQL 15 (tests/unit/projection_test.cpp runs it
// on SQLite): the Catch2 case tagged [postgres] is hidden from the plain unit run because it needs
// a database; this test starts one and runs exactly that case against it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { startPostgres, cleanup, run, describeRun, binDir } from './harness.mjs';

let pg;
before(async () => { pg = await startPostgres(); }, { timeout: 120000 });
after(async () => { await cleanup(); });

test('projections see every stored record exactly once on PostgreSQL', { timeout: 120000 }, async () => {
  const unit = path.resolve(binDir, '../tests/canvass_unit_tests');
  assert.ok(fs.existsSync(unit), `${unit} is missing: build the native target first`);
  const r = await run(unit, ['[postgres]', '--use-colour', 'no', '--reporter', 'compact'], {
    env: { ...process.env, CANVASS_TEST_PG_URL: pg.url },
    timeout: 100000,
  });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /Passed 1 test case/, describeRun(r));
});
