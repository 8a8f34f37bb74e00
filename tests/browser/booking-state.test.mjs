// "Bereitstellung läuft" updates itself (issue 16): a booking's state on
// its page, in the booking list and on the overview turns from
// "beantragt" to "aktiv" without a reload, through htmx polling the state
// fragment, under the CSP (no inline script or style, no eval). The
// portal under test has no reconciler (KONTOR_RECONCILE_WORKERS=0), so the
// fresh booking stays "beantragt" for as long as the test looks; then a
// second portal on the same data (a replica, as in production) provisions
// it into the manifest directory.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, checkA11y, createToken, described, startPortal, until, useKontor } from './portal.mjs';

const env = useKontor({ before, after, portalEnv: { KONTOR_RECONCILE_WORKERS: '0' } });

/** Books a size no demo booking holds yet; resolves to the booking. */
async function freshBooking(token) {
  const apps = await api(env, token, 'GET', '/applications');
  assert.equal(apps.status, 200, JSON.stringify(apps.body));
  for (const app of apps.body.items) {
    for (const stage of ['schulung', 'abnahme', 'produktion', 'vorpruefung']) {
      for (const product of ['container-namespace', 'persistent-storage']) {
        const res = await api(env, token, 'POST', '/bookings',
          { application_id: app.id, stage, product, size: 'S' });
        if (res.status === 201) return res.body;
      }
    }
  }
  assert.fail('no free stage and product for a fresh booking');
}

describe('Bereitstellung läuft', () => {
  let replica;
  after(async () => {
    if (replica) await replica.stop();
  });

  it('a fresh booking turns aktiv on its page, in the list and on the overview without a reload', async () => {
    const { page } = await env.open('systempfleger');
    const token = await createToken(env, 'systempfleger');
    const booking = await freshBooking(token);
    assert.equal(booking.state, 'beantragt');

    // Three pages watching the same booking, each marked so a reload shows.
    const pages = { detail: page };
    pages.list = await page.context().newPage();
    pages.overview = await page.context().newPage();
    await pages.detail.goto(`/buchungen/${booking.id}`);
    await pages.list.goto('/buchungen?sortierung=-id');
    await pages.overview.goto('/uebersicht');
    assert.equal((await described(pages.detail, 'Status').innerText()).trim(), 'beantragt');
    assert.match(await pages.detail.locator('#bereitstellung .kern-badge').innerText(), /Bereitstellung läuft/);
    const listState = pages.list.locator(`#zustand-${booking.id}`);
    assert.match(await listState.innerText(), /beantragt/);
    assert.match(await pages.overview.locator(`#zustand-${booking.id}`).innerText(), /beantragt/);
    // Announced politely; a link for a browser without JavaScript.
    assert.equal(await pages.detail.locator(`[aria-live="polite"] #zustand-${booking.id}`).count(), 1);
    assert.equal(await pages.list.locator(`[aria-live="polite"] #zustand-${booking.id}`).count(), 1);
    assert.equal(await pages.detail.getByRole('link', { name: 'Aktualisieren' }).count(), 1);
    // The pending state is what axe and the layout checks see, too.
    await checkA11y(pages.detail, `/buchungen/${booking.id} (Bereitstellung läuft)`);
    for (const p of Object.values(pages)) await p.evaluate(() => { window.kontorNotReloaded = true; });
    // Still pending a few polls later: nothing provisions it yet.
    await pages.detail.waitForTimeout(2500);
    assert.equal((await described(pages.detail, 'Status').innerText()).trim(), 'beantragt');

    // A replica with a reconciler provisions it.
    replica = await startPortal({ env: { KONTOR_DATA_DIR: env.portal.dataDir } });

    await until(async () => (await described(pages.detail, 'Status').innerText()).trim() === 'aktiv',
      'the Status on the booking page turns aktiv', { timeoutMs: 30_000 });
    await until(async () => /bereit/.test(await pages.detail.locator('#bereitstellung .kern-badge').innerText()),
      'the Bereitstellung badge turns bereit', { timeoutMs: 10_000 });
    await until(async () => /aktiv/.test(await listState.innerText()),
      'the list row turns aktiv', { timeoutMs: 10_000 });
    await until(async () => /aktiv/.test(await pages.overview.locator(`#zustand-${booking.id}`).innerText()),
      'the overview badge turns aktiv', { timeoutMs: 10_000 });
    for (const [name, p] of Object.entries(pages)) {
      assert.equal(await p.evaluate(() => window.kontorNotReloaded), true, `${name}: not reloaded`);
    }
    // Final: the elements no longer ask for themselves.
    assert.equal(await pages.detail.locator(`#zustand-${booking.id}[hx-get]`).count(), 0);
    assert.equal(await listState.getAttribute('hx-get'), null);
    await checkA11y(pages.detail, `/buchungen/${booking.id} (bereitgestellt)`);
  });
});
