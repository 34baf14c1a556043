// @ts-check
// 趋势与预警: case volume per day or week by a dimension (stacked bars or lines, zoomable), the
// phrases rising against their baseline, the hot topics with a way to their cases, and the
// alerts, with history and live arrivals. The view (dimension, bucket, period, chart, window)
// is kept in the URL so it can be shared. The API decides who may see it (403 otherwise).
import { start } from '../nav.js';
import { api, ApiError } from '../api.js';
import { el, byId, clear, say } from '../dom.js';
import { day, isoDay, startOfDay, endOfDay } from '../time.js';
import { CHANNELS, label } from '../labels.js';
import { chart, draw, volumeOption } from '../charts.js';
import { listen, toast, alertItem } from '../alerts.js';

await start('/trends');

const form = /** @type {HTMLFormElement} */ (byId('controls'));
const field = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (byId(id));
const DIMENSIONS = ['category', 'grade', 'channel', 'department'];
const DIMENSION_NAMES = /** @type {Record<string, string>} */ ({
  category: '类别', grade: '分级', channel: '渠道', department: '承办部门',
});
/** Bumped by each new view, so an answer for an older one is dropped. */
let generation = 0;

/** @typedef {{dimension: string, bucket: string, from: string, to: string, top: string, kind: string, window: string}} View */

/** A Beijing YYYY-MM-DD moved by `n` days. */
function addDays(/** @type {string} */ ymd, /** @type {number} */ n) {
  return isoDay(new Date(Date.parse(`${ymd}T12:00:00+08:00`) + n * 86_400_000));
}
const YMD = /^\d{4}-\d{2}-\d{2}$/;

/** The view the URL asks for, the gaps filled from `latestDay` (the newest case's day). */
function viewFromUrl(/** @type {string} */ latestDay) {
  const q = new URLSearchParams(location.search);
  const pick = (/** @type {string} */ k, /** @type {string[]} */ allowed, /** @type {string} */ dflt) => {
    const v = q.get(k);
    return v && allowed.includes(v) ? v : dflt;
  };
  let to = q.get('to') ?? '';
  if (!YMD.test(to)) to = latestDay;
  let from = q.get('from') ?? '';
  if (!YMD.test(from) || from > to) from = addDays(to, -89);
  return /** @type {View} */ ({
    dimension: pick('dimension', DIMENSIONS, 'category'),
    bucket: pick('bucket', ['day', 'week'], 'day'),
    from,
    to,
    top: pick('top', ['5', '10', '20'], '10'),
    kind: pick('chart', ['stack', 'line'], 'stack'),
    window: pick('window', ['7', '30', '90'], '30'),
  });
}

/** The view the form shows. */
function viewFromForm() {
  const f = new FormData(form);
  return /** @type {View} */ ({
    dimension: String(f.get('dimension')),
    bucket: String(f.get('bucket')),
    from: String(f.get('from')),
    to: String(f.get('to')),
    top: String(f.get('top')),
    kind: String(f.get('kind') ?? 'stack'),
    window: field('window').value,
  });
}

function fillForm(/** @type {View} */ v) {
  field('dimension').value = v.dimension;
  field('bucket').value = v.bucket;
  field('from').value = v.from;
  field('to').value = v.to;
  field('series').value = v.top;
  field(`kind-${v.kind}`).checked = true;
  field('window').value = v.window;
}

