#!/usr/bin/env bash
# `make down`: destroy the local stack (when it has resources), then stop the local cluster and its
# real node (scripts/cluster.sh down, which leaves no process, mount, link or rule behind). The
# Docker engine, the registry and the cache folder stay: other work on this machine shares them.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
stacks="$SHIMMY_GPU_CACHE/stacks/local"
if [[ -f "$stacks/Pulumi.local.yaml" ]] && pulumi stack ls --json | grep -q '"name": "local"'; then
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    export PULUMI_CONFIG_PASSPHRASE_FILE="$SHIMMY_GPU_CACHE/pulumi/local.passphrase"
  fi
  if bash scripts/cluster.sh status >/dev/null; then
    eval "$(bash scripts/cluster.sh env)"
    pulumi destroy --yes --stack local --non-interactive --config-file "$stacks/Pulumi.local.yaml"
  else
    # Its objects went with the cluster; the next `make up` refreshes the state (scripts/up.sh).
    echo "down: the cluster is not running, so the local stack has nothing left in it" >&2
  fi
fi
bash scripts/cluster.sh down
