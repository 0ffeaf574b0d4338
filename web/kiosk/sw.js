// Kiosk service worker: keeps the widget, its font and the kiosk page usable offline. Survey
// bundles and unsynced records live in IndexedDB (the widget's device log), not here, so a new
// service worker or widget version never makes them unusable. The API (/v1/) is never cached.
// The widget's files are in the content-hashed folder the build names here (and in the loader,
// wasm/version_site.cmake); a new widget version is a new service worker and a new cache.
const DIR = '../canvass/';  // canvass:dir
const VERSION = 'dev';  // canvass:version
const CACHE = `canvass-kiosk-v5-${VERSION}`;
const ASSETS = ['./', './index.html', './manifest.webmanifest', './icon.svg', './kiosk.js', '../canvass.js',
  ...['widget.js', 'canvas.js', 'semantics.js', 'canvass-widget.js', 'canvass-widget.wasm', 'font.ttf']
    .map((f) => DIR + f)];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('canvass-kiosk-') && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Network first (so a new widget version arrives as soon as it is deployed), cache when offline.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/v1/')) return;
  event.respondWith(fetch(event.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return res;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })
    .then((hit) => hit || Response.error())));
});
