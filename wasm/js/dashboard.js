// Canvass dashboard: the browser glue around the wasm module (canvass-dashboard.js/.wasm).
//
// What lives here is only what the browser owns: the canvas and its input (canvas.js), the note
// field's <input> (canvas.js, mirrorTextFields), and the admin API calls — the survey list, each
// survey's statistics cube (GET /v1/admin/stats), whose bytes go to wasm untouched, and the
// follow-up cases (list, one case, its changes), whose answers go to wasm as they came. Every
// figure is computed and drawn in wasm by the shared metrics engine, and every rule of the cases
// (the next state, what is overdue) comes from the server's answers: this file never does
// arithmetic on a statistic and never decides a case. It keeps no case: the answer of GET of one
// case (with the customer's contact details) is handed to wasm and dropped. docs/dashboard.md.
//
//   import { mount } from './dashboard.js';
//   const handle = await mount(element, { server, token, lang, onLogout });
//   handle.figures()  // {ready, filter, report_query, nps: {value, lo, hi, n, ...}, ...}
//   handle.cases()    // {loaded, me, role, list: [...], selected, open: {..., contact}, ...}
//   handle.items()    // [{id, x, y, w, h}] in CSS pixels of the viewport

import createCanvassDashboard from './canvass-dashboard.js';
import {
  addCanvas, connectCanvas, cssSize, mirrorTextFields, withoutGlfwKeyListeners,
} from './canvas.js';
import { mirrorSemantics } from './semantics.js';

const base = new URL('.', import.meta.url);

let styleAdded = false;
function addStyle() {
  if (styleAdded) return;
  styleAdded = true;
  const s = document.createElement('style');
  // !important: Emscripten resets the canvas's inline size when the GLFW window is resized.
  s.textContent = '.canvass-dashboard{position:relative;width:100%;height:100%;overflow:hidden}' +
    '.canvass-dashboard-canvas{position:absolute;left:0;top:0;width:100%!important;' +
    'height:100%!important;display:block;touch-action:none;outline:none}' +
    '.canvass-dashboard-input{position:absolute;box-sizing:border-box;border:0;' +
    'background:transparent;padding:0 12px;margin:0;color:#1f2933;' +
    'font-family:system-ui,sans-serif;outline:none}';
  document.head.appendChild(s);
}

export class Unauthenticated extends Error {}

