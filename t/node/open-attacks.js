#!/usr/bin/env node
// Attacks on the sealed files' opener <api>/open in headless Chromium
// (t/98-sealed-browser-attacks.t): reads a JSON plan (argv[2]) and prints a
// JSON report. The plan: { url: <api>/open, other: a page of another origin,
// downloads: dir, steps: [...] }. A step is one of
//   { name, file, storage: {k: v}, fake: { keys: {status, body}, invoices: {status, body} }, click }
//     a fresh load of the page, the file chosen; a lying host's answers
//     (page.route) for <api>/keys/* and <api>/invoices; a button clicked
//     once the page offers;
//   { name, probe: 'sw-nav' | 'sw-same-origin' | 'cross-origin' | 'frame' }
// Every request to another origin, every console error and CSP violation
// is reported (per step).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const origin = new URL(plan.url).origin;
const api = plan.url.replace(/\/open$/, '');
const settled = ['offer', 'opened', 'refused', 'mismatch', 'foreign', 'invoice'];

function instrument() {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
  });
  window.alert = (m) => console.error(`ALERT ${m}`);
  try {
    if (location.pathname.endsWith('/open') && localStorage.getItem('atk-no-sw') === '1') {
      Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined });
    }
  } catch (e) { /* */ }
}

function readPage() {
  const text = (id) => { const e = document.getElementById(id); return e && !e.hidden ? e.textContent.trim() : null; };
  const st = {};
  for (let i = 0; i < localStorage.length; i++) st[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
  const a = (id) => document.getElementById(id).getAttribute('href');
  return {
    state: document.getElementById('opener').dataset.state || null,
    title: text('title'), product: text('product-path'), price: text('price'),
    mismatch: text('keyid-mismatch'), message: text('message'),
    invoice_address: text('invoice-address'), invoice_amount: text('invoice-amount'),
    bip21: a('invoice-bip21'), invoice_page: a('invoice-page'),
    pay: !document.getElementById('actions').hidden,
    injected: Array.from(document.querySelectorAll('main img, main script, main iframe, main a:not(.btn), main [onerror]'),
                         (e) => e.outerHTML.slice(0, 80)).filter((x) => !/wallet">your wallet/.test(x)).join(' '),
    storage: st,
  };
}

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitcache-atk-'));
  const out = { steps: [] };
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-dev-shm-usage'],
      acceptDownloads: true, serviceWorkers: 'allow',
    });
    await ctx.addInitScript(instrument);
    let cur = null;
    ctx.on('request', (r) => {
      if (!cur) return;
      const u = new URL(r.url());
      cur.requests.push(`${r.method()} ${r.url()}`);
      if (/^https?:$/.test(u.protocol) && u.origin !== origin && !r.url().startsWith(plan.other_origin || '\0')) {
        cur.external.push(r.url());
      }
    });
    const hook = (page) => {
      page.on('console', (m) => { if (cur && (m.type() === 'error' || m.type() === 'warning')) cur.console.push(m.text()); });
      page.on('pageerror', (e) => { if (cur) cur.page_errors.push(String(e)); });
      page.on('download', (d) => { if (cur) cur.dl.push(d); });
    };
    ctx.on('page', hook);
    const page = ctx.pages()[0] || await ctx.newPage();
    hook(page);
    page.setDefaultTimeout(20000);

    for (const step of plan.steps) {
      cur = { name: step.name, requests: [], external: [], console: [], page_errors: [], dl: [] };
      const res = cur;
      try {
        await page.unrouteAll({ behavior: 'ignoreErrors' });
        if (step.file) {
          if (step.fake) {
            for (const [what, ans] of Object.entries(step.fake)) {
              await page.route((u) => u.pathname.startsWith(new URL(api).pathname + '/' + what), (route) => route.fulfill({
                status: ans.status, contentType: 'application/json',
                body: typeof ans.body === 'string' ? ans.body : JSON.stringify(ans.body),
              }));
            }
          }
          await page.goto(plan.url, { waitUntil: 'load' });
          await page.waitForFunction(() => document.getElementById('opener').dataset.ready === '1');
          await page.evaluate((no) => { if (no) localStorage.setItem('atk-no-sw', '1'); else localStorage.removeItem('atk-no-sw'); }, !!step.nosw);
          if (step.nosw) {
            await page.reload({ waitUntil: 'load' });
            await page.waitForFunction(() => document.getElementById('opener').dataset.ready === '1');
          }
          if (step.storage) await page.evaluate((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, step.storage);
          await page.setInputFiles('#file', step.file);
          const wait = (s) => page.waitForFunction((x) => x.includes(document.getElementById('opener').dataset.state),
                                                    s, { timeout: 20000 });
          await wait(settled);
          if (step.click && await page.evaluate(() => document.getElementById('opener').dataset.state) === 'offer') {
            await page.click('#' + step.click);
            await wait(['invoice', 'refused', 'opened', 'mismatch']);
          }
          await page.waitForTimeout(step.wait || 600);
          Object.assign(res, await page.evaluate(readPage));
        } else if (step.probe === 'sw-nav') {
          // a navigation to the worker's URL without the page (a made-up id)
          const p2 = await ctx.newPage();
          const r = await p2.goto(`${api}/open/save/${'ab'.repeat(16)}/x.html`).catch((e) => null);
          res.status = r ? r.status() : null;
          res.type = r ? r.headers()['content-type'] : null;
          res.body = r ? (await r.text()).slice(0, 200) : null;
          res.sw = await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).map((x) => x.scope));
          await p2.close();
        } else if (step.probe === 'sw-same-origin') {
          // a script of this origin (any page the host serves) has the worker
          // answer a URL of its choice with bytes of its choice: what does
          // the browser do with them?
          await page.goto(plan.url, { waitUntil: 'load' });
          const id = 'cd'.repeat(16);
          res.posted = await page.evaluate(async ([id, api]) => {
            const reg = await navigator.serviceWorker.getRegistration(new URL(api).pathname + '/open/');
            if (!reg || !reg.active) return 'no worker';
            const ch = new MessageChannel();
            window.__port = ch.port1;
            const ready = new Promise((r) => { ch.port1.onmessage = (e) => { if (e.data.type === 'ready') r(); }; });
            reg.active.postMessage({ type: 'save', id, name: 'x.html', size: -1 }, [ch.port2]);
            await ready;
            ch.port1.postMessage({ type: 'chunk', bytes: new TextEncoder().encode('<script>alert(document.domain)</script>') });
            ch.port1.postMessage({ type: 'end' });
            return 'posted';
          }, [id, api]);
          const p2 = await ctx.newPage();
          const dl = p2.waitForEvent('download', { timeout: 5000 }).catch(() => null);
          const r = await p2.goto(`${api}/open/save/${id}/x.html`).catch((e) => String(e).split('\n')[0]);
          const d = await dl;
          res.nav = typeof r === 'string' ? r : { status: r && r.status(), type: r && r.headers()['content-type'] };
          res.download = d ? { name: d.suggestedFilename() } : null;
          res.rendered = await p2.evaluate(() => document.documentElement.outerHTML).catch(() => null);
          await p2.close();
        } else if (step.probe === 'cross-origin') {
          // another site: read the scripts, the page, the keys; talk to the worker
          await page.goto(plan.other, { waitUntil: 'load' });
          res.results = await page.evaluate(async ([api]) => {
            const r = {};
            const tryFetch = async (u, init) => {
              try { const x = await fetch(u, init); return `${x.status} ${x.type} ${(await x.text()).length}`; } catch (e) { return 'error'; }
            };
            r.open_js_cors = await tryFetch(api + '/open.js', { mode: 'cors' });
            r.open_js_nocors = await tryFetch(api + '/open.js', { mode: 'no-cors' });
            r.sw_js_cors = await tryFetch(api + '/open-sw.js', { mode: 'cors' });
            r.page_cors = await tryFetch(api + '/open', { mode: 'cors', credentials: 'include' });
            r.keys_cors = await tryFetch(api + '/keys/films/a.bin', { mode: 'cors', credentials: 'include' });
            r.script_tag = await new Promise((res) => {
              const s = document.createElement('script');
              s.src = api + '/open.js';
              s.onload = () => res('loaded'); s.onerror = () => res('blocked');
              document.head.appendChild(s);
            });
            r.sw_register = !navigator.serviceWorker ? 'no sw api'
              : await navigator.serviceWorker.register(api + '/open-sw.js').then(() => 'registered', () => 'refused');
            const w = window.open(api + '/open', 'x');
            await new Promise((res) => setTimeout(res, 1500));
            try { r.opened_storage = w.localStorage.length; } catch (e) { r.opened_storage = 'blocked'; }
            try { w.postMessage({ type: 'save', id: 'ab'.repeat(16) }, '*'); r.post = 'sent'; } catch (e) { r.post = 'error'; }
            r.opened_closed = String(w.closed);   // COOP same-origin: the handle is severed
            try { w.close(); } catch (e) { /* */ }
            return r;
          }, [api]);
        } else if (step.probe === 'same-origin-page') {
          // the opener kept a token (as after a purchase)
          await page.goto(plan.url, { waitUntil: 'load' });
          await page.evaluate((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, step.storage || {});
          await page.goto(step.url, { waitUntil: 'load' });
          res.tokens = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('bitcache-token:'))
            .map((k) => `${k}=${localStorage.getItem(k).slice(0, 8)}…`));
        } else if (step.probe === 'frame') {
          await page.goto(plan.other, { waitUntil: 'load' });
          res.results = await page.evaluate(async ([url]) => {
            const f = document.createElement('iframe');
            f.src = url;
            document.body.appendChild(f);
            await new Promise((res) => setTimeout(res, 1500));
            let inner;
            try { inner = f.contentDocument ? f.contentDocument.documentElement.outerHTML.length : 'null'; } catch (e) { inner = 'blocked'; }
            return { inner };
          }, [plan.url]);
          res.frame_ready = await Promise.all(page.frames().filter((f) => f !== page.mainFrame()).map((f) =>
            f.evaluate(() => document.getElementById('opener') ? 'opener loaded' : 'empty').catch(() => 'error')));
        }
      } catch (e) {
        res.error = String(e && e.message || e).split('\n')[0];
        try { Object.assign(res, await page.evaluate(readPage)); } catch (e2) { /* */ }
      }
      res.downloads = [];
      for (const d of res.dl) {
        const e = { suggested: d.suggestedFilename() };
        e.failure = await d.failure();
        if (!e.failure && plan.downloads) {
          e.path = path.join(plan.downloads, `${out.steps.length}-${e.suggested}`);
          await d.saveAs(e.path).catch(() => {});
          e.size = fs.existsSync(e.path) ? fs.statSync(e.path).size : null;
        }
        res.downloads.push(e);
      }
      delete res.dl;
      cur = null;
      out.steps.push(res);
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
