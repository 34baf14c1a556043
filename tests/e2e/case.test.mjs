// 案件 in a real browser: the phrases that drove the category and the grade are marked in the
// text; a grade correction shows in the audit trail; a step the role may take is offered and
// taken, one it may not is not offered; a handler of another department is told the case is
// not found. Screenshots at both sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, signIn, HOUSING } from './support.mjs';

const SAFETY = '小区电梯昨天突然下坠，把三位老人困在里面一个多小时，严重威胁居民安全，物业一直推脱不修。';
let server;
let browser;
let created;

before(async () => {
  server = await startServer();
  browser = await launch();
  created = await server.create(SAFETY, { title: '电梯故障困人' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`a supervisor sees the drivers marked and the deadlines (${size.width}×${size.height})`, async () => {
    const p = await open(browser, size);
    await signIn(p.page, server.base, 'wu');
    await p.page.goto(`${server.base}/cases/${created.id}`);
    await p.page.locator('#case-body:not([hidden])').waitFor();
    const marks = await p.page.locator('#text mark').allTextContents();
    assert.ok(marks.length >= 2, `drivers marked: ${marks.join('|')}`);
    // Every marked stretch is in the text as written, and is titled with why.
    for (const title of await p.page.locator('#text mark').evaluateAll((ms) => ms.map((m) => m.title))) {
      assert.match(title, /依据|规则/);
    }
    assert.ok(await p.page.locator('#deadlines tbody tr').count() >= 1);
    assert.match(await p.page.locator('#judgement').innerText(), /模型置信度/);
    await p.page.locator('#links h3, #links p').first().waitFor();
    await p.page.locator('#audit li').first().waitFor();
    await p.shot('case');
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}

test('an analyst corrects the grade and the audit trail shows it', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'chen');
  await p.page.goto(`${server.base}/cases/${created.id}`);
  await p.page.locator('#case-body:not([hidden])').waitFor();
  const grade = created.grade === '一般' ? '严重' : '一般';
  await p.page.getByLabel('等级', { exact: true }).selectOption(grade);
  await p.page.getByRole('button', { name: '保存更正' }).click();
  await p.page.locator('#message', { hasText: '已保存更正' }).waitFor();
  await p.page.locator('#audit li', { hasText: '更正' }).first().waitFor();
  assert.match(await p.page.locator('#audit li', { hasText: '更正' }).first().innerText(), new RegExp(grade));
  assert.match(await p.page.locator('#case-meta').innerText(), new RegExp(grade));
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a supervisor is offered 派单 but not 办结, and dispatches by keyboard', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'wu');
  await p.page.goto(`${server.base}/cases/${created.id}`);
  await p.page.locator('#actions button').first().waitFor();
  const offered = await p.page.locator('#actions button').allTextContents();
  assert.ok(offered.includes('派单'), offered.join(','));
  assert.ok(!offered.includes('办结'), `a case not yet followed up cannot be closed: ${offered.join(',')}`);
  await p.page.getByRole('button', { name: '派单' }).focus();
  await p.page.keyboard.press('Enter');
  await p.page.locator('#action-dialog[open]').waitFor();
  // Dispatch's department comes preselected when the directory has it, else the routed one.
  const options = await p.page.locator('#act-department option').evaluateAll((os) => os.map((o) => o.value));
  const suggested = created.dispatch?.policy_department;
  assert.ok(created.dispatch, 'the gov profile dispatches every case');
  assert.equal(await p.page.getByLabel('承办部门').inputValue(),
    options.includes(suggested) ? suggested : created.department);
  await p.page.getByLabel('承办部门').selectOption(HOUSING);
  await p.page.getByLabel('承办人（可不选）').selectOption('zhang');
  await p.page.getByRole('button', { name: '确定' }).focus();
  await p.page.keyboard.press('Enter');
  await p.page.locator('#status', { hasText: '已派单' }).waitFor();
  await p.page.locator('#audit li', { hasText: '派单' }).first().waitFor();
  const after = await p.page.locator('#actions button').allTextContents();
  assert.ok(!after.includes('派单'), `dispatched: ${after.join(',')}`);
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a handler of another department is told the case is not found', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'li');
  await p.page.goto(`${server.base}/cases/${created.id}`);
  await p.page.locator('#message', { hasText: '未找到' }).waitFor();
  assert.ok(await p.page.locator('#case-body').isHidden());
  assert.equal(await p.page.locator('#text').textContent(), '');
  assert.deepEqual(p.unexpected([/404 \(Not Found\) @ .*\/v1\/cases\//]), []);
  await p.context.close();
});

test('an imported case, which keeps no explanation, is explained when opened', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'chen');
  await p.page.goto(`${server.base}/search?sort=oldest`);
  await p.page.locator('#hits li a.hit-title').first().click();
  await p.page.waitForURL(/\/cases\/TS/);
  await p.page.locator('#case-body:not([hidden])').waitFor();
  await p.page.locator('#text mark').first().waitFor();
  assert.match(await p.page.locator('#explained').textContent(), /即时/);
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});
