// Umgebungen: the demo Systempfleger:in of Stadt Musterhausen books into a
// stage that had nothing, waits until the reconciler has provisioned it,
// cancels, and dissolves the environment through its confirmation — by
// keyboard only (Tab, arrow keys, Space, Enter; no mouse clicks). Around it:
// who else sees the environment and who may not dissolve it, another
// customer's environment is 404, a stale confirmation is refused with 409,
// and the Betreiber's /betrieb/bereitstellung.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNoCsp, checkA11y, described, fillBooking, focused, follow, keyFollow, press, tabTo, until,
  useKontor,
} from './portal.mjs';

const env = useKontor({ before, after });

const NS = 'musterhausen-kfz-zulassung-schulung';
const STAGES = ['Vorprüfung', 'Abnahme', 'Schulung', 'Produktion'];

/** The row of /umgebungen for a namespace, as { id, cells }. */
async function envRow(page, namespace) {
  await page.goto('/umgebungen');
  const row = page.locator('tbody tr', { has: page.locator('th code', { hasText: new RegExp(`^${namespace}$`) }) });
  assert.equal(await row.count(), 1, `one row for ${namespace} on /umgebungen`);
  const href = await row.locator('th a').getAttribute('href');
  const id = Number(href.match(/^\/umgebungen\/(\d+)$/)?.[1]);
  assert.ok(id, `environment link ${href}`);
  const cells = await row.locator('td').allInnerTexts();
  return { id, cells: cells.map((c) => c.trim()) };
}

/** The provisioning badge of the current booking or environment page. */
const badge = (page) => page.locator('#bereitstellung .kern-badge').innerText().then((t) => t.trim());

/** Reloads the current page until its Bereitstellung badge reads "bereit". */
function reloadUntilReady(page, what) {
  return until(async () => {
    await page.reload();
    return (await badge(page)) === 'bereit';
  }, `${what}: Bereitstellung "bereit"`);
}

/** Skip link first, then Enter: focus lands on <main id="inhalt">. */
async function skipToContent(page) {
  await page.keyboard.press('Tab');
  const skip = await focused(page);
  assert.equal(skip.text, 'Zum Inhalt springen', 'the first Tab stop is the skip link');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'inhalt');
}

/**
 * On /katalog with the keyboard only: skip link, Tab to the Verfahren select
 * and ArrowDown to `application`; Tab into each radio group (stage, product,
 * size: their values) and ArrowDown to the value, Space to check it; Tab to
 * "Weiter zur Bestätigung" and Enter. Ends on the confirmation page.
 */
async function bookByKeyboard(page, { application, stage, product, size }) {
  await page.goto('/katalog');
  await skipToContent(page);
  await tabTo(page, (f) => f.id === 'f-application_id', 'the Verfahren select');
  const label = () => page.locator('#f-application_id option:checked').innerText();
  for (let i = 0; i < 10 && !(await label()).includes(application); i += 1) {
    await page.keyboard.press('ArrowDown');
  }
  assert.match(await label(), new RegExp(application));
  for (const [name, value] of [['stage', stage], ['product', product], ['size', size]]) {
    // Tab enters a radio group on its first radio; the arrow keys move and check.
    let f = await tabTo(page, (x) => x.name === name, `the ${name} radios`, 3);
    for (let i = 0; i < 6 && f.value !== value; i += 1) {
      await page.keyboard.press('ArrowDown');
      f = await focused(page);
    }
    assert.equal(f.value, value, `${name} radio reached with the arrow keys`);
    await page.keyboard.press('Space');
    assert.equal((await focused(page)).checked, true, `${name} ${value} checked`);
  }
  await tabTo(page, (x) => x.tag === 'button' && x.text === 'Weiter zur Bestätigung', 'the submit button', 3);
  const res = await keyFollow(page);
  assert.equal(res.status(), 200, 'the booking form leads to the confirmation');
}

