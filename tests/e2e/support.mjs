// The harness: `tousu serve` on a temporary data dir with the fixture model, a few users and
// keys; Debian's Chromium (never a downloaded browser); every page watched for console
// errors, failing the test on any the test did not provoke on purpose; screenshots under
// target/e2e/.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');
const BIN = process.env.TOUSU_BIN ?? join(TARGET, 'debug', 'tousu');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = join(TARGET, 'e2e');

export const PASSWORD = 'e2e-password-0123';
export const INTAKE_KEY = 'e2e-intake-key-0123456789';
/** The departments the gov profile routes to that the tests use. */
export const HOUSING = '住房和城乡建设局';
export const ENVIRONMENT = '生态环境局';
/** Real complaints imported before the server starts (from ../shared/datasets when present). */
export const SEED_SIZE = 300;

const DATASET = process.env.TOUSU_E2E_DATASET
  ?? resolve(ROOT, '..', 'shared', 'datasets', 'tipdm', 'hotspots.jsonl');

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/**
 * The cases imported before the server starts: the first SEED_SIZE real complaints of the
 * 12345 dataset when it is on this machine (it may not be committed), else the few written
 * for the tests in seed.jsonl. Either way they carry their received times, so trends have days.
 */
function seed(dir) {
  const out = join(dir, 'seed.jsonl');
  if (existsSync(DATASET)) {
    const lines = readFileSync(DATASET, 'utf8').split('\n').filter(Boolean).slice(0, SEED_SIZE);
    writeFileSync(out, `${lines.join('\n')}\n`);
    return { file: out, real: true, count: lines.length };
  }
  const lines = readFileSync(join(import.meta.dirname, 'seed.jsonl'), 'utf8').split('\n').filter(Boolean);
  return { file: join(import.meta.dirname, 'seed.jsonl'), real: false, count: lines.length };
}

/**
 * Starts tousu on the gov profile (the model in models/gov) with users `zhang` (handler of
 * 住房和城乡建设局), `li` (handler of 生态环境局), `wu` (supervisor, every department),
 * `chen` (analyst), `xu` (intake), all with PASSWORD, and the intake key; the seed imported.
 */
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'tousu-e2e-'));
  const hash = (pw) => execFileSync(BIN, ['hash-password'], { input: `${pw}\n` }).toString().trim();
  const h = JSON.stringify(hash(PASSWORD));
  const user = (name, role, departments) => `
[[users]]
name = "${name}"
role = "${role}"
${departments ? `departments = ${JSON.stringify(departments)}` : ''}
password_hash = ${h}
`;
  const config = join(dir, 'tousu.toml');
  writeFileSync(
    config,
    `data_dir = ${JSON.stringify(join(dir, 'data'))}
models_dir = ${JSON.stringify(join(ROOT, 'models'))}
profile = "gov"

# The tests raise several alerts a day and watch each arrive; the rate limit and the
# first-of-matter rule are tested in Rust.
[alert_rules]
max_case_alerts_per_day = 0
case_alerts_first_of_matter = false
${user('zhang', 'handler', [HOUSING])}${user('li', 'handler', [ENVIRONMENT])}${user('wu', 'supervisor', ['*'])}${user('chen', 'analyst')}${user('xu', 'intake')}
[[api_keys]]
name = "crm"
role = "intake"
key = ${JSON.stringify(INTAKE_KEY)}
`,
  );
  const seeded = seed(dir);
  execFileSync(BIN, ['import', '--config', config, seeded.file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--config', config, '--bind', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null) throw new Error(`tousu serve stopped:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base,
    seeded,
    /** Creates a case as the intake key; its JSON. */
    async create(text, extra = {}) {
      const r = await fetch(`${base}/v1/cases`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${INTAKE_KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ text, ...extra }),
      });
      if (r.status !== 201) throw new Error(`create: ${r.status} ${await r.text()}`);
      return r.json();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs `name` in through the sign-in page, and waits for the role's first page. */
export async function signIn(page, base, name) {
  await page.goto(`${base}/signin`);
  await page.getByRole('textbox', { name: '用户名' }).fill(name);
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  // Sign-in goes to `/`, which sends each role on to its first page.
  await page.waitForURL((u) => !u.pathname.startsWith('/signin') && u.pathname !== '/');
}

/**
 * The API as `name` with a session (cookie and CSRF token), outside the browser: a function
 * `(method, path, body?)` resolving to `{status, body}`.
 */
export async function as(base, name) {
  const r = await fetch(`${base}/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: base },
    body: JSON.stringify({ name, password: PASSWORD }),
  });
  if (r.status !== 200) throw new Error(`sign-in of ${name}: ${r.status} ${await r.text()}`);
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrf } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Cookie: cookie, Origin: base, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
}

/** Chromium, headless, with nothing calling home. */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page in a Beijing-agnostic browser (UTC, zh-CN) whose console errors are collected;
 * `allowed` are patterns of errors the test provokes on purpose (a refused sign-in's 401).
 */
export async function open(browser, { width = 1366, height = 768 } = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'UTC', viewport: { width, height } });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    page,
    context,
    /** The console errors not matched by one of `allowed`. */
    unexpected(allowed = []) {
      return errors.filter((e) => !allowed.some((a) => a.test(e)));
    },
    async shot(name) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, `${name}-${width}x${height}.png`) });
    },
  };
}
