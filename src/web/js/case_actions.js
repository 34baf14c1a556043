// @ts-check
// The fields each step of the process asks for, as a dialog's form: only the steps the API
// offers the caller (`next_actions`) get a button, and the server checks everything again.
import { el, append, clear } from './dom.js';
import { ACTIONS, STEPS } from './labels.js';

const REMEDIES = ['道歉', '补偿', '退款', '换货', '维修', '解释说明', '转办'];
const RESULTS = ['满意', '基本满意', '不满意'];

/**
 * A field: [name, label, kind, required, choices?]. Kinds: text, area, select, number, check.
 * @typedef {[string, string, string, boolean, string[]?]} Field
 */

/**
 * The fields of `action` for this case.
 * @param {string} action
 * @param {{departments: string[], handlers: Array<{name: string, departments: string[]}>, root_causes: string[]}} dir
 * @returns {Field[]}
 */
function fields(action, dir) {
  const reason = /** @type {Field} */ (['reason', '原因', 'area', true]);
  switch (action) {
    case 'assign':
      return [['department', '承办部门', 'select', true, dir.departments],
        ['handler', '承办人（可不选）', 'select', false, ['', ...dir.handlers.map((h) => h.name)]]];
    case 'return': case 'suspend': case 'withdraw': case 'reopen': case 'close_abnormally':
      return [reason];
    case 'reply':
      return [['reply', '答复内容', 'area', true], ['remedy', '处理方式', 'select', false, ['', ...REMEDIES]],
        ['amount', '金额（元，可不填）', 'number', false]];
    case 'follow_up':
      return [['result', '回访结果', 'select', true, RESULTS], ['solved', '诉求人表示问题已解决', 'check', false],
        ['comment', '回访记录', 'area', false]];
    case 'close':
      return [['root_cause', '问题根因', 'select', true, dir.root_causes]];
    case 'request_extension':
      return [['step', '延期环节', 'select', true, ['close', 'reply', 'confirm', 'follow_up']],
        ['days', '延期工作日（1–60）', 'number', true], reason];
    case 'grant_extension': case 'refuse_extension':
      return [['reason', '意见（可不填）', 'area', false]];
    default:
      return [];
  }
}

/**
 * Opens the dialog for `action`; resolves to the request body, or null when cancelled.
 * @param {string} action
 * @param {any} dir
 * @param {any} c the case
 * @param {(body: Record<string, unknown>) => Promise<string | null>} send takes the step; an error message or null
 */
export function openAction(action, dir, c, send) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('action-dialog'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('action-form'));
  const box = /** @type {HTMLElement} */ (document.getElementById('action-fields'));
  const error = /** @type {HTMLElement} */ (document.getElementById('action-error'));
  /** @type {HTMLElement} */ (document.getElementById('action-title')).textContent = ACTIONS[action] ?? action;
  clear(box);
  error.textContent = '';
  const list = [...fields(action, dir), /** @type {Field} */ (['note', '备注（可不填）', 'text', false])];
  for (const [name, text, kind, required, choices] of list) {
    const id = `act-${name}`;
    /** @type {HTMLElement} */
    let input;
    if (kind === 'select') {
      input = el('select', { id, name, required });
      // Assigning offers dispatch's department first when the directory has it (派单建议).
      const suggested = c.dispatch?.policy_department;
      const chosen = name === 'department' && (choices ?? []).includes(suggested) ? suggested : c.department;
      for (const v of choices ?? []) {
        const shown = name === 'step' ? STEPS[v] ?? v : v || '（不指定）';
        input.appendChild(el('option', { value: v, selected: name === 'department' && v === chosen },
          name === 'department' && v === suggested ? `${shown}（派单建议）` : shown));
      }
    } else if (kind === 'area') {
      input = el('textarea', { id, name, rows: 3, maxlength: 2000, required });
    } else if (kind === 'check') {
      append(box, el('label', { class: 'check', for: id }, el('input', { type: 'checkbox', id, name }), text));
      continue;
    } else {
      input = el('input', { id, name, type: kind === 'number' ? 'number' : 'text', min: kind === 'number' ? 0 : null, required, maxlength: kind === 'text' ? 2000 : null });
    }
    append(box, el('label', { for: id }, text), input);
  }
  const submit = async (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    /** @type {Record<string, unknown>} */
    const body = { action };
    for (const [name, , kind] of list) {
      const input = /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
      if (!input) continue;
      if (kind === 'check') body[name] = input.checked;
      else if (input.value.trim() === '') continue;
      else if (kind === 'number') body[name] = Number(input.value);
      else body[name] = input.value.trim();
    }
    const failed = await send(body);
    if (failed) error.textContent = failed;
    else dialog.close();
  };
  form.onsubmit = submit;
  /** @type {HTMLElement} */ (document.getElementById('action-cancel')).onclick = () => dialog.close();
  dialog.showModal();
  /** @type {HTMLElement | null} */ (box.querySelector('input, select, textarea'))?.focus();
}
