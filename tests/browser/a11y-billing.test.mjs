// axe-core (WCAG 2.0/2.1 A + AA) on the Abrechnung pages: the month list for
// each role that reads statements, a closed and an open month, a statement
// with its chart (vorläufig) and without changes (endgültig), the Nordkreis
// statement with its base fee, a bad month beside the selector, the budget
// block on the Übersicht and the 403 page for a role without access to money.
// (The theme is pinned to light in base.html, so there is no dark run.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, useKontor } from './portal.mjs';

const env = useKontor({ before, after });

/** The month `date` falls in, in Europe/Berlin, as JJJJ-MM. */
function berlinMonth(date = new Date()) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit',
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}`;
}

/** The month before `month` (JJJJ-MM). */
function previousMonth(month) {
  const [y, m] = month.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

const CURRENT = berlinMonth();
const PREVIOUS = previousMonth(CURRENT);

/** Opens `path`, checks the HTTP status, runs axe. */
async function visit(page, path, status = 200) {
  const res = await page.goto(path);
  assert.equal(res.status(), status, `${path}: HTTP status`);
  await checkA11y(page, `${path} (HTTP ${status})`);
}

/** The address of the first statement listed on /abrechnung?monat=`month`. */
async function firstStatement(page, month) {
  await page.goto(`/abrechnung?monat=${month}`);
  const link = page.locator(`main table a[href^="/abrechnung/${month}/vertrag/"]`).first();
  assert.equal(await link.count(), 1, `no statement listed for ${month}`);
  return link.getAttribute('href');
}

describe('month list per role', () => {
  for (const who of ['finanzen', 'finanzen-rz', 'betreiber']) {
    const session = env.session(who);
    it(`${who}: /abrechnung (current month)`, async () => {
      const { page } = await session();
      await visit(page, '/abrechnung');
      assert.equal(await page.locator('#f-monat').inputValue(), CURRENT);
      assert.ok(await page.locator('main tbody tr').count() > 0, `${who} sees no statement`);
    });
  }
});

describe('Finanzen (Stadt Musterhausen)', () => {
  const finanzen = env.session('finanzen');

  it(`/abrechnung?monat=${PREVIOUS} (closed month)`, async () => {
    const { page } = await finanzen();
    await visit(page, `/abrechnung?monat=${PREVIOUS}`);
    assert.equal(await page.locator('#f-monat').inputValue(), PREVIOUS);
    assert.match(await page.locator('main tbody').innerText(), /endgültig/);
  });

  it('statement of the current month (vorläufig, with chart)', async () => {
    const { page } = await finanzen();
    const href = await firstStatement(page, CURRENT);
    await visit(page, href);
    assert.match(await page.locator('main').innerText(), /vorläufig/);
    assert.equal(await page.locator('main svg.kontor-chart__svg').count(), 1, 'the chart is drawn');
  });

  it('statement of the previous month (endgültig)', async () => {
    const { page } = await finanzen();
    const href = await firstStatement(page, PREVIOUS);
    await visit(page, href);
    assert.match(await page.locator('main').innerText(), /endgültig/);
  });

  it('/abrechnung?monat=2026-13: the reason beside the month selector', async () => {
    const { page } = await finanzen();
    await visit(page, '/abrechnung?monat=2026-13');
    const select = page.locator('#f-monat');
    assert.equal(await select.getAttribute('aria-invalid'), 'true');
    assert.equal(await select.getAttribute('aria-describedby'), 'f-monat-error');
    assert.match(await page.locator('#f-monat-error').innerText(), /„2026-13“ ist kein Monat im Format JJJJ-MM/);
  });

  it('/abrechnung?monat=2099-01: a month that has not begun, beside the selector', async () => {
    const { page } = await finanzen();
    await visit(page, '/abrechnung?monat=2099-01');
    assert.match(await page.locator('#f-monat-error').innerText(), /Januar 2099 .*noch keine Abrechnung/);
  });

  it('400: a statement of month 2026-13', async () => {
    const { page } = await finanzen();
    const href = await firstStatement(page, CURRENT);
    const id = href.split('/').pop();
    await visit(page, `/abrechnung/2026-13/vertrag/${id}`, 400);
    assert.match(await page.locator('main').innerText(), /kein Monat im Format JJJJ-MM/);
  });
});

describe('Systempfleger:in of Kreisverwaltung Nordkreis', () => {
  const nordkreis = env.session('systempfleger-nordkreis');
  it('statement of the current month with the base fee', async () => {
    const { page } = await nordkreis();
    const href = await firstStatement(page, CURRENT);
    await visit(page, href);
    const main = await page.locator('main').innerText();
    assert.match(main, /DLV-2026-0311/);
    assert.match(main, /Grundgebühr\s+150,00 €/);
  });
});

describe('Systempfleger:in of Stadt Musterhausen', () => {
  it('/uebersicht with the budget block', async () => {
    const { page } = await env.open('systempfleger');
    await visit(page, '/uebersicht');
    assert.match(await page.locator('main').innerText(), /Kosten im laufenden Monat/);
  });
});

describe('narrow viewport (360 × 740)', () => {
  const finanzen = env.session('finanzen');
  for (const month of [CURRENT, PREVIOUS]) {
    it(`/abrechnung?monat=${month} and its first statement at 360 px`, async () => {
      const { page } = await finanzen();
      await page.setViewportSize({ width: 360, height: 740 });
      await visit(page, `/abrechnung?monat=${month}`);
      await visit(page, await firstStatement(page, month));
    });
  }
});

describe('Entwickler:in', () => {
  it('403: /abrechnung', async () => {
    const { page } = await env.open('entwickler');
    await visit(page, '/abrechnung', 403);
    assert.equal(await page.locator('h1').innerText(), 'Keine Berechtigung');
  });
});
