// @ts-check
// 案件检索: the query, the filters and the sort live in the URL (bookmark or share it); each
// change asks GET /v1/search again. Facet counts come with the answer: a filtered facet keeps
// its other values' counts (the server counts it without its own filter), so several can be
// picked. Export links carry the same filters.
import { api, ApiError } from '../api.js';
import { el, byId, clear, snippet, say } from '../dom.js';
import { start } from '../nav.js';
import { CHANNELS, DEADLINE, STATUS, STEPS, label } from '../labels.js';
import { day, left, startOfDay, endOfDay } from '../time.js';

/** Whether the last answer's facet counts are estimates (over 10,000 hits: a sample). */
let estimated = false;

/** The facets shown, in order, with their names and how a value reads. */
const FACETS = /** @type {Array<[string, string, (v: string) => string]>} */ ([
  ['category', '类别', (v) => v],
  ['grade', '等级', (v) => v],
  ['status', '状态', (v) => label(STATUS, v)],
  ['department', '承办部门', (v) => v],
  ['assignee', '承办人', (v) => v],
  ['channel', '渠道', (v) => label(CHANNELS, v)],
  ['linked', '关联', (v) => LINKS[v] ?? v],
]);
const LINKS = /** @type {Record<string, string>} */ ({
  repeat: '重复投诉', duplicate: '疑似重复件', group: '群体投诉',
});
/** Values shown before 更多. */
const SHOWN = 8;
/** The URL's parameters that are filters (the facets, plus these). */
const PLAIN = ['q', 'from', 'to', 'overdue', 'topic', 'sort'];
const ANALYSE = new Set(['analyst', 'supervisor', 'admin']);

const me = await start('/search');
const form = /** @type {HTMLFormElement} */ (byId('search-form'));
const q = /** @type {HTMLInputElement} */ (byId('q'));
const from = /** @type {HTMLInputElement} */ (byId('from'));
const to = /** @type {HTMLInputElement} */ (byId('to'));
const overdue = /** @type {HTMLInputElement} */ (byId('overdue'));
const sort = /** @type {HTMLSelectElement} */ (byId('sort'));
const hits = byId('hits');
const more = /** @type {HTMLButtonElement} */ (byId('more'));
/** Facets whose 更多 was opened. */
const opened = new Set();
let cursor = /** @type {string | null} */ (null);
let asked = 0;

/** The state: the URL's parameters. */
function state() {
  return new URLSearchParams(location.search);
}

/** The API's query for a state: dates become Beijing days, the rest is passed as it is. */
function apiQuery(/** @type {URLSearchParams} */ s) {
  const out = new URLSearchParams();
  for (const [k, v] of s) {
    if (!v) continue;
    if (k === 'from') out.set('from', startOfDay(v));
    else if (k === 'to') out.set('to', endOfDay(v));
    else out.set(k, v);
  }
  return out;
}

/** Writes the form's fields into the URL, keeping the facet picks, and searches. */
function commit(/** @type {URLSearchParams} */ s) {
  for (const [k, v] of [['q', q.value.trim()], ['from', from.value], ['to', to.value],
    ['overdue', overdue.checked ? 'true' : ''], ['sort', sort.value === 'relevance' ? '' : sort.value]]) {
    if (v) s.set(k, v); else s.delete(k);
  }
  const query = s.toString();
  history.replaceState(null, '', query ? `/search?${query}` : '/search');
  run();
}

/** Fills the form from the URL. */
function fill() {
  const s = state();
  q.value = s.get('q') ?? '';
  from.value = s.get('from') ?? '';
  to.value = s.get('to') ?? '';
  overdue.checked = s.get('overdue') === 'true';
  sort.value = s.get('sort') ?? 'relevance';
  const topic = s.get('topic');
  const chip = byId('topic-chip');
  clear(chip);
  chip.hidden = !topic;
  if (topic) {
    chip.append(el('span', { class: 'chip' }, `热点话题 ${topic}`), ' ',
      el('button', { type: 'button', class: 'quiet small', 'on:click': () => {
        const s2 = state();
        s2.delete('topic');
        commit(s2);
      } }, '移除'));
  }
}

/** Asks for the first page (or, with `next`, the page after) and draws it. */
async function run(next = false) {
  const s = state();
  const query = apiQuery(s);
  if (next && cursor) query.set('cursor', cursor);
  const mine = ++asked;
  say('');
  let page;
  try {
    page = await api('GET', `/v1/search?${query}`);
  } catch (e) {
    if (mine !== asked) return;
    say(e instanceof ApiError ? `${e.message}：${e.detail}` : '检索失败，请稍后重试');
    return;
  }
  if (mine !== asked) return;
  performance.mark('search-response');
  if (!next) {
    clear(hits);
    estimated = page.facets_estimated === true;
    drawFacets(page.facets ?? {}, s);
    byId('total').textContent = `共 ${page.total} 件`;
    exports(s);
  }
  for (const h of page.hits) hits.appendChild(hit(h));
  cursor = page.next_cursor ?? null;
  more.hidden = !cursor;
  // Drawn: measured to the next frame (the target is recorded, not asserted).
  requestAnimationFrame(() => performance.measure('search-drawn', 'search-response'));
}

