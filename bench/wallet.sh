#!/bin/bash
# Wallet benchmark: purchases from funded Bitcache wallets through nginx,
# each of a product not bought before (auto-buy: a GET with
# `Authorization: Bitcache <code>` of a file the wallet does not own buys
# it, then the file is served in the same request), against token
# downloads of the same file in the same run. nginx runs as users run it
# (worker_processes auto), Redis on the same host over its unix socket
# (BENCH_REDIS=tcp: 127.0.0.1). Rounds alternate the two, the figures are
# the medians. Prints wallet_buys_per_sec= and wallet_buy_ratio= (buys per
# token download). The goal (docs/wallet.md): 2,000 purchases/s on a
# 2-core machine.
#
# The wallets are funded as buyers fund them: a top-up invoice, paid as the
# watcher records a payment (build/tools/pay_invoice with the test watcher
# key), credited when the wallet is read. Purchases rotate over
# BENCH_WALLETS wallets (default 64), so that the connections do not all
# race on one wallet's state (BENCH_WALLETS=1 measures exactly that race).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-32}
nwallets=${BENCH_WALLETS:-64}
topup=1000000           # sats per wallet: a million 1-sat purchases
watcher_seckey=b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef
tpub=tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5

dir=$(mktemp -d /tmp/bitcache-bench-wallet-XXXXXX)
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

