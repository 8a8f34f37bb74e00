// Layout checks for Kontor's browser tests: a page must hold up on a phone
// (320 CSS px, WCAG 1.4.10 reflow), on a desktop (1280 px) and with the text
// at 200 % (WCAG 1.4.4: KERN sizes its type in rem, so a root font size of
// 200 % is what a person's text zoom does). For each of these layouts, on the
// page as it is (no reload):
//
// - the document never scrolls sideways (a table may scroll inside its own
//   box with overflow-x: auto; the page may not);
// - no two pieces of visible text overlap (screen-reader-only text and the
//   part of a scroll box that is scrolled out of view do not count);
// - no text is cut off by a box that hides its overflow, no control's text
//   (button, link, label, summary, badge) sticks out of the control, no
//   button is narrower than its content, and no caption of a scrolling
//   table runs on past what can be seen of it;
// - no text is rendered smaller than MIN_TEXT_PX (e.g. an SVG chart scaled
//   down on a phone).
//
// checkA11y() in portal.mjs calls checkLayout() after axe, so every page the
// accessibility suites visit is checked for the role that is logged in.
// The page at 320 and at 1280 px is also written as a PNG to the gallery
// (not committed): target/screenshots/gallery/<role>/<page>-<width>.png, or
// the folder in KONTOR_GALLERY_DIR. KONTOR_GALLERY=0 skips the screenshots,
// KONTOR_GALLERY=all adds the 200 % text ones (<page>-1280-text200.png;
// they are the tallest pages, and encoding them costs more test time than
// all the checks).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const GALLERY = resolve(process.env.KONTOR_GALLERY_DIR || join(here, '../../target/screenshots/gallery'));
const SHOOT = process.env.KONTOR_GALLERY !== '0';
const SHOOT_ALL = process.env.KONTOR_GALLERY === 'all';

/**
 * The layouts every page is checked in (height only matters for the
 * screenshot; `shot`: written to the gallery by default).
 */
export const LAYOUTS = [
  { name: '320', width: 320, height: 740, textZoom: 1, shot: true },
  { name: '1280', width: 1280, height: 800, textZoom: 1, shot: true },
  { name: '1280-text200', width: 1280, height: 800, textZoom: 2, shot: false },
];

/** Smallest font size (CSS px, after SVG scaling) a text may be shown in. */
export const MIN_TEXT_PX = 10;

/** At most this many findings of one kind are listed per layout. */
const LIST = 8;

/** A file name for a page label: "/buchungen/1 (HTTP 200)" → "buchungen-1". */
export function slug(label) {
  return label
    .replace(/\s*\(HTTP 200\)/g, '')
    .toLowerCase()
    .replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 90) || 'seite';
}

/**
 * Runs in the page: measures the layout as it is now and returns what is
 * wrong ({ scroll, client, wide[], overlaps[], clipped[], tiny[] }).
 */
