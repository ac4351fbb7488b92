#!/usr/bin/env node
// An independent signer of payment attestations (docs/protocol.md): what
// the watcher writes, made with tiny-secp256k1 instead of libbitcache.
//   attest.js pubkey SECKEYHEX
//   attest.js sign SECKEYHEX IDHEX SPKHEX RECEIVED CONF PAID_AT [NETWORK]
// NETWORK (mainnet, testnet, signet, regtest; default regtest) names the
// chain whose genesis block hash the message binds.
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

// genesis block hashes, as getblockhash 0 shows them (Bitcoin Core's chainparams)
const GENESIS = {
  mainnet: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  regtest: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
};

const [cmd, keyHex, ...rest] = process.argv.slice(2);
const key = Buffer.from(keyHex || '', 'hex');
if (key.length !== 32 || !ecc.isPrivate(key)) {
  console.error('attest.js: bad secret key');
  process.exit(2);
}

if (cmd === 'pubkey') {
  console.log(Buffer.from(ecc.xOnlyPointFromScalar(key)).toString('hex'));
} else if (cmd === 'sign') {
  const [idHex, spkHex, received, conf, paidAt, network = 'regtest'] = rest;
  if (!GENESIS[network]) {
    console.error(`attest.js: unknown network ${network}`);
    process.exit(2);
  }
  const spk = Buffer.from(spkHex, 'hex');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(spk.length);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(Number(conf));
  const msg = taggedHash('bitcache/v2/payment',
    Buffer.concat([Buffer.from(GENESIS[network], 'hex'), Buffer.from(idHex, 'hex'), len, spk,
      u64(received), c, u64(paidAt)]));
  console.log(Buffer.from(ecc.signSchnorr(msg, key, crypto.randomBytes(32))).toString('hex'));
} else {
  console.error('usage: attest.js pubkey KEY | sign KEY ID SPK RECEIVED CONF PAID_AT [NETWORK]');
  process.exit(2);
}
