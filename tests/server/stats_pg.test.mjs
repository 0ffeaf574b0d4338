// The dashboard's statistics on a real PostgreSQL 15 (tests/unit/stats_projection_test.cpp runs
// the same on SQLite): the Catch2 case tagged [postgres-stats] is hidden from the plain unit run
// because it needs a database; this test starts one and runs exactly that case against it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { startPostgres, cleanup, run, describeRun, binDir } from './harness.mjs';

let pg;
before(async () => { pg = await startPostgres(); }, { timeout: 120000 });
after(async () => { await cleanup(); });

test('GET /v1/admin/stats serves the projected cube on PostgreSQL', { timeout: 120000 }, async () => {
  const unit = path.resolve(binDir, '../tests/canvass_unit_tests');
  assert.ok(fs.existsSync(unit), `${unit} is missing: build the native target first`);
  const r = await run(unit, ['[postgres-stats]', '--use-colour', 'no', '--reporter', 'compact'], {
    env: { ...process.env, CANVASS_TEST_PG_URL: pg.url },
    timeout: 100000,
  });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /Passed 1 test case/, describeRun(r));
});