function inspect({ minTextPx, list }) {
  const doc = document.documentElement;
  const viewport = doc.clientWidth;
  const SKIP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'TITLE', 'SELECT', 'OPTION',
    'OPTGROUP', 'TEXTAREA', 'DATALIST', 'HEAD']);
  const CONTROL = 'button, a, label, summary, .kern-btn, .kern-badge, .kern-link';

  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += `#${el.id}`;
    const cls = [...el.classList].slice(0, 2);
    if (cls.length) s += `.${cls.join('.')}`;
    return s;
  };
  const snippet = (text) => {
    const t = text.replace(/\s+/g, ' ').trim();
    return t.length > 50 ? `${t.slice(0, 47)}…` : t;
  };

  // Screen-reader-only (KERN's kern-sr-only: clip rect(0 0 0 0), 1 × 1 px),
  // or not rendered at all.
  const hiddenCache = new Map();
  const hidden = (el) => {
    if (!el || el === doc) return false;
    if (hiddenCache.has(el)) return hiddenCache.get(el);
    let result = SKIP.has(el.tagName);
    if (!result) {
      const cs = getComputedStyle(el);
      if (cs.display === 'none' || cs.clip === 'rect(0px, 0px, 0px, 0px)' || /inset\(50%\)/.test(cs.clipPath)) {
        result = true;
      } else if (cs.overflow !== 'visible') {
        const r = el.getBoundingClientRect();
        result = r.width <= 1 && r.height <= 1;
      }
      if (!result) result = hidden(el.parentElement);
    }
    hiddenCache.set(el, result);
    return result;
  };

  // The boxes that cut off what an element shows: the element itself and
  // each box up its chain of containing blocks whose overflow is not visible
  // (html and body scroll the viewport instead). An absolutely positioned
  // element escapes the boxes between it and its positioned ancestor.
  const clipCache = new Map();
  const clippers = (el) => {
    if (!el || el === doc || el === document.body) return [];
    if (clipCache.has(el)) return clipCache.get(el);
    const own = [];
    const cs = getComputedStyle(el);
    let next = el.parentElement;
    if (cs.position === 'fixed') next = null;
    if (cs.position === 'absolute') {
      while (next && next !== document.body) {
        const ns = getComputedStyle(next);
        if (ns.position !== 'static' || ns.transform !== 'none' || ns.contain !== 'none') break;
        next = next.parentElement;
      }
    }
    if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') {
      const r = el.getBoundingClientRect();
      const left = r.left + el.clientLeft;
      const top = r.top + el.clientTop;
      own.push({
        el,
        scrolls: /auto|scroll/.test(cs.overflowX) || /auto|scroll/.test(cs.overflowY),
        box: { left, top, right: left + el.clientWidth, bottom: top + el.clientHeight },
      });
    }
    const result = own.concat(clippers(next));
    clipCache.set(el, result);
    return result;
  };
  const intersect = (a, b) => ({
    left: Math.max(a.left, b.left),
    top: Math.max(a.top, b.top),
    right: Math.min(a.right, b.right),
    bottom: Math.min(a.bottom, b.bottom),
  });

  const texts = [];
  const clipped = [];
  const tiny = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const value = node.nodeValue;
    const first = value.search(/\S/);
    if (first < 0) continue;
    const parent = node.parentElement;
    if (!parent || hidden(parent)) continue;
    if (!parent.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const text = snippet(value);

    let rects;
    let fontPx = parseFloat(getComputedStyle(parent).fontSize);
    if (parent instanceof SVGElement) {
      // Range rects are unreliable inside SVG: take the text element's box,
      // and its size as drawn (the viewBox scales the font, too).
      rects = [parent.getBoundingClientRect()];
      const m = parent.getScreenCTM();
      if (m) fontPx *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    } else {
      const last = value.length - value.match(/\s*$/)[0].length;
      range.setStart(node, first);
      range.setEnd(node, last);
      rects = [...range.getClientRects()];
    }
    rects = rects.filter((r) => r.width > 0.5 && r.height > 0.5);
    if (rects.length === 0) continue;
    if (fontPx < minTextPx) tiny.push({ text, where: describe(parent), px: Math.round(fontPx * 10) / 10 });

    const clips = clippers(parent);
    const control = parent.closest(CONTROL);
    const controlBox = control && !hidden(control) ? control.getBoundingClientRect() : null;
    let cut = null;
    for (const r of rects) {
      // Cut off by a box that hides its overflow (a scroll box shows the
      // rest when scrolled, so it does not count here).
      for (const c of clips) {
        if (c.scrolls) continue;
        if (r.left < c.box.left - 1 || r.right > c.box.right + 1 || r.top < c.box.top - 1 || r.bottom > c.box.bottom + 1) {
          cut ??= { box: c.el, width: Math.round(c.box.right - c.box.left), need: Math.round(r.width) };
        }
      }
      if (controlBox && (r.left < controlBox.left - 1 || r.right > controlBox.right + 1
        || r.top < controlBox.top - 1 || r.bottom > controlBox.bottom + 1)) {
        cut ??= { box: control, width: Math.round(controlBox.width), need: Math.round(r.width), spills: true };
      }
      // What can be seen of it: inside every clipping box.
      let seen = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      for (const c of clips) seen = intersect(seen, c.box);
      if (seen.right - seen.left > 0.5 && seen.bottom - seen.top > 0.5) {
        texts.push({ node: texts.length, id: node, text, where: describe(parent), ...seen, h: r.height });
      }
    }
    if (cut) {
      clipped.push({
        text,
        where: describe(cut.box),
        how: cut.spills
          ? `sticks out of its ${cut.width} px wide control (text ${cut.need} px)`
          : `cut off by a ${cut.width} px wide box with hidden overflow (text ${cut.need} px)`,
      });
    }
  }

  // A button narrower than what it holds (its text may still be drawn, over
  // its neighbours).
  for (const el of document.querySelectorAll('button, .kern-btn, summary')) {
    if (hidden(el) || !el.checkVisibility()) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      clipped.push({
        text: snippet(el.innerText),
        where: describe(el),
        how: `is ${el.clientWidth} px wide, narrower than its content (${el.scrollWidth} px)`,
      });
    }
  }

  // A scrolling table's caption says what the table is and must be readable
  // without scrolling: a caption is as wide as its table, so a long one ran
  // on into the part scrolled out of view ("Abrechnungen November 202").
  for (const caption of document.querySelectorAll('caption')) {
    if (hidden(caption) || !caption.checkVisibility()) continue;
    const scroller = clippers(caption).find((c) => c.scrolls);
    if (!scroller) continue;
    range.selectNodeContents(caption);
    const runsOn = [...range.getClientRects()].some((r) => r.width > 0.5 && r.right > scroller.box.right + 1);
    if (runsOn) {
      clipped.push({
        text: snippet(caption.innerText),
        where: describe(caption),
        how: `runs on past the visible ${Math.round(scroller.box.right - scroller.box.left)} px of its table's scroll box`,
      });
    }
  }

  // Overlapping text: sweep the line boxes from top to bottom. Lines of one
  // paragraph may touch (font ascent + descent can exceed the line height),
  // so an overlap counts when it is more than 2 px wide and more than 30 %
  // of the lower line's height.
  texts.sort((a, b) => a.top - b.top);
  const overlaps = [];
  const pairs = new Set();
  for (let i = 0; i < texts.length && overlaps.length < list; i += 1) {
    const a = texts[i];
    for (let j = i + 1; j < texts.length && texts[j].top < a.bottom; j += 1) {
      const b = texts[j];
      if (a.id === b.id) continue;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 0.3 * Math.min(a.h, b.h)) {
        const key = [a.text, b.text].join('\u0000');
        if (pairs.has(key)) continue;
        pairs.add(key);
        overlaps.push({ a: a.text, aWhere: a.where, b: b.text, bWhere: b.where, w: Math.round(w), h: Math.round(h) });
        if (overlaps.length >= list) break;
      }
    }
  }

  // The elements that make the page wider than the viewport: those sticking
  // out whose parent does not (the first to stick out on each branch),
  // outside any clipping box.
  const wide = [];
  if (doc.scrollWidth > viewport) {
    for (const el of document.body.querySelectorAll('*')) {
      if (wide.length >= list) break;
      const r = el.getBoundingClientRect();
      if (r.right <= viewport + 0.5 && r.left >= -0.5) continue;
      if (clippers(el).some((c) => c.el !== el)) continue;
      const p = el.parentElement.getBoundingClientRect();
      if (el.parentElement !== document.body && (p.right > viewport + 0.5 || p.left < -0.5)) continue;
      wide.push(`${describe(el)} "${snippet(el.textContent || '')}" (${Math.round(r.left)}…${Math.round(r.right)} px)`);
    }
  }

  return {
    scroll: doc.scrollWidth,
    client: viewport,
    wide,
    overlaps,
    clipped: clipped.slice(0, list),
    tiny: tiny.slice(0, list),
  };
}

