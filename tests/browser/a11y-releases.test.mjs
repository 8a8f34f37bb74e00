// axe-core (WCAG 2.0/2.1 A + AA) on the release pages in every state: the
// pipeline (/verfahren/{id}/stufen) empty, with a running release, with a
// pending request as requester and as decider, with the 422 of a rejection
// without a reason, with each notice (beantragt, genehmigt, abgelehnt,
// zurückgezogen, wiederholt), with a failed deployment and its retry button;
// the release list (/verfahren/{id}/releases) empty and with accepted and
// refused deliveries; /freigaben empty, with requests to decide and own
// requests, with the 422; 404 of another customer's pages; the pipeline and
// /freigaben at 360 px.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  api, checkA11y, createToken, fillBooking, follow, press, until, useKontor,
} from './portal.mjs';

const env = useKontor({ before, after });

const APP = 'Bürgerservice-Portal'; // demo bookings in all four stages
const NEW_APP = 'Wohngeld-Rechner'; // created here, nothing booked
const REASON_MISSING = 'Bitte die Ablehnung begründen; die Begründung sehen die Antragstellenden.';

const pinned = (path, seed) => `registry.rz.example/musterhausen/${path}@sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** Opens `path`, checks the HTTP status, runs axe. */
async function visit(page, path, status = 200) {
  const res = await page.goto(path);
  assert.equal(res.status(), status, `${path}: HTTP status`);
  await checkA11y(page, `${path} (HTTP ${status})`);
}

/** The id of a Verfahren, from its link on /uebersicht. */
async function appId(page, name) {
  await page.goto('/uebersicht');
  const href = await page.getByRole('link', { name, exact: true }).getAttribute('href');
  const id = Number(href.match(/^\/verfahren\/(\d+)\/stufen$/)?.[1]);
  assert.ok(id, `link of ${name} on /uebersicht: ${href}`);
  return id;
}

const card = (page, stage) => page.getByRole('region', { name: stage, exact: true });

/** Reloads the pipeline of `id` until `version` "läuft" in `stage`. */
function untilRunning(page, id, stage, version) {
  return until(async () => {
    await page.goto(`/verfahren/${id}/stufen`);
    const text = (await card(page, stage).innerText()).replace(/\s+/g, ' ');
    return text.includes(`Lieferung ${version} läuft`);
  }, `${version} "läuft" in ${stage}`);
}

const notice = (page) => page.getByRole('status').innerText().then((t) => t.trim());

/** At 360 px the page reflows: nothing but the scrollable tables is wider than the viewport. */
async function assertReflows(page, label) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${label}: the page scrolls sideways by ${overflow} px at 360 px`);
}

/** Runs `fn` with the page at 360 × 780 px, then restores the viewport. */
async function narrow(page, fn) {
  const before_ = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 780 });
  try {
    await fn();
  } finally {
    await page.setViewportSize(before_);
  }
}

/** Presses "Ablehnen" (in `scope`) with an empty reason: 422, the message beside the field. */
async function rejectEmpty(page, scope) {
  const res = await follow(page, () => scope.getByRole('button', { name: 'Ablehnen' }).click());
  assert.equal(res.status(), 422, 'a rejection without a reason is re-rendered with 422');
  const field = page.locator('textarea[aria-invalid="true"]');
  assert.equal(await field.count(), 1, 'one reason field marked invalid');
  const describedBy = await field.getAttribute('aria-describedby');
  assert.equal((await page.locator(`[id="${describedBy}"]`).innerText()).trim(), REASON_MISSING);
}

