#!/bin/sh
# The payment watcher against a real regtest node (bcoin): prints
#   blocks_per_sec=  2,000-transaction blocks fetched from the node (raw hex),
#                    parsed, matched against 4,000 open invoices and settled,
#                    every transaction paying one (the worst case: 2,000
#                    attestations and state changes per block)
#   scan_blocks_per_sec=  the same blocks when no output pays a watched invoice
#   settle_ms=       from a block's arrival at the node to the token being
#                    available from nginx's status endpoint (median of 5)
# BENCH_BLOCK_TXS (default 2000) sets the size of the blocks.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec perl bench/watcher.pl
