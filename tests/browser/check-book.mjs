#!/usr/bin/env node
// Checks a built mdBook in headless Chromium.
//
//   node tests/browser/check-book.mjs [HTML_DIR] [--search-word WORD] [--theme-page REL.html]
//                                     [--budget SECONDS] [--chromium PATH]
//
// HTML_DIR is relative to the current directory; without it, the book/html of
// the repository that holds this script (tests/browser/ → ../../book/html). The
// script serves HTML_DIR itself on 127.0.0.1 (ephemeral port), opens every
// .html page in /usr/bin/chromium through playwright-core and fails (exit 1,
// with a list) on: a page that does not load, any console error or uncaught
// page error, any failed same-origin request, a `pre.mermaid` block that does
// not become an <svg> (or renders mermaid's error diagram), an internal link
// to a missing page or to a #fragment with no such id/name on the target
// page, a search that finds nothing for a word known to be in the book, and a
// diagram whose colours do not fit the book theme after switching through
// light, coal, rust, navy and ayu with the theme menu (plus a reload, the
// "Auto" entry, and an OS dark-mode change while on "Auto").
//
// Trace waterfalls (`figure.book-trace`, drawn by crates/trace-view) are
// checked on every page but print.html: as many `g.tv-span` as `data-spans`
// (> 0) and `path.tv-link` as `data-links`, links between drawn rows, a
// non-empty <figcaption>, the details panel showing a span's <title> on hover,
// on focus() and on Tab (for the first span with a `key = value` attribute
// line, which must exist), and, in the coal and light themes, text with a
// contrast of at least 3 and a visible bar for every span. The first waterfall
// of each page is saved as target/browser-screenshots/PAGE.png (PAGE: the
// page's path with / as -), after removing the PNGs of the previous run.
//
// Requests to other origins are aborted (the machine has no internet) and
// reported as warnings only.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// ---------------------------------------------------------------- options --

function parseArgs(argv) {
  const opts = {
    htmlDir: null, // default: <repo root>/book/html, from this script's location
    searchWord: 'trace',
    themePage: null,
    // A guard against a hung browser, not a speed goal: the walk takes about
    // 140 s on a quiet 2-core machine (39 pages, 7 waterfalls switched
    // through two themes each); a loaded CI machine needs room above that.
    budget: 360,
    chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    verbose: !!process.env.CHECK_BOOK_VERBOSE,
  };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--search-word')) opts.searchWord = value();
    else if (a.startsWith('--theme-page')) opts.themePage = value();
    else if (a.startsWith('--budget')) opts.budget = Number(value());
    else if (a.startsWith('--chromium')) opts.chromium = value();
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length > 1) usage('expected at most one HTML_DIR');
  if (rest.length === 1) opts.htmlDir = rest[0];
  if (!(opts.budget > 0)) usage('--budget must be a positive number of seconds');
  return opts;
}

function usage(msg) {
  if (msg) console.error(`check-book: ${msg}`);
  console.error(
    'usage: node check-book.mjs [HTML_DIR] [--search-word WORD] [--theme-page REL.html] ' +
      '[--budget SECONDS] [--chromium PATH] [--verbose]',
  );
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = opts.htmlDir ? path.resolve(opts.htmlDir) : path.resolve(SCRIPT_DIR, '..', '..', 'book', 'html');
// Screenshots of the waterfalls, always under the repository's target/.
const SCREENSHOT_DIR = path.resolve(SCRIPT_DIR, '..', '..', 'target', 'browser-screenshots');

// Timeouts (milliseconds).
const T_LAUNCH = 30_000;
const T_GOTO = 30_000;
const T_DIAGRAMS = 30_000;
const T_STALL = 6_000;
const T_SETTLE = 5_000;
const T_SEARCH = 15_000;
const T_THEME = 8_000;
const T_PANEL = 2_000;

const CHROMIUM_FLAGS = [
  // `--headless` comes from `headless: true`; the profile is a fresh
  // temporary --user-data-dir that playwright creates for every launch.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-extensions',
  '--no-default-browser-check',
  '--metrics-recording-only',
  '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider',
];

// Theme order: exercises light→dark and dark→light switches.
const THEMES = ['light', 'coal', 'rust', 'navy', 'ayu'];
const DARK_THEMES = new Set(['coal', 'navy', 'ayu']);
// The themes every waterfall is measured in: the walk goes on in the last.
const WATERFALL_THEMES = ['coal', 'light'];

const failures = [];
const warnings = [];
const fail = (where, msg) => {
  const line = `${where}: ${msg}`.replace(/\s*\n\s*/g, '\n      ');
  if (!failures.includes(line)) failures.push(line);
};
const warn = (where, msg) => warnings.push(`${where}: ${msg}`);
const log = (...a) => {
  if (opts.verbose) console.error('[check-book]', ...a);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ the files ---

if (!fs.existsSync(ROOT) || !fs.statSync(ROOT).isDirectory()) {
  console.error(`browser: FAILED — ${ROOT} is not a directory (build the book first)`);
  process.exit(1);
}

function listHtml(dir, rel = '') {
  const out = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...listHtml(path.join(dir, ent.name), r));
    else if (ent.isFile() && ent.name.endsWith('.html')) out.push(r);
  }
  return out;
}

