#!/bin/bash
# Sealed files (docs/sealed.md): sealing and opening a 256 MiB file with
# libbitcache (bench/sealed_bench.c, in memory, 1 MiB writes) against
# OpenSSL's raw AES-256-GCM on 64 KiB blocks (`openssl speed -evp
# aes-256-gcm -bytes 65536`) measured in the same run, each round running
# both on the same core, interleaved; figures are the medians. Also
# `bitcache seal` and `bitcache open` on the file, written to /tmp, for
# what a creator sees (disk included). Then the browser: the file sealed
# for a local nginx with the module, a token made by `bitcache grant` put
# in the opener's storage, <api>/open in headless Chromium
# (t/node/open-page.js) decrypts it into a download through its service
# worker; the rate is the page's own (from the key to the last chunk
# written), one run. Prints seal_mb_per_sec=, open_mb_per_sec=,
# openssl_mb_per_sec=, seal_ratio=, open_ratio= (goal 0.8),
# cli_seal_mb_per_sec=, cli_open_mb_per_sec=, browser_open_mb_per_sec=
# (MB = 10^6 bytes; BENCH_BROWSER=0 skips the browser).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${BENCH_ROUNDS:-5}
mib=${BENCH_SEALED_MIB:-256}
. bench/lib.sh

make -s build/bench/sealed_bench >/dev/null
dir=$(mktemp -d /tmp/bitcache-bench-sealed-XXXXXX)
rport=$(free_port)
cleanup() {
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
head -c $((mib * 1048576)) /dev/urandom > "$dir/film.bin"
build/bitcache secret > "$dir/secret"; chmod 600 "$dir/secret"
start_redis
wait_redis

pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
now() { date +%s.%N; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / t / 1e6 }'; }
bytes=$((mib * 1048576))

seal=() opn=() ossl=() cseal=() copen=()
for r in $(seq "$rounds"); do
    out=$($pin build/bench/sealed_bench "$dir/film.bin")
    seal+=("$(sed -n 's/^seal_mb_per_sec=//p' <<<"$out")")
    opn+=("$(sed -n 's/^open_mb_per_sec=//p' <<<"$out")")
    k=$($pin openssl speed -evp aes-256-gcm -bytes 65536 -seconds 2 2>/dev/null \
        | awk 'tolower($1) == "aes-256-gcm" { sub(/k$/, "", $2); print $2 }')
    ossl+=("$(awk -v k="$k" 'BEGIN { printf "%.0f", k / 1000 }')")
    t0=$(now)
    build/bitcache seal "$dir/film.bin" "$dir/film.sealed" --product /bench/film \
        --host https://files.example/bitcache --secret "$dir/secret" --redis "$redis_addr" >/dev/null
    t1=$(now)
    cseal+=("$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")")
    if [ "$r" = 1 ]; then
        key=$(node t/node/sealed.js unwrap "$(cat "$dir/secret")" /bench/film \
            "$(redis-cli -p "$rport" hget bitcache:sealkey:/bench/film id)" \
            "$(redis-cli -p "$rport" hget bitcache:sealkey:/bench/film key)")
    fi
    t0=$(now)
    build/bitcache open "$dir/film.sealed" -o "$dir/film.back" --key "$key" >/dev/null
    t1=$(now)
    copen+=("$(mbps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")")
    cmp -s "$dir/film.bin" "$dir/film.back" || { echo "bench: bitcache open gave other bytes" >&2; exit 1; }
    rm -f "$dir/film.sealed" "$dir/film.back"
done
echo "sealed: ${mib} MiB, $rounds rounds${pin:+, pinned to core 0}; seal ${seal[*]}, open ${opn[*]}, openssl ${ossl[*]}"
echo "seal_mb_per_sec=$(median "${seal[@]}")"
echo "open_mb_per_sec=$(median "${opn[@]}")"
echo "openssl_mb_per_sec=$(median "${ossl[@]}")"
echo "seal_ratio=$(ratios "${seal[*]}" "${ossl[*]}")"
echo "open_ratio=$(ratios "${opn[*]}" "${ossl[*]}")"
echo "cli_seal_mb_per_sec=$(median "${cseal[@]}")"
echo "cli_open_mb_per_sec=$(median "${copen[@]}")"

# the browser: one run, the page's own figure
[ "${BENCH_BROWSER:-1}" = 0 ] && exit 0
[ -x /usr/bin/chromium ] && [ -d t/node/node_modules/playwright-core ] && [ -f build/ngx_http_bitcache_module.so ] \
    || { echo "bench: no chromium, playwright-core or module: browser skipped" >&2; exit 0; }
chmod 755 "$dir"                   # nginx's workers read the secret's
hport=$(free_port)
api="http://127.0.0.1:$hport/bitcache"
# the API wants a watcher key: BIP340's first test vector's, as the tests'
xonly=$(build/tools/pay_invoice --pubkey b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef)
cat > "$dir/nginx.conf" <<CONF
$(nginx_conf_head "$root/build/ngx_http_bitcache_module.so" "$dir")
    server {
        listen 127.0.0.1:$hport;
        bitcache_secret $dir/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        location /bench/ { alias $dir/; bitcache on; bitcache_price 1000; }
        location /bitcache/ { bitcache_api; }
    }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf"
build/bitcache seal "$dir/film.bin" "$dir/film.sealed" --product /bench/film.bin --host "$api" \
    --secret "$dir/secret" --redis "$redis_addr" >/dev/null
token=$(build/bitcache grant --secret "$dir/secret" --redis "$redis_addr" /bench/film.bin)
mkdir -p "$dir/dl"
out=$(node t/node/open-page.js "$api/open" --downloads "$dir/dl" --timeout 600000 \
      --storage "bitcache-token:/bench/film.bin=$token" --open "$dir/film.sealed")
read -r state rate saved < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const s = (r.steps || [])[0] || {};
    const d = (s.downloads || [])[0] || {};
    console.log(s.state || r.error, s.mb_per_sec || 0, d.path || "-");' <<<"$out")
[ "$state" = opened ] || { echo "bench: the browser did not open the file: $state" >&2; exit 1; }
cmp -s "$dir/film.bin" "$saved" || { echo "bench: the browser gave other bytes" >&2; exit 1; }
echo "browser_open_mb_per_sec=$rate"
