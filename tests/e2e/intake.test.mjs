// 受理登记 in a real browser: as the hotline agent types, the triage preview shows the
// category, the grade and the phrases that drove them marked in the text; 创建案件 stores the
// case (a supervisor then reads it through the API); the form works from the keyboard alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, signIn, as } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// An emoji (two UTF-16 units, one character for the API) before the rule's phrase: a
// highlighter counting UTF-16 units would mark the wrong characters.
const COMPLAINT = '小区🏠燃气管道泄漏，闻到很浓的煤气味，随时可能爆炸，楼里有老人和孩子，物业一直不管';

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`typing shows the live preview with marked drivers, and 创建案件 stores the case (${size.width}×${size.height})`, async () => {
    const p = await open(browser, size);
    await signIn(p.page, server.base, 'xu');
    // An intake role's first page is the form.
    await p.page.waitForURL(`${server.base}/intake`);
    await p.page.getByLabel('投诉内容').click();
    await p.page.keyboard.type(COMPLAINT, { delay: 5 });
    await p.page.locator('#pv-category').waitFor({ timeout: 10_000 });
    await p.page.locator('#pv-text mark').first().waitFor({ timeout: 10_000 });
    // The preview is of the whole text (the last request, not one cancelled on the way).
    await p.page.locator('#pv-text', { hasText: '物业一直不管' }).waitFor({ timeout: 10_000 });
    assert.match(await p.page.locator('#pv-grade .chip').textContent(), /^(一般|严重|重大)$/);
    assert.ok((await p.page.locator('#pv-category').textContent()).length > 0);
    // The gov profile ships a dispatch model: its office kind, or the table's department.
    assert.match(await p.page.locator('#pv-dispatch').textContent(), /^\S+( \d+%.*学得| · 按分类对应表)/);
    const marks = await p.page.locator('#pv-text mark').evaluateAll((ms) =>
      ms.map((m) => ({ text: m.textContent, title: m.getAttribute('title'), cls: m.className })));
    assert.ok(marks.length >= 1);
    assert.ok(marks.every((m) => m.title && m.text), JSON.stringify(marks));
    // The safety rule fired on 爆炸, after the emoji: marked exactly there.
    const rule = marks.filter((m) => m.cls.includes('hl-rule'));
    assert.ok(rule.some((m) => m.text === '爆炸' && m.title.includes('人身安全')), JSON.stringify(marks));
    // Every marked stretch is a piece of the text the model read.
    const shown = await p.page.locator('#pv-text').textContent();
    assert.ok(shown.includes('🏠燃气管道泄漏'), shown);
    await p.shot('intake');

    await p.page.getByRole('button', { name: '创建案件' }).click();
    const id = (await p.page.locator('#created-id').textContent()).trim();
    assert.match(id, /^TS\d{8}-\d{6,}$/);
    await p.page.locator('#message', { hasText: id }).waitFor();
    // An intake role cannot open the case: the number is not a link.
    assert.equal(await p.page.locator('#created-id a').count(), 0);
    // The form is clear and ready for the next call.
    assert.equal(await p.page.getByLabel('投诉内容').inputValue(), '');
    assert.equal(await p.page.evaluate(() => document.activeElement?.id), 'f-text');
    await p.shot('intake-created');

    const wu = await as(server.base, 'wu');
    const got = await wu('GET', `/v1/cases/${id}`);
    assert.equal(got.status, 200);
    assert.ok(got.body.text.includes('随时可能爆炸'), got.body.text);
    assert.equal(got.body.channel, 'hotline_12345');
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}

