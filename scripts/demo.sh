#!/bin/bash
# make demo: a shop on this machine only. Starts redis-server, a regtest
# bitcoin node (bcoin) with a funded wallet, the payment watcher and nginx
# (loading build/ngx_http_bitcache_module.so) under /tmp/bitcache-demo, and
# prints the URL to open and how to pay. `make demo-stop` ends it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BITCACHE_DEMO_DIR:-/tmp/bitcache-demo}
port=${BITCACHE_DEMO_PORT:-8402}
rport=${BITCACHE_DEMO_REDIS_PORT:-6402}
nport=${BITCACHE_DEMO_NODE_PORT:-18402}
wport=${BITCACHE_DEMO_WALLET_PORT:-18403}
cport=${BITCACHE_DEMO_CREATOR_PORT:-8403}
mport=${BITCACHE_DEMO_WATCHER_METRICS_PORT:-18404}
key=demo
# the creator's wallet: a testnet/regtest account key (its private half is not here)
wallet="wpkh(tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5/0/*)"
# the operator's key that Bitcache wallet top-ups pay to (here the same test
# account's other chain; a real shop uses a key of its own)
topup="wpkh(tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5/1/*)"

bash "$root/scripts/demo-stop.sh" >/dev/null 2>&1 || true
rm -rf "$dir"
mkdir -p "$dir/html/files" "$dir/html/free" "$dir/html/films" "$dir/creator" "$dir/logs"
chmod 755 "$dir" "$dir/html" "$dir/html/files" "$dir/html/free" "$dir/html/films" "$dir/creator"
"$root/build/bitcache" secret > "$dir/secret"; chmod 600 "$dir/secret"
printf 'Chapter 1\n\nIt was a dark and stormy night...\n' > "$dir/html/files/novel.txt"
head -c 5242880 /dev/urandom > "$dir/html/files/film.bin"
echo "free sample" > "$dir/html/free/sample.txt"
head -c 2097152 /dev/urandom > "$dir/html/films/night.mp4"
chmod 644 "$dir"/html/*/*
# the creator's page: conf.example's, pointed at this host
sed -e "s|https://shop.example/films/alice/night.mp4|http://127.0.0.1:$port/films/night.mp4|" \
    -e "s|https://shop.example/bitcache/button.js|http://127.0.0.1:$port/bitcache/button.js|" \
    "$root/conf.example/creator-site/index.html" > "$dir/creator/index.html"
chmod 644 "$dir/creator/index.html"

rpc() {  # port method params-json
    curl -sf -u "x:$key" -H 'Content-Type: application/json' \
        -d "{\"method\":\"$2\",\"params\":$3,\"id\":1}" "http://127.0.0.1:$1/"
}

echo "starting redis, the regtest node, the watcher and nginx..."
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/logs/redis.pid" --logfile "$dir/logs/redis.log"
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

nohup node "$root/t/node/regtest-node.js" --rpc-port "$nport" --wallet-port "$wport" \
    --api-key "$key" > "$dir/logs/node.log" 2>&1 &
echo $! > "$dir/logs/node.pid"
for _ in $(seq 300); do rpc "$nport" getblockcount '[]' >/dev/null 2>&1 && break; sleep 0.2; done
rpc "$nport" getblockcount '[]' >/dev/null || { echo "demo: the regtest node did not start, see $dir/logs/node.log" >&2; exit 1; }

# coins for the buyer's demo wallet: 120 blocks, so that 20 coinbases are mature
addr=$(rpc "$wport" getnewaddress '["default"]' | sed 's/.*"result":"\([^"]*\)".*/\1/')
rpc "$nport" generatetoaddress "[120, \"$addr\"]" >/dev/null

xonly=$("$root/build/bitcache" keygen "$dir/watcher.key")
printf '%s\n' "$key" > "$dir/rpc.pw" && chmod 600 "$dir/rpc.pw"
nohup "$root/build/bitcache" watch --rpc "http://127.0.0.1:$nport/" --rpc-user x \
    --rpc-password-file "$dir/rpc.pw" --redis "127.0.0.1:$rport" --key "$dir/watcher.key" \
    --secret "$dir/secret" --network regtest --poll 500 --metrics "127.0.0.1:$mport" \
    > "$dir/logs/watcher.log" 2>&1 &
