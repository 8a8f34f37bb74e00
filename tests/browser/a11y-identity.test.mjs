// axe-core (WCAG 2.0/2.1 A + AA) on the pages of the OpenID login and the
// API-token page, at the default width and on a narrow (phone) viewport:
// the login page with a provider configured (and with the demo login beside
// it), the login page with an error, "Kein Zugang", and the API-token page
// empty, with validation errors, with a new token's secret, and with a
// revoked token in the list.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, follow, press } from './portal.mjs';
import { oidcLogin, useOidcKontor, useProvider } from './oidc.mjs';

const provider = useProvider({ before, after });
const env = useOidcKontor({ before, after, provider });
const demoEnv = useOidcKontor({ before, after, provider, demoLogin: true });

const WIDTHS = [
  { label: 'default viewport', width: null },
  { label: 'narrow viewport (360 × 740)', width: 360 },
];

for (const { label, width } of WIDTHS) {
  describe(label, () => {
    const suffix = width ? ` at ${width} px` : '';
    const open = async (which = env) => {
      const s = await which.open(null);
      if (width) await s.page.setViewportSize({ width, height: 740 });
      return s;
    };

    it('/anmelden with the provider configured', async () => {
      const { page } = await open();
      const res = await page.goto('/anmelden');
      assert.equal(res.status(), 200);
      assert.equal(await page.getByRole('link', { name: 'Beim Anmeldedienst anmelden' }).count(), 1);
      await checkA11y(page, `/anmelden (provider)${suffix}`);
    });

    it('/anmelden with the demo login beside the provider (banner)', async () => {
      const { page } = await open(demoEnv);
      await page.goto('/anmelden');
      assert.match(await page.locator('header .kern-alert--warning').innerText(), /Identitätsanbieter/);
      assert.ok(await page.locator('button[data-login]').count() > 0);
      await checkA11y(page, `/anmelden (provider + demo)${suffix}`);
    });

    it('the login page with an error (callback without a pending login → 400)', async () => {
      const { page } = await open();
      const res = await page.goto('/anmelden/rueckkehr?state=x&code=y');
      assert.equal(res.status(), 400);
      assert.match(await page.getByRole('alert').innerText(), /Anmeldung nicht möglich/);
      await checkA11y(page, `/anmelden/rueckkehr error${suffix}`);
    });

    it('"Kein Zugang zu Kontor" (403)', async () => {
      const { page } = await open();
      const res = await oidcLogin(page, 'niemand');
      assert.equal(res.status(), 403);
      assert.equal(await page.locator('h1').innerText(), 'Kein Zugang zu Kontor');
      await checkA11y(page, `Kein Zugang${suffix}`);
    });

    describe('API-Tokens', () => {
      const username = `a11y-${width ?? 'default'}`;
      let session;
      const user = async () => {
        if (!session) {
          await provider.addUser({ username, name: 'Alma Barrierefrei', groups: ['nordkreis/entwickler'] });
          session = await env.openAs(username);
          if (width) await session.page.setViewportSize({ width, height: 740 });
        }
        return session;
      };

      it('empty', async () => {
        const { page } = await user();
        await page.goto('/api-tokens');
        assert.match(await page.locator('main').innerText(), /Sie haben noch kein Token/);
        await checkA11y(page, `/api-tokens empty${suffix}`);
      });

      it('with validation errors (422)', async () => {
        const { page } = await user();
        await page.goto('/api-tokens');
        await page.getByLabel('Name', { exact: true }).fill('');
        await page.getByLabel('Gültig bis einschließlich').fill('2000-01-01');
        const res = await press(page, 'Token erstellen');
        assert.equal(res.status(), 422);
        assert.equal(await page.locator('#f-name-error').count(), 1);
        assert.equal(await page.locator('#f-expires_on-error').count(), 1);
        await checkA11y(page, `/api-tokens errors${suffix}`);
      });

      it('with a just-created token (secret shown)', async () => {
        const { page } = await user();
        await page.goto('/api-tokens');
        await page.getByLabel('Name', { exact: true }).fill('Barrierefreiheit');
        const res = await press(page, 'Token erstellen');
        assert.equal(res.status(), 201);
        assert.ok(await page.getByLabel('Ihr neues Token').inputValue());
        await checkA11y(page, `/api-tokens created${suffix}`);
      });

      it('with a revoked token in the list', async () => {
        const { page } = await user();
        await page.goto('/api-tokens');
        await follow(page, () => page.getByRole('button', { name: 'Widerrufen (Barrierefreiheit)' }).click());
        const row = page.locator('table tbody tr', { hasText: 'Barrierefreiheit' });
        assert.match(await row.innerText(), /widerrufen/);
        await checkA11y(page, `/api-tokens revoked${suffix}`);
      });
    });
  });
}
