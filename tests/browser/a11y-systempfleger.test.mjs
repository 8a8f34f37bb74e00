// axe-core (WCAG 2.0/2.1 A + AA) on every page a Systempfleger:in sees,
// including the states with messages: field errors, the Kontingent refusal,
// confirmations, success notices, 403/404 and the expired-form page. Also the
// login page, before anyone is logged in.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkA11y, fillBooking, follow, press, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

/** Opens `path`, checks the HTTP status, runs axe. */
async function visit(page, path, status = 200) {
  const res = await page.goto(path);
  assert.equal(res.status(), status, `${path}: HTTP status`);
  await checkA11y(page, `${path} (HTTP ${status})`);
}

describe('login page (not logged in)', () => {
  it('/anmelden', async () => {
    const { page, assertNoCsp } = await env.open(null);
    await visit(page, '/anmelden');
    assert.ok(await page.locator('button[data-login="systempfleger"]').count());
    // Pages that need a login send a stranger to the login page.
    await page.goto('/buchungen/999999');
    assert.equal(new URL(page.url()).pathname, '/anmelden');
    assertNoCsp();
  });

  it('/barrierefreiheit, reached from the footer', async () => {
    const { page, assertNoCsp } = await env.open(null);
    await page.goto('/anmelden');
    await follow(page, () => page.getByRole('navigation', { name: 'Rechtliches und Hilfe' })
      .getByRole('link', { name: 'Barrierefreiheit' }).click());
    assert.equal(new URL(page.url()).pathname, '/barrierefreiheit');
    await checkA11y(page, '/barrierefreiheit');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Erklärung zur Barrierefreiheit');
    assert.equal(await page.getByRole('link', { name: 'www.schlichtungsstelle-bgg.de' }).count(), 1);
    assertNoCsp();
  });

  it('/glossar, reached from the footer', async () => {
    const { page, assertNoCsp } = await env.open(null);
    await page.goto('/anmelden');
    await follow(page, () => page.getByRole('navigation', { name: 'Rechtliches und Hilfe' })
      .getByRole('link', { name: 'Glossar' }).click());
    assert.equal(new URL(page.url()).pathname, '/glossar');
    await checkA11y(page, '/glossar');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Glossar');
    assert.equal(await page.locator('dt').count(), 8);
    assertNoCsp();
  });
});

