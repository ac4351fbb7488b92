#!/usr/bin/env node
// An independent implementation of sealed files (docs/sealed.md), written
// from that page with Node's crypto only, not from libbitcache:
//   seal KEYHEX NONCEHEX CHUNK HOST PRODUCT TITLE < plain > sealed
//   open KEYHEX < sealed > plain       (exit 1, the reason on stderr)
//   header < sealed                    the header's fields, one a line
//   keyid KEYHEX                       the key's id
//   sealkey SECRETHEX                  seal_key
//   wrap SECRETHEX PRODUCT KEYHEX NONCEHEX      the wrapped key (Redis)
//   unwrap SECRETHEX PRODUCT IDHEX WRAPPEDHEX   the key
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const MAGIC = Buffer.from('BCSEALED');
const TAG = 16;

const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const lp = (b) => Buffer.concat([u16(b.length), b]);
const label = (s) => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);

class Refused extends Error {}
const refuse = (why) => { throw new Refused(why); };

function hex(s, n) {
  if (!/^[0-9a-fA-F]*$/.test(s) || s.length !== 2 * n) refuse(`not ${n} bytes of hex`);
  return Buffer.from(s, 'hex');
}

const keyId = (key) => sha256(Buffer.concat([label('bitcache/v1/sealed-key-id'), key])).subarray(0, 16);
const sealKey = (secret) => crypto.createHmac('sha256', secret).update('bitcache/v1/seal').digest();

function checkFields(h) {
  if (h.chunk < 1024 || h.chunk > 16 * 1024 * 1024) refuse('chunk size');
  const host = h.host.toString('latin1');
  if (h.host.length > 1024 || !/^https?:\/\/[\x21-\x7e]+$/.test(host)) refuse('host');
  if (h.product.length < 1 || h.product.length > 1024 || /[\x00-\x1f\x7f]/.test(h.product.toString('latin1')))
    refuse('product');
  if (h.title.length > 1024 || /[\x00-\x1f\x7f]/.test(h.title.toString('latin1'))) refuse('title');
}

function encodeHeader(h) {
  checkFields(h);
  return Buffer.concat([MAGIC, Buffer.from([1, 1]), u32(h.chunk), h.keyId, h.nonce,
                        lp(h.host), lp(h.product), lp(h.title)]);
}

function parseHeader(b) {
  if (b.length < 38) refuse('short header');
  if (!b.subarray(0, 8).equals(MAGIC)) refuse('magic');
  if (b[8] !== 1) refuse('version');
  if (b[9] !== 1) refuse('cipher');
  const h = { chunk: b.readUInt32BE(10), keyId: b.subarray(14, 30), nonce: b.subarray(30, 38) };
  let pos = 38;
  for (const f of ['host', 'product', 'title']) {
    if (b.length < pos + 2) refuse('short header');
    const n = b.readUInt16BE(pos);
    if (n > 1024) refuse(`${f} too long`);
    if (b.length < pos + 2 + n) refuse('short header');
    h[f] = b.subarray(pos + 2, pos + 2 + n);
    pos += 2 + n;
  }
  checkFields(h);
  h.length = pos;
  h.bytes = b.subarray(0, pos);
  return h;
}

function chunkIv(nonce, i) { return Buffer.concat([nonce, u32(i)]); }
function chunkAad(hh, last) { return Buffer.concat([hh, Buffer.from([last ? 1 : 0])]); }

function seal(key, nonce, chunk, host, product, title, plain) {
  const h = { chunk, keyId: keyId(key), nonce, host, product, title };
  const header = encodeHeader(h);
  const hh = sha256(header);
  const out = [header];
  const count = Math.max(1, Math.ceil(plain.length / chunk));
  for (let i = 0; i < count; i++) {
    const c = crypto.createCipheriv('aes-256-gcm', key, chunkIv(nonce, i));
    c.setAAD(chunkAad(hh, i === count - 1));
    out.push(c.update(plain.subarray(i * chunk, (i + 1) * chunk)), c.final(), c.getAuthTag());
  }
  return Buffer.concat(out);
}

