// Kontingent requests and lowered ceilings, keyboard only, with axe and
// reflow at 320 px on every state: the refused booking with its link, the
// pre-filled request form (and its refusal without a justification), the
// Freigaben page for the requester and for the Betreiber (with a decision
// refused below what is booked), and the contract form asking to confirm a
// ceiling below what is booked; after the approval the booking that was
// refused goes through. checkA11y also runs the layout checks of layout.mjs
// (no sideways scrolling, no overlapping or clipped text) and writes each
// state's screenshots to the gallery (not committed) for a person to look at.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, fillBooking, focused, keyFollow, press, tabTo, useKontor } from './portal.mjs';

const WIDTHS = [
  { label: 'default viewport', width: null },
  { label: 'narrow viewport (320 × 740)', width: 320 },
];

/** axe and the layout checks (see layout.mjs), with the viewport in the label. */
function check(page, name, width) {
  return checkA11y(page, `${name}${width ? ` at ${width} px` : ''}`);
}

for (const { label, width } of WIDTHS) {
  describe(label, () => {
    // A portal of its own per width: the request and the decision change it.
    const env = useKontor({ before, after });
    const open = async (who) => {
      const s = await env.open(who);
      if (width) await s.page.setViewportSize({ width, height: 740 });
      return s;
    };

    it('from a refused booking to the request, with the keyboard', async () => {
      const { page } = await open('systempfleger');
      await page.goto('/katalog');
      await fillBooking(page, {
        application: 'Kfz-Zulassung', stage: 'Abnahme', product: 'Container-Namespace', size: 'XL',
      });
      const refused = await press(page, 'Weiter zur Bestätigung');
      assert.equal(refused.status(), 422);
      assert.match(await page.getByRole('alert').first().innerText(), /Das Kontingent reicht nicht/);
      await check(page, 'refused booking', width);

      await page.locator('#buchen').focus();
      const link = await tabTo(page, (f) => f.href?.includes('/kontingent-antrag'), 'the request link', 20);
      assert.equal(link.text, 'Kontingent-Erhöhung beantragen');
      assert.notEqual(link.outline, 'none', 'the focused link shows a focus outline');
      await keyFollow(page);
      assert.equal(await page.locator('h1').innerText(), 'Kontingent-Erhöhung beantragen');
      const vcpu = await page.locator('#f-vcpu').inputValue();
      assert.ok(Number(vcpu) > 32, `the form is pre-filled with more than the 32 vCPU now (${vcpu})`);
      await check(page, 'request form', width);

      // Without a justification: the message beside the field.
      await page.locator('#f-reason').focus();
      const submit = await tabTo(page, (f) => f.tag === 'button', 'the submit button', 3);
      assert.equal(submit.text, 'Antrag stellen');
      const missing = await keyFollow(page);
      assert.equal(missing.status(), 422);
      assert.match(await page.locator('#f-reason-error').innerText(), /Bitte den Antrag begründen/);
      await check(page, 'request form without justification', width);

      await page.locator('#f-reason').focus();
      await page.keyboard.type('Abnahmetest mit Lastspitzen im Januar');
      await tabTo(page, (f) => f.tag === 'button', 'the submit button', 3);
      const asked = await keyFollow(page);
      assert.equal(asked.status(), 200);
      assert.equal(new URL(page.url()).pathname, '/freigaben');
      assert.match(await page.getByRole('status').first().innerText(), /Kontingent-Antrag ist gestellt/);
      assert.match(await page.locator('#kontingent-heading + article').innerText(), /vCPU 32 →/);
      await check(page, 'Freigaben of the requester', width);
    });

    it('the Betreiber decides on the Freigaben page', async () => {
      const { page } = await open('betreiber');
      await page.goto('/freigaben');
      const card = page.locator('article[id^="kontingent-antrag-"]').first();
      assert.match(await card.innerText(), /Abnahmetest mit Lastspitzen/);
      await check(page, 'Freigaben of the Betreiber', width);

      // Below what is booked: refused, the reason on the card.
      await card.getByLabel('vCPU', { exact: true }).fill('4');
      await card.getByRole('button', { name: /^Genehmigen: Vertrag/ }).focus();
      const refused = await keyFollow(page);
      assert.equal(refused.status(), 422);
      const again = page.locator('article[id^="kontingent-antrag-"]').first();
      assert.match(await again.getByRole('alert').innerText(), /unter dem, was schon gebucht ist/);
      await check(page, 'Freigaben with a refused approval', width);

      await again.getByRole('button', { name: /^Genehmigen: Vertrag/ }).focus();
      const approved = await keyFollow(page);
      assert.equal(approved.status(), 200);
      assert.match(await page.getByRole('status').first().innerText(), /Kontingent-Antrag ist genehmigt/);
      assert.match(await page.locator('main').innerText(), /Zuletzt entschieden/);
      await check(page, 'Freigaben after the approval', width);
    });

    it('after the approval the booking that was refused fits', async () => {
      const { page } = await open('systempfleger');
      await page.goto('/katalog');
      await fillBooking(page, {
        application: 'Kfz-Zulassung', stage: 'Abnahme', product: 'Container-Namespace', size: 'XL',
      });
      await page.getByRole('button', { name: 'Weiter zur Bestätigung', exact: true }).focus();
      const confirm = await keyFollow(page);
      assert.equal(confirm.status(), 200);
      assert.equal(await page.locator('h1').innerText(), 'Buchung bestätigen');
      await page.getByRole('button', { name: 'Verbindlich buchen', exact: true }).focus();
      const booked = await keyFollow(page);
      assert.equal(booked.status(), 200);
      assert.match(new URL(page.url()).pathname, /^\/buchungen\/\d+$/);
      assert.equal(new URL(page.url()).searchParams.get('gebucht'), '1');
      await check(page, 'booking after the approval', width);
    });

    it('the contract form asks before a ceiling goes below what is booked', async () => {
      const { page } = await open('betreiber');
      await page.goto('/betrieb/vertraege/1');
      const hint = (await page.locator('#f-max_vcpu-hint').innerText()).match(/gebucht sind (\d+) vCPU/);
      assert.ok(hint && Number(hint[1]) > 10, `what is booked beside the ceiling: ${hint}`);
      const booked = hint[1];
      await check(page, 'contract form with use', width);
      await page.locator('#f-max_vcpu').fill('10');
      const asked = await press(page, 'Vertrag speichern');
      assert.equal(asked.status(), 409);
      const warning = page.locator('#below-use');
      assert.match(await warning.innerText(), new RegExp(`vCPU: neu 10 vCPU, gebucht ${booked} vCPU`));
      assert.match(await warning.innerText(), /keine neuen Buchungen/);
      await check(page, 'contract form asking to confirm', width);

      await page.locator('#f-confirm_below_use').focus();
      await page.keyboard.press('Space');
      assert.equal((await focused(page)).checked, true);
      await page.getByRole('button', { name: 'Vertrag speichern' }).focus();
      const saved = await keyFollow(page);
      assert.equal(saved.status(), 200);
      assert.equal(new URL(page.url()).pathname, '/betrieb/vertraege');
    });
  });
}
