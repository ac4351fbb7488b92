#!/bin/sh
# Install what Bitcache needs on a Debian machine, only what is missing.
# Run as root (CI and the demo machines are root); as another user it only reports.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

missing=""
for p in $(grep -v '^#' "$here/apt-packages.txt" | tr -s ' \n' ' '); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing Debian packages:$missing (run as root: apt-get install$missing)" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # keep package scripts from starting system nginx/redis on ports 80/6379
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm packages for the tests (cross-checks, the regtest node), when the project has any
node="$root/t/node"
if [ -f "$node/package.json" ] && \
   { [ ! -f "$node/node_modules/.bitcache-stamp" ] || [ "$node/package.json" -nt "$node/node_modules/.bitcache-stamp" ]; }; then
    command -v npm >/dev/null 2>&1 || { echo "deps: npm is missing" >&2; exit 1; }
    echo "deps: npm install in t/node"
    (cd "$node" && npm install --no-audit --no-fund --loglevel=error)
    touch "$node/node_modules/.bitcache-stamp"
fi
exit 0