echo $! > "$dir/logs/watcher.pid"

sed -e "s|@ROOT@|$root|g" -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@CPORT@|$cport|g" -e "s|@RPORT@|$rport|g" \
    -e "s|@WALLET@|$wallet|g" -e "s|@TOPUP@|$topup|g" -e "s|@WATCHER@|$xonly|g" \
    "$root/conf.example/demo.conf.in" > "$dir/nginx.conf"
nginx -t -q -p "$dir" -c "$dir/nginx.conf"
nginx -p "$dir" -c "$dir/nginx.conf"

# a sealed copy of the film, free to download and to mirror: it opens only
# with the key the host sells (docs/sealed.md)
"$root/build/bitcache" seal "$dir/html/films/night.mp4" "$dir/html/free/night.mp4.sealed" \
    --product /films/night.mp4 --host "http://127.0.0.1:$port/bitcache" --title "Night" \
    --secret "$dir/secret" --redis "127.0.0.1:$rport" >/dev/null
chmod 644 "$dir/html/free/night.mp4.sealed"

cat > "$dir/pay" <<PAY
#!/bin/sh
# pay ADDRESS BTC: the demo buyer's wallet pays, and a block is mined
set -e
[ \$# -eq 2 ] || { echo "usage: \$0 ADDRESS AMOUNT_BTC" >&2; exit 2; }
out=\$(curl -s -u x:$key -H 'Content-Type: application/json' \\
  -d "{\"method\":\"sendtoaddress\",\"params\":[\"\$1\", \$2],\"id\":1}" http://127.0.0.1:$wport/)
txid=\$(printf '%s' "\$out" | sed -n 's/.*"result":"\([0-9a-f]\{64\}\)".*/\1/p')
[ -n "\$txid" ] || { echo "the demo wallet did not pay: \$out" >&2; exit 1; }
echo "sent: transaction \$txid"
curl -sf -u x:$key -H 'Content-Type: application/json' \\
  -d "{\"method\":\"generatetoaddress\",\"params\":[1, \"$addr\"],\"id\":1}" http://127.0.0.1:$nport/ >/dev/null
echo "paid and mined one block; the payment page turns to 'paid' within seconds"
PAY
chmod 755 "$dir/pay"

cat <<EOF

Bitcache demo is running: a shop on a regtest bitcoin node.

  Open:   http://127.0.0.1:$port/files/novel.txt   (or /files/film.bin)
          click "Pay with bitcoin"; the page shows a fresh address of the creator's wallet
  Pay:    $dir/pay ADDRESS AMOUNT_BTC     (the demo buyer's wallet sends, one block is mined)
          then the page shows the download link, and the file downloads
  Free:   http://127.0.0.1:$port/free/sample.txt
  Fans:   http://127.0.0.1:$port/films/night.mp4   pay what you want (at least 5000 sats), the
          first 3 copies free (one per address an hour)
  Sealed: http://127.0.0.1:$port/free/night.mp4.sealed   the film sealed: anyone may copy it, it
          opens after paying, in the browser at http://127.0.0.1:$port/bitcache/open (drop the
          copy there) or with build/bitcache open night.mp4.sealed -o night.mp4
  Button: http://127.0.0.1:$cport/   the creator's own site (another origin) selling the film
          with one link and one <script>
  Wallet: http://127.0.0.1:$port/bitcache/wallet   open a Bitcache wallet, top up (pay it as above),
          then buy files in one click from their pages; scripts:
          curl -H 'Authorization: Bitcache CODE' -O http://127.0.0.1:$port/files/novel.txt
          (after setting "max auto-buy price" on the wallet page)

  Creator: build/bitcache product set /files/novel.txt --price "0.0002 BTC" --title "A Novel" \\
             --secret $dir/secret --redis 127.0.0.1:$rport
  Metrics: http://127.0.0.1:$port/metrics (nginx) and http://127.0.0.1:$mport/metrics (the watcher)
  Logs:    $dir/logs/ (error.log, watcher.log, node.log; access.log has \$bitcache_status and friends)
  Stop:    make demo-stop
EOF