const pages = listHtml(ROOT).sort((a, b) => {
  // index.html first, 404.html and print.html last, the rest alphabetically.
  const rank = (p) => (p === 'index.html' ? 0 : p === '404.html' ? 3 : p === 'print.html' ? 2 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
});
if (!pages.includes('index.html')) {
  console.error(`browser: FAILED — ${ROOT} has no index.html (is this a built book?)`);
  process.exit(1);
}

// mdBook's 404.html uses <base href="SITE-URL">; serve the book under that
// prefix too so the 404 page's assets resolve like they would when deployed.
let basePrefix = '/';
try {
  const m = fs.readFileSync(path.join(ROOT, '404.html'), 'utf8').match(/<base\s+href="([^"]*)"/i);
  if (m && m[1].startsWith('/') && m[1] !== '/') basePrefix = m[1].endsWith('/') ? m[1] : `${m[1]}/`;
} catch {
  // no 404.html
}

/** URL path → absolute file path inside ROOT, or null. */
function resolveFile(urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (basePrefix !== '/' && p.startsWith(basePrefix)) p = `/${p.slice(basePrefix.length)}`;
  p = path.posix.normalize(p);
  const file = path.join(ROOT, p);
  if (file !== ROOT && !file.startsWith(ROOT + path.sep)) return null;
  try {
    let st = fs.statSync(file);
    if (st.isDirectory()) {
      const idx = path.join(file, 'index.html');
      st = fs.statSync(idx);
      return st.isFile() ? idx : null;
    }
    return st.isFile() ? file : null;
  } catch {
    return null;
  }
}

const relOf = (file) => path.relative(ROOT, file).split(path.sep).join('/');

// ------------------------------------------------------------ the server ---

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.rs': 'text/plain; charset=utf-8',
  '.toml': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
};

const server = http.createServer((req, res) => {
  const headers = { 'Cache-Control': 'no-store' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, headers).end();
    return;
  }
  const urlPath = new URL(req.url, 'http://127.0.0.1').pathname;
  const file = resolveFile(urlPath);
  if (!file) {
    const notFound = path.join(ROOT, '404.html');
    headers['Content-Type'] = 'text/html; charset=utf-8';
    res.writeHead(404, headers);
    if (req.method === 'HEAD' || !fs.existsSync(notFound)) res.end();
    else fs.createReadStream(notFound).pipe(res);
    return;
  }
  headers['Content-Type'] = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
  headers['Content-Length'] = fs.statSync(file).size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') res.end();
  else fs.createReadStream(file).pipe(res);
});

// ---------------------------------------------------------- in the page ---

// Everything below runs inside the browser (serialised by playwright).

function pageDiagramState() {
  return [...document.querySelectorAll('pre.mermaid')].map((pre, i) => {
    const svg = pre.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : null;
    return {
      index: i,
      rendered: !!svg,
      error: !!svg && (svg.getAttribute('aria-roledescription') === 'error' || !!svg.querySelector('.error-icon')),
      width: box ? box.width : 0,
      height: box ? box.height : 0,
      source: svg ? '' : (pre.textContent || '').trim().split('\n')[0].slice(0, 60),
    };
  });
}

function pageLinksAndIds() {
  const ids = new Set();
  for (const el of document.querySelectorAll('[id]')) ids.add(el.id);
  for (const el of document.querySelectorAll('a[name]')) ids.add(el.getAttribute('name'));
  const links = [];
  for (const a of document.querySelectorAll('a[href]')) {
    links.push({ raw: a.getAttribute('href'), abs: a.href });
  }
  return { ids: [...ids], links };
}

