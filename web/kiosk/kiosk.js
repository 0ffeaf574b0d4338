// Kiosk: full screen, one survey, enrollment by code from the staff screen.
// URL parameters: survey (default restaurant), lang, pin, idle (seconds), code (enrollment code).
const params = new URLSearchParams(location.search);
const note = document.getElementById('note');
if ('serviceWorker' in navigator && params.get('sw') !== '0') {
  navigator.serviceWorker.register('sw.js').catch((e) => { note.textContent = 'offline cache: ' + e.message; });
}
window.kiosk = Canvass.mount(document.getElementById('app'), {
  server: location.origin,
  survey: params.get('survey') || 'restaurant',
  mode: 'kiosk',
  lang: params.get('lang') || undefined,
  pin: params.get('pin') || undefined,
  idleSeconds: params.get('idle') ? Number(params.get('idle')) : undefined,
  enrollCode: params.get('code') || undefined,
  tags: { channel: 'kiosk' },
}).then((handle) => {
  handle.on('error', (e) => console.warn('canvass:', e.message));
  handle.on('exit', () => { if (document.fullscreenElement) document.exitFullscreen(); });
  // Full screen needs a user gesture: the first tap asks for it.
  document.addEventListener('pointerdown', () => {
    if (!document.fullscreenElement && params.get('fullscreen') !== '0') {
      document.documentElement.requestFullscreen?.().catch(() => {});
    }
  }, { once: true });
  return handle;
}, (e) => { note.textContent = e.message; throw e; });
