// Releases and Freigaben through the browser: the Entwickler:in of Stadt
// Musterhausen delivers Bürgerservice-Portal 1.0.0 with `kontor release
// push` and walks it through Vorprüfung ► Abnahme ► Schulung ► Produktion —
// requested on the pipeline page, approved by the Systempfleger:in (once by
// keyboard only) and, for Produktion, by the Verfahrensverantwortliche:r,
// whom the Systempfleger:in may not replace (no buttons, 403 on a direct
// POST). Around it: a rejection needs a reason (422 with the message beside
// the field) and shows it to the requester; the requester withdraws and never
// sees an approve button on their own request; Checkup refusals on the
// release list; a failed deployment (no booking in Vorprüfung) and its retry;
// another customer's pages are 404.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  api, assertNoCsp, createToken, fillBooking, follow, keyFollow, press, runKontor, tabTo, until,
  useKontor,
} from './portal.mjs';

const env = useKontor({ before, after });

const APP = 'Bürgerservice-Portal'; // demo bookings in all four stages
const OTHER = 'Kfz-Zulassung'; // demo bookings in Vorprüfung and Produktion only
const STAGES = ['Vorprüfung', 'Abnahme', 'Schulung', 'Produktion'];
const REASON_MISSING = 'Bitte die Ablehnung begründen; die Begründung sehen die Antragstellenden.';

