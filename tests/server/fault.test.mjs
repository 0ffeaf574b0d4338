// Faults under load (SQLite, loopback only): many devices pushing through a proxy that cuts
// connections at random (chaos_proxy.mjs), the server killed with SIGKILL at random moments of
// that load and restarted on the same data directory and port, and a database that runs out of
// space (--max-db-mb). Every test counts exactly, per device and per seq: afterwards the store
// holds the records the devices made, each once, and no record a device holds a receipt for is
// ever missing, not even right after a kill.
//
// The devices are mostly wire.mjs devices (keys from node:crypto, records encoded, hash-chained
// and signed here, receipts verified with the organisation key; they resend whatever has no
// receipt), so that hundreds are cheap, plus two real `canvass device` CLI devices.
//
// Short form (the default; CTest runs it): 20 + 2 devices, 3 kills, well under two minutes.
// Long form, for instance:
//   CANVASS_FAULT_DEVICES=200 CANVASS_FAULT_RECORDS=100 CANVASS_FAULT_KILLS=10 \
//     node --test tests/server/fault.test.mjs
//
//   CANVASS_FAULT_DEVICES      wire.mjs devices (default 20)
//   CANVASS_FAULT_RECORDS      records per wire.mjs device (default 24)
//   CANVASS_FAULT_CLI_RECORDS  records per CLI device (default 8)
//   CANVASS_FAULT_KILLS        SIGKILLs during the load of the kill test (default 3)
//   CANVASS_FAULT_SEED         seed of the cuts, batch sizes, pauses and kill moments (default 7)
// The figures (duration, records, cuts, kills, records lost) are printed as test diagnostics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  storedPrefix, startServer, cleanup, Device, restaurantAnswers, assertExactlySeqs, describeRun, describeResponse,
  pool, metricSum, run, binary, RESTAURANT, sleep,
} from './harness.mjs';
import * as wire from './wire.mjs';
import { ChaosProxy, prng } from './chaos_proxy.mjs';

const DEVICES = Number(process.env.CANVASS_FAULT_DEVICES || 20);
const RECORDS = Number(process.env.CANVASS_FAULT_RECORDS || 24);
const CLI_RECORDS = Number(process.env.CANVASS_FAULT_CLI_RECORDS || 8);
const KILLS = Number(process.env.CANVASS_FAULT_KILLS || 3);
const SEED = Number(process.env.CANVASS_FAULT_SEED || 7);
const CLI_DEVICES = 2;
const LOCATIONS = ['Kyiv-Podil', 'Lviv-Rynok', 'Odesa-Port'];
// Time the devices get to deliver everything (a CLI record is a process: it counts as 20); the
// test fails with the figures after that.
const LOAD_MS = 60000 + 20 * (DEVICES * RECORDS + CLI_DEVICES * CLI_RECORDS * 20);
const TEST_MS = LOAD_MS + 120000;

after(cleanup);

// ---------------------------------------------------------------------------------------------
// HTTP that tells a cut from an answer: resolves only when the whole answer arrived (as many body
// bytes as Content-Length says), rejects on any cut, reset or refused connection.

