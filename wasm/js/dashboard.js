// Canvass dashboard: the browser glue around the wasm module (canvass-dashboard.js/.wasm).
//
// What lives here is only what the browser owns: the canvas and its input (canvas.js), and the
// admin API calls — the survey list and each survey's statistics cube (GET /v1/admin/stats),
// whose bytes go to wasm untouched. Every figure is computed and drawn in wasm by the shared
// metrics engine; this file never does arithmetic on a statistic. docs/dashboard.md.
//
//   import { mount } from './dashboard.js';
//   const handle = await mount(element, { server, token, lang, onLogout });
//   handle.figures()  // {ready, filter, report_query, nps: {value, lo, hi, n, ...}, ...}
//   handle.items()    // [{id, x, y, w, h}] in CSS pixels of the viewport

import createCanvassDashboard from './canvass-dashboard.js';
import { addCanvas, connectCanvas, cssSize, withoutGlfwKeyListeners } from './canvas.js';

const base = new URL('.', import.meta.url);

let styleAdded = false;
function addStyle() {
  if (styleAdded) return;
  styleAdded = true;
  const s = document.createElement('style');
  // !important: Emscripten resets the canvas's inline size when the GLFW window is resized.
  s.textContent = '.canvass-dashboard{position:relative;width:100%;height:100%;overflow:hidden}' +
    '.canvass-dashboard-canvas{position:absolute;left:0;top:0;width:100%!important;' +
    'height:100%!important;display:block;touch-action:none;outline:none}';
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

  const api = async (path) => {
    const res = await fetch(server + path, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 401) throw new Unauthenticated('the session has ended; log in again');
    if (!res.ok) {
      const j = await res.json().catch(() => ({}));
      throw new Error(`${path}: ${res.status} ${j.message || res.statusText}`);
    }
    return res;
  };
  const timings = { started: performance.now() };
  const [mod, font, surveys] = await Promise.all([
    createCanvassDashboard({ canvas, locateFile: (f) => new URL(f, base).href }),
    fetch(new URL('font.ttf', base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null),
    api('/v1/admin/surveys').then((r) => r.json()),
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
  const disconnect = connectCanvas(mod, wrap, canvas, { wheel: true });

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
  mod.setEventSink((json) => {
    const e = JSON.parse(json);
    if (e.type === 'need_cube') loadCube(e.survey).catch(fail);
    if (e.type === 'logout') options.onLogout?.('');
  });
  const first = options.survey && ids.includes(options.survey) ? options.survey : ids[0];
  if (first) await loadCube(first);
  timings.ready_ms = performance.now() - timings.started;

  let unmounted = false;
  const handle = {
    // The figures shown for the current filter (numbers as the report's JSON prints them).
    figures: () => JSON.parse(mod.figures()),
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
      disconnect();
      mod.stop();
      wrap.remove();
    },
  };
  return handle;
}