/** An image of the allowed registry, pinned by a digest derived from `seed`. */
const pinned = (path, seed) => `registry.rz.example/musterhausen/${path}@sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** The id of a Verfahren, from its link on /uebersicht. */
async function appId(page, name) {
  await page.goto('/uebersicht');
  const href = await page.getByRole('link', { name, exact: true }).getAttribute('href');
  const id = Number(href.match(/^\/verfahren\/(\d+)\/stufen$/)?.[1]);
  assert.ok(id, `link of ${name} on /uebersicht: ${href}`);
  return id;
}

/** The card of a stage on the pipeline page (a region named by its heading). */
const card = (page, stage) => page.getByRole('region', { name: stage, exact: true });

/** What a stage's card shows: { version, badge, text }. */
async function cardState(page, stage) {
  const c = card(page, stage);
  const text = (await c.innerText()).replace(/\s+/g, ' ').trim();
  const version = (await c.locator('p strong').count()) ? (await c.locator('p strong').innerText()).trim() : null;
  const badge = (await c.locator('.kern-badge').count()) ? (await c.locator('.kern-badge').innerText()).trim() : null;
  return { version, badge, text };
}

/** Reloads the pipeline of `id` until `version` "läuft" in `stage`. */
function untilRunning(page, id, stage, version) {
  return until(async () => {
    await page.goto(`/verfahren/${id}/stufen`);
    const s = await cardState(page, stage);
    return s.version === version && s.badge === 'läuft' ? s : false;
  }, `${version} "läuft" in ${stage}`);
}

/** Rows of a table found by its caption's beginning, as arrays of cell texts. */
function tableRows(page, caption) {
  return page.locator(`table:has(caption:text("${caption}")) tbody tr`)
    .evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.replace(/\s+/g, ' ').trim())));
}

/** The id of the request pending into `stage`, from the form of its card. */
async function pendingId(page, stage) {
  const action = await card(page, stage).locator('form[action^="/freigaben/"]').first().getAttribute('action');
  const id = Number(action.match(/^\/freigaben\/(\d+)\//)?.[1]);
  assert.ok(id, `form of the request into ${stage}: ${action}`);
  return id;
}

const csrf = (page) => page.locator('input[name="csrf"]').first().inputValue();

/** The notice (role=status) of the current page. */
const notice = (page) => page.getByRole('status').innerText().then((t) => t.trim());

describe('the chain: delivery to Produktion, with four-eyes approval', () => {
  const entwickler = env.session('entwickler');
  const systempfleger = env.session('systempfleger');
  const verantwortliche = env.session('verfahrensverantwortliche');
  let id;

  it('the application\'s name on /uebersicht leads to its pipeline: four stages, nothing running yet', async () => {
    const { page } = await entwickler();
    id = await appId(page, APP);
    await follow(page, () => page.getByRole('link', { name: APP, exact: true }).click());
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`);
    assert.equal(await page.locator('h1').innerText(), `Stufen: ${APP}`);
    // An application's stages are under "Stufen" in the navigation.
    assert.equal(await page.locator('nav a[href="/stufen"]').getAttribute('aria-current'), 'page');
    assert.deepEqual(await page.locator('main h2').allInnerTexts(), STAGES);
    for (const stage of STAGES) {
      assert.equal((await cardState(page, stage)).text, `${stage} Noch keine Lieferung.`);
    }
    assert.deepEqual(await tableRows(page, 'Freigabeanträge'), [['Noch keine Anträge.']]);
    assert.deepEqual(await tableRows(page, 'Bereitstellungen'), [['Noch keine Bereitstellungen.']]);
    assert.equal(await page.getByRole('button', { name: /beantragen/ }).count(), 0);
    assertNoCsp(page);
  });

  it('the Entwickler:in delivers 1.0.0 with `kontor release push` (exit 0); a tag-only image is refused (exit 1)', async () => {
    const token = await createToken(env, 'entwickler');
    const cli = { KONTOR_URL: env.url, KONTOR_TOKEN: token };
    const refused = await runKontor(env, ['release', 'push', '--app', 'buergerservice', '--version', '0.9.0',
      '--image', 'registry.rz.example/musterhausen/buergerservice:0.9.0'], cli);
    assert.equal(refused.code, 1, `exit code of the refused push\n${refused.stdout}${refused.stderr}`);
    assert.match(refused.stderr, /^kontor: abgelehnt \(422 checkup-refused\): Das Image ist nicht per Digest festgelegt.*\[not-pinned\]/);
    assert.equal(refused.stdout, '');

    const image = pinned('buergerservice', '1.0.0');
    const ok = await runKontor(env, ['release', 'push', '--app', 'buergerservice', '--version', '1.0.0', '--image', image], cli);
    assert.equal(ok.code, 0, `exit code of the push\n${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, new RegExp(`^Lieferung 1\\.0\\.0 von ${APP} angenommen \\(Id \\d+\\): ${image.replace(/[.]/g, '\\.')}\\. Sie wird in die Vorprüfung gebracht\\.`));
  });

  it('1.0.0 "läuft" in Vorprüfung; the Entwickler:in requests Abnahme with the button', async () => {
    const { page } = await entwickler();
    const s = await untilRunning(page, id, 'Vorprüfung', '1.0.0');
    assert.match(s.text, /^Vorprüfung Lieferung 1\.0\.0 läuft /);
    for (const stage of STAGES.slice(1)) assert.equal((await cardState(page, stage)).version, null);
    const rows = await tableRows(page, 'Bereitstellungen');
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].slice(0, 3), ['Vorprüfung', '1.0.0', 'erfolgreich']);

    const res = await press(page, 'Freigabe für Abnahme beantragen (1.0.0)');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`);
    assert.equal(await notice(page), 'Die Freigabe ist beantragt; entscheiden muss eine andere Person.');
    const abnahme = await cardState(page, 'Abnahme');
    assert.match(abnahme.text, /Freigabe beantragt: Lieferung 1\.0\.0 von Erik Entwickler am .+; entscheiden darf die\/der Systempfleger:in\./);
    // The requester: no decision, only withdrawing; no second request.
    assert.equal(await card(page, 'Abnahme').getByRole('button', { name: /^Genehmigen/ }).count(), 0);
    assert.equal(await card(page, 'Abnahme').getByRole('button', { name: 'Ablehnen' }).count(), 0);
    assert.equal(await card(page, 'Abnahme').getByRole('button', { name: 'Antrag zurückziehen' }).count(), 1);
    assert.equal(await page.getByRole('button', { name: /beantragen/ }).count(), 0);
    const history = await tableRows(page, 'Freigabeanträge');
    assert.equal(history.length, 1);
    assert.deepEqual(history[0].slice(0, 3), ['1.0.0', 'Vorprüfung ► Abnahme', 'offen']);
    assert.match(history[0][3], /^Erik Entwickler, \d\d\.\d\d\.\d{4} \d\d:\d\d$/);
    assertNoCsp(page);
  });

  it('the Verfahrensverantwortliche:r may not decide a request into Abnahme', async () => {
    const { page } = await verantwortliche();
    await page.goto('/freigaben');
    assert.match(await page.locator('main').innerText(), /Nichts zu entscheiden\./);
    await page.goto(`/verfahren/${id}/stufen`);
    assert.equal(await page.getByRole('button', { name: /^Genehmigen/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /beantragen/ }).count(), 0, 'may not request either');
  });

  it('the Systempfleger:in finds it on /freigaben and approves it by keyboard only (Tab, Enter)', async () => {
    const { page } = await systempfleger();
    await page.goto('/uebersicht');
    await tabTo(page, (f) => f.tag === 'a' && f.href === '/freigaben', 'the Freigaben link of the navigation');
    await keyFollow(page);
    assert.equal(new URL(page.url()).pathname, '/freigaben');
    assert.equal(await page.locator('h1').innerText(), 'Freigaben');
    const decide = page.getByRole('region', { name: 'Zu entscheiden' });
    assert.deepEqual(await decide.locator('h3').allInnerTexts(), [`${APP}: Lieferung 1.0.0 nach Abnahme`]);
    assert.match(await decide.innerText(), /beantragt von Erik Entwickler am .+; läuft in Vorprüfung/);
    assert.match(await page.getByRole('region', { name: 'Meine offenen Anträge' }).innerText(), /Keine offenen Anträge\./);

    const f = await tabTo(page, (x) => x.tag === 'button' && x.text === 'Genehmigen: 1.0.0 nach Abnahme', 'the approve button');
    assert.notEqual(f.outline, 'none', 'the focused approve button shows a focus outline');
    const asked = await keyFollow(page);
    assert.equal(asked.status(), 200);
    // Approving asks first: the confirmation page, decided by keyboard too.
    assert.match(new URL(page.url()).pathname, /^\/freigaben\/\d+\/genehmigen$/);
    assert.equal(await page.locator('h1').innerText(), 'Freigabe bestätigen');
    await tabTo(page, (x) => x.tag === 'button' && x.text === 'Verbindlich genehmigen: 1.0.0 nach Abnahme', 'the confirm button');
    const res = await keyFollow(page);
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/freigaben');
    assert.equal(await notice(page), 'Die Freigabe ist erteilt; die Bereitstellung läuft.');
    assert.match(await decide.innerText(), /Nichts zu entscheiden\./);
    assertNoCsp(page);
  });

  it('Abnahme shows 1.0.0 "läuft" (reload until); the history names who decided', async () => {
    const { page } = await entwickler();
    await untilRunning(page, id, 'Abnahme', '1.0.0');
    const history = await tableRows(page, 'Freigabeanträge');
    assert.equal(history.length, 1);
    assert.deepEqual(history[0].slice(0, 3), ['1.0.0', 'Vorprüfung ► Abnahme', 'genehmigt']);
    assert.match(history[0][4], /^Sabine Pfleger, \d\d\.\d\d\.\d{4} \d\d:\d\d$/);
    // From Abnahme, Schulung may be requested now.
    assert.equal(await card(page, 'Abnahme').getByRole('button', { name: 'Freigabe für Schulung beantragen (1.0.0)' }).count(), 1);
    assertNoCsp(page);
  });

  it('Schulung: the Entwickler:in requests, the Systempfleger:in approves on the pipeline page', async () => {
    const dev = (await entwickler()).page;
    await dev.goto(`/verfahren/${id}/stufen`);
    await press(dev, 'Freigabe für Schulung beantragen (1.0.0)');
    assert.equal(await notice(dev), 'Die Freigabe ist beantragt; entscheiden muss eine andere Person.');

    const { page } = await systempfleger();
    await page.goto(`/verfahren/${id}/stufen`);
    assert.match((await cardState(page, 'Schulung')).text, /Freigabe beantragt: Lieferung 1\.0\.0 von Erik Entwickler/);
    await follow(page, () => card(page, 'Schulung').getByRole('button', { name: 'Genehmigen: 1.0.0 nach Schulung' }).click());
    assert.equal(await page.locator('h1').innerText(), 'Freigabe bestätigen');
    const res = await press(page, 'Verbindlich genehmigen: 1.0.0 nach Schulung');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`, 'back on the pipeline');
    assert.equal(await notice(page), 'Die Freigabe ist erteilt; die Bereitstellung läuft.');
    await untilRunning(page, id, 'Schulung', '1.0.0');
    assertNoCsp(page);
  });

  it('Produktion: the Systempfleger:in has no buttons for it and a direct POST answers 403', async () => {
    const dev = (await entwickler()).page;
    await dev.goto(`/verfahren/${id}/stufen`);
    await press(dev, 'Freigabe für Produktion beantragen (1.0.0)');
    const promotion = await pendingId(dev, 'Produktion');

    const { page } = await systempfleger();
    await page.goto('/freigaben');
    assert.match(await page.getByRole('region', { name: 'Zu entscheiden' }).innerText(), /Nichts zu entscheiden\./);
    await page.goto(`/verfahren/${id}/stufen`);
    const s = await cardState(page, 'Produktion');
    assert.match(s.text, /Freigabe beantragt: Lieferung 1\.0\.0 von Erik Entwickler am .+; entscheiden darf die\/der Verfahrensverantwortliche:r\./);
    assert.equal(await card(page, 'Produktion').getByRole('button').count(), 0, 'no decide (or any) buttons in Produktion');
    assert.equal(await page.getByRole('button', { name: /^Genehmigen/ }).count(), 0);

    const formToken = await csrf(page);
    for (const [path, form] of [
      [`/freigaben/${promotion}/genehmigen`, { csrf: formToken, zurueck: 'stufen' }],
      [`/freigaben/${promotion}/ablehnen`, { csrf: formToken, zurueck: 'stufen', reason: 'Ich darf das nicht.' }],
    ]) {
      const res = await page.request.post(path, { form, maxRedirects: 0 });
      assert.equal(res.status(), 403, `POST ${path} by the Systempfleger:in`);
      assert.match(await res.text(), /Keine Berechtigung/);
    }
    // The REST API says the same.
    const spToken = await createToken(env, 'systempfleger');
    const viaApi = await api(env, spToken, 'POST', `/promotions/${promotion}/approve`, {});
    assert.equal(viaApi.status, 403, JSON.stringify(viaApi.body));
    // Still open.
    await page.goto(`/verfahren/${id}/stufen`);
    assert.match((await cardState(page, 'Produktion')).text, /Freigabe beantragt/);
    assert.equal((await cardState(page, 'Produktion')).version, null);
  });

  it('the Verfahrensverantwortliche:r approves on /freigaben; Produktion shows 1.0.0', async () => {
    const { page } = await verantwortliche();
    await page.goto('/freigaben');
    const decide = page.getByRole('region', { name: 'Zu entscheiden' });
    assert.deepEqual(await decide.locator('h3').allInnerTexts(), [`${APP}: Lieferung 1.0.0 nach Produktion`]);
    await press(page, 'Genehmigen: 1.0.0 nach Produktion');
    assert.equal(await page.locator('h1').innerText(), 'Freigabe bestätigen');
    await press(page, 'Verbindlich genehmigen: 1.0.0 nach Produktion');
    assert.equal(await notice(page), 'Die Freigabe ist erteilt; die Bereitstellung läuft.');
    await untilRunning(page, id, 'Produktion', '1.0.0');
    for (const stage of STAGES) {
      const s = await cardState(page, stage);
      assert.deepEqual([s.version, s.badge], ['1.0.0', 'läuft'], stage);
    }
    const history = await tableRows(page, 'Freigabeanträge');
    assert.deepEqual(history.map((r) => r.slice(0, 3)), [
      ['1.0.0', 'Schulung ► Produktion', 'genehmigt'],
      ['1.0.0', 'Abnahme ► Schulung', 'genehmigt'],
      ['1.0.0', 'Vorprüfung ► Abnahme', 'genehmigt'],
    ]);
    assert.match(history[0][4], /^Vera Verantwortlich, /);
    const deployments = await tableRows(page, 'Bereitstellungen');
    assert.deepEqual(deployments.map((r) => r.slice(0, 3)), [
      ['Produktion', '1.0.0', 'erfolgreich'],
      ['Schulung', '1.0.0', 'erfolgreich'],
      ['Abnahme', '1.0.0', 'erfolgreich'],
      ['Vorprüfung', '1.0.0', 'erfolgreich'],
    ]);
    assertNoCsp(page);
  });

  it('the Entwickler:in sees 1.0.0 in Produktion; nothing is requested beyond it', async () => {
    const { page } = await entwickler();
    await page.goto(`/verfahren/${id}/stufen`);
    assert.deepEqual(await cardState(page, 'Produktion').then((s) => [s.version, s.badge]), ['1.0.0', 'läuft']);
    assert.equal(await card(page, 'Produktion').getByRole('button').count(), 0);
    await page.goto('/freigaben');
    assert.match(await page.getByRole('region', { name: 'Meine offenen Anträge' }).innerText(), /Keine offenen Anträge\./);
  });
});

describe('rejecting and withdrawing', () => {
  const entwickler = env.session('entwickler');
  const systempfleger = env.session('systempfleger');
  let id;

  it('an accepted delivery into Kfz-Zulassung runs in Vorprüfung; the Entwickler:in requests Abnahme', async () => {
    const { page } = await entwickler();
    id = await appId(page, OTHER);
    const token = await createToken(env, 'entwickler');
    const r = await api(env, token, 'POST', `/applications/${id}/releases`,
      { version: '2.0.0', image: pinned('kfz-zulassung', '2.0.0') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await untilRunning(page, id, 'Vorprüfung', '2.0.0');
    await press(page, 'Freigabe für Abnahme beantragen (2.0.0)');
    assert.match((await cardState(page, 'Abnahme')).text, /Freigabe beantragt: Lieferung 2\.0\.0/);
  });

  it('a rejection without a reason re-renders (422) with the message beside the field and decides nothing', async () => {
    const { page } = await systempfleger();
    await page.goto(`/verfahren/${id}/stufen`);
    const promotion = await pendingId(page, 'Abnahme');
    const res = await follow(page, () => card(page, 'Abnahme').getByRole('button', { name: 'Ablehnen' }).click());
    assert.equal(res.status(), 422);
    const field = card(page, 'Abnahme').getByLabel('Begründung der Ablehnung');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    const describedBy = await field.getAttribute('aria-describedby');
    assert.ok(describedBy, 'the reason field is described by the message');
    const message = page.locator(`[id="${describedBy}"]`);
    assert.equal((await message.innerText()).trim(), REASON_MISSING);
    // The message sits right beside the field, in the same form group.
    assert.ok(await field.evaluate((el, errorId) => el.closest('.kern-form-input')?.querySelector(`[id="${errorId}"]`) !== null, describedBy),
      'the message is in the reason field\'s form group');
    assert.equal(await page.getByRole('status').count(), 0, 'no success notice');
    // The page is still the pipeline, with the request and both buttons.
    assert.equal(await page.locator('h1').innerText(), `Stufen: ${OTHER}`);
    assert.equal(await card(page, 'Abnahme').getByRole('button', { name: 'Genehmigen: 2.0.0 nach Abnahme' }).count(), 1);
    // Nothing decided: a fresh look shows it open.
    await page.goto(`/verfahren/${id}/stufen`);
    assert.equal(await pendingId(page, 'Abnahme'), promotion);
    assert.deepEqual((await tableRows(page, 'Freigabeanträge')).map((r) => r[2]), ['offen']);
    assert.equal(await card(page, 'Abnahme').getByLabel('Begründung der Ablehnung').getAttribute('aria-invalid'), null);
    assertNoCsp(page);
  });

  it('with a reason it is rejected, and the requester reads the reason in the history', async () => {
    const { page } = await systempfleger();
    await page.goto(`/verfahren/${id}/stufen`);
    await card(page, 'Abnahme').getByLabel('Begründung der Ablehnung').fill('Der Abnahmetermin mit dem Fachamt steht noch aus.');
    await follow(page, () => card(page, 'Abnahme').getByRole('button', { name: 'Ablehnen' }).click());
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`);
    assert.equal(await notice(page), 'Der Antrag ist abgelehnt; die Begründung steht in der Historie.');
    assert.equal((await cardState(page, 'Abnahme')).text, 'Abnahme Noch keine Lieferung.');

    const dev = (await entwickler()).page;
    await dev.goto(`/verfahren/${id}/stufen`);
    const [row] = await tableRows(dev, 'Freigabeanträge');
    assert.deepEqual(row.slice(0, 3), ['2.0.0', 'Vorprüfung ► Abnahme', 'abgelehnt']);
    assert.match(row[4], /^Sabine Pfleger, /);
    assert.equal(row[5], 'Der Abnahmetermin mit dem Fachamt steht noch aus.');
    // The release may be requested again.
    assert.equal(await dev.getByRole('button', { name: 'Freigabe für Abnahme beantragen (2.0.0)' }).count(), 1);
    assertNoCsp(dev);
  });

  it('the requester withdraws another request on /freigaben', async () => {
    const { page } = await entwickler();
    await page.goto(`/verfahren/${id}/stufen`);
    await press(page, 'Freigabe für Abnahme beantragen (2.0.0)');
    await page.goto('/freigaben');
    const mine = page.getByRole('region', { name: 'Meine offenen Anträge' });
    assert.deepEqual(await mine.locator('h3').allInnerTexts(), [`${OTHER}: Lieferung 2.0.0 nach Abnahme`]);
    assert.match(await mine.innerText(), /entscheiden darf die\/der Systempfleger:in/);
    assert.equal(await page.getByRole('button', { name: /^Genehmigen/ }).count(), 0);
    assert.match(await page.getByRole('region', { name: 'Zu entscheiden' }).innerText(), /Nichts zu entscheiden\./);
    await press(page, 'Antrag zurückziehen: 2.0.0 nach Abnahme');
    assert.equal(new URL(page.url()).pathname, '/freigaben');
    assert.equal(await notice(page), 'Der Antrag ist zurückgezogen.');
    assert.match(await mine.innerText(), /Keine offenen Anträge\./);

    await page.goto(`/verfahren/${id}/stufen`);
    assert.deepEqual((await tableRows(page, 'Freigabeanträge')).map((r) => r[2]), ['zurückgezogen', 'abgelehnt']);
    const sp = (await systempfleger()).page;
    await sp.goto('/freigaben');
    assert.match(await sp.getByRole('region', { name: 'Zu entscheiden' }).innerText(), /Nichts zu entscheiden\./);
    assertNoCsp(page);
  });

  it('the Systempfleger:in\'s own request: no approve button, not in "Zu entscheiden", a direct POST is 403; withdrawn on the pipeline', async () => {
    const { page } = await systempfleger();
    await page.goto(`/verfahren/${id}/stufen`);
    await press(page, 'Freigabe für Abnahme beantragen (2.0.0)');
    const abnahme = card(page, 'Abnahme');
    assert.match((await cardState(page, 'Abnahme')).text, /Freigabe beantragt: Lieferung 2\.0\.0 von Sabine Pfleger/);
    assert.equal(await abnahme.getByRole('button', { name: /^Genehmigen/ }).count(), 0);
    assert.equal(await abnahme.getByRole('button', { name: 'Ablehnen' }).count(), 0);
    const promotion = await pendingId(page, 'Abnahme');

    await page.goto('/freigaben');
    assert.match(await page.getByRole('region', { name: 'Zu entscheiden' }).innerText(), /Nichts zu entscheiden\./);
    assert.deepEqual(await page.getByRole('region', { name: 'Meine offenen Anträge' }).locator('h3').allInnerTexts(),
      [`${OTHER}: Lieferung 2.0.0 nach Abnahme`]);
    const res = await page.request.post(`/freigaben/${promotion}/genehmigen`,
      { form: { csrf: await csrf(page), zurueck: 'stufen' }, maxRedirects: 0 });
    assert.equal(res.status(), 403, 'approving one\'s own request');

    await page.goto(`/verfahren/${id}/stufen`);
    await follow(page, () => card(page, 'Abnahme').getByRole('button', { name: 'Antrag zurückziehen' }).click());
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`);
    assert.equal(await notice(page), 'Der Antrag ist zurückgezogen.');
    assert.equal((await cardState(page, 'Abnahme')).text, 'Abnahme Noch keine Lieferung.');
    assertNoCsp(page);
  });
});

describe('Checkup refusals on /verfahren/{id}/releases', () => {
  it('lists accepted deliveries as "bestanden" and refusals as "abgelehnt" with the reason', async () => {
    const { page } = await env.open('entwickler');
    const id = await appId(page, OTHER);
    const token = await createToken(env, 'entwickler');
    const deliveries = [
      ['3.0.0', 'registry.rz.example/musterhausen/kfz-zulassung:3.0.0', 'not-pinned',
        'Das Image ist nicht per Digest festgelegt (…@sha256:<64 Hex-Zeichen>); ein Tag kann sich später ändern.', 422],
      ['3.0.1', `ghcr.io/fremd/kfz-zulassung@sha256:${'ab'.repeat(32)}`, 'foreign-registry',
        'Die Registry ghcr.io steht nicht auf der Liste der zugelassenen Registries.', 409],
    ];
    // Not pinned: a wrong request (422); a registry off the list: refused by
    // the state of things (409, docs/api.md).
    for (const [version, image, reason, , status] of deliveries) {
      const r = await api(env, token, 'POST', `/applications/${id}/releases`, { version, image });
      assert.equal(r.status, status, `${version}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.reason, reason);
    }
    // A version the application has already is refused, too.
    const first = await api(env, token, 'POST', `/applications/${id}/releases`,
      { version: '3.1.0', image: pinned('kfz-zulassung', '3.1.0') });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const again = await api(env, token, 'POST', `/applications/${id}/releases`,
      { version: '3.1.0', image: pinned('kfz-zulassung', '3.1.0-b') });
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, 'duplicate-version');

    const res = await page.goto(`/verfahren/${id}/releases`);
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('h1').innerText(), `Lieferungen: ${OTHER}`);
    const rows = await tableRows(page, 'Lieferungen');
    const byVersion = (v) => rows.filter((r) => r[0] === v);
    for (const [version, image, , message] of deliveries) {
      const [row] = byVersion(version);
      assert.ok(row, `a row for ${version}`);
      assert.equal(row[1], image);
      assert.equal(row[2], `abgelehnt ${message}`);
    }
    const [refusedAgain, accepted] = byVersion('3.1.0');
    assert.match(refusedAgain[2], /^abgelehnt .*3\.1\.0/, `duplicate: ${refusedAgain[2]}`);
    assert.equal(accepted[2], 'bestanden');
    assert.equal(byVersion('2.0.0')[0]?.[2], 'bestanden');
    // Newest first.
    assert.deepEqual(rows.slice(0, 4).map((r) => r[0]), ['3.1.0', '3.1.0', '3.0.1', '3.0.0']);
    // The pipeline links here, and back.
    await page.goto(`/verfahren/${id}/stufen`);
    await follow(page, () => page.getByRole('link', { name: 'Alle Lieferungen mit Checkup' }).click());
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/releases`);
    await follow(page, () => page.getByRole('link', { name: 'Zu den Stufen' }).click());
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`);
    assertNoCsp(page);
  });
});

