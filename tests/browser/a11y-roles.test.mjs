// axe-core (WCAG 2.0/2.1 A + AA) for the other demo roles on the pages they
// reach, and for the main pages on a narrow (phone) viewport.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, useKontor } from './portal.mjs';

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
