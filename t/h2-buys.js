// t/83's HTTP/2 client: GETs on one connection, all streams at once;
// usage: node t/h2-buys.js PORT AUTH CANCEL_EVERY KILL_AFTER_MS PATH...
// CANCEL_EVERY n > 0 resets every n-th stream (RST_STREAM CANCEL) right
// after sending it; KILL_AFTER_MS > 0 drops the connection then (when the
// streams have not all closed before). Prints one line, one status per
// path (0: reset or dropped).
const http2 = require('http2');
const [port, auth, cancelEvery, killAfter, ...paths] = process.argv.slice(2);
const s = http2.connect(`http://127.0.0.1:${port}`);
s.on('error', () => {});
const codes = new Array(paths.length).fill(0);
let left = paths.length, printed = false;
// one line, once: all streams closed, or the connection dropped first
const print = () => { if (!printed) { printed = true; console.log(codes.join(' ')); } };
const done = () => { if (--left === 0) { print(); s.close(); } };
paths.forEach((p, i) => {
  const st = s.request({ ':path': p, authorization: auth });
  st.on('response', (h) => { codes[i] = h[':status']; });
  st.on('data', () => {});
  st.on('close', done);
  st.on('error', () => {});
  st.end();
  if (+cancelEvery > 0 && i % +cancelEvery === 0) {
    setImmediate(() => st.close(http2.constants.NGHTTP2_CANCEL));
  }
});
if (+killAfter > 0) {
  setTimeout(() => { s.destroy(); print(); process.exit(0); }, +killAfter);
}
