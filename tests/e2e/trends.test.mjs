// 趋势与预警 in a real browser: the volume chart is drawn with data (painted pixels and non-zero
// series), the view follows the controls into the URL and back, a hot topic links to its cases,
// an alert raised by a create arrives on the open page through the stream (a toast and the
// top of the list), and a handler is told plainly that the page is not theirs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launch, open, signIn } from './support.mjs';

const ANALYST = 'chen';
/** Five complainants about one works site in five days: a hot topic (received in the past, so no alert). */
const TOPIC = '翠湖湾小区旁边的沥青搅拌厂夜间施工，沥青烟气刺鼻，噪音扰民，居民无法入睡';
/** The gov profile grades this 重大 with reason `safety`: a `safety_case` alert. */
const SAFETY = '小区楼下的河道被工厂排放污水，水质严重污染，威胁居民饮水安全';

let server;
let browser;
/** The view the first test landed on (the default period, around the imported cases). */
let view = '';

before(async () => {
  server = await startServer();
  // The newest imported case (Beijing time when the data has no offset); the topic's cases come
  // in the five days before it, so the default period shows them.
  const times = readFileSync(server.seeded.file, 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l).created_at).filter(Boolean)
    .map((t) => Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(t) ? t : `${t}+08:00`));
  const newest = Math.max(...times);
  for (let i = 1; i <= 5; i++) {
    const at = new Date(newest - i * 86_400_000).toISOString();
    await server.create(TOPIC, { contact: `1390000000${i}`, received_at: at });
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Waits for the trends chart to have finished drawing `n` or more times. */
async function drawn(page, n = 1) {
  await page.waitForFunction((k) => Number(document.querySelector('#trend-chart')?.dataset.drawn ?? 0) >= k, n);
}

/**
 * The shares of the chart's canvas that are painted (not transparent, not white) and coloured
 * (saturated: the series, not the grey axes, grid and labels). An empty chart still paints
 * about 10% in grey, and colours nothing.
 */
async function painted(page) {
  return page.evaluate(() => {
    const c = /** @type {HTMLCanvasElement} */ (document.querySelector('#trend-chart canvas'));
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    let colour = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, g, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
      if (a > 16 && !(r > 245 && g > 245 && b > 245)) ink++;
      if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 80) colour++;
    }
    const all = px.length / 4;
    return { ink: ink / all, colour: colour / all };
  });
}

/** The chart's series as ECharts holds them: name, type and the sum of their data. */
async function series(page) {
  return page.evaluate(() => {
    const o = globalThis.echarts.getInstanceByDom(document.querySelector('#trend-chart')).getOption();
    return {
      buckets: o.xAxis[0].data,
      series: o.series.map((s) => ({ name: s.name, type: s.type, sum: s.data.reduce((a, b) => a + (b ?? 0), 0) })),
    };
  });
}

