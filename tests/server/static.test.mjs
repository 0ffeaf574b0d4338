// Static files (--static DIR, native/server/static_files.cpp): gzipped once and sent as they are
// (never compressed twice, whatever the client accepts), Brotli for a client that accepts it once
// it is built, ETag and 304, a year's `immutable` caching for the content-hashed widget folder and
// minutes for the loader, the Content-Security-Policy of our own pages, and nothing outside DIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, cleanup, tempDir } from './harness.mjs';

let server;
let dir;
const script = `// a module\n${'export const answer = 42; // padding to make it worth gzipping\n'.repeat(200)}`;
const wasm = Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.alloc(20000, 7)]);
const HASHED = '/canvass/v-0123456789abcdef';
const loader = `// the loader\n${"var dir = 'canvass/v-0123456789abcdef/';\n".repeat(40)}`;

before(async () => {
  dir = tempDir('canvass-static-');
  fs.mkdirSync(path.join(dir, 'canvass'));
  fs.mkdirSync(path.join(dir, 'kiosk'));
  fs.writeFileSync(path.join(dir, 'canvass', 'widget.js'), script);
  fs.writeFileSync(path.join(dir, 'canvass', 'widget.wasm'), wasm);
  fs.writeFileSync(path.join(dir, 'kiosk', 'index.html'), `<!doctype html><title>kiosk</title>${'<p>x</p>'.repeat(100)}`);
  fs.writeFileSync(path.join(dir, 'embed-demo.html'), '<!doctype html><title>a customer site</title>');
  fs.mkdirSync(path.join(dir, HASHED));
  fs.writeFileSync(path.join(dir, HASHED, 'widget.js'), script);
  fs.writeFileSync(path.join(dir, HASHED, 'canvass-widget.wasm'), wasm);
  fs.mkdirSync(path.join(dir, 'canvass', 'v-nothex-0123456789'));
  fs.writeFileSync(path.join(dir, 'canvass', 'v-nothex-0123456789', 'widget.js'), script);
  fs.writeFileSync(path.join(dir, 'canvass.js'), loader);
  server = await startServer({ extraArgs: ['--static', dir] });
});
after(cleanup);