describe('Systempfleger:in books into an empty stage, cancels and dissolves the environment (keyboard only)', () => {
  const systempfleger = env.session('systempfleger');
  let bookingId;
  let envId;

  it('the stage has nothing yet: /umgebungen lists it as "nicht eingerichtet" without a badge', async () => {
    const { page } = await systempfleger();
    const res = await page.goto('/umgebungen');
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Umgebungen');
    // The navigation has the entry and marks it as the current page.
    const nav = page.locator('nav a[href="/umgebungen"]');
    assert.equal((await nav.innerText()).trim(), 'Umgebungen');
    assert.equal(await nav.getAttribute('aria-current'), 'page');
    // A customer's user sees only the customer's 2 Verfahren × 4 Stufen, no Kunde column.
    assert.equal(await page.locator('tbody tr').count(), 8);
    assert.equal(await page.locator('thead th', { hasText: /^Kunde$/ }).count(), 0);
    const row = await envRow(page, NS);
    envId = row.id;
    // Verfahren, Stufe, Ziel, Buchungen, Zustand, Bereitstellung
    assert.deepEqual(row.cells, ['Kfz-Zulassung', 'Schulung', 'Manifest-Verzeichnis (GitOps)', '0', 'nicht eingerichtet', '–']);
    // The demo data is provisioned by the reconciler right after the start:
    // soon every eingerichtet environment is bereit, the others have no badge.
    await until(async () => {
      await page.reload();
      const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText.trim())));
      return rows.every((r) => r[5] === 'eingerichtet' ? r[6] === 'bereit' : r[6] === '–');
    }, 'every demo environment that is eingerichtet reads "bereit"');
    // An empty environment offers nothing to dissolve.
    await page.goto(`/umgebungen/${envId}`);
    assert.equal(await described(page, 'Zustand').innerText(), 'nicht eingerichtet');
    assert.equal(await page.locator('#bereitstellung').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 0);
    assertNoCsp(page);
  });

  it('books Kfz-Zulassung / Schulung / Container-Namespace S with Tab, arrow keys, Space and Enter', async () => {
    const { page } = await systempfleger();
    await bookByKeyboard(page, {
      application: 'Kfz-Zulassung', stage: 'schulung', product: 'container-namespace', size: 'S',
    });
    assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
    assert.equal(await described(page, 'Stufe').innerText(), 'Schulung');
    assert.equal(await described(page, 'Produkt').innerText(), 'Container-Namespace');
    assert.equal(await described(page, 'Größe').innerText(), 'S');

    await tabTo(page, (x) => x.tag === 'button' && x.text === 'Verbindlich buchen', 'Verbindlich buchen');
    await keyFollow(page);
    const m = page.url().match(/\/buchungen\/(\d+)\?gebucht=1$/);
    assert.ok(m, `expected /buchungen/{id}?gebucht=1, got ${page.url()}`);
    bookingId = Number(m[1]);
    assert.equal((await page.getByRole('status').innerText()).trim(), 'Die Buchung ist angenommen.');
    // Right after booking it is beantragt (or already aktiv, the reconciler is quick).
    assert.match(await described(page, 'Status').innerText(), /^(beantragt|aktiv)$/);
    assert.match(await badge(page), /^(Bereitstellung läuft|bereit)$/);
    // The row names the namespace and links to the environment.
    const link = page.locator('#bereitstellung a');
    assert.equal((await link.innerText()).trim(), NS);
    assert.equal(await link.getAttribute('href'), `/umgebungen/${envId}`);
    assertNoCsp(page);
  });

  it('the booking becomes aktiv and its Bereitstellung "bereit" (reload until)', async () => {
    const { page } = await systempfleger();
    assert.ok(bookingId, 'needs the booking made before');
    await page.goto(`/buchungen/${bookingId}`);
    await reloadUntilReady(page, `booking ${bookingId}`);
    assert.equal(await described(page, 'Status').innerText(), 'aktiv');
    // The list shows it aktiv without a provisioning badge beside it.
    await page.goto('/buchungen');
    const row = page.locator('tbody tr', { has: page.locator(`a[href="/buchungen/${bookingId}"]`) });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /aktiv/);
    assert.doesNotMatch(await row.innerText(), /Bereitstellungsfehler|Änderung läuft/);
    // The environment is eingerichtet now, with one booking.
    const { cells } = await envRow(page, NS);
    assert.deepEqual(cells, ['Kfz-Zulassung', 'Schulung', 'Manifest-Verzeichnis (GitOps)', '1', 'eingerichtet', 'bereit']);
    assertNoCsp(page);
  });

  it('an environment with an open booking offers no "Umgebung auflösen" and refuses the confirmation (409)', async () => {
    const { page } = await systempfleger();
    await page.goto(`/umgebungen/${envId}`);
    assert.equal(await described(page, 'Zustand').innerText(), 'eingerichtet');
    assert.equal(await described(page, 'Aktive Buchungen').innerText(), '1');
    assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 0);
    const res = await page.goto(`/umgebungen/${envId}/aufloesen`);
    assert.equal(res.status(), 409);
    assert.match(await page.locator('main').innerText(), /noch etwas gebucht; bitte erst alle Buchungen kündigen/);
    // "Aktive Buchungen" links to exactly the bookings of this environment.
    await page.goto(`/umgebungen/${envId}`);
    await skipToContent(page);
    await tabTo(page, (x) => x.tag === 'a' && x.text === '1', 'the Aktive Buchungen link');
    await keyFollow(page);
    assert.equal(new URL(page.url()).pathname, '/buchungen');
    const ids = (await page.locator('tbody a[href^="/buchungen/"]').allInnerTexts()).map(Number);
    assert.deepEqual(ids, [bookingId]);
    assertNoCsp(page);
  });

  it('cancels every booking in the environment by keyboard', async () => {
    const { page } = await systempfleger();
    // From the filtered list of the step before: open the booking, then Kündigen.
    await tabTo(page, (x) => x.tag === 'a' && x.href === `/buchungen/${bookingId}`, `the link to booking ${bookingId}`);
    await keyFollow(page);
    assert.equal(new URL(page.url()).pathname, `/buchungen/${bookingId}`);
    await skipToContent(page);
    await tabTo(page, (x) => x.tag === 'a' && x.text === 'Kündigen', 'the Kündigen link');
    await keyFollow(page);
    assert.equal(await page.locator('h1').innerText(), 'Buchung kündigen');
    await tabTo(page, (x) => x.tag === 'button' && x.text === 'Verbindlich kündigen', 'Verbindlich kündigen');
    await keyFollow(page);
    assert.equal(new URL(page.url()).searchParams.get('gekuendigt'), '1');
    assert.equal((await page.getByRole('status').innerText()).trim(), 'Die Buchung ist gekündigt.');
    assert.equal(await described(page, 'Status').innerText(), 'gekündigt');
    assertNoCsp(page);
  });

  it('Verfahrensverantwortliche:r, Entwickler:in, Finanzen and Betreiber see the environment but may not dissolve it', async () => {
    for (const who of ['verfahrensverantwortliche', 'entwickler', 'finanzen', 'betreiber']) {
      const { page } = await env.open(who);
      const { id, cells } = await envRow(page, NS);
      assert.equal(id, envId);
      assert.ok(cells.includes('eingerichtet'), `${who}: ${cells.join(' | ')}`);
      assert.equal((await page.goto(`/umgebungen/${envId}`)).status(), 200, `${who}: /umgebungen/${envId}`);
      assert.equal(await described(page, 'Aktive Buchungen').innerText(), 'keine');
      assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 0,
        `${who} must not be offered "Umgebung auflösen"`);
      const res = await page.goto(`/umgebungen/${envId}/aufloesen`);
      assert.equal(res.status(), 403, `${who}: GET /umgebungen/${envId}/aufloesen`);
      assertNoCsp(page);
    }
  });

  it('opens the environment from the booking, activates "Umgebung auflösen", checks the confirmation and confirms', async () => {
    const { page } = await systempfleger();
    await page.goto(`/buchungen/${bookingId}`);
    await skipToContent(page);
    await tabTo(page, (x) => x.tag === 'a' && x.text === NS, 'the environment link in the Bereitstellung row');
    await keyFollow(page);
    assert.equal(new URL(page.url()).pathname, `/umgebungen/${envId}`);
    assert.match(await page.locator('h1').innerText(), new RegExp(`^Umgebung ${NS}$`));
    assert.equal(await described(page, 'Zustand').innerText(), 'eingerichtet');
    assert.equal(await described(page, 'Aktive Buchungen').innerText(), 'keine');

    await skipToContent(page);
    const f = await tabTo(page, (x) => x.tag === 'a' && x.text === 'Umgebung auflösen', 'Umgebung auflösen');
    assert.notEqual(f.outline, 'none', 'the focused "Umgebung auflösen" shows a focus outline');
    await keyFollow(page);
    assert.equal(new URL(page.url()).pathname, `/umgebungen/${envId}/aufloesen`);
    assert.equal(await page.locator('h1').innerText(), 'Umgebung auflösen');
    assert.match(await page.locator('main hgroup .kern-subline').innerText(), new RegExp(`Kfz-Zulassung · Schulung · ${NS}`));
    const warning = await page.locator('main .kern-alert--warning').innerText();
    assert.match(warning, new RegExp(`Namespace ${NS} aus dem Manifest-Verzeichnis`));
    assert.match(warning, /nicht rückgängig/);
    const objects = await page.locator('table:has(caption:text("Diese Objekte von Kontor werden gelöscht")) tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
    assert.deepEqual(objects, [
      ['Namespace', NS],
      ['ResourceQuota', 'kontor'],
      ['LimitRange', 'kontor-defaults'],
      ['NetworkPolicy', 'kontor-default-deny'],
      ['ServiceAccount', 'kontor-deployer'],
      ['RoleBinding', 'kontor-entwickler'],
      ['RoleBinding', 'kontor-systempflege'],
      ['RoleBinding', 'kontor-deployer'],
    ]);
    // Showing the confirmation dissolves nothing (checked in a second tab).
    const tab = await page.context().newPage();
    await tab.goto(`/umgebungen/${envId}`);
    assert.equal(await described(tab, 'Zustand').innerText(), 'eingerichtet');
    await tab.close();

    await tabTo(page, (x) => x.tag === 'button' && x.text === `Umgebung ${NS} verbindlich auflösen`,
      'the confirming button');
    const res = await keyFollow(page);
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, `/umgebungen/${envId}`);
    assert.equal(new URL(page.url()).searchParams.get('aufgeloest'), '1');
    assert.equal((await page.getByRole('status').innerText()).trim(),
      'Die Umgebung wird aufgelöst; der Namespace wird gelöscht.');
    assert.equal(await described(page, 'Zustand').innerText(), 'aufgelöst');
    assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 0);
    assertNoCsp(page);
  });

  it('the dissolved environment reads "aufgelöst" and the reconciler catches up', async () => {
    const { page } = await systempfleger();
    await page.goto(`/umgebungen/${envId}`);
    await reloadUntilReady(page, `environment ${envId} after dissolving`);
    assert.equal(await described(page, 'Zustand').innerText(), 'aufgelöst');
    const { cells } = await envRow(page, NS);
    assert.deepEqual(cells, ['Kfz-Zulassung', 'Schulung', 'Manifest-Verzeichnis (GitOps)', '0', 'aufgelöst', 'bereit']);
    // Dissolving twice is refused with an explanation.
    const res = await page.goto(`/umgebungen/${envId}/aufloesen`);
    assert.equal(res.status(), 409);
    assert.match(await page.locator('main').innerText(), /nicht eingerichtet; es gibt nichts aufzulösen/);
    assertNoCsp(page);
  });

  it('a new booking in the stage sets the environment up again', async () => {
    const { page } = await systempfleger();
    await bookByKeyboard(page, {
      application: 'Kfz-Zulassung', stage: 'schulung', product: 'persistent-storage', size: 'S',
    });
    await tabTo(page, (x) => x.tag === 'button' && x.text === 'Verbindlich buchen', 'Verbindlich buchen');
    await keyFollow(page);
    assert.match(page.url(), /\/buchungen\/\d+\?gebucht=1$/);
    assert.equal(await page.locator('#bereitstellung a').getAttribute('href'), `/umgebungen/${envId}`);
    await reloadUntilReady(page, 'the new booking');
    assert.equal(await described(page, 'Status').innerText(), 'aktiv');
    const { cells } = await envRow(page, NS);
    assert.deepEqual(cells, ['Kfz-Zulassung', 'Schulung', 'Manifest-Verzeichnis (GitOps)', '1', 'eingerichtet', 'bereit']);
    assertNoCsp(page);
  });
});

