// Sign-in in a real browser: a wrong key is refused with a message, a user signs in with a
// password and lands on their first page (a handler's work queues, with the count of what waits
// for them beside 工作队列), signs out; at both screen sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, PASSWORD, HOUSING } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  const c = await server.create('家里宽带断网三天了，多次报修没人管');
  // A supervisor dispatches it to zhang: one case waits for zhang.
  const signIn = await fetch(`${server.base}/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: server.base },
    body: JSON.stringify({ name: 'wu', password: PASSWORD }),
  });
  assert.equal(signIn.status, 200);
  const cookie = signIn.headers.getSetCookie().map((x) => x.split(';')[0]).join('; ');
  const { csrf } = await signIn.json();
  const r = await fetch(`${server.base}/v1/cases/${c.id}/actions`, {
    method: 'POST',
    headers: { Cookie: cookie, Origin: server.base, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'assign', department: HOUSING, handler: 'zhang' }),
  });
  assert.equal(r.status, 200, await r.text());
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
    // `/` sends a handler to the work queues.
    await p.page.waitForURL(`${server.base}/queues`);
    assert.equal(await p.page.locator('#who').textContent(), 'zhang（承办人）');
    // The case dispatched to zhang waits in 我的待办, and the badge beside 工作队列 counts it.
    await p.page.locator('#tab-mine[aria-selected="true"] .count', { hasText: '1' }).waitFor();
    await p.page.locator('#queue-count', { hasText: '1' }).waitFor();
    assert.equal(await p.page.locator('#cases td.id').allInnerTexts().then((t) => t.length), 1);
    assert.match(await p.page.locator('#cases tbody').innerText(), /家里宽带断网三天了/);
    await p.page.getByRole('button', { name: '退出登录' }).click();
    await p.page.waitForURL(/\/signin/);
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}
