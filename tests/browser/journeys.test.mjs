// The three main journeys in German and in English, the same steps with each
// language's words: a Systempfleger:in books through the confirmation; a
// release delivered and requested by the Entwickler:in is approved by the
// Systempfleger:in through the confirmation; Finanzen downloads a closed
// month's statement as CSV. The detailed German checks of each journey are
// in journey.test.mjs, releases.test.mjs and billing.test.mjs; this file
// shows that a person can do the same in English, and that the pages say
// which language they are in.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { api, assertNoCsp, createToken, fillBooking, follow, press, until, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

const APP = 'Bürgerservice-Portal';

/** The month before the current one in Europe/Berlin, as JJJJ-MM. */
function previousMonth() {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit',
  }).formatToParts(new Date());
  const y = Number(parts.find((p) => p.type === 'year').value);
  const m = Number(parts.find((p) => p.type === 'month').value);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

const LANGUAGES = [
  {
    code: 'de',
    locale: 'de-DE',
    version: '2.0.0',
    stage: 'Abnahme',
    toConfirmation: 'Weiter zur Bestätigung',
    confirmTitle: 'Buchung bestätigen',
    bookNow: 'Verbindlich buchen',
    booked: 'Die Buchung ist angenommen.',
    bookingTitle: (id) => `Buchung ${id}`,
    approvals: 'Freigaben',
    approve: (v, stage) => `Genehmigen: ${v} nach ${stage}`,
    approvalTitle: 'Freigabe bestätigen',
    approveNow: (v, stage) => `Verbindlich genehmigen: ${v} nach ${stage}`,
    approved: 'Die Freigabe ist erteilt; die Bereitstellung läuft.',
    statementTitle: /^Abrechnung /,
    csvLink: 'CSV für Tabellenkalkulation (Semikolon, Dezimalkomma)',
  },
  {
    code: 'en',
    locale: 'en-GB',
    version: '2.1.0',
    stage: 'Acceptance',
    toConfirmation: 'Continue to confirmation',
    confirmTitle: 'Confirm booking',
    bookNow: 'Book now',
    booked: 'The booking has been accepted.',
    bookingTitle: (id) => `Booking ${id}`,
    approvals: 'Approvals',
    approve: (v, stage) => `Approve: ${v} to ${stage}`,
    approvalTitle: 'Confirm approval',
    approveNow: (v, stage) => `Approve now: ${v} to ${stage}`,
    approved: 'The approval has been given; the deployment is running.',
    statementTitle: /^Statement /,
    csvLink: 'CSV for spreadsheets (semicolon, decimal comma)',
  },
];

/** A page of `who` in language `lang`, checked to speak it. */
async function open(who, lang) {
  const s = await env.open(who, { locale: lang.locale });
  assert.equal(await s.page.getAttribute('html', 'lang'), lang.code, `${who}: <html lang>`);
  return s;
}

const notice = (page) => page.getByRole('status').innerText().then((t) => t.trim());

for (const lang of LANGUAGES) {
  describe(`the main journeys in ${lang.code === 'de' ? 'German' : 'English'}`, () => {
    it('a Systempfleger:in books a Container-Namespace S through the confirmation', async () => {
      const { page } = await open('systempfleger', lang);
      await page.goto('/katalog');
      await fillBooking(page, {
        application: APP, stage: lang.stage, product: 'Container-Namespace', size: 'S',
      });
      const confirm = await press(page, lang.toConfirmation);
      assert.equal(confirm.status(), 200);
      assert.equal(await page.locator('h1').innerText(), lang.confirmTitle);
      const done = await press(page, lang.bookNow);
      assert.equal(done.status(), 200);
      const id = Number(new URL(page.url()).pathname.match(/^\/buchungen\/(\d+)$/)?.[1]);
      assert.ok(id, `expected /buchungen/{id}, got ${page.url()}`);
      assert.equal(await notice(page), lang.booked);
      assert.equal(await page.locator('h1').innerText(), lang.bookingTitle(id));
      assert.equal(await page.getAttribute('html', 'lang'), lang.code);
      assertNoCsp(page);
    });

    it('the Systempfleger:in approves a requested release through the confirmation', async () => {
      // The Entwickler:in delivers and asks for the next stage over the API.
      const token = await createToken(env, 'entwickler');
      const apps = await api(env, token, 'GET', '/applications?limit=200');
      const app = apps.body.items.find((a) => a.name === APP);
      assert.ok(app, `no ${APP} in ${JSON.stringify(apps.body)}`);
      const image = `registry.rz.example/musterhausen/buergerservice@sha256:${createHash('sha256').update(lang.version).digest('hex')}`;
      const delivered = await api(env, token, 'POST', `/applications/${app.id}/releases`, { version: lang.version, image });
      assert.equal(delivered.status, 201, JSON.stringify(delivered.body));
      await until(async () => {
        const p = await api(env, token, 'GET', `/applications/${app.id}/pipeline`);
        const first = p.body.stages?.[0];
        return first?.deployment?.version === lang.version && first?.deployment?.state === 'erfolgreich';
      }, `${lang.version} running in Vorprüfung`);
      const requested = await api(env, token, 'POST', `/applications/${app.id}/promotions`, {
        release_id: delivered.body.id, to_stage: 'abnahme',
      });
      assert.equal(requested.status, 201, JSON.stringify(requested.body));

      const { page } = await open('systempfleger', lang);
      const link = page.locator('header nav a[href="/freigaben"]').first();
      assert.match(await link.innerText(), new RegExp(`^${lang.approvals}`));
      await follow(page, () => link.click());
      assert.equal(new URL(page.url()).pathname, '/freigaben');
      const asked = await press(page, lang.approve(lang.version, lang.stage));
      assert.equal(asked.status(), 200);
      assert.equal(await page.locator('h1').innerText(), lang.approvalTitle);
      const decided = await press(page, lang.approveNow(lang.version, lang.stage));
      assert.equal(decided.status(), 200);
      assert.equal(new URL(page.url()).pathname, '/freigaben');
      assert.equal(await notice(page), lang.approved);
      const after = await api(env, token, 'GET', `/promotions/${requested.body.id}`);
      assert.equal(after.body.state, 'genehmigt', JSON.stringify(after.body));
      assertNoCsp(page);
    });

    it('Finanzen downloads the previous month\'s statement as CSV', async () => {
      const month = previousMonth();
      const { page } = await open('finanzen', lang);
      await page.goto(`/abrechnung?monat=${month}`);
      await follow(page, () => page.getByRole('link', { name: 'DLV-2026-0042', exact: true }).click());
      assert.match(new URL(page.url()).pathname, new RegExp(`^/abrechnung/${month}/vertrag/\\d+$`));
      assert.match(await page.locator('h1').innerText(), lang.statementTitle);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: lang.csvLink }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `abrechnung-DLV-2026-0042-${month}.csv`);
      assert.equal(await download.failure(), null, 'the download completed');
      const bytes = await readFile(await download.path());
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
      const lines = bytes.subarray(3).toString('utf8').split('\r\n').filter(Boolean);
      // The file is the finance department's format in either language.
      assert.match(lines[0], /^Vertragsnummer;Kostenstelle;/);
      assert.ok(lines.length > 1, 'the statement has line items');
      assert.ok(lines.slice(1).every((l) => l.startsWith('DLV-2026-0042;')), 'every line is the contract\'s');
      assertNoCsp(page);
    });
  });
}
