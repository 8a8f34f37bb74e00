// Login through a real OpenID provider (tests/oidc/provider.mjs), logout
// through the provider's end-session page, the "Kein Zugang" page, the demo
// login beside the provider, and the API-token page (create, use, revoke,
// bad input, keyboard only).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { focused, follow, keyFollow, press, tabTo } from './portal.mjs';
import {
  apiCall, fillProviderLogin, oidcLogin, submitProviderLogin, useOidcKontor, useProvider,
} from './oidc.mjs';

const provider = useProvider({ before, after });
// Provider login only (no demo login).
const env = useOidcKontor({ before, after, provider });
// The same provider, with the demo login switched on beside it.
const demoEnv = useOidcKontor({ before, after, provider, demoLogin: true });

// Users of the demo customers (slugs from src/db/seed.rs).
const PAULA = { username: 'paula', name: 'Paula Pflege', groups: ['musterhausen/systempfleger'] };
const LARS = { username: 'lars', name: 'Lars Lastat', groups: ['lastat/systempfleger'] };
const KIRA = { username: 'kira', name: 'Kira Tastatur', groups: ['nordkreis/systempfleger'] };

const path = (page) => new URL(page.url()).pathname;
const userLine = (page) => page.locator('header .kern-body--small').innerText();

/** Goes to `target` and asserts that Kontor sends the browser to /anmelden. */
async function assertLoggedOut(page, target = '/uebersicht') {
  await page.goto(target);
  assert.equal(path(page), '/anmelden', `${target} without a session must redirect to /anmelden`);
  assert.equal(await page.locator('h1').innerText(), 'Anmelden');
}

/**
 * Clicks `button` (a form that Kontor answers with a redirect to the
 * provider) and waits until the browser is at `origin`; fails with the
 * Content Security Policy messages the page logged if it never gets there.
 */
async function leaveFor(page, button, origin, what) {
  const csp = [];
  const onConsole = (m) => { if (m.text().includes('Content Security Policy')) csp.push(m.text()); };
  page.on('console', onConsole);
  try {
    await button.click();
    await page.waitForURL((u) => u.origin === origin, { timeout: 10_000 }).catch(() => {});
    assert.equal(new URL(page.url()).origin, origin,
      `${what}: the browser stayed at ${page.url()} instead of going to the provider ${origin}\n${csp.join('\n')}`);
    await page.waitForLoadState('load');
  } finally {
    page.off('console', onConsole);
  }
}

/**
 * The keys that type `iso` (YYYY-MM-DD) into a date field of this browser:
 * Chromium orders the field's parts by its own UI language, not by the
 * page's locale, so this asks a scratch page of the same context.
 */
async function dateKeys(context, iso) {
  const [y, m, d] = iso.split('-');
  const scratch = await context.newPage();
  try {
    await scratch.setContent('<input id="t" aria-label="t"><input type="date" id="d" aria-label="d">');
    for (const keys of [`${d}${m}${y}`, `${m}${d}${y}`, `${y}${m}${d}`]) {
      await scratch.fill('#d', '');
      // Tab into the field (focus() may land on a later part of it).
      await scratch.focus('#t');
      await scratch.keyboard.press('Tab');
      await scratch.keyboard.type(keys);
      if ((await scratch.inputValue('#d')) === iso) return keys;
    }
  } finally {
    await scratch.close();
  }
  return assert.fail(`cannot type ${iso} into a date field of this browser`);
}

/** Berlin's calendar date `days` from today as YYYY-MM-DD. */
function berlinDate(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin' }).format(d);
}

