// @ts-check
// 案件: the masked complaint with the phrases that drove its category and grade marked, the
// judgement (confidence, alternatives, the rule that fired), deadlines, links, similar cases,
// suggested resolutions, the handling record and the audit trail; and the steps the caller's
// role may take now (the API's `next_actions`), a correction, a note, a call-back.
import { api, ApiError } from '../api.js';
import { el, byId, clear, append, say } from '../dom.js';
import { start } from '../nav.js';
import { ACTIONS, CHANNELS, DEADLINE, STATUS, STEPS, label } from '../labels.js';
import { when, day, left } from '../time.js';
import { highlight, REASONS } from '../highlight.js';
import { openAction } from '../case_actions.js';

const AUDIT = /** @type {Record<string, string>} */ ({
  create: '受理', update: '修改', correct: '更正', link: '关联', reveal_contact: '查看联系方式', note: '备注',
  contact: '联系记录', ...ACTIONS,
});
const DECIDED = /** @type {Record<string, string>} */ ({ model: '模型', rule: '规则', correction: '人工更正', links: '关联' });

const me = await start('/case');
/** The case number in the path ("" when it does not decode: the API then answers not found). */
const id = (() => {
  try {
    return decodeURIComponent(location.pathname.split('/').pop() ?? '');
  } catch {
    return '';
  }
})();
let dir = /** @type {any} */ (null);
/** The case as last drawn. */
let shown = /** @type {any} */ (null);
/** The model's explanation asked for now (imported cases keep none). */
let why = /** @type {any} */ (null);

/** Every place `phrase` occurs in `text`, compared after NFKC folding (the model read folded
 * text: "，" there is ","), as UTF-16 ranges of the text as shown. */
function occurrences(/** @type {string} */ text, /** @type {string} */ phrase) {
  let folded = '';
  const at = /** @type {number[]} */ ([]);
  let i = 0;
  for (const ch of text) {
    const f = ch.normalize('NFKC');
    for (let k = 0; k < f.length; k++) at.push(i);
    folded += f;
    i += ch.length;
  }
  at.push(i);
  const want = phrase.normalize('NFKC').trim();
  const out = [];
  if (!want) return out;
  for (let k = folded.indexOf(want); k >= 0; k = folded.indexOf(want, k + want.length)) {
    out.push({ start: at[k], end: at[k + want.length] });
  }
  return out;
}

/** The ranges to mark in `text`: drivers of the category and the grade, and rule phrases. */
function marks(/** @type {string} */ text, /** @type {any} */ t) {
  const ranges = [];
  const add = (/** @type {string} */ phrase, /** @type {string} */ kind, /** @type {string} */ reason) => {
    for (const r of occurrences(text, phrase)) ranges.push({ ...r, kind, reason });
  };
  for (const d of t?.category?.drivers ?? []) add(d.phrase, 'category', `类别依据：${d.phrase}（权重 ${d.weight.toFixed(2)}）`);
  for (const d of t?.grade?.drivers ?? []) add(d.phrase, 'grade', `等级依据：${d.phrase}（权重 ${d.weight.toFixed(2)}）`);
  for (const r of t?.grade?.rules ?? []) if (r.phrase) add(r.phrase, 'rule', `规则「${REASONS[r.reason] ?? r.reason}」→ ${r.grade}`);
  return ranges;
}

function pct(/** @type {number} */ x) {
  return `${Math.round(x * 100)}%`;
}

function bar(/** @type {number} */ x) {
  return el('span', { class: 'bar-track' }, el('span', { class: `bar w${Math.round(x * 10)}` }));
}

/** A short list of cases (links, similar): number, what it is, where it stands. */
function caseRow(/** @type {any} */ c) {
  return el('li', {},
    el('a', { href: `/cases/${encodeURIComponent(c.id)}` }, c.id), ' ',
    c.category && el('span', { class: 'chip' }, c.category), ' ',
    el('span', { class: `chip grade-${c.grade}` }, c.grade), ' ',
    el('span', {}, label(STATUS, c.status)), ' ',
    el('span', { class: 'muted' }, `${c.department ?? ''} · ${day(c.received_at)}`),
    c.score !== undefined && c.score > 0 && el('span', { class: 'muted' }, ` · 相似度 ${pct(c.score)}`),
    el('p', { class: 'excerpt' }, c.title || c.excerpt || c.snippet?.replace(/<\/?em>/g, '') || ''));
}

/** Whether a triage record names the phrases behind its judgement (import keeps none). */
function hasDrivers(/** @type {any} */ t) {
  return (t?.category?.drivers?.length ?? 0) + (t?.grade?.drivers?.length ?? 0) > 0;
}

