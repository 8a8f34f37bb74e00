// The Abrechnung pages in a real browser: Finanzen's journey to a closed
// month's statement and its CSV download (keyboard for the month selector),
// the chart against its data table, and who sees the pages and the download
// links.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { follow, useKontor } from './portal.mjs';

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

/** Cents from a German amount: "1.234,56 €" → 123456, "-0,50 €" → -50. */
function cents(text) {
  const m = text.trim().replace(/\u00a0/g, ' ').match(/^(-?)([\d.]+),(\d{2})\s*€$/);
  assert.ok(m, `not a German euro amount: "${text}"`);
  const value = Number(m[2].replace(/\./g, '')) * 100 + Number(m[3]);
  return m[1] ? -value : value;
}

/** Cents from a CSV amount with a decimal comma and no thousands separator: "1234,56". */
function csvCents(text) {
  const m = text.match(/^(-?)(\d+),(\d{2})$/);
  assert.ok(m, `not a CSV amount with decimal comma: "${text}"`);
  const value = Number(m[2]) * 100 + Number(m[3]);
  return m[1] ? -value : value;
}

/** Parses CSV text (quotes per RFC 4180) into rows of fields. */
function parseCsv(text, delimiter) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 1; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** The value beside a <dt> of a KERN description list. */
function described(page, key) {
  return page.locator('.kern-description-list-item', {
    has: page.locator('dt', { hasText: new RegExp(`^${key}$`) }),
  }).locator('dd');
}

/** The main navigation's links, by visible text. */
async function navLinks(page) {
  return page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link').allInnerTexts();
}

/** The address of the first statement listed on /abrechnung?monat=`month`. */
async function firstStatement(page, month) {
  await page.goto(`/abrechnung?monat=${month}`);
  const link = page.locator(`main table a[href^="/abrechnung/${month}/vertrag/"]`).first();
  assert.equal(await link.count(), 1, `no statement listed for ${month}`);
  return link.getAttribute('href');
}

describe('Finanzen: from the navigation to a closed month\'s statement and its CSV', () => {
  it('picks the previous month by keyboard, checks the sum and downloads the CSV', async () => {
    const { page, assertNoCsp } = await env.open('finanzen');

    // The main navigation leads to the month list.
    const nav = page.getByRole('navigation', { name: 'Hauptnavigation' });
    await follow(page, () => nav.getByRole('link', { name: 'Abrechnung', exact: true }).click());
    assert.equal(new URL(page.url()).pathname, '/abrechnung');
    assert.equal(await nav.getByRole('link', { name: 'Abrechnung', exact: true }).getAttribute('aria-current'), 'page');
    const select = page.getByLabel('Abrechnungsmonat');
    assert.equal(await select.inputValue(), CURRENT, 'the current month is preselected');

    // Keyboard: focus the select, move to the previous month with the
    // arrow keys (newest first, so it is the next option down), Tab to
    // "Anzeigen" and press Enter.
    await select.focus();
    for (let i = 0; i < 3 && (await select.inputValue()) !== PREVIOUS; i += 1) {
      await page.keyboard.press('ArrowDown');
    }
    assert.equal(await select.inputValue(), PREVIOUS, 'ArrowDown on the select picks the previous month');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
      tag: document.activeElement.tagName.toLowerCase(),
      text: document.activeElement.innerText.trim(),
    }));
    assert.deepEqual(focused, { tag: 'button', text: 'Anzeigen' }, 'Tab after the select reaches "Anzeigen"');
    const listed = await follow(page, () => page.keyboard.press('Enter'));
    assert.equal(listed.status(), 200);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/abrechnung');
    assert.equal(url.searchParams.get('monat'), PREVIOUS);
    assert.equal(await page.getByLabel('Abrechnungsmonat').inputValue(), PREVIOUS);

    // Only the own contract, and it is final.
    const rows = page.locator('main table tbody tr');
    assert.equal(await rows.count(), 1, 'Finanzen of Musterhausen sees one contract');
    assert.match(await rows.first().innerText(), /DLV-2026-0042[\s\S]*Stadt Musterhausen[\s\S]*endgültig/);
    const listedTotal = cents(await rows.first().locator('td').nth(3).innerText());

    // The statement.
    await follow(page, () => page.getByRole('link', { name: 'DLV-2026-0042', exact: true }).click());
    assert.match(new URL(page.url()).pathname, new RegExp(`^/abrechnung/${PREVIOUS}/vertrag/\\d+$`));
    assert.match(await page.locator('h1').innerText(), /^Abrechnung /);
    assert.match(await page.locator('main hgroup .kern-subline').innerText(), /DLV-2026-0042 · Stadt Musterhausen/);
    const status = page.locator('main .kern-badge').first();
    assert.equal((await status.innerText()).trim(), 'endgültig');
    assert.doesNotMatch(await page.locator('main').innerText(), /vorläufig/);

    // The sum equals the sum of the line items shown (last column).
    const positions = page.locator('table', { has: page.locator('caption', { hasText: /^Positionen / }) });
    const amounts = await positions.locator('tbody tr td:last-child').allInnerTexts();
    assert.ok(amounts.length > 0, 'the statement has line items');
    const sumOfLines = amounts.map(cents).reduce((a, b) => a + b, 0);
    const footer = cents(await positions.locator('tfoot td').last().innerText());
    const summe = cents(await described(page, 'Summe').innerText());
    assert.equal(footer, sumOfLines, 'table footer = sum of the line items');
    assert.equal(summe, sumOfLines, '"Summe" = sum of the line items');
    assert.equal(listedTotal, sumOfLines, 'the month list shows the same amount');

    // The CSV, downloaded through the link.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'CSV für Tabellenkalkulation (Semikolon, Dezimalkomma)' }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`^abrechnung-DLV-2026-0042-${PREVIOUS}\\.csv$`));
    assert.equal(await download.failure(), null, 'the download completed');
    const bytes = await readFile(await download.path());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the file starts with the UTF-8 BOM');
    const text = bytes.subarray(3).toString('utf8');
    assert.ok(text.endsWith('\r\n'), 'lines end with CRLF');
    const [header, ...data] = parseCsv(text, ';');
    assert.equal(header[0], 'Vertragsnummer');
    const col = (name) => {
      const i = header.indexOf(name);
      assert.ok(i >= 0, `no column "${name}" in ${header.join(';')}`);
      return i;
    };
    assert.equal(data.length, amounts.length, 'one CSV row per line item on the page');
    for (const [i, row] of data.entries()) {
      assert.equal(row.length, header.length, `row ${i + 1} has as many fields as the header`);
      assert.equal(row[col('Vertragsnummer')], 'DLV-2026-0042', `row ${i + 1}: contract number`);
      assert.equal(row[col('Monat')], PREVIOUS, `row ${i + 1}: month`);
      assert.equal(row[col('Status')], 'endgültig', `row ${i + 1}: status`);
    }
    const csvSum = data.map((r) => csvCents(r[col('Betrag (EUR)')])).reduce((a, b) => a + b, 0);
    assert.equal(csvSum, sumOfLines, 'the CSV amounts add up to the statement\'s sum');
    assertNoCsp();
  });
});

