// Helpers for the server integration tests: real `canvass-server` processes on 127.0.0.1, the real
// `canvass` CLI as admin and device, raw HTTP, and a throwaway PostgreSQL 15. Nothing is mocked.
//
//   CANVASS_BIN_DIR   where canvass-server and canvass live (default build/native/native,
//                     relative to the repository root)
//   CANVASS_KEEP_TMP  set to 1 to keep the temporary directories (data dirs, device states, logs)
//   CANVASS_PG_BIN    PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';

export { sleep };

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binDir = path.resolve(repoRoot, process.env.CANVASS_BIN_DIR || 'build/native/native');
export const examples = path.join(repoRoot, 'examples');
export const RESTAURANT = path.join(examples, 'restaurant.json');
export const SHOP = path.join(examples, 'shop-checkout.json');
export const WEBSITE = path.join(examples, 'website-nps.json');

export function binary(name) {
  const p = path.join(binDir, name);
  if (!fs.existsSync(p)) {
    throw new Error(`${p} does not exist: build the native target first ` +
      '(cmake --preset native && cmake --build --preset native) or set CANVASS_BIN_DIR');
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every temp dir, process and PostgreSQL cluster started here is registered, and undone
// by cleanup() (call it from after()) or, as a last resort, when the test process exits.

const tempDirs = new Set();
const liveProcs = new Set();
const pgClusters = new Set();

export function tempDir(prefix = 'canvass-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export async function cleanup() {
  for (const p of [...liveProcs]) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const pg of [...pgClusters]) await pg.stop().catch(() => {});
  if (process.env.CANVASS_KEEP_TMP !== '1') {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
    tempDirs.clear();
  }
}

process.on('exit', () => {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const pg of pgClusters) pg.stopSync();
  if (process.env.CANVASS_KEEP_TMP !== '1') {
    for (const d of tempDirs) {
      try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Ports and processes.

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function track(child) {
  liveProcs.add(child);
  const exited = new Promise((resolve) => {
    // 'close', not 'exit': 'exit' can come before the last of stdout has been read, and a
    // result with the output cut off (seen under load) would fail a test for nothing.
    child.on('close', (code, signal) => {
      liveProcs.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      liveProcs.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
  });
  return exited;
}

// A binary being relinked (a build running beside the tests) cannot be executed for a moment:
// retry for a few seconds instead of failing a test over it.
const TRANSIENT_SPAWN = new Set(['EACCES', 'ETXTBSY']);

// Runs a program to completion. Never rejects on a non-zero exit: returns {code, stdout, stderr}.
export async function run(file, args, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(file, args, opts);
    } catch (e) {
      if (!TRANSIENT_SPAWN.has(e.cause?.code) || attempt >= 20) throw e;
      await sleep(250);
    }
  }
}

async function runOnce(file, args, { timeout = 60000, cwd = repoRoot, env, input } = {}) {
  const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = track(child);
  const out = [];
  const err = [];
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  child.stdin.on('error', () => {});
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeout);
  const { code, signal, error } = await exited;
  clearTimeout(timer);
  const stdoutBuf = Buffer.concat(out);
  const res = {
    code, signal, stdoutBuf, stdout: stdoutBuf.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
    timedOut, command: [file, ...args].join(' '),
  };
  if (error) throw new Error(`cannot run ${res.command}: ${error.message}`, { cause: error });
  if (timedOut) res.stderr += `\n[harness] killed after ${timeout} ms`;
  return res;
}

export function describeRun(r) {
  return `$ ${r.command}\nexit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}\n` +
    `--- stdout\n${r.stdout.slice(0, 4000)}\n--- stderr\n${r.stderr.slice(0, 4000)}`;
}

// The CLI. cli(...) returns the result; mustCli(...) asserts exit 0 and returns it.
export function cli(args, opts) {
  return run(binary('canvass'), args, opts);
}

export async function mustCli(args, opts) {
  const r = await cli(args, opts);
  assert.equal(r.code, 0, `expected exit 0\n${describeRun(r)}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// HTTP.

// A request that resolves with whatever the server answered, even if it answered before reading
// the whole body and closed the connection (which fetch reports as an error).
// With `chunked: true` the body is sent with Transfer-Encoding: chunked (no Content-Length).
// `from`: the local address to send from (another loopback address, e.g. 127.0.0.2, stands for
// another client). `rawPath`: sent as it is, not normalised by URL parsing.
export function request(url, { method = 'GET', headers = {}, body, chunked = false, from, rawPath } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({
      host: u.hostname, port: u.port, path: rawPath ?? u.pathname + u.search, method, agent: false,
      ...(from ? { localAddress: from } : {}),
      headers: { ...(body !== undefined && !chunked ? { 'Content-Length': Buffer.byteLength(body) } : {}), ...headers },
    });
    let answered = false;
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${method} ${url} in 30 s`)), 30000);
    req.on('response', (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve(makeResponse(res.statusCode, res.headers, Buffer.concat(chunks)));
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.on('error', (e) => {
      if (answered) return;
      // EPIPE / ECONNRESET while still writing: the answer may still arrive; wait a little.
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') {
        setTimeout(() => {
          if (!answered) { clearTimeout(timer); reject(new Error(`${method} ${url}: connection ${e.code} without an answer`)); }
        }, 2000);
        return;
      }
      clearTimeout(timer);
      reject(e);
    });
    if (body !== undefined && chunked) {
      // Several chunks, so that the server cannot know the size before reading.
      const b = Buffer.from(body);
      for (let off = 0; off < b.length; off += 256 * 1024) req.write(b.subarray(off, off + 256 * 1024));
      req.end();
    } else if (body !== undefined) req.end(body);
    else req.end();
  });
}

