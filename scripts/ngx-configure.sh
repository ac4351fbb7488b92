#!/bin/bash
# Configure a private copy of Debian's nginx source (nginx-dev) with the
# package's own flags plus this addon, so that the module's binary signature
# matches the packaged nginx and `load_module` accepts it.
set -euo pipefail
src=$1 out=$2 warn=$3 ld_opt=${4:-}
addon=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$src/conf_flags" ] || { echo "ngx-configure: $src/conf_flags missing (apt-get install nginx-dev)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$src" "$out"
# shellcheck disable=SC1091
. "$src/conf_flags"
cd "$out"
ld=()
[ -z "$ld_opt" ] || ld=(--with-ld-opt="$ld_opt")
./configure "${NGX_CONF_FLAGS[@]}" --with-cc-opt="$warn -Wno-unused-parameter" "${ld[@]}" \
    --add-dynamic-module="$addon" > configure.log 2>&1 \
    || { tail -n 30 configure.log >&2; exit 1; }