describe('login and logout through the OpenID provider', () => {
  it('a Systempfleger:in of Stadt Musterhausen logs in and lands on Übersicht with name and role in the header', async () => {
    await provider.addUser(PAULA);
    const { page, assertNoCsp } = await env.open(null);
    await page.goto('/anmelden');
    // Provider only: no demo users, no demo banner.
    assert.equal(await page.locator('button[data-login]').count(), 0);
    assert.equal(await page.getByText('Demo-Modus').count(), 0);
    const kontor = new URL(page.url()).origin;

    await follow(page, () => page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).click());
    const issuer = await provider.issuer();
    assert.equal(new URL(page.url()).origin, issuer, 'the login goes to the provider');
    assert.match(path(page), /^\/interaction\//);
    await fillProviderLogin(page, PAULA.username);
    const res = await submitProviderLogin(page, kontor);

    assert.equal(res.status(), 200);
    assert.equal(path(page), '/uebersicht');
    assert.equal(await page.locator('h1').innerText(), 'Übersicht');
    assert.equal((await userLine(page)).trim(), 'Paula Pflege · Systempfleger:in');
    const tokens = page.locator('header').getByRole('link', { name: 'API-Tokens' });
    assert.equal(await tokens.getAttribute('href'), '/api-tokens');
    // Scoped to Stadt Musterhausen: its Verfahren are bookable, others not.
    await page.goto('/katalog');
    const options = await page.locator('#f-application_id option').allInnerTexts();
    assert.ok(options.some((o) => /Bürgerservice-Portal/.test(o)), options.join(' | '));
    assert.ok(!options.some((o) => /Zensus|Sozialhilfe|Bauantrag/.test(o)), options.join(' | '));
    assertNoCsp();
  });

  it('a wrong password at the provider keeps the browser there and logs nobody in', async () => {
    await provider.addUser(PAULA);
    const { page } = await env.open(null);
    await page.goto('/anmelden');
    await follow(page, () => page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).click());
    await fillProviderLogin(page, PAULA.username, 'falsch');
    await follow(page, () => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
    assert.equal(new URL(page.url()).origin, await provider.issuer());
    assert.match(await page.getByRole('alert').innerText(), /Benutzername oder Passwort ist falsch/);
    const { page: other } = await env.open(null);
    await assertLoggedOut(other);
  });

  it('a provider user whose name is a demo login ("betreiber") gets their own account, not the demo one', async () => {
    const { page } = await env.openAs('betreiber');
    assert.equal((await userLine(page)).trim(), 'Berta Betrieb · Betreiber');
  });

  it('Abmelden goes through the provider\'s page back to /anmelden; protected pages then redirect to the login', async () => {
    await provider.addUser(PAULA);
    const s = await env.openAs(PAULA.username);
    const { page, context } = s;
    const kontor = new URL(page.url()).origin;
    const issuer = await provider.issuer();

    // Browsers apply the CSP's form-action to the redirect after a form, so
    // Kontor must allow the provider's origin there (src/startup.rs), or
    // RP-initiated logout never reaches the provider.
    await leaveFor(page, page.locator('header').getByRole('button', { name: 'Abmelden' }), issuer,
      'Abmelden');
    assert.equal(path(page), '/session/end');
    // Kontor's session has ended already (checked in a second tab).
    const tab = await context.newPage();
    await assertLoggedOut(tab, '/buchungen');
    await tab.close();

    await follow(page, () => page.getByRole('button', { name: 'Abmelden', exact: true }).click());
    assert.equal(new URL(page.url()).origin, kontor, 'the provider sends the browser back to Kontor');
    assert.equal(path(page), '/anmelden');
    assert.equal(await page.locator('h1').innerText(), 'Anmelden');

    await assertLoggedOut(page, '/uebersicht');
    await assertLoggedOut(page, '/api-tokens');
    // The provider's session has ended too: logging in asks for the password again.
    await follow(page, () => page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).click());
    assert.equal(new URL(page.url()).origin, issuer);
    assert.equal(await page.locator('input[name="password"]').count(), 1, 'the provider asks for the password again');
    s.assertNoCsp();
  });

  it('"niemand" (no Kontor group) gets "Kein Zugang zu Kontor" (403) and can log out at the provider', async () => {
    const { page, context, assertNoCsp } = await env.open(null);
    const res = await oidcLogin(page, 'niemand');
    assert.equal(res.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'Kein Zugang zu Kontor');
    assert.match(await page.locator('main').innerText(), /Nora Niemand/);
    // No header navigation: nobody is logged in to Kontor.
    assert.equal(await page.getByRole('navigation', { name: 'Hauptnavigation' }).count(), 0);
    const tab = await context.newPage();
    await assertLoggedOut(tab, '/uebersicht');
    await tab.close();

    await leaveFor(page, page.getByRole('button', { name: 'Beim Anmeldedienst abmelden' }),
      await provider.issuer(), 'Beim Anmeldedienst abmelden');
    await follow(page, () => page.getByRole('button', { name: 'Abmelden', exact: true }).click());
    assert.equal(path(page), '/anmelden');
    assertNoCsp();
  });

  it('the demo users are not offered with an issuer set, and the demo login is refused', async () => {
    const { page } = await env.open(null);
    await page.goto('/anmelden');
    assert.equal(await page.locator('button[data-login]').count(), 0);
    assert.equal(await page.getByText('Demo-Personen').count(), 0);
    assert.equal(await page.locator('form[action="/anmelden"]').count(), 0);
    // Posting the demo form anyway logs nobody in.
    const res = await page.request.post('/anmelden', { form: { login: 'betreiber', csrf: '' }, maxRedirects: 0 });
    assert.ok(res.status() >= 400, `POST /anmelden answered ${res.status()}`);
    await assertLoggedOut(page);
  });
});

