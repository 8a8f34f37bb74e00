// Keyboard only: skip link, Tab through the booking form, choose with the
// arrow keys and Space, submit with Enter, confirm with Enter.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { focused, press, tabTo, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

async function skipToContent(page) {
  await page.keyboard.press('Tab');
  const skip = await focused(page);
  assert.equal(skip.tag, 'a');
  assert.equal(skip.text, 'Zum Inhalt springen', 'the first Tab stop is the skip link');
  assert.notEqual(skip.outline, 'none', 'the focused skip link shows a focus outline');
  const box = await page.locator('a.kontor-skip').boundingBox();
  assert.ok(box && box.width > 0 && box.y >= 0 && box.x >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'inhalt');
  assert.match(page.url(), /#inhalt$/);
}

test('books with the keyboard only: skip link, Tab, arrow keys, Space, Enter', async () => {
  const { page, assertNoCsp } = await env.open('systempfleger');
  await page.goto('/katalog');
  await skipToContent(page);

  // Verfahren: a closed <select> changes its value with the arrow keys.
  await tabTo(page, (f) => f.id === 'f-application_id', 'the Verfahren select');
  const label = () => page.locator('#f-application_id option:checked').innerText();
  for (let i = 0; i < 10 && !(await label()).includes('Kfz-Zulassung'); i += 1) {
    await page.keyboard.press('ArrowDown');
  }
  assert.match(await label(), /Kfz-Zulassung/);

  // Stufe: Tab enters the radio group on its first radio; Space checks it.
  let f = await tabTo(page, (x) => x.name === 'stage', 'the Stufe radios', 3);
  assert.equal(f.value, 'vorpruefung');
  await page.keyboard.press('Space');
  // Produkt: arrow keys move within the group and check.
  f = await tabTo(page, (x) => x.name === 'product', 'the Produkt radios', 3);
  await page.keyboard.press('ArrowDown');
  f = await focused(page);
  assert.equal(f.value, 'persistent-storage');
  assert.equal(f.checked, true);
  // Größe: S.
  f = await tabTo(page, (x) => x.name === 'size', 'the Größe radios', 3);
  assert.equal(f.value, 'S');
  await page.keyboard.press('Space');

  f = await tabTo(page, (x) => x.tag === 'button', 'the submit button', 3);
  assert.equal(f.text, 'Weiter zur Bestätigung');
  assert.notEqual(f.outline, 'none', 'the focused button shows a focus outline');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
  const summary = await page.locator('main dl').innerText();
  assert.match(summary, /Kfz-Zulassung/);
  assert.match(summary, /Vorprüfung/);
  assert.match(summary, /Persistenter Speicher/);

  // Confirmation page: skip link, then the first Tab stop is the button.
  await skipToContent(page);
  f = await tabTo(page, (x) => x.tag === 'button', 'Verbindlich buchen', 1);
  assert.equal(f.text, 'Verbindlich buchen');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(page.url(), /\/buchungen\/\d+\?gebucht=1$/);
  assert.equal((await page.getByRole('status').innerText()).trim(), 'Die Buchung ist angenommen.');
  assert.match(await page.locator('main hgroup .kern-subline').innerText(),
    /Kfz-Zulassung · Vorprüfung · Persistenter Speicher S/);
  assertNoCsp();
});

test('a form with errors re-renders and the error summary links reach the fields by keyboard', async () => {
  const { page, assertNoCsp } = await env.open('systempfleger');
  await page.goto('/katalog');
  await skipToContent(page);
  await tabTo(page, (x) => x.tag === 'button' && x.text === 'Weiter zur Bestätigung', 'the submit button');
  const res = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]).then(([r]) => r);
  assert.equal(res.status(), 422);
  const summary = page.locator('main .kern-alert--danger[role="alert"]');
  assert.match(await summary.innerText(), /Bitte prüfen Sie Ihre Eingaben/);
  // Each field shows its message beside it.
  for (const [field, text] of [
    ['f-application_id-error', 'Bitte ein Verfahren wählen.'],
    ['f-stage-error', 'Bitte eine Stufe wählen.'],
    ['f-product-error', 'Bitte ein Produkt wählen.'],
    ['f-size-error', 'Bitte eine Größe wählen.'],
  ]) {
    assert.equal((await page.locator(`#${field}`).innerText()).trim(), text);
  }
  // The summary has the focus when the page opens, so the very next Tab is
  // its first link; following it with Enter lands on the select.
  await page.waitForFunction(() => document.activeElement?.classList.contains('kontor-error-summary'));
  const link = await tabTo(page, (x) => x.tag === 'a' && x.text === 'Bitte ein Verfahren wählen.', 'the first error link', 1);
  assert.equal(link.text, 'Bitte ein Verfahren wählen.');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'f-application_id');
  assertNoCsp();
});

test('a refused form says so in its title and starts with its error summary: it has the focus, its links name the fields', async () => {
  const { page, assertNoCsp } = await env.open('systempfleger');
  await page.goto('/api-tokens');
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByLabel('Gültig bis einschließlich').fill('2000-01-01');
  const res = await press(page, 'Token erstellen');
  assert.equal(res.status(), 422);
  assert.equal(await page.title(), 'Fehler: API-Tokens – Kontor', 'the title names the refusal first');
  await page.waitForFunction(() => document.activeElement?.classList.contains('kontor-error-summary'));
  const links = page.locator('.kontor-error-summary a');
  assert.equal(await links.count(), 2, 'one link per refused field');
  for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    assert.equal(await page.locator(href).count(), 1, `${href} names a field of the form`);
  }
  // The next Tab goes to the first error's link, not back to the top.
  await page.keyboard.press('Tab');
  const next = await focused(page);
  assert.equal(next.tag, 'a');
  assert.equal(next.text, await links.first().innerText());
  assertNoCsp();
});