/** Puts the view in the address bar (replacing, so Back leaves the page). */
function keepInUrl(/** @type {View} */ v) {
  const q = new URLSearchParams({
    dimension: v.dimension, bucket: v.bucket, from: v.from, to: v.to, top: v.top, chart: v.kind, window: v.window,
  });
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

const nameOf = (/** @type {string} */ dimension) => (/** @type {string} */ v) =>
  (dimension === 'channel' ? label(CHANNELS, v) : v) || '（无）';

const trendChart = chart(byId('trend-chart'));

/** Draws the volume chart and its table for the view. */
async function drawVolume(/** @type {View} */ v) {
  const q = new URLSearchParams({
    dimension: v.dimension, bucket: v.bucket, from: startOfDay(v.from), to: endOfDay(v.to), top: v.top,
  });
  performance.mark('trends:request');
  const g = generation;
  const table = await api('GET', `/v1/trends?${q}`);
  if (g !== generation) return;
  performance.mark('trends:response');
  const name = nameOf(v.dimension);
  const total = table.series.reduce((n, /** @type {any} */ s) => n + s.total, 0);
  byId('volume-note').textContent = total
    ? `${v.from} 至 ${v.to}（北京时间），共 ${total} 件（前 ${table.series.length} 项）；拖动下方滑块或滚轮缩放。`
    : `${v.from} 至 ${v.to} 没有案件，换一个时间段试试。`;
  draw(trendChart, volumeOption(table, { stacked: v.kind === 'stack', name }));
  performance.measure('trends:draw', 'trends:response');
  const box = byId('trend-table');
  clear(box);
  box.appendChild(
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, el('th', {}, DIMENSION_NAMES[v.dimension]), el('th', { class: 'num' }, '合计'))),
      el('tbody', {}, ...table.series.map((/** @type {any} */ s) =>
        el('tr', {}, el('td', {}, name(s.value)), el('td', { class: 'num' }, s.total)))),
    ),
  );
}

/** The phrases rising in the window before the period's end. */
async function drawRising(/** @type {View} */ v) {
  const hours = Number(v.window) * 24;
  const q = new URLSearchParams({
    dimension: 'phrase', end: endOfDay(v.to), window_hours: String(hours),
    baseline_hours: String(Math.min(hours * 6, 26352)), min_count: '3', top: '15',
  });
  const g = generation;
  const answer = await api('GET', `/v1/trends/rising?${q}`);
  if (g !== generation) return;
  // The most surprising first, but a value below its baseline is not rising.
  const rising = answer.rising.filter((/** @type {any} */ r) => r.growth > 1);
  const box = byId('rising');
  clear(box);
  if (rising.length === 0) {
    box.appendChild(el('p', { class: 'muted' },
      `截至 ${v.to} 的 ${v.window} 天里，没有关键词比此前的基线多（至少 3 件）。`));
    return;
  }
  const most = Math.max(...rising.map((/** @type {any} */ r) => r.score), 1);
  box.appendChild(el(
    'table',
    { class: 'rising' },
    el('caption', {}, `截至 ${v.to} 的 ${v.window} 天，对比此前 ${Number(v.window) * 6} 天的基线`),
    el('thead', {}, el('tr', {},
      el('th', {}, '关键词'), el('th', { class: 'num' }, '件数'), el('th', { class: 'num' }, '预期'),
      el('th', { class: 'num' }, '增幅'), el('th', {}, '显著性'))),
    el('tbody', {}, ...rising.map((/** @type {any} */ r) => el('tr', {},
      el('td', {}, el('a', { href: `/search?q=${encodeURIComponent(r.value)}` }, r.value)),
      el('td', { class: 'num' }, r.count),
      el('td', { class: 'num' }, r.expected.toFixed(1)),
      el('td', { class: 'num' }, `×${r.growth.toFixed(1)}`),
      el('td', { title: `p = ${r.p_value.toPrecision(2)}` },
        el('meter', { min: 0, max: most, value: r.score, 'aria-label': `${r.value} 显著性` })),
    ))),
  ));
}

