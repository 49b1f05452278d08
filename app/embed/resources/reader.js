/* reader.js: finds the article in a page, for reader mode.
 *
 * Runs in an isolated script world (the page's own scripts cannot see or
 * change it).  The page is scored the usual way: every paragraph of real
 * text gives points to its parent and, less, to its grandparents; link-heavy
 * blocks and ones named like navigation, comments or ads lose points.  The
 * winner's content is rebuilt from a short list of harmless elements and
 * attributes, so nothing active comes along.
 *
 * CB_READER_MODE is "check" (is this page an article?) or "extract".
 * Returns a JSON string, or null when there is no article. */
(function (mode) {
  'use strict';

  const MIN_ARTICLE_CHARS = 500;
  const MIN_PARAGRAPHS = 3;
  const BAD = /comment|discuss|sidebar|footer|footnote|masthead|menu|nav|related|share|social|sponsor|promo|advert|ad-|banner|popup|cookie|newsletter|subscribe/;
  const GOOD = /article|content|post|story|entry|main|body|text|blog/;
  const KEEP = {
    P: [], H1: [], H2: [], H3: [], H4: [], H5: [], H6: [], BLOCKQUOTE: [], PRE: [], CODE: [],
    UL: [], OL: [], LI: [], DL: [], DT: [], DD: [], EM: [], STRONG: [], B: [], I: [], U: [],
    S: [], SUB: [], SUP: [], SMALL: [], MARK: [], BR: [], HR: [], A: ['href', 'title'],
    IMG: ['src', 'alt', 'title'], FIGURE: [], FIGCAPTION: [], TABLE: [], THEAD: [], TBODY: [],
    TR: [], TH: ['colspan', 'rowspan'], TD: ['colspan', 'rowspan'], CAPTION: [], ABBR: ['title'],
    TIME: ['datetime'], Q: [], CITE: [], DEL: [], INS: [], KBD: [], SAMP: [], VAR: [],
  };
  /* Containers whose children are kept, themselves dropped. */
  const UNWRAP = { DIV: 1, SPAN: 1, SECTION: 1, ARTICLE: 1, MAIN: 1, HEADER: 1, CENTER: 1,
                   FONT: 1, PICTURE: 1 };

  function text(el) {
    return (el.textContent || '').replace(/\s+/g, ' ').trim();
  }

  function hint(el) {
    return ((typeof el.className === 'string' ? el.className : '') + ' ' + (el.id || '')).toLowerCase();
  }

  function linkDensity(el) {
    const all = text(el).length || 1;
    let links = 0;
    for (const a of el.querySelectorAll('a'))
      links += text(a).length;
    return links / all;
  }

  function hidden(el) {
    const style = window.getComputedStyle(el);
    return style && (style.display === 'none' || style.visibility === 'hidden');
  }

  function score() {
    const scores = new Map();
    let paragraphs = 0;

    for (const p of document.body ? document.body.querySelectorAll('p, pre, blockquote, li') : []) {
      const t = text(p);
      if (t.length < 40 || hidden(p))
        continue;
      if (p.tagName === 'P')
        paragraphs++;
      const points = 1 + Math.min(Math.floor(t.length / 100), 3) + t.split(',').length - 1;
      let parent = p.parentElement;
      for (let level = 0; parent && level < 3; level++, parent = parent.parentElement)
        scores.set(parent, (scores.get(parent) || 0) + points / (level === 0 ? 1 : level * 2));
    }

    let best = null, bestScore = 0;
    for (const [el, s] of scores) {
      let value = s * (1 - linkDensity(el));
      const h = hint(el);
      if (BAD.test(h) && !GOOD.test(h))
        value *= 0.2;
      else if (GOOD.test(h))
        value *= 1.25;
      if (el.tagName === 'ARTICLE' || el.tagName === 'MAIN')
        value *= 1.5;
      if (value > bestScore) {
        best = el;
        bestScore = value;
      }
    }
    return { best, paragraphs };
  }

  function safeUrl(value) {
    try {
      const url = new URL(value, document.baseURI);
      return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'data:' &&
             url.href.startsWith('data:image/') ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function rebuild(node, into) {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        into.appendChild(document.createTextNode(child.textContent));
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE || hidden(child))
        continue;
      const tag = child.tagName;
      if (KEEP[tag] === undefined) {
        if (UNWRAP[tag] && !(BAD.test(hint(child)) && !GOOD.test(hint(child))))
          rebuild(child, into);
        continue;
      }
      const copy = document.createElement(tag.toLowerCase());
      for (const name of KEEP[tag]) {
        let value = child.getAttribute(name);
        if (value === null)
          continue;
        if (name === 'href' || name === 'src') {
          value = safeUrl(name === 'src' && child.currentSrc ? child.currentSrc : value);
          if (value === null)
            continue;
        }
        copy.setAttribute(name, value);
      }
      if (tag === 'IMG' && !copy.hasAttribute('src'))
        continue;
      rebuild(child, copy);
      into.appendChild(copy);
    }
  }

  function meta(names) {
    for (const name of names) {
      const el = document.querySelector('meta[name="' + name + '"], meta[property="' + name + '"]');
      if (el && el.content && el.content.trim())
        return el.content.trim();
    }
    return '';
  }

  const { best, paragraphs } = score();
  if (!best)
    return mode === 'check' ? JSON.stringify({ readerable: false }) : null;
  const length = text(best).length;
  const readerable = length >= MIN_ARTICLE_CHARS && paragraphs >= MIN_PARAGRAPHS;
  if (mode === 'check')
    return JSON.stringify({ readerable, length });
  if (!readerable)
    return null;

  const container = document.createElement('div');
  rebuild(best, container);
  /* The page's own heading usually repeats the title: drop a first h1. */
  const heading = document.querySelector('h1');
  const title = meta(['og:title', 'twitter:title']) || (heading ? text(heading) : '') || document.title;
  const first = container.querySelector('h1');
  if (first && text(first) === title)
    first.remove();
  return JSON.stringify({
    title: title,
    byline: meta(['author', 'article:author', 'byl']),
    site: meta(['og:site_name']) || location.hostname,
    html: container.innerHTML,
    length: length,
  });
})(CB_READER_MODE)
