// Canvass survey widget: the browser glue around the wasm module (canvass-widget.js/.wasm).
//
// What lives here is only what the browser owns: the canvas and its pointer events, <input>
// elements that mirror the widget's text fields (on-screen keyboards and IMEs need real ones),
// the DOM mirror of the UI's semantics tree for screen readers (semantics.js),
// the device log in IndexedDB, enrollment and sync over fetch, and the JS API of docs/widget.md.
// Every survey decision (flow, validation, outcome), every signature and every check of a
// signature happens in wasm: this file moves bytes and never interprets a record.
//
//   import { mount } from './widget.js';
//   const handle = await mount(element, { server, survey, mode: 'kiosk' | 'embed', lang });

import createCanvassWidget from './canvass-widget.js';
import {
  addCanvas, connectCanvas, cssSize, mirrorTextFields, withoutGlfwKeyListeners,
} from './canvas.js';
import { mirrorSemantics } from './semantics.js';

const base = new URL('.', import.meta.url);

// Start-up phases on the page's performance timeline, as `canvass:*` marks and measures
// (docs/widget.md, Start-up phases): loader, glue, wasm, webgl, font-atlas, gl-objects, survey-ready,
// first-question, and first-question-total (from the navigation). The loader marks its own part.
const mark = (name) => { try { performance.mark(`canvass:${name}`); } catch { /* old browser */ } };
const measure = (name, start, end) => {
  try {
    performance.measure(`canvass:${name}`, start && `canvass:${start}`, end && `canvass:${end}`);
  } catch { /* a start mark that was not set: no measure */ }
};
mark('glue');
measure('loader', undefined, 'loader');
measure('glue', 'glue-start', 'glue');

// Instantiates the module the loader compiled while the glue loaded (web/canvass.js), or, without
// one, lets the Emscripten glue fetch and compile it itself.
function instantiateWith(compiled) {
  if (!compiled) return undefined;
  return (imports, receive) => {
    compiled.then((module) => WebAssembly.instantiate(module, imports)
      .then((instance) => receive(instance, module)), () => WebAssembly.instantiateStreaming(
      fetch(new URL('canvass-widget.wasm', base), { credentials: 'omit' }), imports)
      .then((r) => receive(r.instance, r.module)));
    return {};  // asynchronous: the exports arrive through receive()
  };
}
const fromHex = (hex) => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
};
const ZERO_HASH = '0'.repeat(64);
const text = (bytes) => new TextDecoder().decode(bytes);
const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

// ---------------------------------------------------------------------------------------------
// The device log. IndexedDB database per server: `meta` (device, head, acked, bundles, picker)
// and `records` (unsynced signed envelopes by seq). Appending is one readwrite transaction over
// both stores that reads the head, calls the pure SignNext in wasm synchronously, and writes the
// record and the new head: IndexedDB serialises such transactions, so two tabs never take the
// same seq. Without IndexedDB (private mode) the same interface keeps records in memory.