function makeResponse(status, headers, buf) {
  const text = buf.toString('utf8');
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status, headers, buf, text, json };
}

export function describeResponse(r) {
  return `HTTP ${r.status} ${r.text.slice(0, 2000)}`;
}

// Asserts an error answer: the status, the JSON shape {error, message} and, if given, a pattern
// the message must match (so that "refused" always comes with a reason a person can act on).
export function assertRefused(res, status, pattern, what = '') {
  assert.equal(res.status, status, `${what} expected HTTP ${status}, got ${describeResponse(res)}`);
  assert.ok(res.json && typeof res.json === 'object', `${what} the answer is not JSON: ${describeResponse(res)}`);
  assert.equal(typeof res.json.error, 'string', `${what} no "error" code: ${res.text}`);
  assert.ok(res.json.error.length > 0, `${what} empty "error" code: ${res.text}`);
  assert.equal(typeof res.json.message, 'string', `${what} no "message": ${res.text}`);
  assert.ok(res.json.message.trim().length > 0, `${what} empty "message": ${res.text}`);
  if (pattern) assert.match(res.json.message, pattern, `${what} message is not specific: ${res.text}`);
}

// ---------------------------------------------------------------------------------------------
// The server.

export class Server {
  constructor({ dataDir, port, args, child, exited, stdout, stderr }) {
    Object.assign(this, { dataDir, port, args, child, exited, _stdout: stdout, _stderr: stderr });
    this.url = `http://127.0.0.1:${port}`;
  }
  get stdout() { return Buffer.concat(this._stdout).toString('utf8'); }
  get stderr() { return Buffer.concat(this._stderr).toString('utf8'); }
  get running() { return this.child.exitCode === null && this.child.signalCode === null; }
  get token() {
    return fs.readFileSync(path.join(this.dataDir, 'initial-admin-token'), 'utf8').trim();
  }