test('a rule the gov profile holds back is shown as evidence that raised nothing', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'xu');
  await p.page.waitForURL(`${server.base}/intake`);
  // A suggestion that names a hazard in passing: the safety phrase 危险 fires, but the model
  // gives 重大 under the profile's 0.1, so the grade stays the model's.
  await p.page.getByLabel('投诉内容').fill('建议在公园里多设置一些长椅，另外湖边没有护栏有点危险');
  await p.page.locator('#pv-held').waitFor({ timeout: 10_000 });
  const held = await p.page.locator('#pv-held li').allTextContents();
  assert.ok(held.some((t) => t.includes('危险') && t.includes('重大') && t.includes('未据此升级')), JSON.stringify(held));
  assert.notEqual((await p.page.locator('#pv-grade .chip').textContent()).trim(), '重大');
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('the form is filled and submitted from the keyboard alone; the same caller again is flagged a repeat', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'xu');
  await p.page.waitForURL(`${server.base}/intake`);
  const focused = () => p.page.evaluate(() => document.activeElement?.id ?? '');
  // The complaint box has the focus when the page opens; the title is one Shift+Tab back.
  await p.page.locator('#f-text:focus').waitFor();
  await p.page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'f-title');
  await p.page.keyboard.type('楼道灯坏了');
  await p.page.keyboard.press('Tab');
  await p.page.keyboard.type('我们小区3号楼楼道灯坏了一个月，晚上老人上下楼很危险，报修多次无人处理');
  await p.page.keyboard.press('Tab');
  assert.equal(await focused(), 'f-channel');
  await p.page.keyboard.press('End');
  assert.equal(await p.page.locator('#f-channel').inputValue(), 'other');
  await p.page.keyboard.press('Tab');
  assert.equal(await focused(), 'f-contact');
  await p.page.keyboard.type('13700002222');
  // Through the date field's parts to the button.
  for (let i = 0; i < 12 && (await focused()) !== 'create'; i++) await p.page.keyboard.press('Tab');
  assert.equal(await focused(), 'create');
  await p.page.keyboard.press('Enter');
  const id = (await p.page.locator('#created-id').textContent()).trim();
  assert.match(id, /^TS\d{8}-\d{6,}$/);

  const wu = await as(server.base, 'wu');
  const got = await wu('GET', `/v1/cases/${id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.title, '楼道灯坏了');
  assert.equal(got.body.channel, 'other');
  assert.ok(!JSON.stringify(got.body).includes('13700002222'), 'the contact is kept apart from the case');

  // The same text again is a new complaint (a new key): a second case, marked a repeat.
  await p.page.keyboard.type('我们小区3号楼楼道灯坏了一个月，晚上老人上下楼很危险，报修多次无人处理');
  await p.page.getByLabel('联系电话').fill('13700002222');
  await p.page.locator('#preview-body .warnings').waitFor({ timeout: 10_000 });
  assert.match(await p.page.locator('#preview-body .warnings').textContent(), new RegExp(id));
  await p.page.getByRole('button', { name: '创建案件' }).click();
  await p.page.locator('#created-id', { hasNotText: id }).waitFor();
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a create whose answer was lost is sent again under the same key and stores one case', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'xu');
  await p.page.waitForURL(`${server.base}/intake`);
  let lost = false;
  await p.page.route('**/v1/cases', async (route) => {
    if (lost) return route.continue();
    lost = true;
    await route.fetch(); // the server stores the case; its answer never reaches the page
    return route.abort('connectionreset');
  });
  await p.page.getByLabel('投诉内容').fill('公交车司机辱骂乘客，要求公交公司道歉');
  await p.page.getByRole('button', { name: '创建案件' }).click();
  await p.page.locator('#message', { hasText: '创建失败' }).waitFor();
  assert.equal(await p.page.getByLabel('投诉内容').inputValue(), '公交车司机辱骂乘客，要求公交公司道歉');
  const replay = p.page.waitForResponse((r) => r.url().endsWith('/v1/cases'));
  await p.page.getByRole('button', { name: '创建案件' }).click();
  const r = await replay;
  assert.equal(r.status(), 201);
  assert.equal(r.headers()['idempotent-replayed'], 'true');
  const id = (await p.page.locator('#created-id').textContent()).trim();
  assert.equal(id, (await r.json()).id);
  assert.deepEqual(p.unexpected([/ERR_CONNECTION_RESET|Failed to load resource.*\/v1\/cases/]), []);
  await p.context.close();
});
