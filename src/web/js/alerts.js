// @ts-check
// Alerts as they are raised: one EventSource on /v1/alerts/stream (the session cookie
// authenticates it), a toast for each arrival, and a backfill from /v1/alerts after the stream
// drops and comes back (the stream does not replay what was raised while it was down, and
// ignores Last-Event-ID). The nav can reuse `listen()` and `toast()` for a badge on every page.
import { api } from './api.js';
import { el } from './dom.js';
import { when } from './time.js';

/**
 * @typedef {{id: string, rule: string, key: string, title: string, summary: string,
 *   severity: string, department?: string, created_at: string, data: Record<string, any>}} Alert
 */

/** The Chinese names of the alert rules. */
export const RULES = /** @type {Record<string, string>} */ ({
  topic_surge: '话题激增', category_spike: '类别突增', group_complaint: '群体投诉',
  safety_case: '安全隐患', external_case: '涉媒涉诉', security_case: '信息安全',
  sla_due_soon: '即将超时', sla_breached: '已超时',
});

/** Where an alert leads: its case, its topic's cases or its category's cases. */
export function alertHref(/** @type {Alert} */ a) {
  const [kind, ...rest] = a.key.split(':');
  const value = rest.join(':');
  if (typeof a.data?.case === 'string') return `/cases/${encodeURIComponent(a.data.case)}`;
  if (kind === 'case') return `/cases/${encodeURIComponent(value)}`;
  if (kind === 'topic') return `/search?topic=${encodeURIComponent(value)}`;
  if (kind === 'category') return `/search?category=${encodeURIComponent(value.split('@')[0])}`;
  return null;
}

/**
 * Listens for alerts: `onAlert` is called once per alert (by id), live or backfilled, in the
 * order they come. `onState` hears 'connecting' | 'open' | 'down'. `since` is the newest alert
 * the caller already has (its created_at), from which a backfill starts.
 * @param {(a: Alert, live: boolean) => void} onAlert
 * @param {{since?: string | null, onState?: (s: string) => void, seen?: Iterable<string>}} [opts]
 * @returns {{close: () => void}}
 */
export function listen(onAlert, opts = {}) {
  const seen = new Set(opts.seen ?? []);
  let latest = opts.since ?? new Date().toISOString();
  let dropped = false;
  const state = opts.onState ?? (() => {});

  /** @param {Alert} a @param {boolean} live */
  const take = (a, live) => {
    if (seen.has(a.id)) return;
    seen.add(a.id);
    if (Date.parse(a.created_at) > Date.parse(latest)) latest = a.created_at;
    onAlert(a, live);
  };
  const backfill = async () => {
    try {
      const page = await api('GET', `/v1/alerts?since=${encodeURIComponent(latest)}&limit=1000`);
      /** @type {Alert[]} */ const got = page.alerts;
      for (const a of got.slice().reverse()) take(a, false); // oldest first
    } catch {
      /* the next reconnect tries again */
    }
  };

  state('connecting');
  const source = new EventSource('/v1/alerts/stream');
  source.addEventListener('open', () => {
    state('open');
    if (dropped) backfill();
    dropped = false;
  });
  source.addEventListener('error', () => {
    dropped = true;
    state(source.readyState === EventSource.CLOSED ? 'closed' : 'down');
  });
  source.addEventListener('alert', (ev) => {
    try {
      take(JSON.parse(/** @type {MessageEvent} */ (ev).data), true);
    } catch {
      /* an event that is not an alert */
    }
  });
  source.addEventListener('lagged', () => { backfill(); });
  return { close: () => source.close() };
}

/** The toasts' container, made once per page (styled by app.css). */
function toasts() {
  let box = document.getElementById('toasts');
  if (!box) {
    box = el('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(box);
  }
  return box;
}

/** Shows an alert as a toast for `ms` (or until closed). */
export function toast(/** @type {Alert} */ a, ms = 20_000) {
  const href = alertHref(a);
  const close = el('button', { type: 'button', class: 'quiet toast-close', 'aria-label': '关闭提醒' }, '×');
  const t = el(
    'div',
    { class: `toast severity-${a.severity}`, 'data-alert': a.id },
    el('strong', {}, `${RULES[a.rule] ?? a.rule} · ${a.severity}`),
    ' ',
    close,
    el('div', {}, href ? el('a', { href }, a.title) : a.title),
    el('small', { class: 'muted' }, when(a.created_at)),
  );
  const remove = () => t.remove();
  close.addEventListener('click', remove);
  const timer = setTimeout(remove, ms);
  t.addEventListener('focusin', () => clearTimeout(timer));
  toasts().prepend(t);
  return t;
}

/** An alert as an item of a list: grade, rule, time, and its title linking to what it is about. */
export function alertItem(/** @type {Alert} */ a) {
  const href = alertHref(a);
  return el(
    'li',
    { class: 'alert-item', 'data-alert': a.id },
    el('span', { class: `chip grade-${a.severity}` }, a.severity),
    ' ',
    el('strong', {}, RULES[a.rule] ?? a.rule),
    ' ',
    el('time', { datetime: a.created_at, class: 'muted' }, when(a.created_at)),
    el('div', { class: 'alert-title' }, href ? el('a', { href }, a.title) : a.title),
    a.department ? el('div', { class: 'muted' }, a.department) : null,
  );
}
