// The Debian package (native/package/, `cpack -G DEB`, built by tests/test-all.sh into
// build/package): its contents and control files, its systemd units (systemd-analyze verify), and
// the installed layout run as the unit runs it, with --config /etc/canvass/canvass.conf.
//
// Not done here: `dpkg -i` on this machine or in a chroot. CI runs on a machine without systemd
// as PID 1, as root, on the host itself: installing would change the host (a user, /etc, units)
// and the service could not start. So the package is unpacked into a throw-away root
// (dpkg-deb -x), the units are verified against it, and the server from it is started with the
// packaged configuration, only the data directory and the port moved into the test's folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, cleanup, run, describeRun, describeResponse, tempDir, repoRoot,
} from '../server/harness.mjs';

after(cleanup);

const debDir = process.env.CANVASS_DEB_DIR || path.join(repoRoot, 'build/package');
const deb = fs.existsSync(debDir) ? fs.readdirSync(debDir).find((f) => /^canvass_.*\.deb$/.test(f)) : undefined;
const must = async (file, args) => {
  const r = await run(file, args);
  assert.equal(r.code, 0, describeRun(r));
  return r;
};

test('the package holds the server, the CLI, the web site, the units and the configuration', async () => {
  assert.ok(deb, `no canvass_*.deb in ${debDir}: build it with (cd build/native && cpack -G DEB -B ../package)`);
  const file = path.join(debDir, deb);
  const info = (await must('dpkg-deb', ['-I', file])).stdout;
  assert.match(info, /Package: canvass\n/);
  assert.match(info, /Depends: .*libsodium23/);
  assert.match(info, /Depends: .*libsqlite3-0/);
  const paths = (await must('dpkg-deb', ['-c', file])).stdout.split('\n').map((l) => l.split(/\s+/).pop());
  for (const p of ['./usr/bin/canvass-server', './usr/bin/canvass', './etc/canvass/canvass.conf',
    './lib/systemd/system/canvass.service', './lib/systemd/system/canvass-backup.timer',
    './lib/systemd/system/canvass-verify.timer', './usr/share/canvass/web/kiosk/index.html',
    './usr/share/canvass/web/dashboard/index.html', './usr/share/canvass/web/canvass.js',
    './usr/share/canvass/web/canvass/canvass-widget.wasm', './usr/share/canvass/examples/restaurant.json']) {
    assert.ok(paths.includes(p), `${p} is not in the package`);
  }
  assert.ok(!paths.some((p) => p.endsWith('README.md') && p.includes('/web/')), 'no README in the web site');
  assert.ok(!paths.some((p) => p.includes('/etc/canvass/secrets')), 'the secrets file is made by postinst, never shipped');
  const control = tempDir('canvass-deb-control-');
  await must('dpkg-deb', ['-e', file, control]);
  assert.equal(fs.readFileSync(path.join(control, 'conffiles'), 'utf8').trim(), '/etc/canvass/canvass.conf');
  for (const script of ['postinst', 'prerm', 'postrm']) {
    const p = path.join(control, script);
    assert.ok(fs.statSync(p).mode & 0o100, `${script} is executable`);
    await must('sh', ['-n', p]);
  }
  const postinst = fs.readFileSync(path.join(control, 'postinst'), 'utf8');
  assert.match(postinst, /useradd --system/);
  assert.match(postinst, /chmod 0600 \/etc\/canvass\/secrets/);
  const postrm = fs.readFileSync(path.join(control, 'postrm'), 'utf8');
  assert.ok(!/rm .*\/var\/lib\/canvass/.test(postrm), 'remove and purge keep the data');
});

test('the systemd units verify, are hardened, and the packaged layout serves kiosk and dashboard', async () => {
  assert.ok(deb, `no canvass_*.deb in ${debDir}`);
  const root = tempDir('canvass-deb-root-');
  await must('dpkg-deb', ['-x', path.join(debDir, deb), root]);
  const unitDir = path.join(root, 'lib/systemd/system');
  const service = fs.readFileSync(path.join(unitDir, 'canvass.service'), 'utf8');
  for (const line of ['User=canvass', 'EnvironmentFile=-/etc/canvass/secrets',
    'ExecStart=/usr/bin/canvass-server --config /etc/canvass/canvass.conf', 'ProtectSystem=strict',
    'ReadWritePaths=/var/lib/canvass', 'NoNewPrivileges=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=',
    'SystemCallFilter=@system-service']) {
    assert.ok(service.split('\n').includes(line), `canvass.service lacks ${line}`);
  }
  // systemd-analyze verify wants the binaries where the units name them: the same units, pointing
  // into the unpacked root.
  const units = tempDir('canvass-units-');
  for (const f of fs.readdirSync(unitDir)) {
    fs.writeFileSync(path.join(units, f), fs.readFileSync(path.join(unitDir, f), 'utf8')
      .replaceAll('/usr/bin/canvass-server', path.join(root, 'usr/bin/canvass-server')));
  }
  const verify = await run('systemd-analyze', ['verify', ...fs.readdirSync(units).map((f) => path.join(units, f))]);
  assert.equal(verify.code, 0, describeRun(verify));
  assert.equal(verify.stderr.trim(), '', `systemd-analyze verify has remarks:\n${verify.stderr}`);

  const version = await must(path.join(root, 'usr/bin/canvass-server'), ['--version']);
  assert.match(version.stdout, /^canvass-server \d+\.\d+\.\d+/);

  // The packaged configuration, as the unit runs it: data and static moved into the root.
  const data = path.join(tempDir('canvass-deb-data-'), 'lib');
  const conf = path.join(root, 'etc/canvass/canvass.conf');
  const text = fs.readFileSync(conf, 'utf8');
  assert.match(text, /^data = \/var\/lib\/canvass$/m);
  assert.match(text, /^listen = 127\.0\.0\.1:8080$/m);
  assert.match(text, /^static = \/usr\/share\/canvass\/web$/m);
  fs.writeFileSync(conf, text.replace('/var/lib/canvass', data)
    .replace('/usr/share/canvass/web', path.join(root, 'usr/share/canvass/web')));
  const server = await startServer({ dataDir: data, bin: path.join(root, 'usr/bin/canvass-server'), extraArgs: ['--config', conf] });
  try {
    for (const p of ['/', '/kiosk/', '/dashboard/', '/canvass.js', '/canvass/canvass-widget.wasm']) {
      const r = await server.fetch(p);
      assert.equal(r.status, 200, `GET ${p}: ${describeResponse(r)}`);
      assert.equal((await server.fetch(p, { method: 'HEAD' })).status, 200, `HEAD ${p}`);
    }
    assert.equal((await server.fetch('/README.md')).status, 404);
    assert.match(server.stdout, /initial admin token: written to .*initial-admin-token/);
    assert.equal(fs.statSync(path.join(data, 'initial-admin-token')).mode & 0o777, 0o600);
  } finally {
    await server.stop();
  }
});