class DeviceLog {
  static async open(name) {
    try {
      if (!('indexedDB' in self)) throw new Error('no IndexedDB');
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore('meta');
        open.result.createObjectStore('records', { keyPath: 'seq' });
      };
      const db = await req(open);
      let persisted = false;
      try { persisted = await navigator.storage?.persist?.() ?? false; } catch { /* not offered */ }
      return new DeviceLog(db, persisted);
    } catch (e) {
      const log = new DeviceLog(null, false);
      log.refusal = `the browser refused storage (${e?.message || e}); answers are sent at once`;
      return log;
    }
  }

  constructor(db, persisted) {
    this.db = db;
    this.persistent = !!db;
    this.persisted = persisted;  // navigator.storage.persist() granted
    this.mem = { meta: new Map(), records: new Map() };
  }

  async getMeta(key) {
    if (!this.db) return this.mem.meta.get(key);
    return req(this.db.transaction('meta').objectStore('meta').get(key));
  }

  async setMeta(key, value) {
    if (!this.db) { this.mem.meta.set(key, value); return; }
    const tx = this.db.transaction('meta', 'readwrite');
    tx.objectStore('meta').put(value, key);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(tx.error || new Error('meta write aborted'));
    });
  }

  // Stores `value` under `key` unless something is there already; resolves with what is stored.
  async setMetaOnce(key, value) {
    if (!this.db) {
      if (!this.mem.meta.has(key)) this.mem.meta.set(key, value);
      return this.mem.meta.get(key);
    }
    const tx = this.db.transaction('meta', 'readwrite');
    const store = tx.objectStore('meta');
    let kept = value;
    store.get(key).onsuccess = (e) => {
      if (e.target.result !== undefined) kept = e.target.result;
      else store.put(value, key);
    };
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
    return kept;
  }

  // sign(head) -> {seq, hash, envelope} runs inside the transaction, synchronously.
  async append(sign) {
    if (!this.db) {
      const head = this.mem.meta.get('head') || { seq: 0, hash: ZERO_HASH };
      const entry = sign(head);
      this.mem.records.set(entry.seq, entry);
      this.mem.meta.set('head', { seq: entry.seq, hash: entry.hash });
      return entry;
    }
    const tx = this.db.transaction(['meta', 'records'], 'readwrite');
    const meta = tx.objectStore('meta');
    let entry = null;
    let failure = null;
    meta.get('head').onsuccess = (e) => {
      const head = e.target.result || { seq: 0, hash: ZERO_HASH };
      try {
        entry = sign(head);
      } catch (err) {
        failure = err;
        tx.abort();
        return;
      }
      tx.objectStore('records').add(entry);  // add, not put: a taken seq fails the transaction
      meta.put({ seq: entry.seq, hash: entry.hash }, 'head');
    };
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(failure || tx.error || new Error('log write aborted'));
    });
    return entry;
  }

  async unsynced(max) {
    if (!this.db) return [...this.mem.records.values()].sort((a, b) => a.seq - b.seq).slice(0, max);
    return req(this.db.transaction('records').objectStore('records').getAll(null, max));
  }

  async pending() {
    if (!this.db) return this.mem.records.size;
    return req(this.db.transaction('records').objectStore('records').count());
  }

  // Drops records up to a verified receipt and remembers it as acknowledged, atomically.
  async drop(lastSeq, headHash) {
    if (!this.db) {
      for (const seq of [...this.mem.records.keys()]) if (seq <= lastSeq) this.mem.records.delete(seq);
      const acked = this.mem.meta.get('acked');
      if (!acked || acked.seq < lastSeq) this.mem.meta.set('acked', { seq: lastSeq, hash: headHash });
      return;
    }
    const tx = this.db.transaction(['meta', 'records'], 'readwrite');
    tx.objectStore('records').delete(IDBKeyRange.upperBound(lastSeq));
    const meta = tx.objectStore('meta');
    meta.get('acked').onsuccess = (e) => {
      const acked = e.target.result;
      if (!acked || acked.seq < lastSeq) meta.put({ seq: lastSeq, hash: headHash }, 'acked');
    };
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }

  close() { this.db?.close(); }
}

let styleAdded = false;
function addStyle() {
  if (styleAdded) return;
  styleAdded = true;
  const s = document.createElement('style');
  // !important: Emscripten resets the canvas's inline size when the GLFW window is resized.
  s.textContent = '.canvass-widget{position:relative;width:100%;height:100%;overflow:hidden}' +
    '.canvass-canvas{position:absolute;left:0;top:0;width:100%!important;height:100%!important;' +
    'display:block;touch-action:none;outline:none}' +
    '.canvass-input{position:absolute;box-sizing:border-box;border:0;background:transparent;' +
    'padding:8px 12px;margin:0;color:#1f2933;font-family:system-ui,sans-serif;resize:none;outline:none}' +
    // Text and placeholder colours of wasm/widget/theme.h (field_text, placeholder), both themes.
    '.canvass-input::placeholder{color:#58616b;opacity:1}' +
    '@media (prefers-contrast: more){.canvass-input{color:#000}' +
    '.canvass-input::placeholder{color:#333}}';
  document.head.appendChild(s);
}

