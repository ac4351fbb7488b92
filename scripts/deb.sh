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
# Errors and warnings fail; info and pedantic tags are shown, and the
# overridden ones with their reasons (O:, N:). lintian's own status counts
# shown overrides as failures, so its E:/W: lines decide.
rc=0
lintian --info --pedantic --show-overrides "$out"/bitcache_"${version}"_*.changes \
    > "$out/lintian.log" 2>&1 || rc=$?
cat "$out/lintian.log"
[ "$rc" -le 2 ] || { echo "deb: lintian failed ($rc)" >&2; exit 1; }
if grep -q '^[EW]: ' "$out/lintian.log"; then
    echo "deb: lintian found errors or warnings (fix them, or explain each in debian/*lintian-overrides)" >&2
    exit 1
fi
echo "deb: lintian clean (overrides above, with their reasons)"
