// The page side of the semantics layer (wasm/host/semantics.h), shared by the wasm apps: the tree
// of items the ImGui UI drew in its last frame, mirrored into real DOM elements laid over the
// canvas, in reading order, so that screen readers (and any other assistive technology) can read
// and press what the canvas shows. Browser-only; no survey logic.
//
// The module must export semanticsVersion() (a number that changes whenever the tree does),
// semantics() (the tree as JSON), activate(id) (press item `id` as a pointer would) and
// focusItem(id) (draw the focus ring on item `id`). The DOM is touched only when the version
// changes, never every frame: elements are kept by item id and updated in place.
//
// Roles become: group and radiogroup → <div role=…>; heading → <h2>…; text → <div>; button →
// <button>; radio and checkbox → <button role=radio|checkbox aria-checked>; textfield → the
// <input>/<textarea> that mirrorTextFields (canvas.js) already made for that field, moved into
// place and named; status → the text of an alert region. The tree's `announce` (a new screen) is
// spoken through a polite live region. The mirror's elements are transparent and let the pointer
// through to the canvas; they stay out of the Tab order, which the canvas's own keyboard
// navigation keeps (wasm/widget/keyboard.h), and a mirror element that takes the focus moves the
// canvas's focus ring onto its item.

const HIDDEN = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);' +
  'clip-path:inset(50%);white-space:nowrap;margin:-1px;padding:0;border:0';

let styleAdded = false;
function addStyle() {
  if (styleAdded) return;
  styleAdded = true;
  const s = document.createElement('style');
  s.textContent = '.canvass-sem{position:absolute;left:0;top:0;right:0;bottom:0;pointer-events:none}' +
    '.canvass-sem [data-canvass-field]{pointer-events:auto}' +
    '.canvass-sem-el{position:absolute;box-sizing:border-box;margin:0;padding:0;border:0;' +
    'background:transparent;color:#1f2933;font:14px/1.2 system-ui,sans-serif;overflow:hidden;' +
    'opacity:0;pointer-events:none;white-space:nowrap}' +
    `.canvass-sem-live{${HIDDEN}}`;
  document.head.appendChild(s);
}

const CONTROL = new Set(['button', 'radio', 'checkbox']);

