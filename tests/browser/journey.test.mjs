// The acceptance journey as demo Systempfleger:in of Stadt
// Musterhausen: book through the confirmation, be refused beyond the
// Kontingent (and nothing is booked), resize, cancel.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertNoCsp, bookingCount, described, fillBooking, follow, press, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

describe('Systempfleger:in books, is refused beyond the Kontingent, resizes and cancels', () => {
  const systempfleger = env.session('systempfleger');
  let bookingId;
  let countBefore;

  it('books Bürgerservice-Portal / Abnahme / Container-Namespace M through the confirmation', async () => {
    const s = await systempfleger();
    const { page } = s;
    countBefore = await bookingCount(page);

    await page.goto('/katalog');
    await fillBooking(page, {
      application: 'Bürgerservice-Portal', stage: 'Abnahme', product: 'Container-Namespace', size: 'M',
    });
    const confirm = await press(page, 'Weiter zur Bestätigung');
    assert.equal(confirm.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
    assert.match(await described(page, 'Verfahren').innerText(), /Bürgerservice-Portal/);
    assert.equal(await described(page, 'Stufe').innerText(), 'Abnahme');
    assert.equal(await described(page, 'Produkt').innerText(), 'Container-Namespace');
    assert.equal(await described(page, 'Größe').innerText(), 'M');
    // Showing the confirmation books nothing yet (checked in a second tab).
    const tab = await s.context.newPage();
    assert.equal(await bookingCount(tab), countBefore, 'the confirmation page must not book');
    await tab.close();

    const done = await press(page, 'Verbindlich buchen');
    assert.equal(done.status(), 200);
    const m = new URL(page.url()).pathname.match(/^\/buchungen\/(\d+)$/);
    assert.ok(m, `expected /buchungen/{id}, got ${page.url()}`);
    assert.equal(new URL(page.url()).searchParams.get('gebucht'), '1');
    bookingId = Number(m[1]);
    await assertSuccess(page, 'Die Buchung ist angenommen.');
    assert.equal(await page.locator('h1').innerText(), `Buchung ${bookingId}`);
    assert.match(await page.locator('main hgroup .kern-subline').innerText(),
      /Bürgerservice-Portal · Abnahme · Container-Namespace M/);
    assert.match(await described(page, 'Status').innerText(), /^(beantragt|aktiv)$/);

    assert.equal(await bookingCount(page), countBefore + 1);
    assertNoCsp(page);
  });

  it('refuses a booking beyond the Kontingent beside the form and books nothing', async () => {
    const s = await systempfleger();
    const { page } = s;
    let refused = false;
    for (let attempt = 1; attempt <= 6 && !refused; attempt += 1) {
      const count = await bookingCount(page);
      await page.goto('/katalog');
      await fillBooking(page, {
        application: 'Bürgerservice-Portal', stage: 'Schulung', product: 'Container-Namespace', size: 'XL',
      });
      const res = await press(page, 'Weiter zur Bestätigung');
      if (res.status() === 200) {
        // Still room: book it, so the Kontingent fills up.
        assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
        await press(page, 'Verbindlich buchen');
        await assertSuccess(page, 'Die Buchung ist angenommen.');
        continue;
      }
      refused = true;
      assert.equal(res.status(), 422);
      assert.equal(new URL(page.url()).pathname, '/katalog/pruefen');
      // The refusal sits in the booking section, right before the form.
      const section = page.locator('section[aria-labelledby="buchen"]');
      const alert = section.getByRole('alert');
      await assert.doesNotReject(alert.waitFor());
      assert.match(await alert.locator('.kern-title').innerText(), /^Buchung nicht möglich$/);
      assert.match(await alert.locator('.kern-alert__body').innerText(), /^Das Kontingent reicht nicht/);
      assert.equal(await section.locator('form[action="/katalog/pruefen"]').count(), 1);
      // The form keeps what was chosen.
      assert.ok(await page.getByRole('radio', { name: 'XL', exact: true }).isChecked());
      assert.ok(await page.getByRole('radio', { name: 'Schulung', exact: true }).isChecked());
      assert.match(await page.locator('#f-application_id option:checked').innerText(), /Bürgerservice-Portal/);
      // Nothing was booked.
      assert.equal(await bookingCount(page), count, 'the refused booking must not be in /buchungen');
    }
    assert.ok(refused, 'Container-Namespace XL was never refused');
    assertNoCsp(page);
  });

  it('resizes the new booking to S through the confirmation', async () => {
    const s = await systempfleger();
    assert.ok(bookingId, 'needs the booking made in the first step');
    const { page } = s;
    await page.goto(`/buchungen/${bookingId}`);
    await follow(page, () => page.getByRole('link', { name: 'Größe ändern' }).click());
    assert.equal(new URL(page.url()).pathname, `/buchungen/${bookingId}/groesse`);
    assert.equal(await page.locator('h1').innerText(), 'Größe ändern');
    await page.getByRole('radio', { name: 'S', exact: true }).check();
    const confirm = await press(page, 'Weiter zur Bestätigung');
    assert.equal(confirm.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Größenänderung bestätigen');
    assert.match(await page.locator('table').first().innerText(), /bisher \(M\)[\s\S]*neu \(S\)/);

    await press(page, 'Größe verbindlich ändern');
    assert.equal(new URL(page.url()).pathname, `/buchungen/${bookingId}`);
    assert.equal(new URL(page.url()).searchParams.get('geaendert'), '1');
    await assertSuccess(page, 'Die Größe wurde geändert.');
    assert.equal(await described(page, 'Produkt und Größe').innerText(), 'Container-Namespace S');
    // Period history: M closed, S running.
    const periods = page.locator('table:has(caption:text("Verlauf der Größen")) tbody tr');
    assert.equal(await periods.count(), 2);
    const rows = await periods.allInnerTexts();
    assert.ok(rows.some((r) => /^M\b/.test(r) && !/laufend/.test(r)), rows.join(' | '));
    assert.ok(rows.some((r) => /^S\b/.test(r) && /laufend/.test(r)), rows.join(' | '));
    assertNoCsp(page);
  });

  it('cancels the booking through the confirmation and shows it as gekündigt', async () => {
    const s = await systempfleger();
    assert.ok(bookingId, 'needs the booking made in the first step');
    const { page } = s;
    await page.goto(`/buchungen/${bookingId}`);
    await follow(page, () => page.getByRole('link', { name: 'Kündigen' }).click());
    assert.equal(new URL(page.url()).pathname, `/buchungen/${bookingId}/kuendigen`);
    assert.equal(await page.locator('h1').innerText(), 'Buchung kündigen');

    await press(page, 'Verbindlich kündigen');
    assert.equal(new URL(page.url()).pathname, `/buchungen/${bookingId}`);
    assert.equal(new URL(page.url()).searchParams.get('gekuendigt'), '1');
    await assertSuccess(page, 'Die Buchung ist gekündigt.');
    assert.equal(await described(page, 'Status').innerText(), 'gekündigt');
    assert.equal(await described(page, 'Gekündigt am').count(), 1);
    // A cancelled booking cannot be changed any more.
    assert.equal(await page.getByRole('link', { name: 'Größe ändern' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Kündigen' }).count(), 0);

    // The list shows it as gekündigt, too.
    await page.goto('/buchungen?status=gekuendigt');
    const row = page.locator('tbody tr', { has: page.locator(`a[href="/buchungen/${bookingId}"]`) });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /gekündigt/);
    assertNoCsp(page);
  });
});

async function assertSuccess(page, text) {
  const status = page.getByRole('status');
  assert.equal(await status.count(), 1, `no success message on ${page.url()}`);
  assert.equal((await status.innerText()).trim(), text);
}
