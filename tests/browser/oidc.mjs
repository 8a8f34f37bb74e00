// Kontor with a real OpenID provider (tests/oidc/provider.mjs) for the
// browser tests.
//
//   const provider = useProvider({ before, after });           // one per file
//   const env = useOidcKontor({ before, after, provider });    // a portal using it
//   const env2 = useOidcKontor({ before, after, provider, demoLogin: true });
//   it('…', async () => {
//     await provider.addUser({ username: 'x', name: 'X', groups: ['musterhausen/systempfleger'] });
//     const { page } = await env.openAs('x');                  // logged in via the provider
//   });
//
// `startProvider()` runs the provider as a child process with its stdin as
// an open pipe and `--exit-with-stdin`, so it ends with the test process even
// if `stop()` is never reached.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noteRole, useKontor } from './portal.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const PROVIDER = resolve(join(here, '../oidc/provider.mjs'));
export const PASSWORD = 'test';
export const CLIENT_ID = 'kontor';
export const CLIENT_SECRET = 'kontor-test-secret';
export const AUDIENCE = 'kontor-api';

/**
 * Starts the test provider on a free loopback port. Resolves to
 * { issuer, port, addUser(user), stop(), log() } once it printed its line.
 */
export async function startProvider({ timeoutMs = 20_000 } = {}) {
  if (!existsSync(join(here, '../oidc/node_modules'))) {
    throw new Error('tests/oidc/node_modules is missing: run `npm ci` in tests/oidc');
  }
  const child = spawn(process.execPath, [PROVIDER, '--port', '0', '--exit-with-stdin'], {
    cwd: dirname(PROVIDER),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = null;
  const exit = new Promise((r) => child.once('exit', (code, signal) => {
    exited = { code, signal };
    r();
  }));
  child.stderr.on('data', (c) => { stderr += c.toString(); });
  const info = new Promise((resolveInfo, reject) => {
    child.stdout.on('data', (c) => {
      stdout += c.toString();
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      try {
        resolveInfo(JSON.parse(stdout.slice(0, nl)));
      } catch (e) {
        reject(new Error(`provider printed no JSON line: ${stdout}\n${stderr}`));
      }
    });
    child.on('error', reject);
    exit.then(() => reject(new Error(
      `provider exited early (${exited.code ?? exited.signal})\n${stderr}`,
    )));
  });
  info.catch(() => {});
  const stop = async () => {
    if (exited === null) {
      child.stdin.end();
      child.kill('SIGTERM');
      let timer;
      const late = new Promise((r) => { timer = setTimeout(() => r(false), 5_000); });
      const ended = await Promise.race([exit.then(() => true), late]).finally(() => clearTimeout(timer));
      if (!ended) {
        child.kill('SIGKILL');
        await exit;
      }
    }
  };
  try {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`provider not ready within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    });
    const { issuer, port } = await Promise.race([info, timeout]).finally(() => clearTimeout(timer));
    assert.ok(issuer && port, `provider line without issuer/port: ${stdout}`);
    /** Creates or replaces a user at the provider (password `test` unless given). */
    const addUser = async ({ username, password = PASSWORD, name, groups = [] }) => {
      const res = await fetch(`${issuer}/__test/users`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password, name, groups }),
      });
      const text = await res.text();
      assert.equal(res.status, 201, `POST /__test/users ${username}: HTTP ${res.status} ${text}`);
      return JSON.parse(text);
    };
    return { issuer, port, addUser, stop, log: () => stderr };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Per-file fixture for the provider: started in `before`, stopped in
 * `after`. Returns { ready(), addUser(user), issuer() }; a failed start
 * fails the tests that use it (not the hook).
 */
export function useProvider({ before, after }) {
  let started;
  let provider = null;
  before(() => {
    started = startProvider().then((p) => { provider = p; return p; });
    return started.catch(() => {});
  });
  after(async () => {
    if (provider) await provider.stop();
  });
  const ready = () => started ?? Promise.reject(new Error('useProvider(): before() has not run'));
  return {
    ready,
    addUser: async (user) => (await ready()).addUser(user),
    issuer: async () => (await ready()).issuer,
  };
}

/** Kontor's settings for the provider at `issuer`. */
export function oidcEnv(issuer, { demoLogin = false, extra = {} } = {}) {
  return {
    KONTOR_OIDC_ISSUER: issuer,
    KONTOR_OIDC_CLIENT_ID: CLIENT_ID,
    KONTOR_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    KONTOR_OIDC_AUDIENCE: AUDIENCE,
    // The tests log in a lot, all from 127.0.0.1.
    KONTOR_RATE_LIMIT_LOGIN_PER_MINUTE: '10000',
    KONTOR_RATE_LIMIT_API_PER_MINUTE: '10000',
    ...(demoLogin ? { KONTOR_DEMO_LOGIN: 'true' } : {}),
    ...extra,
  };
}

/**
 * A portal (useKontor) that uses the provider of `provider` (a useProvider
 * fixture; a new one when not given). The result is useKontor's, plus
 * `provider` and `openAs(username, password)`: a fresh context logged in
 * through the provider, ending on /uebersicht.
 */
export function useOidcKontor({ before, after, provider, demoLogin = false, env: extra = {} }) {
  const idp = provider ?? useProvider({ before, after });
  const env = useKontor({
    before,
    after,
    portalEnv: async () => oidcEnv(await idp.issuer(), { demoLogin, extra }),
  });
  env.provider = idp;
  env.openAs = async (username, password = PASSWORD) => {
    await idp.ready();
    const s = await env.open(null);
    const res = await oidcLogin(s.page, username, password);
    noteRole(s.page, username);
    const path = new URL(s.page.url()).pathname;
    assert.equal(path, '/uebersicht',
      `login of "${username}" through the provider ended on ${path} (HTTP ${res?.status()})`);
    return s;
  };
  return env;
}

/**
 * From /anmelden through the provider's login form and back. Resolves to
 * the response of the final page (after the redirects), wherever it is
 * (/uebersicht, or the "Kein Zugang" page with 403). Skips the form when the
 * provider still has a session for this browser context.
 */
export async function oidcLogin(page, username, password = PASSWORD) {
  await page.goto('/anmelden');
  const start = page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' });
  assert.equal(await start.count(), 1, 'no link "Beim Anmeldedienst anmelden" on /anmelden');
  const kontor = new URL(page.url()).origin;
  const [first] = await Promise.all([page.waitForNavigation(), start.click()]);
  if (new URL(page.url()).origin === kontor) return first; // provider session still alive
  await fillProviderLogin(page, username, password);
  return submitProviderLogin(page, kontor);
}

/**
 * Clicks "Anmelden" on the provider's form and resolves to Kontor's
 * answer (the first non-redirect navigation back at `kontor`).
 */
export async function submitProviderLogin(page, kontor) {
  const landed = page.waitForResponse((r) => new URL(r.url()).origin === kontor
    && r.request().isNavigationRequest() && r.request().frame() === page.mainFrame()
    && !(r.status() >= 300 && r.status() < 400));
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  const res = await landed;
  await page.waitForLoadState('load');
  return res;
}

/** Fills the provider's login form (the page must show it). */
export async function fillProviderLogin(page, username, password = PASSWORD) {
  await page.locator('input[name="username"]').waitFor();
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
}

/** A call to Kontor's REST API with a bearer token (no cookies). */
export async function apiCall(url, token, path, { method = 'GET' } = {}) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method, headers: { Authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  let body = text;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, type: res.headers.get('content-type'), body };
}
