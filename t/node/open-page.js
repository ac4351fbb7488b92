#!/usr/bin/env node
// Drives the sealed files' opener <api>/open (docs/sealed.md, "In the
// browser") in Debian's headless Chromium (playwright-core), as a buyer:
// each --open sets a copy in the file input of a fresh load of the page
// (the same browser profile: its localStorage and service worker stay),
// waits for the page to settle, and, if told, pays: with the regtest
// node's wallet (--then pay: the address and amount read from the page,
// sent and mined over JSON-RPC), the Bitcache wallet (--then wallet) or a
// free copy (--then free). Prints a JSON summary: per step what the page
// showed, its state, the download (saved under --downloads, or why it
// failed), the rate the page measured, localStorage; the requests to any
// other origin, console errors and CSP violations, and every importKey
// call the page made (whether its key was extractable).
//
//   node open-page.js URL [options] --open FILE [--then pay|wallet|free] ...
//     --downloads DIR      where downloads are saved (required to keep them)
//     --root-cookie N=V    a cookie for the whole site (the wallet's)
//     --rpc NODEPORT,WALLETPORT,KEY   the regtest node, for --then pay
//     --storage K=V        a localStorage entry set before the first step
//     --no-sw              hide navigator.serviceWorker (the Blob fallback)
//     --timeout MS         per step (default 60000)
//     --screenshot PREFIX  a screenshot per step: PREFIX-N.png
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function usage(msg) {
  process.stderr.write(`open-page.js: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const url = args.shift();
if (!url || url.startsWith('--')) usage('a URL first');
const origin = new URL(url).origin;
const opt = { steps: [], cookies: [], storage: [], timeout: 60000, sw: true };
while (args.length) {
  const a = args.shift();
  const val = () => { if (!args.length) usage(`${a} wants a value`); return args.shift(); };
  if (a === '--open') opt.steps.push({ file: val(), then: null });
  else if (a === '--then') {
    if (!opt.steps.length) usage('--then after an --open');
    opt.steps[opt.steps.length - 1].then = val();
  } else if (a === '--downloads') opt.downloads = val();
  else if (a === '--root-cookie') {
    const m = /^([^=]+)=(.*)$/.exec(val()) || usage('--root-cookie NAME=VALUE');
    opt.cookies.push({ name: m[1], value: m[2] });
  } else if (a === '--storage') {
    const v = val();
    const i = v.indexOf('=');
    opt.storage.push([v.slice(0, i), v.slice(i + 1)]);
  } else if (a === '--rpc') {
    const [node, wallet, key] = val().split(',');
    opt.rpc = { node, wallet, key };
  } else if (a === '--no-sw') opt.sw = false;
  else if (a === '--timeout') opt.timeout = Number(val());
  else if (a === '--screenshot') opt.screenshot = val();
  else usage(`unknown option ${a}`);
}

async function rpc(port, method, params) {
  const r = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json',
               Authorization: 'Basic ' + Buffer.from(`x:${opt.rpc.key}`).toString('base64') },
    body: JSON.stringify({ method, params, id: 1 }),
  });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}

// instrumentation, before the page's own script: CSP violations to the
// console, and every importKey (its extractable flag, and whether the key
// it made exports)
function instrument(noSw) {
  window.__imports = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
  });
  const imp = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = async (...a) => {
    const k = await imp(...a);
    const rec = { format: a[0], extractable: a[3], key_extractable: k.extractable, exports: null };
    window.__imports.push(rec);
    try { await crypto.subtle.exportKey('raw', k); rec.exports = true; } catch (e) { rec.exports = false; }
    return k;
  };
  if (noSw) Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined });
}

function readPage() {
  const text = (id) => { const e = document.getElementById(id); return e && !e.hidden ? e.textContent.trim() : null; };
  const storage = {};
  for (let i = 0; i < localStorage.length; i++) storage[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
  const root = document.getElementById('opener');
  return {
    state: root.dataset.state || null,
    title: text('title'), product: text('product-path'), price: text('price'),
    mismatch: text('keyid-mismatch'), message: text('message'),
    pay: !document.getElementById('actions').hidden && !document.getElementById('pay').hidden,
    wallet_button: !document.getElementById('actions').hidden && !document.getElementById('wallet-buy').hidden,
    free_button: !document.getElementById('actions').hidden && !document.getElementById('free').hidden,
    pwyw: !document.getElementById('pwyw').hidden,
    rate: text('rate'), mb_per_sec: document.getElementById('rate').dataset.mbPerSec || null,
    storage, imports: window.__imports,
  };
}

const settled = ['offer', 'opened', 'refused', 'mismatch', 'foreign'];

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitcache-chromium-'));
  const out = { steps: [], requests: [], external: [], console: [], page_errors: [] };
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-dev-shm-usage'],
      acceptDownloads: true,
      serviceWorkers: 'allow',
    });
    if (opt.cookies.length) {
      const host = new URL(url).hostname;
      await ctx.addCookies(opt.cookies.map(({ name, value }) => (
        { name, value, domain: host, path: '/', httpOnly: true, sameSite: 'Lax' })));
    }
    await ctx.addInitScript(instrument, !opt.sw);
    // requests of the pages and of the worker: none may go to another origin
    ctx.on('request', (r) => {
      out.requests.push(`${r.method()} ${r.url()}`);
      const u = new URL(r.url());
      if (/^https?:$/.test(u.protocol) && u.origin !== origin) out.external.push(r.url());
    });
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(opt.timeout);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => out.page_errors.push(String(e)));
    let downloads = [];
    page.on('download', (d) => downloads.push(d));

    const resp = await page.goto(url, { waitUntil: 'load' });
    out.http_status = resp ? resp.status() : null;
    out.headers = resp ? resp.headers() : {};
    if (opt.storage.length) {
      await page.evaluate((kv) => { for (const [k, v] of kv) localStorage.setItem(k, v); }, opt.storage);
    }

    let n = 0;
    for (const step of opt.steps) {
      const res = { file: step.file, then: step.then };
      downloads = [];
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForFunction(() => document.getElementById('opener').dataset.ready === '1');
      await page.setInputFiles('#file', step.file);
      const waitState = (states) => page.waitForFunction(
        (s) => s.includes(document.getElementById('opener').dataset.state), states, { timeout: opt.timeout });
      await waitState(settled.concat(['invoice']));
      res.first = await page.evaluate(readPage);
      if (step.then && res.first.state === 'offer') {
        if (step.then === 'pay') {
          await page.click('#pay');
          await waitState(['invoice', 'refused']);
          const inv = await page.evaluate(() => ({
            address: document.getElementById('invoice-address').textContent,
            amount: document.getElementById('invoice-amount').textContent,
            bip21: document.getElementById('invoice-bip21').getAttribute('href'),
            page: document.getElementById('invoice-page').getAttribute('href'),
          }));
          res.invoice = inv;
          if (inv.address && opt.rpc) {
            const sats = Number(inv.amount);
            const btc = Number(`${Math.floor(sats / 1e8)}.${String(sats % 1e8).padStart(8, '0')}`);
            res.txid = await rpc(opt.rpc.wallet, 'sendtoaddress', [inv.address, btc]);
            const to = await rpc(opt.rpc.wallet, 'getnewaddress', ['default']);
            await rpc(opt.rpc.node, 'generatetoaddress', [1, to]);
          }
        } else if (step.then === 'wallet') {
          await page.click('#wallet-buy');
        } else if (step.then === 'free') {
          await page.click('#free');
        }
        await waitState(['opened', 'refused', 'mismatch']);
      } else if (res.first.state === 'invoice' || res.first.state === 'decrypting') {
        await waitState(['opened', 'refused']);
      }
      // the download, if one started: its end (saved or failed)
      await page.waitForTimeout(300);
      res.downloads = [];
      for (const d of downloads) {
        const e = { suggested: d.suggestedFilename() };
        e.failure = await d.failure();
        if (!e.failure && opt.downloads) {
          e.path = path.join(opt.downloads, `${n}-${e.suggested}`);
          await d.saveAs(e.path);
        }
        res.downloads.push(e);
      }
      Object.assign(res, await page.evaluate(readPage));
      if (opt.screenshot) await page.screenshot({ path: `${opt.screenshot}-${n}.png`, fullPage: true });
      out.steps.push(res);
      n++;
    }
    out.sw = await page.evaluate(async () => {
      if (!navigator.serviceWorker) return null;
      const regs = await navigator.serviceWorker.getRegistrations();
      return regs.map((r) => r.scope);
    });
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
