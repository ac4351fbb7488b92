#!/bin/bash
# make deb: the Debian packages of debian/ into build/deb/, built with
# dpkg-buildpackage from a copy of the tree (so that the build leaves the
# working tree's build/ alone and puts its results nowhere outside it),
# then checked by lintian (debian/*.lintian-overrides explain what remains).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for t in dpkg-buildpackage dh lintian; do
    command -v "$t" >/dev/null || { echo "deb: $t is missing (make deps)" >&2; exit 1; }
done
version=$(dpkg-parsechangelog -S Version)
out=$root/build/deb
src=$out/bitcache-$version
rm -rf "$out"
mkdir -p "$src"
# the tracked files and new ones not ignored, as a clean checkout would have them
if [ -d .git ] || [ -f .git ]; then
    git ls-files -z --cached --others --exclude-standard \
        | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
else
    tar --exclude=./build --exclude=./t/node/node_modules -cf - . | tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -uc -us) > "$out/build.log" 2>&1 \
    || { tail -n 40 "$out/build.log" >&2; echo "deb: build failed, see $out/build.log" >&2; exit 1; }
rm -rf "$src"
ls -1 "$out"/*.deb
# errors and warnings fail; info and pedantic tags and the overrides (with their reasons) are shown
lintian --info --pedantic --show-overrides --fail-on error,warning "$out"/bitcache_"${version}"_*.changes
