// @ts-check
// 受理登记: a hotline agent types or pastes a complaint and sees the triage as they type
// (category, grade and why, routing, deadlines, links to earlier cases, similar cases and
// suggested resolutions), then creates the case in one click. The create carries an
// Idempotency-Key made when the form opens, so a retry after a lost answer is not a second case.
import { start, may } from '../nav.js';
import { api, ApiError } from '../api.js';
import { el, append, clear, byId, say } from '../dom.js';
import { CHANNELS, STEPS, STATUS, label } from '../labels.js';
import { when, left } from '../time.js';
import { highlight, triageRanges, REASONS } from '../highlight.js';

const me = await start('/intake');
const canRead = may(me, '/search');

const form = /** @type {HTMLFormElement} */ (byId('intake-form'));
const title = /** @type {HTMLInputElement} */ (byId('f-title'));
const text = /** @type {HTMLTextAreaElement} */ (byId('f-text'));
const channel = /** @type {HTMLSelectElement} */ (byId('f-channel'));
const contact = /** @type {HTMLInputElement} */ (byId('f-contact'));
const received = /** @type {HTMLInputElement} */ (byId('f-received'));
const createButton = /** @type {HTMLButtonElement} */ (byId('create'));
const state = byId('preview-state');
const body = byId('preview-body');

for (const [code, name] of Object.entries(CHANNELS)) {
  channel.appendChild(el('option', { value: code, selected: code === 'hotline_12345' }, name));
}

/** A fresh idempotency key (crypto.randomUUID needs a secure context; plain http on a LAN is not one). */
function newKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
let idempotencyKey = newKey();

/** The form as the API's Intake (blank optional fields left out). */
function intake() {
  /** @type {Record<string, string>} */
  const out = { text: text.value, channel: channel.value };
  if (title.value.trim()) out.title = title.value.trim();
  if (contact.value.trim()) out.contact = contact.value.trim();
  if (received.value) out.received_at = `${received.value.length === 16 ? `${received.value}:00` : received.value}+08:00`;
  return out;
}

const pct = (/** @type {number} */ c) => `${Math.round(c * 100)}%`;
const gradeChip = (/** @type {string} */ g) => el('span', { class: `chip grade-${g}` }, g);
/** "5 working days" → "5 个工作日". */
function limitText(/** @type {string} */ l) {
  return l.replace(/^(\d+) working days?$/, '$1 个工作日').replace(/^(\d+) working hours?$/, '$1 个工作小时')
    .replace(/^(\d+) hours?$/, '$1 小时');
}
/** A case number: a link for a role that may read cases, else text. */
function caseRef(/** @type {string} */ id) {
  return canRead ? el('a', { href: `/cases/${encodeURIComponent(id)}` }, id) : el('span', { class: 'case-id' }, id);
}
/** Case numbers, the first five of them. */
function list(/** @type {string[]} */ ids) {
  const out = ids.slice(0, 5).flatMap((id, i) => (i ? ['、', caseRef(id)] : [caseRef(id)]));
  return ids.length > 5 ? [...out, ` 等 ${ids.length} 件`] : out;
}

/** Repeat, duplicate and group warnings, when the answer has any. */
function warnings(/** @type {any} */ s) {
  const items = [];
  if (s?.repeat_of?.length) items.push(el('li', {}, '重复投诉：同一投诉人此前有相似投诉 ', ...list(s.repeat_of)));
  if (s?.duplicate_of) items.push(el('li', {}, '疑似重复：与 ', caseRef(s.duplicate_of), ' 内容几乎相同'));
  if (s?.group) {
    items.push(el('li', {}, `群体投诉：${s.group.group_id}，共 ${s.group.complainants} 位投诉人`,
      s.group.cases?.length ? '，此前案件 ' : '', ...list(s.group.cases ?? [])));
  }
  return items.length ? el('ul', { class: 'warnings', 'aria-label': '关联提示' }, ...items) : null;
}

