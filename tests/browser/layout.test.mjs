// The layout checks of layout.mjs find what they are meant to find, on small
// hand-made pages (no portal): sideways scrolling, text over text, text cut
// off or spilling out of its button, text drawn too small; and they accept
// what is allowed (a wide table scrolling in its own box, screen-reader-only
// text, lines of one paragraph touching).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkLayout } from './layout.mjs';
import { launchBrowser } from './portal.mjs';

let browser;
let page;
before(async () => {
  browser = await launchBrowser();
  page = await browser.newPage();
});
after(() => browser?.close());

const PAGE = (body) => `<!doctype html><html lang="de"><head><style>
  body { margin: 0; font: 16px/1.5 sans-serif; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style></head><body>${body}</body></html>`;

/** Runs checkLayout on `body` and resolves to its complaint ('' when none). */
async function complaint(body) {
  await page.setContent(PAGE(body));
  try {
    await checkLayout(page, 'selbsttest', 'selbsttest', { screenshots: false });
    return '';
  } catch (e) {
    return e.message;
  }
}

describe('layout checks', () => {
  it('accept a page that holds up, with a wide table in its own scroll box', async () => {
    assert.equal(await complaint(`
      <p>Ein Absatz mit genug Text, damit er auf einem Telefon über mehrere Zeilen umbricht und sich
      die Zeilen berühren, ohne dass das als Überlappung zählt.</p>
      <div style="overflow-x: auto; position: relative"><table><tr>
        <td style="min-width: 900px">Breite Tabelle</td><td>rechts, erst nach dem Scrollen sichtbar</td>
      </tr></table><span class="sr-only" style="left: 1200px">nur für Screenreader</span></div>
      <button style="padding: 0 1rem">Speichern</button>`), '');
  });

  it('find a page wider than the screen, and what sticks out', async () => {
    const message = await complaint('<div id="breit" style="width: 500px">zu breit</div>');
    assert.match(message, /\[selbsttest, 320\]: the page scrolls sideways: 500 px wide in a 320 px viewport/);
    assert.match(message, /sticks out: div#breit "zu breit"/);
  });

  it('find text over text, naming both', async () => {
    const message = await complaint(`<div style="display: grid; grid-template-columns: minmax(0, 1fr) auto; width: 150px">
      <span class="label">Arbeitsspeicher</span><span class="value">24 von 64 GiB</span></div>`);
    assert.match(message, /\[selbsttest, 320\]: text overlaps text .*"Arbeitsspeicher" \(span\.label\) and "24 von 64 GiB" \(span\.value\)/);
  });

  it('find text cut off by its box, spilling out of its button, and drawn too small', async () => {
    const message = await complaint(`
      <button style="width: 32px; overflow: hidden; white-space: nowrap">Widerrufen</button>
      <button style="width: 48px; white-space: nowrap">Ressourcen speichern</button>
      <svg viewBox="0 0 2000 100" style="width: 100%"><text x="10" y="50" font-size="12">5 €</text></svg>`);
    assert.match(message, /text "Widerrufen" in button cut off by a \d+ px wide box/);
    assert.match(message, /text "Ressourcen speichern" in button sticks out of its 48 px wide control/);
    assert.match(message, /text "5 €" \(text\) shown at [\d.]+ px, under 10 px/);
  });

  it('find text that overlaps only with the text at 200 %', async () => {
    const message = await complaint(`<div style="position: relative; height: 3em">
      <span style="position: absolute; left: 0; top: 0; font-size: 1rem">Monatsbudget</span>
      <span style="position: absolute; left: 160px; top: 0; font-size: 1rem">1.200,00 €</span></div>`);
    assert.doesNotMatch(message, /\[selbsttest, 1280\]/);
    assert.match(message, /\[selbsttest, 1280-text200\]: text overlaps text .*"Monatsbudget"/);
  });
});