// Measures how the diagrams look against the page. `expect` is the theme id
// that must be a class on <html>.
function pageThemeFit(expect) {
  const html = document.documentElement;
  const ctx = document.createElement('canvas').getContext('2d');
  const parse = (c) => {
    if (!c || c === 'none' || c === 'transparent') return null;
    ctx.fillStyle = '#010203';
    ctx.fillStyle = c;
    const s = ctx.fillStyle;
    if (s === '#010203' && c.replace(/\s/g, '') !== 'rgb(1,2,3)') return null;
    if (s.startsWith('#')) {
      return [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16), 1];
    }
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(',').map((x) => parseFloat(x));
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (fg, bg) => {
    const a = fg[3];
    return [0, 1, 2].map((k) => Math.round(fg[k] * a + bg[k] * (1 - a))).concat(1);
  };
  const lum = (c) => {
    const ch = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const contrast = (a, b) => {
    const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const hex = (c) => `#${c.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const mostCommon = (entries) => {
    const tally = new Map();
    for (const [key, weight] of entries) tally.set(key, (tally.get(key) || 0) + weight);
    let best = null;
    for (const [k, w] of tally) if (!best || w > best[1]) best = [k, w];
    return best ? best[0] : null;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none' && parseFloat(cs.opacity) > 0;
  };

  const out = {
    theme: expect,
    htmlClass: html.className,
    hasClass: html.classList.contains(expect),
    diagrams: [],
  };
  for (const pre of document.querySelectorAll('pre.mermaid')) {
    const d = { rendered: false };
    out.diagrams.push(d);
    const svg = pre.querySelector('svg');
    if (!svg) continue;
    d.rendered = true;
    // The colour behind the diagram: first opaque background going up.
    let bg = null;
    for (let el = pre; el && !bg; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c && c[3] > 0) bg = c[3] < 1 ? over(c, [255, 255, 255, 1]) : c;
    }
    bg = bg || [255, 255, 255, 1];
    d.background = hex(bg);

    // Text colour: weighted by the amount of visible text.
    const texts = [];
    for (const el of svg.querySelectorAll('text, tspan, foreignObject *')) {
      const own = [...el.childNodes]
        .filter((n) => n.nodeType === 3)
        .map((n) => n.textContent.trim())
        .join('');
      if (!own || !visible(el)) continue;
      const cs = getComputedStyle(el);
      const isSvgText = el instanceof SVGElement;
      const c = parse(isSvgText ? cs.fill : cs.color);
      if (!c || c[3] === 0) continue;
      texts.push([hex(over(c, bg)), own.length]);
    }
    const text = mostCommon(texts);
    d.text = text;
    d.textContrast = text ? Math.round(contrast(parse(text), bg) * 100) / 100 : null;

    // Node fill: shapes of the nodes (flowchart, state, class), actors and
    // boxes (sequence); any filled shape as a fallback.
    const shapeSel =
      'g.node rect, g.node polygon, g.node circle, g.node ellipse, g.node path, ' +
      'rect.actor, rect.note, rect.task, g.classGroup rect, rect.basic, path.basic';
    const collect = (sel) => {
      const fills = [];
      for (const el of svg.querySelectorAll(sel)) {
        if (!visible(el)) continue;
        const cs = getComputedStyle(el);
        const c = parse(cs.fill);
        const fo = parseFloat(cs.fillOpacity);
        if (!c || c[3] === 0 || fo === 0) continue;
        const r = el.getBoundingClientRect();
        fills.push([hex(over([c[0], c[1], c[2], c[3] * (isNaN(fo) ? 1 : fo)], bg)), r.width * r.height]);
      }
      return fills;
    };
    let fills = collect(shapeSel);
    if (!fills.length) fills = collect('rect, polygon, circle, ellipse');
    const fill = mostCommon(fills);
    d.fill = fill;
    if (fill) {
      const f = parse(fill);
      d.fillDistance = Math.max(...[0, 1, 2].map((k) => Math.abs(f[k] - bg[k])));
    }
    d.ok = !!text && d.textContrast >= 3 && (!fill || d.fillDistance >= 6);
  }

  // Waterfalls (figure.book-trace): every visible text of the drawing (span
  // labels, flags, ticks, trace titles), with its opacity, must be readable
  // on the page; every span's bar must have a size and a fill that differs
  // from the page.
  out.waterfalls = [];
  for (const fig of document.querySelectorAll('figure.book-trace')) {
    const w = { id: fig.id, drawn: false };
    out.waterfalls.push(w);
    const svg = fig.querySelector('svg');
    if (!svg) continue;
    w.drawn = true;
    let bg = null;
    for (let el = svg; el && !bg; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c && c[3] > 0) bg = c[3] < 1 ? over(c, [255, 255, 255, 1]) : c;
    }
    bg = bg || [255, 255, 255, 1];
    w.background = hex(bg);
    const alpha = (el) => {
      let a = 1;
      for (let e = el; e && e !== fig; e = e.parentElement) a *= parseFloat(getComputedStyle(e).opacity);
      return a;
    };
    w.texts = 0;
    w.worstText = null; // { text, colour, contrast, cls }
    for (const el of svg.querySelectorAll('text')) {
      const own = (el.textContent || '').trim();
      if (!own || !visible(el)) continue;
      const cs = getComputedStyle(el);
      const c = parse(cs.fill);
      const fo = parseFloat(cs.fillOpacity);
      if (!c) continue;
      const a = c[3] * (isNaN(fo) ? 1 : fo) * alpha(el);
      const seen = over([c[0], c[1], c[2], a], bg);
      const ratio = Math.round(contrast(seen, bg) * 100) / 100;
      w.texts++;
      if (!w.worstText || ratio < w.worstText.contrast) {
        const cls = el.getAttribute('class') || '';
        w.worstText = { text: own.slice(0, 40), colour: hex(seen), contrast: ratio, cls };
      }
    }
    w.spans = 0;
    w.badBars = [];
    for (const g of svg.querySelectorAll('g.tv-span')) {
      w.spans++;
      const row = g.getAttribute('data-row');
      const bar = g.querySelector('rect.tv-bar');
      if (!bar) {
        w.badBars.push(`row ${row}: no rect.tv-bar`);
        continue;
      }
      const r = bar.getBoundingClientRect();
      const cs = getComputedStyle(bar);
      const c = parse(cs.fill);
      const fo = parseFloat(cs.fillOpacity);
      if (r.width <= 0 || r.height <= 0) {
        w.badBars.push(`row ${row}: bar is ${Math.round(r.width * 10) / 10}×${Math.round(r.height * 10) / 10} px`);
      } else if (cs.visibility === 'hidden' || cs.display === 'none' || alpha(bar) === 0) {
        w.badBars.push(`row ${row}: bar is hidden`);
      } else if (!c || c[3] === 0 || fo === 0) {
        w.badBars.push(`row ${row}: bar has no fill (${cs.fill})`);
      } else {
        const f = over([c[0], c[1], c[2], c[3] * (isNaN(fo) ? 1 : fo) * alpha(bar)], bg);
        const distance = Math.max(...[0, 1, 2].map((k) => Math.abs(f[k] - bg[k])));
        if (distance < 6) w.badBars.push(`row ${row}: bar fill ${hex(f)} is the page's ${w.background}`);
      }
    }
    w.ok = w.texts > 0 && w.worstText.contrast >= 3 && w.spans > 0 && w.badBars.length === 0;
  }
  out.waterfallsOk = out.waterfalls.every((w) => w.ok);
  out.ok = out.hasClass && out.diagrams.every((d) => d.ok) && out.waterfallsOk;
  return out;
}

