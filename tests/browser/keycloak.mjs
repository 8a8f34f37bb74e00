// A real Keycloak for the browser tests (scripts/keycloak.sh, realm file
// tests/keycloak/realm-verwaltung.json; tests/keycloak/README.md).
//
//   const keycloak = useKeycloak({ before, after });              // one per file
//   const env = useKeycloakKontor({ before, after, keycloak });   // a portal using it
//   it('…', async () => {
//     const { page } = await env.open(null);
//     await keycloakLogin(page, 'paula.pflege');                   // Keycloak's own form
//   });
//
// The test command starts one Keycloak for the whole run and passes its
// address in KONTOR_TEST_KEYCLOAK_URL; without it (`node --test` by hand) a
// test file starts its own with `scripts/keycloak.sh serve
// --exit-with-stdin`, its stdin an open pipe, so Keycloak ends with the test
// process even if `stop()` is never reached.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useKontor } from './portal.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const SCRIPT = resolve(join(here, '../../scripts/keycloak.sh'));
export const REALM = 'verwaltung';
/** The password of every user in the realm file. */
export const PASSWORD = 'Kontor-Test-1';
export const CLIENT_ID = 'kontor';
export const CLIENT_SECRET = 'kontor-keycloak-test-secret';

/**
 * A running Keycloak: the test command's, or a new one. Resolves to
 * { url, issuer, stop() }. The first start on a machine also fetches and
 * prepares Keycloak (a minute or two), hence the long timeout.
 */
export async function startKeycloak({ timeoutMs = 600_000 } = {}) {
  const shared = process.env.KONTOR_TEST_KEYCLOAK_URL;
  if (shared) {
    const url = shared.replace(/\/$/, '');
    return { url, issuer: `${url}/realms/${REALM}`, stop: async () => {} };
  }
  const child = spawn(SCRIPT, ['serve', '--exit-with-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
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
      } catch {
        reject(new Error(`scripts/keycloak.sh printed no JSON line: ${stdout}\n${stderr}`));
      }
    });
    child.on('error', reject);
    exit.then(() => reject(new Error(
      `scripts/keycloak.sh exited early (${exited.code ?? exited.signal})\n${stderr}`,
    )));
  });
  info.catch(() => {});
  const stop = async () => {
    if (exited === null) {
      // Closing stdin is the script's signal to stop Keycloak and clean up.
      child.stdin.end();
      let timer;
      const late = new Promise((r) => { timer = setTimeout(() => r(false), 30_000); });
      const ended = await Promise.race([exit.then(() => true), late]).finally(() => clearTimeout(timer));
      if (!ended) {
        child.kill('SIGTERM');
        await exit;
      }
    }
  };
  try {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Keycloak not ready within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    });
    const { url } = await Promise.race([info, timeout]).finally(() => clearTimeout(timer));
    assert.ok(url, `scripts/keycloak.sh line without url: ${stdout}`);
    return { url, issuer: `${url}/realms/${REALM}`, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Per-file fixture: started in `before`, stopped in `after`. Returns
 * { ready(), issuer(), url() }; a failed start fails the tests that use it
 * (not the hook).
 */
export function useKeycloak({ before, after }) {
  let started;
  let keycloak = null;
  before(() => {
    started = startKeycloak().then((k) => { keycloak = k; return k; });
    return started.catch(() => {});
  });
  after(async () => {
    if (keycloak) await keycloak.stop();
  });
  const ready = () => started ?? Promise.reject(new Error('useKeycloak(): before() has not run'));
  return {
    ready,
    issuer: async () => (await ready()).issuer,
    url: async () => (await ready()).url,
  };
}

/**
 * A portal (useKontor) logging in through realm `verwaltung` with the
 * client `kontor` of the realm file; the audience stays the default, the
 * client id, as the README's Audience mapper has it.
 */
export function useKeycloakKontor({ before, after, keycloak }) {
  return useKontor({
    before,
    after,
    portalEnv: async () => ({
      KONTOR_OIDC_ISSUER: await keycloak.issuer(),
      KONTOR_OIDC_CLIENT_ID: CLIENT_ID,
      KONTOR_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      // The tests log in a lot, all from 127.0.0.1.
      KONTOR_RATE_LIMIT_LOGIN_PER_MINUTE: '10000',
      KONTOR_RATE_LIMIT_API_PER_MINUTE: '10000',
    }),
  });
}

/** Fills Keycloak's own login form (the page must show it) and signs in. */
export async function signInAtKeycloak(page, username, password = PASSWORD) {
  await page.getByLabel('Username or email', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
}

/**
 * From /anmelden through Keycloak's login page and back; resolves once the
 * browser is back at Kontor and the page has loaded. Asserts that Keycloak
 * showed its form (a live Keycloak session would skip it).
 */
export async function keycloakLogin(page, username, password = PASSWORD) {
  await page.goto('/anmelden');
  const kontor = new URL(page.url()).origin;
  await page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).click();
  await page.waitForURL((u) => u.origin !== kontor);
  await page.locator('#kc-form-login').waitFor();
  await signInAtKeycloak(page, username, password);
  await page.waitForURL((u) => u.origin === kontor);
  await page.waitForLoadState('load');
}
