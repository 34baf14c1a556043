// Sign-in in a real browser: a wrong key is refused with a message, a user signs in with a
// password and lands on the home page with their queue counts, signs out; at both screen sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, PASSWORD } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.create('家里宽带断网三天了，多次报修没人管');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a wrong key is refused with a message, and nothing else goes wrong', async () => {
  const p = await open(browser);
  await p.page.goto(`${server.base}/`);
  await p.page.waitForURL(/\/signin/);
  await p.page.getByLabel('API 密钥', { exact: true }).fill('not-a-key-0123456789');
  await p.page.getByRole('button', { name: '用密钥登录' }).click();
  await p.page.locator('#message', { hasText: '不正确' }).waitFor();
  assert.match(p.page.url(), /\/signin/);
  assert.deepEqual(p.unexpected([/401 \(Unauthorized\) @ .*\/v1\/session$/]), []);
  await p.context.close();
});

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`a user signs in, sees their queues and signs out (${size.width}×${size.height})`, async () => {
    const p = await open(browser, size);
    await p.page.goto(`${server.base}/signin`);
    await p.shot('signin');
    // Keyboard only: the fields are labelled and reached in order.
    await p.page.getByRole('textbox', { name: '用户名' }).focus();
    await p.page.keyboard.type('zhang');
    await p.page.keyboard.press('Tab');
    await p.page.keyboard.type(PASSWORD);
    await p.page.keyboard.press('Enter');
    await p.page.waitForURL(`${server.base}/`);
    await p.page.locator('#queues').waitFor();
    assert.equal(await p.page.locator('#who').textContent(), 'zhang（承办人）');
    const rows = await p.page.locator('#queues tbody tr').allInnerTexts();
    // The case was routed to 网络运维中心 at intake: it is in zhang's department, undispatched.
    assert.ok(rows.some((r) => /本部门\s+1/.test(r)), rows.join(' | '));
    await p.shot('home');
    await p.page.getByRole('button', { name: '退出登录' }).click();
    await p.page.waitForURL(/\/signin/);
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}
