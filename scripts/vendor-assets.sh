#!/usr/bin/env bash
# Vendors the browser libraries of the web app from npm into
# internal/web/assets/vendor/, with their licence files. The files are
# committed and embedded with go:embed, so building and running Kunding need
# no Node; only this script does, when a library is upgraded.
#
# Usage: scripts/vendor-assets.sh   (then review and commit the changes)
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned versions: change them here, run the script, test, commit.
HTMX=2.0.11
CHARTJS=4.6.1

out=internal/web/assets/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { # package version -> unpacked into $tmp/<package>/package
	local pkg=$1 ver=$2
	mkdir -p "$tmp/$pkg"
	(cd "$tmp/$pkg" && npm pack --silent "$pkg@$ver" >/dev/null && tar -xzf ./*.tgz)
}

fetch htmx.org "$HTMX"
fetch chart.js "$CHARTJS"

rm -rf "$out"
mkdir -p "$out/htmx" "$out/chartjs"
cp "$tmp/htmx.org/package/dist/htmx.min.js" "$out/htmx/"
cp "$tmp/htmx.org/package/LICENSE" "$out/htmx/LICENSE"
cp "$tmp/chart.js/package/dist/chart.umd.min.js" "$out/chartjs/"
cp "$tmp/chart.js/package/LICENSE.md" "$out/chartjs/LICENSE.md"

cat >"$out/VERSIONS" <<VERSIONS
# Written by scripts/vendor-assets.sh; the npm packages vendored here.
htmx.org $HTMX
chart.js $CHARTJS
VERSIONS
echo "vendored htmx.org $HTMX and chart.js $CHARTJS into $out"
ls -l "$out"/*