function call(base, p, { method = 'POST', body, headers = {}, timeout = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(p, base);
    const b = body === undefined ? undefined : Buffer.from(body);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false,
      headers: { ...(b ? { 'Content-Length': b.length } : {}), ...headers },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer in ${timeout} ms`)), timeout);
    const fail = (e) => { clearTimeout(timer); reject(e); };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', fail);
      res.on('close', () => { if (!res.complete) fail(new Error('connection cut mid-answer')); });
      res.on('end', () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        const len = res.headers['content-length'];
        if (!res.complete || (len !== undefined && Number(len) !== buf.length)) {
          reject(new Error(`answer cut: ${buf.length} of ${len} bytes`));
          return;
        }
        let json;
        try { json = JSON.parse(buf.toString('utf8')); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, buf, text: buf.toString('utf8'), json });
      });
    });
    req.end(b);
  });
}

const json = (o) => ({ body: JSON.stringify(o), headers: { 'Content-Type': 'application/json' } });

// ---------------------------------------------------------------------------------------------
// A device made here with wire.mjs. It keeps every record it made until a receipt that verifies
// with the organisation key covers it, and then forgets it, as the real devices do.

const RECORD_TAG = Buffer.from('canvass/record/v1', 'ascii');

class JsDevice {
  constructor(name, answer, key, answers) {
    this.name = name;
    this.id = answer.device_id;
    this.location = answer.location;
    this.key = key;
    const bundle = answer.bundles.find((x) => x.survey_id === 'restaurant');
    assert.ok(bundle, `${name}: no restaurant bundle in the enrollment answer`);
    this.version = Buffer.from(bundle.version, 'hex');
    this.answers = answers;
    this.seq = 0; // records made
    this.head = wire.ZERO_HASH;
    this.log = []; // {seq, hash, envelope} without a receipt yet
    this.acked = 0; // last seq a verified receipt covers
  }

  record(n) {
    for (let k = 0; k < n; k++) {
      const seq = this.seq + 1;
      const bytes = wire.encodeRecord({
        surveyId: 'restaurant', surveyVersion: this.version, deviceId: this.id, seq,
        prevHash: this.head, deviceTimeMs: Date.now(), outcome: 'completed',
        answers: this.answers(seq, this.name), tags: { location: this.location, channel: 'kiosk' },
      });
      const hash = wire.hash256(bytes); // once: the signature is over tag ‖ hash
      const sig = crypto.sign(null, Buffer.concat([RECORD_TAG, hash]), this.key.privateKey);
      this.log.push({ seq, hash, envelope: wire.encodeEnvelope(bytes, sig) });
      this.seq = seq;
      this.head = hash;
    }
  }

  batch(n) {
    const entries = this.log.slice(0, n);
    return { entries, body: wire.buildBatch({ deviceId: this.id, envelopes: entries.map((e) => e.envelope) }) };
  }

  // Checks the receipt for `entries` and drops them from the log.
  acknowledge(buf, entries, orgKey) {
    let rc;
    try {
      rc = wire.parseReceipt(buf);
    } catch (e) {
      assert.fail(`${this.name}: the 200 answer is not a receipt (${e.message}): ${buf.toString('hex').slice(0, 120)}`);
    }
    const last = entries[entries.length - 1];
    assert.ok(wire.verifyTagged('canvass/receipt/v1', rc.body, rc.signature, orgKey),
      `${this.name}: the receipt's signature does not verify with the organisation key`);
    assert.equal(rc.deviceId, this.id, `${this.name}: the receipt names another device`);
    assert.equal(rc.lastSeq, last.seq, `${this.name}: receipt last_seq`);
    assert.ok(rc.headHash.equals(last.hash), `${this.name}: receipt head_hash is not the batch's last record`);
    assert.equal(this.log[0].seq, entries[0].seq);
    this.log.splice(0, entries.length);
    this.acked = last.seq;
  }
}

// The load's shared state: where to push, the figures, and a stop flag for when one device fails.
class Load {
  constructor({ server, proxy, seed, maxBatch = 8 }) {
    this.server = server;
    this.proxy = proxy;
    this.random = prng(seed);
    this.maxBatch = maxBatch;
    this.deadline = Date.now() + LOAD_MS;
    this.orgKey = undefined;
    this.aborted = false;
    this.jsDevices = [];
    this.cliDevices = [];
    this.stats = {
      batches: 0, receipted: 0, failedCalls: 0, busy: 0, enrollRetries: 0, surveyRetries: 0, cliPushes: 0,
      cliRetries: 0,
    };
  }

  get pushUrl() { return this.proxy ? this.proxy.url : this.server.url; }

  async backoff(failures) {
    const ms = Math.min(500, 10 * 2 ** Math.min(failures, 6)) * (0.5 + this.random() / 2);
    await sleep(ms);
  }

  checkDeadline(what) {
    if (Date.now() > this.deadline) {
      assert.fail(`${what} at the deadline (${LOAD_MS} ms); figures: ${JSON.stringify(this.figures())}`);
    }
  }

  figures() {
    return { ...this.stats, ...(this.proxy ? { proxy: this.proxy.stats } : {}) };
  }