// Sends a request the core's sync client (wasm/widget/api.cpp, canvass/sync_client.h) made:
// resolves with [status, body bytes], or [0, what went wrong] when no answer came.
async function send(server, r) {
  try {
    const res = await fetch(server + r.path, r.method === 'GET' ? {} : {
      method: r.method, headers: { 'Content-Type': r.content_type }, body: fromHex(r.body),
    });
    return [res.status, new Uint8Array(await res.arrayBuffer())];
  } catch (e) {
    return [0, `network: ${e.message}`];
  }
}

// Sends an enrollment request for a new device key: the public web channel (code undefined) or
// a one-time code. Resolves with the key and the answer (checked by the caller).
async function requestEnrollment(mod, server, code) {
  const seed = mod.newDeviceSeed();
  const publicKey = mod.publicKeyOf(seed);
  const answer = await send(server,
    JSON.parse(mod.syncRequest(code === undefined ? 'web' : 'enroll', code ?? '', publicKey)));
  return { seed, publicKey, answer };
}

function randomU64() {
  const v = new BigUint64Array(1);
  crypto.getRandomValues(v);
  return v[0].toString();
}

// ---------------------------------------------------------------------------------------------

export async function mount(element, options = {}, compiled = null) {
  if (!element) throw new Error('Canvass.mount: no element to mount into');
  const server = (options.server || location.origin).replace(/\/+$/, '');
  const mode = options.mode === 'embed' ? 'embed' : 'kiosk';
  const surveyId = options.survey;
  if (!surveyId) throw new Error('Canvass.mount: options.survey (a survey id) is required');
  addStyle();

  const listeners = { complete: [], sync: [], error: [], close: [], exit: [], ready: [] };
  const emit = (type, value) => {
    for (const fn of listeners[type] || []) {
      try { fn(value); } catch (e) { console.error(e); }
    }
  };

  const { wrap, canvas } = addCanvas(element, 'canvass-widget', 'canvass-canvas');

  mark('mount');
  if (!compiled) mark('wasm-start');
  const [mod, font, log] = await Promise.all([
    createCanvassWidget({ canvas, locateFile: (f) => new URL(f, base).href,
      instantiateWasm: instantiateWith(compiled) }).then((m) => { mark('wasm'); return m; }),
    fetch(new URL('font.ttf', base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null),
    DeviceLog.open(`canvass:${server}`),
  ]);
  measure('wasm', 'wasm-start', 'wasm');
  const initError = mod.init();
  if (initError) throw new Error(initError);
  // One wait for what the log keeps (device, cached bundles, sampling state, last answer), not
  // one after another, and before the UI starts: read later, IndexedDB's answer waited behind
  // the first frame's long task (font atlas, GL objects).
  const [storedDevice, storedBundles, storedPicker, lastResponse] = await Promise.all([
    log.getMeta('device'), log.getMeta('bundles'), log.getMeta(`picker:${surveyId}`),
    log.getMeta(`last:${surveyId}`)]);
  // A website's new visitor: the web channel's surveys and the organisation's keys, asked for
  // beside the enrollment (POST /v1/web/surveys writes nothing), so that the first question does
  // not wait for the enrollment, which completes behind it.
  const earlySurveys = !storedDevice && mode === 'embed'
    ? send(server, JSON.parse(mod.syncRequest('web_surveys', '', '')))
      .then(([status, body]) => (status === 200 ? JSON.parse(text(body)) : null))
      .catch(() => null)
    : null;
  // A device to enroll (embed: the public web channel; kiosk: a code in the URL): the request
  // needs only the core, not the UI, so it goes out now and its round trip overlaps the UI's
  // start-up (font atlas, WebGL, first frames), which keeps the main thread busy on a tablet.
  let earlyEnrollment = null;
  if (earlySurveys) {
    earlyEnrollment = requestEnrollment(mod, server, undefined);
  } else if (!storedDevice && options.enrollCode) {
    earlyEnrollment = requestEnrollment(mod, server, options.enrollCode);
  }
  earlyEnrollment?.catch(() => {});  // awaited below, where a failure is reported

  let unmounted = false;
  let device = null;
  let lastSync = 0;
  let lastEntry = null;
  let pendingCount = 0;
  const picker = { seed: randomU64(), draws: '0', visits: '0', ...(storedPicker || {}) };
  // The survey in progress in this tab, so that a reload mid-survey resumes it (sessionStorage:
  // per tab, survives reloads). Cleared once the offer's record is in the log.
  const resumeKey = `canvass:resume:${server}:${surveyId}`;
  const resumeStore = {
    get: () => { try { return JSON.parse(sessionStorage.getItem(resumeKey) || 'null'); } catch { return null; } },
    set: (v) => { try { sessionStorage.setItem(resumeKey, JSON.stringify(v)); } catch { /* no storage */ } },
    clear: () => { try { sessionStorage.removeItem(resumeKey); } catch { /* no storage */ } },
  };

  const rect = () => canvas.getBoundingClientRect();
  // prefers-contrast: more draws with the high-contrast palette, and follows the setting live.
  const contrastQuery = matchMedia('(prefers-contrast: more)');
  const onContrast = (e) => mod.setHighContrast(e.matches);
  const languages = [...(options.lang ? [options.lang] : []), ...(navigator.languages || [])]
    .map((l) => l.slice(0, 2).toLowerCase());
  const [w, h] = cssSize(wrap);
  const config = {
    mode, languages, width: w, height: h, dpr: window.devicePixelRatio || 1,
    idle_seconds: options.idleSeconds ?? 60, thanks_seconds: options.thanksSeconds ?? 5,
    pin: String(options.pin ?? '1234'), tags: options.tags || {},
    seed: picker.seed, rotation_draws: picker.draws, sampler_visits: picker.visits,
    last_response_ms: lastResponse ? String(lastResponse) : '', force: !!options.force,
    high_contrast: contrastQuery.matches,
  };
  mark('webgl-start');
  const startError = withoutGlfwKeyListeners(() =>
    mod.start(JSON.stringify(config), font ? new Uint8Array(font) : new Uint8Array(0)));
  mark('webgl');
  measure('webgl', 'webgl-start', 'webgl');
  if (startError) {
    wrap.remove();
    throw new Error(startError);
  }
  // A turn of the event loop between the UI's start and its first frame: two shorter tasks
  // rather than one long one on the host page's main thread.
  await new Promise((resolve) => { setTimeout(resolve, 0); });

  contrastQuery.addEventListener?.('change', onContrast);
  // Sizing and pointer input (mouse, touch, pen): the shared canvas glue.
  const disconnect = connectCanvas(mod, wrap, canvas, {
    onDown: () => {
      if (document.activeElement?.classList?.contains('canvass-input')) document.activeElement.blur();
    },
  });

  // Keyboard: the canvas takes the focus (Tab from the page, or a click); Tab, arrows, Enter,
  // Space, digits and Escape move between and press the items (wasm/widget/keyboard.h). Keys the
  // widget does not use, and Tab past its last item, stay with the page.
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'application');
  canvas.setAttribute('aria-label', options.ariaLabel || 'Survey');
  const onKey = (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (mod.key(e.key, e.shiftKey)) e.preventDefault();
  };
  canvas.addEventListener('keydown', onKey);

  // Text fields: real <input>/<textarea> elements laid over the fields the UI draws.
  const stopMirror = mirrorTextFields(mod, wrap, {
    className: 'canvass-input',
    inputType: (key) => ({ 'contact.phone': 'tel', 'contact.email': 'email' })[key],
  });
  // Assistive technology: the UI's semantics tree as DOM elements over the canvas (semantics.js).
  const stopSemantics = mirrorSemantics(mod, wrap);

  const updateStatus = async () => {
    pendingCount = await log.pending();
    mod.setStatus(pendingCount, lastSync, navigator.onLine, log.persistent);
  };

  // ---- Enrollment and survey bundles.
  const useDevice = (d) => {
    const err = mod.setDevice(d.seed, d.device_id, d.org_sign_key, d.org_box_key,
      d.location || '', d.channel || '');
    if (err) throw new Error(err);
    device = d;
  };

  // `pending`: the answer of a request already sent (requestEnrollment), else one is sent now.
  const enroll = async (code, pending) => {
    const { seed, publicKey, answer } = await (pending ?? requestEnrollment(mod, server, code));
    const bad = mod.checkEnrollment(answer[0], answer[1], publicKey);
    if (bad) throw new Error(bad);
    const j = JSON.parse(text(answer[1]));
    // Seed stored raw: libsodium signs in wasm, so a non-extractable WebCrypto key cannot be used
    // (docs/widget.md, known limitations). Another tab may have enrolled first: keep its device.
    const stored = await log.setMetaOnce('device', {
      device_id: j.device_id, seed, org_sign_key: j.org_sign_key, org_box_key: j.org_box_key,
      certificate: j.certificate, location: j.location, channel: j.channel,
    });
    useDevice(stored);
    // The enrollment answer carries the location's bundles: no second round trip before the
    // first question.
    await acceptBundles(j.bundles).catch((err) => emit('error', err));
  };

  const refusedBundles = [];
  const loadCachedBundles = (cached) => {
    for (const hex of Object.values(cached || {})) mod.loadBundle(hex);
  };
  // Verifies and parses each bundle in wasm; the good ones are cached, a refused one leaves the
  // last good one in use.
  const acceptBundles = async (bundles) => {
    const fresh = {};
    for (const b of bundles || []) {
      const r = JSON.parse(mod.loadBundle(b.bundle));
      if (r.ok) {
        fresh[r.survey_id] = b.bundle;
      } else {
        // Refused: the last good bundle (if any) stays in use.
        const err = new Error(`survey bundle '${b.survey_id}' refused: ${r.error}`);
        refusedBundles.push(err.message);
        emit('error', err);
      }
    }
    // Cached behind, not waited for: the bundles are in use already (an IndexedDB read here would
    // wait behind the first frame's long task), and IndexedDB orders later reads after the write.
    log.getMeta('bundles').then((good) => log.setMeta('bundles', { ...(good || {}), ...fresh }))
      .catch((err) => emit('error', err));
  };
  // Runs one plan of the core's sync client on `lane` (0: push, 1: surveys) to its end;
  // `keep(step, body)` takes what the last answer brought. Rejects on a refusal, or with `retry`
  // and the client's delay.
  const run = async (lane, plan, keep) => {
    mod.syncBegin(lane, plan);
    let answer = [-1, ''];
    for (;;) {
      const entries = answer[0] < 0 && lane === 0
        ? (await log.unsynced(mod.syncBatch)).map((e) => `${e.seq} ${e.hash} ${e.envelope}`).join(' ')
        : '';
      const a = JSON.parse(mod.syncNext(lane, answer[0], answer[1], entries));
      const body = answer[1];
      answer = [-1, ''];
      if (a.step === 'send') answer = await send(server, a);
      else if (a.step === 'done') return;
      else if (a.step === 'retry' || a.step === 'refused') {
        throw Object.assign(new Error(a.message), { retry: a.step === 'retry', delay: a.delay_ms });
      } else await keep(a, body);
    }
  };
  const refreshBundles = () => run(1, 'surveys', (a, body) => acceptBundles(JSON.parse(text(body)).bundles));
  const select = () => {
    const err = mod.selectSurvey(surveyId);
    if (err) {
      mod.setError(refusedBundles.length ? refusedBundles.join('\n') : err);
      return false;
    }
    return true;
  };

  // ---- Sync: the core's client pushes the unsynced records and verifies each receipt; the log
  // drops what a receipt covers.
  let syncing = null;
  let retryTimer = 0;
  const pushOnce = async () => {
    if (!device) throw new Error('the device is not enrolled');
    let receipt = null;
    await run(0, 'push', async (a) => {
      await log.drop(a.last_seq, a.head_hash);
      receipt = { last_seq: a.last_seq, head_hash: a.head_hash };
    });
    if (!receipt) {
      const acked = await log.getMeta('acked');
      receipt = { last_seq: acked?.seq ?? 0, head_hash: acked?.hash ?? ZERO_HASH };
    }
    lastSync = Date.now();
    return receipt;
  };
  const sync = () => {
    if (!syncing) {
      syncing = pushOnce().then((receipt) => {
        mod.setScreenMessage('');
        emit('sync', receipt);
        return receipt;
      }, (e) => {
        mod.setScreenMessage(e.message);
        throw e;
      }).finally(() => {
        syncing = null;
        updateStatus();
      });
    }
    return syncing;
  };
  // Background sync: on network and server trouble, again after the core's back-off.
  const autoSync = () => {
    clearTimeout(retryTimer);
    if (unmounted || !device) return;
    sync().catch((e) => {
      emit('error', e);
      if (e.retry && !unmounted) retryTimer = setTimeout(autoSync, e.delay);
    });
  };
  const onOnline = () => {
    updateStatus();
    autoSync();
    if (device) refreshBundles().catch((e) => emit('error', e));
  };
  const onOffline = () => updateStatus();
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);

  // ---- Events from the wasm widget.
  const onEvent = async (json) => {
    const e = JSON.parse(json);
    switch (e.type) {
      case 'offer':
        picker.draws = e.rotation_draws;
        log.setMeta(`picker:${surveyId}`, { ...picker }).catch(() => {});
        break;
      case 'progress':
        resumeStore.set({ line: e.line, question: e.question, at: Date.now() });
        break;
      case 'sampled':
        picker.visits = e.sampler_visits;
        log.setMeta(`picker:${surveyId}`, { ...picker }).catch(() => {});
        break;
      case 'record':
        // Written before the thank-you screen: the widget shows it only after recordSaved(true).
        try {
          // Answered before the enrollment completed: the record is signed by the enrolled device.
          if (enrolling) await enrolling;
          lastEntry = await log.append((head) => {
            const r = JSON.parse(mod.signPending(head.seq, head.hash));
            if (!r.ok) throw new Error(r.error);
            return { seq: r.seq, hash: r.hash, envelope: r.envelope };
          });
          resumeStore.clear();
          mod.recordSaved(true, '');
        } catch (err) {
          mod.recordSaved(false, `the answer could not be saved on this device: ${err.message}`);
          emit('error', err);
        }
        updateStatus();
        autoSync();
        break;
      case 'complete':
        // For the survey's cap_days: when this browser last answered or closed it.
        if (mode === 'embed') log.setMeta(`last:${surveyId}`, Date.now()).catch(() => {});
        emit('complete', { outcome: e.outcome, seq: lastEntry?.seq ?? null, survey: surveyId });
        break;
      case 'closed':
        emit('close', { outcome: JSON.parse(mod.state()).outcome });
        break;
      case 'enroll':
        try {
          await enroll(e.code);
          select();
          updateStatus();
        } catch (err) {
          mod.setScreenMessage(err.message);
          emit('error', err);
        }
        break;
      case 'sync_request':
        autoSync();
        break;
      case 'exit':
        emit('exit', {});
        break;
      case 'error':
        emit('error', new Error(e.message));
        break;
      default:
        break;
    }
  };
  mod.setEventSink((json) => { onEvent(json); });

  // ---- Start-up: device, bundles, survey.
  if (log.refusal) emit('error', new Error(log.refusal));
  let enrolledNow = false;
  let enrolling = null;  // the enrollment completing behind the first question
  if (storedDevice) {
    useDevice(storedDevice);
  } else if (mode === 'embed') {
    const early = await earlySurveys;
    if (early && !mod.setOrganisation(early.org_sign_key || '', early.org_box_key || '',
      early.location || '', early.channel || '')) {
      await acceptBundles(early.bundles);
      enrolling = enroll(undefined, earlyEnrollment).then(() => {
        // Bundles verified with one key, the device enrolled under another: not this server's.
        if (device.org_sign_key !== early.org_sign_key) throw new Error('the organisation key changed during enrollment');
      });
      enrolling.catch((err) => { mod.setScreenMessage(err.message); emit('error', err); });
    } else {
      await enroll(undefined, earlyEnrollment);
    }
    enrolledNow = true;
  } else if (options.enrollCode) {
    await enroll(options.enrollCode, earlyEnrollment);
    enrolledNow = true;
  }
  let revalidate = false;  // the cached bundles are in use: refresh them once the question is up
  if (device || enrolling) {
    if (!enrolledNow) loadCachedBundles(storedBundles);
    // Just enrolled: the answer's bundles are as fresh as they come. Otherwise the cached survey
    // is shown at once and refreshed behind it (stale-while-revalidate); the network is waited
    // for only when nothing usable is cached.
    if (!enrolledNow && mod.selectSurvey(surveyId)) {
      await refreshBundles().catch((err) => emit('error', err));
    } else if (!enrolledNow) {
      revalidate = true;
    }
    select();
    let resumed = false;
    const saved = resumeStore.get();
    if (saved && JSON.parse(mod.state()).screen !== 'error') {
      // Resumed where the customer was; if they must have left meanwhile (kiosk: longer than the
      // idle timeout; website: 30 minutes), the offer is recorded as abandoned instead.
      const age = Date.now() - saved.at;
      const abandon = age > (mode === 'kiosk' ? config.idle_seconds * 1000 : 30 * 60 * 1000);
      resumed = mod.resume(saved.line, saved.question || '', abandon);
      if (!resumed) resumeStore.clear();
    }
    if (mode === 'embed' && !resumed && JSON.parse(mod.state()).screen !== 'error') mod.begin();
  }
  mark('survey-ready');
  measure('survey-ready', 'mount', 'survey-ready');
  // The first screen is drawn in this task rather than at the next animation frame (or, with an
  // idle frame loop, up to half a second later); the browser shows it at its next paint.
  mod.drawNow();
  mark('first-question');
  measure('first-question', 'survey-ready', 'first-question');
  measure('first-question-total', undefined, 'first-question');
  // Only now the network: the cached survey's refresh and the sync of what the log holds.
  if (revalidate) refreshBundles().catch((err) => emit('error', err));
  // The handle comes with the enrolled device (its id is in state()); the question is up already.
  if (enrolling) await enrolling;
  await updateStatus();
  autoSync();
  const bundleTimer = setInterval(() => {
    if (device && navigator.onLine) refreshBundles().catch((err) => emit('error', err));
  }, 10 * 60 * 1000);

  const handle = {
    // {screen, question, outcome, language, survey, device_id, error, ...}
    state: () => ({ ...JSON.parse(mod.state()), pending: pendingCount, persistent: log.persistent,
      persisted: log.persisted }),
    pending: async () => { await updateStatus(); return pendingCount; },
    sync: () => sync(),
    // Clickable items of the last frame, in CSS pixels relative to the viewport.
    items: () => {
      const r = rect();
      return JSON.parse(mod.items()).map((it) => ({ ...it, x: it.x + r.left, y: it.y + r.top }));
    },
    on: (type, fn) => {
      if (!listeners[type]) throw new Error(`Canvass: no event '${type}'`);
      listeners[type].push(fn);
      return handle;
    },
    close: () => mod.close(),
    unmount: () => {
      if (unmounted) return;
      unmounted = true;
      stopSemantics();
      contrastQuery.removeEventListener?.('change', onContrast);
      stopMirror();
      clearTimeout(retryTimer);
      clearInterval(bundleTimer);
      disconnect();
      canvas.removeEventListener('keydown', onKey);
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
      mod.stop();
      log.close();
      wrap.remove();
    },
  };
  return handle;
}
