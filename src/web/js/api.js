// @ts-check
// Calls to the /v1 API with the session cookie: writes carry the session's CSRF token, and
// errors become a Chinese message (the server's own message kept as the detail).

let csrf = /** @type {string | null} */ (null);

/** Remembers the token writes carry (from the sign-in or GET /v1/session). */
export function setCsrf(/** @type {string | null} */ token) {
  csrf = token;
}

const MESSAGES = /** @type {Record<string, string>} */ ({
  unauthorized: '未登录或登录已过期，请重新登录',
  forbidden: '当前角色无权进行此操作',
  csrf: '页面已过期，请刷新后重试',
  not_found: '未找到（或不在您的部门范围内）',
  invalid_transition: '当前状态不允许此操作',
  invalid_request: '请求内容有误',
  invalid_query: '查询条件有误',
  too_many_attempts: '登录失败次数过多，请稍后再试',
  overloaded: '服务繁忙，请稍后重试',
  timeout: '请求超时，请稍后重试',
});

/** An API error: the status, the stable code, a Chinese message and the server's detail. */
export class ApiError extends Error {
  constructor(/** @type {number} */ status, /** @type {string} */ code, /** @type {string} */ detail) {
    super(MESSAGES[code] ?? `请求失败（${status}）`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/**
 * Calls the API; resolves to the JSON answer (null for 204). `headers` are added (an
 * Idempotency-Key); `signal` cancels the call (a preview overtaken by typing).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{headers?: Record<string, string>, signal?: AbortSignal}} [options]
 */
export async function api(method, path, body, { headers: extra = {}, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', ...extra };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method,
    headers,
    signal,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 204) return null;
  const text = await r.text();
  /** @type {any} */
  let v = null;
  try {
    v = text ? JSON.parse(text) : null;
  } catch {
    v = null;
  }
  if (!r.ok) throw new ApiError(r.status, v?.code ?? 'error', v?.message ?? text);
  return v;
}

/** Who is signed in; null when nobody is (the caller then sends the page to sign-in). */
export async function session() {
  const s = await api('GET', '/v1/session');
  if (!s.signed_in) return null;
  setCsrf(s.csrf ?? null);
  return s;
}