  async code(location) {
    const r = await this.server.admin('POST', '/v1/admin/enroll-codes', { location, channel: 'kiosk', ttl_hours: 1 });
    assert.equal(r.status, 201, `enroll-codes: ${describeResponse(r)}`);
    return r.json.code;
  }

  // Enrolls through the proxy. A cut enrollment may have used its code up on the server (an
  // orphan device with no records); the next attempt takes a new code and a new key.
  async enrollJs(name, location, answers = restaurantAnswers) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const code = await this.code(location);
      const key = wire.newDeviceKey();
      let res;
      try {
        res = await call(this.pushUrl, '/v1/enroll', json({ protocol: 1, code, public_key: key.publicRaw.toString('hex') }));
      } catch {
        this.stats.enrollRetries += 1;
        continue;
      }
      assert.equal(res.status, 200, `${name}: enroll: ${describeResponse(res)}`);
      const cert = wire.parseCertificate(Buffer.from(res.json.certificate, 'hex'));
      assert.ok(cert.devicePublicKey.equals(key.publicRaw), `${name}: the certificate is for another key`);
      const org = Buffer.from(res.json.org_sign_key, 'hex');
      if (!this.orgKey) this.orgKey = org;
      assert.ok(org.equals(this.orgKey), 'one organisation key for every enrollment');
      assert.ok(wire.verifyTagged('canvass/device/v1', cert.body, cert.signature, this.orgKey),
        `${name}: the certificate does not verify with the organisation key`);
      const d = new JsDevice(name, res.json, key, answers);
      this.jsDevices.push(d);
      return d;
    }
    assert.fail(`${name}: no enrollment through the proxy in 30 attempts`);
  }

  async enrollCli(name, location, answers = restaurantAnswers) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const code = await this.server.enrollCode(location);
      const d = new Device();
      const r = await d.cli(['enroll', '--server', this.pushUrl, '--code', code]);
      if (r.code !== 0) {
        assert.ok(r.code === 3 || r.code === 1, `${name}: enroll exit 0, 1 or 3\n${describeRun(r)}`);
        this.stats.enrollRetries += 1;
        continue;
      }
      // The CLI fetches the surveys after enrolling (GET /v1/surveys); if that call is cut it
      // says "surveys not fetched yet", exits 0, and cannot record until `surveys` succeeds.
      for (let tries = 0; /surveys not fetched yet/.test(r.stderr); tries++) {
        assert.ok(tries < 30, `${name}: no surveys through the proxy in 30 attempts`);
        const f = await d.cli(['surveys']);
        if (f.code === 0) break;
        this.stats.surveyRetries += 1;
      }
      d.id = (await d.status()).device_id;
      d.name = name;
      d.answers = answers;
      d.made = 0;
      d.acked = 0;
      this.cliDevices.push(d);
      return d;
    }
    assert.fail(`${name}: no CLI enrollment through the proxy in 30 attempts`);
  }

  // Pushes until the log is empty, in batches of random size, resending after every cut.
  async pushJs(d, { maxBatch = this.maxBatch } = {}) {
    let failures = 0;
    while (d.log.length > 0 && !this.aborted) {
      this.checkDeadline(`${d.name}: ${d.log.length} records still without a receipt`);
      const { entries, body } = d.batch(1 + Math.floor(this.random() * Math.min(maxBatch, d.log.length)));
      this.stats.batches += 1;
      let res;
      try {
        res = await call(this.pushUrl, '/v1/records', { body, headers: { 'Content-Type': 'application/octet-stream' } });
      } catch {
        this.stats.failedCalls += 1;
        await this.backoff(++failures);
        continue;
      }
      if (res.status === 503 || res.status === 429) {
        this.stats.busy += 1;
        await this.backoff(++failures);
        continue;
      }
      assert.equal(res.status, 200,
        `${d.name}: push of seqs ${entries[0].seq}..${entries[entries.length - 1].seq}: ${describeResponse(res)}`);
      d.acknowledge(res.buf, entries, this.orgKey);
      this.stats.receipted += entries.length;
      failures = 0;
    }
  }

  // `canvass device push` until it exits 0; exit 3 (server unreachable, cut, 503) means retry.
  async pushCli(d) {
    let failures = 0;
    while (!this.aborted) {
      this.checkDeadline(`${d.name}: the CLI push has not completed`);
      const r = await d.push({ maxBatch: 1 + Math.floor(this.random() * 4), timeout: 60000 });
      this.stats.cliPushes += 1;
      if (r.code === 0) break;
      assert.equal(r.code, 3, `${d.name}: push exits 0, or 3 when the server is unreachable\n${describeRun(r)}`);
      this.stats.cliRetries += 1;
      await this.backoff(++failures);
    }
    const st = await d.status();
    if (this.aborted) return;
    assert.equal(st.pending, 0, `${d.name}: ${JSON.stringify(st)}`);
    assert.equal(st.acked_seq, d.made, `${d.name}: ${JSON.stringify(st)}`);
    d.acked = st.acked_seq;
  }

  // A device's life: a few rounds of answers, each followed by a push, with pauses between.
  async runJs(d, total) {
    const rounds = 1 + Math.floor(this.random() * 3);
    for (let i = 0; i < rounds && !this.aborted; i++) {
      const n = i === rounds - 1 ? total - d.seq : Math.floor(total / rounds);
      d.record(n);
      await this.pushJs(d);
      await sleep(Math.floor(this.random() * 100));
    }
  }

  async runCli(d, total) {
    const rounds = 2;
    for (let i = 0; i < rounds && !this.aborted; i++) {
      const n = i === rounds - 1 ? total - d.made : Math.floor(total / rounds);
      for (let k = 0; k < n; k++) {
        await d.mustRecord(d.answers(d.made + 1, d.name));
        d.made += 1;
      }
      await this.pushCli(d);
    }
  }

  // Runs every device to the end; the first failure stops the others and is thrown.
  async run() {
    const tasks = [
      ...this.jsDevices.map((d) => this.runJs(d, RECORDS)),
      ...this.cliDevices.map((d) => this.runCli(d, CLI_RECORDS)),
    ];
    try {
      await Promise.all(tasks);
    } catch (e) {
      this.aborted = true;
      await Promise.allSettled(tasks);
      throw e;
    } finally {
      this.done = true;
    }
  }

  // Last seq a receipt covers, per device id (CLI devices: as of their last completed push).
  acked() {
    return new Map([...this.jsDevices, ...this.cliDevices].map((d) => [d.id, d.acked]));
  }

  devices() {
    return [
      ...this.jsDevices.map((d) => ({ id: d.id, name: d.name, n: d.seq, answers: (s) => d.answers(s, d.name) })),
      ...this.cliDevices.map((d) => ({ id: d.id, name: d.name, n: d.made, answers: (s) => d.answers(s, d.name) })),
    ];
  }
}

