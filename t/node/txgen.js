#!/usr/bin/env node
// Random signed-looking transactions from bitcoinjs-lib (an independent
// implementation) for the cross-check of libbitcache's parser: legacy and
// segwit serializations, 1..N inputs with witnesses of several items,
// outputs of every script type (p2pkh, p2sh, p2wpkh, p2wsh, p2tr, OP_RETURN).
//
//   node txgen.js COUNT [SEED]
//
// One JSON object per line: {hex, txid, segwit, locktime, outs: [[value, spkhex], ...]}.
'use strict';
const bitcoin = require('bitcoinjs-lib');

let seed = Number(process.argv[3] || 1);
function rnd(n) {            // xorshift, so a failure can be replayed
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}
function bytes(n) { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = rnd(256); return b; }

function spk() {
  switch (rnd(6)) {
    case 0: return Buffer.concat([Buffer.from('76a914', 'hex'), bytes(20), Buffer.from('88ac', 'hex')]);
    case 1: return Buffer.concat([Buffer.from('a914', 'hex'), bytes(20), Buffer.from('87', 'hex')]);
    case 2: return Buffer.concat([Buffer.from('0014', 'hex'), bytes(20)]);
    case 3: return Buffer.concat([Buffer.from('0020', 'hex'), bytes(32)]);
    case 4: return Buffer.concat([Buffer.from('5120', 'hex'), bytes(32)]);
    default: { const d = bytes(rnd(80)); return Buffer.concat([Buffer.from([0x6a, d.length]), d]); }
  }
}

const count = Number(process.argv[2] || 100);
for (let i = 0; i < count; i++) {
  const tx = new bitcoin.Transaction();
  tx.version = 1 + rnd(2);
  tx.locktime = rnd(3) ? 0 : rnd(500000000);
  const nin = 1 + rnd(rnd(10) ? 3 : 300);     // sometimes more than 252: a 3-byte count
  const segwit = rnd(3) !== 0;
  for (let j = 0; j < nin; j++) {
    tx.addInput(bytes(32), rnd(5), 0xffffffff - rnd(3), rnd(2) ? bytes(rnd(120)) : Buffer.alloc(0));
  }
  const nout = 1 + rnd(rnd(10) ? 4 : 260);
  for (let j = 0; j < nout; j++) tx.addOutput(spk(), rnd(2) ? rnd(100000000) : rnd(2100000) * 1000000000);
  if (segwit) {
    for (let j = 0; j < nin; j++) {
      const w = [];
      const items = j === 0 ? 1 + rnd(3) : rnd(3);
      for (let k = 0; k < items; k++) w.push(bytes(rnd(3) ? 33 + rnd(40) : rnd(300)));
      tx.setWitness(j, w);
    }
  }
  console.log(JSON.stringify({
    hex: tx.toHex(), txid: tx.getId(), segwit: tx.hasWitnesses() ? 1 : 0,
    nin, locktime: tx.locktime,
    outs: tx.outs.map((o) => [String(o.value), o.script.toString('hex')])
  }));
}
