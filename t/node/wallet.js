#!/usr/bin/env node
// An independent implementation of the wallet records of docs/protocol.md
// ("Wallet records"), written from that page with Node's crypto, the npm
// `bech32` package and tiny-secp256k1, not from libbitcache. Reads
// commands, one a line, fields split by tabs; answers one line each
// ("error" when the input is refused), the same as build/tools/wallet_tool:
//   code SECRET                       -> CODE \t WID
//   decode TYPEDHEX                   -> SECRET (the code as typed, its bytes in hex)
//   state KEY WID NET CREATED SEQ BAL HEAD AUTO -> MAC
//   credit KEY WID SEQ BAL TIME PREV INVOICE NET RECEIVED CONF PAID_AT SPK ATT
//                                     -> TEXT \t HASH
//   debit KEY WID SEQ AMOUNT BAL TIME PREV PURCHASE USES EXPIRES PRODUCTHEX SELLERHEX
//                                     -> TEXT \t HASH
//   owned KEY WID PURCHASE USES EXPIRES SEQ PRODUCTHEX -> VALUE
//   ownparse KEY WID PRODUCTHEX VALUE -> PURCHASE USES EXPIRES SEQ MAC
//   parse TEXTHEX                     -> the entry's fields, products in hex
//   verify KEY WID TEXTHEX            -> 1 or 0 (the MAC)
//   att WATCHERPUB TEXTHEX            -> 1 or 0 (a credit's attestation)
// KEY is the bitcache secret (hex), as in the secret file.
'use strict';
const crypto = require('crypto');
const readline = require('readline');
const { bech32m } = require('bech32');
const ecc = require('tiny-secp256k1');

const MAX_SATS = 2100000000000000n;
const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;
const ENTRY_MAX = 2400 + 2 * 34;          // text with its NUL
const FIELD_MAX = 1024;
const GENESIS = [
  '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
];

const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const hmac = (k, m) => crypto.createHmac('sha256', k).update(m).digest();
const invoiceKey = (secretHex) => hmac(Buffer.from(secretHex, 'hex'), 'bitcache/v1/invoice');
const label = (s) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);

function taggedHash(tag, data) {
  const t = sha256(Buffer.from(tag, 'utf8'));
  return sha256(Buffer.concat([t, t, data]));
}

