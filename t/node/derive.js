#!/usr/bin/env node
// An independent derivation (bitcoinjs-lib + bip32 + tiny-secp256k1) that
// prints what `bitcache derive --spk` prints, for t/20-derive-crosscheck.t:
//   node derive.js KEY TYPE NETWORK FROM COUNT [change]
//     KEY      an extended public key of any SLIP-132 version (xpub ... vpub)
//     TYPE     p2pkh | p2sh-p2wpkh | p2wpkh | p2tr
//     NETWORK  mainnet | testnet | signet | regtest
// and for bench/derive.sh:
//   node derive.js --bench KEY SECONDS   -> prints addresses per second (P2WPKH)
'use strict';
const bitcoin = require('bitcoinjs-lib');
const ecc = require('tiny-secp256k1');
const { BIP32Factory } = require('bip32');

bitcoin.initEccLib(ecc);
const bip32 = BIP32Factory(ecc);

// SLIP-132 public versions; the private halves are never used here
const versions = {
  xpub: 0x0488b21e, ypub: 0x049d7cb2, zpub: 0x04b24746,
  tpub: 0x043587cf, upub: 0x044a5262, vpub: 0x045f1cf6,
};
const networks = {
  mainnet: bitcoin.networks.bitcoin,
  testnet: bitcoin.networks.testnet,
  signet: bitcoin.networks.testnet,
  regtest: bitcoin.networks.regtest,
};

function parseKey(key, network) {
  for (const v of Object.values(versions)) {
    try {
      return bip32.fromBase58(key, { ...network, bip32: { public: v, private: 0 } });
    } catch (e) {
      // wrong version for this try
    }
  }
  throw new Error(`cannot parse ${key}`);
}

function payment(type, pubkey, network) {
  switch (type) {
    case 'p2pkh': return bitcoin.payments.p2pkh({ pubkey, network });
    case 'p2wpkh': return bitcoin.payments.p2wpkh({ pubkey, network });
    case 'p2sh-p2wpkh':
      return bitcoin.payments.p2sh({ redeem: bitcoin.payments.p2wpkh({ pubkey, network }), network });
    case 'p2tr': return bitcoin.payments.p2tr({ internalPubkey: pubkey.subarray(1, 33), network });
    default: throw new Error(`unknown type ${type}`);
  }
}

function main(argv) {
  if (argv[0] === '--bench') {
    const network = networks.mainnet;
    const chain = parseKey(argv[1], network).derive(0);
    const seconds = Number(argv[2] || 3);
    const end = Date.now() + seconds * 1000;
    let n = 0;
    const start = Date.now();
    while (Date.now() < end) {
      for (let i = 0; i < 100; i++, n++) payment('p2wpkh', chain.derive(n).publicKey, network).address;
    }
    console.log(Math.round(n / ((Date.now() - start) / 1000)));
    return;
  }
  const [key, type, net, from, count, change] = argv;
  const network = networks[net];
  if (!network) throw new Error(`unknown network ${net}`);
  const chain = parseKey(key, network).derive(change === 'change' ? 1 : 0);
  const out = [];
  for (let i = Number(from); i < Number(from) + Number(count); i++) {
    const p = payment(type, chain.derive(i).publicKey, network);
    out.push(`${i} ${p.address} ${p.output.toString('hex')}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

main(process.argv.slice(2));