/** One hit: title to the case, what it is, where it stands, the highlighted fragment. */
function hit(/** @type {any} */ h) {
  const next = h.next_deadline;
  return el('li', {},
    el('a', { class: 'hit-title', href: `/cases/${encodeURIComponent(h.id)}` }, h.title || '（无标题）'),
    el('span', { class: 'id' }, h.id),
    el('div', { class: 'meta' },
      h.category && el('span', { class: 'chip' }, h.category),
      el('span', { class: `chip grade-${h.grade}` }, h.grade),
      el('span', {}, label(STATUS, h.status)),
      h.department && el('span', {}, h.department),
      h.assignee && el('span', {}, `承办人 ${h.assignee}`),
      el('span', { class: 'muted' }, `受理 ${day(h.received_at)}`),
      next && el('span', { class: next.state, title: label(DEADLINE, next.state) },
        `${label(STEPS, next.step)}${left(next.due)}`)),
    el('p', { class: 'snippet' }, snippet(h.snippet)));
}

/** The facets as checkboxes with counts; picked values stay listed even at zero. */
function drawFacets(/** @type {Record<string, Array<{value: string, count: number}>>} */ facets,
  /** @type {URLSearchParams} */ s) {
  const box = byId('facets');
  clear(box);
  for (const [name, title, show] of FACETS) {
    const picked = (s.get(name) ?? '').split(',').filter(Boolean);
    const values = [...(facets[name] ?? [])];
    for (const p of picked) if (!values.some((v) => v.value === p)) values.push({ value: p, count: 0 });
    if (!values.length) continue;
    const set = el('fieldset', { class: 'facet' }, el('legend', {}, title));
    const all = opened.has(name) ? values : values.slice(0, SHOWN);
    for (const v of all) {
      const id = `f-${name}-${v.value}`;
      const input = el('input', { type: 'checkbox', id, checked: picked.includes(v.value) });
      input.addEventListener('change', () => {
        const s2 = state();
        const now = (s2.get(name) ?? '').split(',').filter(Boolean).filter((x) => x !== v.value);
        if (/** @type {HTMLInputElement} */ (input).checked) now.push(v.value);
        if (now.length) s2.set(name, now.join(',')); else s2.delete(name);
        commit(s2);
      });
      set.appendChild(el('label', { class: `check${v.count ? '' : ' empty'}`, for: id },
        input, show(v.value), el('span', { class: 'count', title: estimated ? '按抽样估算' : '' },
          estimated && v.count ? `约${v.count}` : String(v.count))));
    }
    if (values.length > SHOWN) {
      const open = opened.has(name);
      set.appendChild(el('button', { type: 'button', class: 'quiet small more-values', 'on:click': () => {
        if (open) opened.delete(name); else opened.add(name);
        drawFacets(facets, state());
      } }, open ? '收起' : `更多（${values.length - SHOWN}）`));
    }
    box.appendChild(set);
  }
}

/** The export links for the current filters (the roles that may export only). */
function exports(/** @type {URLSearchParams} */ s) {
  const box = byId('exports');
  box.hidden = !ANALYSE.has(me.role);
  const query = apiQuery(s);
  query.delete('sort');
  for (const format of ['csv', 'xlsx']) {
    query.set('format', format);
    byId(`export-${format}`).setAttribute('href', `/v1/export?${query}`);
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  commit(state());
});
for (const input of [from, to, overdue, sort]) input.addEventListener('change', () => commit(state()));
byId('clear').addEventListener('click', () => {
  const s = new URLSearchParams();
  const keep = state().get('q');
  if (keep) s.set('q', keep);
  history.replaceState(null, '', `/search?${s}`);
  fill();
  run();
});
more.addEventListener('click', () => run(true));
// "/" anywhere but in a field goes to the query, as in most search tools.
document.addEventListener('keydown', (ev) => {
  const t = /** @type {HTMLElement} */ (ev.target);
  if (ev.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName)) {
    ev.preventDefault();
    q.focus();
    q.select();
  }
});

// Unknown parameters in a shared link are dropped rather than sent (the API would refuse them).
const known = new Set([...PLAIN, ...FACETS.map(([n]) => n)]);
const s0 = state();
for (const k of [...s0.keys()]) if (!known.has(k)) s0.delete(k);
history.replaceState(null, '', s0.toString() ? `/search?${s0}` : '/search');
fill();
run();
