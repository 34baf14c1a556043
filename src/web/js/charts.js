// @ts-check
// The charts of the trends and KPI pages, drawn with Apache ECharts (vendored, loaded by a
// classic <script> in those pages only, so it is the global `echarts`). Chinese locale, legend at
// the top (ECharts 6 puts it at the bottom, over the zoom slider), redrawn to size on resize.
/* global echarts */
import { isoDay } from './time.js';

/** @type {any} */
const E = /** @type {any} */ (globalThis).echarts;

/** Colours of the grades, mildest first (the same hues as the grade chips). */
const GRADE_COLOURS = /** @type {Record<string, string>} */ ({ 一般: '#3370ff', 严重: '#de7802', 重大: '#d83931' });

/** The charts with a drawing asked for and not yet finished. */
const armed = new WeakSet();

/**
 * A chart in `el` (sized by CSS). `el.dataset.drawn` counts the drawings (`draw`) finished,
 * animation included, so a test or a timing mark can wait for them.
 * @param {HTMLElement} el
 */
export function chart(el) {
  if (!E) throw new Error('ECharts is not loaded');
  const c = E.init(el, null, { locale: 'ZH', renderer: 'canvas' });
  let n = 0;
  c.on('finished', () => {
    if (!armed.has(c)) return;
    armed.delete(c);
    el.dataset.drawn = String(++n);
  });
  let pending = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => c.resize());
  });
  return c;
}

/** Draws `option` afresh (nothing kept from the last one). */
export function draw(/** @type {any} */ c, /** @type {Record<string, any>} */ option) {
  armed.add(c);
  c.setOption(option, { notMerge: true });
}

/** The label of a bucket start: its Beijing day (for weeks, the Monday the week starts). */
function bucketLabel(/** @type {string} */ iso, /** @type {string} */ bucket) {
  const d = isoDay(new Date(iso));
  return bucket === 'week' ? `${d} 周` : d;
}

/**
 * Volume per bucket, one series per value, as stacked bars or as lines; zoomable.
 * @param {{bucket: string, dimension: string, starts: string[], series: {value: string, total: number, counts: number[]}[]}} table
 * @param {{stacked: boolean, name: (value: string) => string}} how
 */
export function volumeOption(table, how) {
  const grades = table.dimension === 'grade';
  const order = Object.keys(GRADE_COLOURS);
  const series = grades
    ? table.series.slice().sort((a, b) => order.indexOf(a.value) - order.indexOf(b.value))
    : table.series;
  return {
    aria: { enabled: true },
    animationDuration: 300,
    tooltip: { trigger: 'axis', axisPointer: { type: how.stacked ? 'shadow' : 'line' }, confine: true },
    legend: { type: 'scroll', top: 4, left: 8, right: 56 },
    toolbox: { top: 2, right: 8, feature: { saveAsImage: { title: '保存为图片', name: 'trends' } } },
    grid: { top: 60, left: 16, right: 24, bottom: 64, containLabel: true },
    xAxis: {
      type: 'category',
      boundaryGap: how.stacked,
      data: table.starts.map((s) => bucketLabel(s, table.bucket)),
    },
    yAxis: { type: 'value', minInterval: 1, name: '件数' },
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 12, height: 22 }],
    series: series.map((s) => ({
      name: how.name(s.value),
      type: how.stacked ? 'bar' : 'line',
      stack: how.stacked ? 'volume' : undefined,
      data: s.counts,
      color: grades ? GRADE_COLOURS[s.value] : undefined,
      showSymbol: false,
      emphasis: { focus: 'series' },
    })),
  };
}

/** A rate as a percentage with one decimal, or null (no cases to judge). */
function pct(/** @type {{rate: number | null}} */ r) {
  return r.rate === null ? null : Math.round(r.rate * 1000) / 10;
}

/**
 * KPIs per group: volume and overdue as bars (cases), the on-time rates as lines (%).
 * @param {Array<Record<string, any>>} groups
 * @param {(g: string | undefined) => string} name
 */
export function kpiOption(groups, name) {
  const many = groups.length > 12;
  return {
    aria: { enabled: true },
    animationDuration: 300,
    tooltip: { trigger: 'axis', confine: true },
    legend: { top: 4 },
    grid: { top: 56, left: 16, right: 16, bottom: many ? 56 : 16, containLabel: true },
    xAxis: {
      type: 'category',
      data: groups.map((g) => name(g.group)),
      axisLabel: { interval: 0, rotate: groups.length > 6 ? 30 : 0, width: 110, overflow: 'truncate' },
    },
    yAxis: [
      { type: 'value', name: '件数', minInterval: 1 },
      { type: 'value', name: '比率（%）', min: 0, max: 100, splitLine: { show: false } },
    ],
    dataZoom: many ? [{ type: 'inside' }, { type: 'slider', bottom: 8, height: 18, endValue: 11 }] : [],
    series: [
      { name: '受理量', type: 'bar', data: groups.map((g) => g.volume), color: '#3370ff' },
      { name: '超期数', type: 'bar', data: groups.map((g) => g.overdue), color: '#d83931' },
      {
        name: '受理及时率', type: 'line', yAxisIndex: 1, color: '#2ea121',
        data: groups.map((g) => pct(g.confirmed_on_time)), tooltip: { valueFormatter: pctText },
      },
      {
        name: '按时办结率', type: 'line', yAxisIndex: 1, color: '#de7802',
        data: groups.map((g) => pct(g.closed_on_time)), tooltip: { valueFormatter: pctText },
      },
    ],
  };
}

/** "85.0%" or "—". */
function pctText(/** @type {number | null | undefined} */ v) {
  return v === null || v === undefined ? '—' : `${v.toFixed(1)}%`;
}
