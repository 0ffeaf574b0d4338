// An independent JavaScript reading of docs/encoding.md: BLAKE2b-256, the canonical shapes, the
// record batch, signed-record envelopes, response records, signed messages and sync receipts, and
// Ed25519 through node:crypto. The server tests use it to take batches apart (to tamper with
// them), to verify receipts, and to act as a device of their own (enroll with a key made here and
// sign records here). It never calls the C++ code, so a test that passes proves the server and
// the spec agree, not merely that the server agrees with itself. wire.test.mjs checks it against
// tests/golden/vectors.txt.
import crypto from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// BLAKE2b (RFC 7693), unkeyed, with a chosen output length. BigInt lanes: slow but tiny inputs.

const MASK64 = (1n << 64n) - 1n;
const IV = [
  0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n,
];
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

function rotr64(x, n) {
  return ((x >> n) | (x << (64n - n))) & MASK64;
}

function compress(h, block, t, last) {
  const m = new Array(16);
  for (let i = 0; i < 16; i++) m[i] = block.readBigUInt64LE(i * 8);
  const v = [...h, ...IV];
  v[12] ^= t & MASK64;
  v[13] ^= t >> 64n;
  if (last) v[14] ^= MASK64;
  const g = (a, b, c, d, x, y) => {
    v[a] = (v[a] + v[b] + x) & MASK64;
    v[d] = rotr64(v[d] ^ v[a], 32n);
    v[c] = (v[c] + v[d]) & MASK64;
    v[b] = rotr64(v[b] ^ v[c], 24n);
    v[a] = (v[a] + v[b] + y) & MASK64;
    v[d] = rotr64(v[d] ^ v[a], 16n);
    v[c] = (v[c] + v[d]) & MASK64;
    v[b] = rotr64(v[b] ^ v[c], 63n);
  };
  for (let r = 0; r < 12; r++) {
    const s = SIGMA[r % 10];
    g(0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (let i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

export function blake2b(data, outLen = 32) {
  const input = Buffer.from(data);
  const h = [...IV];
  h[0] ^= 0x01010000n ^ BigInt(outLen);
  let t = 0n;
  let off = 0;
  // Every block but the last is compressed as soon as more input follows it.
  while (input.length - off > 128) {
    t += 128n;
    compress(h, input.subarray(off, off + 128), t, false);
    off += 128;
  }
  const last = Buffer.alloc(128);
  input.copy(last, 0, off);
  t += BigInt(input.length - off);
  compress(h, last, t, true);
  const out = Buffer.alloc(64);
  for (let i = 0; i < 8; i++) out.writeBigUInt64LE(h[i], i * 8);
  return out.subarray(0, outLen);
}

export const hash256 = (data) => blake2b(data, 32);

// ---------------------------------------------------------------------------------------------
// Ed25519 with domain tags (node:crypto; raw 32-byte keys).

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyFromRaw(raw) {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(raw)]), format: 'der', type: 'spki' });
}

export function newDeviceKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return { publicKey, privateKey, publicRaw: Buffer.from(raw) };
}

export function signTagged(tag, body, privateKey) {
  return crypto.sign(null, Buffer.concat([Buffer.from(tag, 'ascii'), hash256(body)]), privateKey);
}

export function verifyTagged(tag, body, signature, publicRaw) {
  return crypto.verify(null, Buffer.concat([Buffer.from(tag, 'ascii'), hash256(body)]),
    publicKeyFromRaw(publicRaw), signature);
}

// ---------------------------------------------------------------------------------------------
// Reading and writing the shapes.

export class Reader {
  constructor(buf) {
    this.buf = Buffer.from(buf);
    this.off = 0;
  }
  need(n, what) {
    if (this.off + n > this.buf.length) throw new Error(`truncated at byte ${this.off} reading ${what}`);
  }
  u8(what = 'u8') { this.need(1, what); return this.buf[this.off++]; }
  u32(what = 'u32') { this.need(4, what); const v = this.buf.readUInt32LE(this.off); this.off += 4; return v; }
  u64(what = 'u64') { this.need(8, what); const v = this.buf.readBigUInt64LE(this.off); this.off += 8; return v; }
  i32(what = 'i32') { this.need(4, what); const v = this.buf.readInt32LE(this.off); this.off += 4; return v; }
  i64(what = 'i64') { this.need(8, what); const v = this.buf.readBigInt64LE(this.off); this.off += 8; return v; }
  bool(what = 'bool') {
    const v = this.u8(what);
    if (v > 1) throw new Error(`${what}: flag ${v}`);
    return v === 1;
  }
  fixed(n, what = `b${n}`) { this.need(n, what); const v = this.buf.subarray(this.off, this.off + n); this.off += n; return v; }
  bytes(what = 'str') { const n = this.u32(what); return this.fixed(n, what); }
  str(what = 'str') { return this.bytes(what).toString('utf8'); }
  marker(what) {
    const m = this.u8(what);
    if (m !== 1) throw new Error(`${what}: marker ${m}`);
    const v = this.u8(what);
    if (v !== 1) throw new Error(`${what}: version ${v}`);
  }
  end(what) {
    if (this.off !== this.buf.length) throw new Error(`${what}: ${this.buf.length - this.off} bytes left over`);
  }
}

