#!/usr/bin/env bash
# Times of the Pulumi toolchain and the shipped program on the real engine, printed in seconds:
#   - set-up cold: scripts/setup.sh in a throw-away copy of the work tree with an empty cache folder
#     and no virtualenv (pip from PyPI, CLI and plugins from the offline bundle); --warm skips it
#   - set-up warm: scripts/setup.sh again on the project's own cache
#   - `pulumi preview` with the policy pack of dev, prod and local, in a throw-away workspace
#   - `make up` warm (nothing to build) and a no-op `pulumi up` of the local stack
#   - with --cold-up also `make up` cold: the BuildKit cache pruned and the local stack's state
#     removed first, so the cpu image is compiled from scratch (several minutes)
# Usage: benchmarks/engine.sh [--warm] [--cold-up]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/common.sh
source scripts/common.sh

warm=no cold_up=no
for arg in "$@"; do
  case $arg in
  --warm) warm=yes ;;
  --cold-up) cold_up=yes ;;
  *) echo "usage: $0 [--warm] [--cold-up]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { # COMMAND...: its wall time in seconds; its output goes to $work/last.log
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }
  end=$(date +%s.%N)
  printf '%.1f' "$(echo "$end - $start" | bc)"
}

copy_tree() { # DEST: the work tree's tracked and untracked (not ignored) files
  mkdir -p "$1"
  git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$1"
}

if [[ $warm == no ]]; then
  # ../shared/pulumi-bundle is not beside the copy: name the bundle as a user would.
  copy_tree "$work/cold/tree"
  bundle=$(cd "$root/../shared/pulumi-bundle" && pwd)
  echo "set-up cold (empty cache, new venv, bundle): $(SHIMMY_GPU_CACHE="$work/cache" \
    SHIMMY_GPU_PULUMI_BUNDLE="$bundle" seconds bash "$work/cold/tree/scripts/setup.sh") s"
  rm -rf "$work/cold" "$work/cache"
fi
bash scripts/setup.sh >/dev/null 2>&1
echo "set-up warm: $(seconds bash scripts/setup.sh) s"

# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
bash scripts/docker-env.sh start >/dev/null 2>&1
bash scripts/base-images.sh cpu >/dev/null 2>&1

copy_tree "$work/program"
ln -s "$root/.venv" "$work/program/.venv"
mkdir -p "$work/program/.state"
in_program() { (cd "$work/program" && PULUMI_BACKEND_URL="file://$work/program/.state" \
  PULUMI_CONFIG_PASSPHRASE=benchmark "$@"); }
for stack in dev prod local; do
  in_program pulumi stack init "$stack" --secrets-provider passphrase --non-interactive >/dev/null 2>&1
  mapfile -t policy < <(policy_args "$stack")
  echo "preview $stack: $(seconds in_program pulumi preview --stack "$stack" "${policy[@]}" --non-interactive) s"
done

if [[ $cold_up == yes ]]; then
  /usr/bin/docker builder prune --all --force >/dev/null
  pulumi stack rm local --yes --force --non-interactive >/dev/null 2>&1 || true
  echo "make up cold (BuildKit cache pruned, new stack): $(seconds make up) s"
fi
make up >/dev/null 2>&1
echo "make up warm (nothing to build): $(seconds make up) s"
mapfile -t policy < <(policy_args local)
echo "no-op pulumi up of local: $(PULUMI_CONFIG_PASSPHRASE_FILE="$SHIMMY_GPU_CACHE/pulumi/local.passphrase" \
  seconds pulumi up --yes --expect-no-changes --stack local --config-file \
  "$SHIMMY_GPU_CACHE/stacks/local/Pulumi.local.yaml" "${policy[@]}" --non-interactive) s"