  // SIGTERM; resolves with {code, signal} once the process is gone (SIGKILL after `timeout`).
  async stop(timeout = 15000) {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeout);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  // kill -9: no chance to clean up.
  async kill() {
    if (!this.running) return this.exited;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  fetch(p, opts) { return request(this.url + p, opts); }

  admin(method, p, body, { token = this.token, headers = {} } = {}) {
    const h = { ...headers };
    if (token !== null) h.Authorization = `Bearer ${token}`;
    let b;
    if (body !== undefined) {
      b = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      h['Content-Type'] = 'application/json';
    }
    return request(this.url + p, { method, headers: h, body: b });
  }

  async mustAdmin(method, p, body, expect = 200) {
    const r = await this.admin(method, p, body);
    assert.equal(r.status, expect, `${method} ${p}: ${describeResponse(r)}`);
    return r;
  }

  // Moves the server's time `ms` forward (a server started with extraArgs ['--test-clock']):
  // what a test would otherwise sleep for. Returns the server's new time in ms.
  async advanceClock(ms) {
    const r = await this.mustAdmin('POST', '/v1/test/clock', { advance_ms: ms });
    return r.json.now_ms;
  }

  postRecords(body, { chunked = false, from } = {}) {
    return request(`${this.url}/v1/records`, {
      method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body, chunked, from,
    });
  }

  adminCli(args, opts) {
    return cli(['admin', '--server', this.url, '--token', this.token, ...args], opts);
  }

  mustAdminCli(args, opts) {
    return mustCli(['admin', '--server', this.url, '--token', this.token, ...args], opts);
  }

  async enrollCode(location = 'Kyiv-Podil', { channel, ttlHours } = {}) {
    const args = ['enroll-code', '--location', location];
    if (channel) args.push('--channel', channel);
    if (ttlHours !== undefined) args.push('--ttl-hours', String(ttlHours));
    const r = await this.mustAdminCli(args);
    const code = r.stdout.trim();
    assert.ok(code.length > 0 && !/\s/.test(code), `enroll-code must print the code alone: ${JSON.stringify(r.stdout)}`);
    return code;
  }

  // Every record of the export, parsed (JSON Lines).
  async exportRecords() {
    const r = await this.mustAdmin('GET', '/v1/admin/export?format=jsonl');
    return parseJsonl(r.text);
  }

  async devices() {
    return (await this.mustAdmin('GET', '/v1/admin/devices')).json.devices;
  }

  async quarantine() {
    return (await this.mustAdmin('GET', '/v1/admin/quarantine')).json.quarantine;
  }

  async metrics() {
    const r = await this.fetch('/metrics');
    assert.equal(r.status, 200, `/metrics: ${describeResponse(r)}`);
    return r.text;
  }
}

export function parseJsonl(text) {
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try { return JSON.parse(l); } catch (e) { throw new Error(`export line ${i + 1} is not JSON: ${l}`); }
  });
}

