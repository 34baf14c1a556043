// @ts-check
// The sign-in page: a name and password, or an API key, into a session; then back to where
// the user was going (a path of this site only).
import { api, ApiError } from './api.js';

const message = /** @type {HTMLElement} */ (document.getElementById('message'));

function next() {
  const n = new URLSearchParams(location.search).get('next') ?? '/';
  // Only a page of this site: never another one ("//x", "/\\x" and "http:" resolve elsewhere).
  // The whole URL, not its path: a path like "//x" would leave the site again.
  const u = new URL(n, location.origin);
  return u.origin === location.origin ? u.href : '/';
}

async function signIn(/** @type {Record<string, string>} */ body) {
  message.textContent = '';
  try {
    await api('POST', '/v1/session', body);
    location.assign(next());
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      message.textContent = '用户名、密码或密钥不正确';
    } else {
      message.textContent = e instanceof ApiError ? e.message : '登录失败，请稍后重试';
    }
  }
}

const passwordForm = /** @type {HTMLFormElement} */ (document.getElementById('password-form'));
passwordForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = new FormData(passwordForm);
  signIn({ name: String(f.get('name') ?? ''), password: String(f.get('password') ?? '') });
});

const keyForm = /** @type {HTMLFormElement} */ (document.getElementById('key-form'));
keyForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  signIn({ key: String(new FormData(keyForm).get('key') ?? '') });
});
