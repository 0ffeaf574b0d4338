// Canvass embed loader: the one <script> a website adds. It is small on purpose and loads the
// widget (wasm, font, glue) only when a survey is actually shown.
//
//   <script src="https://feedback.example.com/canvass.js" async
//           data-survey="website-nps" data-after="20" data-path="/checkout" data-cap-days="30"></script>
// or from code: Canvass.mount(element, {server, survey, mode, lang}) -> Promise<handle>
//               Canvass.show({survey, ...}) -> a corner panel (what the data- attributes do)
(function () {
  'use strict';
  var script = document.currentScript;
  var origin = script ? new URL(script.src, location.href) : new URL(location.href);
  // The widget's files: the build names their content-hashed folder here (wasm/version_site.cmake),
  // which the server lets browsers cache for a year; this loader itself is cached for minutes.
  var dir = 'canvass/';  // canvass:dir
  var widgetUrl = new URL(dir + 'widget.js', origin).href;
  var loading, compiling;
  // Start-up phases on the page's performance timeline (docs/widget.md, Start-up phases).
  function mark(name) { try { performance.mark('canvass:' + name); } catch (e) { /* old browser */ } }
  mark('loader');

  // Everything the widget needs is asked for at once rather than one file after another (glue,
  // modules, font): the browser's preload cache hands it to the widget's own requests.
  function preload() {
    var files = [['modulepreload', 'widget.js'], ['modulepreload', 'canvas.js'],
      ['modulepreload', 'semantics.js'], ['modulepreload', 'canvass-widget.js'], ['preload', 'font.ttf']];
    files.forEach(function (f) {
      var link = document.createElement('link');
      link.rel = f[0];
      link.href = new URL(dir + f[1], origin).href;
      if (f[0] === 'preload') { link.as = 'fetch'; link.crossOrigin = 'anonymous'; }
      document.head.appendChild(link);
    });
  }

  // The wasm is compiled while it downloads and while the glue loads, rather than after: the
  // widget instantiates this module (or fetches its own if compiling here failed, e.g. under a
  // page's Content-Security-Policy without 'wasm-unsafe-eval').
  function compile() {
    if (typeof WebAssembly !== 'object' || !WebAssembly.compileStreaming) return null;
    mark('wasm-start');
    var p = WebAssembly.compileStreaming(fetch(new URL(dir + 'canvass-widget.wasm', origin).href,
      { credentials: 'omit' }));
    p.catch(function () { /* the widget falls back to its own fetch */ });
    return p;
  }

  function load() {
    if (!loading) {
      mark('glue-start');
      preload();
      compiling = compile();
      loading = import(widgetUrl);
    }
    return loading;
  }

  function mount(element, options) {
    options = Object.assign({ server: origin.origin }, options || {});
    return load().then(function (m) { return m.mount(element, options, compiling); });
  }

  // Frequency cap: not again for capDays after the visitor answered or closed the survey.
  function capKey(survey) { return 'canvass:last:' + survey; }
  function capped(survey, days) {
    if (!days) return false;
    var last = Number(localStorage.getItem(capKey(survey)) || 0);
    return Date.now() - last < days * 86400000;
  }

  function show(options) {
    options = Object.assign({ mode: 'embed' }, options);
    var survey = options.survey;
    try { if (capped(survey, options.capDays)) return Promise.resolve(null); } catch (e) { /* no storage */ }
    var panel = document.createElement('div');
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', 'Survey');
    panel.style.cssText = 'position:fixed;right:16px;bottom:16px;z-index:2147483000;' +
      'width:min(440px,calc(100vw - 32px));height:min(520px,calc(100vh - 32px));' +
      'background:#fafaf7;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.25);overflow:hidden';
    document.body.appendChild(panel);
    var remember = function () {
      try { localStorage.setItem(capKey(survey), String(Date.now())); } catch (e) { /* no storage */ }
    };
    return mount(panel, options).then(function (handle) {
      var st = handle.state();
      if (st.screen === 'error' || st.not_offered) {
        if (st.error) console.warn('Canvass: survey not shown: ' + st.error);
        handle.unmount();
        panel.remove();
        return null;
      }
      handle.on('complete', remember);
      handle.on('close', function () { remember(); handle.unmount(); panel.remove(); });
      return handle;
    }, function (e) {
      console.warn('Canvass: ' + e.message);
      panel.remove();
      return null;
    });
  }

  function auto() {
    if (!script || !script.dataset.survey) return;
    var d = script.dataset;
    if (d.path && location.pathname.indexOf(d.path) !== 0) return;
    var opts = { survey: d.survey, server: d.server || origin.origin, lang: d.lang,
      capDays: Number(d.capDays || 0) };
    setTimeout(function () { show(opts); }, Number(d.after || 0) * 1000);
  }

  window.Canvass = { mount: mount, show: show, load: load };
  auto();
})();
