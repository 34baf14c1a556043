// @ts-check
// The home page: who is signed in, and the counts of the work queues they see.
import { api, session, ApiError } from './api.js';

const QUEUES = /** @type {Array<[string, string]>} */ ([
  ['mine', '我的待办'],
  ['department', '本部门'],
  ['dispatch', '待派单'],
  ['due_soon', '即将超时'],
  ['overdue', '已超时'],
  ['follow_up', '待回访'],
]);

const ROLES = /** @type {Record<string, string>} */ ({
  intake: '受理员',
  handler: '承办人',
  supervisor: '主管',
  analyst: '分析员',
  admin: '管理员',
});

const message = /** @type {HTMLElement} */ (document.getElementById('message'));

async function main() {
  const me = await session();
  if (!me) {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    return;
  }
  const who = /** @type {HTMLElement} */ (document.getElementById('who'));
  who.textContent = `${me.name}（${ROLES[me.role] ?? me.role}）`;
  document.getElementById('sign-out')?.addEventListener('click', async () => {
    await api('DELETE', '/v1/session');
    location.assign('/signin');
  });
  if (me.role === 'intake') return;
  const page = await api('GET', '/v1/queues/mine?limit=1');
  const table = /** @type {HTMLTableElement} */ (document.getElementById('queues'));
  const body = /** @type {HTMLTableSectionElement} */ (table.tBodies[0]);
  for (const [code, label] of QUEUES) {
    const row = body.insertRow();
    row.insertCell().textContent = label;
    row.insertCell().textContent = String(page.counts[code] ?? 0);
  }
  table.hidden = false;
}

main().catch((e) => {
  message.textContent = e instanceof ApiError ? e.message : '加载失败，请刷新重试';
});
