// 案件检索 in a real browser: a query highlights its words, a facet click filters and keeps
// the facet's other values, the URL holds the state (a reload shows the same search), and
// the export links carry the filters. Screenshots at both sizes; the drawing time is printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, signIn } from './support.mjs';

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

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`an analyst searches, filters by a facet and shares the URL (${size.width}×${size.height})`, async () => {
    const p = await open(browser, size);
    const { page } = p;
    await signIn(page, server.base, 'chen');
    await page.goto(`${server.base}/search`);
    await page.locator('#hits li').first().waitFor();
    const all = Number((await page.locator('#total').textContent()).match(/\d+/)[0]);
    assert.equal(all, server.seeded.count, 'every imported case is found by an empty query');

    // A query: the keyboard's "/" reaches the box; the words are marked in the snippets.
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('/');
    await page.keyboard.type('小区');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=%E5%B0%8F%E5%8C%BA/);
    await page.locator('#hits li mark').first().waitFor();
    const withQuery = Number((await page.locator('#total').textContent()).match(/\d+/)[0]);
    assert.ok(withQuery > 0 && withQuery < all, `${withQuery} of ${all}`);

    // A facet click: the first category. Its hits all have it; the other categories stay listed.
    const facet = page.locator('fieldset.facet', { has: page.locator('legend', { hasText: '类别' }) });
    const before = await facet.locator('label.check').count();
    const first = facet.locator('label.check').first();
    const name = (await first.innerText()).replace(/\s*\d+$/, '').trim();
    const count = Number((await first.locator('.count').textContent()).trim());
    await first.locator('input').check();
    await page.waitForURL(/category=/);
    await page.waitForFunction((n) => document.querySelector('#total')?.textContent === `共 ${n} 件`, count);
    const chips = await page.locator('#hits li .meta .chip:first-child').allTextContents();
    assert.ok(chips.length > 0 && chips.every((c) => c === name), `${name}: ${chips.join(',')}`);
    assert.equal(await facet.locator('label.check').count(), before, 'the other categories are still offered');
    assert.match(await page.locator('#export-csv').getAttribute('href'), /format=csv.*|category=/);
    assert.match(await page.locator('#export-xlsx').getAttribute('href'), /category=/);
    await p.shot('search');

    // The URL is the search: opened afresh it shows the same.
    const url = page.url();
    await page.goto(url);
    await page.waitForFunction((n) => document.querySelector('#total')?.textContent === `共 ${n} 件`, count);
    assert.equal(await page.locator('#q').inputValue(), '小区');
    assert.ok(await facet.locator('label.check').first().locator('input').isChecked());
    const drawn = await page.evaluate(() => performance.getEntriesByName('search-drawn').map((e) => e.duration));
    console.log(`# search results drawn ${drawn.map((d) => d.toFixed(1)).join(', ')} ms after the response (${size.width}×${size.height})`);
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}