describe('the chart of the current month', () => {
  it('is an image with a name and a description, and matches the table "Tageswerte"', async () => {
    const { page, assertNoCsp } = await env.open('finanzen');
    await page.goto(await firstStatement(page, CURRENT));
    assert.match(await page.locator('main').innerText(), /vorläufig/);

    const svg = page.locator('main svg.kontor-chart__svg');
    assert.equal(await svg.count(), 1, 'one chart on the statement');
    assert.equal(await svg.getAttribute('role'), 'img');
    // The accessible name comes from aria-labelledby, whose ids all exist.
    const ids = (await svg.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
    assert.ok(ids.length > 0, 'the chart has aria-labelledby');
    for (const id of ids) {
      const text = await page.locator(`[id="${id}"]`).textContent();
      assert.ok(text && text.trim(), `aria-labelledby points at #${id}, which must exist and hold text`);
    }
    const img = page.getByRole('img', { name: /Tägliche Kosten je Stufe/ });
    assert.equal(await img.count(), 1, 'the chart is found by role img and its name');
    const desc = svg.locator('desc');
    assert.equal(await desc.count(), 1, 'the chart has a <desc>');
    assert.ok((await desc.textContent()).trim().length > 0, 'the <desc> is not empty');

    // Stacked bar segments: one rect per day and stage with cost, each with
    // a title "dd.mm.: Stufe 1,23 €".
    const rects = svg.locator('rect[class*="kontor-chart__stage-"]');
    const segmentCount = await rects.count();
    assert.ok(segmentCount > 0, 'the chart draws bars in the current month');
    const titles = await rects.locator('title').allTextContents();
    assert.equal(titles.length, segmentCount, 'every bar segment has a title');

    // The data table: one row per day with cost.
    const table = page.locator('table', { has: page.locator('caption', { hasText: /^Tageswerte$/ }) });
    assert.equal(await table.count(), 1, 'the table "Tageswerte" is there');
    const stages = (await table.locator('thead th').allInnerTexts()).slice(1, -1).map((s) => s.trim());
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      day: tr.querySelector('th').textContent.trim(),
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
    })));
    const byDay = new Map(rows.map((r) => [r.day.slice(0, 6), r])); // "dd.mm."
    assert.equal(byDay.size, rows.length, 'one row per day');
    for (const r of rows) {
      assert.ok(cents(r.cells.at(-1)) > 0, `${r.day}: a row in "Tageswerte" has a cost`);
      const stageSum = r.cells.slice(0, -1).map(cents).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(stageSum - cents(r.cells.at(-1))) <= 2, `${r.day}: stages add up to the day's sum`);
    }
    const barDays = new Set();
    for (const title of titles) {
      const m = title.trim().match(/^(\d\d\.\d\d\.): (.+) (-?[\d.]+,\d\d\s€)$/);
      assert.ok(m, `bar title "${title}" reads "dd.mm.: Stufe Betrag"`);
      const [, day, stage, amount] = m;
      barDays.add(day);
      const row = byDay.get(day);
      assert.ok(row, `the day ${day} has a bar but no row in "Tageswerte"`);
      const i = stages.indexOf(stage);
      assert.ok(i >= 0, `stage "${stage}" is a column of "Tageswerte"`);
      assert.equal(cents(row.cells[i]), cents(amount), `${day} ${stage}: bar and table agree`);
    }
    assert.deepEqual([...byDay.keys()].sort(), [...barDays].sort(),
      'every day with cost in "Tageswerte" has a bar, and every bar a row');
    // The demo bookings run all month, so the month so far has a row for
    // each day up to today.
    const [y, mo] = CURRENT.split('-');
    const today = Number(new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', day: 'numeric' }).format(new Date()));
    const expected = Array.from({ length: today }, (_, d) => `${String(d + 1).padStart(2, '0')}.${mo}.`);
    assert.deepEqual([...byDay.keys()], expected, `"Tageswerte" covers 01.${mo}.${y} to today, in order`);

    // The legend names all four stages.
    const legend = await page.getByRole('list', { name: 'Legende' }).innerText();
    for (const s of stages) assert.match(legend, new RegExp(s));
    assertNoCsp();
  });
});

