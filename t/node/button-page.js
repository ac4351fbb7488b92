#!/usr/bin/env node
// Opens a creator's page (another origin than the Bitcache host) with the
// pay button snippet in Debian's headless Chromium (playwright-core), and
// prints a JSON summary: the buttons as a visitor sees them, the requests
// the page made (to any origin not given with --allow: aborted and listed
// in "external"), the requests that failed (a CORS refusal lands there),
// console errors, and what a click on the first button opened: a popup
// (its URL, status, text, whether it has an opener) or a navigation.
//
//   node button-page.js URL [options]
//     --allow ORIGIN        an origin the page may load from (the host); repeatable
//     --no-js               JavaScript disabled
//     --ready MS            wait up to MS for a button to be filled in (default 5000)
//     --screenshot PATH     the creator's page, after the wait
//     --click               click the first a.bitcache-button
//     --popup-screenshot PATH  the popup (or the page navigated to), once loaded
//     --timeout MS          per step, default 15000
//     --steal               after the click, the creator's page asks for the popup by
//                           name (window.open('/stolen.html', 'bitcache')), then opens
//                           the first button's href itself, keeping the handle, and
//                           sends that window to /stolen.html: where each is then
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function usage(msg) {
  process.stderr.write(`button-page.js: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const url = args.shift();
if (!url || url.startsWith('--')) usage('a URL first');
const opt = { js: true, allow: [new URL(url).origin], ready: 5000, timeout: 15000 };
while (args.length) {
  const a = args.shift();
  const val = () => { if (!args.length) usage(`${a} wants a value`); return args.shift(); };
  if (a === '--no-js') opt.js = false;
  else if (a === '--allow') opt.allow.push(new URL(val()).origin);
  else if (a === '--ready') opt.ready = Number(val());
  else if (a === '--screenshot') opt.screenshot = val();
  else if (a === '--click') opt.click = true;
  else if (a === '--popup-screenshot') opt.popupShot = val();
  else if (a === '--timeout') opt.timeout = Number(val());
  else if (a === '--steal') opt.steal = true;
  else usage(`unknown option ${a}`);
}

function readButtons() {
  return Array.from(document.querySelectorAll('a.bitcache-button')).map((a) => ({
    text: a.textContent.trim(),
    href: a.getAttribute('href'),
    ready: a.classList.contains('bitcache-ready'),
    price: a.getAttribute('data-bitcache-price-sats'),
    free: (a.querySelector('.bitcache-free') || {}).textContent || null,
  }));
}

async function readOpened(p) {
  return p.evaluate(() => ({
    url: location.href,
    title: document.title,
    opener_null: window.opener === null,
    text: document.body ? document.body.innerText : '',
    price_sats: (document.getElementById('price-sats') || {}).textContent || null,
  }));
}

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitcache-chromium-'));
  const out = { requests: [], external: [], failed: [], console: [], page_errors: [], responses: [] };
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      javaScriptEnabled: opt.js,
      viewport: { width: 800, height: 600 },
      deviceScaleFactor: 1,
      timeout: opt.timeout,
    });
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (opt.allow.includes(new URL(u).origin)) return route.continue();
      out.external.push(u);
      return route.abort();
    });
    ctx.on('request', (r) => out.requests.push(`${r.method()} ${r.url()}`));
    ctx.on('requestfailed', (r) => out.failed.push(`${r.method()} ${r.url()}`));
    ctx.on('response', (r) => out.responses.push({ url: r.url(), status: r.status(),
                                                  acao: r.headers()['access-control-allow-origin'] || null }));
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(opt.timeout);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => out.page_errors.push(String(e)));

    const resp = await page.goto(url, { waitUntil: 'load' });
    out.http_status = resp ? resp.status() : null;
    if (opt.js) {
      await page.waitForSelector('a.bitcache-button.bitcache-ready', { timeout: opt.ready })
        .catch(() => null);
      // a refused fetch ends after the load: let it settle
      await page.waitForTimeout(300);
    }
    out.buttons = await page.evaluate(readButtons);
    out.cookie_visible = await page.evaluate(() => document.cookie);
    if (opt.screenshot) await page.screenshot({ path: opt.screenshot, fullPage: true });

    if (opt.click) {
      const popup = ctx.waitForEvent('page', { timeout: 3000 }).catch(() => null);
      const nav = page.waitForNavigation({ waitUntil: 'load', timeout: 3000 }).catch(() => null);
      await page.click('a.bitcache-button');
      const [p, n] = await Promise.all([popup, nav]);
      if (p) {
        await p.waitForFunction(() => location.href !== 'about:blank', null, { timeout: opt.timeout })
          .catch(() => null);
        await p.waitForLoadState('load');
        out.popup = await readOpened(p);
        const seen = out.responses.filter((x) => x.url === out.popup.url);
        out.popup.status = seen.length ? seen[seen.length - 1].status : null;
        out.popup.size = await p.evaluate(() => [window.outerWidth, window.outerHeight]);
        out.opener_url = page.url();
        if (opt.popupShot) await p.screenshot({ path: opt.popupShot, fullPage: true });
        if (opt.steal) {
          await page.evaluate(() => { window.open('/stolen.html', 'bitcache'); });
          await page.waitForTimeout(1500);
          out.steal = { popup_url: p.url(), pages: ctx.pages().length };
          const own = ctx.waitForEvent('page', { timeout: 5000 }).catch(() => null);
          await page.evaluate(() => {
            window.__w = window.open(document.querySelector('a.bitcache-button').href, 'mine');
          });
          const q = await own;
          if (q) {
            await q.waitForLoadState('load').catch(() => null);
            await page.waitForTimeout(1000);
            out.steal.handle_closed = await page.evaluate(() => {
              const c = window.__w.closed;
              try { window.__w.location = '/stolen.html'; } catch (x) { /* cut */ }
              return c;
            });
            await page.waitForTimeout(1500);
            out.steal.own_url = q.url();
          }
        }
      } else if (n) {
        out.navigated = await readOpened(page);
        out.navigated.status = n.status();
        if (opt.popupShot) await page.screenshot({ path: opt.popupShot, fullPage: true });
      }
    }
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String(e && e.message || e).split('\n')[0];
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
  process.exit(out.ok ? 0 : 1);
})();
