// TLS served directly by canvass-server (--tls-cert / --tls-key, docs/operations.md): /healthz
// answers over HTTPS with a certificate the client trusts, the certificate presented is exactly
// the configured one (SHA-256 fingerprint), a client that does not trust it refuses the
// connection, and a missing key file stops the server at start with a message.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
  binary, cleanup, cli, freePort, run, tempDir, describeRun, repoRoot, sleep, Device, RESTAURANT,
} from './harness.mjs';

after(cleanup);

function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  return run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert]).then((r) => {
    assert.equal(r.code, 0, `openssl could not make a certificate\n${describeRun(r)}`);
    return { cert, key };
  });
}

async function fingerprint(certFile) {
  const r = await run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile]);
  assert.equal(r.code, 0, describeRun(r));
  return r.stdout.trim().split('=')[1];  // "AB:CD:..."
}

function get(url, options) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { agent: false, ...options }, (res) => {
      const peer = res.socket.getPeerCertificate();  // while the connection is open
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), peer,
      }));
    });
    req.setTimeout(15000, () => req.destroy(new Error(`no answer from ${url} in 15 s`)));
    req.on('error', reject);
  });
}

// Starts the server with TLS and waits for "listening on https://..." (the harness's startServer
// polls /healthz over plain HTTP, which a TLS port does not answer).
async function startTlsServer(dataDir, cert, key) {
  const port = await freePort();
  const child = spawn(binary('canvass-server'),
    ['--data', dataDir, '--listen', `127.0.0.1:${port}`, '--tls-cert', cert, '--tls-key', key],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  const deadline = Date.now() + 20000;
  while (!out.includes('listening on https://')) {
    if (child.exitCode !== null) throw new Error(`canvass-server exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`canvass-server did not listen within 20 s:\n${out}`);
    }
    await sleep(50);
  }
  return { child, url: `https://127.0.0.1:${port}`, output: () => out };
}

test('healthz over HTTPS with the configured certificate; untrusted clients refuse it', async () => {
  const dir = tempDir('canvass-tls-');
  const { cert, key } = await makeCertificate(dir);
  const expected = await fingerprint(cert);
  const server = await startTlsServer(path.join(dir, 'data'), cert, key);
  try {
    // A client that trusts this certificate as its CA.
    const trusted = await get(`${server.url}/healthz`, { ca: fs.readFileSync(cert) });
    assert.equal(trusted.status, 200, trusted.text);
    assert.equal(JSON.parse(trusted.text).status, 'ok');
    assert.equal(trusted.headers['strict-transport-security'], 'max-age=31536000', 'HSTS over TLS');

    // A client that pins the certificate instead: verification off, fingerprint checked.
    const pinned = await get(`${server.url}/healthz`, { rejectUnauthorized: false });
    assert.equal(pinned.status, 200);
    assert.equal(pinned.peer.fingerprint256, expected, 'the server presents the configured certificate');

    // Admin answers over TLS are not cacheable either.
    const admin = await get(`${server.url}/v1/admin/devices`, { ca: fs.readFileSync(cert) });
    assert.equal(admin.status, 401);
    assert.equal(admin.headers['cache-control'], 'no-store');

    // A client with the default trust store refuses a self-signed certificate.
    await assert.rejects(get(`${server.url}/healthz`, {}),
      (e) => /self[- ]signed|unable to verify|SELF_SIGNED/i.test(`${e.code} ${e.message}`));
  } finally {
    server.child.kill('SIGTERM');
  }
  const code = await new Promise((resolve) => {
    if (server.child.exitCode !== null) resolve(server.child.exitCode);
    else server.child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 0, `SIGTERM must stop a TLS server cleanly:\n${server.output()}`);
});

test('a missing, unreadable or world-readable key or a bad certificate stops the server before it creates anything', async () => {
  const dir = tempDir('canvass-tls-');
  const { cert } = await makeCertificate(dir);
  const r = await run(binary('canvass-server'), ['--data', path.join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--tls-cert', cert, '--tls-key', path.join(dir, 'missing.pem')], { timeout: 20000 });
  assert.equal(r.code, 1, describeRun(r));
  assert.match(r.stderr, /cannot read .*missing\.pem \(No such file or directory\)/, describeRun(r));
  // Nothing is created before the refusal: no data directory, no keys, no token (issue 12).
  assert.ok(!fs.existsSync(path.join(dir, 'data')), 'a refused start leaves no data directory');

  // A key others may read is refused with the fix in the message.
  const { key } = await makeCertificate(dir);
  fs.chmodSync(key, 0o644);
  const open = await run(binary('canvass-server'), ['--data', path.join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--tls-cert', cert, '--tls-key', key], { timeout: 20000 });
  assert.equal(open.code, 1, describeRun(open));
  assert.match(open.stderr, /may be read by others \(mode 0644\); run: chmod 600 /, describeRun(open));
  assert.ok(!fs.existsSync(path.join(dir, 'data')));

  // A file that is no certificate: refused by the TLS library, still before anything is created.
  fs.chmodSync(key, 0o600);
  const junk = path.join(dir, 'junk.pem');
  fs.writeFileSync(junk, 'not a certificate\n');
  const bad = await run(binary('canvass-server'), ['--data', path.join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--tls-cert', junk, '--tls-key', key], { timeout: 20000 });
  assert.equal(bad.code, 1, describeRun(bad));
  assert.match(bad.stderr, /cannot load the TLS certificate/, describeRun(bad));
  assert.ok(!fs.existsSync(path.join(dir, 'data')));
  assert.ok(!/initial admin token/.test(bad.stdout));
  const half = await run(binary('canvass-server'), ['--data', path.join(dir, 'data'), '--tls-cert', cert],
    { timeout: 20000 });
  assert.equal(half.code, 2, describeRun(half));
  assert.match(half.stderr, /go together/);
});

test('the CLI against a self-signed server: "certificate not trusted" without --cacert, works with --cacert or SSL_CERT_FILE', async () => {
  const dir = tempDir('canvass-tls-');
  const { cert, key } = await makeCertificate(dir);
  const other = await makeCertificate(tempDir('canvass-tls-other-'));
  const server = await startTlsServer(path.join(dir, 'data'), cert, key);
  try {
    const token = fs.readFileSync(path.join(dir, 'data', 'initial-admin-token'), 'utf8').trim();
    const admin = (args, opts) => cli(['admin', '--server', server.url, '--token', token, ...args], opts);

    // Without a CA for it: the cause, and the fix — not "is canvass-server running there?".
    // (SSL_CERT_FILE of the test environment, if any, would change the system's trust.)
    const untrusted = await admin(['devices'], { env: { SSL_CERT_FILE: '', SSL_CERT_DIR: '' } });
    assert.equal(untrusted.code, 1, describeRun(untrusted));
    assert.match(untrusted.stderr, /certificate not trusted/, describeRun(untrusted));
    assert.match(untrusted.stderr, /self[- ]signed/i, describeRun(untrusted));
    assert.match(untrusted.stderr, /--cacert FILE\.pem.*SSL_CERT_FILE/, describeRun(untrusted));
    assert.doesNotMatch(untrusted.stderr, /is canvass-server running/, describeRun(untrusted));

    const trusted = await admin(['--cacert', cert, 'devices']);
    assert.equal(trusted.code, 0, describeRun(trusted));
    assert.deepEqual(JSON.parse(trusted.stdout), { devices: [] });
    const byEnv = await admin(['devices'], { env: { SSL_CERT_FILE: cert } });
    assert.equal(byEnv.code, 0, describeRun(byEnv));

    // Another CA: still not trusted, and the message names the file that did not help.
    const wrong = await admin(['--cacert', other.cert, 'devices']);
    assert.equal(wrong.code, 1, describeRun(wrong));
    assert.match(wrong.stderr, new RegExp(`certificate not trusted.*--cacert ${other.cert} does not hold the CA`), describeRun(wrong));
    const missing = await admin(['--cacert', path.join(dir, 'nope.pem'), 'devices']);
    assert.equal(missing.code, 2, describeRun(missing));
    assert.match(missing.stderr, /--cacert: cannot read .*nope\.pem/, describeRun(missing));
    const notPem = await admin(['--cacert', key.replace('key.pem', 'data/initial-admin-token'), 'devices']);
    assert.equal(notPem.code, 2, describeRun(notPem));
    assert.match(notPem.stderr, /holds no PEM certificate/, describeRun(notPem));

    // A device enrolls and pushes over the same TLS with --cacert.
    const published = await admin(['--cacert', cert, 'publish', RESTAURANT]);
    assert.equal(published.code, 0, describeRun(published));
    const code = (await admin(['--cacert', cert, 'enroll-code', '--location', 'Kyiv-Podil'])).stdout.trim();
    const device = new Device();
    const refused = await device.cli(['enroll', '--server', server.url, '--code', code], { env: { SSL_CERT_FILE: '', SSL_CERT_DIR: '' } });
    assert.equal(refused.code, 1, describeRun(refused));
    assert.match(refused.stderr, /certificate not trusted/, describeRun(refused));
    const enrolled = await device.cli(['--cacert', cert, 'enroll', '--server', server.url, '--code', code]);
    assert.equal(enrolled.code, 0, describeRun(enrolled));
    // It remembers the CA file: a push needs no --cacert (and no SSL_CERT_FILE).
    await device.mustRecord({ recommend: 9 }, { outcome: 'partial' });
    const pushed = await device.cli(['push'], { env: { SSL_CERT_FILE: '', SSL_CERT_DIR: '' } });
    assert.equal(pushed.code, 0, describeRun(pushed));
    assert.match(pushed.stdout, /pushed 1 record/, describeRun(pushed));
    assert.equal(JSON.parse(fs.readFileSync(path.join(device.stateDir, 'device.json'), 'utf8')).cacert, fs.realpathSync(cert));
  } finally {
    server.child.kill('SIGTERM');
  }
});
