#!/bin/sh
# Stops what `make demo` started.
dir=${BITCACHE_DEMO_DIR:-/tmp/bitcache-demo}
[ -f "$dir/logs/nginx.pid" ] && kill -QUIT "$(cat "$dir/logs/nginx.pid")" 2>/dev/null
for p in watcher node redis; do
    [ -f "$dir/logs/$p.pid" ] && kill "$(cat "$dir/logs/$p.pid")" 2>/dev/null
done
echo "bitcache demo stopped"
