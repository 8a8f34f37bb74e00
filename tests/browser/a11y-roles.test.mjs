// axe-core (WCAG 2.0/2.1 A + AA) for the other demo roles on the pages they
// reach, and for the main pages on a narrow (phone) viewport; the grouped
// main navigation at 320 and 1280 px, without JavaScript, by keyboard.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  checkA11y, keyFollow, login, tabTo, useKontor,
} from './portal.mjs';

const env = useKontor({ before, after });

const ROLES = ['entwickler', 'finanzen', 'verfahrensverantwortliche', 'systempfleger-nordkreis', 'finanzen-rz'];

for (const who of ROLES) {
  describe(`${who}`, () => {
    const session = env.session(who);
    // (/katalog without a booking form and the 403 page are the same for
    // every role; a11y-betreiber and a11y-systempfleger check them.)
    for (const path of ['/uebersicht', '/buchungen', 'first booking']) {
      it(path, async () => {
        const { page } = await session();
        let target = path;
        if (path === 'first booking') {
          await page.goto('/buchungen');
          const first = page.locator('tbody a[href^="/buchungen/"]').first();
          if ((await first.count()) === 0) return; // this role sees no bookings
          target = await first.getAttribute('href');
        }
        const res = await page.goto(target);
        assert.ok([200, 403, 404].includes(res.status()), `${target}: HTTP ${res.status()}`);
        await checkA11y(page, `${who} ${target} (HTTP ${res.status()})`);
      });
    }
  });
}

describe('narrow viewport (360 × 740)', () => {
  const session = env.session('systempfleger');
  for (const path of ['/uebersicht', '/katalog', '/buchungen', '/buchungen/1', '/buchungen/1/groesse']) {
    it(path, async () => {
      const { page } = await session();
      await page.setViewportSize({ width: 360, height: 740 });
      await page.goto(path);
      await checkA11y(page, `${path} at 360 px`);
    });
  }
});

describe('main navigation without JavaScript, by keyboard', () => {
  it('folds into "Menü" at 320 px and shows its groups at 1280 px', async () => {
    await env.ready();
    const context = await env.browser.newContext({
      baseURL: env.url, locale: 'de-DE', javaScriptEnabled: false, viewport: { width: 320, height: 740 },
    });
    try {
      const page = await context.newPage();
      await login(page, 'betreiber');
      const nav = page.getByRole('navigation', { name: 'Hauptnavigation' });
      const toggle = nav.locator('summary');
      const contracts = nav.locator('a[href="/betrieb/vertraege"]');
      assert.ok(await toggle.isVisible(), 'a "Menü" toggle at 320 px');
      assert.equal((await toggle.innerText()).trim(), 'Menü');
      assert.equal(await contracts.isVisible(), false, 'the closed menu hides its links');

      // Opened from the keyboard: skip link, then the toggle.
      await tabTo(page, (f) => f.tag === 'summary', 'the menu toggle', 3);
      await page.keyboard.press('Enter');
      assert.ok(await contracts.isVisible(), 'Enter opens the menu');
      assert.deepEqual(await nav.getByRole('list', { name: 'Betrieb' }).getByRole('link').allInnerTexts(),
        ['Kunden', 'Verträge', 'Katalogpflege', 'Bereitstellung', 'Zustellungen'],
        "the Betreiber's own links in their group");
      await tabTo(page, (f) => f.href === '/betrieb/vertraege', 'Verträge in the open menu', 15);
      await keyFollow(page);
      assert.equal(new URL(page.url()).pathname, '/betrieb/vertraege');
      assert.equal(await contracts.getAttribute('aria-current'), 'page');
      assert.equal(await contracts.isVisible(), false, 'the menu starts closed on the next page');

      // Wide: no toggle, every link shown and reached by Tab.
      await page.setViewportSize({ width: 1280, height: 800 });
      assert.equal(await toggle.isVisible(), false, 'no toggle at 1280 px');
      // 8 for everyone's work (with "Stufen") and 5 of the Betrieb group.
      assert.equal(await nav.getByRole('link').count(), 13);
      assert.equal(await nav.getByRole('link', { name: 'Stufen', exact: true }).count(), 1);
      for (const link of await nav.getByRole('link').all()) {
        assert.ok(await link.isVisible(), `${await link.innerText()} shown at 1280 px`);
      }
      await tabTo(page, (f) => f.href === '/betrieb/katalog', 'Katalogpflege at 1280 px', 15);
      await keyFollow(page);
      assert.equal(new URL(page.url()).pathname, '/betrieb/katalog');
    } finally {
      await context.close();
    }
  });
});