// Mirrors `mod`'s semantics tree into `wrap` (the element around the canvas). Returns a function
// that stops it and removes the mirror.
export function mirrorSemantics(mod, wrap) {
  addStyle();
  const uid = `cs${Math.random().toString(36).slice(2, 8)}`;
  const root = document.createElement('div');
  root.className = 'canvass-sem';
  wrap.appendChild(root);
  const live = document.createElement('div');
  live.className = 'canvass-sem-live';
  live.setAttribute('aria-live', 'polite');
  live.setAttribute('aria-atomic', 'true');
  const alert = document.createElement('div');
  alert.className = 'canvass-sem-live';
  alert.setAttribute('role', 'alert');
  wrap.append(live, alert);

  const domId = (id) => `${uid}-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const els = new Map();  // item id -> {el, key}
  let version = -1;
  let announced = '';
  let alerted = '';

  const make = (it) => {
    let el;
    switch (it.role) {
      case 'group':
      case 'radiogroup':
        el = document.createElement('div');
        el.setAttribute('role', it.role);
        return el;  // a group has no box of its own: its items are placed in the mirror
      case 'heading':
        el = document.createElement(`h${Math.min(6, Math.max(1, it.level || 2))}`);
        el.tabIndex = -1;  // focused when a new screen replaces the focused item
        break;
      case 'button':
      case 'radio':
      case 'checkbox':
        el = document.createElement('button');
        el.type = 'button';
        el.tabIndex = -1;
        if (it.role !== 'button') el.setAttribute('role', it.role);
        break;
      default:
        el = document.createElement('div');
    }
    el.className = 'canvass-sem-el';
    return el;
  };

  const setAttr = (el, name, value) => {
    if (value === undefined || value === null || value === '') {
      if (el.hasAttribute(name)) el.removeAttribute(name);
    } else if (el.getAttribute(name) !== String(value)) {
      el.setAttribute(name, String(value));
    }
  };
  const refs = (ids) => (ids ? ids.split(' ').filter(Boolean).map(domId).join(' ') : '');

  let renders = 0;
  const render = (tree) => {
    root.dataset.renders = String(++renders);  // how often the DOM was updated (tests count it)
    setAttr(root, 'lang', tree.lang);
    const focused = document.activeElement;
    const hadFocus = root.contains(focused) && focused !== root;
    const seen = new Set();
    const children = new Map([[root, []]]);
    const byIndex = [];
    let missingField = false;
    const statuses = [];
    for (const it of tree.items) {
      let el = null;
      if (it.role === 'status') {
        statuses.push(it.name);
        byIndex.push(null);
        continue;
      }
      if (it.role === 'textfield') {
        el = wrap.querySelector(`[data-canvass-field="${CSS.escape(it.id.replace(/^field:/, ''))}"]`);
        if (!el) missingField = true;
      } else {
        const key = `${it.role}|${it.level || 0}`;
        let entry = els.get(it.id);
        if (!entry || entry.key !== key) {
          entry?.el.remove();
          entry = { el: make(it), key };
          els.set(it.id, entry);
          entry.el.dataset.canvassItem = it.id;
          entry.el.id = domId(it.id);
        }
        el = entry.el;
        seen.add(it.id);
        if (it.role !== 'group' && it.role !== 'radiogroup') {
          if (el.textContent !== (it.name || '')) el.textContent = it.name || '';
          Object.assign(el.style, {
            left: `${it.x}px`, top: `${it.y}px`, width: `${Math.max(1, it.w)}px`,
            height: `${Math.max(1, it.h)}px`,
          });
        } else {
          setAttr(el, 'aria-label', it.labelled_by ? '' : it.name);
        }
        setAttr(el, 'aria-pressed', it.pressed === undefined ? '' : it.pressed);
        setAttr(el, 'aria-checked', it.checked === undefined ? '' : it.checked);
        setAttr(el, 'aria-disabled', it.disabled ? 'true' : '');
      }
      byIndex.push(el);
      if (!el) continue;
      if (it.role === 'textfield') {
        setAttr(el, 'aria-label', it.labelled_by ? '' : it.name);
        el.id ||= domId(it.id);
      }
      setAttr(el, 'lang', it.lang);
      setAttr(el, 'aria-labelledby', refs(it.labelled_by));
      setAttr(el, 'aria-describedby', refs(it.described_by));
      setAttr(el, 'aria-invalid', it.error ? 'true' : '');
      const parent = it.parent >= 0 ? byIndex[it.parent] : root;
      const list = children.get(parent || root) ?? [];
      list.push(el);
      children.set(parent || root, list);
    }
    // Items gone from the tree lose their elements (text fields belong to mirrorTextFields).
    for (const [id, entry] of els) {
      if (!seen.has(id)) {
        entry.el.remove();
        els.delete(id);
      }
    }
    // Reading order: each container's children in the tree's order, moving only what is out of
    // place (a moved element would lose the focus; the focused one gets it back).
    for (const [container, list] of children) {
      list.forEach((el, i) => {
        if (container.children[i] === el) return;
        const refocus = document.activeElement === el;
        container.insertBefore(el, container.children[i] ?? null);
        if (refocus) el.focus({ preventScroll: true });
      });
    }
    // The focused item left with its screen: the new screen's heading takes the focus, so that a
    // screen reader user goes on from the top of it rather than from the top of the page.
    if (hadFocus && !focused.isConnected) {
      (root.querySelector('h1,h2,h3,h4,h5,h6') ?? root.querySelector('button'))?.focus({ preventScroll: true });
    }
    if (tree.announce !== announced) {
      announced = tree.announce;
      live.textContent = announced;
    }
    const alertText = statuses.join('\n');
    if (alertText !== alerted) {
      alerted = alertText;
      alert.textContent = alertText;
    }
    if (missingField) version = -1;  // the field's <input> comes on the next animation frame
  };

  const sync = () => {
    const v = mod.semanticsVersion();
    if (v === version || v === 0) return;  // 0: no frame drawn yet
    version = v;
    render(JSON.parse(mod.semantics()));
  };

  // Activation: a click (a screen reader's default action, Enter or Space on the button, or
  // element.click()) presses the item as a pointer would.
  const onClick = (e) => {
    const el = e.target.closest?.('[data-canvass-item]');
    if (!el || !root.contains(el)) return;
    const id = el.dataset.canvassItem;
    const entry = els.get(id);
    if (!entry || !CONTROL.has(entry.el.getAttribute('role') || 'button') ||
        entry.el.tagName !== 'BUTTON') return;
    e.preventDefault();
    mod.activate(id);
  };
  // Arrow keys move between the radios of a group (without choosing: choosing answers at once).
  const onKey = (e) => {
    const el = e.target;
    if (el.getAttribute?.('role') !== 'radio') return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (!step) return;
    const radios = [...el.parentElement.querySelectorAll(':scope > [role=radio]')];
    const next = radios[radios.indexOf(el) + step];
    if (next) next.focus();
    e.preventDefault();
  };
  // The ring on the canvas follows a focused mirror item (text fields show their own caret), and
  // leaves with it, so that the canvas's own Tab order starts afresh.
  const onFocus = (e) => {
    const id = e.target.dataset?.canvassItem;
    if (id !== undefined && els.has(id)) mod.focusItem(id);
  };
  const onBlur = (e) => {
    if (!e.target.dataset?.canvassItem) return;
    if (!e.relatedTarget?.dataset?.canvassItem) mod.focusItem('');
  };
  root.addEventListener('click', onClick);
  root.addEventListener('keydown', onKey);
  root.addEventListener('focusin', onFocus);
  root.addEventListener('focusout', onBlur);

  let raf = 0;
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    raf = requestAnimationFrame(loop);  // first: a failed update must not end the mirror
    sync();
  };
  raf = requestAnimationFrame(loop);
  return () => {
    stopped = true;
    cancelAnimationFrame(raf);
    root.removeEventListener('click', onClick);
    root.removeEventListener('keydown', onKey);
    root.removeEventListener('focusin', onFocus);
    root.removeEventListener('focusout', onBlur);
    // The text fields' inputs go back to the wrap: mirrorTextFields removes them.
    for (const input of root.querySelectorAll('[data-canvass-field]')) wrap.appendChild(input);
    root.remove();
    live.remove();
    alert.remove();
  };
}
