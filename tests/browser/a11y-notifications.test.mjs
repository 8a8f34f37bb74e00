// axe-core (WCAG 2.0/2.1 A + AA) and reflow at 320 px on the notification
// pages in every state: Benachrichtigungen with e-mail off (no mail server)
// and on, after saving; Webhooks empty, with a refused URL (422), with the
// new secret shown once, with a webhook listed, for the Systempfleger:in and
// for the Betreiber (customer choice); Zustellungen (Betreiber) empty and
// with failures (the mail server and the receiver do not answer); the
// Übersicht with "Freigaben (N)".

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, checkA11y, createToken, press, until, useKontor } from './portal.mjs';

// Without a mail server: e-mail is off.
const off = useKontor({ before, after });
// With a mail server that does not answer (nothing listens on port 9): every
// delivery fails and is retried, which the Betreiber's page shows.
const on = useKontor({
  before,
  after,
  portalEnv: {
    KONTOR_SMTP_HOST: '127.0.0.1',
    KONTOR_SMTP_PORT: '9',
    KONTOR_SMTP_TLS: 'none',
    KONTOR_SMTP_FROM: 'kontor@rz.example',
    KONTOR_SMTP_TIMEOUT_SECONDS: '2',
    KONTOR_NOTIFY_POLL_MS: '100',
    KONTOR_NOTIFY_RETRY_BASE_MS: '200',
  },
});

const WIDTHS = [
  { label: 'default viewport', width: null },
  { label: 'narrow viewport (320 × 740)', width: 320 },
];

const pinned = (seed) => `registry.rz.example/musterhausen/portal@sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** Nothing but the scrollable tables is wider than the viewport. */
async function assertReflows(page, label) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${label}: the page scrolls sideways by ${overflow} px`);
}

async function check(page, label, width) {
  await checkA11y(page, label);
  if (width) await assertReflows(page, label);
}

for (const { label, width } of WIDTHS) {
  describe(label, () => {
    const suffix = width ? ` at ${width} px` : '';
    const open = async (env, who) => {
      const s = await env.open(who);
      if (width) await s.page.setViewportSize({ width, height: 740 });
      return s;
    };

    it('/einstellungen/benachrichtigungen with e-mail off, then saved', async () => {
      const { page } = await open(off, 'systempfleger');
      const res = await page.goto('/einstellungen/benachrichtigungen');
      assert.equal(res.status(), 200);
      assert.match(await page.locator('main').innerText(), /E-Mail-Versand ist aus/);
      await check(page, `/einstellungen/benachrichtigungen (e-mail off)${suffix}`, width);
      await page.getByLabel('Die Budgetprognose erreicht 80 %').uncheck();
      const saved = await press(page, 'Auswahl speichern');
      assert.equal(saved.status(), 200);
      assert.match(await page.getByRole('status').innerText(), /Gespeichert/);
      assert.equal(await page.getByLabel('Die Budgetprognose erreicht 80 %').isChecked(), false);
      await check(page, `/einstellungen/benachrichtigungen saved${suffix}`, width);
    });

    it('/einstellungen/benachrichtigungen with e-mail on', async () => {
      const { page } = await open(on, 'verfahrensverantwortliche');
      await page.goto('/einstellungen/benachrichtigungen');
      assert.doesNotMatch(await page.locator('main').innerText(), /E-Mail-Versand ist aus/);
      assert.match(await page.locator('main').innerText(), /vera\.verantwortlich@musterhausen\.example/);
      await check(page, `/einstellungen/benachrichtigungen (e-mail on)${suffix}`, width);
    });

    it('/webhooks of the Systempfleger:in: empty, refused, the secret once, listed', async () => {
      const { page } = await open(off, 'systempfleger-nordkreis');
      await page.goto('/webhooks');
      assert.match(await page.locator('main').innerText(), /noch kein Webhook/);
      await check(page, `/webhooks empty${suffix}`, width);

      await page.getByLabel('Adresse des Empfängers').fill('ftp://leitstand.example');
      const refused = await press(page, 'Webhook anlegen');
      assert.equal(refused.status(), 422);
      assert.ok(await page.locator('.kern-error').count() > 0);
      await check(page, `/webhooks refused (422)${suffix}`, width);

      await page.getByLabel('Adresse des Empfängers').fill('https://127.0.0.1:9/kontor/ein/recht/langer/pfad/fuer/den/empfang');
      await page.getByLabel('Beschreibung').fill('Leitstand');
      const created = await press(page, 'Webhook anlegen');
      assert.equal(created.status(), 201);
      assert.match(await page.getByLabel('Signaturgeheimnis').inputValue(), /^whsec_/);
      await check(page, `/webhooks with the new secret${suffix}`, width);

      await page.goto('/webhooks');
      assert.equal(await page.getByLabel('Signaturgeheimnis').count(), 0, 'the secret is shown once');
      assert.equal(await page.getByRole('button', { name: /Entfernen/ }).count(), 1);
      await check(page, `/webhooks listed${suffix}`, width);

      // Removed again, so the next run of this test starts empty.
      await press(page, 'Entfernen (https://127.0.0.1:9/kontor/ein/recht/langer/pfad/fuer/den/empfang)');
      assert.match(await page.locator('main').innerText(), /noch kein Webhook/);
    });

    it('/webhooks of the Betreiber (a customer or all)', async () => {
      const { page } = await open(off, 'betreiber');
      await page.goto('/webhooks');
      assert.ok(await page.getByLabel('Ereignisse von').count() === 1);
      await check(page, `/webhooks (Betreiber)${suffix}`, width);
    });

    it('/betrieb/benachrichtigungen empty', async () => {
      const { page } = await open(off, 'betreiber');
      const res = await page.goto('/betrieb/benachrichtigungen');
      assert.equal(res.status(), 200);
      assert.match(await page.locator('main').innerText(), /Keine Zustellung scheitert/);
      await check(page, `/betrieb/benachrichtigungen empty${suffix}`, width);
    });
  });
}

