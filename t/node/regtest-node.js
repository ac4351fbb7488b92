#!/usr/bin/env node
// A real bitcoin node in regtest for the watcher's tests: bcoin 1.0.2, in
// memory, with Bitcoin Core's regtest prefixes (bech32 "bcrt", tpub/tprv,
// base58 m/n and 2), its JSON-RPC on --rpc-port and the wallet's JSON-RPC
// (sendtoaddress, getnewaddress, getbalance) on --wallet-port, both on
// 127.0.0.1 with HTTP basic auth (any user, password --api-key).
//
//   node regtest-node.js --rpc-port P --wallet-port W --api-key K
//
// Prints "ready" on stdout once both ports listen; stops on SIGTERM.
'use strict';

const networks = require('bcoin/lib/protocol/networks');
const r = networks.regtest;
r.keyPrefix.privkey = 0xef;
r.keyPrefix.xpubkey = 0x043587cf;
r.keyPrefix.xprivkey = 0x04358394;
r.keyPrefix.xpubkey58 = 'tpub';
r.keyPrefix.xprivkey58 = 'tprv';
r.addressPrefix.pubkeyhash = 0x6f;
r.addressPrefix.scripthash = 0xc4;
r.addressPrefix.bech32 = 'bcrt';
// segwit active after a few blocks (as on Core's regtest) instead of 432
r.deployments.segwit.window = 8;
r.deployments.segwit.threshold = 1;

const bcoin = require('bcoin');
bcoin.set('regtest');    // the default network of addresses that RPCs print

function arg(name, def) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (def !== undefined) return def;
    console.error(`regtest-node: ${name} is required`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

async function main() {
  const node = new bcoin.FullNode({
    network: 'regtest',
    memory: true,
    workers: false,
    listen: false,
    selfish: true,
    logLevel: arg('--log-level', 'error'),
    httpHost: '127.0.0.1',
    httpPort: Number(arg('--rpc-port')),
    apiKey: arg('--api-key'),
    walletHttpHost: '127.0.0.1',
    walletHttpPort: Number(arg('--wallet-port')),
    walletWitness: true           // p2wpkh coins: the wallet's payments are segwit transactions
  });
  node.use(bcoin.wallet.plugin);
  await node.ensure();
  await node.open();
  addBulkMethods(node);
  await node.connect();
  node.startSync();
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    // a client that keeps a connection open (a relay's long poll) must
    // not keep the node from exiting: closing waits for its connections
    setTimeout(() => process.exit(0), 3000).unref();
    try { await node.close(); } catch (e) { /* exiting anyway */ }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('ready\n');
}

// Two extra RPC methods for the scale tests and the benchmark, which need
// blocks of thousands of transactions faster than sendtoaddress makes them:
//   bitcache_fanout N SATS        one wallet transaction with N outputs of SATS
//                                 to the wallet (mine it to get N coins)
//   bitcache_bulkpay [[ADDR, SATS], ...]
//                                 one transaction per pair, each spending one
//                                 confirmed wallet coin, into the mempool
//   bitcache_evict TXID           drops a transaction from the mempool the way
//                                 bcoin evicts under memory pressure (its own
//                                 evictEntry), for a payment that never confirms
function addBulkMethods(node) {
  const wdb = node.require('walletdb').wdb;
  const used = new Set();    // coins spent here, before the wallet has seen it
  const key = c => (Buffer.isBuffer(c.hash) ? c.hash.toString('hex') : c.hash) + ':' + c.index;
  node.rpc.add('bitcache_fanout', async (args) => {
    const [n, sats] = args;
    const wallet = wdb.primary;
    const addr = await wallet.receiveAddress();
    const outputs = [];
    for (let i = 0; i < n; i++) outputs.push({ address: addr, value: sats });
    const tx = await wallet.send({ outputs, rate: 5000 });
    return tx.txid();
  });
  node.rpc.add('bitcache_evict', async (args) => {
    const hash = Buffer.from(String(args[0]), 'hex').reverse().toString('hex');
    const entry = node.mempool.getEntry(hash);
    if (!entry) throw new Error('not in the mempool');
    node.mempool.evictEntry(entry);
    return true;
  });
  node.rpc.add('bitcache_bulkpay', async (args) => {
    const pays = args[0];
    const wallet = wdb.primary;
    const change = await wallet.changeAddress();
    const coins = (await wallet.getCoins())
      .filter(c => c.height !== -1 && !c.coinbase && !used.has(key(c)));
    const txids = [];
    const enough = coins.filter(c => c.value >= 20000).length;
    if (enough < pays.length) {
      // nothing sent: the caller may wait for the wallet and retry
      throw new Error(`only ${enough} confirmed coins for ${pays.length} payments`);
    }
    for (const [addr, sats] of pays) {
      const i = coins.findIndex(c => c.value >= sats + 10000 && c.value >= 20000);
      if (i < 0) throw new Error(`no confirmed coin left for ${sats} sats`);
      const coin = coins.splice(i, 1)[0];
      used.add(key(coin));
      const mtx = new bcoin.MTX();
      mtx.addOutput(bcoin.Address.fromString(addr, 'regtest'), sats);
      await mtx.fund([coin], { changeAddress: change, rate: 5000 });
      await wallet.sign(mtx);
      const tx = mtx.toTX();
      await node.mempool.addTX(tx);     // throws if the node refuses it
      txids.push(tx.txid());
    }
    return txids;
  });
}

main().catch((err) => {
  console.error('regtest-node:', err && err.stack || err);
  process.exit(1);
});