function open(key, file) {
  const h = parseHeader(file);
  if (!crypto.timingSafeEqual(keyId(key), h.keyId)) refuse('another key');
  const hh = sha256(h.bytes);
  const body = file.length - h.length;
  const full = h.chunk + TAG;
  if (body < TAG) refuse('no chunk');
  const count = Math.ceil(body / full);
  const tail = body - (count - 1) * full;
  if (tail < TAG || (tail === TAG && count > 1)) refuse('bad last chunk');
  const out = [];
  for (let i = 0; i < count; i++) {
    const at = h.length + i * full;
    const len = i === count - 1 ? tail : full;
    const d = crypto.createDecipheriv('aes-256-gcm', key, chunkIv(h.nonce, i));
    d.setAAD(chunkAad(hh, i === count - 1));
    d.setAuthTag(file.subarray(at + len - TAG, at + len));
    try {
      out.push(d.update(file.subarray(at, at + len - TAG)), d.final());
    } catch (e) {
      refuse(`chunk ${i} does not verify`);
    }
  }
  return Buffer.concat(out);
}

function wrapAad(product, id) { return Buffer.concat([label('bitcache/v1/sealkey'), lp(product), id]); }

function wrap(secret, product, key, nonce) {
  const c = crypto.createCipheriv('aes-256-gcm', sealKey(secret), nonce);
  c.setAAD(wrapAad(product, keyId(key)));
  return Buffer.concat([nonce, c.update(key), c.final(), c.getAuthTag()]);
}

function unwrap(secret, product, id, w) {
  if (w.length !== 60) refuse('wrapped key length');
  const d = crypto.createDecipheriv('aes-256-gcm', sealKey(secret), w.subarray(0, 12));
  d.setAAD(wrapAad(product, id));
  d.setAuthTag(w.subarray(44, 60));
  let key;
  try { key = Buffer.concat([d.update(w.subarray(12, 44)), d.final()]); } catch (e) { refuse('unwrap'); }
  if (!keyId(key).equals(id)) refuse('key id');
  return key;
}

function writeAll(b) {
  for (let off = 0; off < b.length;) off += fs.writeSync(1, b, off, Math.min(b.length - off, 1 << 20));
}

const [cmd, ...a] = process.argv.slice(2);
try {
  const text = (s) => Buffer.from(s, 'utf8');
  switch (cmd) {
    case 'seal':
      writeAll(seal(hex(a[0], 32), hex(a[1], 8), Number(a[2]), text(a[3]), text(a[4]), text(a[5]),
                    fs.readFileSync(0)));
      break;
    case 'open':
      writeAll(open(hex(a[0], 32), fs.readFileSync(0)));
      break;
    case 'header': {
      const h = parseHeader(fs.readFileSync(0));
      console.log([h.chunk, h.keyId.toString('hex'), h.nonce.toString('hex'), h.host, h.product,
                   h.title, h.length].join('\n'));
      break;
    }
    case 'keyid': console.log(keyId(hex(a[0], 32)).toString('hex')); break;
    case 'sealkey': console.log(sealKey(Buffer.from(a[0], 'hex')).toString('hex')); break;
    case 'wrap':
      console.log(wrap(Buffer.from(a[0], 'hex'), text(a[1]), hex(a[2], 32), hex(a[3], 12)).toString('hex'));
      break;
    case 'unwrap':
      console.log(unwrap(Buffer.from(a[0], 'hex'), text(a[1]), hex(a[2], 16), hex(a[3], 60)).toString('hex'));
      break;
    default:
      console.error('usage: sealed.js seal|open|header|keyid|sealkey|wrap|unwrap ...');
      process.exit(2);
  }
} catch (e) {
  if (!(e instanceof Refused)) throw e;
  console.error(`refused: ${e.message}`);
  process.exit(1);
}