function uint(n, bytes) {
  const b = Buffer.alloc(bytes);
  let v = BigInt(n);
  for (let i = bytes - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

class Refused extends Error {}
const refuse = (why) => { throw new Refused(why); };

// decimal, no sign, no leading zero, at most max
function dec(s, max) {
  if (!/^(0|[1-9][0-9]{0,19})$/.test(s)) refuse(`not a number: ${s}`);
  const v = BigInt(s);
  if (v > max) refuse(`too big: ${s}`);
  return v;
}

function hexExact(s, n) {
  if (s.length !== 2 * n || !/^[0-9a-f]*$/.test(s)) refuse(`not ${n} bytes of hex`);
  return Buffer.from(s, 'hex');
}

// base64url without padding, one spelling (what re-encodes the same)
function b64strict(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) refuse('not base64url');
  const b = Buffer.from(s, 'base64url');
  if (b.toString('base64url') !== s) refuse('not canonical base64url');
  return b;
}

// ---- the code and the wallet id ----

function codeOf(secret) {
  return bech32m.encode('bcw', bech32m.toWords(secret), 90);
}

function walletId(secret) {
  return taggedHash('bitcache/v1/wallet-id', secret).subarray(0, 16);
}

function decodeCode(typed) {
  if (typed.length > 128) refuse('too long');
  const s = typed.replace(/[ \t-]/g, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (s.length !== 42 || !s.startsWith('bcw1')) refuse('not a code');
  let d;
  try {
    d = bech32m.decode(s, 90);
  } catch (e) {
    refuse('checksum');
  }
  if (d.prefix !== 'bcw' || d.words.length !== 32) refuse('not a code');
  return Buffer.from(bech32m.fromWords(d.words));
}

// ---- the state ----

function stateMac(key, wid, net, created, seq, bal, head, auto) {
  return hmac(key, Buffer.concat([label('bitcache/v1/wallet-state'), wid, uint(net, 1),
    uint(created, 8), uint(seq, 8), uint(bal, 8), head, uint(auto, 8)]));
}

// ---- ledger entries ----

const entryMac = (key, wid, text) =>
  hmac(key, Buffer.concat([label('bitcache/v1/wallet-entry'), wid, Buffer.from(text, 'latin1')]));

function finishEntry(key, wid, body) {
  if (body.length + 1 + 64 + 1 > ENTRY_MAX) refuse('too long');
  const text = `${body} ${entryMac(key, wid, body).toString('hex')}`;
  return [text, sha256(Buffer.from(text, 'latin1')).toString('hex')];
}

const ZERO32 = Buffer.alloc(32);

function checkSeqPrev(seq, prev) {
  if (seq === 0n) refuse('seq 0');
  if (seq === 1n && !prev.equals(ZERO32)) refuse('entry 1 has a prev');
}

function credit(key, wid, a) {
  const [seq, bal, time, prev, invoice, net, received, conf, paidAt, spk, att] = a;
  const s = dec(seq, U64);
  const p = hexExact(prev, 32);
  checkSeqPrev(s, p);
  dec(bal, MAX_SATS);
  if (dec(received, MAX_SATS) === 0n) refuse('nothing received');
  if (Number(dec(net, 255n)) >= GENESIS.length) refuse('network');
  hexExact(invoice, 16);
  if (spk.length === 0 || spk.length > 68) refuse('spk');
  hexExact(spk, spk.length / 2);
  hexExact(att, 64);
  const body = ['w1', seq, 'credit', received, bal, dec(time, U64).toString(), prev, invoice,
    net, received, dec(conf, U32).toString(), dec(paidAt, U64).toString(), spk, att].join(' ');
  return finishEntry(key, wid, body);
}

function debit(key, wid, a) {
  const [seq, amount, bal, time, prev, purchase, uses, expires, productHex, sellerHex] = a;
  const s = dec(seq, U64);
  const p = hexExact(prev, 32);
  checkSeqPrev(s, p);
  const product = Buffer.from(productHex, 'hex');
  const seller = Buffer.from(sellerHex, 'hex');
  if (product.length === 0 || product.length > FIELD_MAX
      || seller.length === 0 || seller.length > FIELD_MAX) refuse('product or seller');
  hexExact(purchase, 16);
  const body = ['w1', seq, 'debit', dec(amount, MAX_SATS).toString(), dec(bal, MAX_SATS).toString(),
    dec(time, U64).toString(), prev, purchase, dec(uses, U32).toString(),
    dec(expires, U64).toString(), product.toString('base64url'),
    seller.toString('base64url')].join(' ');
  return finishEntry(key, wid, body);
}

// The entry's fields, or a refusal: the reader of docs/protocol.md.
function parseEntry(text) {
  if (text.length >= ENTRY_MAX) refuse('too long');
  const t = text.split(' ');
  if (t.length > 15) refuse('too many fields');
  if (t.some((x) => x.length === 0)) refuse('empty field');
  if (t.length < 3 || t[0] !== 'w1') refuse('not w1');
  const e = { kind: t[2] };
  if (t[2] === 'credit') {
    if (t.length !== 15) refuse('credit fields');
  } else if (t[2] === 'debit') {
    if (t.length !== 13) refuse('debit fields');
  } else {
    refuse('kind');
  }
  e.seq = dec(t[1], U64);
  e.amount = dec(t[3], MAX_SATS);
  e.bal = dec(t[4], MAX_SATS);
  e.time = dec(t[5], U64);
  e.prev = hexExact(t[6], 32);
  checkSeqPrev(e.seq, e.prev);
  if (e.kind === 'credit') {
    e.invoice = hexExact(t[7], 16);
    e.net = Number(dec(t[8], 255n));
    if (e.net >= GENESIS.length) refuse('network');
    e.received = dec(t[9], MAX_SATS);
    if (e.received === 0n || e.received !== e.amount) refuse('received');
    e.conf = dec(t[10], U32);
    e.paidAt = dec(t[11], U64);
    if (t[12].length % 2 !== 0 || t[12].length > 68) refuse('spk');
    e.spk = hexExact(t[12], t[12].length / 2);
    e.att = hexExact(t[13], 64);
  } else {
    e.purchase = hexExact(t[7], 16);
    e.uses = dec(t[8], U32);
    e.expires = dec(t[9], U64);
    for (const [i, name] of [[10, 'product'], [11, 'seller']]) {
      if (t[i].length > Math.floor((FIELD_MAX * 4 + 2) / 3)) refuse(name);
      const b = b64strict(t[i]);
      if (b.length === 0 || b.length > FIELD_MAX) refuse(name);
      e[name] = b;
    }
  }
  e.mac = hexExact(t[t.length - 1], 32);
  return e;
}

function entryFields(e) {
  const h = (b) => b.toString('hex');
  const common = [e.kind, e.seq, e.amount, e.bal, e.time, h(e.prev)];
  const rest = e.kind === 'credit'
    ? [h(e.invoice), e.net, e.received, e.conf, e.paidAt, h(e.spk), h(e.att)]
    : [h(e.purchase), e.uses, e.expires, h(e.product), h(e.seller)];
  return [...common, ...rest, h(e.mac)].join('\t');
}

function verifyEntry(key, wid, text) {
  if (text.length < 65 || text.length >= ENTRY_MAX || text[text.length - 65] !== ' ') return false;
  const want = text.slice(-64);
  if (!/^[0-9a-f]{64}$/.test(want)) return false;
  return crypto.timingSafeEqual(entryMac(key, wid, text.slice(0, -65)), Buffer.from(want, 'hex'));
}

function attOk(watcherPub, e) {
  if (e.kind !== 'credit') return false;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(e.spk.length);
  const msg = taggedHash('bitcache/v2/payment', Buffer.concat([
    Buffer.from(GENESIS[e.net], 'hex'), e.invoice, len, e.spk, uint(e.received, 8),
    uint(e.conf, 4), uint(e.paidAt, 8)]));
  try {
    return ecc.verifySchnorr(msg, watcherPub, e.att);
  } catch (err) {
    return false;                           // not a key, or not a signature
  }
}

// ---- ownership ----

function ownedMac(key, wid, purchase, uses, expires, seq, product) {
  return hmac(key, Buffer.concat([label('bitcache/v1/wallet-own'), wid, purchase, uint(uses, 4),
    uint(expires, 8), uint(seq, 8), product]));
}

function owned(key, wid, a) {
  const [purchase, uses, expires, seq, productHex] = a;
  const product = Buffer.from(productHex, 'hex');
  if (product.length === 0 || product.length > FIELD_MAX) refuse('product');
  const u = dec(uses, U32);
  const x = dec(expires, U64);
  const s = dec(seq, U64);
  if (s === 0n) refuse('seq 0');
  const mac = ownedMac(key, wid, hexExact(purchase, 16), u, x, s, product);
  return [purchase, u, x, s, mac.toString('hex')].join(' ');
}

function ownParse(key, wid, productHex, value) {
  const product = Buffer.from(productHex, 'hex');
  if (value.length >= 151) refuse('too long');
  const t = value.split(' ');
  if (t.length !== 5) refuse('fields');
  const purchase = hexExact(t[0], 16);
  const uses = dec(t[1], U32);
  const expires = dec(t[2], U64);
  const seq = dec(t[3], U64);
  if (seq === 0n) refuse('seq 0');
  const mac = hexExact(t[4], 32);
  if (product.length === 0 || product.length > FIELD_MAX
      || !crypto.timingSafeEqual(ownedMac(key, wid, purchase, uses, expires, seq, product), mac)) {
    refuse('MAC');
  }
  return [t[0], uses, expires, seq, t[4]].join('\t');
}

// ---- the command loop ----

function run(f) {
  const [cmd, ...a] = f;
  switch (cmd) {
  case 'code': {
    const secret = hexExact(a[0], 20);
    return `${codeOf(secret)}\t${walletId(secret).toString('hex')}`;
  }
  case 'decode':
    return decodeCode(Buffer.from(a[0] ?? '', 'hex').toString('latin1')).toString('hex');
  case 'state': {
    const [key, wid, net, created, seq, bal, head, auto] = a;
    if (Number(dec(net, 255n)) >= GENESIS.length) refuse('network');
    return stateMac(invoiceKey(key), hexExact(wid, 16), Number(net), dec(created, U64),
      dec(seq, U64), dec(bal, MAX_SATS), hexExact(head, 32), dec(auto, MAX_SATS)).toString('hex');
  }
  case 'credit':
    return credit(invoiceKey(a[0]), hexExact(a[1], 16), a.slice(2)).join('\t');
  case 'debit':
    return debit(invoiceKey(a[0]), hexExact(a[1], 16), a.slice(2)).join('\t');
  case 'owned':
    return owned(invoiceKey(a[0]), hexExact(a[1], 16), a.slice(2));
  case 'ownparse':
    return ownParse(invoiceKey(a[0]), hexExact(a[1], 16), a[2], a[3] ?? '');
  case 'parse':
    return entryFields(parseEntry(Buffer.from(a[0] ?? '', 'hex').toString('latin1')));
  case 'verify':
    return verifyEntry(invoiceKey(a[0]), hexExact(a[1], 16),
      Buffer.from(a[2] ?? '', 'hex').toString('latin1')) ? '1' : '0';
  case 'att':
    return attOk(hexExact(a[0], 32), parseEntry(Buffer.from(a[1], 'hex').toString('latin1')))
      ? '1' : '0';
  default:
    refuse(`unknown command ${cmd}`);
  }
  return '';
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let out;
  try {
    out = run(line.split('\t'));
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    out = 'error';
  }
  process.stdout.write(`${out}\n`);
});