describe('with a waiting request and failing deliveries', () => {
  let ready;
  const prepare = () => (ready ??= (async () => {
    // A release of the Bürgerservice-Portal (booked in every stage) runs in
    // Vorprüfung; the developer asks for Abnahme: it waits for the
    // Systempfleger:in, whose e-mail cannot be delivered.
    const dev = await createToken(on, 'entwickler');
    const { page } = await on.open('entwickler');
    await page.goto('/uebersicht');
    const href = await page.getByRole('link', { name: 'Bürgerservice-Portal', exact: true }).getAttribute('href');
    const app = Number(href.match(/^\/verfahren\/(\d+)\/stufen$/)?.[1]);
    assert.ok(app, `the Bürgerservice-Portal's link: ${href}`);
    const delivered = await api(on, dev, 'POST', `/applications/${app}/releases`,
      { version: '9.9.9', image: pinned('notifications') });
    assert.equal(delivered.status, 201, JSON.stringify(delivered.body));
    await until(async () => {
      const p = await api(on, dev, 'GET', `/applications/${app}/pipeline`);
      return p.body.stages.find((s) => s.stage === 'vorpruefung')?.deployment?.state === 'erfolgreich';
    }, 'the release runs in Vorprüfung');
    const requested = await api(on, dev, 'POST', `/applications/${app}/promotions`,
      { release_id: delivered.body.id, to_stage: 'abnahme' });
    assert.equal(requested.status, 201, JSON.stringify(requested.body));
  })());

  for (const { label, width } of WIDTHS) {
    const suffix = width ? ` at ${width} px` : '';
    it(`/uebersicht with "Freigaben (1)"${suffix}`, async () => {
      await prepare();
      const { page } = await on.open('systempfleger');
      if (width) await page.setViewportSize({ width, height: 740 });
      await page.goto('/uebersicht');
      if (width) {
        // On a phone the links fold into "Menü", whose toggle shows what waits.
        const toggle = page.getByRole('navigation', { name: 'Hauptnavigation' }).locator('summary');
        assert.match(await toggle.innerText(), /^Menü\s*Freigaben \(1\)$/);
        await toggle.click();
      }
      assert.equal(await page.getByRole('link', { name: 'Freigaben (1)' }).count(), 1);
      assert.match(await page.getByRole('status').innerText(), /Ein Antrag wartet auf Ihre Entscheidung/);
      await check(page, `/uebersicht with Freigaben (1)${suffix}`, width);
    });

    it(`/betrieb/benachrichtigungen with failures${suffix}`, async () => {
      await prepare();
      const { page } = await on.open('betreiber');
      if (width) await page.setViewportSize({ width, height: 740 });
      await until(async () => {
        await page.goto('/betrieb/benachrichtigungen');
        return (await page.locator('.kern-badge--danger').count()) > 0;
      }, 'a failed delivery on the page');
      await check(page, `/betrieb/benachrichtigungen with failures${suffix}`, width);
    });
  }
});