describe('demo login beside the provider (KONTOR_DEMO_LOGIN=true)', () => {
  it('offers both the provider and the demo users, with a banner that mentions the provider', async () => {
    const { page, assertNoCsp } = await demoEnv.open(null);
    await page.goto('/anmelden');
    assert.equal(await page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).count(), 1);
    assert.ok(await page.locator('button[data-login]').count() >= 5, 'the demo users are offered');
    assert.equal(await page.locator('button[data-login="systempfleger"]').count(), 1);
    const banner = page.locator('header .kern-alert--warning');
    assert.match(await banner.innerText(), /Demo-Modus/);
    assert.match(await banner.innerText(), /Identitätsanbieter/);

    // The demo login works, and the banner stays on every page.
    await follow(page, () => page.locator('button[data-login="systempfleger"]').click());
    assert.equal(path(page), '/uebersicht');
    assert.equal((await userLine(page)).trim(), 'Sabine Pfleger · Systempfleger:in');
    for (const p of ['/uebersicht', '/api-tokens']) {
      await page.goto(p);
      assert.match(await page.locator('header .kern-alert--warning').innerText(), /Identitätsanbieter/, p);
    }
    assertNoCsp();
  });

  it('a provider login works on the same portal', async () => {
    await provider.addUser(PAULA);
    const { page } = await demoEnv.openAs(PAULA.username);
    assert.equal((await userLine(page)).trim(), 'Paula Pflege · Systempfleger:in');
  });
});

