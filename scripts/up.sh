#!/usr/bin/env bash
# `make up`: `pulumi up` of the `local` stack for real, with the policy pack enforced by the engine.
# `scripts/up.sh STACK` updates another stack (CI's deploy workflow: dev, prod).
#   1. The toolchain of scripts/setup.sh (`make up` runs it first) must be complete: the CLI, the
#      language host and every resource plugin the venv's Pulumi SDKs ask for. A missing plugin
#      stops here, before the Docker work, with the plugin's name.
#   2. Docker engine + registry on 127.0.0.1:5000 (scripts/docker-env.sh) and the locally made
#      base images (scripts/base-images.sh) that Pulumi.local.yaml names.
#   3. The stack (file backend, passphrase secrets: scripts/pulumi-env.sh), then
#      `pulumi up --yes --stack local --policy-pack policy` with the pack's local config.
# With no kubeconfig the local stack renders the manifests into ./rendered (renderManifestsTo).
set -euo pipefail
cd "$(dirname "$0")/.."
# The stack to update: `local` (default, `make up`) or a team stack from CI (.github/workflows).
STACK="${1:-local}"

# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh

mapfile -t missing < <(pulumi plugin ls --json | .venv/bin/python -c '
import json, pathlib, sys, sysconfig
installed = {(p["name"], p["version"].removeprefix("v")) for p in json.load(sys.stdin) or [] if p["kind"] == "resource"}
for path in pathlib.Path(sysconfig.get_paths()["purelib"]).glob("*/pulumi-plugin.json"):
    info = json.loads(path.read_text())
    want = (info.get("name"), info.get("version", "").removeprefix("v"))
    if info.get("resource") and want not in installed:
        print(f"resource {want[0]} v{want[1]}")
')
if ((${#missing[@]})); then
  echo "up: these plugins are not installed, so the engine cannot run the program (tools/README.md):" >&2
  printf 'up:   %s\n' "${missing[@]}" >&2
  exit 1
fi

policy_config=()
[[ -f "policy/config/$STACK.json" ]] && policy_config=(--policy-pack-config "policy/config/$STACK.json")

if [[ "$STACK" == local ]]; then
  # This machine: its own Docker engine and registry, and the base images Pulumi.local.yaml names
  # (base-images.sh makes and pushes them; nothing can be pulled here).
  bash scripts/docker-env.sh start
  bash scripts/base-images.sh cpu >/dev/null
  pulumi stack select "$STACK" --create --secrets-provider passphrase --non-interactive
else
  # Team stacks already exist in the team backend (README, section "CI").
  pulumi stack select "$STACK" --non-interactive
fi

pulumi up --yes --stack "$STACK" --non-interactive --policy-pack policy "${policy_config[@]}"