/** @param {any} c the case @param {any} [why] the model's explanation asked for now, when the record has none */
/** The dispatch suggestion (派单建议) when it differs from who handles the case or is the model's. */
function dispatchHint(/** @type {any} */ c) {
  const d = c.dispatch;
  if (!d || (d.source === 'table' && d.department === c.department)) return null;
  const how = d.source === 'model' ? `模型 ${Math.round(d.confidence * 100)}%` : '按分类';
  return el('span', { id: 'dispatch', class: 'muted', title: '由已办结留言的答复单位学得；其他可能：' +
    (d.alternatives ?? []).map((/** @type {any} */ a) => `${a.department} ${Math.round(a.confidence * 100)}%`).join('、') },
  `派单建议 ${d.department}（${how}）`);
}

function drawCase(/** @type {any} */ c, why = null) {
  document.title = `${c.id} · 投诉工作台`;
  byId('case-title').textContent = c.title || '（无标题）';
  const meta = byId('case-meta');
  clear(meta);
  append(meta, el('span', {}, c.id), c.category && el('span', { class: 'chip' }, c.category),
    el('span', { class: `chip grade-${c.grade}` }, c.grade), el('strong', { id: 'status' }, label(STATUS, c.status)),
    el('span', {}, label(CHANNELS, c.channel)), el('span', {}, `受理 ${when(c.received_at)}`),
    c.department && el('span', {}, `承办 ${c.department}${c.tier ? `（${c.tier}）` : ''}`),
    dispatchHint(c),
    c.assignee && el('span', {}, `承办人 ${c.assignee}`));
  const record = c.triage ?? null;
  const t = hasDrivers(record) ? record : why ?? record;
  const corrected = c.corrections && Object.keys(c.corrections).length > 0;
  byId('text-title').replaceChildren(c.title ? highlight(c.title, marks(c.title, t), { unit: 'utf16' }) : '');
  byId('text').replaceChildren(highlight(c.text, marks(c.text, t), { unit: 'utf16' }));
  byId('explained').textContent = t === why && why ? '（批量导入的案件未保存依据：以上为当前模型即时给出的依据）'
    : !hasDrivers(t) ? '（无模型依据）'
      : corrected ? '（标注为受理时模型的依据；分类分级已人工更正）' : '（受理时模型的依据）';
  drawJudgement(c, t);
  drawDeadlines(c.deadline_status ?? []);
  drawActions(c);
  drawRecord(c.handling ?? {});
  const cat = /** @type {HTMLSelectElement} */ (byId('correct-category'));
  cat.value = c.category ?? '';
  /** @type {HTMLSelectElement} */ (byId('correct-grade')).value = c.grade;
}

function drawJudgement(/** @type {any} */ c, /** @type {any} */ t) {
  const box = byId('judgement');
  clear(box);
  const head = (/** @type {string} */ title, /** @type {any} */ p, /** @type {string} */ now) => {
    const d = el('div', {}, el('h3', {}, title), el('div', { class: 'big' }, now));
    if (p?.confidence !== undefined) append(d, el('div', {}, `模型置信度 ${pct(p.confidence)}`, bar(p.confidence)));
    if (p?.label && p.label !== now) append(d, el('div', { class: 'muted' }, `模型判为 ${p.label}`));
    const alts = p?.alternatives ?? p?.model?.alternatives ?? [];
    if (alts.length) {
      append(d, el('div', { class: 'muted small' }, '其他可能：'),
        el('ul', { class: 'small' }, ...alts.slice(0, 3).map((/** @type {any} */ a) =>
          el('li', {}, `${a.label} ${pct(a.confidence)}`))));
    }
    return d;
  };
  box.appendChild(head('类别', t?.category, c.category ?? '—'));
  const g = head('等级', t?.grade, c.grade);
  if (t?.grade?.decided_by) append(g, el('div', {}, `判定依据：${DECIDED[t.grade.decided_by] ?? t.grade.decided_by}`));
  // The model's own reading; alerts follow the rules' reasons below, which quote evidence.
  if (t?.grade?.model_reason && t.grade.model_reason !== 'none') append(g, el('div', { class: 'muted small' }, `模型读出的理由：${REASONS[t.grade.model_reason] ?? t.grade.model_reason}（模型原判 ${t.grade.model?.label ?? '—'}）`));
  for (const r of t?.grade?.rules ?? []) {
    append(g, el('div', { class: 'rule' }, `规则「${REASONS[r.reason] ?? r.reason}」命中“`, el('mark', { class: 'hl-rule' }, r.phrase ?? ''), `” → ${r.grade}`));
  }
  // Held back by the profile: the model gives the rule's grade too little (evidence only).
  for (const r of t?.grade?.held_rules ?? []) {
    append(g, el('div', { class: 'rule muted small' }, `规则「${REASONS[r.reason] ?? r.reason}」命中“${r.phrase ?? ''}” → ${r.grade}，模型不支持该等级，未采纳`));
  }
  for (const r of c.reasons ?? []) {
    if (!(t?.grade?.rules ?? []).some((/** @type {any} */ x) => x.reason === r)) append(g, el('div', { class: 'muted small' }, `理由：${REASONS[r] ?? r}`));
  }
  box.appendChild(g);
}

