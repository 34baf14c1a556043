// @ts-check
// 考核指标: the handling KPIs of the cases received in a period (Beijing days), overall and per
// department, handler, category, channel or grade, as a chart and a table; the daily report
// (xlsx) of a chosen day and the period's cases (CSV / xlsx) to download. The period and the
// grouping are kept in the URL. The API decides who may see them (403 otherwise), and a
// supervisor sees the cases of their own departments only.
import { start } from '../nav.js';
import { api, ApiError } from '../api.js';
import { el, byId, clear, say } from '../dom.js';
import { isoDay, startOfDay, endOfDay, when } from '../time.js';
import { CHANNELS, label } from '../labels.js';
import { chart, draw, kpiOption } from '../charts.js';

await start('/kpis');

const form = /** @type {HTMLFormElement} */ (byId('controls'));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (byId(id));
const GROUPS = /** @type {Record<string, string>} */ ({
  department: '承办部门', handler: '承办人', category: '类别', channel: '渠道', grade: '分级',
});
const YMD = /^\d{4}-\d{2}-\d{2}$/;

/** @typedef {{from: string, to: string, group_by: string}} View */
/** @typedef {{numerator: number, denominator: number, rate: number | null}} Rate */

function addDays(/** @type {string} */ ymd, /** @type {number} */ n) {
  return isoDay(new Date(Date.parse(`${ymd}T12:00:00+08:00`) + n * 86_400_000));
}

/** The newest case's Beijing day (imported history is old: the default period ends there). */
async function latestDay() {
  const page = await api('GET', '/v1/search?sort=newest&limit=1');
  const at = page.hits[0]?.received_at;
  return at ? isoDay(new Date(at)) : isoDay(new Date());
}

/** The view the URL asks for, the gaps filled with the 90 days up to `latest`. */
function viewFromUrl(/** @type {string} */ latest) {
  const q = new URLSearchParams(location.search);
  const to = YMD.test(q.get('to') ?? '') ? String(q.get('to')) : latest;
  let from = YMD.test(q.get('from') ?? '') ? String(q.get('from')) : addDays(to, -89);
  if (from > to) from = addDays(to, -89);
  const g = q.get('group_by') ?? '';
  return /** @type {View} */ ({ from, to, group_by: g in GROUPS ? g : 'department' });
}

/** "85.0%" (with the counts as its title), or "—" when there is nothing to judge. */
function rateCell(/** @type {Rate} */ r) {
  return el('td', { class: 'num', title: `${r.numerator} / ${r.denominator}` },
    r.rate === null ? '—' : `${(r.rate * 100).toFixed(1)}%`);
}
/** Hours as "12.5 / 40.0" (median / 90th percentile), or "—". */
function hoursCell(/** @type {{median_hours: number | null, p90_hours: number | null, cases: number}} */ d) {
  const h = (/** @type {number | null} */ v) => (v === null ? '—' : v.toFixed(1));
  return el('td', { class: 'num', title: `${d.cases} 件` }, d.median_hours === null ? '—' : `${h(d.median_hours)} / ${h(d.p90_hours)}`);
}

const COLUMNS = /** @type {Array<[string, (k: any) => HTMLElement]>} */ ([
  ['受理量', (k) => el('td', { class: 'num' }, k.volume)],
  ['未办结', (k) => el('td', { class: 'num' }, k.open)],
  ['超期数', (k) => el('td', { class: k.overdue ? 'num overdue' : 'num' }, k.overdue)],
  ['受理及时率', (k) => rateCell(k.confirmed_on_time)],
  ['按时答复率', (k) => rateCell(k.replied_on_time)],
  ['按时办结率', (k) => rateCell(k.closed_on_time)],
  ['签收用时', (k) => hoursCell(k.time_to_confirm)],
  ['答复用时', (k) => hoursCell(k.time_to_reply)],
  ['办结用时', (k) => hoursCell(k.time_to_close)],
  ['解决率', (k) => rateCell(k.solved)],
  ['满意率', (k) => rateCell(k.satisfied)],
  ['一次办结率', (k) => rateCell(k.closed_first_time)],
  ['重复投诉率', (k) => rateCell(k.repeat)],
  ['延期率', (k) => rateCell(k.extended)],
  ['异常结案率', (k) => rateCell(k.closed_abnormally)],
]);

/** The name a group is shown by. */
function groupName(/** @type {string} */ by) {
  return (/** @type {string | undefined} */ g) => {
    if (g === undefined || g === '') return by === 'handler' ? '（未指派）' : '（无）';
    return by === 'channel' ? label(CHANNELS, g) : g;
  };
}

const kpiChart = chart(byId('kpi-chart'));