// The structure of one figure.book-trace (playwright passes the element).
function figureStructure(fig) {
  const attrLine = /^[ \t]+\S[^\n]* = /m;
  const int = (v) => (v !== null && /^\d+$/.test(v.trim()) ? Number(v) : null);
  const spans = [...fig.querySelectorAll('g.tv-span')];
  const rows = spans.map((g) => g.getAttribute('data-row'));
  const rowSet = new Set(rows);
  const links = [...fig.querySelectorAll('path.tv-link')];
  const badLinks = [];
  for (const p of links) {
    const from = p.getAttribute('data-link-from');
    const to = p.getAttribute('data-link-to');
    if (!rowSet.has(from) || !rowSet.has(to)) badLinks.push(`${from}→${to}`);
  }
  const titles = spans.map((g) => {
    const t = g.querySelector(':scope > title');
    return t ? t.textContent : null;
  });
  const caption = fig.querySelector('figcaption');
  return {
    id: fig.id,
    dataSpans: int(fig.getAttribute('data-spans')),
    dataLinks: int(fig.getAttribute('data-links')),
    rawSpans: fig.getAttribute('data-spans'),
    rawLinks: fig.getAttribute('data-links'),
    spans: spans.length,
    links: links.length,
    badLinks,
    noRow: rows.filter((r) => r === null).length,
    duplicateRows: rows.length - rowSet.size,
    noTitle: titles.filter((t) => t === null).length,
    notFocusable: spans.filter((g) => g.tabIndex < 0).length,
    panels: fig.querySelectorAll('.tv-details pre').length,
    caption: caption ? caption.textContent.trim().length : -1,
    withAttributes: titles.findIndex((t) => t !== null && attrLine.test(t)),
  };
}

// ------------------------------------------------------------- the run ---

const watchdog = setTimeout(() => {
  console.error(`browser: FAILED — the run took longer than its budget of ${opts.budget}s`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}, opts.budget * 1000);
watchdog.unref();

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const ORIGIN = `http://127.0.0.1:${server.address().port}`;
const pageUrl = (rel) => `${ORIGIN}/${rel.split('/').map(encodeURIComponent).join('/')}`;
const sameOrigin = (u) => {
  try {
    return new URL(u).origin === ORIGIN;
  } catch {
    return false;
  }
};
log(`serving ${ROOT} at ${ORIGIN}${basePrefix !== '/' ? ` (and under ${basePrefix})` : ''}`);

if (!fs.existsSync(opts.chromium)) {
  console.error(`browser: FAILED — no Chromium at ${opts.chromium} (apt-get install -y chromium)`);
  process.exit(1);
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: T_LAUNCH,
  });
} catch (e) {
  console.error(`browser: FAILED — could not start ${opts.chromium}: ${e.message.split('\n')[0]}`);
  process.exit(1);
}

async function newContext(extra = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    serviceWorkers: 'block',
    ...extra,
  });
  context.setDefaultTimeout(T_SETTLE * 2);
  context.setDefaultNavigationTimeout(T_GOTO);
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (sameOrigin(u) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    warn('network', `aborted request to another origin: ${u}`);
    return route.abort('blockedbyclient');
  });
  return context;
}

/** Records console errors, page errors and failed same-origin requests. */
function monitor(page, where, { allowMainStatus = false } = {}) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    const text = msg.text();
    // A failed load is reported from the request itself (HTTP status) or was
    // an aborted request to another origin (a warning).
    if (/^Failed to load resource/.test(text) && loc.url) return;
    fail(where, `console error: ${text}${loc.url ? ` (${loc.url.replace(ORIGIN, '')}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => fail(where, `uncaught error: ${String(err.message || err).split('\n')[0]}`));
  page.on('requestfailed', (req) => {
    if (!sameOrigin(req.url())) return;
    const why = req.failure()?.errorText || 'failed';
    // Cancelled by a navigation or reload (a missing file shows up as an HTTP status instead).
    if (why === 'net::ERR_ABORTED') return;
    fail(where, `request failed: ${req.url().replace(ORIGIN, '')} (${why})`);
  });
  page.on('response', (res) => {
    if (!sameOrigin(res.url()) || res.status() < 400) return;
    if (allowMainStatus && res.request().isNavigationRequest()) return;
    fail(where, `HTTP ${res.status()} for ${res.url().replace(ORIGIN, '')}`);
  });
}

