// A TCP proxy on 127.0.0.1 that cuts connections at random, for the fault tests (fault.test.mjs).
// Each connection it accepts gets one fate, drawn from a seeded generator, for its first HTTP
// exchange:
//
//   pass       everything is forwarded both ways
//   request    the connection is cut before the request is fully forwarded: a random prefix of
//              it (0 bytes up to one byte short of the whole request) reaches the server
//   response   the request is forwarded whole and the connection is cut when the server's first
//              answer byte arrives: the server did the work, the client gets nothing
//   mid        the request is forwarded whole and a random prefix of the answer (at least one
//              byte, at least one byte short of the whole) reaches the client
//
// Exchanges after the first on a kept-alive connection pass. A server that is down (connection
// refused) closes the client's connection at once. Lengths come from Content-Length; a message
// without one is taken to end with its headers (the devices always send one, and the server sets
// one on every answer).
import net from 'node:net';

// mulberry32: a small seeded generator, the same sequence for the same seed on every machine.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CUT_KINDS = ['request', 'response', 'mid'];

// Length of the HTTP message that starts `buf`, or undefined until its headers are complete.
function messageLength(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const m = head.match(/\r\ncontent-length:[ \t]*(\d+)/i);
  return end + 4 + (m ? Number(m[1]) : 0);
}

export class ChaosProxy {
  // upstreamPort: the server's port. cutRate: share of connections that are cut (0..1), split
  // evenly over `kinds`.
  constructor({ upstreamPort, seed = 1, cutRate = 0.3, kinds = CUT_KINDS }) {
    this.upstreamPort = upstreamPort;
    this.cutRate = cutRate;
    this.kinds = kinds;
    this.random = prng(seed);
    this.sockets = new Set();
    this.stats = { connections: 0, pass: 0, request: 0, response: 0, mid: 0, upstreamDown: 0 };
  }

  get cuts() {
    return this.stats.request + this.stats.response + this.stats.mid;
  }

  start() {
    this.server = net.createServer((client) => this.handle(client));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        this.url = `http://127.0.0.1:${this.port}`;
        resolve(this);
      });
    });
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise((resolve) => this.server.close(() => resolve()));
  }

  fate() {
    if (this.random() >= this.cutRate) return 'pass';
    return this.kinds[Math.floor(this.random() * this.kinds.length)];
  }

  handle(client) {
    this.stats.connections += 1;
    const fate = this.fate();
    // Drawn now, so that a connection's cut point does not depend on how its bytes are split.
    const where = this.random();
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
    }
    let done = false;
    const cut = () => {
      done = true;
      client.destroy();
      upstream.destroy();
    };
    let connected = false;
    upstream.once('connect', () => { connected = true; });
    upstream.on('close', () => {
      if (!connected) this.stats.upstreamDown += 1;
      client.destroy();
    });
    client.on('close', () => upstream.destroy());

    let counted = false;
    const count = () => {
      if (!counted) this.stats[fate] += 1;
      counted = true;
    };

    // Client to server.
    let reqBuf = Buffer.alloc(0);
    let reqLen;
    let forwarded = 0;
    client.on('data', (chunk) => {
      if (done) return;
      if (fate === 'pass' || (reqLen !== undefined && forwarded >= reqLen)) {
        if (fate === 'pass') count();
        upstream.write(chunk);
        return;
      }
      reqBuf = Buffer.concat([reqBuf, chunk]);
      if (reqLen === undefined) {
        reqLen = messageLength(reqBuf);
        if (reqLen === undefined) return; // wait for the whole header
      }
      if (fate === 'request') {
        const cutAt = Math.floor(where * reqLen); // 0 .. reqLen - 1
        if (reqBuf.length > cutAt) {
          count();
          done = true;
          if (cutAt === 0) cut();
          else upstream.write(reqBuf.subarray(0, cutAt), () => cut());
          return;
        }
        return; // not there yet: keep buffering
      }
      upstream.write(reqBuf);
      forwarded += reqBuf.length;
      reqBuf = Buffer.alloc(0);
    });
    client.on('end', () => { if (!done) upstream.end(); });

    // Server to client.
    let resBuf = Buffer.alloc(0);
    let resLen;
    let delivered = false;
    upstream.on('data', (chunk) => {
      if (done) return;
      if (fate === 'pass' || fate === 'request' || delivered) {
        client.write(chunk);
        return;
      }
      if (fate === 'response') {
        count();
        cut();
        return;
      }
      // mid: a prefix of the answer, then the cut.
      resBuf = Buffer.concat([resBuf, chunk]);
      if (resLen === undefined) {
        resLen = messageLength(resBuf);
        if (resLen === undefined) return;
      }
      if (resLen < 2) { // nothing to cut inside: pass it
        delivered = true;
        client.write(resBuf);
        return;
      }
      const cutAt = 1 + Math.floor(where * (resLen - 1)); // 1 .. resLen - 1
      if (resBuf.length >= cutAt) {
        count();
        done = true;
        client.write(resBuf.subarray(0, cutAt), () => cut());
      }
    });
    upstream.on('end', () => {
      if (done) return;
      if (resBuf.length > 0 && !delivered) client.write(resBuf); // shorter than it said
      client.end();
    });
  }
}
