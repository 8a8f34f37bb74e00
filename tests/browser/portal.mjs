// Shared harness for Kontor's browser tests (run with `node --test`).
//
// One portal per test file: `startPortal()` runs the already built binary
// (env KONTOR_BIN, default ../../target/debug/kontor) on 127.0.0.1:0 with a
// fresh data directory (embedded SQLite + demo data + demo login) and waits
// for /healthz. One Chromium per test file: `launchBrowser()`, launched as in
// docs/kern-ux.md. `openPage()` gives a fresh context + page that records
// every console message about the Content Security Policy (bypassCSP stays
// off, so the pages must really obey it); `checkA11y()` runs axe-core and
// the layout checks of layout.mjs (320 px, 1280 px, 200 % text; screenshots).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { checkLayout } from './layout.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const KONTOR_BIN = resolve(process.env.KONTOR_BIN || join(here, '../../target/debug/kontor'));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// eslint-disable-next-line no-control-regex
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Starts `kontor serve` on a free port with a fresh data directory.
 * Resolves to { url, stop(), log(), dataDir, env } once /healthz answers
 * (`env`: the environment the portal runs with, for `runKontor`).
 * `env` (optional) adds or overrides settings, e.g. the OIDC issuer
 * (see oidc.mjs).
 */
export async function startPortal({ timeoutMs = 30_000, env: extraEnv = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kontor-browser-'));
  // Only our own KONTOR_* settings: no OIDC issuer (demo login stays on), no
  // config file from the caller's directory (cwd is the temp dir). Kept:
  // KONTOR_STATIC_DIR, for a binary installed away from its sources.
  const keep = (k) => k === 'KONTOR_STATIC_DIR' || (!k.startsWith('KONTOR_') && k !== 'RUST_LOG');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => keep(k)));
  Object.assign(env, {
    KONTOR_DATA_DIR: dataDir,
    KONTOR_LISTEN: '127.0.0.1:0',
    // Several portals at once: each its own metrics port.
    KONTOR_METRICS_LISTEN: '127.0.0.1:0',
    KONTOR_LOG: 'info',
    NO_COLOR: '1',
  }, extraEnv);
  if (!existsSync(KONTOR_BIN)) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`no kontor binary at ${KONTOR_BIN}: run cargo build first or set KONTOR_BIN`);
  }
  const child = spawn(KONTOR_BIN, ['serve'], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = null;
  const address = new Promise((resolveAddr, reject) => {
    const onData = (chunk) => {
      output += stripAnsi(chunk.toString());
      const m = output.match(/Kontor listening.*?address\s*=\s*"?(127\.0\.0\.1:\d+)/)
        || output.match(/address\s*=\s*"?(127\.0\.0\.1:\d+)"?.*Kontor listening/);
      if (m) resolveAddr(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      reject(new Error(`kontor exited early (${code ?? signal}); binary ${KONTOR_BIN}\n${output}`));
    });
  });
  address.catch(() => {}); // awaited below; a late exit must not be unhandled
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const done = new Promise((r) => child.once('exit', r));
      let timer;
      const late = new Promise((r) => { timer = setTimeout(() => r(false), 5_000); });
      const killed = await Promise.race([done.then(() => true), late]).finally(() => clearTimeout(timer));
      if (!killed) {
        child.kill('SIGKILL');
        await done;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(
        `kontor did not report its address within ${timeoutMs} ms\n${output}`,
      )), timeoutMs);
    });
    const addr = await Promise.race([address, timeout]).finally(() => clearTimeout(timer));
    const url = `http://${addr}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`/healthz not ok within ${timeoutMs} ms\n${output}`);
      await sleep(100);
    }
    return { url, stop, log: () => output, dataDir, env };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Launches Debian's Chromium through playwright-core (see docs/kern-ux.md). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // The browser's own language draws date fields (tt.mm.jjjj); a context's
      // `locale` only sets what pages are told, so screenshots showed mm/dd/yyyy.
      '--lang=de-DE',
    ],
  });
}

const watched = new WeakMap();

/** Who is logged in, per browser context (login()); names the gallery's folders. */
const roles = new WeakMap();

/** Notes who logged in with `page`'s context, for a login that is not login(). */
export function noteRole(page, who) {
  roles.set(page.context(), who);
}

/**
 * Fails if the page logged a console message about the Content Security
 * Policy (or threw an uncaught error) since it was opened. checkA11y()
 * calls it, too.
 */
export function assertNoCsp(page) {
  const w = watched.get(page);
  assert.ok(w, 'page was not opened with openPage()');
  assert.deepEqual(w.csp, [], `Content Security Policy violations:\n${w.csp.join('\n')}`);
  assert.deepEqual(w.errors, [], `page errors:\n${w.errors.join('\n')}`);
}

/**
 * A fresh browser context (own cookies) and page, bypassCSP off, watched for
 * console messages that mention the Content Security Policy (see
 * assertNoCsp). Returns { context, page, assertNoCsp(), close() }.
 */
export async function openPage(browser, baseURL, { colorScheme = 'light', locale = 'de-DE' } = {}) {
  // The locale is what the browser sends as Accept-Language (web/lang.rs).
  const context = await browser.newContext({ baseURL, locale, colorScheme });
  context.setDefaultTimeout(20_000);
  const watch = (page) => {
    const w = { csp: [], errors: [] };
    watched.set(page, w);
    page.on('console', (msg) => {
      if (msg.text().includes('Content Security Policy')) {
        w.csp.push(`${page.url()}: [${msg.type()}] ${msg.text()}`);
      }
    });
    page.on('pageerror', (err) => w.errors.push(`${page.url()}: ${err.message}`));
  };
  context.on('page', watch); // further tabs, too
  const page = await context.newPage();
  if (!watched.has(page)) watch(page);
  return { context, page, assertNoCsp: () => assertNoCsp(page), close: () => context.close() };
}

/** Logs in on /anmelden with a demo user's button; ends on /uebersicht. */
export async function login(page, who) {
  await page.goto('/anmelden');
  const button = page.locator(`button[data-login="${who}"]`);
  assert.equal(await button.count(), 1, `no demo login button for "${who}" on /anmelden`);
  await Promise.all([page.waitForNavigation(), button.click()]);
  noteRole(page, who);
  const path = new URL(page.url()).pathname;
  assert.equal(path, '/uebersicht',
    `demo login as "${who}" ended on ${path} instead of /uebersicht (session not kept after login?)`);
}

/**
 * Runs `action` (a click, a key press) and waits for the navigation it
 * causes; resolves to the final response (after redirects), so callers can
 * check e.g. 422 for a re-rendered form.
 */
export async function follow(page, action) {
  const [response] = await Promise.all([page.waitForNavigation(), action()]);
  return response;
}

/** The total on /buchungen ("13 Buchungen"). */
export async function bookingCount(page) {
  await page.goto('/buchungen');
  const text = await page.locator('main hgroup .kern-subline').innerText();
  const m = text.match(/(\d+) Buchungen?/);
  assert.ok(m, `no booking count in "${text}"`);
  return Number(m[1]);
}

/** Fills the booking form on /katalog (the Verfahren by its visible name). */
export async function fillBooking(page, { application, stage, product, size }) {
  const option = page.locator('#f-application_id option', { hasText: application });
  await page.locator('#f-application_id').selectOption(await option.getAttribute('value'));
  await page.getByRole('radio', { name: stage, exact: true }).check();
  await page.getByRole('radio', { name: product, exact: true }).check();
  await page.getByRole('radio', { name: size, exact: true }).check();
}

/** Clicks the button with this accessible name and waits for the next page. */
export function press(page, name) {
  return follow(page, () => page.getByRole('button', { name, exact: true }).click());
}

function formatViolations(label, violations) {
  const lines = [`axe: ${violations.length} violation(s) on ${label}`];
  for (const v of violations) {
    lines.push(`- ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    at ${n.target.join(' ')}`);
      lines.push(`       ${n.html.replace(/\s+/g, ' ').slice(0, 200)}`);
      const why = n.failureSummary?.replace(/\s+/g, ' ').trim();
      if (why) lines.push(`       ${why.slice(0, 400)}`);
    }
  }
  return lines.join('\n');
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A + AA) on the current page and asserts zero
 * violations, printing them readably otherwise; then checks the page's
 * layout at 320 px, 1280 px and 200 % text and writes its screenshots
 * (checkLayout in layout.mjs; `role` names the gallery's folder, by default
 * the demo user logged in with login()). Returns the axe result.
 */
export async function checkA11y(page, label = page.url(), { role } = {}) {
  await page.evaluate(() => document.fonts.ready.then(() => true));
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const result = await page.evaluate((tags) => window.axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations'],
  }), AXE_TAGS);
  assert.equal(result.violations.length, 0, formatViolations(label, result.violations));
  if (watched.has(page)) assertNoCsp(page);
  await checkLayout(page, label, role ?? roles.get(page.context()) ?? 'anonym');
  if (watched.has(page)) assertNoCsp(page);
  return result;
}

/**
 * Per-file fixture for `node:test`: one portal and one browser, started in
 * `before` and stopped in `after`. A failed start does not fail the hook
 * (which would only show up as "cancelled"): every test that uses the
 * fixture fails with the reason instead.
 *
 *   const env = useKontor({ before, after });       // at module top level
 *   const sp = env.session('systempfleger');         // lazy, shared by tests
 *   it('…', async () => { const { page } = await sp(); … });
 *   it('…', async () => { const { page } = await env.open(null); … });  // own context
 */
export function useKontor({ before, after, portalEnv }) {
  const env = { portal: null, browser: null, url: null };
  const sessions = [];
  let ready;
  const start = async () => {
    // portalEnv (optional): extra settings for startPortal(), an object or
    // a (async) function returning one (e.g. once a provider runs).
    const extra = typeof portalEnv === 'function' ? await portalEnv() : portalEnv;
    env.portal = await startPortal({ env: extra ?? {} });
    env.url = env.portal.url;
    env.browser = await launchBrowser();
  };
  before(() => {
    ready = start();
    return ready.catch(() => {}); // reported by each test through env.open()
  });
  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    if (env.browser) await env.browser.close().catch(() => {});
    if (env.portal) await env.portal.stop();
  });
  /** Resolves once portal and browser run (rejects with why they do not). */
  env.ready = () => ready ?? Promise.reject(new Error('useKontor(): before() has not run'));
  /** New context + page, logged in as `who` unless `who` is null;
   *  `locale` (e.g. 'en-GB') for the pages in another language. */
  env.open = async (who, { locale } = {}) => {
    await env.ready();
    const s = await openPage(env.browser, env.url, { locale });
    sessions.push(s);
    if (who) await login(s.page, who);
    return s;
  };
  /** A lazily opened session shared by the tests that call it. */
  env.session = (who) => {
    let opened;
    return () => (opened ??= env.open(who));
  };
  return env;
}

// ---------------------------------------------------------------------------
// Helpers for keyboard-only journeys and for waiting on the reconciler
// (environments.test.mjs, a11y-environments.test.mjs).

/** The value beside a <dt> of a KERN description list. */
export function described(page, key) {
  return page.locator('.kern-description-list-item', {
    has: page.locator('dt', { hasText: new RegExp(`^${key}$`) }),
  }).locator('dd');
}

/**
 * Polls `check` (async, returns a truthy value when done) every `intervalMs`
 * until it is truthy or `timeoutMs` has passed; resolves to that value or
 * fails with `what` and the last value seen. Use instead of fixed sleeps.
 */
export async function until(check, what, { timeoutMs = 20_000, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

/** What has the keyboard focus: tag, id, name, value, checked, text, href, outline. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      name: el.getAttribute('name'),
      value: el.value ?? null,
      checked: el.checked ?? null,
      text: el.innerText?.trim() ?? '',
      href: el.getAttribute('href'),
      outline: getComputedStyle(el).outlineStyle,
    };
  });
}

/** Presses Tab until `matches(focused)` holds; fails after `max` presses. */
export async function tabTo(page, matches, what, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (matches(f)) return f;
  }
  return assert.fail(`did not reach ${what} with ${max} × Tab`);
}

/** Presses a key (Enter by default) and waits for the navigation it causes. */
export function keyFollow(page, key = 'Enter') {
  return follow(page, () => page.keyboard.press(key));
}

// ---------------------------------------------------------------------------
// The binary's other commands against the running portal's data and API
// (releases.test.mjs, a11y-releases.test.mjs).

/**
 * Runs `kontor <args>` with the environment of the portal of `env` (its
 * KONTOR_DATA_DIR) plus `extra`; resolves to { code, stdout, stderr }
 * whatever the exit code.
 */
export async function runKontor(env, args, extra = {}, { timeoutMs = 30_000 } = {}) {
  await env.ready(); // the portal has started (or this fails with why)
  const { env: base, dataDir } = env.portal;
  return new Promise((resolveRun) => {
    execFile(KONTOR_BIN, args, { cwd: dataDir, env: { ...base, ...extra }, timeout: timeoutMs },
      (error, stdout, stderr) => resolveRun({
        code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
        stdout: stripAnsi(stdout),
        stderr: stripAnsi(stderr),
      }));
  });
}

/** An API token for a demo user: `kontor token create --user <login>`. */
export async function createToken(env, login) {
  const { code, stdout, stderr } = await runKontor(env, ['token', 'create', '--user', login]);
  assert.equal(code, 0, `kontor token create --user ${login}: exit ${code}\n${stderr}`);
  const token = stdout.trim().split('\n').pop().trim();
  assert.ok(token, `kontor token create --user ${login} printed no token\n${stderr}`);
  return token;
}

/**
 * A REST call against the portal of `env` with a bearer token; resolves to
 * { status, body } (body parsed as JSON when there is one).
 */
export async function api(env, token, method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${env.url}/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, body: parsed };
}