async function waitDiagrams(page) {
  const n = await page.locator('pre.mermaid').count();
  if (n === 0) return [];
  // Wait until every block holds an <svg>; give up after T_DIAGRAMS, or
  // earlier when no further block has rendered for T_STALL (a diagram that
  // failed to parse never renders, however long one waits).
  const hardDeadline = Date.now() + T_DIAGRAMS;
  let done = -1;
  let lastProgress = Date.now();
  while (Date.now() < hardDeadline && Date.now() - lastProgress < T_STALL) {
    const now = await page.evaluate(
      () => [...document.querySelectorAll('pre.mermaid')].filter((p) => p.querySelector('svg')).length,
    );
    if (now === n) break;
    if (now !== done) {
      done = now;
      lastProgress = Date.now();
    }
    await sleep(100);
  }
  return page.evaluate(pageDiagramState);
}

/** Chooses `themeId` in mdBook's theme menu; false when there is no such entry. */
async function pickTheme(page, themeId) {
  const button = page.locator(`#mdbook-theme-${themeId}, #theme-list #${themeId}`).first();
  if ((await button.count()) === 0) return false;
  // The menu stays open after a choice; open it only when it is closed.
  if (!(await button.isVisible())) {
    await page.locator('#mdbook-theme-toggle, #theme-toggle').first().click();
    await button.waitFor({ state: 'visible' });
  }
  await button.click();
  return true;
}

// ------------------------------------------------------ the waterfalls ---

// figure.book-trace, drawn by crates/trace-view and put on the page by the
// preprocessor, is checked on every page but print.html (which repeats every
// chapter): its counts against data-spans / data-links, its details panel
// (hover and keyboard focus), its colours in WATERFALL_THEMES; the first one
// of a page is saved as a PNG in SCREENSHOT_DIR.

let waterfallsChecked = 0;
let screenshotsSaved = 0;
const MENU_BAR_IN_FLOW =
  '#mdbook-menu-bar, #mdbook-menu-bar-hover-placeholder, #menu-bar, #menu-bar-hover-placeholder ' +
  '{ position: relative !important; }';

const firstLine = (t) => (t || '').split('\n')[0].slice(0, 60);
const shortText = (t) => JSON.stringify(t === null ? null : t.length > 80 ? `${t.slice(0, 80)}…` : t);

function describeWaterfall(w) {
  if (!w.drawn) return 'no <svg>';
  const parts = [];
  if (!w.texts) parts.push('no visible text in the drawing');
  else {
    const t = w.worstText;
    parts.push(
      `least readable text "${t.text}" (${t.cls || 'text'}) is ${t.colour} on ${w.background}, contrast ${t.contrast}`,
    );
  }
  if (!w.spans) parts.push('no g.tv-span');
  if (w.badBars.length) {
    const more = w.badBars.length > 3 ? ` and ${w.badBars.length - 3} more` : '';
    parts.push(`${w.badBars.length} bar(s) not visible: ${w.badBars.slice(0, 3).join('; ')}${more}`);
  }
  return parts.join('; ');
}

/** Polls until the details panel of `fig` reads `expected`; returns what it last read. */
async function panelText(fig, expected) {
  const pre = fig.locator('.tv-details pre').first();
  const deadline = Date.now() + T_PANEL;
  for (;;) {
    const got = await pre.textContent({ timeout: T_PANEL }).catch(() => null);
    if (got === expected || Date.now() > deadline) return got;
    await sleep(50);
  }
}

