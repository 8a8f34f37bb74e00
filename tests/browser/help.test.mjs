// Pages that help the person through (issue 16), in a portal of their own:
// the sizes that fit beside a Kontingent refusal (in sight without
// scrolling at 320 and 1280 px), the approval card's details and its
// confirmation page, the warning and the required confirmation before
// persistent storage is cancelled, and the Stufen reached from the
// navigation. axe and the layout checks run on every state (checkA11y).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, fillBooking, follow, press, until, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

/**
 * Waits until the element's box lies within the viewport, as the browser
 * scrolls it there on its own when it takes the focus (autofocus) on
 * opening; the person does not scroll. Returns the box.
 */
async function inSight(page, selector) {
  const box = () => page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, height: window.innerHeight, scrolled: window.scrollY };
  });
  try {
    return await until(async () => {
      const b = await box();
      return b.top >= 0 && b.bottom <= b.height ? b : null;
    }, `${selector} in sight`, { timeoutMs: 3000 });
  } catch {
    return box();
  }
}

describe('sizes that fit beside a Kontingent refusal', () => {
  for (const [width, height] of [[320, 740], [1280, 800]]) {
    it(`a refused booking names the sizes that fit, in sight at ${width} px`, async () => {
      const { page } = await env.open('systempfleger');
      await page.setViewportSize({ width, height });
      let status = 200;
      for (let attempt = 1; attempt <= 8 && status === 200; attempt += 1) {
        await page.goto('/katalog');
        await fillBooking(page, {
          application: 'Kfz-Zulassung', stage: 'Schulung', product: 'Container-Namespace', size: 'XL',
        });
        status = (await press(page, 'Weiter zur Bestätigung')).status();
        if (status === 200) await press(page, 'Verbindlich buchen');
      }
      assert.equal(status, 422, 'Container-Namespace XL was never refused');
      const alert = page.locator('#ablehnung');
      assert.match(await alert.innerText(), /Buchung nicht möglich[\s\S]*Das Kontingent reicht nicht/);
      const offers = await alert.locator('[data-passt]').allInnerTexts();
      if (offers.length) {
        assert.match(await alert.innerText(), /Von Container-Namespace passen noch/);
        assert.ok(!offers.includes('Größe XL wählen'), `XL does not fit: ${offers}`);
      } else {
        assert.match(await alert.innerText(), /Keine Größe von Container-Namespace passt/);
      }
      // The refusal with its offers and the request link, without scrolling.
      const box = await inSight(page, '#ablehnung');
      assert.ok(box.top >= 0 && box.bottom <= box.height, `the refusal is in sight: ${JSON.stringify(box)}`);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'ablehnung', 'the focus starts at the refusal');
      await checkA11y(page, `booking refused with fitting sizes at ${width}`);

      // Taking an offer fills the form with it; the check then passes.
      if (offers.length) {
        const size = offers[offers.length - 1].replace(/^Größe (\S+) wählen$/, '$1');
        await follow(page, () => alert.getByRole('link', { name: `Größe ${size} wählen` }).click());
        assert.ok(await page.getByRole('radio', { name: size, exact: true }).isChecked());
        assert.ok(await page.getByRole('radio', { name: 'Schulung', exact: true }).isChecked());
        assert.equal((await press(page, 'Weiter zur Bestätigung')).status(), 200);
        assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
      }
    });
  }

  it('a refused resize names the other sizes that fit', async () => {
    const { page } = await env.open('systempfleger');
    await page.goto('/katalog');
    await fillBooking(page, {
      application: 'Bürgerservice-Portal', stage: 'Vorprüfung', product: 'Container-Namespace', size: 'S',
    });
    let res = await press(page, 'Weiter zur Bestätigung');
    if (res.status() === 200) await press(page, 'Verbindlich buchen');
    else {
      // The Kontingent is full from the test before: resize a demo booking.
      await page.goto('/buchungen?produkt=container-namespace');
      await follow(page, () => page.locator('tbody a[href^="/buchungen/"]').first().click());
    }
    const id = new URL(page.url()).pathname.split('/').pop();
    await page.goto(`/buchungen/${id}/groesse`);
    await page.getByRole('radio', { name: 'XL', exact: true }).check();
    res = await press(page, 'Weiter zur Bestätigung');
    assert.equal(res.status(), 422);
    const alert = page.locator('#ablehnung');
    assert.match(await alert.innerText(), /Größenänderung nicht möglich[\s\S]*Das Kontingent reicht nicht/);
    assert.ok((await alert.locator('[data-passt]').count()) + (await alert.getByText(/Keine Größe/).count()) > 0);
    const box = await inSight(page, '#ablehnung');
    assert.ok(box.top >= 0 && box.bottom <= box.height, `the refusal is in sight: ${JSON.stringify(box)}`);
    await checkA11y(page, 'resize refused with fitting sizes');
  });

  it('when no size fits any more, the refusal says so beside the request link', async () => {
    const { page } = await env.open('systempfleger');
    let status = 200;
    for (let attempt = 1; attempt <= 30 && status === 200; attempt += 1) {
      await page.goto('/katalog');
      await fillBooking(page, {
        application: 'Kfz-Zulassung', stage: 'Abnahme', product: 'Container-Namespace', size: 'S',
      });
      status = (await press(page, 'Weiter zur Bestätigung')).status();
      if (status === 200) await press(page, 'Verbindlich buchen');
    }
    assert.equal(status, 422, 'Container-Namespace S was never refused');
    const alert = page.locator('#ablehnung');
    assert.equal(await alert.locator('[data-passt]').count(), 0);
    assert.match(await alert.innerText(), /Keine Größe von Container-Namespace passt in das verbleibende Kontingent\.\s*Kontingent-Erhöhung beantragen/);
    const box = await inSight(page, '#ablehnung');
    assert.ok(box.top >= 0 && box.bottom <= box.height, `the refusal is in sight: ${JSON.stringify(box)}`);
    await checkA11y(page, 'booking refused, no size fits');
  });
});