/** Category and grade with confidence and alternatives. */
function verdict(/** @type {any} */ a) {
  const alt = (/** @type {any[]} */ xs) => (xs?.length
    ? el('span', { class: 'alt muted' }, `其他可能：${xs.map((x) => `${x.label} ${pct(x.confidence)}`).join('、')}`) : null);
  const c = a.category;
  const g = a.grade;
  const hint = a.suggested_department;
  return el('dl', { class: 'verdict' },
    el('dt', {}, '分类'),
    el('dd', {}, ...(c ? [el('strong', { id: 'pv-category' }, c.label), ` ${pct(c.confidence)}`, alt(c.alternatives)] : ['—'])),
    el('dt', {}, '分级'),
    el('dd', {}, ...(g ? [el('span', { id: 'pv-grade' }, gradeChip(g.label)), ` ${pct(g.confidence)}`,
      g.decided_by === 'rule' ? ` · 由规则判定（${REASONS[g.reason] ?? g.reason}），模型原判 ${g.model.label}`
        : ` · 模型判定${g.model_reason && g.model_reason !== 'none' ? `（${REASONS[g.model_reason] ?? g.model_reason}）` : ''}`,
      alt(g.alternatives)] : ['—'])),
    el('dt', {}, '派单建议'),
    el('dd', { id: 'pv-dispatch' }, ...(a.dispatch ? [el('strong', {}, a.dispatch.department),
      a.dispatch.source === 'model' ? ` ${pct(a.dispatch.confidence)} · 由已办结留言的答复单位学得` : ' · 按分类对应表',
      alt((a.dispatch.alternatives ?? []).map((/** @type {any} */ x) => ({ label: x.department, confidence: x.confidence })))]
      : ['—'])),
    el('dt', {}, '承办'),
    el('dd', {}, a.routing ? `${a.routing.department} · ${a.routing.tier}` : '—',
      hint && hint.department !== a.routing?.department
        ? el('span', { class: 'alt muted' }, `相似案件多由 ${hint.department} 办理（${hint.cases}/${hint.of}）`) : null),
  );
}

/** The text the model read, its drivers and fired rules marked, and the rules listed. */
function why(/** @type {any} */ a) {
  const rules = (a.grade?.rules ?? []).map((/** @type {any} */ r) =>
    el('li', {}, `${REASONS[r.reason] ?? r.reason} → `, gradeChip(r.grade), `：${r.phrase}`));
  // Rules the profile held back (the model gives their grade too little): evidence, no raise.
  const held = (a.grade?.held_rules ?? []).map((/** @type {any} */ r) =>
    el('li', {}, `${REASONS[r.reason] ?? r.reason} → ${r.grade}：${r.phrase}（模型不支持该等级，未据此升级）`));
  const phrases = (/** @type {any[]} */ ds) => ds.map((d) => d.phrase).join('、');
  return el('div', { class: 'why' },
    el('h3', {}, '依据'),
    el('p', { class: 'legend muted' },
      el('mark', { class: 'hl-category' }, '分类依据'), ' ', el('mark', { class: 'hl-grade' }, '分级依据'), ' ',
      el('mark', { class: 'hl-rule' }, '规则命中'), a.truncated ? '（长文本只分析了开头和结尾）' : ''),
    el('p', { class: 'masked', id: 'pv-text' }, highlight(a.masked_text, triageRanges(a))),
    a.category?.drivers?.length ? el('p', {}, `分类依据：${phrases(a.category.drivers)}`) : null,
    a.grade?.drivers?.length ? el('p', {}, `分级依据：${phrases(a.grade.drivers)}`) : null,
    rules.length ? el('ul', { class: 'rules', 'aria-label': '命中的分级规则' }, ...rules) : null,
    held.length ? el('ul', { class: 'rules muted', id: 'pv-held', 'aria-label': '命中但未采纳的分级规则' }, ...held) : null,
  );
}

/** The deadlines as due times with what is left. */
function deadlines(/** @type {any[] | undefined} */ ds) {
  if (!ds?.length) return null;
  return el('table', { class: 'deadlines' },
    el('caption', {}, '办理时限'),
    el('thead', {}, el('tr', {}, el('th', {}, '环节'), el('th', {}, '时限'), el('th', {}, '截止（北京时间）'))),
    el('tbody', {}, ...ds.map((d) => el('tr', {},
      el('td', {}, label(STEPS, d.step)), el('td', {}, limitText(d.limit)),
      el('td', {}, when(d.due), ' ', el('span', { class: 'muted' }, left(d.due)))))));
}

/** Similar cases and suggested resolutions. */
function history(/** @type {any} */ a) {
  const out = [];
  if (a.similar?.length) {
    out.push(el('h3', {}, '相似案件'), el('ul', { class: 'similar' }, ...a.similar.map((/** @type {any} */ s) => el('li', {},
      caseRef(s.id), ' ', gradeChip(s.grade), ` ${s.category ?? ''} · ${label(STATUS, s.status)} · ${s.department ?? '—'} · 相似度 ${pct(s.score)}`,
      el('div', { class: 'excerpt muted' }, s.excerpt)))));
  }
  if (a.suggestions?.length) {
    out.push(el('h3', {}, '建议处理'), el('ul', { class: 'suggestions' }, ...a.suggestions.map((/** @type {any} */ s) => el('li', {},
      el('div', {}, `${s.department ?? '—'} · ${s.remedy} · 相似度 ${pct(s.score)}（`, caseRef(s.case_id), '）'),
      el('div', { class: 'excerpt' }, s.resolution)))));
  }
  return out;
}