/** The hot topics as of the period's end, each linking to its cases and its phrases. */
async function drawTopics(/** @type {View} */ v) {
  const g = generation;
  const answer = await api('GET', `/v1/topics?${new URLSearchParams({ end: endOfDay(v.to), top: '10' })}`);
  if (g !== generation) return;
  const box = byId('topics');
  clear(box);
  if (answer.topics.length === 0) {
    box.appendChild(el('p', { class: 'muted' },
      `截至 ${v.to} 没有热点话题：话题在 7 天内至少有 3 位不同投诉人、且明显多于此前的水平时才算热点。`));
    return;
  }
  for (const t of answer.topics) {
    const grades = Object.entries(t.grades).map(([g, n]) => el('span', { class: `chip grade-${g}` }, `${g} ${n}`));
    box.appendChild(el(
      'article',
      { class: 'topic', 'data-topic': t.id },
      el('h3', {}, el('a', { href: `/search?topic=${encodeURIComponent(t.id)}` },
        `${t.phrases.slice(0, 3).join('、')}（${t.total_cases} 件）`)),
      el('p', {}, `近 7 天 ${t.cases} 件、${t.complainants} 位投诉人，预期 ${t.burst.expected.toFixed(1)}，`,
        el('strong', {}, `增幅 ×${t.burst.growth.toFixed(1)}`), `（p = ${t.burst.p_value.toPrecision(2)}）`),
      el('p', { class: 'phrases' }, '关键词：', ...t.phrases.flatMap((/** @type {string} */ p, /** @type {number} */ i) =>
        [i ? ' ' : '', el('a', { href: `/search?q=${encodeURIComponent(p)}` }, p)])),
      el('p', { class: 'muted' }, `首次 ${day(t.first_seen)} · 最近 ${day(t.last_seen)} `, ...grades),
    ));
  }
}

/** Draws everything the view shows; the view goes in the URL. */
async function show(/** @type {View} */ v) {
  generation += 1;
  keepInUrl(v);
  say('');
  const parts = await Promise.allSettled([drawVolume(v), drawRising(v), drawTopics(v)]);
  const failed = parts.find((p) => p.status === 'rejected');
  if (failed) say(/** @type {PromiseRejectedResult} */ (failed).reason?.message ?? '加载失败');
}

/** The day of the newest case (the default period ends there: imported history is old). */
async function latestDay() {
  const probe = await api('GET', '/v1/trends?bucket=day&top=1');
  const last = probe.starts.at(-1);
  return last ? isoDay(new Date(last)) : isoDay(new Date());
}

// The alert list: history first, then live arrivals on top.
const list = byId('alerts');
function addAlert(/** @type {any} */ a, /** @type {boolean} */ live) {
  list.prepend(alertItem(a));
  byId('alerts-empty').hidden = true;
  if (live) toast(a);
}
const LIVE = /** @type {Record<string, string>} */ ({
  connecting: '连接中', open: '实时', down: '已断开，重连中', closed: '未连接',
});
async function alerts() {
  const history = await api('GET', '/v1/alerts?limit=100');
  for (const a of history.alerts) list.appendChild(alertItem(a));
  byId('alerts-empty').hidden = history.alerts.length > 0;
  const live = byId('live');
  listen(addAlert, {
    since: history.alerts[0]?.created_at ?? null,
    seen: history.alerts.map((/** @type {any} */ a) => a.id),
    onState: (s) => { live.dataset.state = s; live.textContent = LIVE[s] ?? s; },
  });
}

try {
  const v = viewFromUrl(await latestDay());
  byId('content').hidden = false;
  trendChart.resize();
  fillForm(v);
  await show(v);
  alerts().catch((e) => say(`预警加载失败：${e.message}`));
} catch (e) {
  if (e instanceof ApiError && e.status === 403) {
    byId('content').hidden = true;
    say('趋势与预警只对分析员、管理员和负责全部部门的主管开放，您当前的角色不能查看。');
  } else {
    say(e instanceof Error ? e.message : '加载失败');
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = viewFromForm();
  if (v.from > v.to) {
    say('起始日不能晚于截止日');
    return;
  }
  show(v);
});
// Choices apply at once; dates with 更新 (or Enter), as a date being typed is not one yet.
for (const id of ['dimension', 'bucket', 'series', 'kind-stack', 'kind-line']) {
  field(id).addEventListener('change', () => form.requestSubmit());
}
field('window').addEventListener('change', () => {
  const v = viewFromForm();
  keepInUrl(v);
  drawRising(v).catch((e) => say(e.message));
});
byId('rising-form').addEventListener('submit', (ev) => ev.preventDefault());