test('the trends page draws the volume chart with data, and the controls drive the URL and the chart', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, ANALYST);
  await p.page.goto(`${server.base}/trends`);
  await drawn(p.page);
  const url = new URL(p.page.url());
  assert.equal(url.searchParams.get('dimension'), 'category');
  assert.equal(url.searchParams.get('bucket'), 'day');
  assert.match(url.searchParams.get('from') ?? '', /^\d{4}-\d{2}-\d{2}$/);
  view = url.search;

  const share = await painted(p.page);
  assert.ok(share.ink > 0.12 && share.colour > 0.02,
    `painted ${(share.ink * 100).toFixed(1)}%, coloured ${(share.colour * 100).toFixed(1)}% of the canvas`);
  const days = await series(p.page);
  assert.ok(days.series.length >= 2, JSON.stringify(days.series));
  assert.ok(days.series.every((s) => s.type === 'bar' && s.sum > 0), JSON.stringify(days.series));
  assert.ok(days.buckets.length >= 60, `${days.buckets.length} days`);

  // By grade: the URL follows, and the series are the grades.
  const before = Number(await p.page.locator('#trend-chart').getAttribute('data-drawn'));
  await p.page.getByLabel('维度').selectOption('grade');
  await p.page.waitForURL(/dimension=grade/);
  await drawn(p.page, before + 1);
  const grades = await series(p.page);
  assert.ok(grades.series.length >= 1 && grades.series.every((s) => ['一般', '严重', '重大'].includes(s.name)),
    JSON.stringify(grades.series));

  // By week, as lines: fewer buckets, every series a line.
  await p.page.getByLabel('粒度').selectOption('week');
  await p.page.waitForURL(/bucket=week/);
  await p.page.locator('label[for="kind-line"]').click();
  await p.page.waitForURL(/chart=line/);
  await p.page.waitForFunction(() =>
    globalThis.echarts.getInstanceByDom(document.querySelector('#trend-chart')).getOption().series.every((s) => s.type === 'line'));
  const weeks = await series(p.page);
  assert.ok(weeks.buckets.length < days.buckets.length / 5 && weeks.buckets.length >= 12, `${weeks.buckets.length} weeks`);
  assert.ok(weeks.series.some((s) => s.sum > 0));

  // The URL is the view: opened again, it shows the same.
  await p.page.reload();
  await drawn(p.page);
  assert.equal(await p.page.getByLabel('维度').inputValue(), 'grade');
  assert.equal(await p.page.getByLabel('粒度').inputValue(), 'week');
  assert.ok(await p.page.locator('#kind-line').isChecked());
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a hot topic shows its phrases and counts and links to its cases', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, ANALYST);
  await p.page.goto(`${server.base}/trends${view}`);
  const topic = p.page.locator('#topics article.topic').first();
  await topic.waitFor();
  const link = topic.locator('h3 a');
  assert.match(await link.getAttribute('href'), /^\/search\?topic=T\d+$/);
  assert.match(await topic.innerText(), /5 位投诉人/);
  assert.equal(await topic.locator('a[href="/search?q=%E6%B2%A5%E9%9D%92"]').innerText(), '沥青');
  // Its phrases rise in the default window too.
  await p.page.locator('#rising a', { hasText: '沥青' }).waitFor();
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('an alert reaches an analyst on another page as a toast', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, ANALYST);
  await p.page.goto(`${server.base}/search`);
  await p.page.locator('body[data-alerts="open"]').waitFor();
  const made = await server.create(SAFETY);
  const toast = p.page.locator('#toasts .toast', { hasText: made.id });
  await toast.waitFor();
  assert.equal(await toast.locator('a').getAttribute('href'), `/cases/${made.id}`);
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('an alert raised by a create arrives on the open page through the stream', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, ANALYST);
  await p.page.goto(`${server.base}/trends${view}`);
  await p.page.locator('#live[data-state="open"]').waitFor();
  const made = await server.create(SAFETY);
  assert.equal(made.grade, '重大');
  const toast = p.page.locator('#toasts .toast', { hasText: made.id });
  await toast.waitFor();
  assert.match(await toast.innerText(), /安全隐患/);
  const first = p.page.locator('#alerts li').first();
  assert.match(await first.innerText(), new RegExp(made.id));
  assert.equal(await first.locator('a').getAttribute('href'), `/cases/${made.id}`);
  // It came once: the list holds it once.
  assert.equal(await p.page.locator(`#alerts li[data-alert]`, { hasText: made.id }).count(), 1);
  assert.deepEqual(p.unexpected(), []);
  await p.context.close();
});

test('a handler has no 趋势 in the navigation and is told the page is not theirs', async () => {
  const p = await open(browser);
  await signIn(p.page, server.base, 'zhang');
  await p.page.locator('#top nav a').first().waitFor();
  assert.equal(await p.page.locator('#top nav a', { hasText: '趋势' }).count(), 0);
  await p.page.goto(`${server.base}/trends`);
  await p.page.locator('#message', { hasText: '不能查看' }).waitFor();
  assert.ok(await p.page.locator('#content').isHidden());
  assert.deepEqual(p.unexpected([/403 \(Forbidden\) @ .*\/v1\/trends\b/]), []);
  await p.context.close();
});

for (const size of [{ width: 1366, height: 768 }, { width: 1920, height: 1080 }]) {
  test(`the trends page at ${size.width}×${size.height}`, async () => {
    const p = await open(browser, size);
    await signIn(p.page, server.base, ANALYST);
    await p.page.goto(`${server.base}/trends${view}`);
    await drawn(p.page);
    await p.page.locator('#topics article.topic').first().waitFor();
    await p.page.locator('#alerts li').first().waitFor();
    await p.shot('trends');
    assert.deepEqual(p.unexpected(), []);
    await p.context.close();
  });
}
