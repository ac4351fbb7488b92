#!/bin/sh
# Stops what `make demo` started.
dir=${BITCACHE_DEMO_DIR:-/tmp/bitcache-demo}
[ -f "$dir/logs/nginx.pid" ] && kill -QUIT "$(cat "$dir/logs/nginx.pid")" 2>/dev/null
[ -f "$dir/logs/redis.pid" ] && kill "$(cat "$dir/logs/redis.pid")" 2>/dev/null
echo "bitcache demo stopped"