// Starts canvass-server and waits until GET /healthz answers 200 (20 s), failing with the
// server's output if it exits first. Options: dataDir (default: a new temp dir; the server
// creates it), port (default: a free one), db, webOrigins, publish (survey files), extraArgs.
// `bin`: another canvass-server binary (e.g. one from the Debian package).
export async function startServer({ dataDir, port, db, webOrigins = [], publish = [], extraArgs = [], timeout = 20000, bin } = {}) {
  bin ??= binary('canvass-server');
  if (!dataDir) dataDir = path.join(tempDir('canvass-server-'), 'data');
  const fixedPort = port !== undefined;
  for (let attempt = 0; ; attempt++) {
    const p = fixedPort ? port : await freePort();
    const args = ['--data', dataDir, '--listen', `127.0.0.1:${p}`];
    if (db) args.push('--db', db);
    for (const o of webOrigins) args.push('--web-origin', o);
    for (const s of publish) args.push('--publish', s);
    args.push(...extraArgs);
    const child = spawn(bin, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = track(child);
    const spawnError = await Promise.race([
      new Promise((resolve) => child.once('error', resolve)),
      new Promise((resolve) => child.once('spawn', () => resolve(null))),
    ]);
    if (spawnError) {
      if (TRANSIENT_SPAWN.has(spawnError.code) && attempt < 20) {
        await sleep(250);
        continue;
      }
      throw new Error(`cannot run ${bin}: ${spawnError.message}`);
    }
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (b) => stdout.push(b));
    child.stderr.on('data', (b) => stderr.push(b));
    const server = new Server({ dataDir, port: p, args, child, exited, stdout, stderr });
    const deadline = Date.now() + timeout;
    let last = 'no answer yet';
    while (true) {
      if (!server.running) {
        const { code, signal } = await exited;
        const msg = `canvass-server ${args.join(' ')} exited (code ${code}, signal ${signal}) before /healthz answered\n` +
          `--- stdout\n${server.stdout}\n--- stderr\n${server.stderr}`;
        // Another process may have taken the free port between the probe and the bind.
        if (!fixedPort && attempt < 2 && /in use|EADDRINUSE|bind/i.test(server.stderr)) break;
        throw new Error(msg);
      }
      if (Date.now() > deadline) {
        await server.kill();
        throw new Error(`canvass-server ${args.join(' ')} did not answer /healthz 200 within ${timeout} ms ` +
          `(last: ${last})\n--- stdout\n${server.stdout}\n--- stderr\n${server.stderr}`);
      }
      try {
        const r = await request(`${server.url}/healthz`);
        if (r.status === 200) return server;
        last = describeResponse(r);
      } catch (e) {
        last = e.message;
      }
      await sleep(50);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A device driven through `canvass device --state DIR ...`.

export class Device {
  constructor(stateDir) {
    this.stateDir = stateDir ?? path.join(tempDir('canvass-device-'), 'state');
  }
  cli(args, opts) { return cli(['device', '--state', this.stateDir, ...args], opts); }
  mustCli(args, opts) { return mustCli(['device', '--state', this.stateDir, ...args], opts); }

  async enroll(server, code) {
    const url = typeof server === 'string' ? server : server.url;
    await this.mustCli(['enroll', '--server', url, '--code', code]);
    this.id = (await this.status()).device_id;
    assert.ok(this.id, 'status after enroll has no device_id');
    return this;
  }

  recordArgs(answers, { survey = 'restaurant', outcome, time, tags = {} } = {}) {
    const args = ['record', '--survey', survey, '--answers', JSON.stringify(answers)];
    if (outcome) args.push('--outcome', outcome);
    if (time) args.push('--time', time);
    for (const [k, v] of Object.entries(tags)) args.push('--tag', `${k}=${v}`);
    return args;
  }

  record(answers, opts) { return this.cli(this.recordArgs(answers, opts)); }
  mustRecord(answers, opts) { return this.mustCli(this.recordArgs(answers, opts)); }

  // Records n complete restaurant responses, answers from restaurantAnswers(start + i).
  async recordMany(n, { start = 0, tag = 'r' } = {}) {
    for (let i = 0; i < n; i++) await this.mustRecord(restaurantAnswers(start + i, tag));
  }

  push({ maxBatch, timeout } = {}) {
    const args = ['push'];
    if (maxBatch) args.push('--max-batch', String(maxBatch));
    return this.cli(args, { timeout });
  }

  async mustPush(opts) {
    const r = await this.push(opts);
    assert.equal(r.code, 0, `push failed\n${describeRun(r)}`);
    return r;
  }

  async status() {
    const r = await this.mustCli(['status']);
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new Error(`device status is not JSON: ${r.stdout}`);
    }
  }

  // The next push body (binary batch), as the device would send it.
  async batch({ max } = {}) {
    const file = path.join(tempDir('canvass-batch-'), 'batch.bin');
    const args = ['batch', '--out', file];
    if (max) args.push('--max', String(max));
    await this.mustCli(args);
    return fs.readFileSync(file);
  }

  // A copy of the state directory (the device must not be running a command).
  clone() {
    const dir = path.join(tempDir('canvass-device-'), 'state');
    fs.cpSync(this.stateDir, dir, { recursive: true });
    const d = new Device(dir);
    d.id = this.id;
    return d;
  }
}

// A full, valid answer set for examples/restaurant.json, different for every i.
export function restaurantAnswers(i, tag = 'r') {
  const csi = (k) => ({ importance: (i + k) % 2, satisfaction: 1 + ((i + k) % 5) });
  return {
    recommend: (i * 7) % 11,
    reason: `${tag}-${i}: обслуживание — ok`,
    price: csi(0), staff: csi(1), place: csi(2), product: csi(3), promotion: csi(4),
  };
}

export async function enrolledDevice(server, location = 'Kyiv-Podil') {
  const code = await server.enrollCode(location);
  return new Device().enroll(server, code);
}

// Records of one device in an export, checked to be exactly seqs 1..n, each once.
export function assertExactlySeqs(records, deviceId, n, what = '') {
  const seqs = records.filter((r) => r.device === deviceId).map((r) => r.seq).sort((a, b) => a - b);
  const expected = Array.from({ length: n }, (_, i) => i + 1);
  if (seqs.length !== n || seqs.some((s, i) => s !== expected[i])) {
    const counts = new Map();
    for (const s of seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
    const dup = [...counts].filter(([, c]) => c > 1).map(([s]) => s);
    const missing = expected.filter((s) => !counts.has(s));
    const extra = [...counts.keys()].filter((s) => s < 1 || s > n);
    assert.fail(`${what} device ${deviceId}: expected seqs 1..${n} once each, got ${seqs.length} records; ` +
      `duplicated ${JSON.stringify(dup.slice(0, 20))}, missing ${JSON.stringify(missing.slice(0, 20))}, ` +
      `beyond ${JSON.stringify(extra.slice(0, 20))}`);
  }
}

// Records of one device in an export, checked to be exactly seqs 1..k for some k (a crash, a cut
// or a backup may stop between batches, never inside one or at a hole); returns k.
export function storedPrefix(records, deviceId, what = '') {
  const k = countFor(records, deviceId);
  assertExactlySeqs(records, deviceId, k, what);
  return k;
}

export function countFor(records, deviceId) {
  return records.filter((r) => r.device === deviceId).length;
}

// Runs async jobs with at most `limit` at a time.
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

// Polls `fn` (may be async) every 100 ms until it returns something truthy, and returns that;
// fails with `what` after `timeout` ms. For state that the server reaches on its own (a
// projection, a background sender).
export async function until(fn, what, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeout} ms`);
    await sleep(100);
  }
}

// Sum of a Prometheus counter over all label sets (0 when absent).
export function metricSum(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+|NaN|\+Inf)/);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// A throwaway PostgreSQL 15 (Debian's packages). As root it runs as user `postgres`.

export const pgBin = process.env.CANVASS_PG_BIN || '/usr/lib/postgresql/15/bin';

export function pgAvailable() {
  return fs.existsSync(path.join(pgBin, 'initdb')) && fs.existsSync(path.join(pgBin, 'pg_ctl'));
}

export async function startPostgres() {
  if (!pgAvailable()) {
    throw new Error(`PostgreSQL 15 is not installed: ${pgBin}/initdb and pg_ctl are missing. ` +
      'Run ./toolchains/setup.sh (it installs the Debian package `postgresql`), or set CANVASS_PG_BIN.');
  }
  const asRoot = process.getuid && process.getuid() === 0;
  const dir = tempDir('canvass-pg-');
  const dataDir = path.join(dir, 'data');
  if (asRoot) {
    const r = spawnSync('chown', ['postgres:', dir]);
    if (r.status !== 0) throw new Error(`chown postgres ${dir}: ${r.stderr}`);
    fs.chmodSync(dir, 0o755);
  }
  const pgRun = (tool, args, opts) => (asRoot
    ? run('runuser', ['-u', 'postgres', '--', path.join(pgBin, tool), ...args], { cwd: dir, ...opts })
    : run(path.join(pgBin, tool), args, { cwd: dir, ...opts }));
  const must = async (tool, args, opts) => {
    const r = await pgRun(tool, args, opts);
    if (r.code !== 0) throw new Error(`PostgreSQL ${tool} failed\n${describeRun(r)}`);
    return r;
  };
  await must('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const logFile = path.join(dir, 'postgres.log');
  const opts = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`;
  const pg = {
    dir, dataDir, port, logFile,
    url: `postgresql://postgres@127.0.0.1:${port}/canvass`,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    async start() {
      await must('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', opts, '-w', '-t', '30', 'start'], { timeout: 40000 });
      pg.running = true;
    },
    async stop() {
      if (!pg.running) return;
      pg.running = false;
      pgClusters.delete(pg);
      await pgRun('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { timeout: 30000 });
    },
    // Stop without removing from the registry (a test that restarts it).
    async pause() {
      await must('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { timeout: 30000 });
      pg.running = false;
    },
    stopSync() {
      if (!pg.running) return;
      const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
      if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', path.join(pgBin, 'pg_ctl'), ...args]);
      else spawnSync(path.join(pgBin, 'pg_ctl'), args);
      pg.running = false;
    },
    psql(sql) {
      return must('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'canvass',
        '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql]);
    },
  };
  pgClusters.add(pg);
  await pg.start();
  await must('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'canvass']);
  return pg;
}
