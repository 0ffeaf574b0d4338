// Slow, idle and hostile clients (native/server/http_server.cpp): a thousand connections opened
// and left idle, a request arriving a byte a second, headers without end, a line without end, a
// body over the limit — all at once, while an honest device enrolls and pushes. The honest
// records must all be stored exactly once, every hostile connection gets its refusal (or is
// closed), and the server's memory stays bounded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {
  startServer, cleanup, enrolledDevice, assertExactlySeqs, RESTAURANT, sleep,
} from './harness.mjs';

const IDLE = Number(process.env.CANVASS_HOSTILE_IDLE || 1000);
const HONEST_RECORDS = 30;
const REQUEST_TIMEOUT_S = 4;

after(cleanup);

function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

function threads(pid) {
  return Number(/Threads:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

// A raw connection: what the server sent back, and when it closed.
function rawConnection(port) {
  const c = { received: '', closed: false, error: null };
  c.socket = net.connect(port, '127.0.0.1');
  c.connected = new Promise((resolve, reject) => {
    c.socket.once('connect', resolve);
    c.socket.once('error', reject);
  });
  c.socket.on('data', (b) => { c.received += b.toString('latin1'); });
  c.socket.on('error', (e) => { c.error = e; });
  c.done = new Promise((resolve) => c.socket.once('close', () => { c.closed = true; resolve(); }));
  return c;
}

// Writes `chunk` repeatedly (waiting for drain) until the server closes or `limit` bytes are out.
async function flood(c, first, chunk, limit) {
  let sent = 0;
  const write = (b) => new Promise((resolve) => {
    if (c.closed || c.socket.destroyed) return resolve(false);
    const ok = c.socket.write(b, () => resolve(true));
    if (!ok) c.socket.once('drain', () => resolve(true));
  });
  await write(first);
  while (!c.closed && !c.socket.destroyed && sent < limit) {
    if (!(await write(chunk))) break;
    sent += chunk.length;
  }
  return sent;
}

function status(c) {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(c.received);
  return m ? Number(m[1]) : null;
}

test(`${IDLE} idle connections, a byte-a-second request, endless headers and an oversized body at once: honest pushes are all stored, memory stays bounded`, { timeout: 180000 }, async (t) => {
  const server = await startServer({
    publish: [RESTAURANT], extraArgs: ['--request-timeout', String(REQUEST_TIMEOUT_S)],
  });
  const pid = server.child.pid;
  const device = await enrolledDevice(server);
  await device.recordMany(HONEST_RECORDS, { tag: 'honest' });
  const rssBefore = rssMiB(pid);
  let rssPeak = rssBefore;
  let threadsPeak = threads(pid);
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, rssMiB(pid));
      threadsPeak = Math.max(threadsPeak, threads(pid));
    } catch { /* the process is gone: the assertions below say so */ }
  }, 50);
  try {
    const idle = [];
    for (let i = 0; i < IDLE; i++) idle.push(rawConnection(server.port));
    await Promise.all(idle.map((c) => c.connected));
    const idleOpenedAt = Date.now();

    // A byte a second: cut with 408 once the request timeout has passed since its first byte.
    const slow = rawConnection(server.port);
    await slow.connected;
    const slowText = Buffer.from('POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n');
    const slowStart = Date.now();
    const slowWriter = (async () => {
      for (let i = 0; i < slowText.length && !slow.closed; i++) {
        slow.socket.write(slowText.subarray(i, i + 1));
        await sleep(1000);
      }
    })();
    // Headers without end (each line short) and a request line without end, sent as fast as the
    // server reads: it stops reading at the limit and closes (a reset may overtake its 431).
    const headers = rawConnection(server.port);
    const line = rawConnection(server.port);
    // The same, from clients that stop after 1 MiB and listen: they read the 431.
    const politeHeaders = rawConnection(server.port);
    const politeLine = rawConnection(server.port);
    await Promise.all([headers, line, politeHeaders, politeLine].map((c) => c.connected));
    const headerStart = Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const headerLine = Buffer.from(`X-Padding: ${'a'.repeat(1000)}\r\n`);
    const headerFlood = flood(headers, headerStart, headerLine, 64 << 20);
    const lineFlood = flood(line, Buffer.from('GET /'), Buffer.alloc(64 * 1024, 'a'), 64 << 20);
    const politeFloods = [flood(politeHeaders, headerStart, headerLine, 1 << 20),
      flood(politeLine, Buffer.from('GET /'), Buffer.alloc(64 * 1024, 'a'), 1 << 20)];
    // A body over the 8 MiB limit, announced: 413 before it is read.
    const big = rawConnection(server.port);
    await big.connected;
    big.socket.write('POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n' +
      `Content-Length: ${100 << 20}\r\n\r\n`);
    const bigFlood = flood(big, Buffer.alloc(0), Buffer.alloc(64 * 1024, 1), 1 << 20);

    // The honest device, meanwhile.
    const pushStart = Date.now();
    await device.mustPush();
    const pushMs = Date.now() - pushStart;
    const health = await server.fetch('/healthz');
    assert.equal(health.status, 200, '/healthz answers while the hostile clients hold their connections');

    const [headerBytes, lineBytes] = await Promise.all([headerFlood, lineFlood]);
    await Promise.all([headers.done, line.done, ...politeFloods, politeHeaders.done, politeLine.done]);
    assert.ok(headers.closed && line.closed && headerBytes < 16 << 20 && lineBytes < 16 << 20,
      `the server stops reading soon after the limit and closes (sent ${headerBytes} and ${lineBytes} bytes before the close)`);
    assert.ok([431, null].includes(status(headers)) && [431, null].includes(status(line)),
      `floods: 431 or a reset, nothing else (${JSON.stringify(headers.received.slice(0, 100))}, ${JSON.stringify(line.received.slice(0, 100))})`);
    assert.equal(status(politeHeaders), 431, `endless headers: 431 (got ${JSON.stringify(politeHeaders.received.slice(0, 200))})`);
    assert.match(politeHeaders.received, /exceed 64 KiB/, 'the 431 says what the limit is');
    assert.equal(status(politeLine), 431, `endless request line: 431 (got ${JSON.stringify(politeLine.received.slice(0, 200))})`);
    await bigFlood;
    await big.done;
    assert.equal(status(big), 413, `an oversized body: 413 (got ${JSON.stringify(big.received.slice(0, 200))})`);
    await slow.done;
    const slowMs = Date.now() - slowStart;
    await slowWriter;
    assert.equal(status(slow), 408, `a byte a second: 408 (got ${JSON.stringify(slow.received.slice(0, 200))})`);
    assert.ok(slowMs >= REQUEST_TIMEOUT_S * 1000 - 200 && slowMs < REQUEST_TIMEOUT_S * 1000 + 5000,
      `the slow request is cut at the request timeout (${REQUEST_TIMEOUT_S} s), not before nor much later: ${slowMs} ms`);

    // The idle connections are closed by the server (5 s without a request).
    await Promise.race([
      Promise.all(idle.map((c) => c.done)),
      sleep(20000).then(() => assert.fail(`${idle.filter((c) => !c.closed).length} idle connections still open 20 s later`)),
    ]);
    const idleClosedMs = Date.now() - idleOpenedAt;
    assert.ok(idle.every((c) => c.received === ''), 'an idle connection is closed without an answer');

    const records = await server.exportRecords();
    assertExactlySeqs(records, device.id, HONEST_RECORDS, 'honest device next to hostile clients:');
    assert.equal(records.length, HONEST_RECORDS, 'nothing else was stored');
    const rssAfterIdle = rssMiB(pid);
    t.diagnostic(`honest push of ${HONEST_RECORDS} records: ${pushMs} ms; ${IDLE} idle connections closed after ${idleClosedMs} ms; ` +
      `slow request cut after ${slowMs} ms; header flood stopped after ${headerBytes} bytes, line flood after ${lineBytes}`);
    t.diagnostic(`server RSS ${rssBefore.toFixed(1)} MiB before, peak ${rssPeak.toFixed(1)} MiB, ${rssAfterIdle.toFixed(1)} MiB after; peak threads ${threadsPeak}`);
    assert.ok(rssPeak < rssBefore + 200, `memory stays bounded: RSS ${rssBefore.toFixed(1)} → peak ${rssPeak.toFixed(1)} MiB`);
  } finally {
    clearInterval(sampler);
  }
  const stopped = await server.stop();
  assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM after the attack: exit 0\n${server.stderr}`);
});

test('pipelined requests on one connection are each answered, in order', { timeout: 30000 }, async () => {
  const server = await startServer({});
  const c = rawConnection(server.port);
  await c.connected;
  c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await c.done;
  const statuses = [...c.received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 404, 200], c.received.slice(0, 500));
});

test('SIGTERM with idle connections open: a clean exit within a second or two', { timeout: 60000 }, async () => {
  const server = await startServer({});
  const idle = [];
  for (let i = 0; i < 50; i++) idle.push(rawConnection(server.port));
  await Promise.all(idle.map((c) => c.connected));
  await sleep(200);
  const start = Date.now();
  const stopped = await server.stop();
  const ms = Date.now() - start;
  assert.deepEqual(stopped, { code: 0, signal: null }, server.stderr);
  assert.ok(ms < 3000, `idle keep-alive waits do not hold the stop: ${ms} ms`);
});
