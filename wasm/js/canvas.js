// The page side of the wasm host that the widget and the dashboard share (wasm/host/): a canvas
// inside the host element, the GLFW window kept at the element's size in device pixels, and
// pointer (and wheel) input forwarded in CSS pixels relative to the canvas. The module must export
// resize(w, h, dpr), pointer(kind, x, y, touch) and, for wheel input, wheel(dx, dy).

// Emscripten's GLFW listens for keys on `window` and calls preventDefault on Backspace and Tab
// for the whole page, which would break the host page's own forms (and mirrored inputs). Our
// modules take no keys through GLFW, so its key and blur listeners are not installed.
export function withoutGlfwKeyListeners(fn) {
  const original = window.addEventListener;
  window.addEventListener = function (type, listener, options) {
    if (/^key|^blur$/.test(type)) return undefined;
    return original.call(this, type, listener, options);
  };
  try {
    return fn();
  } finally {
    window.addEventListener = original;
  }
}

// <div class="{wrapClass}"><canvas class="{canvasClass}"></canvas></div> appended to `element`.
export function addCanvas(element, wrapClass, canvasClass) {
  const wrap = document.createElement('div');
  wrap.className = wrapClass;
  const canvas = document.createElement('canvas');
  canvas.className = canvasClass;
  canvas.id = `canvass-canvas-${Math.random().toString(36).slice(2)}`;
  wrap.appendChild(canvas);
  element.appendChild(wrap);
  return { wrap, canvas };
}

// The element's CSS size, at least 1 x 1.
export function cssSize(wrap) {
  const r = wrap.getBoundingClientRect();
  return [Math.max(1, r.width), Math.max(1, r.height)];
}

// Forwards size changes and input to `mod`; returns a function that stops it.
export function connectCanvas(mod, wrap, canvas, { wheel = false, onDown } = {}) {
  const onResize = () => {
    const [w, h] = cssSize(wrap);
    mod.resize(w, h, window.devicePixelRatio || 1);
  };
  const observer = new ResizeObserver(onResize);
  observer.observe(wrap);
  const dprQuery = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  dprQuery.addEventListener?.('change', onResize);

  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  const handlers = {
    pointerdown: (e) => {
      canvas.setPointerCapture?.(e.pointerId);
      onDown?.(e);
      mod.pointer(1, ...at(e), e.pointerType !== 'mouse');
      e.preventDefault();
    },
    pointermove: (e) => mod.pointer(0, ...at(e), e.pointerType !== 'mouse'),
    pointerup: (e) => mod.pointer(2, ...at(e), e.pointerType !== 'mouse'),
    pointercancel: () => mod.pointer(2, -1e6, -1e6, true),  // a cancelled touch is no click
    pointerleave: (e) => { if (e.pointerType === 'mouse') mod.pointer(3, 0, 0, false); },
  };
  if (wheel) {
    handlers.wheel = (e) => {
      // In lines, as ImGui counts wheel steps: pixels / 40, pages as 10 lines.
      const unit = e.deltaMode === 1 ? 1 : e.deltaMode === 2 ? 10 : 1 / 40;
      mod.wheel(e.deltaX * unit, e.deltaY * unit);
      e.preventDefault();
    };
  }
  for (const [type, fn] of Object.entries(handlers)) {
    canvas.addEventListener(type, fn, type === 'wheel' ? { passive: false } : undefined);
  }
  return () => {
    observer.disconnect();
    dprQuery.removeEventListener?.('change', onResize);
    for (const [type, fn] of Object.entries(handlers)) canvas.removeEventListener(type, fn);
  };
}

// Real <input> (or <textarea>) elements laid over the text fields a module's UI draws, kept in
// step every animation frame: on-screen keyboards, IMEs, paste and autofill need real ones. The
// module must export textFields() — a JSON list of {key, x, y, w, h, multiline, font_px,
// placeholder, value} in CSS pixels relative to the canvas, for the fields of its last frame —
// and setText(key, value), called on every edit. A field that leaves the frame loses its element.
// `inputType(key)` may name an input type ('tel', 'email'). Returns a function that stops it.
export function mirrorTextFields(mod, wrap, { className, inputType } = {}) {
  const inputs = new Map();
  const sync = () => {
    const fields = JSON.parse(mod.textFields());
    const seen = new Set();
    for (const f of fields) {
      seen.add(f.key);
      let el = inputs.get(f.key);
      if (!el) {
        el = document.createElement(f.multiline ? 'textarea' : 'input');
        el.className = className;
        el.dataset.canvassField = f.key;
        const type = inputType?.(f.key);
        if (type) el.type = type;
        el.addEventListener('input', () => mod.setText(f.key, el.value));
        el.value = f.value;
        wrap.appendChild(el);
        inputs.set(f.key, el);
      }
      Object.assign(el.style, {
        left: `${f.x}px`, top: `${f.y}px`, width: `${f.w}px`, height: `${f.h}px`,
        fontSize: `${Math.round(f.font_px)}px`,
      });
      el.placeholder = f.placeholder;
      if (document.activeElement !== el && el.value !== f.value) el.value = f.value;
    }
    for (const [key, el] of inputs) {
      if (!seen.has(key)) {
        el.remove();
        inputs.delete(key);
      }
    }
  };
  let raf = 0;
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    sync();
    raf = requestAnimationFrame(loop);
  };
  raf = requestAnimationFrame(loop);
  return () => {
    stopped = true;
    cancelAnimationFrame(raf);
    for (const el of inputs.values()) el.remove();
    inputs.clear();
  };
}