async function enrollAll(load) {
  await pool(Array.from({ length: DEVICES }, (_, i) => i), 8,
    (i) => load.enrollJs(`js${i}`, LOCATIONS[i % LOCATIONS.length]));
  for (let i = 0; i < CLI_DEVICES; i++) await load.enrollCli(`cli${i}`, LOCATIONS[i % LOCATIONS.length]);
}

// The end state: every device's records exactly, with the answers it made, nothing else stored
// (enrollments cut on the way may have left devices with no records), nothing quarantined.
async function assertExact(server, load, what) {
  const records = await server.exportRecords();
  let expected = 0;
  for (const d of load.devices()) {
    assertExactlySeqs(records, d.id, d.n, `${what} ${d.name}:`);
    for (const r of records.filter((x) => x.device === d.id)) {
      assert.deepEqual(r.answers, d.answers(r.seq), `${what} ${d.name} seq ${r.seq}: answers`);
    }
    expected += d.n;
  }
  const ours = new Set(load.devices().map((d) => d.id));
  const strangers = records.filter((r) => !ours.has(r.device));
  assert.equal(strangers.length, 0, `${what} records of devices no test device made: ${JSON.stringify(strangers.slice(0, 3))}`);
  assert.equal(records.length, expected, `${what} records in the export`);
  const orphans = (await server.devices()).filter((d) => !ours.has(d.device_id));
  assert.deepEqual(await server.quarantine(), [], `${what} nothing quarantined`);
  return { records: records.length, orphans: orphans.length };
}