describe('release pages', () => {
  const entwickler = env.session('entwickler');
  const systempfleger = env.session('systempfleger');
  const verantwortliche = env.session('verfahrensverantwortliche');
  let id;
  let token;

  it('/freigaben with nothing to decide and no own requests (also at 360 px)', async () => {
    const { page } = await systempfleger();
    id = await appId(page, APP);
    await visit(page, '/freigaben');
    assert.match(await page.locator('main').innerText(), /Nichts zu entscheiden\.[\s\S]*Keine offenen Anträge\./);
    await narrow(page, async () => {
      await checkA11y(page, '/freigaben, empty, at 360 px');
      await assertReflows(page, '/freigaben, empty');
    });
  });

  it('/verfahren/{id}/stufen with nothing running (also at 360 px)', async () => {
    const { page } = await systempfleger();
    await visit(page, `/verfahren/${id}/stufen`);
    assert.equal(await page.locator('main').getByText('Noch keine Lieferung.').count(), 4);
    await narrow(page, async () => {
      await checkA11y(page, 'empty pipeline at 360 px');
      await assertReflows(page, 'empty pipeline');
    });
  });

  it('/verfahren/{id}/releases with no deliveries', async () => {
    const { page } = await systempfleger();
    await visit(page, `/verfahren/${id}/releases`);
    assert.match(await page.locator('main').innerText(), /Noch keine Lieferungen\./);
  });

  it('/verfahren/{id}/stufen with 1.0.0 running in Vorprüfung, for the Entwickler:in (request button)', async () => {
    const { page } = await entwickler();
    token = await createToken(env, 'entwickler');
    const r = await api(env, token, 'POST', `/applications/${id}/releases`, { version: '1.0.0', image: pinned('buergerservice', '1.0.0') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await untilRunning(page, id, 'Vorprüfung', '1.0.0');
    assert.equal(await page.getByRole('button', { name: 'Freigabe für Abnahme beantragen (1.0.0)' }).count(), 1);
    await checkA11y(page, 'pipeline with a running release (Entwickler:in)');
  });

  it('/verfahren/{id}/stufen after requesting: notice, pending request as requester (withdraw button)', async () => {
    const { page } = await entwickler();
    await press(page, 'Freigabe für Abnahme beantragen (1.0.0)');
    assert.equal(await notice(page), 'Die Freigabe ist beantragt; entscheiden muss eine andere Person.');
    assert.equal(await page.getByRole('button', { name: 'Antrag zurückziehen' }).count(), 1);
    await checkA11y(page, 'pipeline with the "beantragt" notice, as requester');
    await narrow(page, async () => {
      await checkA11y(page, 'pipeline with a pending request, as requester, at 360 px');
      await assertReflows(page, 'pipeline, pending request, requester');
    });
  });

  it('/freigaben with an own open request (Entwickler:in)', async () => {
    const { page } = await entwickler();
    await visit(page, '/freigaben');
    assert.equal(await page.getByRole('region', { name: 'Meine offenen Anträge' }).locator('h3').count(), 1);
  });

  it('/freigaben with nothing to decide for the Verfahrensverantwortliche:r while an Abnahme request waits', async () => {
    const { page } = await verantwortliche();
    await visit(page, '/freigaben');
    assert.match(await page.locator('main').innerText(), /Nichts zu entscheiden\./);
  });

  it('/verfahren/{id}/stufen with a pending request, as decider (approve, reject form; also at 360 px)', async () => {
    const { page } = await systempfleger();
    await visit(page, `/verfahren/${id}/stufen`);
    assert.equal(await page.getByRole('button', { name: 'Genehmigen: 1.0.0 nach Abnahme' }).count(), 1);
    await narrow(page, async () => {
      await checkA11y(page, 'pipeline with a pending request, as decider, at 360 px');
      await assertReflows(page, 'pipeline, pending request, decider');
    });
  });

  it('/verfahren/{id}/stufen: 422 after a rejection without a reason (also at 360 px)', async () => {
    const { page } = await systempfleger();
    await page.goto(`/verfahren/${id}/stufen`);
    await rejectEmpty(page, card(page, 'Abnahme'));
    await checkA11y(page, 'pipeline, 422 of a rejection without a reason');
    await narrow(page, async () => {
      await checkA11y(page, 'pipeline, 422, at 360 px');
      await assertReflows(page, 'pipeline, 422');
    });
  });

  it('/freigaben with a request to decide (also at 360 px)', async () => {
    const { page } = await systempfleger();
    await visit(page, '/freigaben');
    const decide = page.getByRole('region', { name: 'Zu entscheiden' });
    assert.equal(await decide.locator('h3').count(), 1);
    // What the approver checks: Checkup, digest, what it replaces, the stage before.
    const text = await decide.innerText();
    assert.match(text, /Checkup\s+bestanden/);
    assert.match(text, /Image-Digest\s+sha256:[0-9a-f]{12}…/);
    assert.match(text, /Ersetzt in Abnahme\s+nichts – erste Lieferung in dieser Stufe/);
    assert.match(text, /In Vorprüfung\s+läuft seit \d\d\.\d\d\.\d{4} \d\d:\d\d/);
    // The whole digest, opened, wraps inside the card.
    await decide.locator('.kontor-digest summary').click();
    assert.match(await decide.locator('.kontor-digest__full').innerText(), /^sha256:[0-9a-f]{64}$/);
    await checkA11y(page, '/freigaben with the digest opened');
    await narrow(page, async () => {
      await checkA11y(page, '/freigaben with a request, at 360 px');
      await assertReflows(page, '/freigaben with a request');
    });
  });

  it('/freigaben: 422 after a rejection without a reason (also at 360 px)', async () => {
    const { page } = await systempfleger();
    await page.goto('/freigaben');
    await rejectEmpty(page, page.getByRole('region', { name: 'Zu entscheiden' }));
    assert.equal(await page.locator('h1').innerText(), 'Freigaben');
    await checkA11y(page, '/freigaben, 422 of a rejection without a reason');
    await narrow(page, async () => {
      await checkA11y(page, '/freigaben, 422, at 360 px');
      await assertReflows(page, '/freigaben, 422');
    });
  });

  it('/verfahren/{id}/stufen after approval, with the notice; then with 1.0.0 running in Abnahme', async () => {
    const { page } = await systempfleger();
    await page.goto(`/verfahren/${id}/stufen`);
    await press(page, 'Genehmigen: 1.0.0 nach Abnahme');
    // Approving asks first, on a page of its own.
    assert.equal(await page.locator('h1').innerText(), 'Freigabe bestätigen');
    await checkA11y(page, 'approval confirmation from the pipeline');
    await press(page, 'Verbindlich genehmigen: 1.0.0 nach Abnahme');
    assert.equal(await notice(page), 'Die Freigabe ist erteilt; die Bereitstellung läuft.');
    await checkA11y(page, 'pipeline with the "genehmigt" notice');
    await untilRunning(page, id, 'Abnahme', '1.0.0');
    await checkA11y(page, 'pipeline with 1.0.0 in Vorprüfung and Abnahme');
  });

  it('/freigaben with the "genehmigt" notice', async () => {
    const { page } = await entwickler();
    await page.goto(`/verfahren/${id}/stufen`);
    await press(page, 'Freigabe für Schulung beantragen (1.0.0)');
    const sp = (await systempfleger()).page;
    await sp.goto('/freigaben');
    await press(sp, 'Genehmigen: 1.0.0 nach Schulung');
    assert.equal(await sp.locator('h1').innerText(), 'Freigabe bestätigen');
    await checkA11y(sp, 'approval confirmation from /freigaben');
    await press(sp, 'Verbindlich genehmigen: 1.0.0 nach Schulung');
    assert.equal(await notice(sp), 'Die Freigabe ist erteilt; die Bereitstellung läuft.');
    await checkA11y(sp, '/freigaben with the "genehmigt" notice');
  });

  it('/verfahren/{id}/stufen with the "abgelehnt" notice, and the reason in the history', async () => {
    const dev = (await entwickler()).page;
    await untilRunning(dev, id, 'Schulung', '1.0.0');
    await press(dev, 'Freigabe für Produktion beantragen (1.0.0)');
    const { page } = await verantwortliche();
    await page.goto(`/verfahren/${id}/stufen`);
    await card(page, 'Produktion').getByLabel('Begründung der Ablehnung').fill('Die Schulung der Sachbearbeitung läuft noch bis Monatsende.');
    await follow(page, () => card(page, 'Produktion').getByRole('button', { name: 'Ablehnen' }).click());
    assert.equal(await notice(page), 'Der Antrag ist abgelehnt; die Begründung steht in der Historie.');
    await checkA11y(page, 'pipeline with the "abgelehnt" notice');
    await dev.goto(`/verfahren/${id}/stufen`);
    assert.match(await dev.locator('main').innerText(), /Die Schulung der Sachbearbeitung läuft noch bis Monatsende\./);
    await checkA11y(dev, 'pipeline with a rejected request in the history, as requester');
  });

  it('/verfahren/{id}/stufen and /freigaben with the "zurückgezogen" notice', async () => {
    const { page } = await entwickler();
    await page.goto(`/verfahren/${id}/stufen`);
    await press(page, 'Freigabe für Produktion beantragen (1.0.0)');
    await press(page, 'Antrag zurückziehen: 1.0.0 nach Produktion');
    assert.equal(await notice(page), 'Der Antrag ist zurückgezogen.');
    await checkA11y(page, 'pipeline with the "zurückgezogen" notice');
    await press(page, 'Freigabe für Produktion beantragen (1.0.0)');
    await page.goto('/freigaben');
    await press(page, 'Antrag zurückziehen: 1.0.0 nach Produktion');
    assert.equal(await notice(page), 'Der Antrag ist zurückgezogen.');
    await checkA11y(page, '/freigaben with the "zurückgezogen" notice');
  });

  it('/verfahren/{id}/releases with accepted and refused deliveries', async () => {
    const { page } = await entwickler();
    // An image not pinned is a wrong request (422); a registry off the list
    // and a version delivered already are refused by the state of things
    // (409, docs/api.md).
    for (const [version, image, status] of [
      ['1.1.0', 'registry.rz.example/musterhausen/buergerservice:1.1.0', 422],
      ['1.1.1', `ghcr.io/fremd/buergerservice@sha256:${'cd'.repeat(32)}`, 409],
      ['1.0.0', pinned('buergerservice', '1.0.0-again'), 409],
    ]) {
      const r = await api(env, token, 'POST', `/applications/${id}/releases`, { version, image });
      assert.equal(r.status, status, `${version}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.type, 'urn:kontor:problem:checkup-refused');
    }
    const r = await api(env, token, 'POST', `/applications/${id}/releases`, { version: '1.2.0', image: pinned('buergerservice', '1.2.0') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await visit(page, `/verfahren/${id}/releases`);
    const text = await page.locator('main tbody').innerText();
    assert.equal((text.match(/abgelehnt/g) ?? []).length, 3);
    assert.equal((text.match(/bestanden/g) ?? []).length, 2);
    await narrow(page, async () => {
      await checkA11y(page, '/verfahren/{id}/releases at 360 px');
      await assertReflows(page, '/verfahren/{id}/releases');
    });
  });
});

describe('a failed deployment', () => {
  let id;

  it('/verfahren/{id}/stufen with a failed deployment and the retry button (also at 360 px)', async () => {
    const betreiber = (await env.open('betreiber')).page;
    await betreiber.goto('/betrieb/kunden');
    await follow(betreiber, () => betreiber.getByRole('link', { name: 'Stadt Musterhausen' }).click());
    await betreiber.getByLabel('Name des Verfahrens').fill(NEW_APP);
    await betreiber.getByLabel('Kürzel').fill('wohngeld');
    await press(betreiber, 'Verfahren anlegen');

    const { page } = await env.open('entwickler');
    id = await appId(page, NEW_APP);
    const token = await createToken(env, 'entwickler');
    const r = await api(env, token, 'POST', `/applications/${id}/releases`, { version: '0.1.0', image: pinned('wohngeld', '0.1.0') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await visit(page, `/verfahren/${id}/stufen`);
    assert.match(await card(page, 'Vorprüfung').innerText(), /fehlgeschlagen[\s\S]*In dieser Stufe ist nichts gebucht/);
    assert.equal(await page.getByRole('button', { name: 'Bereitstellung wiederholen' }).count(), 1);
    await narrow(page, async () => {
      await checkA11y(page, 'pipeline with a failed deployment at 360 px');
      await assertReflows(page, 'pipeline with a failed deployment');
    });
  });

  it('/verfahren/{id}/stufen with the "wiederholt" notice', async () => {
    const sp = (await env.open('systempfleger')).page;
    await sp.goto('/katalog');
    await fillBooking(sp, { application: NEW_APP, stage: 'Vorprüfung', product: 'Container-Namespace', size: 'S' });
    await press(sp, 'Weiter zur Bestätigung');
    await press(sp, 'Verbindlich buchen');
    await sp.goto(`/verfahren/${id}/stufen`);
    await press(sp, 'Bereitstellung wiederholen');
    assert.equal(await notice(sp), 'Die Bereitstellung wird wiederholt.');
    await checkA11y(sp, 'pipeline with the "wiederholt" notice');
    await untilRunning(sp, id, 'Vorprüfung', '0.1.0');
    await checkA11y(sp, 'pipeline after the retry: running, with a failure in the history');
  });
});

describe('another customer', () => {
  it('404 for /verfahren/{id}/stufen and /verfahren/{id}/releases', async () => {
    const own = (await env.open('systempfleger')).page;
    const id = await appId(own, APP);
    const { page } = await env.open('systempfleger-nordkreis');
    await visit(page, `/verfahren/${id}/stufen`, 404);
    await visit(page, `/verfahren/${id}/releases`, 404);
  });
});