describe('who sees the Abrechnung', () => {
  it('Entwickler:in: no "Abrechnung" in the navigation, 403 on the pages', async () => {
    const { page, assertNoCsp } = await env.open('entwickler');
    await page.goto('/uebersicht');
    const links = await navLinks(page);
    assert.ok(links.length > 0, 'the main navigation has links');
    assert.ok(!links.some((l) => /Abrechnung/.test(l)), `no Abrechnung link, got: ${links.join(', ')}`);
    assert.equal(await page.locator('a[href^="/abrechnung"]').count(), 0, 'no link to /abrechnung anywhere');
    assert.doesNotMatch(await page.locator('main').innerText(), /Kosten im laufenden Monat/);

    let res = await page.goto('/abrechnung');
    assert.equal(res.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'Keine Berechtigung');
    assert.match(await page.getByRole('alert').innerText(), /Ihre Rolle erlaubt diese Aktion nicht/);
    res = await page.goto(`/abrechnung/${CURRENT}/vertrag/1`);
    assert.equal(res.status(), 403, 'a statement of the own customer\'s contract is 403 for Entwickler');
    res = await page.request.get(`/abrechnung/${CURRENT}/vertrag/1/csv`);
    assert.equal(res.status(), 403, 'and so is its CSV');
    assertNoCsp();
  });

  it('Systempfleger:in: reads the statement, but has no CSV download links', async () => {
    const { page, assertNoCsp } = await env.open('systempfleger');
    await page.goto('/uebersicht');
    assert.ok((await navLinks(page)).includes('Abrechnung'), 'the navigation has "Abrechnung"');
    assert.match(await page.locator('main').innerText(), /Kosten im laufenden Monat/);

    const href = await firstStatement(page, CURRENT);
    assert.equal(await page.locator('main a[href*="/csv"]').count(), 0, 'no CSV link on the month list');
    assert.equal(await page.getByRole('heading', { name: /Export/ }).count(), 0, 'no export section on the month list');
    const res = await page.goto(href);
    assert.equal(res.status(), 200);
    assert.match(await page.locator('main hgroup .kern-subline').innerText(), /DLV-2026-0042/);
    assert.ok(await page.locator('table', { has: page.locator('caption', { hasText: /^Positionen / }) }).count(),
      'the statement shows its line items');
    assert.equal(await page.locator('a[href*="/csv"]').count(), 0, 'no CSV link on the statement');
    assert.equal(await page.getByRole('heading', { name: /Export/ }).count(), 0, 'no export section on the statement');
    const csv = await page.request.get(`${href}/csv`);
    assert.equal(csv.status(), 403, 'the CSV itself is refused, too');
    assertNoCsp();
  });

  it('Finanzen and Betreiber: CSV download links on the list and the statement', async () => {
    for (const who of ['finanzen', 'betreiber']) {
      const { page } = await env.open(who);
      const href = await firstStatement(page, CURRENT);
      assert.equal(await page.locator(`main a[href="/abrechnung/${CURRENT}/csv"]`).count(), 1, `${who}: month CSV link`);
      await page.goto(href);
      assert.equal(await page.locator(`main a[href="${href}/csv"]`).count(), 1, `${who}: statement CSV link`);
      assert.equal(await page.locator(`main a[href="${href}/csv?format=rfc4180"]`).count(), 1,
        `${who}: statement RFC 4180 link`);
    }
  });
});