export async function mount(element, options = {}) {
  if (!element) throw new Error('dashboard: no element to mount into');
  const server = (options.server || location.origin).replace(/\/+$/, '');
  const token = options.token;
  if (!token) throw new Error('dashboard: options.token (an admin session token) is required');
  addStyle();
  const { wrap, canvas } = addCanvas(element, 'canvass-dashboard', 'canvass-dashboard-canvas');

  const api = async (path, { method = 'GET', body } = {}) => {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(server + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) throw new Unauthenticated('the session has ended; log in again');
    if (!res.ok) {
      const j = await res.json().catch(() => ({}));
      throw new Error(`${path}: ${res.status} ${j.message || res.statusText}`);
    }
    return res;
  };
  const timings = { started: performance.now() };
  const [mod, font, surveys, me, categories] = await Promise.all([
    createCanvassDashboard({ canvas, locateFile: (f) => new URL(f, base).href }),
    fetch(new URL('font.ttf', base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null),
    api('/v1/admin/surveys').then((r) => r.json()),
    api('/v1/admin/me').then((r) => r.text()),
    api('/v1/admin/case-categories').then((r) => r.text()),
  ]);
  timings.module_ms = performance.now() - timings.started;

  const languages = [...(options.lang ? [options.lang] : []), ...(navigator.languages || [])];
  const [w, h] = cssSize(wrap);
  const startError = withoutGlfwKeyListeners(() => mod.start(
    JSON.stringify({ width: w, height: h, dpr: window.devicePixelRatio || 1, languages }),
    font ? new Uint8Array(font) : new Uint8Array(0)));
  if (startError) {
    wrap.remove();
    throw new Error(startError);
  }
  const disconnect = connectCanvas(mod, wrap, canvas, {
    wheel: true,
    onDown: () => {
      if (document.activeElement?.classList?.contains('canvass-dashboard-input')) {
        document.activeElement.blur();
      }
    },
  });
  const stopMirror = mirrorTextFields(mod, wrap, { className: 'canvass-dashboard-input' });
  // Assistive technology: cards, filters and the charts' text alternatives as DOM elements.
  const stopSemantics = mirrorSemantics(mod, wrap);
  mod.setMe(me);
  mod.setCategories(categories);

  const ids = [];
  for (const s of surveys.surveys || []) if (!ids.includes(s.survey_id)) ids.push(s.survey_id);
  mod.setSurveys(JSON.stringify(ids));

  const errors = [];
  const fail = (e) => {
    errors.push(e.message);
    if (e instanceof Unauthenticated) options.onLogout?.(e.message);
    else options.onError?.(e);
  };
  const loads = new Map();  // survey -> the last load's figures
  const inflight = new Map();  // survey -> the load under way
  const loadCube = (survey) => {
    if (!inflight.has(survey)) {
      inflight.set(survey, fetchCube(survey).finally(() => inflight.delete(survey)));
    }
    return inflight.get(survey);
  };
  const fetchCube = async (survey) => {
    const t0 = performance.now();
    const res = await api(`/v1/admin/stats?survey=${encodeURIComponent(survey)}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const t1 = performance.now();
    const r = JSON.parse(mod.loadCube(bytes));
    if (!r.ok) throw new Error(`statistics of '${survey}' refused: ${r.error}`);
    const figures = JSON.parse(mod.figures());  // computed now, in wasm
    const t2 = performance.now();
    const load = { survey, bytes: bytes.length, cells: r.cells, offers: r.offers,
      fetch_ms: t1 - t0, decode_ms: r.decode_ms, compute_ms: figures.compute_ms,
      load_and_compute_ms: t2 - t0 };
    loads.set(survey, load);
    return load;
  };
  // ---- Follow-up cases: wasm asks (open a case, the next state, a note, an assignment), this
  // glue sends it, then hands the case and the list back as the server answers them.
  const utcOffset = () => -new Date().getTimezoneOffset();
  const loadCases = async () => {
    const res = await api('/v1/admin/cases?limit=1000');
    const err = mod.setCases(await res.text(), utcOffset());
    if (err) throw new Error(err);
  };
  const openCase = async (id) => {
    const res = await api(`/v1/admin/cases/${encodeURIComponent(id)}`);
    const err = mod.setCase(await res.text());  // the answer is not kept here
    if (err) throw new Error(err);
  };
  const changeCase = async (e) => {
    const at = `/v1/admin/cases/${encodeURIComponent(e.id)}`;
    if (e.type === 'case_state') {
      const body = { state: e.state };
      if (e.category) body.category = e.category;
      if (e.note) body.note = e.note;
      await api(`${at}/state`, { method: 'POST', body });
    } else if (e.type === 'case_note') {
      await api(`${at}/notes`, { method: 'POST', body: { text: e.text } });
    } else if (e.type === 'case_assign') {
      await api(`${at}/assignee`, { method: 'PUT', body: { assignee: e.assignee } });
    }
    await openCase(e.id);
    await loadCases();
  };
  const caseRequest = (work) => work.then(() => mod.caseDone(true, ''), (err) => {
    mod.caseDone(false, err.message);
    if (err instanceof Unauthenticated) fail(err);
  });
  const listCases = () => loadCases().catch((err) => {
    mod.casesFailed(err.message);
    fail(err);
  });

  mod.setEventSink((json) => {
    const e = JSON.parse(json);
    if (e.type === 'need_cube') loadCube(e.survey).catch(fail);
    if (e.type === 'need_cases') listCases();
    if (e.type === 'open_case') caseRequest(openCase(e.id));
    if (e.type === 'case_state' || e.type === 'case_note' || e.type === 'case_assign') {
      caseRequest(changeCase(e));
    }
    if (e.type === 'logout') options.onLogout?.('');
    if (e.type === 'language') options.onLanguage?.(e.language);
  });
  listCases();
  const first = options.survey && ids.includes(options.survey) ? options.survey : ids[0];
  if (first) await loadCube(first);
  timings.ready_ms = performance.now() - timings.started;

  let unmounted = false;
  const handle = {
    // The figures shown for the current filter (numbers as the report's JSON prints them).
    figures: () => JSON.parse(mod.figures()),
    // The follow-up cases as shown: the list (location filter applied, in the order drawn) and
    // the case open on screen with its contact details.
    cases: () => JSON.parse(mod.cases()),
    refreshCases: () => loadCases(),
    // Clickable items and chart areas of the last frame, in CSS pixels of the viewport.
    items: () => {
      const r = canvas.getBoundingClientRect();
      return JSON.parse(mod.items()).map((it) => ({ ...it, x: it.x + r.left, y: it.y + r.top }));
    },
    // Fetches the statistics of the survey on show again (new records since).
    refresh: () => loadCube(handle.figures().survey),
    loads: () => Object.fromEntries(loads),
    timings: () => ({ ...timings }),
    errors: () => [...errors],
    setLanguage: (lang) => mod.setLanguage(lang),
    unmount: () => {
      if (unmounted) return;
      unmounted = true;
      stopSemantics();
      stopMirror();
      disconnect();
      mod.stop();  // the cases and the contact details on screen go with the module's state
      wrap.remove();
    },
  };
  return handle;
}
