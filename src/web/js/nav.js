// @ts-check
// The header every signed-in page shares: the pages the role may use (the API decides what
// each shows), the work-queue count beside 工作队列, who is signed in, and sign-out. A page
// calls `start()` first; nobody signed in goes to sign-in and comes back.
import { api, session } from './api.js';
import { el, append } from './dom.js';
import { ROLES, label } from './labels.js';
import { listen, toast } from './alerts.js';

/**
 * @typedef {{name: string, role: string, departments: string[], csrf?: string}} Me
 */

/** The pages a role may use, as [path, name, who]. */
const PAGES = /** @type {Array<[string, string, (me: Me) => boolean]>} */ ([
  ['/queues', '工作队列', (me) => READ.has(me.role)],
  ['/search', '案件检索', (me) => READ.has(me.role)],
  ['/trends', '趋势与预警', (me) => ANALYSE.has(me.role) && everyDepartment(me)],
  ['/kpis', '考核指标', (me) => ANALYSE.has(me.role)],
  ['/intake', '受理登记', (me) => me.role === 'intake' || me.role === 'admin'],
]);
const READ = new Set(['handler', 'supervisor', 'analyst', 'admin']);
const ANALYSE = new Set(['analyst', 'supervisor', 'admin']);

/** Whether `me` works every department (no list, or `*`). */
export function everyDepartment(/** @type {Me} */ me) {
  return me.departments.length === 0 || me.departments.includes('*');
}

/** Whether `me` may use the page at `path` (the nav shows only those). */
export function may(/** @type {Me} */ me, /** @type {string} */ path) {
  return PAGES.some(([p, , who]) => p === path && who(me));
}

/** The first page a role works on. */
export function home(/** @type {Me} */ me) {
  return PAGES.find(([, , who]) => who(me))?.[0] ?? '/signin';
}

/**
 * Draws the header for the page at `current`; resolves to who is signed in. Sends the browser
 * to sign-in when nobody is.
 * @param {string} current
 * @returns {Promise<Me>}
 */
export async function start(current) {
  const me = /** @type {Me | null} */ (await session());
  // The API leaves out an empty list: a role that works every department has none.
  if (me) me.departments ??= [];
  if (!me) {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    return new Promise(() => {});
  }
  const top = document.getElementById('top');
  if (!top) return me;
  const links = el('nav', { 'aria-label': '主导航' });
  for (const [path, name, who] of PAGES) {
    if (!who(me)) continue;
    const a = el('a', { href: path, 'aria-current': path === current ? 'page' : null }, name);
    if (path === '/queues') a.appendChild(el('span', { class: 'badge', id: 'queue-count', hidden: true }));
    links.appendChild(a);
  }
  // Only a session can be ended: with no users or keys configured (a local trial) nobody
  // signs in, so there is nothing to sign out of.
  const out = me.csrf ? el('button', { type: 'button', id: 'sign-out', class: 'quiet' }, '退出登录') : null;
  out?.addEventListener('click', async () => {
    await api('DELETE', '/v1/session');
    location.assign('/signin');
  });
  const scope = everyDepartment(me) ? '全部部门' : me.departments.join('、');
  append(
    top,
    el('a', { class: 'skip', href: '#main' }, '跳到正文'),
    el('a', { class: 'brand', href: '/' }, '投诉工作台'),
    links,
    el('span', { id: 'who', title: scope }, `${me.name}（${label(ROLES, me.role)}）`),
    out,
  );
  if (READ.has(me.role)) counts().catch(() => {});
  // Alerts arrive as toasts on every page of those who may read them; the trends page keeps
  // its own list and stream.
  if (ANALYSE.has(me.role) && current !== '/trends') {
    listen((a, live) => { if (live) toast(a); }, { onState: (s) => { document.body.dataset.alerts = s; } });
  }
  return me;
}

/** Fills the badge beside 工作队列 with what waits for the caller. */
async function counts() {
  const page = await api('GET', '/v1/queues/mine?limit=1');
  const badge = document.getElementById('queue-count');
  if (!badge) return;
  const n = page.counts.mine ?? 0;
  badge.textContent = String(n);
  badge.title = `我的待办 ${n} 件`;
  badge.hidden = n === 0;
  document.dispatchEvent(new CustomEvent('queue-counts', { detail: page.counts }));
}