describe('a deployment into a stage without a booking fails, and succeeds on retry after booking', () => {
  const NAME = 'Wohngeld-Rechner';
  const SLUG = 'wohngeld';
  let id;

  it('the Betreiber creates a new Verfahren for Stadt Musterhausen (nothing booked)', async () => {
    const { page } = await env.open('betreiber');
    await page.goto('/betrieb/kunden');
    await follow(page, () => page.getByRole('link', { name: 'Stadt Musterhausen' }).click());
    await page.getByLabel('Name des Verfahrens').fill(NAME);
    await page.getByLabel('Kürzel').fill(SLUG);
    await press(page, 'Verfahren anlegen');
    assert.match(await page.locator('main').innerText(), new RegExp(`${NAME} \\(${SLUG}, Vertrag DLV-2026-0042\\)`));
  });

  it('an accepted delivery shows "fehlgeschlagen" in Vorprüfung with the message and a retry button', async () => {
    const { page } = await env.open('entwickler');
    id = await appId(page, NAME);
    const token = await createToken(env, 'entwickler');
    const r = await api(env, token, 'POST', `/applications/${id}/releases`, { version: '0.1.0', image: pinned(SLUG, '0.1.0') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await page.goto(`/verfahren/${id}/stufen`);
    const s = await cardState(page, 'Vorprüfung');
    assert.deepEqual([s.version, s.badge], ['0.1.0', 'fehlgeschlagen']);
    assert.match(s.text, /In dieser Stufe ist nichts gebucht: ohne Kontingent kann die Lieferung nicht laufen\. Bitte buchen und die Bereitstellung wiederholen\./);
    assert.equal(await card(page, 'Vorprüfung').getByRole('button', { name: 'Bereitstellung wiederholen' }).count(), 1);
    assert.equal(await page.getByRole('button', { name: /beantragen/ }).count(), 0, 'a failed release cannot be requested onward');
    const [row] = await tableRows(page, 'Bereitstellungen');
    assert.deepEqual(row.slice(0, 3), ['Vorprüfung', '0.1.0', 'fehlgeschlagen']);
    assertNoCsp(page);
  });

  it('the Verfahrensverantwortliche:r sees the failure but no retry button', async () => {
    const { page } = await env.open('verfahrensverantwortliche');
    await page.goto(`/verfahren/${id}/stufen`);
    assert.equal((await cardState(page, 'Vorprüfung')).badge, 'fehlgeschlagen');
    assert.equal(await page.getByRole('button', { name: 'Bereitstellung wiederholen' }).count(), 0);
  });

  it('after the Systempfleger:in books Vorprüfung, the retry brings 0.1.0 to "läuft"', async () => {
    const sp = (await env.open('systempfleger')).page;
    await sp.goto('/katalog');
    await fillBooking(sp, { application: NAME, stage: 'Vorprüfung', product: 'Container-Namespace', size: 'S' });
    await press(sp, 'Weiter zur Bestätigung');
    await press(sp, 'Verbindlich buchen');
    assert.match(sp.url(), /\/buchungen\/\d+\?gebucht=1$/);

    const { page } = await env.open('entwickler');
    await page.goto(`/verfahren/${id}/stufen`);
    await press(page, 'Bereitstellung wiederholen');
    assert.equal(new URL(page.url()).pathname, `/verfahren/${id}/stufen`);
    assert.equal(await notice(page), 'Die Bereitstellung wird wiederholt.');
    await untilRunning(page, id, 'Vorprüfung', '0.1.0');
    assert.deepEqual((await tableRows(page, 'Bereitstellungen')).map((r) => r.slice(0, 3)), [
      ['Vorprüfung', '0.1.0', 'erfolgreich'],
      ['Vorprüfung', '0.1.0', 'fehlgeschlagen'],
    ]);
    assert.equal(await page.getByRole('button', { name: 'Freigabe für Abnahme beantragen (0.1.0)' }).count(), 1);
    assertNoCsp(page);
  });
});

describe('tenancy: another customer\'s pipeline and releases are 404', () => {
  it('both ways round, and deciding another customer\'s request is 404', async () => {
    const own = await env.open('systempfleger');
    const nord = await env.open('systempfleger-nordkreis');
    const ownId = await appId(own.page, APP);
    const foreignId = await appId(nord.page, 'Sozialhilfe-Fachverfahren');
    for (const [s, appIdOf, name] of [[own, foreignId, 'systempfleger'], [nord, ownId, 'systempfleger-nordkreis']]) {
      for (const path of [`/verfahren/${appIdOf}/stufen`, `/verfahren/${appIdOf}/releases`]) {
        const res = await s.page.goto(path);
        assert.equal(res.status(), 404, `${name}: ${path}`);
        assert.doesNotMatch(await s.page.locator('main').innerText(), /Bürgerservice|Sozialhilfe/);
      }
    }
    assert.equal((await own.page.goto('/verfahren/999999/stufen')).status(), 404);
    assert.equal((await own.page.goto('/verfahren/abc/releases')).status(), 404);
    assert.equal((await nord.page.goto(`/verfahren/${foreignId}/stufen`)).status(), 200);

    // A request of Stadt Musterhausen, decided by Kreisverwaltung Nordkreis: 404.
    const dev = await env.open('entwickler');
    const kfz = await appId(dev.page, OTHER);
    const token = await createToken(env, 'entwickler');
    const r = await api(env, token, 'POST', `/applications/${kfz}/releases`,
      { version: '4.0.0', image: pinned('kfz-zulassung', '4.0.0') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await until(async () => {
      await dev.page.goto(`/verfahren/${kfz}/stufen`);
      return (await dev.page.getByRole('button', { name: 'Freigabe für Abnahme beantragen (4.0.0)' }).count()) === 1;
    }, 'Kfz-Zulassung 4.0.0 may be requested into Abnahme');
    await press(dev.page, 'Freigabe für Abnahme beantragen (4.0.0)');
    const promotion = await pendingId(dev.page, 'Abnahme');
    await nord.page.goto('/freigaben');
    const form = { csrf: await csrf(nord.page), zurueck: 'freigaben', reason: 'fremd' };
    for (const action of ['genehmigen', 'ablehnen', 'zurueckziehen']) {
      const res = await nord.page.request.post(`/freigaben/${promotion}/${action}`, { form, maxRedirects: 0 });
      assert.equal(res.status(), 404, `systempfleger-nordkreis: POST /freigaben/${promotion}/${action}`);
    }
    assert.match(await nord.page.getByRole('region', { name: 'Zu entscheiden' }).innerText(), /Nichts zu entscheiden\./);
    await dev.page.goto(`/verfahren/${kfz}/stufen`);
    assert.equal(await pendingId(dev.page, 'Abnahme'), promotion, 'still open');
  });
});
