#!/bin/bash
# make demo: a paywalled nginx with sample files, on this machine only.
# Starts redis-server and nginx (loading build/ngx_http_bitcache_module.so)
# under /tmp/bitcache-demo and prints the URLs to open. `make demo-stop` ends it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BITCACHE_DEMO_DIR:-/tmp/bitcache-demo}
port=${BITCACHE_DEMO_PORT:-8402}
rport=${BITCACHE_DEMO_REDIS_PORT:-6402}

bash "$root/scripts/demo-stop.sh" >/dev/null 2>&1 || true
mkdir -p "$dir/html/files" "$dir/html/free" "$dir/logs"
chmod 755 "$dir" "$dir/html" "$dir/html/files" "$dir/html/free"
[ -f "$dir/secret" ] || { "$root/build/bitcache" secret > "$dir/secret"; chmod 600 "$dir/secret"; }
printf 'Chapter 1\n\nIt was a dark and stormy night...\n' > "$dir/html/files/novel.txt"
head -c 5242880 /dev/urandom > "$dir/html/files/film.bin"
echo "free sample" > "$dir/html/free/sample.txt"
chmod 644 "$dir"/html/*/*

redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/logs/redis.pid" --logfile "$dir/logs/redis.log"
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

sed -e "s|@ROOT@|$root|g" -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@RPORT@|$rport|g" \
    "$root/conf.example/demo.conf.in" > "$dir/nginx.conf"
nginx -t -q -p "$dir" -c "$dir/nginx.conf"
nginx -p "$dir" -c "$dir/nginx.conf"

tok=$("$root/build/bitcache" grant --secret "$dir/secret" --redis "127.0.0.1:$rport" --uses 3 --ttl 1d /files/novel.txt)
cat <<EOF

Bitcache demo is running (nginx on 127.0.0.1:$port, redis on 127.0.0.1:$rport, files in $dir).

  Paywalled, no token (402):  http://127.0.0.1:$port/files/novel.txt
  Paid link (3 downloads):    http://127.0.0.1:$port/files/novel.txt?bitcache_token=$tok
  Free location:              http://127.0.0.1:$port/free/sample.txt

  More links:  build/bitcache grant --secret $dir/secret --redis 127.0.0.1:$rport --uses 1 /files/film.bin
  Revoke:      build/bitcache revoke --redis 127.0.0.1:$rport TOKEN
  Logs:        $dir/logs/error.log
  Stop:        make demo-stop
EOF
