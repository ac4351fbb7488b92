# Shared by the benchmarks: free ports, medians of the rounds' figures.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# median N...: the middle value (the mean of the two middle ones).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratios "A1 A2..." "B1 B2...": the median of Ai / Bi, round by round.
ratios() {
    # shellcheck disable=SC2046
    median $(paste <(printf '%s\n' $1) <(printf '%s\n' $2) | awk '$2 > 0 { print $1 / $2 }')
}

# Redis for a run, on $rport and $dir/redis.sock, nothing saved: sets
# redis_pid, and redis_addr (the socket; BENCH_REDIS=tcp: 127.0.0.1:$rport).
start_redis() {
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
        --unixsocket "$dir/redis.sock" --unixsocketperm 777 --logfile "$dir/redis.log" &
    redis_pid=$!
    if [ "${BENCH_REDIS:-unix}" = tcp ]; then redis_addr=127.0.0.1:$rport; else redis_addr=unix:$dir/redis.sock; fi
}

# Waits (5 s at most) until that Redis answers.
wait_redis() {
    for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

# nginx_conf_head MODULE PREFIX: an nginx.conf's start as users run it, up
# to the http block's settings (Redis at $redis_addr); the caller adds the
# servers and closes the block.
nginx_conf_head() {
    cat <<CONF
load_module $1;
worker_processes auto;
error_log $2/error.log warn;
pid $2/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=100 inactive=60s;
    bitcache_redis $redis_addr timeout=2s;
CONF
}