function drawDeadlines(/** @type {any[]} */ list) {
  const body = /** @type {HTMLTableSectionElement} */ (byId('deadlines').querySelector('tbody'));
  clear(body);
  for (const d of list) {
    const open = d.state === 'open' || d.state === 'due_soon' || d.state === 'breached';
    body.appendChild(el('tr', { class: d.state },
      el('td', {}, STEPS[d.step] ?? d.step),
      el('td', {}, when(d.due), open && !d.paused ? el('div', { class: 'small' }, left(d.due)) : null),
      el('td', { class: d.state }, d.paused ? '已暂停' : label(DEADLINE, d.state))));
  }
  if (!list.length) body.appendChild(el('tr', {}, el('td', { colspan: 3, class: 'muted' }, '无时限')));
}

function drawActions(/** @type {any} */ c) {
  const box = byId('actions');
  clear(box);
  for (const a of c.next_actions ?? []) {
    box.appendChild(el('button', { type: 'button', 'data-action': a, 'on:click': () => act(a, c) }, ACTIONS[a] ?? a));
  }
  byId('no-actions').hidden = (c.next_actions ?? []).length > 0;
}

async function act(/** @type {string} */ action, /** @type {any} */ c) {
  if (!dir) dir = await api('GET', '/v1/directory');
  openAction(action, dir, c, async (body) => {
    try {
      await api('POST', `/v1/cases/${encodeURIComponent(id)}/actions`, body);
    } catch (e) {
      return e instanceof ApiError ? `${e.message}：${e.detail}` : '操作失败';
    }
    say(`已${ACTIONS[action] ?? action}`, 'ok');
    await load();
    return null;
  });
}

function drawRecord(/** @type {any} */ h) {
  const box = byId('record');
  clear(box);
  const entries = [
    ...(h.notes ?? []).map((/** @type {any} */ n) => [n.at, `${n.by} 备注：${n.text}`]),
    ...(h.contacts ?? []).map((/** @type {any} */ x) => [x.at, `${x.by} ${x.reached ? '联系上' : '未联系上'}诉求人${x.outcome ? `：${x.outcome}` : ''}`]),
    ...(h.returns ?? []).map((/** @type {any} */ r) => [r.at, `${r.by ?? ''} 退单：${r.reason ?? ''}`]),
  ].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  if (h.follow_up) entries.push([h.follow_up.at, `回访：${h.follow_up.result ?? ''}${h.follow_up.comment ? `，${h.follow_up.comment}` : ''}`]);
  if (h.root_cause) entries.push([h.closed_at, `办结，根因：${h.root_cause}`]);
  for (const [at, text] of entries) box.appendChild(el('div', { class: 'entry' }, el('span', { class: 'muted small' }, when(at)), ' ', text));
  if (!entries.length) box.appendChild(el('p', { class: 'muted' }, '暂无'));
}

function drawAudit(/** @type {any[]} */ events) {
  const box = byId('audit');
  clear(box);
  for (const e of [...events].reverse()) {
    const change = e.after && Object.keys(e.after).length
      ? Object.entries(e.after).map(([k, v]) => `${k}: ${e.before?.[k] !== undefined ? `${JSON.stringify(e.before[k])} → ` : ''}${JSON.stringify(v)}`).join('；')
      : '';
    box.appendChild(el('li', {}, el('span', { class: 'muted small' }, when(e.at)), ' ', el('span', { class: 'what' }, AUDIT[e.action] ?? e.action),
      ` · ${e.actor}`, change && el('div', { class: 'change' }, change), e.note && el('div', { class: 'change' }, `理由：${e.note}`)));
  }
}