async function checkWaterfalls(page, rel) {
  const figures = page.locator('figure.book-trace');
  const n = await figures.count();
  if (n === 0) return;
  const started = Date.now();
  const whereOf = [];
  for (let i = 0; i < n; i++) {
    const fig = figures.nth(i);
    const s = await fig.evaluate(figureStructure);
    const where = `${rel} waterfall ${s.id ? `#${s.id}` : i + 1}`;
    whereOf.push(where);
    waterfallsChecked++;

    // 1. What was drawn against what the preprocessor says it drew.
    if (s.dataSpans === null) fail(where, `data-spans="${s.rawSpans}" is not a count`);
    else if (s.dataSpans === 0) fail(where, 'data-spans="0": a waterfall without spans');
    else if (s.spans !== s.dataSpans) {
      fail(where, `${s.spans} span(s) drawn (g.tv-span), data-spans says ${s.dataSpans}`);
    }
    if (s.dataLinks === null) fail(where, `data-links="${s.rawLinks}" is not a count`);
    else if (s.links !== s.dataLinks) {
      fail(where, `${s.links} link(s) drawn (path.tv-link), data-links says ${s.dataLinks}`);
    }
    if (s.badLinks.length) {
      const some = s.badLinks.slice(0, 5).join(', ');
      fail(where, `link(s) to a row that is not drawn (data-link-from→data-link-to): ${some}`);
    }
    if (s.noRow) fail(where, `${s.noRow} span(s) without data-row`);
    if (s.duplicateRows) fail(where, `${s.duplicateRows} duplicate data-row value(s)`);
    if (s.noTitle) fail(where, `${s.noTitle} span(s) without a <title>`);
    if (s.notFocusable) fail(where, `${s.notFocusable} span(s) cannot take keyboard focus (tabindex)`);
    if (s.caption < 1) fail(where, s.caption < 0 ? 'no <figcaption> (provenance)' : 'empty <figcaption>');
    if (s.panels !== 1) fail(where, `${s.panels} details panels (.tv-details pre), expected 1`);
    if (s.spans === 0 || s.panels === 0) continue;

    // 2. The details panel follows the mouse and the keyboard.
    if (s.withAttributes < 0) {
      fail(where, 'no span has an attribute (an indented "key = value" line in its <title>)');
    }
    const k = Math.max(s.withAttributes, 0);
    const spans = fig.locator('g.tv-span');
    const span = spans.nth(k);
    const titleOf = (g) => g.evaluate((el) => el.querySelector(':scope > title')?.textContent ?? null);
    const title = await titleOf(span);
    if (title === null) continue; // reported above
    const name = `"${firstLine(title)}" (row ${await span.getAttribute('data-row')})`;
    // The label (left of the bars, where no link curve passes), else the bar.
    let target = span.locator('text.tv-label').first();
    if ((await target.count()) === 0 || !(await target.textContent()).trim()) {
      target = span.locator('rect.tv-bar').first();
    }
    if ((await target.count()) === 0) target = span;
    try {
      await target.hover({ timeout: T_SETTLE });
      const shown = await panelText(fig, title);
      if (shown !== title) {
        fail(where, `hovering span ${name} shows ${shortText(shown)} in .tv-details, not its <title>`);
      }
    } catch (e) {
      fail(where, `could not hover span ${name}: ${e.message.split('\n')[0]}`);
    }

    // 5. A picture of the first waterfall of the page (details panel filled).
    if (i === 0) {
      const file = path.join(SCREENSHOT_DIR, `${rel.replace(/\.html$/, '').split('/').join('-')}.png`);
      try {
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
        await fig.screenshot({
          path: file,
          animations: 'disabled',
          timeout: T_SETTLE * 2,
          // mdBook's sticky menu bar would cover the top of a figure taller than the window.
          style: MENU_BAR_IN_FLOW,
        });
        screenshotsSaved++;
        log(`screenshot ${path.relative(process.cwd(), file)}`);
      } catch (e) {
        fail(where, `screenshot failed: ${e.message.split('\n')[0]}`);
      }
    }

    try {
      await page.mouse.move(0, 0);
      await fig.evaluate((f) => {
        f.querySelector('.tv-details pre').textContent = '';
      });
      await span.focus({ timeout: T_SETTLE });
      const shown = await panelText(fig, title);
      if (shown !== title) {
        fail(where, `focusing span ${name} shows ${shortText(shown)} in .tv-details, not its <title>`);
      }
      if (s.spans > k + 1) {
        // Tab moves to the next span, and the panel follows.
        const next = spans.nth(k + 1);
        await page.keyboard.press('Tab');
        const nextTitle = await titleOf(next);
        const nextName = `"${firstLine(nextTitle)}" (row ${await next.getAttribute('data-row')})`;
        if (!(await next.evaluate((g) => g === document.activeElement))) {
          fail(where, `Tab from span ${name} does not focus the next span ${nextName}`);
        } else {
          const shownNext = await panelText(fig, nextTitle);
          if (shownNext !== nextTitle) {
            fail(where, `Tab to span ${nextName} shows ${shortText(shownNext)} in .tv-details, not its <title>`);
          }
        }
      }
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
    } catch (e) {
      fail(where, `could not focus span ${name}: ${e.message.split('\n')[0]}`);
    }
  }

  // 3. Readable and visible in a light and a dark theme.
  for (const theme of WATERFALL_THEMES) {
    if (!(await pickTheme(page, theme))) {
      fail(rel, `no "${theme}" entry in the theme menu`);
      continue;
    }
    // The drawing's colours are CSS only: they follow the class on <html> at once.
    const deadline = Date.now() + T_PANEL;
    let m;
    do {
      m = await page.evaluate(pageThemeFit, theme);
      if (m.hasClass && m.waterfallsOk) break;
      await sleep(100);
    } while (Date.now() < deadline);
    if (!m.hasClass) fail(rel, `theme ${theme}: <html> has class "${m.htmlClass}", expected "${theme}"`);
    m.waterfalls.forEach((w, i) => {
      if (!w.ok) fail(whereOf[i] || rel, `theme ${theme}: ${describeWaterfall(w)}`);
      else log(`${whereOf[i]}: theme ${theme}: ${describeWaterfall(w)}`);
    });
  }
  log(`${rel}: ${n} waterfall(s) checked in ${Date.now() - started} ms`);
}

const idsByPage = new Map(); // rel path → Set of ids
const links = []; // { from, raw, abs }
let pagesVisited = 0;
let diagramsRendered = 0;
let themePageCandidate = null;
let anyDiagramPage = false;

// This run's screenshots only: an old picture of a page that lost its waterfall goes.
try {
  for (const f of fs.readdirSync(SCREENSHOT_DIR)) if (f.endsWith('.png')) fs.rmSync(path.join(SCREENSHOT_DIR, f));
} catch {
  // no directory yet
}

const mainContext = await newContext();