export class Writer {
  constructor() { this.parts = []; }
  raw(b) { this.parts.push(Buffer.from(b)); return this; }
  u8(v) { return this.raw([v]); }
  u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); return this.raw(b); }
  u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return this.raw(b); }
  i32(v) { const b = Buffer.alloc(4); b.writeInt32LE(v); return this.raw(b); }
  i64(v) { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return this.raw(b); }
  bool(v) { return this.u8(v ? 1 : 0); }
  bytes(b) { const buf = Buffer.from(b); return this.u32(buf.length).raw(buf); }
  str(s) { return this.bytes(Buffer.from(s, 'utf8')); }
  header() { return this.u8(1).u8(1); }
  done() { return Buffer.concat(this.parts); }
}

// ---------------------------------------------------------------------------------------------
// Record batch: marker, u8 version, u32 protocol, str device_id, u32 n, n x str envelope.

export function parseBatch(body) {
  const r = new Reader(body);
  r.marker('batch');
  const protocol = r.u32('protocol');
  const deviceId = r.str('device_id');
  const n = r.u32('n');
  const envelopes = [];
  for (let i = 0; i < n; i++) envelopes.push(Buffer.from(r.bytes(`envelope ${i}`)));
  r.end('batch');
  return { protocol, deviceId, envelopes };
}

export function buildBatch({ protocol = 1, deviceId, envelopes, count = envelopes.length }) {
  const w = new Writer().header().u32(protocol).str(deviceId).u32(count);
  for (const e of envelopes) w.bytes(e);
  return w.done();
}

