// ?server=https://feedback.example.com loads the loader from another origin, as a real website
// would; ?corner=0 leaves the corner panel out; ?lang= and ?survey= as the names say.
const params = new URLSearchParams(location.search);
const server = params.get('server');
const loader = document.createElement('script');
loader.src = server ? `${server.replace(/\/+$/, '')}/canvass.js` : 'canvass.js';
loader.onload = () => {
  window.inline = Canvass.mount(document.getElementById('inline'), {
    survey: params.get('survey') || 'website-nps', mode: 'embed',
    lang: params.get('lang') || undefined,
    force: true,  // a demo: always ask (the corner panel follows the survey's sampling)
  });
  if (params.get('corner') !== '0') {
    setTimeout(() => Canvass.show({ survey: 'website-nps', capDays: 30 }), 3000);
  }
  document.getElementById('again').onclick = () => Canvass.show({ survey: 'website-nps', force: true });
};
document.head.appendChild(loader);
