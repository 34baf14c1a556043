// @ts-check
// Marks the phrases that drove a prediction in the text the model read. The API counts
// offsets in characters (Unicode code points: "🏠" is one), not in JavaScript's UTF-16 units,
// so ranges are converted before the text is cut. Ranges may overlap (a rule's phrase inside a
// driver): each stretch is marked once, titled with every reason that covers it. Text is only
// ever set as text.
import { el } from './dom.js';

/**
 * A stretch of the text to mark: [start, end) in code points (`unit: 'utf16'` for JS offsets),
 * why it is marked (the <mark>'s title), and a kind that becomes the class `hl-KIND`.
 * @typedef {{start: number, end: number, reason: string, kind?: string}} Range
 */

/** The grading guideline's reason codes, in Chinese. */
export const REASONS = /** @type {Record<string, string>} */ ({
  safety: '人身安全', group: '群体投诉', external: '扬言投诉媒体或上级', security: '信息泄露或诈骗',
  big_loss: '重大损失', repeat: '重复投诉', money: '金钱损失', strong: '情绪激烈', outage: '基本服务中断',
  violation: '违法违规', none: '一般',
});

/**
 * The JS (UTF-16) offset of each code-point offset 0..n of `text` (n+1 entries).
 * @param {string} text
 */
function utf16Offsets(text) {
  const at = [0];
  let i = 0;
  for (const ch of text) {
    i += ch.length;
    at.push(i);
  }
  return at;
}

/**
 * The text with <mark> elements over the ranges, as a DocumentFragment.
 * @param {string} text
 * @param {Range[]} ranges
 * @param {{unit?: 'char' | 'utf16'}} [options] what the offsets count (default: code points, as the API)
 * @returns {DocumentFragment}
 */
export function highlight(text, ranges, { unit = 'char' } = {}) {
  const at = unit === 'char' ? utf16Offsets(text) : null;
  const max = text.length;
  /** @param {number} n */
  const pos = (n) => {
    if (!at) return Math.min(Math.max(0, n), max);
    return at[Math.min(Math.max(0, n), at.length - 1)];
  };
  const spans = [];
  for (const r of ranges) {
    if (!Number.isFinite(r.start) || !Number.isFinite(r.end)) continue;
    const s = pos(r.start);
    const e = pos(r.end);
    if (e > s) spans.push({ s, e, r });
  }
  const cuts = new Set([0, max]);
  for (const { s, e } of spans) cuts.add(s).add(e);
  const points = [...cuts].sort((a, b) => a - b);
  const out = document.createDocumentFragment();
  let plain = '';
  for (let k = 0; k + 1 < points.length; k++) {
    const [a, b] = [points[k], points[k + 1]];
    const piece = text.slice(a, b);
    const over = spans.filter(({ s, e }) => s <= a && e >= b).map(({ r }) => r);
    if (over.length === 0) {
      plain += piece;
      continue;
    }
    if (plain) out.appendChild(document.createTextNode(plain));
    plain = '';
    const reasons = [...new Set(over.map((r) => r.reason))];
    const kinds = [...new Set(over.map((r) => r.kind).filter(Boolean))];
    out.appendChild(el('mark', { class: kinds.map((x) => `hl-${x}`).join(' ') || null, title: reasons.join('\n') }, piece));
  }
  if (plain) out.appendChild(document.createTextNode(plain));
  return out;
}

/** The length of a phrase in code points. */
function chars(/** @type {string} */ s) {
  return Array.from(s).length;
}

/**
 * The ranges to mark in a triage answer's `masked_text`: the phrases that drove the category
 * and the grade (kinds `category`, `grade`) and the rules that fired on a phrase (`rule`).
 * A rule without an offset (a repeat or group link) marks nothing.
 * @param {any} t a triage record or a `POST /v1/triage` answer
 * @returns {Range[]}
 */
export function triageRanges(t) {
  /** @type {Range[]} */
  const out = [];
  const pct = (/** @type {number} */ w) => w.toFixed(2);
  for (const d of t?.category?.drivers ?? []) {
    out.push({
      start: d.start, end: d.start + chars(d.phrase), kind: 'category',
      reason: `分类依据「${d.phrase}」→ ${t.category.label}（权重 ${pct(d.weight)}）`,
    });
  }
  for (const d of t?.grade?.drivers ?? []) {
    out.push({
      start: d.start, end: d.start + chars(d.phrase), kind: 'grade',
      reason: `分级依据「${d.phrase}」→ 模型分级 ${t.grade.model?.label ?? t.grade.label}（权重 ${pct(d.weight)}）`,
    });
  }
  for (const r of t?.grade?.rules ?? []) {
    if (typeof r.start !== 'number') continue;
    out.push({
      start: r.start, end: r.start + chars(r.phrase), kind: 'rule',
      reason: `规则「${REASONS[r.reason] ?? r.reason}」命中「${r.phrase}」→ ${r.grade}`,
    });
  }
  return out;
}