function drawLinks(/** @type {any} */ l) {
  const box = byId('links');
  clear(box);
  box.className = 'links';
  const group = (/** @type {string} */ title, /** @type {any[]} */ list) => {
    if (!list?.length) return;
    append(box, el('h3', {}, `${title}（${list.length}）`), el('ol', { class: 'case-list' }, ...list.map(caseRow)));
  };
  group('同一诉求人的其他案件', l.same_complainant);
  group('本件重复的早前投诉', l.repeat_of);
  group('重复本件的后续投诉', l.repeated_by);
  group('本件疑似重复', l.duplicate_of ? [l.duplicate_of] : []);
  group('疑似重复本件', l.duplicates);
  if (l.group) group(`群体投诉 ${l.group.id}，共 ${l.group.total} 件`, l.group.members);
  if (!box.childElementCount) box.appendChild(el('p', { class: 'muted' }, '无关联案件'));
}

function drawSuggestions(/** @type {any} */ a) {
  const box = byId('suggestions');
  clear(box);
  if (a.suggested_department) {
    const d = a.suggested_department;
    box.appendChild(el('p', {}, `相似已办结案件多由 `, el('strong', {}, d.department), ` 办理（${d.cases}/${d.of} 件）`));
  }
  for (const s of a.suggestions ?? []) {
    box.appendChild(el('div', { class: 'suggestion' },
      el('div', { class: 'small muted' }, el('a', { href: `/cases/${encodeURIComponent(s.case_id)}` }, s.case_id),
        ` · ${s.remedy}${s.department ? ` · ${s.department}` : ''} · 相似度 ${pct(s.score)}`),
      el('div', {}, s.resolution)));
  }
  if (!box.childElementCount) box.appendChild(el('p', { class: 'muted' }, '暂无相似的已办结案件'));
}

async function load() {
  const c = await api('GET', `/v1/cases/${encodeURIComponent(id)}`);
  shown = c;
  if (!hasDrivers(c.triage) && !why) {
    // Best effort: when the model is busy the page shows the case without marks.
    why = await api('GET', `/v1/cases/${encodeURIComponent(id)}/explanation`).catch(() => null);
  }
  drawCase(c, why);
  byId('case-body').hidden = false;
  api('GET', `/v1/cases/${encodeURIComponent(id)}/audit`).then(drawAudit).catch(() => {});
  return c;
}

async function main() {
  try {
    await load();
  } catch (e) {
    say(e instanceof ApiError && e.status === 404 ? `未找到案件 ${id}（或不在您的部门范围内）` : e instanceof ApiError ? e.message : '加载失败');
    return;
  }
  const enc = encodeURIComponent(id);
  api('GET', `/v1/cases/${enc}/links`).then(drawLinks).catch(() => { byId('links').textContent = '加载失败'; });
  api('GET', `/v1/cases/${enc}/suggestions`).then(drawSuggestions).catch(() => { byId('suggestions').textContent = '加载失败'; });
  api('GET', `/v1/cases/${enc}/similar?limit=5`).then((list) => {
    const box = byId('similar');
    clear(box);
    for (const s of list) box.appendChild(caseRow(s));
    if (!list.length) box.appendChild(el('li', { class: 'muted' }, '暂无'));
  }).catch(() => {});
  dir = await api('GET', '/v1/directory');
  const cat = /** @type {HTMLSelectElement} */ (byId('correct-category'));
  for (const name of dir.categories) cat.appendChild(el('option', { value: name }, name));
  cat.value = shown?.category ?? '';
  const canHandle = ['handler', 'supervisor', 'admin', 'intake'].includes(me.role);
  byId('note-form').hidden = !canHandle;
  byId('contact-form').hidden = !['handler', 'supervisor', 'admin'].includes(me.role);
}

byId('correct-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(/** @type {HTMLFormElement} */ (ev.target));
  try {
    await api('PATCH', `/v1/cases/${encodeURIComponent(id)}`, { category: f.get('category'), grade: f.get('grade') });
    say('已保存更正', 'ok');
    await load();
  } catch (e) {
    say(e instanceof ApiError ? `${e.message}：${e.detail}` : '更正失败');
  }
});
byId('note-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = /** @type {HTMLTextAreaElement} */ (byId('note-text'));
  try {
    await api('POST', `/v1/cases/${encodeURIComponent(id)}/notes`, { text: text.value });
    text.value = '';
    await load();
  } catch (e) {
    say(e instanceof ApiError ? `${e.message}：${e.detail}` : '保存失败');
  }
});
byId('contact-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const reached = /** @type {HTMLInputElement} */ (byId('contact-reached')).checked;
  const outcome = /** @type {HTMLInputElement} */ (byId('contact-outcome'));
  try {
    await api('POST', `/v1/cases/${encodeURIComponent(id)}/contacts`, { reached, ...(outcome.value.trim() ? { outcome: outcome.value.trim() } : {}) });
    outcome.value = '';
    await load();
  } catch (e) {
    say(e instanceof ApiError ? `${e.message}：${e.detail}` : '保存失败');
  }
});

main();