describe('tenancy: another customer\'s environment is 404', () => {
  it('for the Systempfleger:in of Stadt Musterhausen and of Kreisverwaltung Nordkreis, each way round', async () => {
    const betreiber = await env.open('betreiber');
    const foreign = await envRow(betreiber.page, 'nordkreis-sozialhilfe-vorpruefung');
    const own = await envRow(betreiber.page, 'musterhausen-buergerservice-vorpruefung');

    const { page } = await env.open('systempfleger');
    for (const path of [`/umgebungen/${foreign.id}`, `/umgebungen/${foreign.id}/aufloesen`]) {
      const res = await page.goto(path);
      assert.equal(res.status(), 404, `systempfleger: ${path}`);
      assert.doesNotMatch(await page.locator('main').innerText(), /nordkreis|Nordkreis/);
    }
    await page.goto('/umgebungen');
    assert.equal(await page.locator('main', { hasText: 'nordkreis' }).count(), 0);
    // A made-up or malformed id is 404, too.
    assert.equal((await page.goto('/umgebungen/999999')).status(), 404);
    assert.equal((await page.goto('/umgebungen/abc')).status(), 404);

    const nord = await env.open('systempfleger-nordkreis');
    assert.equal((await nord.page.goto(`/umgebungen/${own.id}`)).status(), 404);
    assert.equal((await nord.page.goto(`/umgebungen/${own.id}/aufloesen`)).status(), 404);
    assert.equal((await nord.page.goto(`/umgebungen/${foreign.id}`)).status(), 200);
  });
});

