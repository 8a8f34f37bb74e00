// The Revision (/revision) for the Betreiber and for a customer's
// Systempfleger:in, at 1280 px and at 320 px: axe-core (WCAG 2.0/2.1 A + AA)
// on the page, filtered, and one page older; the document never wider than
// the viewport; the filter form, its buttons and the export links reached by
// keyboard in reading order, and a filter applied by keyboard alone.
// checkA11y also runs the layout checks of layout.mjs and writes each
// state's screenshots to the gallery (not committed).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  api, checkA11y, createToken, focused, follow, keyFollow, press, tabTo, useKontor,
} from './portal.mjs';

const env = useKontor({ before, after });

const WIDTHS = [1280, 320];

// More booking entries of Musterhausen than one page holds (50), so that
// both people can page older within a filter.
const RESIZES = 56;

let ready;
const prepare = () => (ready ??= (async () => {
  const token = await createToken(env, 'systempfleger');
  const list = await api(env, token, 'GET', '/bookings');
  assert.equal(list.status, 200, JSON.stringify(list.body));
  const booking = list.body.items.find((b) => b.state === 'aktiv' && b.size !== 'S');
  assert.ok(booking, 'an active booking of Musterhausen larger than S');
  // Back and forth between its size and S: every step fits the Kontingent.
  for (let i = 0; i < RESIZES; i += 1) {
    const size = i % 2 === 0 ? 'S' : booking.size;
    const res = await api(env, token, 'POST', `/bookings/${booking.id}/resize`, { size });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
})());

/** The entries shown (their numbers), newest first. */
function entryIds(page) {
  return page.locator('tbody tr[id^="eintrag-"]').evaluateAll(
    (rows) => rows.map((r) => Number(r.id.replace('eintrag-', ''))),
  );
}

const PEOPLE = [
  { who: 'betreiber', label: 'Betreiber', customer: true },
  { who: 'systempfleger', label: 'Systempfleger:in', customer: false },
];

for (const { who, label, customer } of PEOPLE) {
  for (const width of WIDTHS) {
    describe(`${label} at ${width} px`, () => {
      const open = async () => {
        await prepare();
        const s = await env.open(who);
        await s.page.setViewportSize({ width, height: 800 });
        return s;
      };

      it('/revision, filtered by object type, one page older', async () => {
        const { page } = await open();
        const res = await page.goto('/revision');
        assert.equal(res.status(), 200);
        assert.equal(await page.locator('h1').innerText(), 'Revision');
        assert.equal(await page.locator('#chain-heading').count(), customer ? 1 : 0,
          'the hash chain is shown to the Betreiber only');
        await checkA11y(page, `/revision (${label}, ${width} px)`);

        // A filter: Musterhausen's bookings (the Betreiber chooses the customer).
        if (customer) {
          const musterhausen = page.locator('#f-kunde option', { hasText: 'Stadt Musterhausen' });
          await page.locator('#f-kunde').selectOption(await musterhausen.getAttribute('value'));
        }
        await page.locator('#f-objektart').selectOption('booking');
        const filtered = await press(page, 'Filtern');
        assert.equal(filtered.status(), 200);
        const url = new URL(page.url());
        assert.equal(url.searchParams.get('objektart'), 'booking');
        const first = await entryIds(page);
        assert.equal(first.length, 50, 'a full page of 50 entries');
        // Each entry shows (in its column, or under it on narrow screens)
        // one link to its booking.
        const objects = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('a')]
          .filter((a) => a.getClientRects().length > 0).map((a) => a.textContent.trim())));
        assert.ok(objects.every((o) => o.length === 1 && /^Buchung \d+$/.test(o[0])),
          `one link to a booking per entry: ${JSON.stringify(objects.slice(0, 5))}`);
        await checkA11y(page, `/revision filtered (${label}, ${width} px)`);

        // One page older: the filter stays, no entry twice, links back.
        const older = await follow(page, () => page.getByRole('link', { name: 'Ältere Einträge' }).click());
        assert.equal(older.status(), 200);
        const olderUrl = new URL(page.url());
        assert.equal(olderUrl.searchParams.get('objektart'), 'booking', 'paging keeps the filter');
        assert.ok(olderUrl.searchParams.get('vor'), 'the older page starts before an entry');
        const second = await entryIds(page);
        assert.ok(second.length > 0, 'older entries');
        assert.ok(Math.max(...second) < Math.min(...first), 'older entries only, none twice');
        assert.equal(await page.getByRole('link', { name: 'Neueste Einträge' }).count(), 1);
        assert.equal(await page.getByRole('link', { name: 'Neuere Einträge' }).count(), 1);
        await checkA11y(page, `/revision older (${label}, ${width} px)`);
      });

      it('the filter form and the exports by keyboard alone', async () => {
        const { page } = await open();
        await page.goto('/revision');
        // The skip link first, then into the content.
        await page.keyboard.press('Tab');
        assert.equal((await focused(page)).text, 'Zum Inhalt springen');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.activeElement?.id === 'inhalt');

        // Every field of the filter, in reading order, with a visible focus.
        const fields = ['f-von', 'f-bis', ...(customer ? ['f-kunde'] : []),
          'f-objektart', 'f-objekt', 'f-aktion', 'f-person', 'f-suche'];
        for (const id of fields) {
          const f = await tabTo(page, (x) => x.id === id, `the filter field #${id}`, customer ? 12 : 4);
          assert.notEqual(f.outline, 'none', `#${id} shows its focus`);
          assert.ok(await page.locator(`#${id}`).evaluate((el) => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth;
          }), `#${id} lies within the viewport`);
        }
        let f = await tabTo(page, (x) => x.tag === 'button', 'the Filtern button', 1);
        assert.equal(f.text, 'Filtern');
        assert.notEqual(f.outline, 'none');
        f = await tabTo(page, (x) => x.tag === 'a', 'Filter zurücksetzen', 1);
        assert.equal(f.text, 'Filter zurücksetzen');
        for (const name of ['CSV für Tabellenkalkulation (Semikolon)', 'CSV nach RFC 4180 (Komma)',
          'JSON Lines (ein Eintrag je Zeile)']) {
          f = await tabTo(page, (x) => x.tag === 'a', name, 1);
          assert.equal(f.text, name);
          assert.notEqual(f.outline, 'none', `${name} shows its focus`);
          const download = await page.request.get(f.href);
          assert.equal(download.status(), 200, `${name}: ${f.href}`);
        }

        // A filter typed and sent by keyboard: the person's entries only.
        await page.locator('#f-person').focus();
        await page.keyboard.type('Pfleger');
        await tabTo(page, (x) => x.tag === 'button' && x.text === 'Filtern', 'the Filtern button', 2);
        const res = await keyFollow(page);
        assert.equal(res.status(), 200);
        assert.equal(new URL(page.url()).searchParams.get('person'), 'Pfleger');
        const sentences = await page.locator('tbody tr td:nth-child(2) > p:first-child').allInnerTexts();
        assert.ok(sentences.length > 0 && sentences.every((s) => s.startsWith('Sabine Pfleger ')),
          `only Sabine Pfleger's entries: ${sentences.slice(0, 3)}`);
        await checkA11y(page, `/revision filtered by keyboard (${label}, ${width} px)`);
      });

      if (customer) {
        it('"Kette jetzt prüfen" and its answer', async () => {
          const { page } = await open();
          await page.goto('/revision');
          const res = await press(page, 'Kette jetzt prüfen');
          assert.equal(res.status(), 200);
          assert.match(await page.getByRole('status').innerText(), /unversehrt/);
          assert.match(await page.locator('#chain-verification').innerText(), /unversehrt/);
          await checkA11y(page, `/revision verified (${label}, ${width} px)`);
        });
      }
    });
  }
}
