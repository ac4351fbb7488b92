#!/bin/bash
# Hot-path benchmark: the same files served by plain nginx static, by the
# Bitcache paywall with a valid token (one Redis round trip per request:
# the draw of the bytes it sends), and by nginx's secure_link (the usual
# alternative: a local MAC only, no counting, no revocation). nginx runs as
# users run it (worker_processes auto). Rounds alternate so that the
# machine's noise hits every variant alike. Prints ratio_small= and
# ratio_large=.
# With BASELINE_MODULE=<.so> and BASELINE_CLI=<bitcache> (an earlier build),
# a second nginx loads that module and is measured in the same rounds;
# baseline_ratio_small= and baseline_ratio_large= are its figures, so that a
# change is judged before and after in one run.
# Redis is reached over its unix socket (the setup docs/operations.md
# recommends when Redis runs on the nginx host); BENCH_REDIS=tcp uses
# 127.0.0.1 instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-32}

base_mod=${BASELINE_MODULE:-}
base_cli=${BASELINE_CLI:-}
if [ -n "$base_mod" ] && [ -z "$base_cli" ]; then
    echo "bench: BASELINE_MODULE needs BASELINE_CLI (its tokens' records differ)" >&2; exit 2
fi

dir=$(mktemp -d /tmp/bitcache-bench-XXXXXX)
chmod 755 "$dir"
cleanup() {
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    [ -f "$dir/base/nginx.pid" ] && kill -QUIT "$(cat "$dir/base/nginx.pid")" 2>/dev/null || true
    [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"
rport=$(free_port); hport=$(free_port); bport=$(free_port)

mkdir -p "$dir/files"
head -c 4096 /dev/urandom > "$dir/files/small.bin"
head -c 10485760 /dev/urandom > "$dir/files/large.bin"
chmod 644 "$dir"/files/*
"$root/build/bitcache" secret > "$dir/secret"; chmod 600 "$dir/secret"

start_redis
echo "redis: $redis_addr, $conns connections, ${secs}s x $rounds rounds"

# nginx.conf for one nginx: MODULE PREFIX PORT LOCATIONS (users' settings)
nginx_conf() {
    cat > "$2/nginx.conf" <<CONF
$(nginx_conf_head "$1" "$2")
    server {
        listen 127.0.0.1:$3 backlog=4096;
$4
    }
}
CONF
}
paid="        location /files/  { alias $dir/files/; bitcache on; bitcache_secret $dir/secret; }"
nginx_conf "$root/build/ngx_http_bitcache_module.so" "$dir" "$hport" "$paid
        location /plain/  { alias $dir/files/; }
        location /secure/ {
            alias $dir/files/;
            secure_link \$arg_md5,\$arg_expires;
            secure_link_md5 \"\$secure_link_expires\$uri s3cret\";
            if (\$secure_link = \"\") { return 403; }
            if (\$secure_link = \"0\") { return 410; }
        }"
if [ -n "$base_mod" ]; then
    mkdir -p "$dir/base"
    nginx_conf "$base_mod" "$dir/base" "$bport" "$paid"
fi

wait_redis
nginx -p "$dir" -c "$dir/nginx.conf"
[ -n "$base_mod" ] && nginx -p "$dir/base" -c "$dir/base/nginx.conf"
sleep 0.3

# a counted token (the hot path that draws bytes; an unlimited one draws
# nothing), with downloads enough for every request of the run
grant() { "${2:-$root/build/bitcache}" grant --secret "$dir/secret" --redis "127.0.0.1:$rport" --uses 4000000000 --ttl 1d "$1"; }
securelink() {  # /secure/NAME?md5=..&expires=..
    local uri=$1 exp=$(( $(date +%s) + 86400 ))
    local md5; md5=$(printf '%s' "$exp$uri s3cret" | openssl md5 -binary | base64 | tr '+/' '-_' | tr -d '=')
    echo "$uri?md5=$md5&expires=$exp"
}

rps() {  # URL [header] -> requests/s
    local out
    if [ -n "${2:-}" ]; then
        out=$(wrk -t1 -c"$conns" -d"${secs}s" -H "$2" "$1")
    else
        out=$(wrk -t1 -c"$conns" -d"${secs}s" "$1")
    fi
    if echo "$out" | grep -q 'Non-2xx'; then
        echo "bench: non-2xx answers from $1" >&2; echo "$out" >&2; exit 1
    fi
    echo "$out" | awk '/Requests\/sec/ {print $2}'
}

base="http://127.0.0.1:$hport"
bbase="http://127.0.0.1:$bport"
for size in small large; do
    tok=$(grant "/files/$size.bin")
    sl=$(securelink "/secure/$size.bin")
    urls=("/plain/$size.bin" "/files/$size.bin?bitcache_token=$tok" "$sl")
    # sanity: each variant serves the exact file
    for u in "${urls[@]}"; do
        curl -sf "$base$u" | cmp -s - "$dir/files/$size.bin" || { echo "bench: $u does not serve the file" >&2; exit 1; }
    done
    if [ -n "$base_mod" ]; then
        btok=$(grant "/files/$size.bin" "$base_cli")
        curl -sf "$bbase/files/$size.bin?bitcache_token=$btok" | cmp -s - "$dir/files/$size.bin" \
            || { echo "bench: the baseline module does not serve the file" >&2; exit 1; }
    fi
    p=""; b=""; s=""; o=""
    variants="plain bitcache secure"
    [ -n "$base_mod" ] && variants="plain bitcache baseline secure"
    for r in $(seq "$rounds"); do
        # each round starts with another variant, and every other round runs
        # them backwards, so that none always runs first, or right after
        # another (the machine warms up and cools down within a round)
        order=$(echo $variants | tr ' ' '\n' | awk -v r="$r" '{ v[NR - 1] = $0 } END {
            for (i = 0; i < NR; i++) { j = (i + int((r - 1) / 2)) % NR; print v[r % 2 ? j : NR - 1 - j] } }')
        for v in $order; do
            case $v in
            plain)    p="$p $(rps "$base/plain/$size.bin")" ;;
            bitcache) b="$b $(rps "$base/files/$size.bin" "Cookie: bitcache_token=$tok")" ;;
            baseline) o="$o $(rps "$bbase/files/$size.bin" "Cookie: bitcache_token=$btok")" ;;
            secure)   s="$s $(rps "$base$sl")" ;;
            esac
        done
    done
    # medians of the rounds' figures, and of the ratios measured within
    # each round (a round's variants share the machine's mood)
    printf '%s: plain %.0f req/s, bitcache %.0f req/s, secure_link %.0f req/s' "$size" \
        "$(median $p)" "$(median $b)" "$(median $s)"
    [ -n "$base_mod" ] && printf ', baseline bitcache %.0f req/s' "$(median $o)"
    printf ' (median of %s rounds)\n' "$rounds"
    printf 'ratio_%s=%.3f\n' "$size" "$(ratios "$b" "$p")"
    printf 'ratio_%s_vs_secure_link=%.3f\n' "$size" "$(ratios "$b" "$s")"
    if [ -n "$base_mod" ]; then
        printf 'baseline_ratio_%s=%.3f\n' "$size" "$(ratios "$o" "$p")"
        printf 'baseline_ratio_%s_vs_secure_link=%.3f\n' "$size" "$(ratios "$o" "$s")"
    fi
done
if grep -E '\[(alert|emerg|crit)\]' "$dir/error.log" ${base_mod:+"$dir/base/error.log"}; then
    echo "bench: errors in nginx's log" >&2; exit 1
fi