/** The headline figures of the whole period. */
function summary(/** @type {any} */ t) {
  const box = byId('summary');
  clear(box);
  const pct = (/** @type {Rate} */ r) => (r.rate === null ? '—' : `${(r.rate * 100).toFixed(1)}%`);
  for (const [name, value, cls] of /** @type {Array<[string, string, string?]>} */ ([
    ['受理量', String(t.volume)], ['未办结', String(t.open)], ['超期数', String(t.overdue), t.overdue ? 'overdue' : ''],
    ['受理及时率', pct(t.confirmed_on_time)], ['按时答复率', pct(t.replied_on_time)],
    ['按时办结率', pct(t.closed_on_time)], ['满意率', pct(t.satisfied)],
  ])) {
    box.appendChild(el('div', {}, el('dt', {}, name), el('dd', { class: cls || null }, value)));
  }
}

/** The table: one row per group, the whole period in the footer. */
function table(/** @type {any} */ report, /** @type {View} */ v) {
  const t = /** @type {HTMLTableElement} */ (byId('kpi-table'));
  const name = groupName(v.group_by);
  byId('kpi-caption').textContent =
    `按${GROUPS[v.group_by]}，${v.from} 至 ${v.to} 受理的案件；时限按 ${when(report.as_of)} 判断；用时为小时数，中位数 / 第 90 百分位`;
  clear(t.tHead ?? t.createTHead());
  /** @type {HTMLElement} */ (t.tHead).appendChild(el('tr', {},
    el('th', { scope: 'col' }, GROUPS[v.group_by]), ...COLUMNS.map(([h]) => el('th', { scope: 'col', class: 'num' }, h))));
  const body = t.tBodies[0];
  clear(body);
  const groups = report.groups ?? [];
  for (const g of groups) {
    body.appendChild(el('tr', {}, el('th', { scope: 'row' }, name(g.group)), ...COLUMNS.map(([, cell]) => cell(g))));
  }
  if (groups.length === 0) {
    body.appendChild(el('tr', {}, el('td', { colspan: COLUMNS.length + 1, class: 'muted' }, '这段时间没有受理案件。')));
  }
  t.tFoot?.remove();
  t.createTFoot().appendChild(el('tr', {}, el('th', { scope: 'row' }, '合计'), ...COLUMNS.map(([, cell]) => cell(report.total))));
}

/** The download links for the period (plain links: the browser sends the session cookie). */
function links(/** @type {View} */ v) {
  const period = { from: startOfDay(v.from), to: endOfDay(v.to) };
  for (const format of ['csv', 'xlsx']) {
    input(`export-${format}`).setAttribute('href', `/v1/export?${new URLSearchParams({ format, ...period })}`);
  }
  // The search page's URL holds Beijing days, as its date fields do.
  input('search-link').setAttribute('href', `/search?${new URLSearchParams({ from: v.from, to: v.to })}`);
  const reportDay = input('report-day');
  if (!reportDay.value) reportDay.value = v.to;
  reportLink();
}
function reportLink() {
  const d = input('report-day').value;
  const a = byId('report-link');
  if (YMD.test(d)) a.setAttribute('href', `/v1/reports/daily?${new URLSearchParams({ day: d, format: 'xlsx' })}`);
  else a.removeAttribute('href');
}

/** Loads and shows the view; the view goes in the URL. */
async function show(/** @type {View} */ v) {
  history.replaceState(null, '', `${location.pathname}?${new URLSearchParams(v)}`);
  say('');
  byId('period').textContent = `${v.from} 至 ${v.to}（北京时间，含首尾两日）`;
  const q = new URLSearchParams({ from: startOfDay(v.from), to: endOfDay(v.to), group_by: v.group_by });
  performance.mark('kpis:request');
  const report = await api('GET', `/v1/kpis?${q}`);
  performance.mark('kpis:response');
  summary(report.total);
  table(report, v);
  draw(kpiChart, kpiOption(report.groups ?? [], groupName(v.group_by)));
  performance.measure('kpis:draw', 'kpis:response');
  links(v);
}

try {
  const v = viewFromUrl(await latestDay());
  input('from').value = v.from;
  input('to').value = v.to;
  input('group-by').value = v.group_by;
  byId('content').hidden = false;
  kpiChart.resize();
  await show(v);
} catch (e) {
  if (e instanceof ApiError && e.status === 403) {
    byId('content').hidden = true;
    say('考核指标只对主管、分析员和管理员开放，您当前的角色不能查看。');
  } else {
    say(e instanceof Error ? e.message : '加载失败');
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = { from: input('from').value, to: input('to').value, group_by: input('group-by').value };
  if (!YMD.test(v.from) || !YMD.test(v.to) || v.from > v.to) {
    say('请填写起止日期，起始日不能晚于截止日');
    return;
  }
  show(v).catch((e) => say(e.message));
});
input('group-by').addEventListener('change', () => form.requestSubmit());
input('report-day').addEventListener('input', reportLink);
byId('report-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  byId('report-link').click();
});
