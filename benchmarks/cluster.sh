#!/usr/bin/env bash
# Times of the local control plane (scripts/cluster.sh):
#   - cold build: `cluster.sh build` with an empty cache folder (Go modules through the proxy and
#     every compile), in a throw-away SHIMMY_GPU_CACHE; skipped with --warm-only
#   - rebuild from a warm Go build cache: the binary folder deleted, the Go caches kept (a relink)
#   - warm `up` from down (binaries cached), `up` while running (a no-op), `down`
# Peak memory is the largest resident size of one process of the build (GNU time).
# It stops the project's cluster if one is running and leaves it down.
# Usage: benchmarks/cluster.sh [--warm-only]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cluster=scripts/cluster.sh

# shellcheck source=benchmarks/lib.sh
source benchmarks/lib.sh # (the working folder is the repository root)

peak_mib() { # the last GNU time report in $work/time.log, in MiB
    awk -F: '/Maximum resident set size/ {kb = $2} END {printf "%.0f", kb / 1024}' "$work/time.log"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"

if [[ "${1:-}" != --warm-only ]]; then
    echo "cold build (empty cache: module downloads and all compiles): $(SHIMMY_GPU_CACHE="$work/cache" \
        seconds /usr/bin/time -v -o "$work/time.log" bash "$cluster" build) s, peak $(peak_mib) MiB"
    chmod -R u+w "$work/cache" 2>/dev/null || true
    rm -rf "$work/cache"
fi

bash "$cluster" build >/dev/null 2>&1
# shellcheck disable=SC2016 # a literal $PATH in the output of `env`
bin=$(bash "$cluster" env | sed -n 's/^export PATH=\(.*\):\$PATH$/\1/p')
rm -rf "$bin"
echo "rebuild, Go build cache warm (bin folder deleted): $(seconds /usr/bin/time -v -o "$work/time.log" bash "$cluster" build) s, peak $(peak_mib) MiB"

bash "$cluster" down >/dev/null 2>&1
echo "up (binaries cached, cluster down): $(seconds bash "$cluster" up) s"
echo "up again (running: no-op): $(seconds bash "$cluster" up) s"
echo "status: $(seconds bash "$cluster" status) s"
echo "down: $(seconds bash "$cluster" down) s"
