// Static files (--static DIR, native/server/static_files.cpp): gzipped once and sent as they are
// (never compressed twice, whatever the client accepts), ETag and 304, the Content-Security-Policy
// of our own pages, and nothing outside DIR.
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

before(async () => {
  dir = tempDir('canvass-static-');
  fs.mkdirSync(path.join(dir, 'canvass'));
  fs.mkdirSync(path.join(dir, 'kiosk'));
  fs.writeFileSync(path.join(dir, 'canvass', 'widget.js'), script);
  fs.writeFileSync(path.join(dir, 'canvass', 'widget.wasm'), wasm);
  fs.writeFileSync(path.join(dir, 'kiosk', 'index.html'), `<!doctype html><title>kiosk</title>${'<p>x</p>'.repeat(100)}`);
  fs.writeFileSync(path.join(dir, 'embed-demo.html'), '<!doctype html><title>a customer site</title>');
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
    // A browser offers brotli too: the answer is our gzip, not compressed again by the transport.
    const r = await get(p, { 'Accept-Encoding': 'gzip, deflate, br' });
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