// Byte offsets (inside the batch) of each envelope's record bytes and signature, for tampering.
export function batchLayout(body) {
  const r = new Reader(body);
  r.marker('batch');
  r.u32();
  r.bytes();
  const n = r.u32();
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32();
    const start = r.off;
    // envelope: marker(1) version(1) u32 len, record bytes, 64 signature
    const recLen = body.readUInt32LE(start + 2);
    out.push({
      envelopeStart: start,
      envelopeLength: len,
      recordStart: start + 6,
      recordLength: recLen,
      signatureStart: start + 6 + recLen,
    });
    r.off += len;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signed record envelope and response record.

export function parseEnvelope(env) {
  const r = new Reader(env);
  r.marker('envelope');
  const recordBytes = Buffer.from(r.bytes('record_bytes'));
  const signature = Buffer.from(r.fixed(64, 'signature'));
  r.end('envelope');
  return { recordBytes, signature, record: parseRecord(recordBytes), hash: hash256(recordBytes) };
}

export const OUTCOMES = ['completed', 'partial', 'declined', 'ignored'];

export function parseRecord(bytes) {
  const r = new Reader(bytes);
  r.marker('record');
  const rec = {};
  rec.surveyId = r.str('survey_id');
  rec.surveyVersion = Buffer.from(r.fixed(32, 'survey_version'));
  rec.deviceId = r.str('device_id');
  rec.seq = Number(r.u64('seq'));
  rec.prevHash = Buffer.from(r.fixed(32, 'prev_hash'));
  rec.deviceTimeMs = Number(r.i64('device_time_ms'));
  rec.outcome = OUTCOMES[r.u8('outcome')];
  const na = r.u32('answer_count');
  rec.answers = {};
  for (let i = 0; i < na; i++) {
    const id = r.str('question_id');
    const kind = r.u8('kind');
    if (kind === 1) rec.answers[id] = r.i32();
    else if (kind === 2) rec.answers[id] = r.str();
    else if (kind === 3) {
      const n = r.u32();
      const choices = [];
      for (let j = 0; j < n; j++) choices.push(r.str());
      rec.answers[id] = { choices, other: r.str() };
    } else if (kind === 4) rec.answers[id] = { importance: r.i32(), satisfaction: r.i32() };
    else if (kind === 5) rec.answers[id] = { consent: r.bool() };
    else throw new Error(`answer kind ${kind}`);
  }
  const nt = r.u32('tag_count');
  rec.tags = {};
  for (let i = 0; i < nt; i++) {
    const k = r.str();
    rec.tags[k] = r.str();
  }
  rec.customerKey = r.str('customer_key');
  rec.sealedContact = r.bool('has_contact') ? Buffer.from(r.bytes('sealed_contact')) : null;
  rec.attachmentHash = r.bool('has_attachment') ? Buffer.from(r.fixed(32)) : null;
  r.end('record');
  return rec;
}

const byKey = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

// answers: id -> number (scale) | string (text) | {importance, satisfaction} | {consent} |
// {choices, other}. Keys are sorted bytewise as the spec requires.
// `unsorted: true` writes the answers in the given order: a non-canonical record, for tests.
export function encodeRecord(rec, { unsorted = false } = {}) {
  const w = new Writer().header();
  w.str(rec.surveyId).raw(rec.surveyVersion).str(rec.deviceId).u64(rec.seq).raw(rec.prevHash);
  w.i64(rec.deviceTimeMs).u8(OUTCOMES.indexOf(rec.outcome ?? 'completed'));
  const ids = Object.keys(rec.answers ?? {});
  if (!unsorted) ids.sort(byKey);
  w.u32(ids.length);
  for (const id of ids) {
    const v = rec.answers[id];
    w.str(id);
    if (typeof v === 'number') w.u8(1).i32(v);
    else if (typeof v === 'string') w.u8(2).str(v);
    else if (Array.isArray(v.choices)) {
      w.u8(3).u32(v.choices.length);
      for (const c of [...v.choices].sort(byKey)) w.str(c);
      w.str(v.other ?? '');
    } else if ('importance' in v) w.u8(4).i32(v.importance).i32(v.satisfaction);
    else if ('consent' in v) w.u8(5).bool(v.consent);
    else throw new Error(`cannot encode answer ${id}`);
  }
  const keys = Object.keys(rec.tags ?? {}).sort(byKey);
  w.u32(keys.length);
  for (const k of keys) w.str(k).str(rec.tags[k]);
  w.str(rec.customerKey ?? '');
  w.bool(!!rec.sealedContact);
  if (rec.sealedContact) w.bytes(rec.sealedContact);
  w.bool(!!rec.attachmentHash);
  if (rec.attachmentHash) w.raw(rec.attachmentHash);
  return w.done();
}

export function encodeEnvelope(recordBytes, signature) {
  return new Writer().header().bytes(recordBytes).raw(signature).done();
}

export function signRecord(recordBytes, privateKey) {
  return encodeEnvelope(recordBytes, signTagged('canvass/record/v1', recordBytes, privateKey));
}

// ---------------------------------------------------------------------------------------------
// Signed messages: receipts, certificates, bundles.

export function parseSigned(bytes) {
  const r = new Reader(bytes);
  r.marker('signed message');
  const body = Buffer.from(r.bytes('body'));
  const signature = Buffer.from(r.fixed(64, 'signature'));
  r.end('signed message');
  return { body, signature };
}

export function parseReceipt(bytes) {
  const { body, signature } = parseSigned(bytes);
  const r = new Reader(body);
  r.marker('receipt');
  const receipt = {
    deviceId: r.str('device_id'),
    lastSeq: Number(r.u64('last_seq')),
    headHash: Buffer.from(r.fixed(32, 'head_hash')),
    serverTimeMs: Number(r.i64('server_time_ms')),
  };
  r.end('receipt');
  return { ...receipt, body, signature };
}

export function parseCertificate(bytes) {
  const { body, signature } = parseSigned(bytes);
  const r = new Reader(body);
  r.marker('certificate');
  const cert = {
    deviceId: r.str(),
    location: r.str(),
    channel: r.str(),
    devicePublicKey: Buffer.from(r.fixed(32)),
    validFromMs: Number(r.i64()),
    validUntilMs: Number(r.i64()),
    web: r.bool(),
  };
  r.end('certificate');
  return { ...cert, body, signature };
}

export function parseBundle(bytes) {
  const { body, signature } = parseSigned(bytes);
  const r = new Reader(body);
  r.marker('bundle');
  const bundle = { surveyId: r.str(), definitionJson: Buffer.from(r.bytes()), publishedMs: Number(r.i64()) };
  const n = r.u32();
  bundle.locations = [];
  for (let i = 0; i < n; i++) bundle.locations.push(r.str());
  r.end('bundle');
  return { ...bundle, body, signature };
}

export const ZERO_HASH = Buffer.alloc(32);
