// @ts-check
// 工作队列: the caller's queues as tabs with their counts (every answer counts them all), the
// chosen queue's open cases as a table, the deadline due first first, 加载更多 for the next page.
// The queue is in the URL (/queues/overdue), so a queue can be bookmarked and shared.
// Tabs follow the ARIA tabs pattern: one tab in the Tab order, arrows move between them.
import { start } from '../nav.js';
import { api, ApiError } from '../api.js';
import { el, append, clear, byId, say } from '../dom.js';
import { QUEUES, STATUS, STEPS, DEADLINE, label } from '../labels.js';
import { when, left } from '../time.js';

await start('/queues');

const PAGE = 50;
const CODES = QUEUES.map(([code]) => code);
const tabs = byId('tabs');
const panel = byId('panel');
const rows = /** @type {HTMLTableSectionElement} */ (byId('cases').querySelector('tbody'));
const more = /** @type {HTMLButtonElement} */ (byId('more'));
const summary = byId('summary');

/** @type {Record<string, HTMLAnchorElement>} */
const tab = {};
for (const [code, name] of QUEUES) {
  tab[code] = /** @type {HTMLAnchorElement} */ (el('a', {
    role: 'tab', id: `tab-${code}`, href: `/queues/${code}`, 'aria-controls': 'panel',
    'aria-selected': 'false', tabindex: '-1', 'data-queue': code,
  }, el('span', { class: 'name' }, name), el('span', { class: 'count', id: `count-${code}` }, '')));
  tabs.appendChild(tab[code]);
}

/** The queue the URL names; `mine` for /queues; null for a name that is no queue. */
function fromUrl() {
  const m = location.pathname.match(/^\/queues(?:\/([^/]+))?\/?$/);
  const q = m?.[1] ? decodeURIComponent(m[1]) : 'mine';
  return CODES.includes(q) ? q : null;
}

let current = 'mine';
let loaded = 0;
let total = 0;
let seq = 0;

/** Marks `code` as the selected tab (the only one in the Tab order). */
function select(/** @type {string} */ code) {
  current = code;
  for (const c of CODES) {
    const on = c === code;
    tab[c].setAttribute('aria-selected', String(on));
    tab[c].tabIndex = on ? 0 : -1;
  }
  panel.setAttribute('aria-labelledby', `tab-${code}`);
  const name = QUEUES.find(([c]) => c === code)?.[1] ?? code;
  document.title = `${name} · 工作队列 · 投诉工作台`;
}

/** Every queue's count beside its tab. */
function showCounts(/** @type {Record<string, number>} */ counts) {
  for (const c of CODES) {
    const n = counts[c] ?? 0;
    const span = byId(`count-${c}`);
    span.textContent = String(n);
    span.classList.toggle('zero', n === 0);
    tab[c].title = `${n} 件`;
  }
}

/** The cell of the next deadline: due time, what is left, red when breached, amber when due soon. */
function deadlineCell(/** @type {any} */ item) {
  const d = item.next_deadline;
  if (!d) {
    return el('td', { class: 'due muted' }, item.status === 'suspended' ? '已挂起，计时暂停' : '—');
  }
  const cls = d.state === 'breached' ? 'due breached' : d.state === 'due_soon' ? 'due due_soon' : 'due';
  return el('td', { class: cls, title: label(DEADLINE, d.state) },
    `${label(STEPS, d.step)} ${when(d.due)}`, el('span', { class: 'left' }, left(d.due)));
}

/** One case as a row. */
function row(/** @type {any} */ c) {
  return el('tr', {},
    el('td', { class: 'id' }, el('a', { href: `/cases/${encodeURIComponent(c.id)}` }, c.id)),
    el('td', { class: 'summary', title: c.summary }, c.summary),
    el('td', {}, c.category ?? '—'),
    el('td', {}, el('span', { class: `chip grade-${c.grade}` }, c.grade)),
    el('td', {}, label(STATUS, c.status)),
    el('td', {}, c.department ?? '—'),
    el('td', {}, c.assignee ?? el('span', { class: 'muted' }, '未派')),
    deadlineCell(c));
}

/**
 * Loads the queue's first page (or, with `next`, the page after what is shown).
 * @param {string} code
 * @param {boolean} [next]
 */
async function load(code, next = false) {
  const mine = ++seq;
  if (!next) select(code);
  more.disabled = true;
  const offset = next ? loaded : 0;
  try {
    const page = await api('GET', `/v1/queues/${encodeURIComponent(code)}?limit=${PAGE}&offset=${offset}`);
    if (mine !== seq) return;
    performance.mark('queue-answer');
    if (!next) {
      clear(rows);
      loaded = 0;
    }
    total = page.total;
    showCounts(page.counts);
    append(rows, ...page.cases.map(row));
    loaded += page.cases.length;
    if (loaded === 0) rows.appendChild(el('tr', {}, el('td', { colspan: '8', class: 'empty muted' }, '此队列暂无案件')));
    summary.textContent = total ? `共 ${total} 件，显示前 ${loaded} 件` : '共 0 件';
    more.hidden = loaded >= total || page.cases.length === 0 || loaded >= 10_000;
    performance.measure('queue-drawn', 'queue-answer');
    say('');
  } catch (e) {
    if (mine !== seq) return;
    say(e instanceof ApiError ? e.message : '加载失败，请稍后重试');
  } finally {
    if (mine === seq) more.disabled = false;
  }
}

/** Opens a queue from a tab: its URL pushed, its first page loaded. */
function activate(/** @type {string} */ code) {
  if (code === current && loaded > 0) return;
  history.pushState({ queue: code }, '', `/queues/${code}`);
  load(code);
}

tabs.addEventListener('click', (ev) => {
  const a = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (ev.target).closest('[role="tab"]'));
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  activate(a.dataset.queue ?? 'mine');
});
tabs.addEventListener('keydown', (ev) => {
  const i = CODES.indexOf(current);
  const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: CODES.length - 1 }[ev.key];
  if (to === undefined) return;
  ev.preventDefault();
  const code = CODES[(to + CODES.length) % CODES.length];
  tab[code].focus();
  activate(code);
});
more.addEventListener('click', () => load(current, true));
window.addEventListener('popstate', () => load(fromUrl() ?? 'mine'));

const first = fromUrl();
if (!first) history.replaceState(null, '', '/queues');
await load(first ?? 'mine');
if (!first) say('没有这个队列，已显示“我的待办”', 'info');
