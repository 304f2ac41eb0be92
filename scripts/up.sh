#!/usr/bin/env bash
# `make up`: `pulumi up` of the `local` stack for real, with the policy pack enforced by the engine.
# `scripts/up.sh STACK` updates another stack (CI's deploy workflow: dev, prod).
#   local: the project's own Docker engine and registry on 127.0.0.1:5000 (scripts/docker-env.sh)
#   and the base images Pulumi.local.yaml names (scripts/base-images.sh). The stack is created on
#   first use with passphrase secrets; unless you give a passphrase, one is generated for this
#   machine into the cache folder (mode 600). Its encryption salt belongs to this machine, so
#   Pulumi writes it into a copy of Pulumi.local.yaml in the cache (--config-file), never into
#   the tracked file.
#   other stacks: they already exist in the team backend with their own passphrase (README, "CI").
# With no cluster configured, the local stack renders its manifests into ./rendered.
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
else
  pulumi stack select "$STACK" --non-interactive
  config=()
fi

mapfile -t policy < <(policy_args "$STACK")
pulumi up --yes --stack "$STACK" --non-interactive "${config[@]}" "${policy[@]}"
