#!/usr/bin/env bash
# Times of the Pulumi toolchain and engine here (issue 4):
#   - set-up, cold: scripts/setup.sh in a throw-away copy of the work tree with an empty cache folder
#     (Go modules through the proxy, the Go builds, the venv from PyPI); skipped with --warm-only
#   - set-up, warm: scripts/setup.sh again on the project's own cache
#   - `pulumi preview --policy-pack policy` of each stack, and a no-op `pulumi up` of local, in a
#     throw-away copy with its own file backend (needs the kubernetes and docker plugins)
#   - the same on tests/engine/program, which needs no plugin: the engine, language host and
#     policy pack alone
# Usage: benchmarks/engine.sh [--warm-only]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { # COMMAND...: its wall time in seconds, its output to $work/last.log
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

if [[ "${1:-}" != --warm-only ]]; then
  copy_tree "$work/cold"
  echo "set-up cold (empty cache, fresh venv): $(SHIMMY_GPU_CACHE="$work/cache" seconds bash "$work/cold/scripts/setup.sh") s"
  rm -rf "$work/cold" "$work/cache"
fi
bash scripts/setup.sh >/dev/null 2>&1
echo "set-up warm: $(seconds bash scripts/setup.sh) s"

# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
export PULUMI_CONFIG_PASSPHRASE=benchmark

stack_init() { # DIR STACK: a stack on DIR's own file backend
  mkdir -p "$1/.state"
  (cd "$1" && PULUMI_BACKEND_URL="file://$1/.state" pulumi stack init "$2" \
    --secrets-provider passphrase --non-interactive >/dev/null 2>&1)
}

in_dir() { # DIR COMMAND...: COMMAND in DIR on DIR's own file backend
  local dir=$1
  shift
  (cd "$dir" && PULUMI_BACKEND_URL="file://$dir/.state" "$@")
}

# The plugin-free program of tests/engine, with the project's policy pack.
prog="$work/engine-program"
cp -r tests/engine/program "$prog"
ln -s "$root/.venv" "$prog/.venv"
stack_init "$prog" bench
printf '%s' registry-password | in_dir "$prog" pulumi config set --secret registryPassword >/dev/null
policy=(--policy-pack "$root/policy" --non-interactive)
echo "engine program (no plugin), preview: $(seconds in_dir "$prog" pulumi preview "${policy[@]}") s"
in_dir "$prog" pulumi up --yes "${policy[@]}" >/dev/null
echo "engine program (no plugin), no-op up: $(seconds in_dir "$prog" pulumi up --yes --expect-no-changes "${policy[@]}") s"

# The project's program needs its resource plugins.
if ! bash -c 'source scripts/pulumi-env.sh; for p in kubernetes docker; do
  ls -d "$PULUMI_HOME"/plugins/resource-$p-v* >/dev/null 2>&1 || exit 1; done'; then
  echo "program: not measured, the kubernetes and docker plugins are not installed (tools/README.md)"
  exit 0
fi
copy_tree "$work/program"
ln -s "$root/.venv" "$work/program/.venv"
for stack in dev prod local; do
  stack_init "$work/program" "$stack"
  config=()
  [[ -f "policy/config/$stack.json" ]] && config=(--policy-pack-config "$root/policy/config/$stack.json")
  echo "program, preview $stack: $(seconds in_dir "$work/program" pulumi preview --stack "$stack" \
    --policy-pack "$root/policy" "${config[@]}" --non-interactive) s"
done
in_dir "$work/program" pulumi up --yes --stack local --policy-pack "$root/policy" \
  --policy-pack-config "$root/policy/config/local.json" --non-interactive >/dev/null
echo "program, no-op up local: $(seconds in_dir "$work/program" pulumi up --yes --expect-no-changes \
  --stack local --policy-pack "$root/policy" --policy-pack-config "$root/policy/config/local.json" \
  --non-interactive) s"
