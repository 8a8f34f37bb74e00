// The portal in English (a browser that prefers it): every main page of a
// Systempfleger:in and of the Betreiber, and the login page, pass axe and
// the layout checks at 320 px, 1280 px and 200 % text with the English
// words (often longer than the German ones in buttons, shorter in
// headings) and the language switch in the header; the screenshots go to
// the gallery under "<role>-en". The switch leads to German and back.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, follow, useKontor } from './portal.mjs';

const env = useKontor({ before, after });
const ENGLISH = { locale: 'en-GB' };

async function visit(page, path, role) {
  const res = await page.goto(path);
  assert.equal(res.status(), 200, `${path}: HTTP status`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', `${path}: <html lang>`);
  await checkA11y(page, `${path} (English)`, { role });
}

describe('English pages', () => {
  it('the login page, not logged in, and the switch to German and back', async () => {
    const { page } = await env.open(null, ENGLISH);
    await visit(page, '/anmelden', 'anonym-en');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Log in');
    await follow(page, () => page.getByRole('link', { name: 'Deutsch' }).click());
    assert.equal(new URL(page.url()).pathname, '/anmelden');
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Anmelden');
    await follow(page, () => page.getByRole('link', { name: 'English' }).click());
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
  });

  it('a Systempfleger:in\'s pages', async () => {
    const { page } = await env.open('systempfleger', ENGLISH);
    for (const path of [
      '/uebersicht', '/katalog', '/buchungen', '/buchungen/1', '/buchungen/1/groesse',
      '/umgebungen', '/stufen', '/verfahren/1/stufen', '/freigaben', '/abrechnung',
      '/api-tokens', '/glossar',
    ]) {
      await visit(page, path, 'systempfleger-en');
    }
  });

  it('the Betreiber\'s pages', async () => {
    const { page } = await env.open('betreiber', ENGLISH);
    for (const path of [
      '/uebersicht', '/betrieb/kunden', '/betrieb/vertraege', '/betrieb/katalog',
      '/betrieb/bereitstellung', '/betrieb/benachrichtigungen', '/revision',
    ]) {
      await visit(page, path, 'betreiber-en');
    }
  });
});
