#!/bin/sh
# The payment watcher against a real regtest node (bcoin): prints
#   blocks_per_sec=  2,000-transaction blocks fetched from the node (raw hex),
#                    parsed, every output looked up, and the invoices they pay
#                    settled, when one transaction in four pays an open
#                    invoice (500 attestations and state changes a block: a
#                    shop selling ~70,000 files a day)
#   blocks_per_sec_all_paying=  the same blocks when every transaction pays
#                    an invoice (2,000 settlements a block, the worst case)
#   scan_blocks_per_sec=  the same blocks when no output pays a watched invoice
# The three are measured interleaved, three rounds each (medians).
#   settle_ms=       from a block's arrival at the node to the token being
#                    available from nginx's status endpoint (median of 5)
# BENCH_BLOCK_TXS (default 2000) sets the size of the blocks.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec perl bench/watcher.pl