describe('Systempfleger:in', () => {
  const systempfleger = env.session('systempfleger');
  let s;
  let page;
  let bookingId;
  beforeEach(async () => {
    s = await systempfleger();
    page = s.page;
  });

  it('/uebersicht', () => visit(page, '/uebersicht'));
  it('/glossar, reached from the term on the Übersicht', async () => {
    await page.goto('/uebersicht');
    await follow(page, () => page.locator('main').getByRole('link', { name: 'Kontingent', exact: true }).click());
    assert.equal(new URL(page.url()).pathname, '/glossar');
    assert.equal(new URL(page.url()).hash, '#kontingent');
    await checkA11y(page, '/glossar');
  });
  it('/katalog', () => visit(page, '/katalog'));
  it('/katalog with a size chosen from a card', () => visit(page, '/katalog?produkt=container-namespace&groesse=M#buchen'));

  it('/katalog/pruefen: booking form re-rendered with field errors (nothing chosen)', async () => {
    await page.goto('/katalog');
    const res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 422);
    assert.equal(await page.locator('.kern-error').count(), 4);
    await checkA11y(page, 'booking form with field errors');
  });

  it('/katalog/pruefen: confirmation page', async () => {
    await page.goto('/katalog');
    await fillBooking(page, {
      application: 'Bürgerservice-Portal', stage: 'Abnahme', product: 'Container-Namespace', size: 'M',
    });
    const res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
    await checkA11y(page, 'booking confirmation');
  });

  it('/buchungen/{id}?gebucht=1: success notice', async () => {
    await press(page, 'Verbindlich buchen');
    bookingId = Number(new URL(page.url()).pathname.split('/').pop());
    assert.equal(await page.getByRole('status').count(), 1);
    await checkA11y(page, 'booking detail with success notice');
  });

  it('/katalog/pruefen: over-Kontingent refusal', async () => {
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      await page.goto('/katalog');
      await fillBooking(page, {
        application: 'Kfz-Zulassung', stage: 'Schulung', product: 'Container-Namespace', size: 'XL',
      });
      const res = await press(page, 'Weiter zur Bestätigung');
      if (res.status() === 422) break;
      await press(page, 'Verbindlich buchen');
    }
    assert.match(await page.getByRole('alert').innerText(), /Buchung nicht möglich[\s\S]*Das Kontingent reicht nicht/);
    await checkA11y(page, 'booking form with Kontingent refusal');
  });

  it('Kontingent bars at ≥ 80 % (Warnung) and at 100 % (ausgeschöpft)', async () => {
    const bars = async (level) => {
      await page.goto('/uebersicht');
      return page.locator(`.kontor-bar--${level}`).count();
    };
    for (const level of ['warn', 'over']) {
      for (let i = 0; i < 12 && (await bars(level)) === 0; i += 1) {
        await page.goto('/katalog');
        await fillBooking(page, {
          application: 'Kfz-Zulassung', stage: 'Vorprüfung', product: 'Container-Namespace', size: 'S',
        });
        if ((await press(page, 'Weiter zur Bestätigung')).status() !== 200) break;
        await press(page, 'Verbindlich buchen');
      }
      assert.ok(await bars(level) > 0, `no kontor-bar--${level} on /uebersicht`);
      assert.match(await page.locator('main').innerText(), level === 'warn' ? /Warnung/ : /ausgeschöpft/);
      await checkA11y(page, `/uebersicht with a bar at level ${level}`);
      await visit(page, '/katalog');
    }
    // A confirmation whose "after" bars are over the limit in one dimension
    // (storage needs no vCPU, so it is still possible).
    await page.goto('/katalog');
    await fillBooking(page, {
      application: 'Kfz-Zulassung', stage: 'Vorprüfung', product: 'Persistenter Speicher', size: 'S',
    });
    assert.equal((await press(page, 'Weiter zur Bestätigung')).status(), 200);
    assert.ok(await page.locator('.kontor-bar--over').count() > 0);
    await checkA11y(page, 'booking confirmation with a full Kontingent');
  });

  it('/buchungen', () => visit(page, '/buchungen'));
  it('/buchungen filtered', () => visit(page, '/buchungen?stufe=abnahme&status=&produkt=container-namespace&groesse='));
  it('/buchungen searched and sorted', () => visit(page, '/buchungen?suche=portal&sortierung=-stage'));
  it('/buchungen filtered to nothing', async () => {
    await visit(page, '/buchungen?stufe=vorpruefung&groesse=XL&produkt=persistent-storage');
    assert.match(await page.locator('main').innerText(), /Keine Buchungen für diese Auswahl/);
  });
  it('/buchungen/{id} of a demo booking with history', () => visit(page, '/buchungen/1'));

  it('/buchungen/{id}/groesse', () => visit(page, `/buchungen/${bookingId}/groesse`));

  it('/buchungen/{id}/groesse/pruefen: size form with field error (nothing chosen)', async () => {
    await page.goto(`/buchungen/${bookingId}/groesse`);
    const res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 422);
    assert.match(await page.locator('#f-size-error').innerText(), /Bitte eine neue Größe wählen/);
    await checkA11y(page, 'size form with field error');
  });

  it('/buchungen/{id}/groesse/pruefen: over-Kontingent refusal', async () => {
    await page.goto(`/buchungen/${bookingId}/groesse`);
    await page.getByRole('radio', { name: 'XL', exact: true }).check();
    const res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 422, 'resizing M to XL should exceed the Kontingent of the demo data');
    assert.match(await page.getByRole('alert').innerText(), /Größenänderung nicht möglich[\s\S]*Das Kontingent reicht nicht/);
    await checkA11y(page, 'size form with Kontingent refusal');
  });

  it('/buchungen/{id}/groesse/pruefen: resize confirmation', async () => {
    await page.goto(`/buchungen/${bookingId}/groesse`);
    await page.getByRole('radio', { name: 'S', exact: true }).check();
    const res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Größenänderung bestätigen');
    await checkA11y(page, 'resize confirmation');
  });

  it('/buchungen/{id}?geaendert=1: resized notice', async () => {
    await press(page, 'Größe verbindlich ändern');
    assert.match(await page.getByRole('status').innerText(), /Die Größe wurde geändert/);
    await checkA11y(page, 'booking detail after resize');
  });

  it('/buchungen/{id}/kuendigen', () => visit(page, `/buchungen/${bookingId}/kuendigen`));

  it('/buchungen/{id}?gekuendigt=1: cancelled notice', async () => {
    await press(page, 'Verbindlich kündigen');
    assert.match(await page.getByRole('status').innerText(), /Die Buchung ist gekündigt/);
    await checkA11y(page, 'booking detail after cancel');
  });

  it('/buchungen/{id} of a cancelled booking', () => visit(page, `/buchungen/${bookingId}`));
  it('404: /buchungen/999999', () => visit(page, '/buchungen/999999', 404));
  it('404: /buchungen/abc', () => visit(page, '/buchungen/abc', 404));
  it('404: a booking of another customer', async () => {
    // The demo data has 13 bookings of three customers; take one not listed.
    await page.goto('/buchungen');
    const own = new Set((await page.locator('tbody a[href^="/buchungen/"]').allInnerTexts()).map(Number));
    const foreign = [...Array(13).keys()].map((i) => i + 1).find((id) => !own.has(id));
    assert.ok(foreign, 'a booking of another customer in the demo data');
    await visit(page, `/buchungen/${foreign}`, 404);
  });
  it('403: /betrieb/kunden', () => visit(page, '/betrieb/kunden', 403));

  it('403: expired form (logged out in another tab)', async () => {
    await page.goto('/katalog');
    const tab = await s.context.newPage();
    await tab.goto('/uebersicht');
    await follow(tab, () => tab.getByRole('button', { name: 'Abmelden' }).click());
    await tab.close();
    const res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'Formular abgelaufen');
    await checkA11y(page, 'expired form page');
  });
});