// A raw GET (node's http does not decompress), with the answer's bytes as sent.
function get(p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: server.port, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

test('scripts and wasm are gzipped once, sent as they are, and decompress to the file', async () => {
  for (const [p, content, type] of [['/canvass/widget.js', Buffer.from(script), /^text\/javascript/],
    ['/canvass/widget.wasm', wasm, /^application\/wasm/]]) {
    // The answer is our gzip, not compressed again by the transport.
    const r = await get(p, { 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(r.status, 200, p);
    assert.match(r.headers['content-type'], type);
    assert.equal(r.headers['content-encoding'], 'gzip', `${p}: gzip`);
    assert.equal(Number(r.headers['content-length']), r.body.length, `${p}: a sized answer`);
    assert.ok(r.body.length < content.length / 2, `${p}: ${r.body.length} bytes for ${content.length}`);
    assert.deepEqual(zlib.gunzipSync(r.body), content, `${p}: one gunzip gives the file back`);
    // The same bytes each time (kept, not recompressed), and 304 for the ETag.
    const again = await get(p, { 'Accept-Encoding': 'gzip' });
    assert.deepEqual(again.body, r.body);
    assert.equal(again.headers.etag, r.headers.etag);
    const cached = await get(p, { 'Accept-Encoding': 'gzip', 'If-None-Match': r.headers.etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    // Without Accept-Encoding: the file itself.
    const plain = await get(p);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(plain.body, content);
  }
});

// Brotli is built on a thread of its own (seconds for a real wasm): until then the gzip goes out.
async function getBrotli(p, accept = 'gzip, deflate, br') {
  const deadline = Date.now() + 60000;
  for (;;) {
    const r = await get(p, { 'Accept-Encoding': accept });
    assert.equal(r.status, 200, p);
    if (r.headers['content-encoding'] === 'br') return r;
    assert.ok(['gzip', undefined].includes(r.headers['content-encoding']), `${p}: ${r.headers['content-encoding']}`);
    assert.ok(Date.now() < deadline, `${p}: no Brotli 60 s after the first request that accepts it`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a client that accepts br gets Brotli, built once, smaller than the gzip; q=0 refuses it', async () => {
  for (const [p, content] of [['/canvass/widget.js', Buffer.from(script)], [`${HASHED}/canvass-widget.wasm`, wasm]]) {
    const gz = await get(p, { 'Accept-Encoding': 'gzip' });
    const r = await getBrotli(p);
    assert.equal(r.headers.vary, 'Accept-Encoding');
    assert.equal(Number(r.headers['content-length']), r.body.length, `${p}: a sized answer`);
    assert.deepEqual(zlib.brotliDecompressSync(r.body), content, `${p}: Brotli decompresses to the file`);
    assert.ok(r.body.length <= gz.body.length, `${p}: Brotli ${r.body.length} bytes, gzip ${gz.body.length}`);
    // Kept: the same bytes again, the same ETag, and 304 when the browser has them.
    const again = await get(p, { 'Accept-Encoding': 'br' });
    assert.equal(again.headers['content-encoding'], 'br');
    assert.deepEqual(again.body, r.body);
    assert.equal(again.headers.etag, r.headers.etag);
    const cached = await get(p, { 'Accept-Encoding': 'br', 'If-None-Match': r.headers.etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    // br;q=0 is a refusal, and gzip alone still gets gzip.
    const refused = await get(p, { 'Accept-Encoding': 'br;q=0, gzip' });
    assert.equal(refused.headers['content-encoding'], 'gzip');
    assert.deepEqual(zlib.gunzipSync(refused.body), content);
    assert.equal((await get(p, { 'Accept-Encoding': 'gzip' })).headers['content-encoding'], 'gzip');
  }
});

test('a changed file gets a new Brotli, not the old one', async () => {
  const p = path.join(dir, 'canvass', 'changing.js');
  fs.writeFileSync(p, script);
  assert.deepEqual(zlib.brotliDecompressSync((await getBrotli('/canvass/changing.js')).body), Buffer.from(script));
  const changed = script.replace(/42/g, '43');
  fs.writeFileSync(p, changed);
  fs.utimesSync(p, new Date(), new Date(Date.now() + 5000));  // a new mtime, whatever the clock's grain
  const r = await getBrotli('/canvass/changing.js');
  assert.deepEqual(zlib.brotliDecompressSync(r.body), Buffer.from(changed));
});

test('the content-hashed widget folder is immutable for a year, the loader cached for minutes', async () => {
  for (const p of [`${HASHED}/widget.js`, `${HASHED}/canvass-widget.wasm`]) {
    const r = await get(p, { 'Accept-Encoding': 'gzip' });
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', p);
    const cached = await get(p, { 'If-None-Match': r.headers.etag });
    assert.equal(cached.status, 304, p);
    assert.equal(cached.headers['cache-control'], 'public, max-age=31536000, immutable', `${p}: 304`);
  }
  const l = await get('/canvass.js', { 'Accept-Encoding': 'gzip' });
  assert.equal(l.status, 200);
  assert.equal(l.headers['cache-control'], 'public, max-age=300');
  assert.equal(zlib.gunzipSync(l.body).toString(), loader);
  assert.equal((await get('/embed-demo.html')).headers['cache-control'], 'public, max-age=300', 'a customer page');
  // Names that only look hashed, the unhashed files and pages: revalidated every time.
  for (const p of ['/canvass/v-nothex-0123456789/widget.js', '/canvass/widget.js', '/kiosk/']) {
    const r = await get(p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['cache-control'], 'no-cache', p);
  }
  // Still one spelling per file inside the hashed folder.
  for (const p of [`${HASHED}/../widget.js`, `${HASHED}//widget.js`, `${HASHED}/./widget.js`]) {
    assert.equal((await get(p)).status, 404, p);
  }
});

test('our pages carry a Content-Security-Policy; the embed demo (a customer site) does not', async () => {
  const page = await get('/kiosk/', { 'Accept-Encoding': 'gzip, br' });
  assert.equal(page.status, 200);
  const csp = page.headers['content-security-policy'] ?? '';
  for (const part of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'",
    "object-src 'none'"]) {
    assert.ok(csp.includes(part), `CSP has ${part}: ${csp}`);
  }
  assert.ok(!/script-src[^;]*'unsafe-(inline|eval)'/.test(csp), `no inline or eval scripts: ${csp}`);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  assert.equal(page.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  assert.match(zlib.gunzipSync(page.body).toString(), /<title>kiosk<\/title>/);
  const demo = await get('/embed-demo.html');
  assert.equal(demo.status, 200);
  assert.equal(demo.headers['content-security-policy'], undefined);
  const script = await get('/canvass/widget.js');
  assert.equal(script.headers['content-security-policy'], undefined, 'a policy is for pages');
});

test('nothing outside the static folder, and no folder listings', async () => {
  for (const p of ['/../etc/passwd', '/canvass/../../etc/passwd', '/%2e%2e/etc/passwd', '/nope.js']) {
    const r = await get(p);
    assert.equal(r.status, 404, `${p}: ${r.status} ${r.body.toString().slice(0, 100)}`);
  }
  const folder = await get('/kiosk');
  assert.equal(folder.status, 301);
  assert.equal(folder.headers.location, '/kiosk/');
});
