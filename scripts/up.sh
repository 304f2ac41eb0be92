#!/usr/bin/env bash
# `make up`: `pulumi up` of the `local` stack for real, with the policy pack enforced by the engine.
# `scripts/up.sh STACK` updates another stack (CI's deploy workflow: dev, prod).
#   local: the project's own Docker engine and registry on 127.0.0.1:5000 (scripts/docker-env.sh),
#   the base images Pulumi.local.yaml names and the pod's gate and fetcher images
#   (scripts/base-images.sh, pinned here by digest), the local cluster with its real node
#   (scripts/cluster.sh); after the update, the `smokeTest` export asks the model through the
#   Service and its answer is printed. The stack is created on
#   first use with passphrase secrets; unless you give a passphrase, one is generated for this
#   machine into the cache folder (mode 600). Its encryption salt belongs to this machine, so
#   Pulumi writes it into a copy of Pulumi.local.yaml in the cache (--config-file), never into
#   the tracked file.
#   other stacks: they already exist in the team backend with their own passphrase (docs/ci-and-previews.md).
# `make down` (scripts/down.sh) destroys the local stack and stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
STACK="${1:-local}"

if [[ "$STACK" == local ]]; then
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    passphrase="$SHIMMY_GPU_CACHE/pulumi/local.passphrase"
    if [[ ! -s "$passphrase" ]]; then
      (umask 077 && head -c 32 /dev/urandom | base64 >"$passphrase")
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase"
  fi
  bash scripts/docker-env.sh start
  bash scripts/base-images.sh cpu >/dev/null
  stacks="$SHIMMY_GPU_CACHE/stacks/local"
  mkdir -p "$stacks"
  if ! pulumi stack ls --json | grep -q '"name": "local"'; then
    # `stack init` writes the new salt next to the Pulumi.yaml it runs with: a copy in the cache.
    cp Pulumi.yaml "$stacks/"
    pulumi -C "$stacks" stack init local --secrets-provider passphrase --non-interactive
  fi
  cp Pulumi.local.yaml "$stacks/Pulumi.local.yaml"
  config=(--config-file "$stacks/Pulumi.local.yaml")
  # The pod's other images, by the digests the registry gave them (the tracked file names tags).
  while IFS=': ' read -r key ref; do
    pulumi config set --stack local "${config[@]}" "$key" "$ref" --non-interactive
  done < <(bash scripts/base-images.sh pod)
  bash scripts/cluster.sh up >/dev/null
  eval "$(bash scripts/cluster.sh env)"
  # A cluster started afresh (its state is deleted by `down`) holds none of the stack's objects:
  # the state learns that before the update, which then creates them again.
  cluster_id=$(kubectl get namespace kube-system -o jsonpath='{.metadata.uid}')
  if [[ "$(cat "$stacks/cluster-id" 2>/dev/null)" != "$cluster_id" ]]; then
    pulumi refresh --yes --stack local --non-interactive "${config[@]}" >/dev/null
    echo "$cluster_id" >"$stacks/cluster-id"
  fi
else
  pulumi stack select "$STACK" --non-interactive
  config=()
fi

mapfile -t policy < <(policy_args "$STACK")
pulumi up --yes --stack "$STACK" --non-interactive "${config[@]}" "${policy[@]}"

if [[ "$STACK" == local ]]; then
  echo "smokeTest (one request through the Service, from a client pod the NetworkPolicy admits):"
  answer=$(sh -c "$(pulumi stack output smokeTest --stack local)")
  echo "$answer"
  python3 -c 'import json, sys; print("the model answered:", json.loads(sys.argv[1])["response"].strip())' "$answer"
fi
