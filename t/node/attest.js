#!/usr/bin/env node
// An independent signer of payment attestations (docs/protocol.md): what
// the watcher writes, made with tiny-secp256k1 instead of libbitcache.
//   attest.js pubkey SECKEYHEX
//   attest.js sign SECKEYHEX IDHEX SPKHEX RECEIVED CONF PAID_AT
'use strict';
const crypto = require('crypto');
const ecc = require('tiny-secp256k1');

const sha256 = (b) => crypto.createHash('sha256').update(b).digest();

function taggedHash(tag, data) {
  const t = sha256(Buffer.from(tag, 'utf8'));
  return sha256(Buffer.concat([t, t, data]));
}

function u64(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

const [cmd, keyHex, ...rest] = process.argv.slice(2);
const key = Buffer.from(keyHex || '', 'hex');
if (key.length !== 32 || !ecc.isPrivate(key)) {
  console.error('attest.js: bad secret key');
  process.exit(2);
}

if (cmd === 'pubkey') {
  console.log(Buffer.from(ecc.xOnlyPointFromScalar(key)).toString('hex'));
} else if (cmd === 'sign') {
  const [idHex, spkHex, received, conf, paidAt] = rest;
  const spk = Buffer.from(spkHex, 'hex');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(spk.length);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(Number(conf));
  const msg = taggedHash('bitcache/v1/payment',
    Buffer.concat([Buffer.from(idHex, 'hex'), len, spk, u64(received), c, u64(paidAt)]));
  console.log(Buffer.from(ecc.signSchnorr(msg, key, crypto.randomBytes(32))).toString('hex'));
} else {
  console.error('usage: attest.js pubkey KEY | sign KEY ID SPK RECEIVED CONF PAID_AT');
  process.exit(2);
}