mkdir -p "$dir/files"
head -c 4096 /dev/urandom > "$dir/files/small.bin"
chmod 644 "$dir"/files/*
"$root/build/bitcache" secret > "$dir/secret"; chmod 600 "$dir/secret"
xonly=$("$root/build/tools/pay_invoice" --pubkey "$watcher_seckey")

start_redis
echo "redis: $redis_addr, $conns connections, $nwallets wallets, ${secs}s x $rounds rounds"

# every /buy/<name> is its own product (the URI), served from one small
# file: as many products as purchases, without as many files
cat > "$dir/nginx.conf" <<CONF
$(nginx_conf_head "$root/build/ngx_http_bitcache_module.so" "$dir")
    server {
        listen 127.0.0.1:$hport backlog=4096;
        bitcache_secret $dir/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "wpkh($tpub/0/*)";
        bitcache_wallets on;
        location ~ ^/buy/[A-Za-z0-9-]+\$ {
            alias $dir/files/small.bin;
            bitcache on;
            bitcache_price 1;
            bitcache_token_ttl 1d;
            bitcache_wallet_autobuy on;
        }
        location /bitcache/ {
            bitcache_api;
            bitcache_topup_wallet "wpkh($tpub/1/*)";
            bitcache_wallet_max_topup $topup;
        }
    }
}
CONF

wait_redis
nginx -p "$dir" -c "$dir/nginx.conf"
sleep 0.3
base="http://127.0.0.1:$hport"

# a wallet, topped up and credited, auto-buying up to 1 sat: its code
new_wallet() {
    local code inv claim bal
    code=$(curl -sf -X POST -H 'Accept: application/json' "$base/bitcache/wallets" | jq -r .code)
    [ -n "$code" ] && [ "$code" != null ] || { echo "bench: POST /wallets failed" >&2; return 1; }
    read -r inv claim < <(curl -sf -X POST -H 'Accept: application/json' -H "Authorization: Bitcache $code" \
        --data "amount=$topup" "$base/bitcache/wallet/topups" | jq -r '"\(.id) \(.claim)"')
    [ -n "$inv" ] && [ "$inv" != null ] || { echo "bench: POST /wallet/topups failed" >&2; return 1; }
    "$root/build/tools/pay_invoice" --redis "127.0.0.1:$rport" --key "$watcher_seckey" \
        --network regtest "$inv" "$topup" 6 >/dev/null
    # the settled invoice's status credits the wallet (as the wallet page would)
    curl -sf -o /dev/null -H 'Accept: application/json' -H "X-Bitcache-Claim: $claim" \
        "$base/bitcache/invoices/$inv" || { echo "bench: the top-up's status failed" >&2; return 1; }
    bal=$(curl -sf -H 'Accept: application/json' -H "Authorization: Bitcache $code" \
        "$base/bitcache/wallet" | jq -r .balance_sats)
    [ "$bal" = "$topup" ] || { echo "bench: the top-up was not credited ($bal)" >&2; return 1; }
    curl -sf -o /dev/null -X POST -H 'Accept: application/json' -H "Authorization: Bitcache $code" \
        --data 'max_auto_price=1' "$base/bitcache/wallet/settings" \
        || { echo "bench: POST /wallet/settings failed" >&2; return 1; }
    echo "$code"
}
codes=()
for _ in $(seq "$nwallets"); do codes+=("$(new_wallet)"); done

# sanity: a purchase serves the exact file, a second GET does not charge,
# and the token of a grant serves it too
auth="Authorization: Bitcache ${codes[0]}"
curl -sf -H "$auth" "$base/buy/check" | cmp -s - "$dir/files/small.bin" \
    || { echo "bench: an auto-buy does not serve the file" >&2; exit 1; }
curl -sf -H "$auth" "$base/buy/check" | cmp -s - "$dir/files/small.bin" \
    || { echo "bench: an owned product does not serve the file again" >&2; exit 1; }
bal=$(curl -sf -H 'Accept: application/json' -H "$auth" "$base/bitcache/wallet" | jq -r .balance_sats)
[ "$bal" = $((topup - 1)) ] || { echo "bench: one purchase, yet the balance is $bal" >&2; exit 1; }
tok=$("$root/build/bitcache" grant --secret "$dir/secret" --redis "127.0.0.1:$rport" \
    --uses 4000000000 --ttl 1d /buy/token)
curl -sf "$base/buy/token?bitcache_token=$tok" | cmp -s - "$dir/files/small.bin" \
    || { echo "bench: the token does not serve the file" >&2; exit 1; }

# wrk: each request a product never asked for before (round, counter),
# from the wallets in turn
cat > "$dir/buy.lua" <<'LUA'
local n, tag, codes = 0, "", {}
function init(args)
    tag = args[1]
    for i = 2, #args do codes[#codes + 1] = args[i] end
end
function request()
    n = n + 1
    return wrk.format("GET", "/buy/" .. tag .. "-" .. n,
                      { ["Authorization"] = "Bitcache " .. codes[(n % #codes) + 1] })
end
LUA

rps() {  # wrk arguments -> "requests/s non-2xx-answers"
    local out
    out=$(wrk -t1 -c"$conns" -d"${secs}s" "$@")
    echo "$out" | awk '/Requests\/sec/ { r = $2 } /Non-2xx/ { n = $NF }
                       END { print r, n + 0 }'
}
buys=(); downloads=(); buy_bad=0; token_bad=0
for r in $(seq "$rounds"); do
    # every other round starts with the other one
    for v in $( [ $((r % 2)) = 1 ] && echo "buy token" || echo "token buy"); do
        case $v in
        buy)   read -r x bad < <(rps -s "$dir/buy.lua" "$base" -- "r$r" "${codes[@]}")
               buys+=("$x"); buy_bad=$((buy_bad + bad)) ;;
        token) read -r x bad < <(rps -H "Cookie: bitcache_token=$tok" "$base/buy/token")
               downloads+=("$x"); token_bad=$((token_bad + bad)) ;;
        esac
    done
done
# answers that were not 2xx (503 "wallet busy" when connections race on
# one wallet): said, not hidden
if [ "$buy_bad" != 0 ] || [ "$token_bad" != 0 ]; then
    echo "bench: non-2xx answers: $buy_bad purchases, $token_bad token downloads" >&2
fi

b=$(median "${buys[@]}")
d=$(median "${downloads[@]}")

# the wallets paid for exactly what was bought: 1 sat a purchase
spent=0
for c in "${codes[@]}"; do
    bal=$(curl -sf -H 'Accept: application/json' -H "Authorization: Bitcache $c" \
        "$base/bitcache/wallet" | jq -r .balance_sats)
    spent=$((spent + topup - bal))
done
# ... and each sat bought one product: as many owned products as sats
owned=0
for k in $(redis-cli -p "$rport" --scan --pattern 'bitcache:wown:*'); do
    owned=$((owned + $(redis-cli -p "$rport" hlen "$k")))
done
[ "$owned" = "$spent" ] || { echo "bench: $spent sats spent for $owned products" >&2; exit 1; }
printf 'wallet: %.0f purchases/s (rounds: %s), token downloads %.0f req/s (rounds: %s), %d sats spent\n' \
    "$b" "${buys[*]}" "$d" "${downloads[*]}" "$spent"
printf 'wallet_buys_per_sec=%.0f\n' "$b"
printf 'wallet_buy_non2xx=%d\n' "$buy_bad"
printf 'wallet_buy_ratio=%.3f\n' "$(ratios "${buys[*]}" "${downloads[*]}")"
if [ "$buy_bad" != 0 ]; then        # why: the log's warn lines, counted
    grep -E '\[(warn|error)\]' "$dir/error.log" | sed -E 's/^.*\] [0-9]+#[0-9]+: (\*[0-9]+ )?//; s/, client:.*//' \
        | sort | uniq -c | sort -rn | head -n 5 >&2
fi
if grep -E '\[(alert|emerg|crit)\]' "$dir/error.log"; then
    echo "bench: errors in nginx's log" >&2; exit 1
fi