for (const rel of pages) {
  const where = rel;
  const is404 = rel === '404.html';
  const page = await mainContext.newPage();
  monitor(page, where, { allowMainStatus: is404 });
  log(`visiting ${rel}`);
  try {
    let resp;
    try {
      resp = await page.goto(pageUrl(rel), { waitUntil: 'load', timeout: T_GOTO });
    } catch (e) {
      fail(where, `page did not load: ${e.message.split('\n')[0]}`);
      continue;
    }
    pagesVisited++;
    if (!is404 && (!resp || !resp.ok())) fail(where, `page load status ${resp ? resp.status() : 'none'}`);

    const diagrams = await waitDiagrams(page);
    for (const d of diagrams) {
      if (!d.rendered) fail(where, `mermaid block #${d.index + 1} did not render to <svg> ("${d.source}")`);
      else if (d.error) fail(where, `mermaid block #${d.index + 1} rendered mermaid's error diagram`);
      else if (d.width <= 0 || d.height <= 0) fail(where, `mermaid block #${d.index + 1} has an empty <svg>`);
      else diagramsRendered++;
    }
    const allRendered = diagrams.every((d) => d.rendered && !d.error);
    if (diagrams.length && allRendered && !themePageCandidate && rel !== 'print.html' && !is404) {
      themePageCandidate = rel;
    }
    if (diagrams.length) anyDiagramPage = true;

    // Let late scripts finish so their errors are caught.
    await page.waitForLoadState('networkidle', { timeout: T_SETTLE }).catch(() => {});

    const { ids, links: pageLinks } = await page.evaluate(pageLinksAndIds);
    idsByPage.set(rel, new Set(ids));
    for (const l of pageLinks) links.push({ from: rel, ...l });

    if (rel !== 'print.html' && !is404) await checkWaterfalls(page, rel);
  } catch (e) {
    fail(where, `check aborted: ${e.message.split('\n')[0]}`);
  } finally {
    await page.close().catch(() => {});
  }
}

// ---------------------------------------------------------- the links ---

const seen = new Set();
let linksChecked = 0;
for (const { from, raw, abs } of links) {
  if (!/^https?:/.test(abs) || !sameOrigin(abs)) continue;
  const key = `${from}\u0000${abs}`;
  if (seen.has(key)) continue;
  seen.add(key);
  linksChecked++;
  const u = new URL(abs);
  const file = resolveFile(u.pathname);
  if (!file) {
    fail(from, `broken link "${raw}" (no ${decodeURIComponent(u.pathname)})`);
    continue;
  }
  let frag = u.hash.slice(1);
  if (!frag || frag === 'top' || frag.startsWith(':~:')) continue;
  try {
    frag = decodeURIComponent(frag);
  } catch {
    // keep it raw
  }
  // 404.html has <base href="SITE-URL">, so the self-links of its headings
  // resolve to the site root; they are meant for the 404 page itself.
  const target = from === '404.html' && raw.startsWith('#') ? from : relOf(file);
  if (!target.endsWith('.html')) continue;
  const ids = idsByPage.get(target);
  if (!ids) {
    fail(from, `link "${raw}" points to ${target}, which could not be checked`);
  } else if (!ids.has(frag)) {
    fail(from, `broken link "${raw}" (no id or name "${frag}" on ${target})`);
  }
}

// --------------------------------------------------------- the search ---

let searchOk = false;
{
  const where = 'search';
  const page = await mainContext.newPage();
  monitor(page, where);
  try {
    await page.goto(pageUrl('index.html'), { waitUntil: 'load' });
    const toggle = page.locator('#mdbook-search-toggle, #search-toggle').first();
    const bar = page.locator('#mdbook-searchbar, #searchbar').first();
    if ((await toggle.count()) === 0 || (await bar.count()) === 0) {
      fail(where, 'no search button or search bar on index.html (is search disabled?)');
    } else {
      const indexResponse = page
        .waitForResponse((r) => /searchindex[^/]*\.js(on)?$/.test(new URL(r.url()).pathname), {
          timeout: T_SEARCH,
        })
        .catch(() => null);
      await toggle.click();
      const idx = await indexResponse;
      if (!idx) fail(where, 'the search index (searchindex*.js) was not requested after opening the search');
      else if (!idx.ok()) fail(where, `the search index ${new URL(idx.url()).pathname} answered ${idx.status()}`);
      await bar.waitFor({ state: 'visible', timeout: T_SEARCH });
      await bar.fill('');
      await bar.pressSequentially(opts.searchWord, { delay: 20 });
      const results = page.locator('#mdbook-searchresults li, #searchresults li');
      const got = await page
        .waitForFunction(
          () => document.querySelectorAll('#mdbook-searchresults li, #searchresults li').length > 0,
          null,
          { timeout: T_SEARCH, polling: 100 },
        )
        .then(() => true)
        .catch(() => false);
      if (!got) {
        fail(where, `searching for "${opts.searchWord}" showed no result`);
      } else {
        const n = await results.count();
        const href = await results.first().locator('a').first().evaluate((a) => a.href).catch(() => null);
        if (!href || !sameOrigin(href) || !resolveFile(new URL(href).pathname)) {
          fail(where, `first result for "${opts.searchWord}" links to a missing page: ${href}`);
        } else {
          searchOk = true;
          log(`search "${opts.searchWord}": ${n} results, first → ${href.replace(ORIGIN, '')}`);
        }
      }
    }
  } catch (e) {
    fail(where, `search check aborted: ${e.message.split('\n')[0]}`);
  } finally {
    await page.close().catch(() => {});
  }
}