function diagnostics(t, figures) {
  for (const [k, v] of Object.entries(figures)) t.diagnostic(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}

// ---------------------------------------------------------------------------------------------

test(`${DEVICES} + ${CLI_DEVICES} devices push through a proxy that cuts connections: every record exactly once`,
  { timeout: TEST_MS }, async (t) => {
    const server = await startServer({ publish: [RESTAURANT] });
    const proxy = await new ChaosProxy({ upstreamPort: server.port, seed: SEED, cutRate: 0.3 }).start();
    try {
      const load = new Load({ server, proxy, seed: SEED + 1 });
      await enrollAll(load);
      const t0 = Date.now();
      await load.run();
      const ms = Date.now() - t0;
      const end = await assertExact(server, load, 'final:');
      const metrics = await server.metrics();
      // One process, no restart: the server's own count of first-time stores is the total too.
      assert.equal(metricSum(metrics, 'canvass_records_accepted_total'), end.records, 'records accepted (metrics)');
      for (const kind of ['request', 'response', 'mid']) {
        assert.ok(proxy.stats[kind] > 0, `no connection was cut at "${kind}": ${JSON.stringify(proxy.stats)}`);
      }
      const stopped = await server.stop(); // closing checkpoints the WAL into canvass.db
      assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM: exit 0\n${server.stderr}`);
      const dbBytes = fs.statSync(path.join(server.dataDir, 'canvass.db')).size;
      diagnostics(t, {
        seed: SEED, duration_ms: ms, devices: `${DEVICES} wire.mjs + ${CLI_DEVICES} CLI`,
        records_pushed: end.records, batches: load.stats.batches, cli_pushes: load.stats.cliPushes,
        cuts: proxy.cuts, cut_kinds: { request: proxy.stats.request, response: proxy.stats.response, mid: proxy.stats.mid },
        connections: proxy.stats.connections, failed_calls: load.stats.failedCalls, answered_503_or_429: load.stats.busy,
        cli_retries: load.stats.cliRetries,
        resent_records_already_stored: metricSum(metrics, 'canvass_records_duplicate_total'),
        orphan_enrollments: end.orphans, records_lost: 0, records_twice: 0,
        db_bytes: dbBytes, db_bytes_per_record: Math.round(dbBytes / end.records),
      });
    } finally {
      await proxy.close();
      await server.stop();
    }
  });

test(`SIGKILL ${KILLS} times during the load: nothing a receipt covered is lost, every record exactly once`,
  { timeout: TEST_MS }, async (t) => {
    let server = await startServer({ publish: [RESTAURANT] });
    const { dataDir, port } = server;
    const proxy = await new ChaosProxy({ upstreamPort: port, seed: SEED + 10, cutRate: 0.15 }).start();
    const load = new Load({ server, proxy, seed: SEED + 11 });
    const random = prng(SEED + 12);
    const kills = [];
    try {
      await enrollAll(load);
      const total = DEVICES * RECORDS;
      const t0 = Date.now();
      const running = load.run();
      running.catch(() => {}); // awaited below; a failure meanwhile must not be unhandled
      let lastThreshold = 0;
      for (let k = 1; k <= KILLS; k++) {
        // A seeded moment: somewhere around k/(KILLS+1) of the load, later than the last one.
        const threshold = Math.max(lastThreshold + 1,
          Math.min(Math.floor(total * 0.95), Math.floor(total * (k - 0.5 + random()) / (KILLS + 1))));
        lastThreshold = threshold;
        const ended = async () => {
          await running; // a device's failure, if that is why
          assert.fail(`the load ended before kill ${k} (${load.stats.receipted} of ${total} records ` +
            'receipted): raise CANVASS_FAULT_RECORDS');
        };
        while (load.stats.receipted < threshold) {
          if (load.done) await ended();
          await sleep(2);
        }
        await sleep(Math.floor(random() * 20));
        if (load.done) await ended();
        const atKill = load.stats.receipted;
        const r = await server.kill();
        assert.equal(r.signal, 'SIGKILL', `kill ${k}: ${JSON.stringify(r)}`);
        const down = Date.now();
        server = await startServer({ dataDir, port });
        load.server = server;
        // Every receipt any device holds now, taken before the export starts, must be covered.
        const acked = load.acked();
        const records = await server.exportRecords();
        let lost = 0;
        let stored = 0;
        for (const d of load.devices()) {
          const n = storedPrefix(records, d.id, `after kill ${k}, ${d.name}:`);
          stored += n;
          lost += Math.max(0, acked.get(d.id) - n);
          assert.ok(n >= acked.get(d.id),
            `after kill ${k}: ${d.name} holds a receipt up to seq ${acked.get(d.id)} but only ${n} records survived`);
        }
        kills.push({ kill: k, receipted_at_kill: atKill, stored_after_restart: stored, restart_ms: Date.now() - down, lost });
      }
      await running;
      const ms = Date.now() - t0;
      const end = await assertExact(server, load, 'final:');
      diagnostics(t, {
        seed: SEED, duration_ms: ms, devices: `${DEVICES} wire.mjs + ${CLI_DEVICES} CLI`,
        records_pushed: end.records, batches: load.stats.batches, cli_pushes: load.stats.cliPushes,
        kills_survived: kills.length, kills: kills,
        cuts: proxy.cuts, cut_kinds: { request: proxy.stats.request, response: proxy.stats.response, mid: proxy.stats.mid },
        refused_while_down: proxy.stats.upstreamDown, failed_calls: load.stats.failedCalls,
        answered_503_or_429: load.stats.busy,
        cli_retries: load.stats.cliRetries, orphan_enrollments: end.orphans,
        records_lost: kills.reduce((s, k) => s + k.lost, 0), records_twice: 0,
      });
    } finally {
      load.aborted = true;
      await proxy.close();
      await server.stop();
    }
  });

// A record with a reason of 480 characters (about 1 KiB of UTF-8): too big to share a page, so
// that a full database cannot take a single one more.
const longAnswers = (seq, name) => ({ ...restaurantAnswers(seq, name), reason: `${name}-${seq}: ${'ж'.repeat(480)}` });

test('a full database (--max-db-mb 1): 503 with a message, nothing partial, devices keep their records, then each arrives once',
  { timeout: 180000 }, async (t) => {
    let server = await startServer({ publish: [RESTAURANT], extraArgs: ['--max-db-mb', '1'] });
    const { dataDir, port } = server;
    try {
      const load = new Load({ server, proxy: null, seed: SEED + 20 });
      const js = [];
      for (let i = 0; i < 3; i++) js.push(await load.enrollJs(`full${i}`, LOCATIONS[i], longAnswers));
      const cliDev = await load.enrollCli('fullcli', LOCATIONS[0], longAnswers);
      const cliRecord = async (n) => {
        for (let k = 0; k < n; k++) {
          await cliDev.mustRecord(cliDev.answers(cliDev.made + 1, cliDev.name));
          cliDev.made += 1;
        }
      };
      await cliRecord(3);
      await load.pushCli(cliDev);

      // Fill it: every device pushes batches of 10 until a whole round is refused.
      let refusal;
      let rounds = 0;
      for (let allRefused = false; !allRefused; rounds++) {
        assert.ok(rounds < 300, `no 503 after ${rounds} rounds: --max-db-mb 1 has no effect`);
        allRefused = true;
        for (const d of js) {
          if (d.log.length === 0) d.record(10);
          const { entries, body } = d.batch(d.log.length);
          const res = await call(server.url, '/v1/records', { body, headers: { 'Content-Type': 'application/octet-stream' } });
          if (res.status === 200) {
            d.acknowledge(res.buf, entries, load.orgKey);
            allRefused = false;
            continue;
          }
          assert.equal(res.status, 503, `${d.name}: a full database answers 503: ${describeResponse(res)}`);
          refusal = res;
        }
      }
      assert.equal(refusal.json?.error, 'unavailable', describeResponse(refusal));
      const message = refusal.json.message;
      assert.match(message, /database is full/, message);
      assert.match(message, /--max-db-mb/, `the message says what to do: ${message}`);
      assert.match(message, /free disk space/, message);
      assert.match(message, /nothing stored/, message);

      // The CLI device: its push is refused too (exit 3, records kept).
      await cliRecord(4);
      const refused = await cliDev.push();
      assert.equal(refused.code, 3, `push to a full database: exit 3\n${describeRun(refused)}`);
      assert.match(refused.stderr, /database is full/, describeRun(refused));
      const st = await cliDev.status();
      assert.deepEqual([st.head_seq, st.acked_seq, st.pending], [7, 3, 4], JSON.stringify(st));

      // Nothing partial: each device has exactly what its receipts cover, not one record of the
      // refused batches; reads go on.
      const atFull = await server.exportRecords();
      for (const d of js) assertExactlySeqs(atFull, d.id, d.acked, `full, ${d.name}:`);
      assertExactlySeqs(atFull, cliDev.id, 3, 'full, CLI device:');
      const storedAtFull = atFull.length;
      assert.equal(storedAtFull, js.reduce((s, d) => s + d.acked, 0) + 3);
      const pendingAtFull = js.reduce((s, d) => s + d.log.length, 0) + st.pending;
      assert.ok(js.every((d) => d.log.length > 0), 'every wire.mjs device holds refused records');
      assert.equal((await server.fetch('/healthz')).status, 200, 'a full database is still healthy to read');
      // The operator hears of it too: a line on stderr (once a minute at most) and the metrics.
      assert.match(server.stderr, /pushes refused, nothing stored: .*database is full/, `server stderr:\n${server.stderr}`);
      assert.equal(server.stderr.match(/pushes refused/g).length, 1, `one line a minute at most:\n${server.stderr}`);
      const counted = (await server.metrics()).match(/^canvass_records_refused_total\{reason="store"\} (\d+)$/m);
      const refusedByStore = Number(counted?.[1]);
      assert.ok(refusedByStore >= js.length + 1, `every refusal counted: ${counted?.[0]}`);

      const stopped = await server.stop();
      assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM with a full database: exit 0\n${server.stderr}`);
      const dbBytes = fs.statSync(path.join(dataDir, 'canvass.db')).size;
      assert.ok(dbBytes <= 1024 * 1024, `canvass.db is ${dbBytes} bytes, over --max-db-mb 1`);

      // Room again: a restart with a larger limit, and everything arrives, each record once.
      server = await startServer({ dataDir, port, extraArgs: ['--max-db-mb', '64'] });
      load.server = server;
      for (const d of js) {
        d.record(5);
        await load.pushJs(d, { maxBatch: 50 });
      }
      await cliRecord(2);
      await load.pushCli(cliDev);
      const end = await assertExact(server, load, 'after the restart:');
      diagnostics(t, {
        rounds_to_fill: rounds, records_stored_at_full: storedAtFull, records_kept_on_devices_at_full: pendingAtFull,
        db_bytes_at_full: dbBytes, bytes_per_record: Math.round(dbBytes / storedAtFull),
        refusal: `HTTP ${refusal.status} ${refusal.text}`, refusals_counted: refusedByStore, records_after_restart: end.records, records_lost: 0,
        records_twice: 0,
      });
    } finally {
      await server.stop();
    }
  });

test('canvass-server --max-db-mb: in --help; refused without a positive whole number or with PostgreSQL', async () => {
  const bin = binary('canvass-server');
  const help = await run(bin, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--max-db-mb N/);
  for (const bad of ['0', '-1', '1.5', 'lots', '']) {
    const r = await run(bin, ['--data', '/nonexistent/never-created', '--max-db-mb', bad]);
    assert.equal(r.code, 2, `--max-db-mb '${bad}': exit 2\n${describeRun(r)}`);
    assert.match(r.stderr, /--max-db-mb takes a whole number/, describeRun(r));
  }
  const pg = await run(bin, ['--data', '/nonexistent/never-created', '--db', 'postgresql://u@127.0.0.1:1/x', '--max-db-mb', '10']);
  assert.equal(pg.code, 2, describeRun(pg));
  assert.match(pg.stderr, /SQLite store only/, describeRun(pg));
});
