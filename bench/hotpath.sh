#!/bin/bash
# Hot-path benchmark: the same files served by plain nginx static, by the
# Bitcache paywall with a valid token (one Redis round trip per request),
# and by nginx's secure_link (the usual alternative: a local MAC only, no
# use counting, no revocation). Rounds alternate so that the machine's
# noise hits every variant alike. Prints ratio_small= and ratio_large=.
# Redis is reached over its unix socket (the setup docs/operations.md
# recommends when Redis runs on the nginx host); BENCH_REDIS=tcp uses
# 127.0.0.1 instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECS:-5}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-32}

dir=$(mktemp -d /tmp/bitcache-bench-XXXXXX)
chmod 755 "$dir"
cleanup() {
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port); hport=$(free_port)

mkdir -p "$dir/files"
head -c 4096 /dev/urandom > "$dir/files/small.bin"
head -c 10485760 /dev/urandom > "$dir/files/large.bin"
chmod 644 "$dir"/files/*
"$root/build/bitcache" secret > "$dir/secret"; chmod 600 "$dir/secret"

redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --unixsocket "$dir/redis.sock" --unixsocketperm 777 --logfile "$dir/redis.log" &
redis_pid=$!

if [ "${BENCH_REDIS:-unix}" = tcp ]; then redis_addr=127.0.0.1:$rport; else redis_addr=unix:$dir/redis.sock; fi
echo "redis: $redis_addr, $conns connections, ${secs}s x $rounds rounds"

cat > "$dir/nginx.conf" <<CONF
load_module $root/build/ngx_http_bitcache_module.so;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=100 inactive=60s;
    bitcache_redis $redis_addr timeout=2s;
    server {
        listen 127.0.0.1:$hport backlog=4096;
        location /plain/  { alias $dir/files/; }
        location /files/  { alias $dir/files/; bitcache on; bitcache_secret $dir/secret; }
        location /secure/ {
            alias $dir/files/;
            secure_link \$arg_md5,\$arg_expires;
            secure_link_md5 "\$secure_link_expires\$uri s3cret";
            if (\$secure_link = "") { return 403; }
            if (\$secure_link = "0") { return 410; }
        }
    }
}
CONF
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
nginx -p "$dir" -c "$dir/nginx.conf"
sleep 0.3

grant() { "$root/build/bitcache" grant --secret "$dir/secret" --redis "127.0.0.1:$rport" --uses 0 --ttl 1d "$1"; }
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
for size in small large; do
    tok=$(grant "/files/$size.bin")
    sl=$(securelink "/secure/$size.bin")
    # sanity: each variant serves the exact file
    for u in "/plain/$size.bin" "/files/$size.bin?bitcache_token=$tok" "$sl"; do
        curl -sf "$base$u" | cmp -s - "$dir/files/$size.bin" || { echo "bench: $u does not serve the file" >&2; exit 1; }
    done
    p=0; b=0; s=0
    for r in $(seq "$rounds"); do
        p=$(echo "$p + $(rps "$base/plain/$size.bin")" | bc -l)
        b=$(echo "$b + $(rps "$base/files/$size.bin" "Cookie: bitcache_token=$tok")" | bc -l)
        s=$(echo "$s + $(rps "$base$sl")" | bc -l)
    done
    printf '%s: plain %.0f req/s, bitcache %.0f req/s, secure_link %.0f req/s\n' "$size" \
        "$(echo "$p / $rounds" | bc -l)" "$(echo "$b / $rounds" | bc -l)" "$(echo "$s / $rounds" | bc -l)"
    printf 'ratio_%s=%.3f\n' "$size" "$(echo "$b / $p" | bc -l)"
    printf 'ratio_%s_vs_secure_link=%.3f\n' "$size" "$(echo "$b / $s" | bc -l)"
done
if grep -E '\[(alert|emerg|crit)\]' "$dir/error.log"; then echo "bench: errors in nginx's log" >&2; exit 1; fi
