#!/usr/bin/env node
// Opens a Bitcache payment page in Debian's headless Chromium (playwright-core)
// and prints a JSON summary of what a buyer sees: the page's fields by their
// element ids, every request it made (and which left for another host: they
// are aborted), console errors (CSP violations land there), dialogs (alert()
// from an injected script would), and the QR SVG.
//
//   node page.js URL [options]
//     --no-js               JavaScript disabled (the meta refresh / form POST path)
//     --viewport WxH        default 390x844 (a phone); e.g. 1280x900
//     --dark                prefers-color-scheme: dark
//     --timeout MS          per step, default 15000
//     --clipboard           grant clipboard access; prints what the clipboard holds at the end
//     --cookie NAME=VALUE   a cookie the browser already holds for the URL (e.g. an invoice's claim,
//                           a wallet); the cookies it holds at the end are printed ("cookies")
//     --root-cookie NAME=VALUE  the same for the whole site (Path=/, HttpOnly), as the wallet's is
//     --downloads DIR       accept downloads, saved in DIR; printed as "downloads" [{url, path}]
//   steps, run in the order given, after the page has loaded:
//     --click SEL           click, then wait for the load (or download) that may follow
//     --fill SEL=TEXT       type TEXT into the field SEL
//     --wait SEL            wait until SEL is visible
//     --wait-text TEXT      wait until the body's text contains TEXT
//     --wait-ms MS          sleep
//     --back                the browser's back button
//     --no-validate         the forms' own checks off (min, max, required): the server decides
//     --screenshot PATH     full-page PNG
//     --shot SEL=PATH       PNG of one element (e.g. #qr=qr.png)
//     --summary             a summary now (printed in "steps"); the last one is always printed
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function usage(msg) {
  process.stderr.write(`page.js: ${msg}\nusage: node page.js URL [--no-js] [--viewport WxH] ` +
    '[--click SEL] [--wait SEL] [--wait-text T] [--wait-ms MS] [--screenshot PNG] [--shot SEL=PNG]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const url = args.shift();
if (!url || url.startsWith('--')) usage('a URL first');
const opt = { js: true, viewport: [390, 844], dark: false, timeout: 15000, steps: [], cookies: [] };
while (args.length) {
  const a = args.shift();
  const val = () => { if (!args.length) usage(`${a} wants a value`); return args.shift(); };
  if (a === '--no-js') opt.js = false;
  else if (a === '--clipboard') opt.clipboard = true;
  else if (a === '--cookie' || a === '--root-cookie') {
    const m = /^([^=;\s]+)=([^;\s]*)$/.exec(val() || '');
    if (!m) usage(`${a} NAME=VALUE`);
    opt.cookies.push({ name: m[1], value: m[2], root: a === '--root-cookie' });
  }
  else if (a === '--downloads') opt.downloads = val();
  else if (a === '--dark') opt.dark = true;
  else if (a === '--viewport') {
    const m = /^(\d+)x(\d+)$/.exec(val());
    if (!m) usage('--viewport WxH');
    opt.viewport = [Number(m[1]), Number(m[2])];
  } else if (a === '--timeout') opt.timeout = Number(val());
  else if (['--click', '--fill', '--wait', '--wait-text', '--wait-ms', '--screenshot', '--shot'].includes(a))
    opt.steps.push([a, val()]);
  else if (a === '--summary' || a === '--back' || a === '--no-validate') opt.steps.push([a]);
  else usage(`unknown option ${a}`);
}

// what the page shows, read from the DOM by element id
function readPage() {
  const $ = (id) => document.getElementById(id);
  const visible = (el) => !!el && !el.closest('[hidden]') &&
    getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0;
  const text = (id) => { const el = $(id); return el ? el.textContent.trim() : null; };
  const field = (id) => {
    const el = $(id);
    if (!el) return null;
    return { text: el.textContent.trim(), visible: visible(el), disabled: !!el.disabled,
             href: el.getAttribute('href'), value: el.value === undefined ? null : el.value,
             checked: !!el.checked, valid: el.validity ? el.validity.valid : null };
  };
  const form = $('offer-form');
  const offer = form ? form.querySelector('input[name="offer"]') : null;
  const qr = $('qr');
  const svg = qr ? qr.querySelector('svg') : null;
  const refresh = document.querySelector('meta[http-equiv="refresh" i]');
  const noscript = Array.from(document.querySelectorAll('noscript')).map((n) => n.textContent);
  const overflow = document.documentElement.scrollWidth > document.documentElement.clientWidth;
  return {
    url: location.href,
    doc_title: document.title,
    title: text('title'),
    price_btc: text('price-btc'),
    price_sats: text('price-sats'),
    address: text('address'),
    bip21: $('bip21') ? $('bip21').getAttribute('href') : null,
    status: text('status'),
    state: $('status') ? $('status').getAttribute('data-state') : null,
    countdown: text('countdown'),
    fields: Object.fromEntries(['title', 'price-btc', 'price-sats', 'address', 'qr', 'bip21', 'copy',
      'countdown', 'status', 'download', 'pay', 'offer-form', 'reason', 'pay-box', 'download-box',
      'wallet-box', 'wallet-balance', 'balance-sats', 'buy', 'buy-form', 'wallet-low', 'topup',
      'wallet-link', 'wallet-frozen',
      // pay what you want and tips (docs/creators.md)
      'amount-box', 'pwyw-note', 'amount-min', 'amount-suggested', 'amount-double', 'amount-other',
      'amount-custom', 'tip-box', 'tip-note', 'tip-none', 'tip-10', 'tip-25', 'tip-50', 'tip-other',
      'tip-custom', 'tip-line', 'amount-error', 'pay-total']
      .map((id) => [id, field(id)])),
    form: form ? { method: form.getAttribute('method'), action: form.action,
                   offer: offer ? offer.value : null } : null,
    buy_form: (() => {
      const f = $('buy-form');
      if (!f) return null;
      const v = (n) => { const i = f.querySelector(`input[name="${n}"]`); return i ? i.value : null; };
      return { method: f.getAttribute('method'), action: f.action, offer: v('offer'), key: v('key'),
               again: v('again') };
    })(),
    qr_svg: svg ? svg.outerHTML : null,
    qr_box: qr ? (({ width, height }) => ({ width, height }))(qr.getBoundingClientRect()) : null,
    meta_refresh: refresh ? refresh.getAttribute('content') : null,
    noscript,
    scripts: Array.from(document.scripts).map((s) => ({ nonce: s.nonce || s.getAttribute('nonce'),
                                                        src: s.src || null })),
    horizontal_overflow: overflow,
    viewport: [window.innerWidth, window.innerHeight],
    body_text: document.body ? document.body.innerText : '',
  };
}

(async () => {
  const origin = new URL(url).origin;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitcache-chromium-'));
  const out = { requests: [], external: [], console: [], page_errors: [], dialogs: [],
                responses: [], steps: [], downloads: [] };
  const saving = [];
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      javaScriptEnabled: opt.js,
      viewport: { width: opt.viewport[0], height: opt.viewport[1] },
      deviceScaleFactor: 1,
      isMobile: opt.viewport[0] < 600,
      hasTouch: opt.viewport[0] < 600,
      colorScheme: opt.dark ? 'dark' : 'light',
      timeout: opt.timeout,
      acceptDownloads: !!opt.downloads,
    });
    // nothing may leave for another host: record it and abort it
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (new URL(u).origin === origin) return route.continue();
      out.external.push(u);
      return route.abort();
    });
    if (opt.cookies.length) {
      const host = new URL(url).hostname;
      await ctx.addCookies(opt.cookies.map(({ name, value, root }) => (root
        ? { name, value, domain: host, path: '/', httpOnly: true, sameSite: 'Lax' }
        : { name, value, url })));
    }
    if (opt.clipboard) await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(opt.timeout);
    page.on('request', (r) => out.requests.push(`${r.method()} ${r.url()}`));
    page.on('response', (r) => out.responses.push({ url: r.url(), status: r.status() }));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => out.page_errors.push(String(e)));
    page.on('download', (d) => {
      if (!opt.downloads) return;
      const file = path.join(opt.downloads, `${out.downloads.length}-${d.suggestedFilename()}`);
      const entry = { url: d.url(), path: file };
      out.downloads.push(entry);
      saving.push(d.saveAs(file).catch((e) => { entry.error = String(e); }));
    });
    page.on('dialog', (d) => { out.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });

    const resp = await page.goto(url, { waitUntil: 'load' });
    out.http_status = resp ? resp.status() : null;
    out.headers = resp ? resp.headers() : {};
    for (const [step, arg] of opt.steps) {
      if (step === '--click') {
        const nav = page.waitForNavigation({ waitUntil: 'load', timeout: opt.timeout }).catch(() => null);
        await page.click(arg);
        const r = await Promise.race([nav, new Promise((res) => setTimeout(res, 1500, null))]);
        if (r) out.steps.push({ click: arg, status: r.status(), url: r.url() });
        else out.steps.push({ click: arg });
      } else if (step === '--fill') {
        const i = arg.indexOf('=');
        await page.locator(arg.slice(0, i)).first().fill(arg.slice(i + 1));
      } else if (step === '--wait') {
        await page.locator(arg).first().waitFor({ state: 'visible' });
      } else if (step === '--wait-text') {
        await page.locator('body', { hasText: arg }).waitFor();
      } else if (step === '--wait-ms') {
        await page.waitForTimeout(Number(arg));
      } else if (step === '--screenshot') {
        await page.screenshot({ path: arg, fullPage: true });
      } else if (step === '--shot') {
        const i = arg.indexOf('=');
        await page.locator(arg.slice(0, i)).first().screenshot({ path: arg.slice(i + 1) });
      } else if (step === '--no-validate') {
        // the browser's own checks (min, max) off: what the server answers
        await page.evaluate(() => document.querySelectorAll('form').forEach((f) => { f.noValidate = true; }));
      } else if (step === '--back') {
        await page.goBack({ waitUntil: 'load' });
      } else if (step === '--summary') {
        out.steps.push({ summary: await page.evaluate(readPage) });
      }
    }
    await Promise.all(saving);
    Object.assign(out, await page.evaluate(readPage));
    out.cookies = (await ctx.cookies()).map((c) => ({ name: c.name, value: c.value, httpOnly: c.httpOnly,
                                                      path: c.path, sameSite: c.sameSite }));
    if (opt.clipboard) {
      out.clipboard = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => `(${e})`);
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