describe('API-Tokens', () => {
  let secret;
  const name = 'CI-Pipeline Zensus';
  let lars;
  const session = async () => {
    if (!lars) {
      await provider.addUser(LARS);
      lars = await env.openAs(LARS.username);
    }
    return lars;
  };
  const row = (page, tokenName) => page.locator('table tbody tr', {
    has: page.locator('th', { hasText: new RegExp(`^${tokenName}$`) }),
  });

  it('is linked in the header and starts empty, with the date 90 days ahead', async () => {
    const { page } = await session();
    await follow(page, () => page.locator('header').getByRole('link', { name: 'API-Tokens' }).click());
    assert.equal(path(page), '/api-tokens');
    assert.equal(await page.locator('h1').innerText(), 'API-Tokens');
    assert.equal(await page.locator('header a[href="/api-tokens"]').getAttribute('aria-current'), 'page');
    assert.match(await page.locator('main').innerText(), /Sie haben noch kein Token/);
    assert.equal(await page.getByLabel('Gültig bis einschließlich').inputValue(), berlinDate(90));
    assert.equal(await page.getByLabel('Gültig bis einschließlich').getAttribute('type'), 'date');
  });

  it('creates a token and shows its secret once (201), never again', async () => {
    const { page, assertNoCsp } = await session();
    await page.goto('/api-tokens');
    await page.getByLabel('Name', { exact: true }).fill(name);
    const res = await press(page, 'Token erstellen');
    assert.equal(res.status(), 201);
    assert.equal(res.headers()['cache-control'], 'no-store');
    const status = page.getByRole('status');
    assert.match(await status.innerText(), new RegExp(`Token „${name}“ erstellt`));
    const field = page.getByLabel('Ihr neues Token');
    assert.equal(await field.getAttribute('readonly'), '');
    secret = await field.inputValue();
    assert.ok(secret.length >= 20, `secret "${secret}" looks too short`);
    assert.match(await row(page, name).innerText(), /gültig/);
    // The form is empty again.
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), '');

    // A new GET (as after a reload) shows the token in the list, but no secret.
    const again = await page.goto('/api-tokens');
    assert.equal(again.status(), 200);
    assert.equal(await page.getByLabel('Ihr neues Token').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret must not be on the page again');
    assert.equal(await row(page, name).count(), 1);
    assert.match(await row(page, name).innerText(), /gültig/);
    assert.match(await row(page, name).innerText(), /nie/);
    assert.equal(await row(page, name).getByRole('button', { name: /^Widerrufen/ }).count(), 1);
    assertNoCsp();
  });

  it('the token works on the REST API, with the user\'s scope', async () => {
    assert.ok(secret, 'needs the token of the step before');
    const { url } = env;
    const res = await apiCall(url, secret, '/bookings');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const items = Array.isArray(res.body) ? res.body : (res.body.items ?? res.body.data);
    assert.ok(Array.isArray(items), `unexpected body ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.ok(items.length > 0, 'Landesamt für Statistik has demo bookings');
    // Only Landesamt für Statistik's bookings: Bürgerservice (Musterhausen) is not among them.
    assert.ok(!JSON.stringify(items).includes('buergerservice'), 'another customer\'s bookings are visible');
    assert.equal((await apiCall(url, `${secret}x`, '/bookings')).status, 401);
  });

  it('revokes the token; the API then answers 401', async () => {
    assert.ok(secret, 'needs the token of the step before');
    const { page, assertNoCsp } = await session();
    await page.goto('/api-tokens');
    await follow(page, () => row(page, name).getByRole('button', { name: `Widerrufen (${name})` }).click());
    assert.equal(path(page), '/api-tokens');
    assert.match(await row(page, name).innerText(), /widerrufen/);
    assert.equal(await row(page, name).getByRole('button').count(), 0, 'a revoked token has no Widerrufen button');

    const res = await apiCall(env.url, secret, '/bookings');
    assert.equal(res.status, 401);
    assert.match(res.type ?? '', /^application\/problem\+json/);
    assertNoCsp();
  });

  it('bad input re-renders (422) with the messages beside the fields and creates nothing', async () => {
    const { page, assertNoCsp } = await session();
    await page.goto('/api-tokens');
    const before = await page.locator('table tbody tr').count();

    // No name, a date more than a year ahead.
    await page.getByLabel('Name', { exact: true }).fill('   ');
    await page.getByLabel('Gültig bis einschließlich').fill(berlinDate(400));
    let res = await press(page, 'Token erstellen');
    assert.equal(res.status(), 422);
    const summary = page.locator('main .kern-alert--danger[role="alert"]');
    assert.match(await summary.innerText(), /Bitte prüfen Sie Ihre Eingaben/);
    assert.equal(await summary.locator('a[href="#f-name"]').count(), 1);
    assert.equal(await summary.locator('a[href="#f-expires_on"]').count(), 1);
    assert.match(await page.locator('#f-name-error').innerText(), /Namen/);
    assert.match(await page.locator('#f-expires_on-error').innerText(), /höchstens ein Jahr/);
    assert.equal(await page.locator('#f-name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#f-expires_on').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#f-expires_on').getAttribute('aria-describedby'), /f-expires_on-error/);
    assert.equal(await page.locator('#f-expires_on').inputValue(), berlinDate(400), 'the date is kept');
    assert.equal(await page.getByLabel('Ihr neues Token').count(), 0);

    // A name, but a date in the past.
    await page.getByLabel('Name', { exact: true }).fill('Zu spät');
    await page.getByLabel('Gültig bis einschließlich').fill(berlinDate(-1));
    res = await press(page, 'Token erstellen');
    assert.equal(res.status(), 422);
    assert.equal(await page.locator('#f-name-error').count(), 0);
    assert.equal(await page.locator('#f-name').inputValue(), 'Zu spät', 'the name is kept');
    assert.match(await page.locator('#f-expires_on-error').innerText(), /in der Zukunft/);

    // A name longer than 80 characters.
    await page.getByLabel('Name', { exact: true }).fill('x'.repeat(81));
    await page.getByLabel('Gültig bis einschließlich').fill(berlinDate(30));
    res = await press(page, 'Token erstellen');
    assert.equal(res.status(), 422);
    assert.match(await page.locator('#f-name-error').innerText(), /80 Zeichen/);
    assert.equal(await page.locator('#f-expires_on-error').count(), 0);

    await page.goto('/api-tokens');
    assert.equal(await page.locator('table tbody tr').count(), before, 'no token was created');
    assertNoCsp();
  });
});

describe('keyboard only', () => {
  it('creates and revokes a token with Tab, typing and Enter', async () => {
    await provider.addUser(KIRA);
    const { page, assertNoCsp } = await env.openAs(KIRA.username);
    await page.goto('/api-tokens');

    // Skip link first, then into the form.
    await page.keyboard.press('Tab');
    let f = await focused(page);
    assert.equal(f.text, 'Zum Inhalt springen');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'inhalt');

    f = await tabTo(page, (x) => x.id === 'f-name', 'the Name field', 10);
    assert.notEqual(f.outline, 'none', 'the focused field shows a focus outline');
    await page.keyboard.type('Tastatur-Token');
    // Type a date 30 days ahead into the date field.
    const want = berlinDate(30);
    const [y, m, d] = want.split('-');
    const keys = await dateKeys(page.context(), want);
    f = await tabTo(page, (x) => x.id === 'f-expires_on', 'the date field', 3);
    await page.keyboard.type(keys);
    assert.equal(await page.locator('#f-expires_on').inputValue(), want, 'the typed date');
    f = await tabTo(page, (x) => x.tag === 'button', 'the submit button', 5);
    assert.equal(f.text, 'Token erstellen');
    assert.notEqual(f.outline, 'none', 'the focused button shows a focus outline');
    const res = await keyFollow(page);
    assert.equal(res.status(), 201);
    const secret = await page.getByLabel('Ihr neues Token').inputValue();
    assert.ok(secret);
    const row = page.locator('table tbody tr', { has: page.locator('th', { hasText: /^Tastatur-Token$/ }) });
    const [dd, mm, yyyy] = [d, m, y];
    assert.match(await row.innerText(), new RegExp(`${dd}\\.${mm}\\.${yyyy}`), 'Gültig bis as typed');
    assert.equal((await apiCall(env.url, secret, '/bookings')).status, 200);

    // The secret field is reachable by keyboard (to copy it), then the revoke button.
    f = await tabTo(page, (x) => x.id === 'new-token', 'the new token field', 20);
    assert.equal(f.value, secret);
    f = await tabTo(page, (x) => x.tag === 'button' && x.text.startsWith('Widerrufen'), 'the Widerrufen button', 30);
    await keyFollow(page);
    assert.match(await row.innerText(), /widerrufen/);
    assert.equal((await apiCall(env.url, secret, '/bookings')).status, 401);
    assertNoCsp();
  });
});