function drawPreview(/** @type {any} */ a) {
  performance.mark('intake-preview-answer');
  clear(body);
  append(body, warnings(a.signals), verdict(a), why(a), deadlines(a.deadlines), ...history(a));
  state.textContent = `分类 ${a.category?.label ?? '—'}，分级 ${a.grade?.label ?? '—'}`;
  performance.measure('intake-preview-drawn', 'intake-preview-answer');
}

// The live preview: one request at a time, the previous one cancelled, 400 ms after the last key.
let timer = 0;
/** @type {AbortController | null} */
let inFlight = null;
function schedule() {
  clearTimeout(timer);
  timer = window.setTimeout(preview, 400);
}
async function preview() {
  inFlight?.abort();
  if (!text.value.trim()) {
    inFlight = null;
    clear(body);
    state.textContent = '输入投诉内容后显示分类、分级和依据。';
    return;
  }
  const ctl = new AbortController();
  inFlight = ctl;
  state.textContent = '分诊中…';
  try {
    const a = await api('POST', '/v1/triage', intake(), { signal: ctl.signal });
    if (inFlight === ctl) drawPreview(a);
  } catch (e) {
    if (/** @type {any} */ (e)?.name === 'AbortError' || inFlight !== ctl) return;
    if (e instanceof ApiError && (e.status === 503 || e.code === 'overloaded')) state.textContent = '服务繁忙，稍后重试';
    else if (e instanceof ApiError && e.code === 'empty_text') state.textContent = '输入投诉内容后显示分类、分级和依据。';
    else state.textContent = `预览失败：${e instanceof ApiError ? e.message : '网络异常'}`;
  }
}
for (const input of [title, text, contact]) input.addEventListener('input', schedule);
for (const input of [channel, received]) input.addEventListener('change', schedule);

/** What the created case's panel shows (an intake role cannot open the case itself). */
function drawCreated(/** @type {any} */ c) {
  const box = byId('created');
  const out = byId('created-body');
  const first = [...(c.deadlines ?? [])].filter((d) => !d.met_at).sort((x, y) => Date.parse(x.due) - Date.parse(y.due))[0];
  clear(out);
  append(out,
    el('p', { class: 'created-id' }, '案件编号 ', el('strong', { id: 'created-id' }, caseRef(c.id)), ` · ${when(c.created_at)} · ${label(CHANNELS, c.channel)}`),
    warnings(c.signals),
    el('p', {}, `分类 ${c.category ?? '—'} · 分级 `, gradeChip(c.grade),
      c.reasons?.length ? `（${c.reasons.map((/** @type {string} */ r) => REASONS[r] ?? r).join('、')}）` : '',
      ` · 承办 ${c.department ?? '—'}${c.tier ? ` · ${c.tier}` : ''} · ${label(STATUS, c.status)}`),
    first ? el('p', {}, `${label(STEPS, first.step)}截止 ${when(first.due)} `, el('span', { class: 'muted' }, left(first.due))) : null);
  box.hidden = false;
}

let creating = false;
async function create() {
  if (creating) return;
  if (!text.value.trim()) {
    say('请填写投诉内容');
    text.focus();
    return;
  }
  creating = true;
  createButton.disabled = true;
  say('');
  try {
    const c = await api('POST', '/v1/cases', intake(), { headers: { 'Idempotency-Key': idempotencyKey } });
    idempotencyKey = newKey();
    drawCreated(c);
    form.reset();
    say(`已创建案件 ${c.id}`, 'ok');
    text.focus();
  } catch (e) {
    // The key is kept: submitting again after a lost answer replays the first create.
    say(e instanceof ApiError ? `创建失败：${e.message}${e.detail && e.detail !== e.message ? `（${e.detail}）` : ''}` : '创建失败：网络异常，请重试');
  } finally {
    creating = false;
    createButton.disabled = false;
  }
}
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  create();
});
form.addEventListener('reset', () => {
  const keep = channel.value;
  inFlight?.abort();
  clearTimeout(timer);
  setTimeout(() => {
    channel.value = keep;
    clear(body);
    state.textContent = '输入投诉内容后显示分类、分级和依据。';
    text.focus();
  });
});
text.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    create();
  }
});
text.focus();
