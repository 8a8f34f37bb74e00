// Login at a real Keycloak's own login page (realm file
// tests/keycloak/realm-verwaltung.json, set up as the README tells an
// administrator): the journey of a Systempfleger:in with axe on Kontor's
// pages after it, and the logout at Keycloak (RP-initiated logout). Roles
// from groups, group changes, access tokens and key rotation are tested from
// Rust (tests/integration/identity_keycloak.rs).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNoCsp, bookingCount, checkA11y, described, fillBooking, follow, press,
} from './portal.mjs';
import {
  keycloakLogin, signInAtKeycloak, useKeycloak, useKeycloakKontor,
} from './keycloak.mjs';

const keycloak = useKeycloak({ before, after });
const env = useKeycloakKontor({ before, after, keycloak });

const path = (page) => new URL(page.url()).pathname;
const userLine = (page) => page.locator('header .kern-body--small').innerText();

describe('login at Keycloak', () => {
  it('a Systempfleger:in logs in at Keycloak\'s own page, sees the Übersicht of Stadt Musterhausen and books, axe-clean', async () => {
    const { page, assertNoCsp: noCsp } = await env.open(null);
    await page.goto('/anmelden');
    assert.equal(await page.locator('button[data-login]').count(), 0, 'no demo users with an issuer');
    const kontor = new URL(page.url()).origin;

    // Kontor sends the browser to Keycloak's own login page.
    await page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).click();
    await page.waitForURL((u) => u.origin !== kontor);
    const at = new URL(page.url());
    assert.equal(`${at.origin}/realms/verwaltung`, await keycloak.issuer());
    assert.equal(at.pathname, '/realms/verwaltung/protocol/openid-connect/auth');
    assert.equal(at.searchParams.get('client_id'), 'kontor');
    assert.equal(at.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(at.searchParams.get('redirect_uri'), `${kontor}/anmelden/rueckkehr`);
    await page.locator('#kc-form-login').waitFor();

    // A wrong password: Keycloak says so and keeps the browser.
    await signInAtKeycloak(page, 'paula.pflege', 'falsch');
    const error = page.locator('#input-error-username');
    await error.waitFor();
    assert.match(await error.innerText(), /Invalid username or password/);
    assert.notEqual(new URL(page.url()).origin, kontor);

    await signInAtKeycloak(page, 'paula.pflege');
    await page.waitForURL((u) => u.origin === kontor);
    await page.waitForLoadState('load');
    assert.equal(path(page), '/uebersicht');
    assert.equal(await page.locator('h1').innerText(), 'Übersicht');
    assert.equal((await userLine(page)).trim(), 'Paula Pflege · Systempfleger:in');
    assert.equal(await page.locator('main hgroup .kern-subline').first().innerText(), 'Stadt Musterhausen');
    await checkA11y(page, 'Übersicht after the Keycloak login');

    // She books within her customer's contract.
    const before = await bookingCount(page);
    await checkA11y(page, 'Buchungen after the Keycloak login');
    await page.goto('/katalog');
    const options = await page.locator('#f-application_id option').allInnerTexts();
    assert.ok(options.some((o) => /Bürgerservice-Portal/.test(o)), options.join(' | '));
    assert.ok(!options.some((o) => /Zensus|Sozialhilfe|Bauantrag/.test(o)), options.join(' | '));
    await checkA11y(page, 'Katalog after the Keycloak login');
    await fillBooking(page, {
      application: 'Bürgerservice-Portal', stage: 'Vorprüfung', product: 'Container-Namespace', size: 'S',
    });
    const confirm = await press(page, 'Weiter zur Bestätigung');
    assert.equal(confirm.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
    await checkA11y(page, 'Buchung bestätigen after the Keycloak login');
    const done = await press(page, 'Verbindlich buchen');
    assert.equal(done.status(), 200);
    assert.match(path(page), /^\/buchungen\/\d+$/);
    assert.equal((await page.getByRole('status').innerText()).trim(), 'Die Buchung ist angenommen.');
    assert.match(await described(page, 'Status').innerText(), /^(beantragt|aktiv)$/);
    await checkA11y(page, 'the new booking after the Keycloak login');
    assert.equal(await bookingCount(page), before + 1);
    noCsp();
  });

  it('logout at Keycloak ends Kontor\'s session, and Keycloak asks for the password again', async () => {
    const { page } = await env.open(null);
    await keycloakLogin(page, 'norbert.nord');
    assert.equal(path(page), '/uebersicht');
    assert.equal((await userLine(page)).trim(), 'Norbert Nord · Systempfleger:in');
    const kontor = new URL(page.url()).origin;
    const issuer = await keycloak.issuer();

    // While Keycloak's session lives, a new login needs no password.
    await follow(page, () => page.goto('/anmelden/oidc'));
    assert.equal(new URL(page.url()).origin, kontor, 'single sign-on, no form');
    assert.equal(path(page), '/uebersicht');

    // "Abmelden": Kontor ends its session and sends the browser to
    // Keycloak's end-session endpoint, which comes back to /anmelden.
    const leaving = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) leaving.push(r.url());
    });
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.waitForURL((u) => u.origin === kontor && u.pathname === '/anmelden');
    await page.waitForLoadState('load');
    const logout = leaving.find((u) => u.startsWith(`${issuer}/protocol/openid-connect/logout`));
    assert.ok(logout, `no visit to Keycloak's logout: ${leaving.join(' ')}`);
    const params = new URL(logout).searchParams;
    assert.ok(params.get('id_token_hint'), logout);
    assert.equal(params.get('post_logout_redirect_uri'), `${kontor}/anmelden`);
    assert.equal(await page.locator('h1').innerText(), 'Anmelden');
    await checkA11y(page, '/anmelden after the logout at Keycloak');

    // Kontor's session is gone.
    await page.goto('/uebersicht');
    assert.equal(path(page), '/anmelden');

    // Keycloak's too: the next login asks for the password.
    await page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).click();
    await page.waitForURL((u) => u.origin !== kontor);
    await page.locator('#kc-form-login').waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '');
    await signInAtKeycloak(page, 'norbert.nord');
    await page.waitForURL((u) => u.origin === kontor && u.pathname === '/uebersicht');
    assertNoCsp(page);
  });
});