// ---------------------------------------------------------- the themes ---

let themesChecked = 0;
const themePage = opts.themePage || themePageCandidate || 'index.html';
if (!opts.themePage && !themePageCandidate && anyDiagramPage) {
  fail('themes', 'skipped: no page (other than print.html) whose diagrams all rendered');
} else {
  const where = `themes (${themePage})`;
  const context = await newContext(); // fresh localStorage: starts on the default theme
  const page = await context.newPage();
  monitor(page, where);

  const describe = (m) =>
    m.diagrams
      .map(
        (d, i) =>
          `diagram #${i + 1}: ${d.rendered ? `text ${d.text} on ${d.background} (contrast ${d.textContrast}), fill ${d.fill}` : 'not rendered'}`,
      )
      .concat(m.waterfalls.map((w, i) => `waterfall #${w.id || i + 1}: ${describeWaterfall(w)}`))
      .join('; ');

  // Polls until the diagrams fit `theme`; survives a page reload (the stock
  // mermaid-init.js reloads the page on a light↔dark switch).
  async function fits(theme, label) {
    const deadline = Date.now() + T_THEME;
    let last = null;
    while (Date.now() < deadline) {
      try {
        await page.waitForLoadState('load', { timeout: Math.max(1, deadline - Date.now()) });
        last = await page.evaluate(pageThemeFit, theme);
        if (last.ok) return last;
      } catch (e) {
        if (!/context was destroyed|navigat|Target closed/i.test(e.message)) throw e;
      }
      await sleep(150);
    }
    if (!last) fail(where, `${label}: could not measure the page`);
    else if (!last.hasClass) fail(where, `${label}: <html> has class "${last.htmlClass}", expected "${theme}"`);
    else fail(where, `${label}: diagram or waterfall colours do not fit the theme — ${describe(last)}`);
    return null;
  }

  const pick = (themeId) => pickTheme(page, themeId);

  try {
    await page.goto(pageUrl(themePage), { waitUntil: 'load' });
    const nDiagrams = await page.locator('pre.mermaid').count();
    if (nDiagrams === 0) warn(where, 'no mermaid diagram on this page: only the theme classes were checked');
    await waitDiagrams(page);

    for (const theme of THEMES) {
      if (!(await pick(theme))) {
        fail(where, `no "${theme}" entry in the theme menu`);
        continue;
      }
      const m = await fits(theme, `theme ${theme}`);
      if (m) {
        themesChecked++;
        log(`theme ${theme}: ${describe(m)}`);
      }
    }

    // The chosen theme survives a reload and the diagrams start in it.
    const lastTheme = THEMES[THEMES.length - 1];
    await page.reload({ waitUntil: 'load' });
    await waitDiagrams(page);
    if (await fits(lastTheme, `${lastTheme} after a reload`)) log(`theme ${lastTheme} after reload: ok`);

    // "Auto" follows the OS colour scheme (light here), then an OS switch to dark.
    if (await pick('default_theme')) {
      if (await fits('light', 'Auto with a light OS scheme')) log('Auto (light OS): ok');
      await page.emulateMedia({ colorScheme: 'dark' });
      const darkDefault = await page.evaluate(() =>
        typeof default_dark_theme === 'string' ? default_dark_theme : 'navy', // eslint-disable-line no-undef
      );
      if (!DARK_THEMES.has(darkDefault)) warn(where, `preferred dark theme is "${darkDefault}"`);
      if (await fits(darkDefault, `Auto after the OS switched to dark (${darkDefault})`)) log('Auto (dark OS): ok');
    } else {
      warn(where, 'no "Auto" entry in the theme menu');
    }
  } catch (e) {
    fail(where, `theme check aborted: ${e.message.split('\n')[0]}`);
  } finally {
    await page.close().catch(() => {});
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------- the report ---

await mainContext.close().catch(() => {});
await browser.close().catch(() => {});
server.close();
clearTimeout(watchdog);

for (const w of [...new Set(warnings)]) console.error(`browser: warning: ${w}`);
const shots =
  `browser: ${screenshotsSaved} waterfall screenshot(s) saved` +
  (screenshotsSaved ? ` in ${path.relative(process.cwd(), SCREENSHOT_DIR) || '.'}` : '');
if (failures.length) {
  console.error(`browser: FAILED — ${failures.length} problem(s) in ${ROOT}:`);
  for (const f of failures) console.error(`  - ${f}`);
  console.error(shots);
  console.error(
    `browser: ${pagesVisited} pages visited, ${diagramsRendered} diagrams rendered, ` +
      `${waterfallsChecked} waterfalls checked, ` +
      `${linksChecked} internal links checked, search ${searchOk ? 'ok' : 'FAILED'}, themes checked: ${themesChecked}`,
  );
  process.exit(1);
}
console.log(shots);
console.log(
  `browser: ${pagesVisited} pages visited, ${diagramsRendered} diagrams rendered, ` +
    `${waterfallsChecked} waterfalls checked, ` +
    `${linksChecked} internal links checked, search ok, themes checked: ${themesChecked}`,
);
process.exit(0);
