// The dashboard of owners, managers and staff: a user logs in with their name and password (the
// owner also with the admin password and no name, or the initial admin token pasted), the
// session token is kept in sessionStorage (this tab only, gone when it closes), and the wasm
// dashboard draws everything from the statistics cubes and the follow-up cases the server lets
// that user see (docs/dashboard.md).
// URL parameters: lang (en, ru, uk), survey (the one to show first).
import { mount } from '../canvass/dashboard.js';

const TEXT = {
  en: { title: 'Canvass dashboard', intro: 'Customer feedback: indices, trends, groups and follow-up.',
    user: 'User name (leave empty for the admin password)', password: 'Password', or: 'or',
    token: 'Admin token (the initial one, from the server)',
    enter: 'Open the dashboard', wrong: 'Wrong user name, password or token',
    need: 'Enter the password or the token', expired: 'The session has ended: log in again' },
  ru: { title: 'Панель Canvass', intro: 'Отзывы клиентов: индексы, динамика, группы, обращения.',
    user: 'Имя пользователя (пусто — пароль администратора)', password: 'Пароль', or: 'или',
    token: 'Токен администратора (первый, с сервера)',
    enter: 'Открыть панель', wrong: 'Неверное имя, пароль или токен',
    need: 'Введите пароль или токен', expired: 'Сеанс закончился: войдите снова' },
  uk: { title: 'Панель Canvass', intro: 'Відгуки клієнтів: індекси, динаміка, групи, звернення.',
    user: "Ім'я користувача (порожньо — пароль адміністратора)", password: 'Пароль', or: 'або',
    token: 'Токен адміністратора (перший, із сервера)',
    enter: 'Відкрити панель', wrong: "Невірне ім'я, пароль або токен",
    need: 'Введіть пароль або токен', expired: 'Сеанс завершився: увійдіть знову' },
};
const params = new URLSearchParams(location.search);
// ?lang= first, then the language picked in the dashboard before (kept across reloads), then
// the browser's.
const LANG_KEY = 'canvass:dashboard:lang';
const savedLang = (() => { try { return localStorage.getItem(LANG_KEY); } catch { return null; } })();
const lang = [params.get('lang'), savedLang, ...(navigator.languages || [])]
  .map((l) => (l || '').slice(0, 2).toLowerCase()).find((l) => TEXT[l]) || 'en';
const t = (key) => TEXT[lang][key];
document.documentElement.lang = lang;
for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);

const KEY = 'canvass:dashboard:token';
const form = document.getElementById('login');
const app = document.getElementById('app');
const error = document.getElementById('error');
let handle = null;

const logout = (message) => {
  // "Log out" ends the session on the server too, so that a copy of the token stops working.
  const token = sessionStorage.getItem(KEY);
  if (token && !message) {
    fetch('/v1/admin/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
      .catch(() => {});
  }
  sessionStorage.removeItem(KEY);
  handle?.unmount();
  handle = null;
  window.canvassDashboard = undefined;
  app.style.display = 'none';
  form.style.display = '';
  error.textContent = message ? t('expired') : '';
};

const open = async (token) => {
  form.style.display = 'none';
  app.style.display = 'block';
  try {
    handle = await mount(app, {
      server: location.origin, token, lang, survey: params.get('survey') || undefined,
      onLogout: logout,
      onLanguage: (picked) => { try { localStorage.setItem(LANG_KEY, picked); } catch { /* private mode */ } },
      onError: (e) => console.warn('canvass dashboard:', e.message),
    });
    window.canvassDashboard = handle;  // the test hook: figures(), cases(), items()
  } catch (e) {
    logout('');
    error.textContent = e.message;
  }
};

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  error.textContent = '';
  const user = document.getElementById('user').value.trim();
  const password = document.getElementById('password').value;
  let token = document.getElementById('token').value.trim();
  if (!password && !token) { error.textContent = t('need'); return; }
  if (password) {
    // With a name: that user's password; without: the admin password (the owner).
    const res = await fetch('/v1/admin/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(user ? { user, password } : { password }),
    });
    const j = await res.json().catch(() => ({}));
    if (!res.ok) { error.textContent = j.message || t('wrong'); return; }
    token = j.token;
  } else {
    const res = await fetch('/v1/admin/me', { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) { error.textContent = t('wrong'); return; }
  }
  document.getElementById('password').value = '';
  document.getElementById('token').value = '';
  sessionStorage.setItem(KEY, token);
  open(token);
});

const saved = sessionStorage.getItem(KEY);
if (saved) open(saved);
