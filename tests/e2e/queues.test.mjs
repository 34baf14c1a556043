// 工作队列 in a real browser: the tabs' counts are the API's, a handler's department queue
// holds its department's cases only, a case number opens the case, the queue is in the URL
// (shareable, back and forward work), the tabs work from the keyboard, and the nav badge shows
// what waits for the caller.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, signIn, as, HOUSING } from './support.mjs';

let server;
let browser;
/** The case dispatched to zhang before the tests. */
let zhangs;

before(async () => {
  server = await startServer();
  await server.create('小区电梯坏了半个月没人修，老人上下楼很困难，物业推给开发商，要求住建局督促维修');
  // wu dispatches one of the housing department's cases to zhang: it is zhang's to do.
  const wu = await as(server.base, 'wu');
  const page = await wu('GET', `/v1/queues/dispatch?department=${encodeURIComponent(HOUSING)}&limit=1`);
  assert.equal(page.status, 200);
  zhangs = page.body.cases[0].id;
  const r = await wu('POST', `/v1/cases/${zhangs}/actions`, { action: 'assign', department: HOUSING, handler: 'zhang' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The count each tab shows, by queue. */
async function tabCounts(page) {
  return page.locator('#tabs [role="tab"]').evaluateAll((tabs) =>
    Object.fromEntries(tabs.map((t) => [t.dataset.queue, Number(t.querySelector('.count')?.textContent)])));
}

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`a handler's queues: counts as the API's, the department's cases only, a case opens (${size.width}×${size.height})`, async () => {
    const p = await open(browser, size);
    await signIn(p.page, server.base, 'zhang');
    // A handler's first page is the queues, on 我的待办.
    await p.page.waitForURL(`${server.base}/queues`);
    await p.page.locator('#tab-mine[aria-selected="true"]').waitFor();
    await p.page.locator('#cases tbody tr td.id').first().waitFor();
    const api = await as(server.base, 'zhang');
    const { body } = await api('GET', '/v1/queues/mine?limit=1');
    assert.deepEqual(await tabCounts(p.page), body.counts);
    assert.equal(body.counts.mine, 1);
    await p.page.locator('#queue-count', { hasText: '1' }).waitFor();
    assert.deepEqual(await p.page.locator('#cases td.id').allInnerTexts(), [zhangs]);

    // 本部门: only 住房和城乡建设局's cases, 50 at a time.
    await p.page.getByRole('tab', { name: /本部门/ }).click();
    await p.page.waitForURL(`${server.base}/queues/department`);
    await p.page.locator('#tab-department[aria-selected="true"]').waitFor();
    await p.page.locator('#summary', { hasText: `共 ${body.counts.department} 件` }).waitFor();
    const departments = await p.page.locator('#cases tbody td:nth-child(6)').allInnerTexts();
    assert.equal(departments.length, Math.min(50, body.counts.department));
    assert.ok(departments.every((d) => d === HOUSING), departments.join(','));
    // Breached deadlines are red (the imported complaints are years old).
    assert.ok(await p.page.locator('#cases td.due.breached').count() > 0);
    await p.shot('queues');
    if (body.counts.department > 50) {
      await p.page.getByRole('button', { name: '加载更多' }).click();
      await p.page.locator('#cases tbody tr').nth(50).waitFor();
      const all = await p.page.locator('#cases tbody td:nth-child(6)').allInnerTexts();
      assert.equal(all.length, Math.min(100, body.counts.department));
      assert.ok(all.every((d) => d === HOUSING));
    }

    // Keyboard: the selected tab is the one in the Tab order; arrows move and open.
    await p.page.locator('#tab-department').focus();
    await p.page.keyboard.press('ArrowRight');
    await p.page.waitForURL(`${server.base}/queues/dispatch`);
    assert.equal(await p.page.evaluate(() => document.activeElement?.id), 'tab-dispatch');
    assert.equal(await p.page.locator('#tabs [tabindex="0"]').count(), 1);
    // Back returns to 本部门.
    await p.page.locator('#summary', { hasText: `共 ${body.counts.dispatch} 件` }).waitFor();
    await p.page.goBack();
    await p.page.locator('#tab-department[aria-selected="true"]').waitFor();
    await p.page.locator('#summary', { hasText: `共 ${body.counts.department} 件` }).waitFor();

    assert.deepEqual(p.unexpected(), []);
    const first = p.page.locator('#cases td.id a').first();
    const id = await first.textContent();
    await first.click();
    // The case page is another test's: only that the link leads there.
    await p.page.waitForURL(`${server.base}/cases/${id}`, { waitUntil: 'commit' });
    await p.context.close();
  });
}

test('a supervisor opens a shared link to the dispatch queue and sees every department', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'wu');
  await p.page.goto(`${server.base}/queues/dispatch`);
  await p.page.locator('#tab-dispatch[aria-selected="true"]').waitFor();
  await p.page.locator('#cases tbody tr td.id').first().waitFor();
  const api = await as(server.base, 'wu');
  const { body } = await api('GET', '/v1/queues/dispatch?limit=200');
  assert.deepEqual(await tabCounts(p.page), body.counts);
  const ids = await p.page.locator('#cases td.id').allInnerTexts();
  assert.deepEqual(ids, body.cases.slice(0, 50).map((c) => c.id));
  const departments = new Set(await p.page.locator('#cases tbody td:nth-child(6)').allInnerTexts());
  assert.ok(departments.size > 1, [...departments].join(','));
  assert.ok(!ids.includes(zhangs), 'a dispatched case has left 待派单');
  // Nothing waits for wu: the badge is hidden, as 我的待办's count is 0.
  assert.equal(body.counts.mine, 0);
  assert.equal(await p.page.locator('#queue-count').isHidden(), true);
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a queue that does not exist falls back to 我的待办 with a message', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'li');
  await p.page.goto(`${server.base}/queues/nonsense`);
  await p.page.locator('#message', { hasText: '没有这个队列' }).waitFor();
  assert.equal(new URL(p.page.url()).pathname, '/queues');
  await p.page.locator('#tab-mine[aria-selected="true"]').waitFor();
  await p.page.locator('#cases td.empty', { hasText: '暂无案件' }).waitFor();
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});
