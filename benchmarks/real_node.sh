#!/usr/bin/env bash
# Times of the real node and the main job (binaries and images already built; their cold build is
# benchmarks/cluster.sh and benchmarks/build-cache.sh):
#   - cluster up from down (control plane, kwok nodes, the real node) and while running (a no-op)
#   - make up from down (the stack destroyed, the cluster stopped) and again (nothing to change)
#   - time to Available: how long `pulumi up` waited for the Deployment (its own report)
#   - first answer through the Service: the `smokeTest` export's client pod, start to answer
# It leaves the local stack up and the cluster running, as `make up` does.
# Usage: benchmarks/real_node.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benchmarks/lib.sh
source benchmarks/lib.sh # (the working folder is the repository root)

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
bash scripts/down.sh >/dev/null 2>&1
echo "cluster up from down: $(seconds bash scripts/cluster.sh up) s"
echo "cluster up while running: $(seconds bash scripts/cluster.sh up) s"
bash scripts/cluster.sh down >/dev/null 2>&1
echo "make up from down: $(seconds make -s up) s"
available=$(sed -n 's/.*kubernetes:apps\/v1:Deployment shimmy created (\([0-9.]*\)s).*/\1/p' "$work/last.log")
echo "  of which pulumi up waited for the Deployment to be Available: ${available:?not in the output} s"
echo "make up again (nothing changes): $(seconds make -s up) s"
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
export PULUMI_CONFIG_PASSPHRASE_FILE="$SHIMMY_GPU_CACHE/pulumi/local.passphrase"
eval "$(bash scripts/cluster.sh env)"
smoke=$(pulumi stack output smokeTest --stack local)
echo "first answer through the Service (client pod created to answer): $(seconds sh -c "$smoke") s"