/** Readable lines for what inspect() found in one layout ([] when all holds). */
function problems(found, where) {
  const lines = [];
  if (found.scroll > found.client) {
    lines.push(`${where}: the page scrolls sideways: ${found.scroll} px wide in a ${found.client} px viewport`);
    for (const w of found.wide) lines.push(`    sticks out: ${w}`);
  }
  for (const o of found.overlaps) {
    lines.push(`${where}: text overlaps text (${o.w} × ${o.h} px): "${o.a}" (${o.aWhere}) and "${o.b}" (${o.bWhere})`);
  }
  for (const c of found.clipped) lines.push(`${where}: text "${c.text}" in ${c.where} ${c.how}`);
  for (const t of found.tiny) lines.push(`${where}: text "${t.text}" (${t.where}) shown at ${t.px} px, under ${MIN_TEXT_PX} px`);
  // The same finding on several elements (e.g. one button per table row) once.
  const counts = new Map();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} (× ${n})` : l));
}

/**
 * Checks the current page in every layout of LAYOUTS (see the top of this
 * file) and writes its screenshots; restores the viewport and text size the
 * page had, so a test can go on with it. `label` names the page and state,
 * `role` the person looking (the gallery's folder); `screenshots: false`
 * writes none.
 */
export async function checkLayout(page, label, role = 'anonym', { screenshots = SHOOT } = {}) {
  const viewport = page.viewportSize();
  const lines = [];
  try {
    for (const layout of LAYOUTS) {
      await page.setViewportSize({ width: layout.width, height: layout.height });
      await page.evaluate((zoom) => {
        if (zoom === 1) document.documentElement.style.removeProperty('font-size');
        else document.documentElement.style.fontSize = `${zoom * 100}%`;
      }, layout.textZoom);
      const found = await page.evaluate(inspect, { minTextPx: MIN_TEXT_PX, list: LIST });
      lines.push(...problems(found, `${label} [${role}, ${layout.name}]`));
      if (screenshots && (layout.shot || SHOOT_ALL)) {
        const name = label.startsWith(`${role} `) ? label.slice(role.length + 1) : label;
        const path = join(GALLERY, slug(role), `${slug(name)}-${layout.name}.png`);
        mkdirSync(dirname(path), { recursive: true });
        await page.screenshot({ path, fullPage: true });
      }
    }
  } finally {
    await page.evaluate(() => {
      document.documentElement.style.removeProperty('font-size');
      if (!document.documentElement.getAttribute('style')) document.documentElement.removeAttribute('style');
    });
    if (viewport) await page.setViewportSize(viewport);
  }
  assert.equal(lines.length, 0, `layout of ${label} (${role}):\n${lines.join('\n')}`);
}
