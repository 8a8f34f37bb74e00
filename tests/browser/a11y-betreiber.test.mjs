// axe-core (WCAG 2.0/2.1 A + AA) on every page the Betreiber sees, with the
// Betreiber area's forms re-rendered with field errors.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkA11y, follow, press, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

async function visit(page, path, status = 200) {
  const res = await page.goto(path);
  assert.equal(res.status(), status, `${path}: HTTP status`);
  await checkA11y(page, `${path} (HTTP ${status})`);
}

/** Asserts the page was re-rendered with HTTP 422 and field messages, runs axe. */
async function checkRefusedForm(page, res, label) {
  assert.equal(res.status(), 422, `${label}: HTTP status`);
  assert.ok(await page.locator('.kern-error').count() > 0, `${label}: no message beside a field`);
  await checkA11y(page, label);
}

describe('Betreiber', () => {
  const betreiber = env.session('betreiber');
  let page;
  beforeEach(async () => {
    ({ page } = await betreiber());
  });

  it('/uebersicht (all customers)', () => visit(page, '/uebersicht'));
  it('/uebersicht?kunde=1', () => visit(page, '/uebersicht?kunde=1'));
  it('/uebersicht?kunde=3', () => visit(page, '/uebersicht?kunde=3'));
  it('/katalog (no booking form)', () => visit(page, '/katalog'));
  it('/buchungen (all customers)', () => visit(page, '/buchungen'));
  it('/buchungen filtered', () => visit(page, '/buchungen?status=aktiv&groesse=S'));
  it('/buchungen searched and sorted', () => visit(page, '/buchungen?suche=stadt&sortierung=-customer'));
  it('/buchungen: a sort the list does not know (422)', async () => {
    await visit(page, '/buchungen?sortierung=passwort', 422);
    assert.match(await page.title(), /^Fehler: /);
  });
  it('/buchungen/1', () => visit(page, '/buchungen/1'));
  it('403: /buchungen/1/groesse', () => visit(page, '/buchungen/1/groesse', 403));
  it('404: /buchungen/999999', () => visit(page, '/buchungen/999999', 404));

  it('/betrieb/kunden', () => visit(page, '/betrieb/kunden'));
  it('/betrieb/kunden searched and sorted', () => visit(page, '/betrieb/kunden?suche=e&sortierung=-name'));
  it('/betrieb/kunden: searched with the form, sorted by a column header', async () => {
    await page.goto('/betrieb/kunden?sortierung=-name');
    await page.getByLabel('Kunden suchen').fill('kreis');
    await press(page, 'Suchen');
    assert.equal(new URL(page.url()).search, '?suche=kreis&sortierung=-name');
    const header = page.locator('th[aria-sort]');
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    await follow(page, () => header.getByRole('link').click());
    assert.equal(await page.locator('th[aria-sort]').getAttribute('aria-sort'), 'ascending');
    await checkA11y(page, '/betrieb/kunden?suche=kreis&sortierung=name');
  });
  it('/betrieb/kunden: new customer with field errors', async () => {
    await page.goto('/betrieb/kunden');
    await page.getByLabel('Kürzel').fill('Nicht Gültig!');
    await checkRefusedForm(page, await press(page, 'Kunden anlegen'), 'new customer with field errors');
  });
  it('/betrieb/kunden/1', () => visit(page, '/betrieb/kunden/1'));
  it('/betrieb/kunden/1: rename with an empty name', async () => {
    await page.goto('/betrieb/kunden/1');
    await page.getByLabel('Name der Behörde').fill('');
    await checkRefusedForm(page, await press(page, 'Namen speichern'), 'customer rename with field error');
  });
  it('/betrieb/kunden/1: new application with field errors', async () => {
    await page.goto('/betrieb/kunden/1');
    await page.getByLabel('Kürzel').fill('--');
    await checkRefusedForm(page, await press(page, 'Verfahren anlegen'), 'new application with field errors');
  });
  it('404: /betrieb/kunden/999999', () => visit(page, '/betrieb/kunden/999999', 404));

  it('/betrieb/vertraege', () => visit(page, '/betrieb/vertraege'));
  it('/betrieb/vertraege searched and sorted', () => visit(page, '/betrieb/vertraege?suche=DLV&sortierung=-customer'));
  it('/betrieb/vertraege: a search too long (422)', () => visit(page, `/betrieb/vertraege?suche=${'x'.repeat(201)}`, 422));
  it('/betrieb/vertraege/neu', () => visit(page, '/betrieb/vertraege/neu'));
  it('/betrieb/vertraege/neu?kunde=2', () => visit(page, '/betrieb/vertraege/neu?kunde=2'));
  it('/betrieb/vertraege: new contract with field errors (nothing filled in)', async () => {
    await page.goto('/betrieb/vertraege/neu');
    await checkRefusedForm(page, await press(page, 'Vertrag speichern'), 'new contract, empty');
  });
  it('/betrieb/vertraege: new contract with invalid values', async () => {
    await page.goto('/betrieb/vertraege/neu?kunde=1');
    await page.getByLabel('Vertragsnummer').fill('DLV-2026-0999');
    await page.getByLabel('Bezeichnung').fill('Test');
    // Date fields (type=date) take only days; the end before the start is
    // what the server still refuses beside the field.
    await page.getByLabel('Gültig ab').fill('2026-12-31');
    await page.getByLabel('Gültig bis (einschließlich)').fill('2026-01-01');
    await page.getByLabel('Mischmodell (Grundgebühr + Nutzung)').check();
    await page.getByLabel('Grundgebühr je Monat in Euro').fill('viel');
    await page.getByLabel('vCPU').fill('-3');
    await page.getByLabel('Monatsbudget in Euro').fill('12,345');
    // A billing model the form does not offer (as a tampered request would
    // send): its message must be tied to the radio group.
    await page.locator('#bm-gemischt').evaluate((radio) => { radio.value = 'pauschal'; });
    await checkRefusedForm(page, await press(page, 'Vertrag speichern'), 'new contract, invalid');
    const group = page.locator('fieldset#f-billing_model');
    assert.equal(await group.getAttribute('aria-describedby'), 'f-billing_model-error');
    assert.equal((await page.locator('#f-billing_model-error').innerText()).trim(), 'Bitte ein Abrechnungsmodell wählen.');
  });
  it('/betrieb/vertraege/1', () => visit(page, '/betrieb/vertraege/1'));
  it('/betrieb/vertraege/1: edit with invalid values', async () => {
    await page.goto('/betrieb/vertraege/1');
    await page.getByLabel('Vertragsnummer').fill('');
    await page.getByLabel('Gültig bis (einschließlich)').fill('2025-01-01');
    await page.getByLabel('Arbeitsspeicher in GiB').fill('1');
    await checkRefusedForm(page, await press(page, 'Vertrag speichern'), 'contract edit, invalid');
  });
  it('404: /betrieb/vertraege/999999', () => visit(page, '/betrieb/vertraege/999999', 404));

  it('/betrieb/katalog', () => visit(page, '/betrieb/katalog'));
  it('/betrieb/katalog: new price version with field errors', async () => {
    await page.goto('/betrieb/katalog');
    await page.getByLabel('Gültig ab').fill('2020-01-01');
    await checkRefusedForm(page, await press(page, 'Preisversion anlegen'), 'new price with field errors');
  });
  it('/betrieb/katalog: new product with field errors', async () => {
    await page.goto('/betrieb/katalog');
    await checkRefusedForm(page, await press(page, 'Produkt anlegen'), 'new product with field errors');
  });
  it('/betrieb/katalog: size resources with field errors', async () => {
    await page.goto('/betrieb/katalog');
    const form = page.locator('form[action^="/betrieb/katalog/groessen/"]').first();
    await form.getByLabel('vCPU').fill('viele');
    await form.getByLabel('Pods').fill('-1');
    const res = await follow(page, () => form.getByRole('button').click());
    await checkRefusedForm(page, res, 'size resources with field errors');
  });
  it('/betrieb/katalog: a future price, then a refused edit of it', async () => {
    await page.goto('/betrieb/katalog');
    await page.getByLabel('Gültig ab').fill('2030-01-01');
    await page.getByLabel('Preis je Stunde in Euro').fill('0,5000');
    const ok = await press(page, 'Preisversion anlegen');
    assert.equal(ok.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/betrieb/katalog');
    const edit = page.locator('form[action^="/betrieb/katalog/preise/"]').first();
    assert.equal(await edit.count(), 1, 'the future price can be edited');
    await checkA11y(page, 'catalogue with a future price');
    await edit.getByLabel('Künftiger Preis je Stunde').fill('gratis');
    const res = await follow(page, () => edit.getByRole('button').click());
    await checkRefusedForm(page, res, 'refused edit of a future price');
  });
});