describe('dissolving needs a valid form and an environment that is still empty', () => {
  const NS6 = 'musterhausen-kfz-zulassung-vorpruefung';

  it('refuses a POST without the CSRF token (403), then a confirmation gone stale by a new booking (409)', async () => {
    const s = await env.open('systempfleger');
    const { page } = s;
    // Kfz-Zulassung / Vorprüfung has exactly one demo booking: cancel it.
    const { id, cells } = await envRow(page, NS6);
    assert.equal(cells[3], '1', 'one demo booking in Kfz-Zulassung / Vorprüfung');
    await page.goto(`/umgebungen/${id}`);
    await follow(page, () => described(page, 'Aktive Buchungen').getByRole('link').click());
    const links = page.locator('tbody a[href^="/buchungen/"]');
    assert.equal(await links.count(), 1);
    await follow(page, () => links.click());
    await follow(page, () => page.getByRole('link', { name: 'Kündigen' }).click());
    await press(page, 'Verbindlich kündigen');
    await page.goto(`/umgebungen/${id}`);
    assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 1);

    // Without the form's token nothing happens.
    for (const form of [{}, { csrf: 'falsch' }]) {
      const res = await page.request.post(`/umgebungen/${id}/aufloesen`, { form, maxRedirects: 0 });
      assert.equal(res.status(), 403, `POST with ${JSON.stringify(form)}`);
      assert.match(await res.text(), /Formular abgelaufen/);
    }
    assert.deepEqual((await envRow(page, NS6)).cells.slice(3, 5), ['0', 'eingerichtet']);

    // The confirmation, then a booking in another tab, then the confirming button.
    await page.goto(`/umgebungen/${id}`);
    await follow(page, () => page.getByRole('link', { name: 'Umgebung auflösen' }).click());
    assert.equal(await page.locator('h1').innerText(), 'Umgebung auflösen');
    const tab = await s.context.newPage();
    await tab.goto('/katalog');
    await fillBooking(tab, {
      application: 'Kfz-Zulassung', stage: 'Vorprüfung', product: 'Persistenter Speicher', size: 'S',
    });
    await press(tab, 'Weiter zur Bestätigung');
    await press(tab, 'Verbindlich buchen');
    assert.match(tab.url(), /\?gebucht=1$/);
    await tab.close();

    const res = await press(page, `Umgebung ${NS6} verbindlich auflösen`);
    assert.equal(res.status(), 409);
    assert.match(await page.locator('main').innerText(), /noch etwas gebucht; bitte erst alle Buchungen kündigen/);
    await checkA11y(page, '409 after the POST of a stale dissolve confirmation');
    assert.deepEqual((await envRow(page, NS6)).cells.slice(3, 5), ['1', 'eingerichtet']);
  });
});

