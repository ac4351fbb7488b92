#!/bin/sh
# P2WPKH addresses per second on one core: libbitcache (bench/derive_bench.c)
# and bitcoinjs-lib (t/node/derive.js --bench) on the same machine.
# Prints derive_per_sec=, bitcoinjs_derive_per_sec= and derive_ratio=.
# BENCH_SECONDS (default 5) sets the length of each run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${BENCH_SECONDS:-5}
# BIP84's account key
key=zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs

make -s build/bench/derive_bench >/dev/null
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"

ours=$($pin build/bench/derive_bench "$key" "$seconds" | sed -n 's/^derive_per_sec=//p')
echo "derive_per_sec=$ours"
if [ -d t/node/node_modules ] && command -v node >/dev/null 2>&1; then
    theirs=$($pin node t/node/derive.js --bench "$key" "$seconds")
    echo "bitcoinjs_derive_per_sec=$theirs"
    echo "derive_ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.1f", a / b }')"
else
    echo "bitcoinjs_derive_per_sec=skipped (no t/node/node_modules: make deps)"
fi
