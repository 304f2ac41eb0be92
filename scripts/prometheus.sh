#!/usr/bin/env bash
# Debian's prometheus package (Prometheus and promtool) unpacked into the project's cache folder,
# for tests/monitoring; prints the folder holding both binaries. No install: nothing is started or
# registered on this machine, and no root is needed. apt checks the .deb against Debian's signed
# index; the sha256 below pins the exact build.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VERSION=2.42.0+ds-5+deb12u1
SHA256=81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55
DIR="$SHIMMY_GPU_CACHE/prometheus/$VERSION"
BIN="$DIR/usr/bin"

if [[ ! -x "$BIN/prometheus" || ! -x "$BIN/promtool" ]]; then
  command -v apt-get >/dev/null || { echo "prometheus.sh: needs apt-get (Debian's package)" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "prometheus.sh: fetching Debian's prometheus $VERSION into $DIR" >&2
  (cd "$work" && apt-get download -q "prometheus=$VERSION" >&2) || {
    echo "prometheus.sh: apt-get download failed; run apt-get update first" >&2
    exit 1
  }
  deb=("$work"/prometheus_*.deb)
  echo "$SHA256  ${deb[0]}" | sha256sum -c --quiet - >&2
  rm -rf "$DIR.part" && mkdir -p "$DIR.part"
  dpkg-deb -x "${deb[0]}" "$DIR.part"
  rm -rf "$DIR" && mv "$DIR.part" "$DIR"
fi
"$BIN/promtool" --version >/dev/null
echo "$BIN"