describe('Betreiber: /betrieb/bereitstellung', () => {
  it('shows the "manifests" target with all four stages, reachable, and "Nichts ausstehend" once settled', async () => {
    const { page } = await env.open('betreiber');
    const res = await page.goto('/betrieb/bereitstellung');
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Bereitstellung');
    const nav = page.locator('nav a[href="/betrieb/bereitstellung"]');
    assert.equal(await nav.getAttribute('aria-current'), 'page');
    const targets = page.locator('table:has(caption:text("Ziele")) tbody tr');
    assert.equal(await targets.count(), 1);
    const target = targets.first();
    assert.equal((await target.locator('th').innerText()).trim(), 'manifests');
    const cells = (await target.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[0], 'Manifest-Verzeichnis');
    assert.deepEqual(cells[1].split(', '), STAGES);
    await until(async () => {
      await page.reload();
      const queue = (await page.locator('#queue-depth').innerText()).trim();
      const reachable = (await targets.first().locator('td').nth(2).innerText()).trim();
      return queue.startsWith('Nichts ausstehend') && reachable === 'erreichbar';
    }, '/betrieb/bereitstellung: "erreichbar" and "Nichts ausstehend"');
    assert.equal(await page.locator('table:has(caption:text("Ausstehende Umgebungen"))').count(), 0);
    assertNoCsp(page);
  });

  it('is closed to everyone else (403), and has no nav entry for them', async () => {
    for (const who of ['systempfleger', 'verfahrensverantwortliche', 'entwickler', 'finanzen', 'finanzen-rz']) {
      const { page } = await env.open(who);
      assert.equal(await page.locator('nav a[href="/betrieb/bereitstellung"]').count(), 0, `${who}: nav entry`);
      const res = await page.goto('/betrieb/bereitstellung');
      assert.equal(res.status(), 403, `${who}: /betrieb/bereitstellung`);
    }
  });
});
