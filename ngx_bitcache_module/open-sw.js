// The sealed files' opener's service worker (docs/sealed.md, "In the
// browser"), served as <api>/open-sw.js and registered by open.js with the
// scope <api>/open/. It answers one URL per download,
// <api>/open/save/<id>/<name>, with a stream that the opener page feeds
// through a MessageChannel port as it decrypts: the browser writes the
// file to disk as it comes, whatever its size. The page errors the stream
// when a chunk is refused, so the download fails and no whole file is left.
// It holds no key and no token, only plaintext in transit.
'use strict';

const HIGH_WATER = 16;            // chunks queued before the page waits
const saves = new Map();          // id -> { stream, name, size }

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

function save(id, name, size, port) {
  let received = 0;
  let acked = 0;
  let controller;
  // a chunk is acknowledged once the stream has room for it
  const ack = () => { acked = received; port.postMessage({ type: 'ack', n: acked }); };
  const stream = new ReadableStream({
    start(c) { controller = c; },
    pull() { if (acked < received) ack(); },
    cancel() {
      port.postMessage({ type: 'cancel' });
      port.close();
    },
  }, new CountQueuingStrategy({ highWaterMark: HIGH_WATER }));

  port.onmessage = (ev) => {
    const m = ev.data || {};
    if (m.type === 'chunk' && m.bytes instanceof Uint8Array) {
      controller.enqueue(m.bytes);
      received++;
      if (controller.desiredSize > 0) ack();
    } else if (m.type === 'end') {
      controller.close();
      port.close();
    } else if (m.type === 'error') {
      controller.error(new Error(String(m.reason || 'refused')));
      port.close();
      saves.delete(id);
    }
  };
  saves.set(id, { stream, name, size, port });
  port.postMessage({ type: 'ready' });
}

self.addEventListener('message', (ev) => {
  const m = ev.data || {};
  if (ev.origin && ev.origin !== self.location.origin) return;
  if (m.type === 'save' && typeof m.id === 'string' && /^[0-9a-f]{32}$/.test(m.id) && ev.ports[0]) {
    save(m.id, String(m.name || 'opened'), Number(m.size), ev.ports[0]);
  }
  // 'ping': a message event is enough to keep the worker alive
});

function disposition(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  const base = new URL('open/save/', self.registration.scope.replace(/open\/$/, ''));
  if (url.origin !== self.location.origin || !url.pathname.startsWith(base.pathname)) return;
  const id = url.pathname.slice(base.pathname.length).split('/')[0];
  const s = saves.get(id);
  if (!s) {
    ev.respondWith(new Response('This download is over, or was never started: open the file again.\n',
                                { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }));
    return;
  }
  saves.delete(id);                // one answer per download
  s.port.postMessage({ type: 'started' });
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': disposition(s.name),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  if (Number.isSafeInteger(s.size) && s.size >= 0) headers['Content-Length'] = String(s.size);
  ev.respondWith(new Response(s.stream, { headers }));
});
