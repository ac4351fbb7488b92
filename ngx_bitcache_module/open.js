// The sealed files' opener (docs/sealed.md, "In the browser"), served as
// <api>/open.js to the page <api>/open. A buyer drops a sealed copy: the
// header is read and checked as the C reader does (libbitcache/sealed_*.c),
// the key is asked of this host only (a copy of another host is never sent
// anywhere), bought if needed (an invoice, the Bitcache wallet of this
// browser, or a free copy), imported into WebCrypto as not extractable, and
// the copy decrypted chunk by chunk into a download streamed through
// open-sw.js (or, without service workers, a Blob). Only the token is kept
// (localStorage, one entry per product); never the key.
'use strict';

(function () {
  const MAGIC = 'BCSEALED';
  const FIELD_MAX = 1024;
  const HEADER_MAX = 44 + 3 * FIELD_MAX;
  const CHUNK_MIN = 1024;
  const CHUNK_MAX = 16777216;
  const TAG = 16;
  const GROUP_BYTES = 1 << 20;      // read from the file at a time (whole chunks)
  const IN_FLIGHT = 4;              // groups read and decrypting at once
  const QUEUE = 32;                 // chunks sent to the worker, not yet taken
  const POLL_MS = 2000;
  const TOKEN_PREFIX = 'bitcache-token:';

  const $ = (id) => document.getElementById(id);
  const root = $('opener');
  const apiPath = (root.dataset.api || '').replace(/\/+$/, '');
  const api = location.origin + apiPath;
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8');

  class Refused extends Error {}
  const refuse = (why) => { throw new Refused(why); };

  let busy = false;
  let pollTimer = null;

  function show(id, on) { $(id).hidden = !on; }

  function message(text, kind) {
    const m = $('message');
    m.textContent = text;
    m.className = 'msg' + (kind ? ' ' + kind : '');
    m.hidden = !text;
  }

  function reset() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    for (const id of ['product', 'price', 'keyid-mismatch', 'pwyw', 'actions', 'wallet-buy', 'free',
                      'invoice', 'work']) show(id, false);
    $('title').textContent = '';
    $('product-path').textContent = '';
    $('rate').textContent = '';
    delete $('rate').dataset.mbPerSec;
    delete root.dataset.state;
    message('');
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function unhex(s) {
    if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/.test(s)) return null;
    const b = new Uint8Array(s.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
    return b;
  }

  async function sha256(data) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  }

  // ---- the header (docs/sealed.md, "Header"), refused as the C reader does

  function parseHeader(b, fileSize) {
    let o = 0;
    const need = (n) => { if (o + n > b.length) refuse('the file ends inside its header'); };
    const u16 = () => { need(2); const v = (b[o] << 8) | b[o + 1]; o += 2; return v; };
    const take = (n) => { need(n); const v = b.subarray(o, o + n); o += n; return v; };

    need(8);
    for (let i = 0; i < 8; i++) if (b[i] !== MAGIC.charCodeAt(i)) refuse('not a sealed file (no BCSEALED at its start)');
    o = 8;
    if (take(1)[0] !== 1) refuse('a sealed file of another version');
    if (take(1)[0] !== 1) refuse('a sealed file with another cipher');
    const c = take(4);
    const chunk = ((c[0] << 24) >>> 0) + (c[1] << 16) + (c[2] << 8) + c[3];
    if (chunk < CHUNK_MIN || chunk > CHUNK_MAX) refuse('its chunk size is out of bounds');
    const keyId = take(16).slice();
    const nonce = take(8).slice();
    const field = (name, min) => {
      const n = u16();
      if (n > FIELD_MAX) refuse(`its ${name} is longer than ${FIELD_MAX} bytes`);
      if (n < min) refuse(`its ${name} is empty`);
      return take(n).slice();
    };
    const host = field('host', 1);
    const product = field('product', 1);
    const title = field('title', 0);

    const hostText = String.fromCharCode.apply(null, host);
    if (!/^https?:\/\//.test(hostText)) refuse('its host is not an http:// or https:// URL');
    if (host.some((x) => x < 0x21 || x > 0x7e)) refuse('its host holds a byte a URL may not');
    const control = (x) => x < 0x20 || x === 0x7f;
    if (product.some(control)) refuse('its product holds a control character');
    if (title.some(control)) refuse('its title holds a control character');

    const h = {
      length: o, chunk, keyId, nonce, host: hostText, productBytes: product,
      product: dec.decode(product), title: dec.decode(title),
    };
    // the chunks (docs/sealed.md, "Seeking"): whatever follows the header
    const rest = fileSize - o;
    if (rest < TAG) refuse('the file ends before its first chunk\'s tag (cut)');
    h.chunks = Math.max(1, Math.ceil(rest / (chunk + TAG)));
    const last = rest - (h.chunks - 1) * (chunk + TAG);
    if (last < TAG) refuse(`chunk ${h.chunks - 1}: under ${TAG} bytes (cut or extended)`);
    if (last === TAG && h.chunks > 1) refuse(`chunk ${h.chunks - 1}: an empty last chunk after others (no sealer writes that)`);
    if (h.chunks > 0x100000000) refuse('more than 2^32 chunks');
    h.plainSize = rest - h.chunks * TAG;
    return h;
  }

  // the product's path, each segment's bytes percent-encoded
  function productUrl(bytes) {
    let s = '';
    for (const x of bytes) {
      const ch = String.fromCharCode(x);
      s += /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(ch) ? ch : '%' + x.toString(16).toUpperCase().padStart(2, '0');
    }
    return s.charAt(0) === '/' ? s : '/' + s;
  }

  // ---- the host's API

  async function api_json(method, path, body, headers) {
    const init = { method, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
                   headers: Object.assign({ Accept: 'application/json' }, headers || {}) };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(api + path, init);
    } catch (e) {
      return { status: 0, json: {} };
    }
    let json = {};
    try { json = await r.json(); } catch (e) { json = {}; }
    return { status: r.status, json: json && typeof json === 'object' ? json : {} };
  }

  const tokenKey = (h) => TOKEN_PREFIX + h.product;

  function keptToken(h) {
    try { return localStorage.getItem(tokenKey(h)); } catch (e) { return null; }
  }

  function keepToken(h, token) {
    try {
      if (token) localStorage.setItem(tokenKey(h), token);
      else localStorage.removeItem(tokenKey(h));
    } catch (e) { /* storage off: the token works for this visit */ }
  }

  async function askKey(h, token) {
    const q = token ? '?bitcache_token=' + encodeURIComponent(token) : '';
    return api_json('GET', '/keys' + productUrl(h.productBytes) + q);
  }

  function why(r) {
    const j = r.json;
    if (r.status === 0) return 'the host did not answer';
    if (r.status === 503) return 'the host is busy, please retry in a moment';
    if (r.status === 404 && j.error === 'not_sealed') return 'the host has no key for this product (not sealed there, or sealed again with a new key)';
    if (r.status === 404 && j.error === 'not_for_sale') return 'the host does not sell this product';
    if (r.status === 409) return 'the host\'s key record for this product is not valid (the operator has been told)';
    return (j.reason || j.error || 'the host answered ' + r.status);
  }

  // ---- opening

  async function openFile(file) {
    if (busy) return;
    busy = true;
    reset();
    try {
      const head = new Uint8Array(await file.slice(0, HEADER_MAX).arrayBuffer());
      const h = parseHeader(head, file.size);
      h.file = file;
      h.headerHash = await sha256(head.subarray(0, h.length));

      $('title').textContent = h.title || file.name;
      $('product-path').textContent = h.product;
      show('product', true);

      // only this host's copies: nothing is sent for another's
      if (h.host.replace(/\/+$/, '') !== api) {
        root.dataset.state = 'foreign';
        refuse(`this copy is sold by ${h.host}, not by this host: open it on that host's page (${h.host}/open)`);
      }
      // a path as the host sells it (its key route and `bitcache seal`
      // refuse the rest): no empty, "." or ".." segment that fetch would
      // resolve to another URL, no '?'
      if (h.product.charAt(0) !== '/' || h.product.indexOf('?') >= 0
          || h.product.slice(1).split('/').some((x) => x === '' || x === '.' || x === '..')) {
        refuse('its product is not a path this host can sell');
      }
      await fetchKey(h);
    } catch (e) {
      busy = false;
      root.dataset.state = root.dataset.state || 'refused';
      message(e instanceof Refused ? 'Refused: ' + e.message : 'Failed: ' + (e && e.message || e), 'bad');
    }
  }

  async function fetchKey(h) {
    const token = keptToken(h);
    message('Asking the host for the key…');
    if (token) {
      // the key id first, without the token: each answer with the key
      // spends one of the token's fetches, and a copy sealed with another
      // key (sealed again since, or a header anyone can make with this
      // product's name) must not spend one on a key that does not open it
      const q = await askKey(h, null);
      if (q.status === 200) {
        await decryptWith(h, q.json.key);
        return;
      }
      if (q.status !== 402) refuse(why(q));
      if (typeof q.json.key_id !== 'string' || q.json.key_id !== hex(h.keyId)) {
        offer(h, q.json);               // says why (another key, or not sold now)
        if (root.dataset.state === 'offer') {
          root.dataset.state = 'refused';
          show('actions', false);
          show('pwyw', false);
          message('Refused: the host did not name this copy\'s key; your token was not used.', 'bad');
        }
        return;
      }
    }
    const r = await askKey(h, token);
    if (r.status === 200) {
      await decryptWith(h, r.json.key);
      return;
    }
    if (r.status === 402) {
      if (token) keepToken(h, null);     // refused (used up, expired, revoked): buy again
      offer(h, r.json);
      return;
    }
    refuse(why(r));
  }

  function offer(h, j) {
    busy = false;
    root.dataset.state = 'offer';
    message('');
    // the copy's own title first: the host's is the product's path when
    // the creator gave it none
    if (!h.title && j.title) $('title').textContent = j.title;
    const price = Number(j.price_sats) || 0;
    const suggested = Number(j.suggested_sats) || 0;
    $('price').textContent = price ? `${price} sats (${j.price_btc} BTC)` : 'Free';
    show('price', true);

    if (typeof j.offer !== 'string' || !j.offer) {
      root.dataset.state = 'refused';
      message('Refused: the host does not sell this product now (' + (j.reason || 'no offer') + ')', 'bad');
      show('price', false);
      return;
    }
    if (typeof j.key_id === 'string' && j.key_id !== hex(h.keyId)) {
      root.dataset.state = 'mismatch';
      $('keyid-mismatch').textContent = 'This copy was sealed with another key than the one this host sells '
        + 'for this product (it was sealed again since): buying would not open it. Get a new copy from the creator.';
      show('keyid-mismatch', true);
      return;
    }

    if (suggested > price) {
      $('amount-min').textContent = String(price);
      $('amount').min = String(price);
      $('amount').value = String(suggested);
      show('pwyw', true);
    }
    show('wallet-buy', !!j.wallet_buy_url);
    show('free', Number(j.free_left) > 0 && !!j.free_url);
    show('actions', true);

    $('pay').onclick = () => payInvoice(h, j.offer, suggested > price ? Number($('amount').value) : 0);
    $('wallet-buy').onclick = () => payWallet(h, j.offer);
    $('free').onclick = () => freeCopy(h, j.offer);
  }

  function guard(fn) {
    return async (...a) => {
      if (busy) return;
      busy = true;
      try {
        await fn(...a);
      } catch (e) {
        busy = false;
        root.dataset.state = 'refused';
        message(e instanceof Refused ? 'Refused: ' + e.message : 'Failed: ' + (e && e.message || e), 'bad');
      }
    };
  }

  const payInvoice = guard(async (h, offer, amount) => {
    const body = { offer };
    if (amount) body.amount = amount;
    const r = await api_json('POST', '/invoices', body);
    if (r.status !== 201 || !r.json.id || !r.json.claim) refuse('no invoice: ' + why(r));
    const inv = r.json;
    show('actions', false);
    show('pwyw', false);
    $('invoice-amount').textContent = String(inv.amount_sats);
    $('invoice-btc').textContent = String(inv.amount_btc);
    $('invoice-address').textContent = inv.address;
    $('invoice-bip21').href = /^bitcoin:/i.test(inv.bip21 || '') ? inv.bip21 : '#';
    $('invoice-page').href = api + '/invoices/' + encodeURIComponent(inv.id);
    $('invoice-state').textContent = 'Waiting for the payment…';
    show('invoice', true);
    root.dataset.state = 'invoice';
    message('');
    busy = false;
    poll(h, inv);
  });

  function poll(h, inv) {
    pollTimer = setTimeout(async () => {
      pollTimer = null;
      const r = await api_json('GET', '/invoices/' + encodeURIComponent(inv.id), undefined,
                               { 'X-Bitcache-Claim': inv.claim });
      const j = r.json;
      if (r.status === 200 && j.token) {
        keepToken(h, j.token);
        $('invoice-state').textContent = 'Paid.';
        busy = true;
        try {
          await fetchKey(h);
        } catch (e) {
          busy = false;
          message((e instanceof Refused ? 'Refused: ' : 'Failed: ') + e.message, 'bad');
        }
        return;
      }
      if (j.state === 'expired' || r.status === 409 || r.status === 404) {
        $('invoice-state').textContent = 'This invoice ' + (j.state === 'expired' ? 'expired' : 'cannot be paid') + ': open the copy again for a new one.';
        return;
      }
      if (j.state) $('invoice-state').textContent = j.state === 'seen'
        ? 'Payment seen, waiting for its confirmation…' : 'Waiting for the payment…';
      poll(h, inv);
    }, POLL_MS);
  }

  const payWallet = guard(async (h, offer) => {
    const key = hex(crypto.getRandomValues(new Uint8Array(16)));
    const r = await api_json('POST', '/wallet/buy', { offer, key });
    if (r.status !== 200 || !r.json.token) {
      refuse(r.status === 402 ? 'the wallet\'s balance is too low: top it up on your wallet page'
             : r.status === 401 ? 'no Bitcache wallet in this browser' : 'the wallet did not buy: ' + why(r));
    }
    keepToken(h, r.json.token);
    await fetchKey(h);
  });

  const freeCopy = guard(async (h, offer) => {
    const r = await api_json('POST', '/free', { offer });
    if (r.status !== 201 || !r.json.token) refuse('no free copy: ' + why(r));
    keepToken(h, r.json.token);
    await fetchKey(h);
  });

  // ---- the key and the chunks

  async function importKey(h, keyHex) {
    const raw = unhex(keyHex);
    if (!raw || raw.length !== 32) refuse('the host sent no valid key');
    const label = enc.encode('bitcache/v1/sealed-key-id\0');
    const m = new Uint8Array(label.length + 32);
    m.set(label);
    m.set(raw, label.length);
    const id = (await sha256(m)).subarray(0, 16);
    m.fill(0);
    let same = id.length === h.keyId.length;
    for (let i = 0; i < 16; i++) same = same && id[i] === h.keyId[i];
    if (!same) { raw.fill(0); refuse('the key is not this file\'s'); }
    try {
      return await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
    } finally {
      raw.fill(0);
    }
  }

  function filename(h) {
    const n = (h.file.name || '').replace(/\.(bc)?sealed$/i, '');
    const t = n && n !== h.file.name ? n : h.title;
    const s = (t || 'opened').replace(/[\\/\x00-\x1f\x7f]/g, '_').trim();
    return s || 'opened';
  }

  // Chunks first .. first + count - 1: one read, each chunk decrypted
  // (nonce: the file's and its index; AAD: the header's hash and the last
  // mark). Resolves to their plaintexts, or rejects naming the first chunk
  // that does not verify.
  async function decryptGroup(h, key, first, count) {
    const size = h.chunk + TAG;
    const start = h.length + first * size;
    const end = first + count === h.chunks ? h.file.size : start + count * size;
    const data = new Uint8Array(await h.file.slice(start, end).arrayBuffer());
    const jobs = [];
    for (let k = 0; k < count; k++) {
      const i = first + k;
      const last = i === h.chunks - 1;
      const iv = new Uint8Array(12);
      iv.set(h.nonce);
      new DataView(iv.buffer).setUint32(8, i);
      const aad = new Uint8Array(33);
      aad.set(h.headerHash);
      aad[32] = last ? 1 : 0;
      const c = data.subarray(k * size, last ? data.length : (k + 1) * size);
      jobs.push(crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, key, c));
    }
    const res = await Promise.allSettled(jobs);
    const bad = res.findIndex((x) => x.status !== 'fulfilled');
    if (bad >= 0) {
      throw new Refused(`chunk ${first + bad} of ${h.chunks}: it does not verify (the copy was changed, cut or has bytes added)`);
    }
    return res.map((x) => new Uint8Array(x.value));
  }

  async function decryptWith(h, keyHex) {
    const key = await importKey(h, keyHex);
    let sink = null;                  // opened once the first chunks verified
    show('actions', false);
    show('invoice', false);
    show('pwyw', false);
    show('work', true);
    root.dataset.state = 'decrypting';
    message('Decrypting…');
    const bar = $('progress');
    bar.max = h.chunks;
    bar.value = 0;
    const t0 = performance.now();
    let done = 0;
    let bytes = 0;
    const per = Math.max(1, Math.floor(GROUP_BYTES / (h.chunk + TAG)));
    const pending = [];
    let next = 0;
    try {
      while (done < h.chunks) {
        while (next < h.chunks && pending.length < IN_FLIGHT) {
          const count = Math.min(per, h.chunks - next);
          const p = decryptGroup(h, key, next, count);
          p.catch(() => {});            // awaited in order below
          pending.push(p);
          next += count;
        }
        const plains = await pending.shift();
        if (!sink) sink = await openSink(filename(h), h.plainSize);
        for (const plain of plains) {
          bytes += plain.length;       // before write: the stream takes the buffer
          await sink.write(plain);
          done++;
        }
        bar.value = done;
        const secs = (performance.now() - t0) / 1000;
        $('rate').textContent = `${(bytes / 1e6).toFixed(1)} of ${(h.plainSize / 1e6).toFixed(1)} MB · `
          + `${secs > 0 ? (bytes / 1e6 / secs).toFixed(1) : '…'} MB/s`;
      }
      await sink.close();
    } catch (e) {
      if (sink) sink.abort(e instanceof Refused ? e.message : String(e && e.message || e));
      busy = false;
      root.dataset.state = 'refused';
      message('Refused: ' + (e instanceof Refused ? e.message : String(e && e.message || e)) + '. Nothing was saved.', 'bad');
      return;
    }
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? bytes / 1e6 / secs : 0;
    $('rate').dataset.mbPerSec = rate.toFixed(1);
    $('rate').textContent = `${(bytes / 1e6).toFixed(1)} MB in ${secs.toFixed(2)} s · ${rate.toFixed(1)} MB/s`;
    root.dataset.state = 'opened';
    message(`Opened: ${filename(h)} (${bytes} bytes) is saved by your browser.`, 'ok');
    busy = false;
  }

  // ---- where the plaintext goes: a stream through the service worker, or
  // a Blob where there is none

  let worker = null;

  async function serviceWorker() {
    if (worker) return worker;
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return null;
    try {
      // the page is not in the worker's scope: wait for its activation
      // (navigator.serviceWorker.ready would wait for a controller forever)
      const reg = await navigator.serviceWorker.register(apiPath + '/open-sw.js', { scope: apiPath + '/open/' });
      const sw = reg.active || await new Promise((resolve, reject) => {
        const w = reg.installing || reg.waiting;
        if (!w) { reject(new Error('no worker')); return; }
        w.addEventListener('statechange', () => {
          if (w.state === 'activated') resolve(w);
          if (w.state === 'redundant') reject(new Error('the worker did not start'));
        });
      });
      worker = sw;
      return sw;
    } catch (e) {
      return null;
    }
  }

  async function openSink(name, size) {
    const sw = await serviceWorker();
    return sw ? streamSink(sw, name, size) : blobSink(name);
  }

  // The worker answers <api>/open/save/<id>/<name> with a stream fed by
  // this port; a hidden frame navigates there, which the browser saves as
  // a download. A chunk is acknowledged once the stream wants more
  // (backpressure); an abort errors the stream, so no whole file is left.
  async function streamSink(sw, name, size) {
    const id = hex(crypto.getRandomValues(new Uint8Array(16)));
    const ch = new MessageChannel();
    const port = ch.port1;
    let acked = 0;
    let sent = 0;
    let waiter = null;
    let failed = null;
    let started;
    const fetched = new Promise((resolve) => { started = resolve; });
    const ready = new Promise((resolve) => {
      port.onmessage = (ev) => {
        const m = ev.data || {};
        if (m.type === 'ready') resolve();
        else if (m.type === 'started') started();
        else if (m.type === 'ack') acked = m.n;
        else if (m.type === 'cancel') failed = 'the download was cancelled';
        if (waiter) { const w = waiter; waiter = null; w(); }
      };
    });
    sw.postMessage({ type: 'save', id, name, size }, [ch.port2]);
    await ready;
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = apiPath + '/open/save/' + id + '/' + encodeURIComponent(name);
    document.body.appendChild(frame);
    await fetched;                    // the frame's request reached the worker
    // message events keep the worker alive while the download runs
    const ping = setInterval(() => sw.postMessage({ type: 'ping' }), 10000);
    const done = () => { clearInterval(ping); setTimeout(() => frame.remove(), 60000); };
    return {
      async write(bytes) {
        if (failed) throw new Error(failed);
        port.postMessage({ type: 'chunk', bytes }, [bytes.buffer]);
        sent++;
        while (sent - acked > QUEUE && !failed) await new Promise((r) => { waiter = r; });
        if (failed) throw new Error(failed);
      },
      async close() {
        port.postMessage({ type: 'end' });
        done();
      },
      abort(reason) {
        port.postMessage({ type: 'error', reason });
        done();
      },
    };
  }

  function blobSink(name) {
    const parts = [];
    return {
      async write(bytes) { parts.push(bytes); },
      async close() {
        const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
        parts.length = 0;
        const a = document.createElement('a');
        a.href = url;
        a.download = name;
        a.hidden = true;
        document.body.appendChild(a);
        a.click();
        setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 60000);
      },
      abort() { parts.length = 0; },
    };
  }

  // ---- the drop zone

  const drop = $('drop');
  $('file').addEventListener('change', () => {
    const f = $('file').files[0];
    if (f) openFile(f);
  });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) openFile(f);
  });
  root.dataset.ready = '1';
}());
