// 考核指标 in a real browser: the KPIs of a period per group as a table and a chart, the grouping
// kept in the URL, the daily report and the period's cases downloadable from plain links, and a
// handler told plainly that the page is not theirs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, open, signIn } from './support.mjs';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

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

/** Waits for the KPI chart to have finished drawing `n` or more times. */
async function drawn(page, n = 1) {
  await page.waitForFunction((k) => Number(document.querySelector('#kpi-chart')?.dataset.drawn ?? 0) >= k, n);
}

/** Fetches a link's href in the page (with the session cookie): status, type and first bytes. */
async function fetchLink(page, selector) {
  return page.evaluate(async (sel) => {
    const href = document.querySelector(sel).getAttribute('href');
    const r = await fetch(href);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return {
      href,
      status: r.status,
      type: r.headers.get('content-type'),
      disposition: r.headers.get('content-disposition'),
      head: Array.from(bytes.slice(0, 8)),
      size: bytes.length,
    };
  }, selector);
}

test('the KPI board shows a table and a chart per group, and its downloads work', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'chen');
  await p.page.goto(`${server.base}/kpis`);
  await drawn(p.page);
  const url = new URL(p.page.url());
  assert.equal(url.searchParams.get('group_by'), 'department');
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  assert.match(`${from} ${to}`, /^\d{4}-\d{2}-\d{2} \d{4}-\d{2}-\d{2}$/);

  // The table: a row per department, each with cases, and a total that adds them up.
  const rows = p.page.locator('#kpi-table tbody tr');
  assert.ok((await rows.count()) >= 2, `${await rows.count()} rows`);
  const volumes = (await p.page.locator('#kpi-table tbody tr td:nth-child(2)').allInnerTexts()).map(Number);
  assert.ok(volumes.every((n) => n > 0), volumes.join(','));
  const total = Number(await p.page.locator('#kpi-table tfoot td').first().innerText());
  assert.equal(total, volumes.reduce((a, b) => a + b, 0));
  assert.equal(await p.page.locator('#summary dd').first().innerText(), String(total));

  // The chart holds the same volumes.
  const chartVolumes = await p.page.evaluate(() =>
    globalThis.echarts.getInstanceByDom(document.querySelector('#kpi-chart')).getOption().series[0].data);
  assert.deepEqual(chartVolumes, volumes);

  // By handler: the URL and the table follow.
  const before = Number(await p.page.locator('#kpi-chart').getAttribute('data-drawn'));
  await p.page.getByLabel('分组').selectOption('handler');
  await p.page.waitForURL(/group_by=handler/);
  await drawn(p.page, before + 1);
  assert.equal(await p.page.locator('#kpi-table thead th').first().innerText(), '承办人');

  // The daily report of the period's last day, as xlsx (a zip: "PK").
  const report = await fetchLink(p.page, '#report-link');
  assert.equal(report.href, `/v1/reports/daily?day=${to}&format=xlsx`);
  assert.equal(report.status, 200);
  assert.equal(report.type, XLSX);
  assert.deepEqual(report.head.slice(0, 2), [0x50, 0x4b]);
  // Clicking it downloads the file under its name.
  const [download] = await Promise.all([p.page.waitForEvent('download'), p.page.locator('#report-link').click()]);
  assert.equal(download.suggestedFilename(), `tousu-daily-${to}.xlsx`);

  // Another day picked: the link follows.
  await p.page.getByLabel('日报日期').fill(from);
  assert.equal(await p.page.locator('#report-link').getAttribute('href'), `/v1/reports/daily?day=${from}&format=xlsx`);

  // The period's cases as xlsx and as CSV (UTF-8 with a BOM, the header first).
  const xlsx = await fetchLink(p.page, '#export-xlsx');
  assert.equal(xlsx.status, 200);
  assert.equal(xlsx.type, XLSX);
  assert.deepEqual(xlsx.head.slice(0, 2), [0x50, 0x4b]);
  const csv = await fetchLink(p.page, '#export-csv');
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  assert.deepEqual(csv.head.slice(0, 5), [0xef, 0xbb, 0xbf, 0x69, 0x64]); // BOM, "id"
  assert.match(csv.disposition, /attachment/);
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a handler has no 考核指标 in the navigation and is told the page is not theirs', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'zhang');
  await p.page.locator('#top nav a').first().waitFor();
  assert.equal(await p.page.locator('#top nav a', { hasText: '考核' }).count(), 0);
  await p.page.goto(`${server.base}/kpis`);
  await p.page.locator('#message', { hasText: '不能查看' }).waitFor();
  assert.ok(await p.page.locator('#content').isHidden());
  assert.deepEqual(p.unexpected([/403 \(Forbidden\) @ .*\/v1\/kpis\b/]), []);
  await p.context.close();
});

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`the KPI board at ${size.width}×${size.height}`, async () => {
    const p = await open(browser, size);
    await signIn(p.page, server.base, 'wu');
    await p.page.goto(`${server.base}/kpis`);
    await drawn(p.page);
    await p.page.locator('#kpi-table tbody tr').first().waitFor();
    await p.shot('kpis');
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}
