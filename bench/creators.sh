#!/bin/bash
# Creators' benchmark (docs/creators.md): what the features a creator turns
# on cost per request, against nginx serving the same small file with no
# Bitcache in the same run. nginx runs as users run it (worker_processes
# auto), Redis on the same host over its unix socket (BENCH_REDIS=tcp:
# 127.0.0.1). Rounds alternate the variants, the figures are the medians:
#   static     GET of the file, no Bitcache (the baseline)
#   page       the 402 page of a pay-what-you-want product with a giveaway
#              (catalog record and giveaway counter read from Redis)
#   product    GET <api>/products/<path>, what every view of a page with
#              the pay button asks, from a listed origin (CORS)
#   free       POST <api>/free: a free copy claimed and its token minted
# Prints creators_<variant>_per_sec= and creators_<variant>_ratio= (to
# static).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-32}
watcher_seckey=b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef
tpub=tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5

dir=$(mktemp -d /tmp/bitcache-bench-creators-XXXXXX)
chmod 755 "$dir"
cleanup() {
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT

. "$root/bench/lib.sh"
rport=$(free_port); hport=$(free_port)

mkdir -p "$dir/files" "$dir/static"
head -c 4096 /dev/urandom > "$dir/files/film.bin"
cp "$dir/files/film.bin" "$dir/static/film.bin"
chmod 644 "$dir"/files/* "$dir"/static/*
"$root/build/bitcache" secret > "$dir/secret"; chmod 600 "$dir/secret"
xonly=$("$root/build/tools/pay_invoice" --pubkey "$watcher_seckey")

start_redis
echo "redis: $redis_addr, $conns connections, ${secs}s x $rounds rounds"

cat > "$dir/nginx.conf" <<CONF
$(nginx_conf_head "$root/build/ngx_http_bitcache_module.so" "$dir")
    server {
        listen 127.0.0.1:$hport backlog=4096;
        bitcache_secret $dir/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "wpkh($tpub/0/*)";
        bitcache_cors_origins https://creator.example;
        location /static/ {
            root $dir;
        }
        location /files/ {
            root $dir;
            bitcache on;
            bitcache_price 5000;
            bitcache_suggested_price 12000;
            bitcache_free_first 1000000000;
            bitcache_token_ttl 1h;
        }
        location /bitcache/ {
            bitcache_api;
        }
    }
}
CONF

wait_redis
nginx -p "$dir" -c "$dir/nginx.conf"
sleep 0.3
base="http://127.0.0.1:$hport"

# sanity: each variant answers what it should
curl -sf "$base/static/film.bin" | cmp -s - "$dir/files/film.bin" \
    || { echo "bench: the static file is not served" >&2; exit 1; }
page=$(curl -s -o /dev/null -w '%{http_code}' "$base/files/film.bin")
[ "$page" = 402 ] || { echo "bench: the sold file answers $page, not 402" >&2; exit 1; }
offer=$(curl -s -H 'Accept: application/json' "$base/files/film.bin" | jq -r .offer)
[ -n "$offer" ] && [ "$offer" != null ] || { echo "bench: no offer in the 402" >&2; exit 1; }
acao=$(curl -s -D - -o /dev/null -H 'Origin: https://creator.example' \
    "$base/bitcache/products/files/film.bin" | tr -d '\r' | awk -F': ' 'tolower($1) == "access-control-allow-origin" { print $2 }')
[ "$acao" = https://creator.example ] || { echo "bench: no CORS answer for the products route" >&2; exit 1; }
tok=$(curl -sf -X POST -H 'Accept: application/json' -H "Origin: $base" \
    --data "offer=$offer" "$base/bitcache/free" | jq -r .token)
[ -n "$tok" ] && [ "$tok" != null ] || { echo "bench: POST /free gave no token" >&2; exit 1; }
curl -sf -H "Cookie: bitcache_token=$tok" "$base/files/film.bin" | cmp -s - "$dir/files/film.bin" \
    || { echo "bench: a free copy's token does not serve the file" >&2; exit 1; }
given0=$(redis-cli -p "$rport" get bitcache:free:/files/film.bin)

cat > "$dir/free.lua" <<LUA
wrk.method = "POST"
wrk.body = "offer=$offer"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
LUA

rps() {  # wrk arguments -> "requests/s answers-not-2xx-or-3xx"
    local out
    out=$(wrk -t1 -c"$conns" -d"${secs}s" "$@")
    echo "$out" | awk '/Requests\/sec/ { r = $2 } /Non-2xx/ { n = $NF }
                       END { print r, n + 0 }'
}
declare -A fig; bad_free=0; bad_product=0
variants=(static page product free)
for r in $(seq "$rounds"); do
    # the order turns each round
    for i in 0 1 2 3; do
        v=${variants[$(( (i + r) % 4 ))]}
        case $v in
        static)  read -r x _ < <(rps "$base/static/film.bin") ;;
        page)    read -r x _ < <(rps "$base/files/film.bin") ;;    # 402: not 2xx, expected
        product) read -r x bad < <(rps -H 'Origin: https://creator.example' \
                     "$base/bitcache/products/files/film.bin"); bad_product=$((bad_product + bad)) ;;
        free)    read -r x bad < <(rps -s "$dir/free.lua" "$base/bitcache/free"); bad_free=$((bad_free + bad)) ;;
        esac
        fig[$v]="${fig[$v]:-} $x"
    done
done
[ "$bad_product" = 0 ] || echo "bench: $bad_product products answers were not 2xx" >&2
[ "$bad_free" = 0 ] || echo "bench: $bad_free free claims were not 2xx" >&2

# every claim that got its 201 is one copy more: the counter moved by as
# many as were answered (wrk's count is not kept: at least one per round)
given=$(redis-cli -p "$rport" get bitcache:free:/files/film.bin)
[ "$given" -gt "$given0" ] || { echo "bench: no free copy was counted" >&2; exit 1; }

for v in static page product free; do
    # shellcheck disable=SC2086
    printf 'creators: %-8s %8.0f req/s (rounds:%s)\n' "$v" "$(median ${fig[$v]})" "${fig[$v]}"
done
for v in page product free; do
    # shellcheck disable=SC2086
    printf 'creators_%s_per_sec=%.0f\n' "$v" "$(median ${fig[$v]})"
    printf 'creators_%s_ratio=%.3f\n' "$v" "$(ratios "${fig[$v]}" "${fig[static]}")"
done
printf 'creators_free_copies_given=%d\n' "$given"
if grep -E '\[(alert|emerg|crit)\]' "$dir/error.log"; then
    echo "bench: errors in nginx's log" >&2; exit 1
fi
