// axe-core (WCAG 2.0/2.1 A + AA) on the Umgebungen pages in every state:
// the list for each role, the detail with and without "Umgebung auflösen"
// and after dissolving, the confirmation, the 409 refusal, 403 and 404;
// /betrieb/bereitstellung and its 403; the booking detail with its
// Bereitstellung row; the list and the confirmation at 360 px.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkA11y, described, follow, press, until, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

/** Opens `path`, checks the HTTP status, runs axe. */
async function visit(page, path, status = 200) {
  const res = await page.goto(path);
  assert.equal(res.status(), status, `${path}: HTTP status`);
  await checkA11y(page, `${path} (HTTP ${status})`);
}

/** The environment id of a namespace, from /umgebungen. */
async function envId(page, namespace) {
  await page.goto('/umgebungen');
  const href = await page.locator('tbody th a', { has: page.locator('code', { hasText: new RegExp(`^${namespace}$`) }) })
    .getAttribute('href');
  return Number(href.split('/').pop());
}

/** At 360 px the page reflows: nothing but the scrollable tables is wider than the viewport. */
async function assertReflows(page, label) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${label}: the page scrolls sideways by ${overflow} px at 360 px`);
}

const OCCUPIED = 'musterhausen-buergerservice-vorpruefung'; // one demo booking
const EMPTY = 'musterhausen-kfz-zulassung-abnahme'; // never booked
const LONE = 'musterhausen-kfz-zulassung-vorpruefung'; // exactly one demo booking
const FOREIGN = 'nordkreis-sozialhilfe-vorpruefung';

describe('Systempfleger:in', () => {
  const systempfleger = env.session('systempfleger');
  let page;
  const ids = {};
  beforeEach(async () => {
    ({ page } = await systempfleger());
  });

  it('/umgebungen', async () => {
    await visit(page, '/umgebungen');
    for (const ns of [OCCUPIED, EMPTY, LONE]) ids[ns] = await envId(page, ns);
    assert.match(await page.locator('main').innerText(), /nicht eingerichtet/);
  });

  it('/umgebungen/{id} with bookings (no "Umgebung auflösen")', async () => {
    await visit(page, `/umgebungen/${ids[OCCUPIED]}`);
    assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 0);
    assert.equal(await page.locator('#bereitstellung').count(), 1);
  });

  it('/umgebungen/{id} of a stage never booked', async () => {
    await visit(page, `/umgebungen/${ids[EMPTY]}`);
    assert.equal(await described(page, 'Zustand').innerText(), 'nicht eingerichtet');
  });

  it('409: /umgebungen/{id}/aufloesen while a booking is open', async () => {
    await visit(page, `/umgebungen/${ids[OCCUPIED]}/aufloesen`, 409);
    assert.match(await page.locator('main').innerText(), /bitte erst alle Buchungen kündigen/);
  });

  it('409: /umgebungen/{id}/aufloesen of a stage never booked', async () => {
    await visit(page, `/umgebungen/${ids[EMPTY]}/aufloesen`, 409);
    assert.match(await page.locator('main').innerText(), /es gibt nichts aufzulösen/);
  });

  it('/buchungen/{id} with the Bereitstellung row', async () => {
    // The demo data is provisioned right after the start; wait for it.
    const row = () => page.locator('#bereitstellung').innerText().then((t) => t.replace(/\s+/g, ' ').trim());
    await until(async () => {
      await page.goto('/buchungen/1');
      return (await row()) === `bereit in ${OCCUPIED}`;
    }, '/buchungen/1: Bereitstellung "bereit"');
    await visit(page, '/buchungen/1');
  });

  it('/umgebungen/{id} with "Umgebung auflösen" (all its bookings cancelled)', async () => {
    await page.goto(`/umgebungen/${ids[LONE]}`);
    await follow(page, () => described(page, 'Aktive Buchungen').getByRole('link').click());
    await follow(page, () => page.locator('tbody a[href^="/buchungen/"]').click());
    await follow(page, () => page.getByRole('link', { name: 'Kündigen' }).click());
    await press(page, 'Verbindlich kündigen');
    // The booking detail right after the cancel (provisioning may still run).
    await checkA11y(page, 'booking detail after cancel, with the Bereitstellung row');
    await visit(page, `/umgebungen/${ids[LONE]}`);
    assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 1);
  });

  it('/umgebungen/{id}/aufloesen: the confirmation', async () => {
    await visit(page, `/umgebungen/${ids[LONE]}/aufloesen`);
    assert.equal(await page.locator('h1').innerText(), 'Umgebung auflösen');
    assert.equal(await page.locator('main tbody tr').count(), 8);
  });

  it('/umgebungen/{id}/aufloesen at 360 px', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await visit(page, `/umgebungen/${ids[LONE]}/aufloesen`);
      await assertReflows(page, 'the dissolve confirmation');
    } finally {
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  });

  it('/umgebungen at 360 px', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await visit(page, '/umgebungen');
      await assertReflows(page, '/umgebungen');
    } finally {
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  });

  it('/umgebungen/{id}?aufgeloest=1: the success notice', async () => {
    await page.goto(`/umgebungen/${ids[LONE]}/aufloesen`);
    await press(page, `Umgebung ${LONE} verbindlich auflösen`);
    assert.match(page.url(), /\?aufgeloest=1$/);
    assert.match(await page.getByRole('status').innerText(), /Die Umgebung wird aufgelöst/);
    await checkA11y(page, 'environment detail after dissolving');
  });

  it('/umgebungen/{id} and /umgebungen with a dissolved environment', async () => {
    await until(async () => {
      await page.goto(`/umgebungen/${ids[LONE]}`);
      return (await page.locator('#bereitstellung .kern-badge').innerText()).trim() === 'bereit';
    }, 'dissolved environment reconciled');
    assert.equal(await described(page, 'Zustand').innerText(), 'aufgelöst');
    await checkA11y(page, 'dissolved environment');
    await visit(page, '/umgebungen');
    assert.match(await page.locator('main').innerText(), /aufgelöst/);
  });

  it('404: another customer\'s environment', async () => {
    const betreiber = await env.open('betreiber');
    const foreign = await envId(betreiber.page, FOREIGN);
    await betreiber.close();
    await visit(page, `/umgebungen/${foreign}`, 404);
    await visit(page, `/umgebungen/${foreign}/aufloesen`, 404);
  });

  it('404: /umgebungen/999999', () => visit(page, '/umgebungen/999999', 404));
  it('403: /betrieb/bereitstellung', () => visit(page, '/betrieb/bereitstellung', 403));
});

describe('Betreiber', () => {
  const betreiber = env.session('betreiber');
  let page;
  beforeEach(async () => {
    ({ page } = await betreiber());
  });

  it('/umgebungen (all customers)', async () => {
    await visit(page, '/umgebungen');
    assert.equal(await page.locator('thead th', { hasText: /^Kunde$/ }).count(), 1);
  });
  it('/umgebungen/{id}', async () => visit(page, `/umgebungen/${await envId(page, FOREIGN)}`));
  it('403: /umgebungen/{id}/aufloesen', async () => visit(page, `/umgebungen/${await envId(page, OCCUPIED)}/aufloesen`, 403));
  it('/betrieb/bereitstellung', async () => {
    await visit(page, '/betrieb/bereitstellung');
    assert.equal(await page.locator('h1').innerText(), 'Bereitstellung');
  });
  it('/betrieb/bereitstellung at 360 px', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await visit(page, '/betrieb/bereitstellung');
    } finally {
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  });
});

for (const who of ['finanzen', 'finanzen-rz', 'entwickler', 'verfahrensverantwortliche']) {
  describe(who, () => {
    const session = env.session(who);
    let page;
    beforeEach(async () => {
      ({ page } = await session());
    });
    it('/umgebungen', () => visit(page, '/umgebungen'));
    it('/umgebungen/{id} (no "Umgebung auflösen")', async () => {
      await visit(page, `/umgebungen/${await envId(page, OCCUPIED)}`);
      assert.equal(await page.getByRole('link', { name: 'Umgebung auflösen' }).count(), 0);
    });
    it('403: /umgebungen/{id}/aufloesen', async () => visit(page, `/umgebungen/${await envId(page, OCCUPIED)}/aufloesen`, 403));
    it('403: /betrieb/bereitstellung', () => visit(page, '/betrieb/bereitstellung', 403));
  });
}