describe('cancelling persistent storage', () => {
  it('warns that the data goes, and cancels only with the box ticked', async () => {
    const { page } = await env.open('systempfleger');
    await page.goto('/katalog');
    await fillBooking(page, {
      application: 'Bürgerservice-Portal', stage: 'Vorprüfung', product: 'Persistenter Speicher', size: 'S',
    });
    assert.equal((await press(page, 'Weiter zur Bestätigung')).status(), 200);
    await press(page, 'Verbindlich buchen');
    const id = new URL(page.url()).pathname.split('/').pop();
    await page.goto(`/buchungen/${id}/kuendigen`);
    const warning = page.locator('#datenverlust');
    assert.match(await warning.innerText(), /Die Daten in diesem Speicher werden gelöscht[\s\S]*nicht rückgängig/);
    await checkA11y(page, 'cancel persistent storage');

    // Without the box: refused beside it, the summary first with the focus.
    const refused = await press(page, 'Verbindlich kündigen');
    assert.equal(refused.status(), 422);
    assert.match(await page.title(), /^Fehler: /);
    assert.match(await page.locator('#f-daten_loeschen-error').innerText(), /Bitte bestätigen, dass die Daten/);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('kontor-error-summary')), true);
    await checkA11y(page, 'cancel persistent storage without the confirmation');
    await page.goto(`/buchungen/${id}`);
    assert.doesNotMatch(await page.locator('main').innerText(), /Die Buchung ist gekündigt/);

    await page.goto(`/buchungen/${id}/kuendigen`);
    await page.getByRole('checkbox', { name: /Ich habe verstanden, dass die Daten/ }).check();
    await press(page, 'Verbindlich kündigen');
    assert.equal(new URL(page.url()).searchParams.get('gekuendigt'), '1');
  });
});

describe('the Stufen from the navigation', () => {
  for (const who of ['systempfleger', 'entwickler', 'betreiber']) {
    it(`${who}: "Stufen" in the menu at 320 px leads to the list and on to an application's stages`, async () => {
      const { page } = await env.open(who);
      await page.setViewportSize({ width: 320, height: 740 });
      await page.goto('/uebersicht');
      const nav = page.getByRole('navigation', { name: 'Hauptnavigation' });
      const stufen = nav.getByRole('link', { name: 'Stufen', exact: true });
      assert.equal(await stufen.isVisible(), false, 'folded into "Menü" at 320 px');
      await nav.locator('summary').click();
      await follow(page, () => stufen.click());
      assert.equal(new URL(page.url()).pathname, '/stufen');
      assert.equal(await page.locator('h1').innerText(), 'Stufen');
      // The menu starts closed on the next page; the link is still marked.
      const current = nav.locator('a[href="/stufen"]');
      assert.equal(await current.getAttribute('aria-current'), 'page');
      const apps = page.locator('main tbody th a[href^="/verfahren/"]');
      assert.ok(await apps.count() > 0, 'the applications are listed');
      await checkA11y(page, '/stufen');
      const name = await apps.first().innerText();
      await follow(page, () => apps.first().click());
      assert.match(new URL(page.url()).pathname, /^\/verfahren\/\d+\/stufen$/);
      assert.equal(await page.locator('h1').innerText(), `Stufen: ${name}`);
      assert.equal(await current.getAttribute('aria-current'), 'page');
    });
  }
});
